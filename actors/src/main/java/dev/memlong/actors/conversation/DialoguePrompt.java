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
 * at most {@code restoreTokens}) is rendered in front of it.
 *
 * <p>The system prompt (the chat template's system role) is a property of the conversation: a turn that sets a new
 * one feeds it, rendered as a system message, right before its user message; a rebuilt window starts with the
 * current system prompt, before the recent dialogue, as a template expects it. Tokenized as transformers'
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

    /**
     * @param recent        the recent user and assistant messages, chronological
     * @param systemPrompt  the system prompt that applies from this turn on, or null for none
     * @param systemChanged whether this turn sets it (so the window does not hold it yet)
     */
    Tokens turn(List<ChatMessage> recent, String systemPrompt, boolean systemChanged, String userText) {
        ChatMessage user = ChatMessage.user(userText);
        List<ChatMessage> added = new ArrayList<>();
        if (systemChanged && systemPrompt != null) {
            added.add(ChatMessage.system(systemPrompt));
        }
        added.add(user);
        String resume = closing(recent) + delta(tail(recent, 2), added);
        List<ChatMessage> rebuilt = new ArrayList<>();
        if (systemPrompt != null) {
            rebuilt.add(ChatMessage.system(systemPrompt));
        }
        rebuilt.addAll(restorable(recent));
        rebuilt.add(user);
        String fresh = render(rebuilt, true);
        return new Tokens(encode(resume), encode(fresh), encode(userText).length);
    }

    private int[] encode(String text) {
        return tokenizer.encode(text, false);
    }

    /**
     * What the template writes after the last reply's text (generation stopped before it), or "". Found by rendering
     * the exchange with a placeholder reply: the reply as generated may not render back unchanged (templates trim
     * or otherwise rewrite message content), and comparing against it would lose the closing (an end-of-turn token
     * the model then never sees).
     */
    private String closing(List<ChatMessage> recent) {
        int n = recent.size();
        if (n < 2 || !recent.get(n - 1).role().equals("assistant")) {
            return "";
        }
        String done = render(List.of(recent.get(n - 2), ChatMessage.assistant(REPLY_PLACEHOLDER)), false);
        int at = done.lastIndexOf(REPLY_PLACEHOLDER);
        return at < 0 ? "" : done.substring(at + REPLY_PLACEHOLDER.length());
    }

    /** A reply text no template rewrites (no spaces to trim, no markup) and no user writes. */
    private static final String REPLY_PLACEHOLDER = "MemLongReplyPlaceholder7f3a9c";

    /** What rendering {@code added} after {@code context} adds to the rendering of {@code context}. */
    private String delta(List<ChatMessage> context, List<ChatMessage> added) {
        List<ChatMessage> all = new ArrayList<>(context);
        all.addAll(added);
        String full = render(all, true);
        if (context.isEmpty()) {
            return full;
        }
        String before = render(context, false);
        return full.startsWith(before) ? full.substring(before.length()) : render(added, true);
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
