package dev.memlong.storage;

/** Who wrote a message. */
public enum Role {
    SYSTEM,
    USER,
    ASSISTANT
}
