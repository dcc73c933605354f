package dev.memlong.actors.trainer;

import dev.memlong.actors.conversation.ChatRendering;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.storage.ConversationInfo;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.Role;
import dev.memlong.storage.StorageException;
import dev.memlong.storage.TrainedRange;
import dev.memlong.storage.Turn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round's data: the dialogue committed since the trainer's cursor of each conversation of this model, rendered
 * with the model's chat template (the text the model read when the turns ran) and tokenized as turns are, one
 * document per conversation. Opted-out conversations and {@code excluded} ones are left out.
 *
 * <p>System messages (a conversation's system prompt, stored when a turn sets it) are rendered where they occurred,
 * in the template's system role, right before the user message of the turn that set them: where the model read
 * them when that turn ran. A prompt set before the cursor is not repeated at the top of the document, just as the
 * earlier dialogue is not. A template that refuses a system message there (some accept one only first) gets the
 * document without its system messages; a conversation it cannot render even so is left out of the round (logged;
 * its cursor stays), so one conversation never fails a round. A document without a user or assistant message (only
 * a system message since the cursor) is not one.
 *
 * <p>The held-out split is by conversation, from a hash of its key, so it is the same in every round and the
 * losses before and after a round are measured on the same documents; when the hash holds out no conversation but
 * there are two or more, the one with the smallest hash is held out (and when it holds out all of them, the one
 * with the largest hash trains).
 */
final class DialogueDocuments {

    private static final Logger LOG = LoggerFactory.getLogger(DialogueDocuments.class);

    /** One conversation's new dialogue. */
    record Document(TrainedRange range, int[] tokens) {
        ConversationKey key() {
            return range.key();
        }
    }

    /** The training documents and the held-out ones. */
    record Split(List<Document> train, List<Document> heldout) {
        long trainTokens() {
            return train.stream().mapToLong(d -> d.tokens().length).sum();
        }

        List<TrainedRange> ranges() {
            List<TrainedRange> all = new ArrayList<>();
            train.forEach(d -> all.add(d.range()));
            heldout.forEach(d -> all.add(d.range()));
            return all;
        }
    }

    private final ConversationStore store;
    private final String modelId;
    private final TextTokenizer tokenizer;
    private final Optional<ChatTemplate> template;
    private final double heldoutFraction;

    DialogueDocuments(ConversationStore store, String modelId, TextTokenizer tokenizer,
                      Optional<ChatTemplate> template, double heldoutFraction) {
        this.store = store;
        this.modelId = modelId;
        this.tokenizer = tokenizer;
        this.template = template;
        this.heldoutFraction = heldoutFraction;
    }

    /** Reads and splits the new dialogue of every eligible conversation but {@code excluded}. */
    Split read(Set<ConversationKey> excluded) {
        List<Document> train = new ArrayList<>();
        List<Document> heldout = new ArrayList<>();
        for (ConversationInfo c : store.allConversations()) {
            if (!c.modelId().equals(modelId) || c.trainingOptOut() || excluded.contains(c.key())
                    || c.turnCount() <= c.trainedToSeq()) {
                continue;
            }
            Document d = document(c);
            if (d == null) {
                continue;
            }
            (heldoutHash(c.key()) < heldoutFraction ? heldout : train).add(d);
        }
        // small numbers of conversations: keep both sides non-empty, deterministically
        if (heldout.isEmpty() && train.size() >= 2) {
            Document first = train.stream().min(Comparator.comparingDouble(d -> heldoutHash(d.key()))).orElseThrow();
            train.remove(first);
            heldout.add(first);
        } else if (train.isEmpty() && heldout.size() >= 2) {
            Document last = heldout.stream().max(Comparator.comparingDouble(d -> heldoutHash(d.key()))).orElseThrow();
            heldout.remove(last);
            train.add(last);
        }
        return new Split(List.copyOf(train), heldout.stream().map(DialogueDocuments::heldout).toList());
    }

    private static Document heldout(Document d) {
        return new Document(d.range().withHeldout(true), d.tokens());
    }

    /** The conversation's messages from its cursor on, or null if it has none (or was forgotten meanwhile). */
    private Document document(ConversationInfo c) {
        List<Turn> turns;
        try {
            turns = store.history(c.key(), c.trainedToSeq(), Integer.MAX_VALUE);
        } catch (StorageException e) {
            if (e.kind() == StorageException.Kind.NOT_FOUND) {
                return null; // forgotten since the listing
            }
            throw e;
        }
        if (turns.isEmpty()) {
            return null;
        }
        if (turns.stream().allMatch(t -> t.role() == Role.SYSTEM)) {
            return null;
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (Turn t : turns) {
            messages.add(new ChatMessage(t.role().name().toLowerCase(Locale.ROOT), t.text()));
        }
        String text = render(c.key(), messages);
        int[] tokens = text == null ? new int[0] : tokenizer.encode(text, false);
        if (tokens.length < 2) {
            return null;
        }
        // with the conversation's incarnation: a range never moves the cursor of a conversation re-created after it
        TrainedRange range = TrainedRange.of(c, turns.get(0).seq(), turns.get(turns.size() - 1).seq() + 1, false);
        return new Document(range, tokens);
    }

    /** The messages rendered as the class comment says, or null when the template refuses them. */
    private String render(ConversationKey key, List<ChatMessage> messages) {
        try {
            return ChatRendering.render(template, messages, false);
        } catch (RuntimeException refused) {
            List<ChatMessage> dialogue = messages.stream().filter(m -> !m.role().equals("system")).toList();
            if (dialogue.size() < messages.size()) {
                try {
                    String text = ChatRendering.render(template, dialogue, false);
                    LOG.info("conversation {}: the chat template refuses its system messages where they occurred "
                            + "({}); trained on without them", key, refused.getMessage());
                    return text;
                } catch (RuntimeException alsoRefused) {
                    refused.addSuppressed(alsoRefused);
                }
            }
            LOG.warn("conversation {}: the chat template cannot render its new dialogue; left out of this round",
                    key, refused);
            return null;
        }
    }

    /** A stable number in [0, 1) for a conversation: FNV-1a 64 of tenant and id, the top 53 bits. */
    static double heldoutHash(ConversationKey key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (key.tenant() + '\u0000' + key.conversationId()).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        // FNV's low bits mix poorly for short keys: finish with a 64-bit avalanche before taking the top bits
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (h >>> 11) * 0x1.0p-53;
    }
}
