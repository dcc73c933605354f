package dev.memlong.gateway.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import java.util.ArrayList;
import java.util.List;

/**
 * Records every leak Netty's detector reports (surefire runs with {@code -Dio.netty.leakDetection.level=paranoid}).
 * Installed as a JUnit {@link LauncherSessionListener} so the factory is in place before any {@code ByteBuf}
 * class initialises; {@link #assertNoLeaks()} collects garbage, lets the detectors poll, and fails on any report.
 */
public final class LeakRecorder implements LauncherSessionListener {

    private static final List<String> LEAKS = new ArrayList<>();

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation") // still abstract in Netty 4.2: must be implemented
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                       long maxActive) {
                return new Recording<>(resource, samplingInterval);
            }

            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
                return new Recording<>(resource, samplingInterval);
            }
        });
    }

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        // the static initialiser did the work
    }

    /** Forces a leak check and fails when Netty reported any leak so far. */
    public static void assertNoLeaks() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int i = 0; i < 64; i++) { // each tracked allocation polls the detector's reference queue
                ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
                b.release();
            }
        }
        synchronized (LEAKS) {
            if (!LEAKS.isEmpty()) {
                throw new AssertionError(LEAKS.size() + " Netty leak(s) reported:\n" + String.join("\n\n", LEAKS));
            }
        }
    }

    /** Forgets the leaks reported so far; only for the recorder's own test, which leaks on purpose. */
    static void clearForSelfTest() {
        synchronized (LEAKS) {
            LEAKS.clear();
        }
    }

    private static final class Recording<T> extends ResourceLeakDetector<T> {
        Recording(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record("LEAK " + resourceType + records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record("LEAK " + resourceType + " (untraced)");
        }

        private static void record(String s) {
            synchronized (LEAKS) {
                LEAKS.add(s);
            }
        }
    }
}
