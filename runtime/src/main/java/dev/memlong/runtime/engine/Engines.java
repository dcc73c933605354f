package dev.memlong.runtime.engine;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;

/**
 * Starts DJL's PyTorch engine from the natives shipped in Maven artifacts, never from the network.
 *
 * <p>DJL would otherwise download libtorch on first use when the native jar is missing. Offline mode turns
 * that into an error, which we translate into one that names the artifact to add.
 */
public final class Engines {

    /** The native artifacts the runtime expects on the classpath. */
    public static final String NATIVE_ARTIFACTS =
            "ai.djl.pytorch:pytorch-native-cpu:2.7.1 (classifier linux-x86_64) and ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0";

    private Engines() {}

    /** Returns the PyTorch engine, loading its natives offline on first call. */
    public static synchronized Engine pytorch() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // Eager ops only; the TorchScript graph optimizer is irrelevant and logs noise.
        if (System.getProperty("ai.djl.pytorch.graph_optimizer") == null) {
            System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
        }
        try {
            return Engine.getEngine("PyTorch");
        } catch (EngineException | IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new IllegalStateException("PyTorch natives could not be loaded offline: add " + NATIVE_ARTIFACTS
                    + " to the classpath (" + e.getMessage() + ")", e);
        }
    }
}
