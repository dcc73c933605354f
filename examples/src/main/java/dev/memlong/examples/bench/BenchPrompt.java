package dev.memlong.examples.bench;

import java.util.SplittableRandom;

/** The prompts both runtimes are fed: seeded token ids, BOS first, the rest drawn from the ordinary tokens. */
public final class BenchPrompt {

    private BenchPrompt() {}

    /** {@code length} token ids for a vocabulary of {@code vocab}: BOS, then uniform ids above the special tokens. */
    public static int[] ids(int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[length];
        ids[0] = BenchTokenizer.BOS;
        for (int i = 1; i < length; i++) {
            ids[i] = 3 + random.nextInt(vocab - 3);
        }
        return ids;
    }
}
