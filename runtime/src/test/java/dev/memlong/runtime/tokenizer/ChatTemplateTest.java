package dev.memlong.runtime.tokenizer;

import dev.memlong.runtime.checkpoint.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading chat templates from model directories, transformers' functions, and the errors. */
class ChatTemplateTest {

    private static final List<ChatMessage> HI = List.of(ChatMessage.user("Hi"));

    @Test
    void chatTemplateJinjaFileWinsOverTheConfig(@TempDir Path dir) throws IOException {
        writeConfig(dir, "\"chat_template\": \"config\"");
        Files.writeString(dir.resolve("chat_template.jinja"), "file {{ messages[0].content }}\n");

        ChatTemplate template = ChatTemplate.open(dir);

        assertEquals("file Hi", template.render(HI, false));
        assertTrue(template.origin().endsWith("chat_template.jinja"));
    }

    @Test
    void aListOfNamedTemplatesUsesDefault(@TempDir Path dir) throws IOException {
        writeConfig(dir, """
                "chat_template": [{"name": "tool_use", "template": "tools"},
                                  {"name": "default", "template": "{{ bos_token }}default"}],
                "bos_token": {"content": "<s>", "lstrip": false, "__type": "AddedToken"}""");

        assertEquals("<s>default", ChatTemplate.open(dir).render(HI, false));
    }

    @Test
    void aModelWithoutTemplateIsACheckpointError(@TempDir Path dir) throws IOException {
        writeConfig(dir, "\"bos_token\": \"<s>\"");

        assertTrue(ChatTemplate.find(dir).isEmpty());
        CheckpointException e = assertThrows(CheckpointException.class, () -> ChatTemplate.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void aSyntaxErrorFailsAtOpenNamingTheFile(@TempDir Path dir) throws IOException {
        writeConfig(dir, "\"chat_template\": \"{% for m in messages %}{{ m.content }}\"");

        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.open(dir));

        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
        assertTrue(e.raisedByTemplate().isEmpty());
    }

    @Test
    void aMalformedExpressionFailsToo() {
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("{{ foo( }}", "inline", Map.of()));
    }

    @Test
    void raiseExceptionBecomesATypedExceptionWithTheTemplatesMessage() {
        ChatTemplate template = ChatTemplate.of("""
                {% for m in messages %}{% if m.role not in ['user', 'assistant'] %}\
                {{ raise_exception('Unknown role: ' + m.role) }}{% endif %}{{ m.content }}{% endfor %}""",
                "inline", Map.of());

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(List.of(new ChatMessage("robot", "beep")), true));

        assertEquals("Unknown role: robot", e.raisedByTemplate().orElseThrow());
        assertTrue(e.getMessage().contains("inline"), e.getMessage());
    }

    @Test
    void strftimeNowFormatsTheLocalDateAsPython() {
        ChatTemplate template = ChatTemplate.of("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %%') }}",
                "inline", Map.of());
        String before = TemplateGlobals.strftime(ZonedDateTime.now(), "%d %b %Y|%Y-%m-%d %%");
        String rendered = template.render(HI, false);
        String after = TemplateGlobals.strftime(ZonedDateTime.now(), "%d %b %Y|%Y-%m-%d %%");

        assertTrue(rendered.equals(before) || rendered.equals(after), rendered);
        assertEquals("05 Mar 2024 Tuesday 14:07:09 PM", TemplateGlobals.strftime(
                ZonedDateTime.of(2024, 3, 5, 14, 7, 9, 0, ZoneId.of("UTC")), "%d %b %Y %A %H:%M:%S %p"));
    }

    @Test
    void extraVariablesReachTheTemplate() {
        ChatTemplate template = ChatTemplate.of(
                "{% if tools %}{{ tools | tojson }}{% endif %}{{ messages[0].name }}", "inline", Map.of());

        String rendered = template.render(List.of(Map.of("role", "user", "content", "x", "name", "ada")), false,
                Map.of("tools", List.of(Map.of("name", "clock"))));

        assertEquals("[{\"name\": \"clock\"}]ada", rendered);
    }

    @Test
    void messageTextIsNeverInterpretedAsTemplate() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0].content }}", "inline", Map.of());

        assertEquals("{{ raise_exception('x') }}{% if %}",
                template.render(List.of(ChatMessage.user("{{ raise_exception('x') }}{% if %}")), false));
    }

    @Test
    void includesCannotReachTheClassPath() {
        assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% include 'logback.xml' %}", "inline", Map.of()).render(HI, false));
    }

    @Test
    void rendersConcurrently() throws Exception {
        ChatTemplate template = ChatTemplate.open(TokenizerFixtures.tinyLlama());
        String expected = template.render(HI, true);
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 100; i++) {
                    if (!expected.equals(template.render(HI, true))) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(0, wrong.get());
    }

    private static void writeConfig(Path dir, String fields) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{" + fields + "}");
    }
}
