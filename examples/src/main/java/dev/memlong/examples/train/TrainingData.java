package dev.memlong.examples.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Training documents from files: a {@code .jsonl} file holds one dialogue per line
 * ({@code {"messages":[{"role":"user","content":"..."}, ...]}}, rendered with the model's chat template, or as
 * {@code role: content} lines without one); any other file is one plain-text document. A directory is read
 * recursively, in name order.
 */
public final class TrainingData {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingData() {}

    public static List<int[]> read(List<Path> paths, TextTokenizer tokenizer, Optional<ChatTemplate> template)
            throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).sorted().forEach(files::add);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new IllegalArgumentException("no such data file or directory: " + p);
            }
        }
        List<int[]> docs = new ArrayList<>();
        for (Path f : files) {
            if (f.toString().endsWith(".jsonl")) {
                for (String line : Files.readAllLines(f)) {
                    if (!line.isBlank()) {
                        docs.add(tokenizer.encode(render(messages(JSON.readTree(line), f), template), false));
                    }
                }
            } else {
                docs.add(tokenizer.encode(Files.readString(f), true));
            }
        }
        return docs;
    }

    static List<ChatMessage> messages(JsonNode line, Path file) {
        JsonNode msgs = line.isArray() ? line : line.path("messages");
        if (!msgs.isArray() || msgs.isEmpty()) {
            throw new IllegalArgumentException(file + ": a JSONL line must be {\"messages\": [...]} or an array of messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        msgs.forEach(m -> out.add(new ChatMessage(m.path("role").asText(), m.path("content").asText())));
        return out;
    }

    /** A dialogue as the model sees it. */
    public static String render(List<ChatMessage> dialogue, Optional<ChatTemplate> template) {
        if (template.isPresent()) {
            return template.get().render(dialogue, false);
        }
        StringBuilder sb = new StringBuilder();
        dialogue.forEach(m -> sb.append(m.role()).append(": ").append(m.content()).append('\n'));
        return sb.toString();
    }

    /** A dialogue as one JSONL line. */
    public static String jsonl(List<ChatMessage> dialogue) {
        var root = JSON.createObjectNode();
        var arr = root.putArray("messages");
        dialogue.forEach(m -> arr.addObject().put("role", m.role()).put("content", m.content()));
        return root.toString();
    }
}
