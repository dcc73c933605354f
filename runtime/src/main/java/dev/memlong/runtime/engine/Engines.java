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

    private static int defaultIntraOpThreads;

    private Engines() {}

    /**
     * PyTorch's intra-op thread count when the engine started (its default for the machine). The count is a
     * per-thread setting in PyTorch's OpenMP build, and a thread created after another thread changed it inherits
     * the changed value; threads that must keep the default (the device workers) set it back from this.
     */
    public static synchronized int defaultIntraOpThreads() {
        pytorch();
        return defaultIntraOpThreads;
    }

    /**
     * Sets the PyTorch intra-op threads of the calling thread (the ops it runs use that many threads; other threads
     * keep theirs, though threads created later start from this value).
     */
    public static void setIntraOpThreads(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("intra-op threads must be positive, got " + threads);
        }
        pytorch();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }

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
            Engine engine = Engine.getEngine("PyTorch");
            if (defaultIntraOpThreads == 0) {
                defaultIntraOpThreads = Math.max(1, ai.djl.pytorch.jni.JniUtils.getNumThreads());
            }
            return engine;
        } catch (EngineException | IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new IllegalStateException("PyTorch natives could not be loaded offline: add " + NATIVE_ARTIFACTS
                    + " to the classpath (" + e.getMessage() + ")", e);
        }
    }
}
