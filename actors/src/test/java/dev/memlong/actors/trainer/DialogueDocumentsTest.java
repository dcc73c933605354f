package dev.memlong.actors.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.ActorTestSupport;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.TrainedRange;
import dev.memlong.storage.Role;
import dev.memlong.storage.TurnCommit;
import dev.memlong.storage.TurnMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A round's data: the dialogue since the cursor, rendered as the model read it, split by conversation. */
class DialogueDocumentsTest {

    @TempDir
    Path data;

    private static ConversationKey conversation(ConversationStore store, String tenant, String id, String model) {
        ConversationKey key = new ConversationKey(tenant, id);
        store.openConversation(key, ConversationSpec.of(model, ActorTestSupport.layout()));
        return key;
    }

    @Test
    void documentsAreTheNewDialogueInTheChatTemplateAndTheSplitIsStable() {
        try (ConversationStore store = ConversationStore.open(StorageSettings.from(ConfigFactory.load(
                ActorTestSupport.config(data, ""))));
             TextTokenizer tokenizer = Tokenizers.open(ActorTestSupport.model())) {
            ConversationKey a = conversation(store, "t", "a", "m");
            store.commitTurn(a, TurnCommit.of("Hi.", 2, "Hello!", 2, List.of()));
            store.commitTurn(a, TurnCommit.of("Bye.", 2, "Goodbye!", 2, List.of()));
            store.markTrained(List.of(new TrainedRange(a, 0, 2, store.conversation(a).orElseThrow().createdAtMs(),
                    false)));
            for (int i = 0; i < 6; i++) {
                ConversationKey k = conversation(store, "t", "c" + i, "m");
                store.commitTurn(k, TurnCommit.of("Question " + i, 2, "Answer " + i, 2, List.of()));
            }
            ConversationKey other = conversation(store, "t", "other-model", "another-model");
            store.commitTurn(other, TurnCommit.of("x", 1, "y", 1, List.of()));
            ConversationKey optedOut = conversation(store, "t", "opted-out", "m");
            store.commitTurn(optedOut, TurnCommit.of("x", 1, "y", 1, List.of()));
            store.setTrainingOptOut(optedOut, true);

            DialogueDocuments docs = new DialogueDocuments(store, "m", tokenizer, ChatTemplate.find(
                    ActorTestSupport.model()), 0.3);
            DialogueDocuments.Split split = docs.read(Set.of(new ConversationKey("t", "c5")));

            List<DialogueDocuments.Document> all = new java.util.ArrayList<>(split.train());
            all.addAll(split.heldout());
            assertEquals(6, all.size(), "a and c0..c4: not c5 (excluded), another model's, or an opted-out one");
            DialogueDocuments.Document docA = all.stream().filter(d -> d.key().equals(a)).findFirst().orElseThrow();
            assertEquals(2, docA.range().fromSeq(), "only what came after the cursor");
            assertEquals(4, docA.range().toSeq());
            assertArrayEquals(tokenizer.encode("<|user|>\nBye.<|end|>\n<|assistant|>\nGoodbye!<|end|>\n", false),
                    docA.tokens(), "the fixture's chat template, as the turns were fed");
            for (DialogueDocuments.Document d : split.heldout()) {
                assertTrue(d.range().heldout());
                assertTrue(DialogueDocuments.heldoutHash(d.key()) < 0.3 || split.heldout().size() == 1);
            }
            split.train().forEach(d -> assertTrue(!d.range().heldout()));
            // the same split every time
            DialogueDocuments.Split again = docs.read(Set.of(new ConversationKey("t", "c5")));
            assertEquals(split.heldout().stream().map(DialogueDocuments.Document::key).toList(),
                    again.heldout().stream().map(DialogueDocuments.Document::key).toList());
            assertTrue(!split.heldout().isEmpty() && !split.train().isEmpty());
        }
    }

    /** A turn that sets the system prompt, as the conversation actor commits it: system, user, assistant. */
    private static void turnWithSystemPrompt(ConversationStore store, ConversationKey key, String system,
                                             String user, String assistant) {
        store.commitTurn(key, new TurnCommit(List.of(new TurnMessage(Role.SYSTEM, system, 0),
                new TurnMessage(Role.USER, user, 2), new TurnMessage(Role.ASSISTANT, assistant, 2)), List.of()));
    }

