package dev.memlong.storage;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded LRU cache of decoded chunk payloads (token ids, text, K/V), shared by every active bank of a store
 * and keyed by the chunk's store key. Bounded by the bytes it holds; a zero bound disables it.
 */
final class KvCache {

    /**
     * A chunk's payload as read from the chunks and chunk_kv column families. {@link RocksMemoryBank#fetch} hands
     * its arrays out as they are (callers must not modify them, as {@code MemoryBank.fetch} says); nothing else
     * does.
     */
    record Entry(int[] tokenIds, String text, byte[] keys, byte[] values) {
        long weight() {
            return 64L + tokenIds.length * 4L + text.length() * 2L + keys.length + values.length;
        }
    }

    private final long maxBytes;
    private final LinkedHashMap<ByteBuffer, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);
    private long bytes;

    KvCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Whether it keeps anything (a zero bound disables it). */
    boolean enabled() {
        return maxBytes > 0;
    }

    synchronized Entry get(byte[] key) {
        return entries.get(ByteBuffer.wrap(key));
    }

    synchronized void put(byte[] key, Entry entry) {
        long w = entry.weight();
        if (w > maxBytes) {
            return;
        }
        Entry old = entries.put(ByteBuffer.wrap(key.clone()), entry);
        bytes += w - (old == null ? 0 : old.weight());
        Iterator<Map.Entry<ByteBuffer, Entry>> it = entries.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            bytes -= it.next().getValue().weight();
            it.remove();
        }
    }

    synchronized void invalidate(byte[] key) {
        Entry old = entries.remove(ByteBuffer.wrap(key));
        if (old != null) {
            bytes -= old.weight();
        }
    }

    /** Drops every entry whose key starts with {@code prefix}. */
    synchronized void invalidatePrefix(byte[] prefix) {
        ByteBuffer p = ByteBuffer.wrap(prefix);
        Iterator<Map.Entry<ByteBuffer, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<ByteBuffer, Entry> e = it.next();
            ByteBuffer k = e.getKey();
            if (k.remaining() >= prefix.length && k.slice(0, prefix.length).equals(p)) {
                bytes -= e.getValue().weight();
                it.remove();
            }
        }
    }

    synchronized void clear() {
        entries.clear();
        bytes = 0;
    }

    synchronized long bytes() {
        return bytes;
    }
}
