package dev.memlong.examples.train;

import com.fasterxml.jackson.core.JsonProcessingException;
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
import java.util.Set;
import java.util.stream.Stream;

/**
 * Training documents from files: a {@code .jsonl} file holds one dialogue per line
 * ({@code {"messages":[{"role":"user","content":"..."}, ...]}}, rendered with the model's chat template, or as
 * {@code role: content} lines without one); any other file is one plain-text document. A directory is read
 * recursively, in name order. Every message needs a text {@code role} (system, user or assistant) and a text
 * {@code content}: a file of another layout (ShareGPT's {@code from}/{@code value}) would otherwise train on empty
 * turns. A line that breaks this fails with a {@link BadLine} naming the file and line.
 */
public final class TrainingData {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");

    /** A JSONL line that is not a dialogue; the message is {@code file:line: what is wrong}, one line. */
    public static final class BadLine extends IllegalArgumentException {
        BadLine(Path file, int line, String problem) {
            super(file + ":" + line + ": " + problem);
        }
    }

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
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (!lines.get(i).isBlank()) {
                        docs.add(tokenizer.encode(render(dialogue(lines.get(i), f, i + 1), template), false));
                    }
                }
            } else {
                docs.add(tokenizer.encode(Files.readString(f), true));
            }
        }
        return docs;
    }

    /** Line {@code number} (from 1) of {@code file} as a dialogue. */
    static List<ChatMessage> dialogue(String line, Path file, int number) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadLine(file, number, "not JSON: " + e.getOriginalMessage());
        }
        JsonNode msgs = root.isArray() ? root : root.path("messages");
        if (!msgs.isArray() || msgs.isEmpty()) {
            throw new BadLine(file, number, "a JSONL line must be {\"messages\": [...]} or an array of messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            JsonNode role = m.path("role");
            JsonNode content = m.path("content");
            if (!role.isTextual() || !ROLES.contains(role.asText())) {
                throw new BadLine(file, number, "message " + (i + 1) + " needs a \"role\" of system, user or assistant, "
                        + "got " + (role.isMissingNode() ? "none" : role.toString()));
            }
            if (!content.isTextual()) {
                throw new BadLine(file, number, "message " + (i + 1) + " needs a text \"content\", got "
                        + (content.isMissingNode() ? "none" : content.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
            }
            out.add(new ChatMessage(role.asText(), content.asText()));
        }
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
