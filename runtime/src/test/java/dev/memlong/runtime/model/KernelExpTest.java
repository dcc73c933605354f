package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Java decode step's own {@code exp} (softmax, SwiGLU), built from exactly rounded operations so that every JIT
 * tier computes the same bits: within a few ulp of {@link Math#exp} over the float range, 0 below it, +inf above.
 * (Its vector form runs the same operations; the decode tests compare the step with PyTorch's.)
 */
class KernelExpTest {

    @Test
    void closeToMathExpEverywhere() throws Exception {
        assumeTrue(JavaDecode.available(ai.djl.ndarray.types.DataType.FLOAT32), "Java decode step not available here");
        Method exp = Class.forName("dev.memlong.runtime.model.VectorKernels").getDeclaredMethod("exp", float.class);
        exp.setAccessible(true);
        Random rnd = new Random(5);
        double worstUlps = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = i < 100_000 ? -87f + 175f * i / 100_000 : (float) (rnd.nextGaussian() * 10);
            if (x < -87f || x > 88f) {
                continue;
            }
            float ours = (float) exp.invoke(null, x);
            float reference = (float) Math.exp(x);
            worstUlps = Math.max(worstUlps, Math.abs(ours - reference) / Math.ulp(reference));
        }
        assertTrue(worstUlps <= 4, "worst error " + worstUlps + " ulp");
        assertEquals(0f, (float) exp.invoke(null, -200f));
        assertEquals(Float.POSITIVE_INFINITY, (float) exp.invoke(null, 200f));
        assertEquals(1f, (float) exp.invoke(null, 0f));
        assertTrue(Float.isNaN((float) exp.invoke(null, Float.NaN)));
    }
}
