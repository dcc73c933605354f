package dev.memlong.gateway.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The official OpenAI Java SDK as a client of the gateway, streaming and not. */
class OpenAiSdkTest {

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    private static OpenAIClient client(TestGateway gw, String key, String conversation) {
        return OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + gw.server.port() + "/v1")
                .apiKey(key)
                .putHeader("X-Conversation-Id", conversation)
                .maxRetries(0)
                .build();
    }

    @Test
    void officialClientNonStreamingAndStreaming() {
        try (TestGateway gw = new TestGateway("api-keys = [ { key = \"sdk-key-123\", tenant = sdk } ]")) {
            OpenAIClient client = client(gw, "sdk-key-123", "sdk-conv");
            try {
                List<Model> models = client.models().list().data();
                assertEquals("memlong-echo", models.get(0).id());

                ChatCompletion first = client.chat().completions().create(ChatCompletionCreateParams.builder()
                        .model(ChatModel.of("memlong-echo"))
                        .addSystemMessage("You are terse.")
                        .addUserMessage("my cat is named Tom")
                        .build());
                assertEquals("echo: my cat is named Tom", first.choices().get(0).message().content().orElseThrow());
                assertEquals(ChatCompletion.Choice.FinishReason.STOP, first.choices().get(0).finishReason());
                assertEquals(6, first.usage().orElseThrow().completionTokens());

                // the whole history again plus a new question: only the question is a new turn
                ChatCompletionCreateParams second = ChatCompletionCreateParams.builder()
                        .model(ChatModel.of("memlong-echo"))
                        .addSystemMessage("You are terse.")
                        .addUserMessage("my cat is named Tom")
                        .addAssistantMessage("echo: my cat is named Tom")
                        .addUserMessage("what is my cat named")
                        .maxCompletionTokens(50)
                        .build();
                String streamed;
                try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(second)) {
                    streamed = stream.stream()
                            .flatMap(chunk -> chunk.choices().stream())
                            .map(choice -> choice.delta().content().orElse(""))
                            .collect(Collectors.joining());
                }
                assertEquals("echo: what is my cat named", streamed);
                assertEquals(2, gw.backend.turnsStarted());

                OpenAIClient wrongKey = client(gw, "not-the-key", "sdk-conv");
                try {
                    OpenAIServiceException e = assertThrows(OpenAIServiceException.class,
                            () -> wrongKey.chat().completions().create(second));
                    assertEquals(401, e.statusCode());
                } finally {
                    wrongKey.close();
                }
            } finally {
                client.close();
            }
        }
    }
}
