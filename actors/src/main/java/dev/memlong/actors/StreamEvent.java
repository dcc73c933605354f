package dev.memlong.actors;

/** An item of {@link Conversation#stream}: text deltas as they are generated, then the finished reply. */
public sealed interface StreamEvent {

    /**
     * New reply text.
     *
     * @param text    the text the token completes (may be empty while a character is incomplete)
     * @param tokenId the token, or -1 for trailing text flushed at the end
     */
    record Delta(String text, int tokenId) implements StreamEvent {}

    /** The last item: the whole reply, committed to storage. */
    record Completed(Reply reply) implements StreamEvent {}
}
