package dev.memlong.gateway.backend;

import java.util.Objects;

/** An item of {@link ChatConversation#stream}: text deltas as they are generated, then the finished reply. */
public sealed interface ChatEvent {

    /**
     * New reply text.
     *
     * @param text the text the latest token(s) complete; may be empty while a character is incomplete
     */
    record Delta(String text) implements ChatEvent {
        public Delta {
            Objects.requireNonNull(text, "text");
        }
    }

    /** The last item: the whole reply, committed. */
    record Completed(ChatReply reply) implements ChatEvent {
        public Completed {
            Objects.requireNonNull(reply, "reply");
        }
    }
}
