package dev.memlong.gateway.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The page's files, read from the classpath once at start-up. Only these names are served, so no request path
 * ever reaches a file system or the class loader.
 */
public final class StaticAssets {

    /** A file to serve. */
    public record Asset(byte[] bytes, String contentType) {}

    private static final String BASE = "/dev/memlong/gateway/web/";
    private static final Map<String, String> FILES = Map.of(
            "/", "index.html|text/html; charset=utf-8",
            "/index.html", "index.html|text/html; charset=utf-8",
            "/app.js", "app.js|text/javascript; charset=utf-8",
            "/app.css", "app.css|text/css; charset=utf-8");

    private final Map<String, Asset> assets;

    private StaticAssets(Map<String, Asset> assets) {
        this.assets = assets;
    }

    /** Loads every file of the page; fails when one is missing from the jar. */
    public static StaticAssets load() {
        Map<String, Asset> loaded = new java.util.HashMap<>();
        FILES.forEach((path, spec) -> {
            String[] parts = spec.split("\\|");
            try (InputStream in = StaticAssets.class.getResourceAsStream(BASE + parts[0])) {
                if (in == null) {
                    throw new IllegalStateException("web asset " + BASE + parts[0] + " is missing from the jar");
                }
                loaded.put(path, new Asset(in.readAllBytes(), parts[1]));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read web asset " + parts[0], e);
            }
        });
        return new StaticAssets(Map.copyOf(loaded));
    }

    /** The file served at {@code path}, if any. */
    public Optional<Asset> get(String path) {
        return Optional.ofNullable(assets.get(path));
    }
}
