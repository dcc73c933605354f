package dev.memlong.runtime.retriever;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Finds whether an ONNX model uses an operator, by looking for the operator's name in the serialised graph (node
 * op types are stored as plain strings). Cheap, and needs no protobuf parser; a false positive would only make
 * the retriever run texts one by one.
 */
final class OnnxGraphScan {

    static final String DYNAMIC_QUANTIZE_LINEAR = "DynamicQuantizeLinear";

    private OnnxGraphScan() {}

    static boolean containsOp(byte[] model, String opType) {
        byte[] needle = opType.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + needle.length <= model.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (model[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    static boolean containsOp(InputStream model, String opType) throws IOException {
        byte[] needle = opType.getBytes(StandardCharsets.US_ASCII);
        byte[] window = new byte[needle.length];
        int filled = 0;
        InputStream in = new BufferedInputStream(model, 1 << 16);
        int b;
        while ((b = in.read()) >= 0) {
            if (filled < window.length) {
                window[filled++] = (byte) b;
            } else {
                System.arraycopy(window, 1, window, 0, window.length - 1);
                window[window.length - 1] = (byte) b;
            }
            if (filled == window.length && java.util.Arrays.equals(window, needle)) {
                return true;
            }
        }
        return false;
    }
}
