package dev.memlong.storage;

import dev.memlong.memory.NewChunk;

import java.util.List;

/**
 * Everything one turn writes, committed in ONE atomic WriteBatch: its messages (typically the user's message and
 * the reply), the memory chunks that left the local window, and the retrieval counters the bank has pending.
 *
 * @param messages messages in order
 * @param chunks   new memory chunks in order (may be empty)
 */
public record TurnCommit(List<TurnMessage> messages, List<NewChunk> chunks) {

    public TurnCommit {
        messages = List.copyOf(messages);
        chunks = List.copyOf(chunks);
    }

    /** A user message, its reply, and the chunks the turn moved to memory. */
    public static TurnCommit of(String user, int userTokens, String reply, int replyTokens, List<NewChunk> chunks) {
        return new TurnCommit(List.of(new TurnMessage(Role.USER, user, userTokens),
                new TurnMessage(Role.ASSISTANT, reply, replyTokens)), chunks);
    }
}
