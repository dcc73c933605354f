package dev.memlong.gateway.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.turn.RequestedParams;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code /v1/chat/completions} body. Fields the gateway does not use are ignored; fields it uses are
 * checked for type and range, each failure an {@link ErrorCode#INVALID} naming the field.
 *
 * @param model        the requested model id (may be empty: the default)
 * @param messages     the user and assistant messages, in order (system and developer messages dropped)
 * @param stream       answer as server-sent events
 * @param includeUsage with {@code stream}: send a usage chunk before {@code [DONE]}
 * @param user         the {@code user} field, or null
 * @param params       generation parameters
 */
public record CompletionRequest(String model, List<Message> messages, boolean stream, boolean includeUsage,
                                String user, RequestedParams params) {

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
            throw invalid("messages must be a non-empty array");
        }
        if (msgs.size() > MAX_MESSAGES) {
            throw invalid("at most " + MAX_MESSAGES + " messages");
        }
        List<Message> messages = new ArrayList<>();
        for (JsonNode m : msgs) {
            String role = text(m, "role", true);
            switch (role) {
                case "user", "assistant" -> messages.add(new Message(role, content(m)));
                case "system", "developer" -> content(m); // checked, not used: the runtime owns the prompt
                default -> throw invalid("messages[].role \"" + role + "\" is not supported (user, assistant, system)");
            }
        }
        if (body.hasNonNull("n") && (!body.get("n").canConvertToInt() || body.get("n").asInt() != 1)) {
            throw invalid("n must be 1");
        }
        if (body.hasNonNull("tools") && !body.get("tools").isEmpty()) {
            throw invalid("tools are not supported");
        }
        boolean stream = bool(body, "stream");
        JsonNode opts = body.get("stream_options");
        boolean usage = opts != null && opts.isObject() && bool(opts, "include_usage");
        Long max = integer(body, "max_completion_tokens");
        if (max == null) {
            max = integer(body, "max_tokens");
        }
        RequestedParams params = new RequestedParams(max, number(body, "temperature"), integer(body, "top_k"),
                number(body, "top_p"), number(body, "repetition_penalty"), integer(body, "seed"), stop(body));
        return new CompletionRequest(body.hasNonNull("model") ? text(body, "model", true) : "", messages, stream,
                usage, body.hasNonNull("user") ? text(body, "user", true) : null, params);
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
                    throw invalid("messages[].content parts must be {\"type\":\"text\",\"text\":...}");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw invalid("messages[].content must be a string or an array of text parts");
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            if (required) {
                throw invalid(field + " must be a string");
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
            throw invalid(field + " must be a boolean");
        }
        return v.asBoolean();
    }

    private static Long integer(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw invalid(field + " must be an integer");
        }
        return v.asLong();
    }

    private static Double number(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw invalid(field + " must be a number");
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
                    throw invalid("stop must be a string or an array of strings");
                }
                out.add(s.asText());
            }
            return out;
        }
        throw invalid("stop must be a string or an array of strings");
    }

    private static ChatException invalid(String message) {
        return new ChatException(ErrorCode.INVALID, message);
    }
}
