package dev.memlong.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KvLayoutTest {

    @Test
    void kvBytesIsTokensTimesHeadsTimesDimTimesDtype() {
        assertEquals(8 * 2 * 4 * 2, new KvLayout(2, 4, KvDType.FP16, 8).kvBytes(8));
        assertEquals(3 * 32 * 100 * 4, new KvLayout(32, 100, KvDType.FP32, 8).kvBytes(3));
    }

    @Test
    void aLayoutWhosePerTokenBytesOverflowAnIntIsRejected() {
        // 65536 * 65536 wraps to 0 in int arithmetic: K/V of any token count would have been "0 bytes"
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KvLayout(65536, 65536, KvDType.FP16, 8));
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KvLayout(1 << 15, 1 << 15, KvDType.FP32, 8));
    }

    @Test
    void kvBytesBeyondAnIntFailsAsAnIllegalArgument() {
        KvLayout layout = new KvLayout(8, 128, KvDType.FP16, 8); // 2 KiB a token
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.kvBytes(1 << 20));
        assertTrue(e.getMessage().contains(String.valueOf(1 << 20)), e.getMessage());
    }
}
