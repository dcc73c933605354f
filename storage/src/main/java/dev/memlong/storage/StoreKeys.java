package dev.memlong.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Big-endian composite keys. A conversation prefix is {@code u16 len, tenant UTF-8, u16 len, id UTF-8}; the
 * length prefixes make it unambiguous (no tenant/id pair is a prefix of another's). Items of a conversation
 * append a {@code u64} big-endian sequence number, so unsigned byte order is chronological order and one
 * conversation is one contiguous range {@code [prefix, upperBound(prefix))}.
 */
final class StoreKeys {

    private StoreKeys() {}

    static byte[] conversation(ConversationKey key) {
        byte[] t = key.tenant().getBytes(StandardCharsets.UTF_8);
        byte[] c = key.conversationId().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + t.length + c.length)
                .putShort((short) t.length).put(t).putShort((short) c.length).put(c).array();
    }

    static byte[] tenant(String tenant) {
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + t.length).putShort((short) t.length).put(t).array();
    }

    static byte[] item(byte[] conversationPrefix, long seq) {
        if (seq < 0) {
            throw new IllegalArgumentException("negative sequence number " + seq);
        }
        return ByteBuffer.allocate(conversationPrefix.length + 8).put(conversationPrefix).putLong(seq).array();
    }

    static byte[] modelVersion(String modelId, long version) {
        byte[] m = modelId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + m.length + 8).putShort((short) m.length).put(m).putLong(version).array();
    }

    static byte[] model(String modelId) {
        byte[] m = modelId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + m.length).putShort((short) m.length).put(m).array();
    }

    /** Sequence number of an item key. */
    static long seq(byte[] itemKey) {
        return ByteBuffer.wrap(itemKey, itemKey.length - 8, 8).getLong();
    }

    /** The smallest key greater than every key starting with {@code prefix}. */
    static byte[] upperBound(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xFF) {
                byte[] bound = java.util.Arrays.copyOf(prefix, i + 1);
                bound[i]++;
                return bound;
            }
        }
        throw new IllegalArgumentException("no upper bound for an all-0xFF prefix");
    }

    /** The conversation a key of a conversation-keyed column family belongs to, or null if malformed. */
    static ConversationKey conversationOf(byte[] key) {
        try {
            ByteBuffer b = ByteBuffer.wrap(key);
            String tenant = string(b);
            String id = string(b);
            return new ConversationKey(tenant, id);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String string(ByteBuffer b) {
        int len = Short.toUnsignedInt(b.getShort());
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** A readable rendering: {@code tenant/id#seq}, {@code tenant/id}, or hex when not decodable. */
    static String render(ColumnFamily cf, byte[] key) {
        if (cf.conversationKeyed()) {
            ConversationKey c = conversationOf(key);
            if (c != null) {
                int used = conversation(c).length;
                if (used == key.length) {
                    return c.toString();
                }
                if (used + 8 == key.length) {
                    return c + "#" + seq(key);
                }
            }
        }
        return "0x" + HexFormat.of().formatHex(key);
    }

    /** The conversation name a key belongs to, for error messages; null if none. */
    static String conversationName(ColumnFamily cf, byte[] key) {
        if (!cf.conversationKeyed() || key == null) {
            return null;
        }
        ConversationKey c = conversationOf(key);
        return c == null ? null : c.toString();
    }
}
