package dev.memlong.gateway.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.gateway.backend.ChatReply;

import java.util.List;

import static dev.memlong.gateway.server.HttpResponses.JSON;

/**
 * OpenAI response objects: {@code chat.completion}, {@code chat.completion.chunk} and the model list. Replies
 * also carry a {@code memlong} object (retrieved chunks, timings), which OpenAI clients ignore.
 */
final class OpenAiJson {

    private OpenAiJson() {
    }

    static ObjectNode completion(String id, long created, String model, ChatReply reply) {
        ObjectNode root = head(id, "chat.completion", created, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", reply.text());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reply));
        root.set("usage", usage(reply));
        root.set("memlong", extension(reply));
        return root;
    }

    /** A chunk with a content delta (and the role on the first one). */
    static ObjectNode deltaChunk(String id, long created, String model, String text, boolean first) {
        ObjectNode root = head(id, "chat.completion.chunk", created, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (first) {
            delta.put("role", "assistant");
        }
        delta.put("content", text);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    /** The chunk that ends the choice, with the finish reason and the memlong extension. */
    static ObjectNode finishChunk(String id, long created, String model, ChatReply reply) {
        ObjectNode root = head(id, "chat.completion.chunk", created, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reply));
        root.set("memlong", extension(reply));
        return root;
    }

    /** The usage chunk of {@code stream_options.include_usage}: no choices. */
    static ObjectNode usageChunk(String id, long created, String model, ChatReply reply) {
        ObjectNode root = head(id, "chat.completion.chunk", created, model);
        root.putArray("choices");
        root.set("usage", usage(reply));
        return root;
    }

    static ObjectNode models(List<String> ids, long created) {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String id : ids) {
            ObjectNode m = data.addObject();
            m.put("id", id);
            m.put("object", "model");
            m.put("created", created);
            m.put("owned_by", "memlong");
        }
        return root;
    }

    private static ObjectNode head(String id, String object, long created, String model) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private static String finishReason(ChatReply reply) {
        return reply.finish() == ChatReply.Finish.LENGTH ? "length" : "stop";
    }

    private static ObjectNode usage(ChatReply reply) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", reply.promptTokens());
        u.put("completion_tokens", reply.completionTokens());
        u.put("total_tokens", reply.promptTokens() + reply.completionTokens());
        return u;
    }

    private static ObjectNode extension(ChatReply reply) {
        ObjectNode ext = JSON.createObjectNode();
        ArrayNode retrieved = ext.putArray("retrieved");
        for (ChatReply.Retrieved r : reply.retrieved()) {
            ObjectNode c = retrieved.addObject();
            c.put("seq", r.seq());
            c.put("score", r.score());
            c.put("text", r.text());
        }
        ext.put("ttft_ms", reply.timeToFirstToken().toNanos() / 1e6);
        ext.put("tokens_per_second", reply.tokensPerSecond());
        ext.put("memory_tokens", reply.memoryTokens());
        ext.put("window_tokens", reply.windowTokens());
        return ext;
    }
}
