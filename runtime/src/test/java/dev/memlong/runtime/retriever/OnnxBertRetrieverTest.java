package dev.memlong.runtime.retriever;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxBertRetrieverTest {

    private static void copyResource(String name, Path to) throws IOException {
        try (InputStream in = BgeSmallRetriever.class.getResourceAsStream(name)) {
            Files.copy(in, to);
        }
    }

    @Test
    void loadsAModelDirectoryLikeTheBundledModel(@TempDir Path dir) throws IOException {
        copyResource(BgeSmallRetriever.MODEL_RESOURCE, dir.resolve("model.onnx"));
        copyResource(BgeSmallRetriever.TOKENIZER_RESOURCE, dir.resolve("tokenizer.json"));
        List<String> texts = List.of("Greta Fischer's home town is Bergen.", "What is Greta Fischer's home town?");
        try (Retriever fromDir = OnnxBertRetriever.fromDirectory(dir, RetrieverOptions.defaults());
             Retriever bundled = BgeSmallRetriever.create()) {
            assertEquals(384, fromDir.dimension());
            float[][] a = fromDir.embed(texts);
            float[][] b = bundled.embed(texts);
            for (int i = 0; i < a.length; i++) {
                assertArrayEquals(b[i], a[i], 1e-6f);
            }
        }
    }

    @Test
    void meanPoolingIsAnotherVector(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("onnx"));
        copyResource(BgeSmallRetriever.MODEL_RESOURCE, dir.resolve("onnx").resolve("model.onnx"));
        copyResource(BgeSmallRetriever.TOKENIZER_RESOURCE, dir.resolve("tokenizer.json"));
        String text = "The library closes early on Fridays.";
        try (Retriever mean = OnnxBertRetriever.fromDirectory(dir, RetrieverOptions.defaults().withPooling(Pooling.MEAN));
             Retriever cls = BgeSmallRetriever.create()) {
            float[] m = mean.embed(text);
            float[] c = cls.embed(text);
            double norm = 0;
            double dot = 0;
            for (int i = 0; i < m.length; i++) {
                norm += m[i] * m[i];
                dot += m[i] * c[i];
            }
            assertEquals(1.0, norm, 1e-5);
            assertTrue(dot < 0.999, "mean and CLS pooling differ");
        }
    }

    @Test
    void missingFilesAreNamed(@TempDir Path dir) throws IOException {
        RetrieverException e = assertThrows(RetrieverException.class,
                () -> OnnxBertRetriever.fromDirectory(dir, RetrieverOptions.defaults()));
        assertTrue(e.getMessage().contains("model.onnx"), e.getMessage());
        copyResource(BgeSmallRetriever.MODEL_RESOURCE, dir.resolve("model.onnx"));
        e = assertThrows(RetrieverException.class,
                () -> OnnxBertRetriever.fromDirectory(dir, RetrieverOptions.defaults()));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void poolingComputesClsAndMaskedMean() {
        // Two sequences of up to 3 tokens, width 2; the second has 2 real tokens and one padding token.
        FloatBuffer states = FloatBuffer.wrap(new float[] {
            1, 2, 3, 4, 5, 6,
            10, 20, 30, 40, 999, 999});
        assertArrayEquals(new float[] {10, 20}, Pooling.CLS.pool(states, 6, 2, 2));
        assertArrayEquals(new float[] {3, 4}, Pooling.MEAN.pool(states, 0, 3, 2));
        assertArrayEquals(new float[] {20, 30}, Pooling.MEAN.pool(states, 6, 2, 2));
    }

    @Test
    void normalisesToUnitLength() {
        assertArrayEquals(new float[] {0.6f, 0.8f}, Vectors.l2Normalise(new float[] {3, 4}), 1e-7f);
        assertArrayEquals(new float[] {0, 0}, Vectors.l2Normalise(new float[] {0, 0}));
    }

    @Test
    void graphScanFindsOperatorNamesAcrossBufferBoundaries() throws IOException {
        byte[] model = new byte[200_000];
        byte[] op = "DynamicQuantizeLinear".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(op, 0, model, (1 << 16) - 5, op.length);
        assertTrue(OnnxGraphScan.containsOp(model, "DynamicQuantizeLinear"));
        assertTrue(OnnxGraphScan.containsOp(new ByteArrayInputStream(model), "DynamicQuantizeLinear"));
        assertFalse(OnnxGraphScan.containsOp(model, "QLinearMatMul"));
        assertFalse(OnnxGraphScan.containsOp(new ByteArrayInputStream(model), "QLinearMatMul"));
    }

    /** Protocol buffer encoding, just what a tiny ONNX graph needs. */
    private static final class Proto {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Proto integer(int field, long v) {
            varint((long) field << 3);
            varint(v);
            return this;
        }

        Proto bytes(int field, byte[] b) {
            varint((long) field << 3 | 2);
            varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.out.toByteArray());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }

    /** ValueInfoProto of a tensor with symbolic dimensions. */
    private static Proto tensorInfo(String name, int elemType, String... dims) {
        Proto shape = new Proto();
        for (String d : dims) {
            shape.message(1, new Proto().string(2, d));
        }
        Proto tensor = new Proto().integer(1, elemType).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
    }

    /**
     * An ONNX model with BERT's inputs whose only output, {@code pooled}, is {@code [batch, tokens]}:
     * {@code Cast<float>(input_ids + attention_mask)}.
     */
    private static byte[] rankTwoModel() {
        int int64 = 7;
        int float32 = 1;
        Proto add = new Proto().string(1, "input_ids").string(1, "attention_mask").string(2, "sum").string(4, "Add");
        Proto cast = new Proto().string(1, "sum").string(2, "pooled").string(4, "Cast")
                .message(5, new Proto().string(1, "to").integer(3, float32).integer(20, 2));
        Proto graph = new Proto().message(1, add).message(1, cast).string(2, "rank2")
                .message(11, tensorInfo("input_ids", int64, "batch", "tokens"))
                .message(11, tensorInfo("attention_mask", int64, "batch", "tokens"))
                .message(12, tensorInfo("pooled", float32, "batch", "tokens"));
        return new Proto().integer(1, 7).message(7, graph).message(8, new Proto().string(1, "").integer(2, 13)).toBytes();
    }

    @Test
    void anOutputThatIsNotTokenStatesIsRefusedClearly() throws IOException {
        try (InputStream tokenizer = BgeSmallRetriever.class.getResourceAsStream(BgeSmallRetriever.TOKENIZER_RESOURCE)) {
            RetrieverException e = assertThrows(RetrieverException.class,
                    () -> OnnxBertRetriever.fromBytes("rank-2", rankTwoModel(), tokenizer, RetrieverOptions.defaults()).close());
            assertTrue(e.getMessage().contains("'pooled'") && e.getMessage().contains("[batch, tokens, hidden]"),
                    e.getMessage());
        }
    }
}
