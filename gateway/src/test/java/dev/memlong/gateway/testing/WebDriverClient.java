package dev.memlong.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The few W3C WebDriver commands the page test needs, spoken to a local {@code chromedriver} over
 * {@link HttpClient} (no Selenium): a headless Chromium with a fresh profile, its network features off, reaching
 * only 127.0.0.1.
 */
public final class WebDriverClient implements AutoCloseable {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

    private final Process driver;
    private final Path profile;
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    private final String base;
    private final String session;

    /** Whether Chromium and chromedriver are installed. */
    public static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    public WebDriverClient() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        profile = Files.createTempDirectory("memlong-chromium-");
        driver = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromedriver.log").toFile()).start();
        base = "http://127.0.0.1:" + port;
        waitForDriver();
        ObjectNode caps = JSON.createObjectNode();
        ObjectNode always = caps.putObject("capabilities").putObject("alwaysMatch");
        always.put("browserName", "chrome");
        ObjectNode chrome = always.putObject("goog:chromeOptions");
        chrome.put("binary", CHROMIUM.toString());
        var args = chrome.putArray("args");
        for (String a : List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--no-proxy-server",
                "--user-data-dir=" + profile.resolve("profile"))) {
            args.add(a);
        }
        session = call("POST", "/session", caps).get("sessionId").asText();
    }

    private void waitForDriver() throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/status")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline || !driver.isAlive()) {
                throw new IllegalStateException("chromedriver did not start; see " + profile);
            }
            Thread.sleep(100);
        }
    }

    private JsonNode call(String method, String path, JsonNode body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json");
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode value = JSON.readTree(r.body()).path("value");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("WebDriver " + method + " " + path + ": " + r.statusCode() + " " + value);
        }
        return value;
    }

    private String s(String path) {
        return "/session/" + session + path;
    }

    public void open(String url) throws Exception {
        call("POST", s("/url"), JSON.createObjectNode().put("url", url));
    }

    public String find(String css) throws Exception {
        return call("POST", s("/element"), JSON.createObjectNode().put("using", "css selector").put("value", css))
                .get(ELEMENT).asText();
    }

    public void click(String css) throws Exception {
        call("POST", s("/element/" + find(css) + "/click"), JSON.createObjectNode());
    }

    public void clear(String css) throws Exception {
        call("POST", s("/element/" + find(css) + "/clear"), JSON.createObjectNode());
    }

    public void type(String css, String text) throws Exception {
        call("POST", s("/element/" + find(css) + "/value"), JSON.createObjectNode().put("text", text));
    }

    public void acceptAlert() throws Exception {
        call("POST", s("/alert/accept"), JSON.createObjectNode());
    }

    /** Runs {@code script} (a function body that may {@code return}) in the page. */
    public JsonNode script(String script) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("script", script);
        body.putArray("args");
        return call("POST", s("/execute/sync"), body);
    }

    @Override
    public void close() {
        try {
            call("DELETE", s(""), null);
        } catch (Exception e) {
            // the driver goes anyway
        }
        driver.destroy();
        try {
            driver.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind
        }
    }
}
