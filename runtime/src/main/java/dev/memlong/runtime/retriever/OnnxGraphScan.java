package dev.memlong.runtime.retriever;

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
        return indexOf(model, model.length, needle) >= 0;
    }

    /** Streams the model in blocks, keeping the last {@code needle - 1} bytes of each block for the next. */
    static boolean containsOp(InputStream model, String opType) throws IOException {
        byte[] needle = opType.getBytes(StandardCharsets.US_ASCII);
        byte[] buf = new byte[(1 << 20) + needle.length];
        int filled = 0;
        int n;
        while ((n = model.readNBytes(buf, filled, buf.length - filled)) > 0) {
            filled += n;
            if (indexOf(buf, filled, needle) >= 0) {
                return true;
            }
            int keep = Math.min(filled, needle.length - 1);
            System.arraycopy(buf, filled - keep, buf, 0, keep);
            filled = keep;
        }
        return false;
    }

    private static int indexOf(byte[] haystack, int length, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
