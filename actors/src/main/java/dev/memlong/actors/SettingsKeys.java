package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.Set;
import java.util.TreeSet;

/**
 * Strict reading of one section of the actor runtime's configuration: unknown keys and invalid values fail with an
 * {@link IllegalArgumentException} naming the key's full path. Shared by {@link ActorSettings} and the trainer's
 * settings.
 */
public final class SettingsKeys {

    /** A read of one value, which may throw Typesafe's {@link ConfigException}. */
    @FunctionalInterface
    public interface Read<T> {
        T read();
    }

    private final String root;

    public SettingsKeys(String root) {
        this.root = root;
    }

    /** Fails on a key of {@code section} (the config at this root) that is not in {@code known}. */
    public void requireKnown(Config section, Set<String> known) {
        for (String key : section.root().keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key " + root + "." + key + " (known: "
                        + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    /** A value, or an error naming {@code root.key}. */
    public <T> T get(String key, Read<T> read) {
        try {
            return read.read();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid configuration " + root + "." + key + ": " + e.getMessage(), e);
        }
    }

    /** Fails naming {@code root.key} unless {@code ok}. */
    public void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("invalid configuration " + root + "." + key + ": " + problem);
        }
    }
}
