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
}
