package dev.memlong.runtime.model;

import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.config.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A written-out LLaMA decoder in plain Java, double precision, one token at a time, with MemLong's retrieval
 * causal attention spelled out from MEMLONG.md: memory keys (pre-RoPE, position 0) visible to every query, local
 * tokens at positions {@code offset + i}, ONE softmax over [memory | local]. It is the independent reference the
 * DJL implementation is checked against. Default RoPE only; no biases (the fixture has none).
 */
final class ReferenceDecoder {

    final ModelConfig cfg;
    private final Map<String, float[]> w = new HashMap<>();

    ReferenceDecoder(Path dir) {
        cfg = ModelConfig.load(dir);
        try (WeightSource src = Checkpoints.open(dir)) {
            for (String name : src.tensors().keySet()) {
                ByteBuffer b = src.readFloat32(name).order(ByteOrder.LITTLE_ENDIAN);
                float[] f = new float[b.remaining() / 4];
                b.asFloatBuffer().get(f);
                w.put(name, f);
            }
        }
    }

    /** Output of a forward: logits per position and the memory layer's pre-RoPE keys and values per position. */
    record Output(double[][] logits, double[][] memoryLayerKeys, double[][] memoryLayerValues) {}

    /**
     * @param tokens     the local tokens
     * @param offset     position of the first local token (1 in Zero mode)
     * @param memK       retrieved memory keys {@code [M][kvHeads*headDim]} (pre-RoPE), or empty
     * @param memV       retrieved memory values
     * @param retrieval  which layers attend to memory
     * @param memoryLayer whose pre-RoPE K/V to report
     */
    Output forward(int[] tokens, int offset, double[][] memK, double[][] memV, boolean[] retrieval, int memoryLayer) {
        int n = tokens.length;
        int hid = cfg.hiddenSize();
        int heads = cfg.numHeads();
        int kvh = cfg.numKvHeads();
        int d = cfg.headDim();
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            x[i] = row(w.get("model.embed_tokens.weight"), tokens[i], hid);
        }
        double[][] memKeys = null;
        double[][] memValues = null;
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] kPre = new double[n][];
            double[][] v = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] h = rms(x[i], w.get(p + "input_layernorm.weight"));
                q[i] = rope(matvec(w.get(p + "self_attn.q_proj.weight"), h, heads * d), heads, offset + i);
                kPre[i] = matvec(w.get(p + "self_attn.k_proj.weight"), h, kvh * d);
                k[i] = rope(kPre[i].clone(), kvh, offset + i);
                v[i] = matvec(w.get(p + "self_attn.v_proj.weight"), h, kvh * d);
            }
            if (l == memoryLayer) {
                memKeys = kPre;
                memValues = v;
            }
            int memory = retrieval[l] ? memK.length : 0;
            for (int i = 0; i < n; i++) {
                double[] attn = new double[heads * d];
                for (int hh = 0; hh < heads; hh++) {
                    int g = hh / (heads / kvh);
                    double[] scores = new double[memory + i + 1];
                    for (int j = 0; j < memory; j++) {
                        scores[j] = dot(q[i], hh * d, memK[j], g * d, d) / Math.sqrt(d);
                    }
                    for (int j = 0; j <= i; j++) {
                        scores[memory + j] = dot(q[i], hh * d, k[j], g * d, d) / Math.sqrt(d);
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (double s : scores) {
                        max = Math.max(max, s);
                    }
                    double z = 0;
                    for (int j = 0; j < scores.length; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        z += scores[j];
                    }
                    for (int j = 0; j < scores.length; j++) {
                        double[] vj = j < memory ? memV[j] : v[j - memory];
                        for (int c = 0; c < d; c++) {
                            attn[hh * d + c] += scores[j] / z * vj[g * d + c];
                        }
                    }
                }
                double[] o = matvec(w.get(p + "self_attn.o_proj.weight"), attn, hid);
                for (int c = 0; c < hid; c++) {
                    x[i][c] += o[c];
                }
            }
            for (int i = 0; i < n; i++) {
                double[] h = rms(x[i], w.get(p + "post_attention_layernorm.weight"));
                int inter = cfg.intermediateSize();
                double[] gate = matvec(w.get(p + "mlp.gate_proj.weight"), h, inter);
                double[] up = matvec(w.get(p + "mlp.up_proj.weight"), h, inter);
                for (int c = 0; c < inter; c++) {
                    gate[c] = gate[c] / (1 + Math.exp(-gate[c])) * up[c];
                }
                double[] down = matvec(w.get(p + "mlp.down_proj.weight"), gate, hid);
                for (int c = 0; c < hid; c++) {
                    x[i][c] += down[c];
                }
            }
        }
        double[][] logits = new double[n][];
        for (int i = 0; i < n; i++) {
            logits[i] = matvec(w.get("lm_head.weight"), rms(x[i], w.get("model.norm.weight")), cfg.vocabSize());
        }
        return new Output(logits, memKeys, memValues);
    }

    private double[] rope(double[] x, int nHeads, int pos) {
        int d = cfg.headDim();
        int half = d / 2;
        double[] out = new double[x.length];
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < half; i++) {
                double inv = 1.0 / Math.pow(cfg.rope().theta(), 2.0 * i / d);
                double c = Math.cos(pos * inv);
                double s = Math.sin(pos * inv);
                double a = x[h * d + i];
                double b = x[h * d + half + i];
                out[h * d + i] = a * c - b * s;
                out[h * d + half + i] = b * c + a * s;
            }
        }
        return out;
    }

    private double[] rms(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + cfg.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * r * weight[i];
        }
        return out;
    }

    private static double[] matvec(float[] m, double[] x, int rows) {
        int cols = x.length;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += m[r * cols + c] * x[c];
            }
            out[r] = s;
        }
        return out;
    }

    private static double dot(double[] a, int ao, double[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    private static double[] row(float[] m, int r, int cols) {
        double[] out = new double[cols];
        for (int c = 0; c < cols; c++) {
            out[c] = m[r * cols + c];
        }
        return out;
    }
}
