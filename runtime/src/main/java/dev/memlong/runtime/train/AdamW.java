package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias-corrected moments), updating parameters in place. Weight decay is not
 * applied to vectors (norm weights, biases), as transformers' Trainer does. Owns its moment arrays.
 */
final class AdamW implements AutoCloseable {

    private final NDManager manager;
    private final Map<String, NDArray> first = new LinkedHashMap<>();
    private final Map<String, NDArray> second = new LinkedHashMap<>();
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private int steps;

    AdamW(NDManager parent, List<String> names, ModelParameters params, double beta1, double beta2, double epsilon,
          double weightDecay) {
        this.manager = parent.newSubManager();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        for (String n : names) {
            first.put(n, manager.zeros(params.get(n).getShape()));
            second.put(n, manager.zeros(params.get(n).getShape()));
        }
    }

    int steps() {
        return steps;
    }

    /** One update of every parameter with its gradient times {@code gradScale} (the clipping factor). */
    void step(ModelParameters params, Map<String, NDArray> gradients, double lr, double gradScale) {
        steps++;
        double c1 = 1 - Math.pow(beta1, steps);
        double c2 = 1 - Math.pow(beta2, steps);
        for (Map.Entry<String, NDArray> e : first.entrySet()) {
            String name = e.getKey();
            try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray p = params.get(name);
            NDArray g = gradients.get(name);
            if (gradScale != 1) {
                g = g.mul((float) gradScale);
            }
            NDArray m = e.getValue();
            NDArray v = second.get(name);
            m.muli((float) beta1).addi(g.mul((float) (1 - beta1)));
            v.muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
            if (weightDecay > 0 && p.getShape().dimension() > 1) {
                p.muli((float) (1 - lr * weightDecay));
            }
            NDArray update = m.div((float) c1).divi(v.div((float) c2).sqrt().addi((float) epsilon)).muli((float) lr);
            p.subi(update);
            }
        }
    }

    /** The moments of a parameter: {@code [m, v]} (for checkpoints). */
    NDArray[] moments(String name) {
        return new NDArray[] {first.get(name), second.get(name)};
    }

    /**
     * Sets the step count and every moment.
     *
     * @throws IllegalArgumentException if a moment is missing or not of its parameter's size (NDArray.set would
     *                                  copy a too-long array's first elements with only a logged warning); nothing
     *                                  is changed then
     */
    void restore(int steps, Map<String, float[]> m, Map<String, float[]> v) {
        for (String n : first.keySet()) {
            long size = first.get(n).size();
            for (float[] moment : new float[][] {m.get(n), v.get(n)}) {
                if (moment == null || moment.length != size) {
                    throw new IllegalArgumentException("AdamW moment of " + n + " has "
                            + (moment == null ? "no values" : moment.length + " values") + ", not " + size);
                }
            }
        }
        this.steps = steps;
        for (String n : first.keySet()) {
            first.get(n).set(m.get(n));
            second.get(n).set(v.get(n));
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
