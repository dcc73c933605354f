package dev.memlong.runtime.model;

import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.runtime.config.ModelConfig;
import java.lang.reflect.InvocationTargetException;

/**
 * Whether a model runs its decode steps in Java ({@code VectorDecoder}): on CPU, in float32, on a JDK 22+ (the class
 * is compiled for it; see runtime/pom.xml) started with {@code --add-modules jdk.incubator.vector}, unless the system
 * property {@code memlong.java-decode} is {@code false}. Otherwise the tensor path serves every forward.
 */
final class JavaDecode {

    static final String PROPERTY = "memlong.java-decode";
    private static final String DECODER = "dev.memlong.runtime.model.VectorDecoder";

    private JavaDecode() {}

    static boolean available(DataType computeType) {
        return computeType == DataType.FLOAT32
                && !"false".equalsIgnoreCase(System.getProperty(PROPERTY))
                && Runtime.version().feature() >= 22
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && JavaDecode.class.getClassLoader().getResource(DECODER.replace('.', '/') + ".class") != null;
    }

    /** The threads of the decode step: PyTorch's intra-op thread count, so one setting sizes both paths. */
    static int threads() {
        return Math.max(1, JniUtils.getNumThreads());
    }

    /** A decoder over the model's weights (they stay owned by the model), running its loops on {@code pool}. */
    static StepDecoder create(ModelConfig config, ModelWeights weights, WorkerPool pool) {
        try {
            return (StepDecoder) Class.forName(DECODER)
                    .getDeclaredConstructor(ModelConfig.class, ModelWeights.class, WorkerPool.class)
                    .newInstance(config, weights, pool);
        } catch (ReflectiveOperationException e) {
            throw failure(e, "the Java decode step");
        }
    }

    /**
     * What to throw for a reflective call into the JDK 22 classes: the callee's own runtime exception, else an
     * IllegalStateException saying whether {@code what} failed or is missing from the build.
     */
    static RuntimeException failure(ReflectiveOperationException e, String what) {
        if (e instanceof InvocationTargetException t) {
            return t.getCause() instanceof RuntimeException r ? r
                    : new IllegalStateException(what + " failed", t.getCause());
        }
        return new IllegalStateException(what + " is missing from the build", e);
    }
}
