package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import dev.memlong.runtime.testing.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A vocabulary large enough for the blocked output projection: batched rows equal single-row steps. */
class LargeVocabularyTest {

    static final int VOCAB = 5003;
    static final int HIDDEN = 32;

    static Path writeModel(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures":["LlamaForCausalLM"],"hidden_size":%d,"intermediate_size":48,"num_hidden_layers":1,
                 "num_attention_heads":2,"num_key_value_heads":1,"vocab_size":%d,"rms_norm_eps":1e-6,
                 "rope_theta":10000.0,"max_position_embeddings":256,"tie_word_embeddings":false}
                """.formatted(HIDDEN, VOCAB));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN});
        shapes.put("lm_head.weight", new long[] {VOCAB, HIDDEN});
        shapes.put("model.norm.weight", new long[] {HIDDEN});
        String p = "model.layers.0.";
        shapes.put(p + "input_layernorm.weight", new long[] {HIDDEN});
        shapes.put(p + "post_attention_layernorm.weight", new long[] {HIDDEN});
        shapes.put(p + "self_attn.q_proj.weight", new long[] {HIDDEN, HIDDEN});
        shapes.put(p + "self_attn.k_proj.weight", new long[] {HIDDEN / 2, HIDDEN});
        shapes.put(p + "self_attn.v_proj.weight", new long[] {HIDDEN / 2, HIDDEN});
        shapes.put(p + "self_attn.o_proj.weight", new long[] {HIDDEN, HIDDEN});
        shapes.put(p + "mlp.gate_proj.weight", new long[] {48, HIDDEN});
        shapes.put(p + "mlp.up_proj.weight", new long[] {48, HIDDEN});
        shapes.put(p + "mlp.down_proj.weight", new long[] {HIDDEN, 48});
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        shapes.forEach((n, s) -> tensors.add(new SafetensorsWriter.Tensor(n, "F32", s)));
        Random rnd = new Random(3);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of(), n -> {
            long[] s = shapes.get(n);
            long count = 1;
            for (long d : s) {
                count *= d;
            }
            ByteBuffer b = ByteBuffer.allocate((int) count * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                b.putFloat(n.contains("norm") ? 1 + 0.1f * (float) rnd.nextGaussian() : 0.3f * (float) rnd.nextGaussian());
            }
            return b.flip();
        });
        return dir;
    }

    @Test
    void blockedOutputProjectionEqualsTheSingleRowPath(@TempDir Path dir) throws IOException {
        try (LlamaModel model = LlamaModel.load(writeModel(dir))) {
            int[] ids = {5, 4000, 17, 5002, 9, 2500, 77};
            float[][] all = model.forwardLogits(ids);              // 7 rows: blocked
            try (KvCachePool cache = model.newCache(1, 16)) {
                for (int i = 0; i < ids.length; i++) {             // one row per step: whole
                    float[] one = model.forward(cache, List.of(new SequenceStep(0, new int[] {ids[i]})), false)[0][0];
                    double d = Fixtures.maxAbsDiff(new float[][] {one}, new float[][] {all[i]});
                    assertTrue(d < 1e-4, "position " + i + ": " + d);
                }
            }
        }
    }
}
