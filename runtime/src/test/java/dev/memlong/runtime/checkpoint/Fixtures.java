package dev.memlong.runtime.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository's {@code fixtures} directory: system property {@code memlong.fixtures}, else upwards from user.dir. */
public final class Fixtures {

    private Fixtures() {}

    /** The directory of one fixture, e.g. {@code openllama-style-bin}. */
    public static Path dir(String name) {
        String prop = System.getProperty("memlong.fixtures");
        if (prop != null && Files.isDirectory(Path.of(prop, name))) {
            return Path.of(prop, name);
        }
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures").resolve(name))) {
                return p.resolve("fixtures").resolve(name);
            }
        }
        throw new IllegalStateException("fixture " + name + " not found (memlong.fixtures=" + prop + ")");
    }
}
