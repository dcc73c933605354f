package dev.memlong.storage;

import java.util.List;

/**
 * The result of {@link ConversationStore#checkIntegrity}: whether every chunk of a conversation is whole (its
 * metadata, K/V and embedding all present, K/V of the right size) and its counters match what is stored.
 *
 * @param chunks           chunks with metadata
 * @param incompleteSeqs   seqs present in some but not all of the chunk column families, or with bad K/V
 * @param metadataChunks   the chunk count in the conversation's metadata
 * @param metadataTokens   the token count in the conversation's metadata
 * @param storedTokens     tokens of the chunks actually stored
 * @param turns            stored messages
 * @param metadataTurns    the message count in the conversation's metadata
 */
public record IntegrityReport(long chunks, List<Long> incompleteSeqs, long metadataChunks, long metadataTokens,
                              long storedTokens, long turns, long metadataTurns) {

    /** True when nothing is half-written and the counters match. */
    public boolean ok() {
        return incompleteSeqs.isEmpty() && chunks == metadataChunks && storedTokens == metadataTokens
                && turns == metadataTurns;
    }
}
