package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.memlong.runtime.engine.Engines;
import org.junit.jupiter.api.Test;

/** Retrieved K/V in attention's layout, whatever the head and token counts, and still there after collections. */
class MemoryKvTest {

    @Test
    void headMajorLayoutSurvivesCollections() {
        try (NDManager root = Engines.pytorch().newBaseManager()) {
            for (int[] c : new int[][] {{1, 1}, {1, 5}, {3, 1}, {3, 2}}) {
                int tokens = c[0];
                int kvHeads = c[1];
                int d = 4;
                float[] keys = new float[tokens * kvHeads * d];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = i + 1;
                }
                float[] values = keys.clone();
                for (int i = 0; i < values.length; i++) {
                    values[i] = -values[i];
                }
                // [kvHeads, tokens, D] element (h, t, j) is token-major element (t, h, j)
                float[] expected = new float[keys.length];
                for (int h = 0; h < kvHeads; h++) {
                    for (int t = 0; t < tokens; t++) {
                        for (int j = 0; j < d; j++) {
                            expected[(h * tokens + t) * d + j] = keys[(t * kvHeads + h) * d + j];
                        }
                    }
                }
                try (MemoryKv kv = new MemoryKv(root, keys, values, tokens, kvHeads, d, DataType.FLOAT32)) {
                    for (int i = 0; i < 5; i++) { // freed Java buffers would be reused by these
                        System.gc();
                        java.nio.ByteBuffer.allocateDirect(keys.length * 4).asFloatBuffer().put(new float[keys.length]);
                    }
                    assertArrayEquals(expected, kv.keys.toFloatArray(), "tokens " + tokens + ", kv heads " + kvHeads);
                    float[] negated = expected.clone();
                    for (int i = 0; i < negated.length; i++) {
                        negated[i] = -negated[i];
                    }
                    assertArrayEquals(negated, kv.values.toFloatArray());
                    assertArrayEquals(new long[] {kvHeads, tokens, d}, kv.keys.getShape().getShape());
                }
            }
        }
    }
}
