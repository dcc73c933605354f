package dev.memlong.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Roofline arithmetic on numbers worked out by hand. */
class RooflineTest {

    /** vocab 10, hidden 4, 1 layer, 2 heads (head dim 2), 1 KV head, MLP 8, tied embedding. */
    private static final ModelShape S = new ModelShape(10, 4, 1, 2, 1, 8, true);

    @Test
    void countsParameters() {
        // q, o: 4x4 each = 32; k, v: 2x4 each = 16; gate, up, down: 4x8 each = 96; two norms: 8.
        assertEquals(152, S.layerParameters());
        assertEquals(144, S.layerMatmulParameters());
        // embedding 40 (also the head) + layer 152 + final norm 4.
        assertEquals(196, S.parameters());
        assertEquals(196 + 40, new ModelShape(10, 4, 1, 2, 1, 8, false).parameters());
    }

    @Test
    void decodeReadsLayersNormAndHeadOnce() {
        // (152 + 4 + 40) floats * 4 bytes.
        assertEquals(784, Roofline.decodeBytesPerToken(S));
        assertEquals(10.0, Roofline.decodeTokensPerSecond(S, 7840), 1e-12);
        assertEquals(0.5, Roofline.fraction(5, 10), 1e-12);
    }

    @Test
    void prefillCountsMatmulsCausalAttentionAndOneHeadRow() {
        // 3 tokens: matmuls 2*144*3 = 864; attention 1 layer * 4 * hidden 4 * (1+2+3 = 6 pairs) = 96; head 2*10*4 = 80.
        assertEquals(96, Roofline.attentionFlops(S, 3), 1e-9);
        assertEquals(1040, Roofline.prefillFlops(S, 3), 1e-9);
        // 1040 FLOPs at 2080 FLOP/s: 0.5 s for 3 tokens.
        assertEquals(6.0, Roofline.prefillTokensPerSecond(S, 3, 2080), 1e-12);
    }

    @Test
    void benchmarkModelIsAbout110M() {
        ModelShape m = ModelShape.llama110m();
        // 32000*768 + 12*(4*768^2 + 3*768*2048 + 2*768) + 768
        assertEquals(24_576_000L + 12L * (2_359_296 + 4_718_592 + 1_536) + 768, m.parameters());
        assertEquals(4L * (12L * (2_359_296 + 4_718_592 + 1_536) + 768 + 24_576_000L), Roofline.decodeBytesPerToken(m));
    }
}
