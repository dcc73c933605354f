package dev.memlong.memory;

/** A configuration value is missing, of the wrong type, or out of range; the message starts with its key. */
public class InvalidSettingException extends IllegalArgumentException {

    private final String key;

    public InvalidSettingException(String key, String problem) {
        this(key, problem, null);
    }

    public InvalidSettingException(String key, String problem, Throwable cause) {
        super(key + ": " + problem, cause);
        this.key = key;
    }

    /** The full configuration path of the offending key, e.g. {@code memlong.memory.chunk-size}. */
    public String key() {
        return key;
    }
}
