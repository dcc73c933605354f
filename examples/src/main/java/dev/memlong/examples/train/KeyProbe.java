package dev.memlong.examples.train;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.SlotStreams;
import dev.memlong.runtime.train.TrainingForward;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What a model stores about a fact in memory: a linear probe (ridge least squares, one-vs-all) on the memory layer's
 * pre-RoPE key at each value token of held-out stage-1 drills, predicting whose value it is (one of the people, or the
 * user's own) and which attribute. A retrieval layer can only pick the asked person's value if the owner can be read
 * from the key; session 9 found it cannot in the demo models (owner 0.09-0.17 against chance 0.06, attribute
 * 0.55-1.0; the shipped model 0.16 and 0.74, the same as a numpy fit of the same keys), which is what their misreads
 * are.
 */
public final class KeyProbe {

    /**
     * @param owner           test accuracy of the owner probe
     * @param ownerMajority   the most frequent owner's share (the accuracy of always guessing it)
     * @param attribute       test accuracy of the attribute probe
     * @param attributeMajority the most frequent attribute's share
     * @param samples         value tokens probed (70% fit, 30% tested)
     */
    public record Result(double owner, double ownerMajority, double attribute, double attributeMajority, int samples) {}

    private static final int SEGMENT = HeldOutDrills.SEGMENT;
    private static final double RIDGE = 1.0;

    private KeyProbe() {}

    /** {@code drills} held-out drills of all three kinds from {@code seed}. */
    public static Result run(Path modelDir, MemorySettings memory, TextTokenizer tokenizer, long seed, int drills) {
        HeldOutDrills held = new HeldOutDrills(modelDir, tokenizer, seed);
        Map<Integer, Integer> people = new HashMap<>();
        for (int i = 0; i < SyntheticDialogues.PEOPLE.size(); i++) {
            people.put(tokenizer.encode(SyntheticDialogues.PEOPLE.get(i), false)[0], i + 1); // 0: the user's own
        }
        Map<Integer, Integer> attributes = new HashMap<>();
        for (int i = 0; i < SyntheticDialogues.ATTRIBUTES.size(); i++) {
            for (String v : SyntheticDialogues.ATTRIBUTES.get(i).values()) {
                attributes.put(tokenizer.encode(v, false)[0], i);
            }
        }
        int is = tokenizer.encode("is", false)[0];
        int my = tokenizer.encode("my", false)[0];
        int your = tokenizer.encode("your", false)[0];
        List<double[]> keys = new ArrayList<>();
        List<int[]> labels = new ArrayList<>(); // {owner, attribute}
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager root = NDManager.newBaseManager()) {
            ModelParameters params = ModelParameters.load(modelDir, root);
            var config = params.config();
            int m = memory.memoryLayer();
            TrainingForward forward = new TrainingForward(config, m, new int[] {m}, null, m + 1);
            int width = config.numKvHeads() * config.headDim();
            SyntheticDialogues.Negatives[] kinds = SyntheticDialogues.Negatives.values();
            for (int i = 0; i < drills; i++) {
                SyntheticDialogues.Negatives kind = kinds[i % kinds.length];
                int facts = kind == SyntheticDialogues.Negatives.NONE ? 1 + i / 3 % 4 : 2 + i / 3 % 3;
                int[] ids = Arrays.stream(held.next(kind, facts)).map(SlotStreams::id).toArray();
                float[] k;
                try (NDManager mm = root.newSubManager()) {
                    k = HeldOutDrills.statedMemory(forward, params, mm, ids)[0].toFloatArray();
                }
                for (int p = 1; p < SEGMENT; p++) {
                    if (ids[p - 1] != is || !attributes.containsKey(ids[p])) {
                        continue;
                    }
                    int owner = -1; // the nearest person word before "is", or "my"/"your" first: the user's own
                    for (int q = p - 2; q >= Math.max(0, p - 9) && owner < 0; q--) {
                        if (people.containsKey(ids[q])) {
                            owner = people.get(ids[q]);
                        } else if (ids[q] == my || ids[q] == your) {
                            owner = 0;
                        }
                    }
                    if (owner >= 0) {
                        double[] x = new double[width];
                        for (int j = 0; j < width; j++) {
                            x[j] = k[p * width + j];
                        }
                        keys.add(x);
                        labels.add(new int[] {owner, attributes.get(ids[p])});
                    }
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        int fit = keys.size() * 7 / 10;
        double[][] x = keys.toArray(new double[0][]);
        int[] owners = labels.stream().mapToInt(l -> l[0]).toArray();
        int[] attrs = labels.stream().mapToInt(l -> l[1]).toArray();
        List<Integer> train = order.subList(0, fit);
        List<Integer> test = order.subList(fit, order.size());
        return new Result(accuracy(x, owners, SyntheticDialogues.PEOPLE.size() + 1, train, test),
                majority(owners, train), accuracy(x, attrs, SyntheticDialogues.ATTRIBUTES.size(), train, test),
                majority(attrs, train), keys.size());
    }

    /** Test accuracy of a ridge least-squares one-vs-all classifier (with a bias) fitted on {@code train}. */
    static double accuracy(double[][] x, int[] y, int classes, List<Integer> train, List<Integer> test) {
        if (train.isEmpty() || test.isEmpty()) {
            return Double.NaN;
        }
        int d = x[0].length + 1;
        double[][] a = new double[d][d + classes]; // [X'X + λI | X'Y]
        for (int i : train) {
            double[] xi = withBias(x[i]);
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    a[r][c] += xi[r] * xi[c];
                }
                a[r][d + y[i]] += xi[r];
            }
        }
        for (int r = 0; r < d; r++) {
            a[r][r] += RIDGE;
        }
        double[][] w = solve(a, d, classes);
        int right = 0;
        for (int i : test) {
            double[] xi = withBias(x[i]);
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double s = 0;
                for (int r = 0; r < d; r++) {
                    s += xi[r] * w[r][c];
                }
                if (s > bestScore) {
                    bestScore = s;
                    best = c;
                }
            }
            right += best == y[i] ? 1 : 0;
        }
        return (double) right / test.size();
    }

    private static double[] withBias(double[] x) {
        double[] out = Arrays.copyOf(x, x.length + 1);
        out[x.length] = 1;
        return out;
    }

    /** Gauss-Jordan elimination with partial pivoting of {@code [A | B]} (A {@code d x d}, symmetric positive definite). */
    private static double[][] solve(double[][] a, int d, int rhs) {
        for (int col = 0; col < d; col++) {
            int pivot = col;
            for (int r = col + 1; r < d; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            double p = a[col][col];
            for (int c = col; c < d + rhs; c++) {
                a[col][c] /= p;
            }
            for (int r = 0; r < d; r++) {
                if (r != col && a[r][col] != 0) {
                    double f = a[r][col];
                    for (int c = col; c < d + rhs; c++) {
                        a[r][c] -= f * a[col][c];
                    }
                }
            }
        }
        double[][] w = new double[d][rhs];
        for (int r = 0; r < d; r++) {
            System.arraycopy(a[r], d, w[r], 0, rhs);
        }
        return w;
    }

    private static double majority(int[] y, List<Integer> train) {
        Map<Integer, Integer> counts = new HashMap<>();
        train.forEach(i -> counts.merge(y[i], 1, Integer::sum));
        return train.isEmpty() ? Double.NaN
                : (double) Collections.max(counts.values()) / train.size();
    }
}
