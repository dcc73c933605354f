package dev.memlong.runtime.tokenizer;

/**
 * Puts DJL in offline mode before its first use unless the application decided otherwise: the tokenizers natives
 * come from the Maven jar, and nothing (natives, telemetry) may be fetched at run time.
 */
final class DjlOffline {

    static final String PROPERTY = "ai.djl.offline";

    private DjlOffline() {}

    static void ensure() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "true");
        }
    }
}
