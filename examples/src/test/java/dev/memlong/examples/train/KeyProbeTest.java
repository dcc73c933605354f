package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The probe's classifier on data whose answer is known: labels written into the features, and labels of pure noise. */
class KeyProbeTest {

    @Test
    void readsALabelThatTheFeaturesCarryAndNotOneTheyDoNot() {
        Random rnd = new Random(3);
        int n = 600;
        int classes = 5;
        double[][] x = new double[n][16];
        int[] carried = new int[n];
        int[] noise = new int[n];
        for (int i = 0; i < n; i++) {
            carried[i] = rnd.nextInt(classes);
            noise[i] = rnd.nextInt(classes);
            for (int j = 0; j < 16; j++) {
                x[i][j] = rnd.nextGaussian() * 0.2;
            }
            x[i][carried[i]] += 1; // one direction per class, in noise
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (i % 10 < 7 ? train : test).add(i);
        }
        double read = KeyProbe.accuracy(x, carried, classes, train, test);
        double chance = KeyProbe.accuracy(x, noise, classes, train, test);
        assertTrue(read > 0.9, "a carried label is read: " + read);
        assertTrue(chance < 0.35, "noise is read at about chance (0.2): " + chance);
        assertEquals(Double.NaN, KeyProbe.accuracy(x, carried, classes, train, List.of()));
    }
}
