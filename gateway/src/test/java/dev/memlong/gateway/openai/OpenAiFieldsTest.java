package dev.memlong.gateway.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.gateway.backend.echo.EchoConversation;
import dev.memlong.gateway.testing.TestGateway;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI request fields a demanding client sends: system messages reach the backend as the conversation's
 * system prompt; fields the runtime cannot honour are refused with a 400 naming the parameter; harmless defaults
 * pass; usage adds up.
 */
class OpenAiFieldsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    private TestGateway gw;

    @BeforeEach
    void start() {
        gw = new TestGateway("max-body-bytes = 16k, max-message-chars = 1000");
    }

    @AfterEach
    void stop() {
        gw.close();
    }

    private HttpResponse<String> post(String conversation, String extraFields, String messages) throws Exception {
        String body = "{\"model\":\"memlong-echo\"," + extraFields + (extraFields.isEmpty() ? "" : ",")
                + "\"messages\":" + messages + "}";
        return http.send(HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
                .header("X-Conversation-Id", conversation).build(), HttpResponse.BodyHandlers.ofString());
    }

    private EchoConversation echo(String id) {
        return (EchoConversation) gw.backend.conversation("local", id);
    }

    @Test
    void systemAndDeveloperMessagesBecomeTheConversationsSystemPrompt() throws Exception {
        HttpResponse<String> r = post("sys", "", """
                [{"role":"system","content":"Answer like a pirate."},
                 {"role":"developer","content":[{"type":"text","text":"Keep it short."}]},
                 {"role":"user","content":"hello there"}]""");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("echo: hello there", JSON.readTree(r.body()).at("/choices/0/message/content").asText());
        assertEquals("Answer like a pirate.\n\nKeep it short.", echo("sys").systemPrompt());

        HttpResponse<String> none = post("plain", "", "[{\"role\":\"user\",\"content\":\"hi\"}]");
        assertEquals(200, none.statusCode(), none.body());
        assertNull(echo("plain").systemPrompt(), "no system message: none is set");
    }

    @Test
    void fieldsTheRuntimeCannotHonourAreRefusedNamingTheParameter() throws Exception {
        String user = "[{\"role\":\"user\",\"content\":\"hi\"}]";
        Map<String, String> refused = Map.of(
                "\"n\":2", "n",
                "\"logprobs\":true", "logprobs",
                "\"top_logprobs\":3", "top_logprobs",
                "\"response_format\":{\"type\":\"json_object\"}", "response_format",
                "\"frequency_penalty\":0.5", "frequency_penalty",
                "\"presence_penalty\":-1", "presence_penalty",
                "\"logit_bias\":{\"50256\":-100}", "logit_bias",
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]", "tools",
                "\"modalities\":[\"text\",\"audio\"]", "modalities",
                "\"temperature\":\"hot\"", "temperature");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            HttpResponse<String> r = post("refused", e.getKey(), user);
            assertEquals(400, r.statusCode(), e.getKey() + ": " + r.body());
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertEquals("invalid_request_error", error.get("type").asText());
            assertEquals("invalid", error.get("code").asText());
            assertEquals(e.getValue(), error.get("param").asText(), r.body());
        }
        assertEquals(0, gw.backend.turnsStarted(), "nothing refused reached the backend");

        // the same fields at their defaults are fine, and the usual ones are taken
        HttpResponse<String> ok = post("accepted", """
                "n":1,"logprobs":false,"response_format":{"type":"text"},"frequency_penalty":0,"presence_penalty":0,
                "logit_bias":{},"tools":[],"modalities":["text"],"temperature":0.2,"top_p":0.5,"seed":7,
                "stop":["zzz"],"max_completion_tokens":3,"user":"someone","metadata":{"k":"v"},"store":false""",
                "[{\"role\":\"user\",\"content\":\"one two three four\"}]");
        assertEquals(200, ok.statusCode(), ok.body());
        JsonNode body = JSON.readTree(ok.body());
        assertEquals("echo: one two", body.at("/choices/0/message/content").asText(), "3 tokens: max_completion_tokens");
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        JsonNode usage = body.get("usage");
        assertEquals(3, usage.get("completion_tokens").asInt());
        assertEquals(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt(),
                usage.get("total_tokens").asInt());
    }
}
