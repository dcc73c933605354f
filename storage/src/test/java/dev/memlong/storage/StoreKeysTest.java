package dev.memlong.storage;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreKeysTest {

    private static boolean inRange(byte[] key, byte[] prefix) {
        return Arrays.compareUnsigned(key, prefix) >= 0
                && Arrays.compareUnsigned(key, StoreKeys.upperBound(prefix)) < 0;
    }

    @Test
    void tenantAndConversationBoundariesAreUnambiguous() {
        byte[] ab = StoreKeys.conversation(new ConversationKey("a", "bc"));
        byte[] abc = StoreKeys.conversation(new ConversationKey("ab", "c"));
        assertFalse(Arrays.equals(ab, abc));
        byte[] a = StoreKeys.conversation(new ConversationKey("t", "a"));
        byte[] aLonger = StoreKeys.conversation(new ConversationKey("t", "ab"));
        assertFalse(inRange(StoreKeys.item(aLonger, 0), a), "conversation 'ab' must not fall in the range of 'a'");
        assertTrue(inRange(StoreKeys.item(a, Long.MAX_VALUE), a));
        assertTrue(inRange(a, StoreKeys.tenant("t")));
        assertFalse(inRange(a, StoreKeys.tenant("tt")));
    }

    @Test
    void sequenceNumbersSortChronologically() {
        byte[] p = StoreKeys.conversation(ConversationKey.of("x"));
        assertTrue(Arrays.compareUnsigned(StoreKeys.item(p, 255), StoreKeys.item(p, 256)) < 0);
        assertTrue(Arrays.compareUnsigned(StoreKeys.item(p, 1L << 40), StoreKeys.item(p, (1L << 40) + 1)) < 0);
        assertEquals(256, StoreKeys.seq(StoreKeys.item(p, 256)));
    }

    @Test
    void upperBoundCarries() {
        assertArrayEquals(new byte[] {1, 3}, StoreKeys.upperBound(new byte[] {1, 2, (byte) 0xFF}));
    }

    @Test
    void rendersKeysForErrors() {
        ConversationKey k = new ConversationKey("ténant", "c/1");
        byte[] p = StoreKeys.conversation(k);
        assertEquals("ténant/c/1#7", StoreKeys.render(ColumnFamily.CHUNKS, StoreKeys.item(p, 7)));
        assertEquals("ténant/c/1", StoreKeys.render(ColumnFamily.CONVERSATIONS, p));
    }
}
