package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.testing.Fixtures;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AdamW} against {@code torch.optim.AdamW} (torch 2.11, {@code fixtures/make_adamw_reference.py}): four steps
 * with changing learning rates and a clipping factor, weight decay on a matrix and none on a vector (as the trainer
 * decays only matrices), from the same initial values and gradients, which both sides compute from one formula.
 */
class AdamWReferenceTest {

    private static final String MATRIX = "model.layers.0.self_attn.q_proj.weight";
    private static final String VECTOR = "model.layers.0.input_layernorm.weight";

    @Test
    void fourStepsMatchTorch() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("adamw-reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int h = ref.get("hidden").asInt();
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 1, root)) {
            assertEquals(List.of((long) h, (long) h), List.of(params.get(MATRIX).getShape().getShape()[0],
                    params.get(MATRIX).getShape().getShape()[1]), "the reference's matrix shape");
            params.get(MATRIX).set(fill(h * h, 1.0, 0.5, 0.37));
            params.get(VECTOR).set(fill(h, 2.0, 0.5, 0.37));
            JsonNode betas = ref.get("betas");
            try (NDManager grads = root.newSubManager();
                 AdamW adam = new AdamW(root, List.of(MATRIX, VECTOR), params, betas.get(0).asDouble(),
                         betas.get(1).asDouble(), ref.get("eps").asDouble(), ref.get("weight_decay").asDouble())) {
                for (int t = 1; t <= ref.get("lrs").size(); t++) {
                    NDArray gm = grads.create(fill(h * h, 3.0 * t, 0.1 * t, 0.11), params.get(MATRIX).getShape());
                    NDArray gv = grads.create(fill(h, 5.0 * t, 0.1 * t, 0.11));
                    adam.step(params, Map.of(MATRIX, gm, VECTOR, gv), ref.get("lrs").get(t - 1).asDouble(),
                            ref.get("scales").get(t - 1).asDouble());
                }
            }
            assertClose(ref.get("matrix"), params.values(MATRIX), MATRIX);
            assertClose(ref.get("vector"), params.values(VECTOR), VECTOR);
        }
    }

    /** {@code sin(freq·i + k)·scale} in double, rounded to float: the reference script's inputs, bit for bit. */
    private static float[] fill(int n, double k, double scale, double freq) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (Math.sin(freq * i + k) * scale);
        }
        return out;
    }

    /**
     * Within 2e-6 absolute: float32 arithmetic in another order (torch divides by sqrt(v)/sqrt(c2), this by
     * sqrt(v/c2)); a wrong bias correction, decay or clipping factor moves elements by ~1e-4 to 1e-2.
     */
    private static void assertClose(JsonNode expected, float[] actual, String name) {
        assertEquals(expected.size(), actual.length, name);
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected.get(i).asDouble(), actual[i], 2e-6, name + "[" + i + "]");
        }
    }
}
