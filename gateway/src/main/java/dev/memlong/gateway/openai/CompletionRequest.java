package dev.memlong.gateway.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.turn.RequestedParams;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code /v1/chat/completions} body. Fields it uses are checked for type and range, each failure an
 * {@link ErrorCode#INVALID} naming the field (the OpenAI error's {@code param}). Honoured: {@code messages}
 * (system/developer, user, assistant), {@code model} (required), {@code max_completion_tokens} (or the older
 * {@code max_tokens}), {@code temperature}, {@code top_p}, {@code seed}, {@code stop}, {@code stream},
 * {@code stream_options.include_usage}, {@code user} (the conversation when no header names it), and the
 * non-OpenAI {@code top_k} and {@code repetition_penalty}. Asking for what the runtime cannot do is refused rather
 * than silently ignored: {@code n} other than 1, {@code logprobs}, {@code top_logprobs}, a {@code response_format}
 * other than text, non-zero {@code frequency_penalty} or {@code presence_penalty}, a non-empty {@code logit_bias},
 * {@code tools} or {@code functions}, and output {@code modalities} other than text. Other fields (metadata,
 * store, service_tier, ...) do not change a reply and are ignored.
 *
 * <p>System (and developer) messages set the conversation's system prompt (see
 * {@code ChatConversation.send(String, String, ChatParams)}): their texts, in order, joined by a blank line.
 *
 * @param model        the requested model id (required, non-blank; whether it is served is checked later)
 * @param messages     the user and assistant messages, in order
 * @param systemPrompt the system and developer messages' text, or null when there are none
 * @param stream       answer as server-sent events
 * @param includeUsage with {@code stream}: send a usage chunk before {@code [DONE]}
 * @param user         the {@code user} field, or null
 * @param params       generation parameters
 */
public record CompletionRequest(String model, List<Message> messages, String systemPrompt, boolean stream,
                                boolean includeUsage, String user, RequestedParams params) {

    /** At most this many messages in one request. */
    public static final int MAX_MESSAGES = 1_000;

    /** A user or assistant message. */
    public record Message(String role, String content) {}

    /** Parses a request body, or throws an INVALID {@link ChatException}. */
    public static CompletionRequest parse(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw invalid("the body must be a JSON object");
        }
        JsonNode msgs = body.get("messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
            throw invalidParam("messages", "messages must be a non-empty array");
        }
        if (msgs.size() > MAX_MESSAGES) {
            throw invalidParam("messages", "at most " + MAX_MESSAGES + " messages");
        }
        List<Message> messages = new ArrayList<>();
        List<String> system = new ArrayList<>();
        for (JsonNode m : msgs) {
            if (!m.isObject()) {
                throw invalidParam("messages", "messages[] must be objects with a role and content");
            }
            String role = text(m, "role", true);
            switch (role) {
                case "user", "assistant" -> messages.add(new Message(role, content(m)));
                case "system", "developer" -> system.add(content(m));
                default -> throw invalidParam("messages",
                        "messages[].role \"" + role + "\" is not supported (system, developer, user, assistant)");
            }
        }
        refuseUnsupported(body);
        boolean stream = bool(body, "stream");
        JsonNode opts = body.get("stream_options");
        boolean usage = opts != null && opts.isObject() && bool(opts, "include_usage");
        String maxField = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        Long max = integer(body, maxField);
        RequestedParams params = new RequestedParams(max, number(body, "temperature"), integer(body, "top_k"),
                number(body, "top_p"), number(body, "repetition_penalty"), integer(body, "seed"), stop(body),
                maxField);
        String systemPrompt = system.stream().anyMatch(t -> !t.isBlank()) ? String.join("\n\n", system) : null;
        String user = body.hasNonNull("user") ? text(body, "user", true) : null;
        return new CompletionRequest(model(body), messages, systemPrompt, stream, usage, user, params);
    }

    /**
     * The requested model: required, as OpenAI requires it (a client that names none, or an empty one, learns so
     * rather than talking to whatever is served). Whether it is served is the caller's check.
     */
    private static String model(JsonNode body) {
        JsonNode v = body.get("model");
        if (v == null || v.isNull() || (v.isTextual() && v.asText().isBlank())) {
            throw invalidParam("model", "model is required: the id of a served model (GET /v1/models lists them)");
        }
        return text(body, "model", true);
    }

    /** Refuses requests for what a MemLong conversation cannot produce, naming the parameter. */
    private static void refuseUnsupported(JsonNode body) {
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && (!n.canConvertToInt() || n.asInt() != 1)) {
            throw invalidParam("n", "n must be 1: a conversation produces one reply per turn (each choice would"
                    + " be a different continuation of the same conversation)");
        }
        if (bool(body, "logprobs") || body.hasNonNull("top_logprobs")) {
            throw invalidParam(body.hasNonNull("top_logprobs") ? "top_logprobs" : "logprobs",
                    "logprobs are not supported");
        }
        JsonNode format = body.get("response_format");
        if (format != null && !format.isNull() && !"text".equals(format.path("type").asText())) {
            throw invalidParam("response_format", "response_format " + format.path("type").asText("?")
                    + " is not supported (only text)");
        }
        for (String penalty : List.of("frequency_penalty", "presence_penalty")) {
            Double v = number(body, penalty);
            if (v != null && v != 0) {
                throw invalidParam(penalty, penalty + " is not supported (use repetition_penalty)");
            }
        }
        for (String field : List.of("logit_bias", "tools", "functions")) {
            JsonNode v = body.get(field);
            if (v != null && !v.isNull() && !v.isEmpty()) {
                throw invalidParam(field, field + " are not supported");
            }
        }
        JsonNode modalities = body.get("modalities");
        if (modalities != null && modalities.isArray()) {
            for (JsonNode m : modalities) {
                if (!"text".equals(m.asText())) {
                    throw invalidParam("modalities", "only text output is supported, not " + m.asText());
                }
            }
        }
    }

    private static String content(JsonNode m) {
        JsonNode c = m.get("content");
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw invalidParam("messages", "messages[].content parts must be {\"type\":\"text\",\"text\":...}");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw invalidParam("messages", "messages[].content must be a string or an array of text parts");
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            if (required) {
                throw invalidParam(field, field + " must be a string");
            }
            return null;
        }
        return v.asText();
    }

    private static boolean bool(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw invalidParam(field, field + " must be a boolean");
        }
        return v.asBoolean();
    }

    private static Long integer(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw invalidParam(field, field + " must be an integer");
        }
        return v.asLong();
    }

    private static Double number(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw invalidParam(field, field + " must be a number");
        }
        return v.asDouble();
    }

    private static List<String> stop(JsonNode body) {
        JsonNode v = body.get("stop");
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (v.isArray()) {
            List<String> out = new ArrayList<>();
            for (JsonNode s : v) {
                if (!s.isTextual()) {
                    throw invalidParam("stop", "stop must be a string or an array of strings");
                }
                out.add(s.asText());
            }
            return out;
        }
        throw invalidParam("stop", "stop must be a string or an array of strings");
    }

    private static ChatException invalid(String message) {
        return new ChatException(ErrorCode.INVALID, message);
    }

    private static ChatException invalidParam(String param, String message) {
        return ChatException.invalidParam(param, message);
    }
}
