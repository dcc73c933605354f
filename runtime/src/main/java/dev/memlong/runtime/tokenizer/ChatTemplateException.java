package dev.memlong.runtime.tokenizer;

import java.util.Optional;

/**
 * A chat template could not be compiled or rendered: a syntax error, an unsupported construct, or the template
 * itself refusing the conversation through {@code raise_exception(...)} (an unknown role, roles that do not
 * alternate). The message names the template's origin (its file).
 */
public class ChatTemplateException extends RuntimeException {

    private final String raisedMessage;

    ChatTemplateException(String message, String raisedMessage, Throwable cause) {
        super(message, cause);
        this.raisedMessage = raisedMessage;
    }

    ChatTemplateException(String message, Throwable cause) {
        this(message, null, cause);
    }

    /** The message the template passed to {@code raise_exception}, if that is what failed. */
    public Optional<String> raisedByTemplate() {
        return Optional.ofNullable(raisedMessage);
    }
}
