package dev.memlong.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chat-template", mixinStandardHelpOptions = true, description = "Renders a conversation with the model's chat template: {\"text\":\"...\",\"ids\":[...]}")
final class ChatTemplateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    Path model;

    @Option(names = "--messages", required = true, paramLabel = "FILE.json",
            description = "a JSON array of {\"role\":...,\"content\":...} (or an object with a \"messages\" array)")
    Path messages;

    @Option(names = "--add-generation-prompt", description = "open the assistant's turn at the end")
    boolean addGenerationPrompt;

    @Override
    public Integer call() {
        List<Map<String, Object>> list = readMessages();
        ChatTemplate template = ChatTemplate.open(model);
        String text = template.render(list, addGenerationPrompt, Map.of());
        try (TextTokenizer tokenizer = Tokenizers.open(model)) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("text", text);
            out.put("ids", tokenizer.encode(text, false));
            Json.print(out);
        }
        return 0;
    }

    private List<Map<String, Object>> readMessages() {
        JsonNode root;
        try {
            root = Json.mapper().readTree(messages.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read messages from " + messages + ": " + e.getMessage(), e);
        }
        JsonNode array = root != null && root.isObject() ? root.get("messages") : root;
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException(messages + " must hold a JSON array of messages");
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (JsonNode m : array) {
            if (!m.isObject() || !m.path("role").isTextual() || !m.has("content")) {
                throw new IllegalArgumentException(messages + ": every message needs a string \"role\" and a \"content\"");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> map = Json.mapper().convertValue(m, LinkedHashMap.class);
            list.add(map);
        }
        return list;
    }
}
