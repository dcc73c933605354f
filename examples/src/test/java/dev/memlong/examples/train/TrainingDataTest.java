package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.memlong.runtime.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** JSONL dialogues: every message a text role and content, errors naming the file and line. */
class TrainingDataTest {

    private static final Path FILE = Path.of("data", "chats.jsonl");

    private static String problem(String line) {
        return assertThrows(TrainingData.BadLine.class, () -> TrainingData.dialogue(line, FILE, 3)).getMessage();
    }

    @Test
    void readsRoleAndContent() {
        assertEquals(List.of(ChatMessage.user("hi"), ChatMessage.assistant("hello")), TrainingData.dialogue(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}",
                FILE, 1));
        assertEquals(List.of(ChatMessage.system("")), TrainingData.dialogue("[{\"role\":\"system\",\"content\":\"\"}]", FILE, 1));
    }

    @Test
    void messagesWithoutTextRoleOrContentAreErrorsNamingFileAndLine() {
        // ShareGPT's layout: used as it was, every turn would have trained as an empty one
        assertEquals(FILE + ":3: message 1 needs a \"role\" of system, user or assistant, got none",
                problem("{\"messages\":[{\"from\":\"human\",\"value\":\"hi\"}]}"));
        assertEquals(FILE + ":3: message 2 needs a \"role\" of system, user or assistant, got \"gpt\"",
                problem("[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"gpt\",\"content\":\"x\"}]"));
        assertEquals(FILE + ":3: message 1 needs a text \"content\", got none", problem("[{\"role\":\"user\"}]"));
        assertEquals(FILE + ":3: message 1 needs a text \"content\", got array",
                problem("[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]"));
        assertEquals(FILE + ":3: a JSONL line must be {\"messages\": [...]} or an array of messages", problem("{}"));
        String broken = problem("{\"messages\": [");
        assertEquals(true, broken.startsWith(FILE + ":3: not JSON: "), broken);
        assertEquals(1, broken.lines().count(), broken);
    }
}
