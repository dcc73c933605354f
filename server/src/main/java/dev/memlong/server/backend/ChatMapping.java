package dev.memlong.server.backend;

import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.Turn;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The conversions between the runtime's records ({@code dev.memlong.actors}, {@code dev.memlong.storage}) and the
 * gateway's ({@code dev.memlong.gateway.backend}), and the mapping of runtime failures to {@link ErrorCode}s.
 */
public final class ChatMapping {

    private ChatMapping() {}

    /** The runtime's parameters; {@code ignoreEos} stays off (no protocol asks for it). */
    public static GenerationParams generation(ChatParams p) {
        try {
            return new GenerationParams(p.maxNewTokens(), p.temperature(), p.topK(), p.topP(),
                    p.repetitionPenalty(), p.seed(), p.stopStrings(), false);
        } catch (IllegalArgumentException e) {
            throw new ChatException(ErrorCode.INVALID, e.getMessage(), e);
        }
    }

    /** The gateway's reply. */
    public static ChatReply reply(Reply r) {
        return new ChatReply(r.text(), r.promptTokens(), r.completionTokens(), r.timeToFirstToken(),
                r.tokensPerSecond(), r.retrievalTime(),
                r.retrieved().stream().map(c -> new ChatReply.Retrieved(c.seq(), c.score(), c.text())).toList(),
                r.stopReason() == Reply.StopReason.LENGTH ? ChatReply.Finish.LENGTH : ChatReply.Finish.STOP,
                r.memoryTokens(), r.windowTokens());
    }

    /** The user and assistant messages of a stored dialogue (system messages are not part of the chat log). */
    public static List<ChatTurn> history(List<Turn> turns) {
        return turns.stream().map(ChatMapping::turn).flatMap(Optional::stream).toList();
    }

    private static Optional<ChatTurn> turn(Turn t) {
        return switch (t.role()) {
            case USER -> Optional.of(new ChatTurn(t.seq(), ChatTurn.Role.USER, t.text()));
            case ASSISTANT -> Optional.of(new ChatTurn(t.seq(), ChatTurn.Role.ASSISTANT, t.text()));
            case SYSTEM -> Optional.empty();
        };
    }

    public static List<ChatChunk> memory(List<ChunkSummary> chunks) {
        return chunks.stream().map(c -> new ChatChunk(c.seq(), c.tokenCount(), c.retrievalCount(), c.text())).toList();
    }

    /**
     * The {@link ChatException} for a failure of the runtime: {@code overloaded}, {@code cancelled} and
     * {@code invalid} keep their names; {@code shutting_down} and {@code storage} (the store failed, or a request
     * to a conversation timed out) are {@link ErrorCode#UNAVAILABLE}, worth retrying later;
     * {@code conversation_failed} (the conversation crashed and restarts from storage) and anything unexpected
     * are {@link ErrorCode#INTERNAL}.
     */
    public static ChatException error(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return switch (e) {
            case ChatException c -> c;
            case MemLongException m -> new ChatException(code(m.kind()), m.getMessage(), m);
            case CancellationException c -> new ChatException(ErrorCode.CANCELLED, "cancelled", c);
            case TimeoutException timeout -> new ChatException(ErrorCode.UNAVAILABLE,
                    "the runtime did not answer in time", timeout);
            case IllegalArgumentException bad -> new ChatException(ErrorCode.INVALID, bad.getMessage(), bad);
            default -> new ChatException(ErrorCode.INTERNAL, String.valueOf(e.getMessage()), e);
        };
    }

    static ErrorCode code(MemLongException.Kind kind) {
        return switch (kind) {
            case OVERLOADED -> ErrorCode.OVERLOADED;
            case CANCELLED -> ErrorCode.CANCELLED;
            case INVALID -> ErrorCode.INVALID;
            case SHUTTING_DOWN, STORAGE, DEVICE_FAILED -> ErrorCode.UNAVAILABLE;
            case CONVERSATION_FAILED -> ErrorCode.INTERNAL;
        };
    }
}
