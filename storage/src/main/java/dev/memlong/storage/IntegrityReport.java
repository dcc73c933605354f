package dev.memlong.storage;

import java.util.List;

/**
 * The result of {@link ConversationStore#checkIntegrity}: whether every chunk of a conversation is whole (its
 * metadata, K/V and embedding all present, K/V of the right size), its counters match what is stored, and nothing
 * is stored at or past the sequence numbers the conversation hands out next.
 *
 * @param chunks           chunks with metadata
 * @param incompleteSeqs   seqs present in some but not all of the chunk column families, or with bad K/V
 * @param metadataChunks   the chunk count in the conversation's metadata
 * @param metadataTokens   the token count in the conversation's metadata
 * @param storedTokens     tokens of the chunks actually stored
 * @param turns            stored messages
 * @param metadataTurns    the message count in the conversation's metadata
 * @param strayTurnSeqs    stored messages with a seq at or past the conversation's next turn seq (leftovers no
 *                         write of this conversation made; the next message would collide with them)
 * @param strayChunkSeqs   the same for chunk records (in any chunk column family) and the next chunk seq
 */
public record IntegrityReport(long chunks, List<Long> incompleteSeqs, long metadataChunks, long metadataTokens,
                              long storedTokens, long turns, long metadataTurns, List<Long> strayTurnSeqs,
                              List<Long> strayChunkSeqs) {

    /** True when nothing is half-written or stray and the counters match. */
    public boolean ok() {
        return incompleteSeqs.isEmpty() && strayTurnSeqs.isEmpty() && strayChunkSeqs.isEmpty()
                && chunks == metadataChunks && storedTokens == metadataTokens && turns == metadataTurns;
    }
}