    @Test
    void systemMessagesAreRenderedWithTheSystemRoleWhereTheyOccurred() {
        try (ConversationStore store = ConversationStore.open(StorageSettings.from(ConfigFactory.load(
                ActorTestSupport.config(data, ""))));
             TextTokenizer tokenizer = Tokenizers.open(ActorTestSupport.model())) {
            ConversationKey a = conversation(store, "t", "a", "m");
            turnWithSystemPrompt(store, a, "Be brief.", "Hi.", "Hello!");
            store.commitTurn(a, TurnCommit.of("Bye.", 2, "Goodbye!", 2, List.of()));
            turnWithSystemPrompt(store, a, "Be a pirate.", "Again?", "Arr!");
            ConversationKey onlySystem = conversation(store, "t", "only-system", "m");
            store.appendTurn(onlySystem, new TurnMessage(Role.SYSTEM, "Be kind.", 0));

            DialogueDocuments docs = new DialogueDocuments(store, "m", tokenizer, ChatTemplate.find(
                    ActorTestSupport.model()), 0.0);
            List<DialogueDocuments.Document> all = all(docs.read(Set.of()));
            assertEquals(List.of(a), all.stream().map(DialogueDocuments.Document::key).toList(),
                    "a system message alone is no document");
            assertEquals(0, all.get(0).range().fromSeq());
            assertEquals(8, all.get(0).range().toSeq(), "system messages are part of the range");
            assertArrayEquals(tokenizer.encode("<|system|>\nBe brief.<|end|>\n<|user|>\nHi.<|end|>\n"
                    + "<|assistant|>\nHello!<|end|>\n<|user|>\nBye.<|end|>\n<|assistant|>\nGoodbye!<|end|>\n"
                    + "<|system|>\nBe a pirate.<|end|>\n<|user|>\nAgain?<|end|>\n<|assistant|>\nArr!<|end|>\n",
                    false), all.get(0).tokens(), "each system prompt right before the user message that set it");
        }
    }

    @Test
    void aTemplateThatRefusesSystemMessagesNeverFailsTheRound() {
        try (ConversationStore store = ConversationStore.open(StorageSettings.from(ConfigFactory.load(
                ActorTestSupport.config(data, ""))));
             TextTokenizer tokenizer = Tokenizers.open(ActorTestSupport.model())) {
            ConversationKey late = conversation(store, "t", "late", "m");
            store.commitTurn(late, TurnCommit.of("Hi.", 2, "Hello!", 2, List.of()));
            turnWithSystemPrompt(store, late, "Be brief.", "Bye.", "Goodbye!");
            ConversationKey plain = conversation(store, "t", "plain", "m");
            store.commitTurn(plain, TurnCommit.of("Hi.", 2, "Hello!", 2, List.of()));

            // a system message only first, as several templates insist
            ChatTemplate firstOnly = ChatTemplate.of("""
                    {% for m in messages %}{% if m['role'] == 'system' and not loop.first %}\
                    {{ raise_exception('system only first') }}{% endif %}[{{ m['role'] }}] {{ m['content'] }}
                    {% endfor %}""", "test", Map.of());
            List<DialogueDocuments.Document> docs = all(new DialogueDocuments(store, "m", tokenizer,
                    Optional.of(firstOnly), 0.0).read(Set.of()));
            assertEquals(2, docs.size());
            DialogueDocuments.Document lateDoc = docs.stream().filter(d -> d.key().equals(late)).findFirst()
                    .orElseThrow();
            assertArrayEquals(tokenizer.encode("[user] Hi.\n[assistant] Hello!\n[user] Bye.\n[assistant] Goodbye!\n",
                    false), lateDoc.tokens(), "rendered without the system message it refuses");
            assertEquals(5, lateDoc.range().toSeq());

            // a template that cannot render the dialogue at all leaves the conversation out, not the round
            ChatTemplate broken = ChatTemplate.of("""
                    {% for m in messages %}{% if m['content'] == 'Bye.' %}{{ raise_exception('no') }}{% endif %}\
                    {{ m['content'] }}
                    {% endfor %}""", "test", Map.of());
            List<DialogueDocuments.Document> rest = all(new DialogueDocuments(store, "m", tokenizer,
                    Optional.of(broken), 0.0).read(Set.of()));
            assertEquals(List.of(plain), rest.stream().map(DialogueDocuments.Document::key).toList());
        }
    }

    private static List<DialogueDocuments.Document> all(DialogueDocuments.Split split) {
        List<DialogueDocuments.Document> all = new java.util.ArrayList<>(split.train());
        all.addAll(split.heldout());
        return all;
    }

    @Test
    void theHashSpreadsConversationsEvenly() {
        int below = 0;
        for (int i = 0; i < 10_000; i++) {
            double h = DialogueDocuments.heldoutHash(new ConversationKey("tenant", "user-" + i));
            assertTrue(h >= 0 && h < 1);
            below += h < 0.1 ? 1 : 0;
        }
        assertTrue(below > 900 && below < 1100, below + " of 10,000 below 0.1");
    }
}
