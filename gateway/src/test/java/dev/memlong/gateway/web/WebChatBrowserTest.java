package dev.memlong.gateway.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.TestGateway;
import dev.memlong.gateway.testing.WebDriverClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web page end to end in headless Chromium: connect, see the memory panel, send a message, watch the reply
 * stream in, see which memory chunk it used, forget. Skipped (not failed) where Chromium is not installed;
 * {@code .ci/run} installs it.
 */
class WebChatBrowserTest {

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    @Test
    void streamsAReplyAndShowsAndForgetsMemory() throws Exception {
        assumeTrue(WebDriverClient.available(), "Chromium and chromedriver are not installed "
                + "(apt-get install chromium chromium-driver; .ci/run does): skipping the browser test");
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(80), 64);
             WebDriverClient browser = new WebDriverClient()) {
            gw.backend.conversation("local", "web-demo").send("my dog is called Rex", ChatParams.greedy(32))
                    .toCompletableFuture().join();
            browser.open("http://127.0.0.1:" + gw.server.port() + "/");
            browser.click("#connect");
            waitUntil(() -> browser.script("return document.getElementById('status').textContent").asText()
                    .startsWith("connected: local / web-demo"));
            waitUntil(() -> browser.script("return document.querySelectorAll('#memory-list li').length").asInt() == 1);
            assertTrue(browser.script("return document.querySelector('#memory-list li').textContent").asText()
                    .contains("my dog is called Rex"));
            assertEquals(2, browser.script("return document.querySelectorAll('#messages .msg').length").asInt(),
                    "the stored dialogue is shown on open");

            browser.type("#system-prompt", "Answer briefly.");
            browser.type("#input", "what is my dog called");
            browser.click("#send");
            String lastReply = "const m = document.querySelectorAll('#messages .msg.assistant');"
                    + "const li = m[m.length - 1]; return {text: li.querySelector('.text').textContent,"
                    + " done: li.dataset.done === 'true'};";
            boolean[] sawPartial = {false};
            waitUntil(() -> {
                JsonNode r = browser.script(lastReply);
                String text = r.get("text").asText();
                if (!r.get("done").asBoolean() && !text.isEmpty() && !text.equals("echo: what is my dog called")) {
                    sawPartial[0] = true;
                }
                return r.get("done").asBoolean();
            });
            assertTrue(sawPartial[0], "the reply should appear token by token before it is done");
            assertEquals("echo: what is my dog called", browser.script(lastReply).get("text").asText());
            String used = browser.script("const m = document.querySelectorAll('#messages .msg.assistant');"
                    + "return m[m.length - 1].querySelector('.used').textContent").asText();
            assertTrue(used.contains("my dog is called Rex"), used);
            assertEquals("Answer briefly.", ((dev.memlong.gateway.backend.echo.EchoConversation)
                    gw.backend.conversation("local", "web-demo")).systemPrompt(), "the page sent its system prompt");
            waitUntil(() -> browser.script("return document.querySelectorAll('#memory-list li').length").asInt() == 2);

            browser.click("#forget");
            browser.acceptAlert();
            waitUntil(() -> browser.script("return document.querySelectorAll('#memory-list li').length").asInt() == 0);
            assertEquals(0, browser.script("return document.querySelectorAll('#messages .msg').length").asInt());
            assertEquals(1, gw.backend.forgets());
        }
    }

    private static void waitUntil(Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page did not get there within 20 s");
            }
            Thread.sleep(15);
        }
    }
}
