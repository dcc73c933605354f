package dev.memlong.gateway.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The leak check itself works: paranoid detection is on and a dropped buffer is reported. */
class LeakRecorderTest {

    @Test
    void aDroppedBufferIsReported() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        leakOne();
        AssertionError e = assertThrows(AssertionError.class, LeakRecorder::assertNoLeaks);
        assertEquals(true, e.getMessage().contains("LEAK"));
        LeakRecorder.clearForSelfTest();
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(32);
        b.writeInt(42); // never released
    }
}
