package dev.memlong.gateway.openai;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatTurn;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LogAlignmentTest {

    private static List<ChatTurn> log(String... userAssistant) {
        List<ChatTurn> out = new ArrayList<>();
        for (int i = 0; i < userAssistant.length; i++) {
            out.add(new ChatTurn(i, i % 2 == 0 ? ChatTurn.Role.USER : ChatTurn.Role.ASSISTANT, userAssistant[i]));
        }
        return out;
    }

    private static List<CompletionRequest.Message> msgs(String... roleText) {
        List<CompletionRequest.Message> out = new ArrayList<>();
        for (int i = 0; i < roleText.length; i += 2) {
            out.add(new CompletionRequest.Message(roleText[i], roleText[i + 1]));
        }
        return out;
    }

    @Test
    void wholeHistoryResent() {
        assertEquals("q2", LogAlignment.newUserText(log("q1", "a1"),
                msgs("user", "q1", "assistant", "a1", "user", "q2")));
    }

    @Test
    void onlyTheLatestPartResent() {
        assertEquals("q3", LogAlignment.newUserText(log("q1", "a1", "q2", "a2"),
                msgs("user", "q2", "assistant", " a2 ", "user", "q3")));
    }

    @Test
    void freshConversationTakesTheTrailingUserMessages() {
        assertEquals("q2\n\nq3", LogAlignment.newUserText(log(),
                msgs("user", "q1", "assistant", "made up", "user", "q2", "user", "q3")));
    }

    @Test
    void theSameQuestionAskedAgainIsNew() {
        assertEquals("hi", LogAlignment.newUserText(log("hi", "hello"), msgs("user", "hi")));
    }

    @Test
    void nothingNewIsInvalid() {
        assertThrows(ChatException.class, () -> LogAlignment.newUserText(log("q1", "a1"),
                msgs("user", "q1", "assistant", "a1")));
        assertThrows(ChatException.class, () -> LogAlignment.newUserText(log(), msgs("assistant", "x")));
    }
}
