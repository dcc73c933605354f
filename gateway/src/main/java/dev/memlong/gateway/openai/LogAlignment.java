package dev.memlong.gateway.openai;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;

import java.util.List;

/**
 * Which part of a resent OpenAI dialogue is new. The request's messages are laid over the end of the
 * conversation's log: the longest run of the log's last messages that equals the request's first messages (same
 * role, same text up to surrounding whitespace) is already processed, so a client resending the whole history,
 * or only its latest part, is handled alike. Of the rest, the user messages after the last assistant message are
 * the new turn (joined by a blank line when there are several).
 */
public final class LogAlignment {

    private LogAlignment() {
    }

    /**
     * The text of the new user turn.
     *
     * @throws ChatException {@link ErrorCode#INVALID} when no user message is new
     */
    public static String newUserText(List<ChatTurn> log, List<CompletionRequest.Message> messages) {
        int overlap = overlap(log, messages);
        int start = messages.size();
        while (start > overlap && messages.get(start - 1).role().equals("user")) {
            start--;
        }
        if (start == messages.size()) {
            throw new ChatException(ErrorCode.INVALID, overlap == messages.size()
                    ? "every message is already in the conversation's log; nothing new to answer"
                    : "the last message must be a user message");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = start; i < messages.size(); i++) {
            if (!sb.isEmpty()) {
                sb.append("\n\n");
            }
            sb.append(messages.get(i).content());
        }
        return sb.toString();
    }

    /** The largest k such that the log's last k messages equal the request's first k. */
    static int overlap(List<ChatTurn> log, List<CompletionRequest.Message> messages) {
        for (int k = Math.min(log.size(), messages.size()); k > 0; k--) {
            if (matches(log, log.size() - k, messages, k)) {
                return k;
            }
        }
        return 0;
    }

    private static boolean matches(List<ChatTurn> log, int from, List<CompletionRequest.Message> messages, int k) {
        for (int i = 0; i < k; i++) {
            ChatTurn t = log.get(from + i);
            CompletionRequest.Message m = messages.get(i);
            if (!t.role().wireName().equals(m.role()) || !t.text().strip().equals(m.content().strip())) {
                return false;
            }
        }
        return true;
    }
}
