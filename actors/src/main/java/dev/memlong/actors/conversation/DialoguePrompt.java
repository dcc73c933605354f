package dev.memlong.actors.conversation;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a user message into the tokens a device feeds, with the model's chat template. A conversation's window
 * already holds the earlier dialogue, so a turn feeds only what the template adds after it: the end of the
 * previous reply (the template's closing of an assistant message, which generation stops before) and the new
 * user message with the assistant prompt. When the window must be rebuilt, the recent dialogue (whole messages,
 * at most {@code restoreTokens}) is rendered in front of it. Tokenized as transformers'
 * {@code apply_chat_template(tokenize=True)} does, without adding special tokens (the template has them).
 */
final class DialoguePrompt {

    /** The two renderings of a turn (see {@link dev.memlong.actors.scheduler.TurnRequest}). */
    record Tokens(int[] resume, int[] fresh, int userTokens) {}

    private final TextTokenizer tokenizer;
    private final Optional<ChatTemplate> template;
    private final int restoreTokens;

    DialoguePrompt(TextTokenizer tokenizer, Optional<ChatTemplate> template, int restoreTokens) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.restoreTokens = restoreTokens;
    }

    Tokens turn(List<ChatMessage> recent, String userText) {
        ChatMessage user = ChatMessage.user(userText);
        String resume = closing(recent) + delta(tail(recent, 2), user);
        List<ChatMessage> restore = restorable(recent);
        List<ChatMessage> withUser = new ArrayList<>(restore);
        withUser.add(user);
        String fresh = render(withUser, true);
        return new Tokens(encode(resume), encode(fresh), encode(userText).length);
    }

    private int[] encode(String text) {
        return tokenizer.encode(text, false);
    }

    /** What the template writes after the last reply's text (generation stopped before it), or "". */
    private String closing(List<ChatMessage> recent) {
        int n = recent.size();
        if (n < 2 || !recent.get(n - 1).role().equals("assistant")) {
            return "";
        }
        List<ChatMessage> question = List.of(recent.get(n - 2));
        String asked = render(question, true) + recent.get(n - 1).content();
        String done = render(recent.subList(n - 2, n), false);
        return done.startsWith(asked) ? done.substring(asked.length()) : "";
    }

    /** What rendering {@code user} after {@code context} adds to the rendering of {@code context}. */
    private String delta(List<ChatMessage> context, ChatMessage user) {
        List<ChatMessage> withUser = new ArrayList<>(context);
        withUser.add(user);
        String full = render(withUser, true);
        if (context.isEmpty()) {
            return full;
        }
        String before = render(context, false);
        return full.startsWith(before) ? full.substring(before.length()) : render(List.of(user), true);
    }

    /** The longest suffix of whole messages, starting at a user message, whose rendering fits the budget. */
    private List<ChatMessage> restorable(List<ChatMessage> recent) {
        List<ChatMessage> best = List.of();
        for (int start = recent.size() - 1; start >= 0; start--) {
            if (!recent.get(start).role().equals("user")) {
                continue;
            }
            List<ChatMessage> candidate = recent.subList(start, recent.size());
            if (encode(render(candidate, false)).length > restoreTokens) {
                break;
            }
            best = candidate;
        }
        return best;
    }

    private String render(List<ChatMessage> messages, boolean generationPrompt) {
        return ChatRendering.render(template, messages, generationPrompt);
    }

    private static List<ChatMessage> tail(List<ChatMessage> list, int n) {
        return list.subList(Math.max(0, list.size() - n), list.size());
    }
}
