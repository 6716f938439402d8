package dev.jgpt.infer;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {

    /** Logits whose softmax is exactly {@code probs} (up to rounding). */
    private static float[] logitsOf(double... probs) {
        float[] x = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            x[i] = (float) Math.log(probs[i]);
        }
        return x;
    }

    private static Set<Integer> drawn(Sampler s, float[] logits, int draws) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < draws; i++) {
            seen.add(s.sample(logits, logits.length));
        }
        return seen;
    }

    @Test
    void greedyIsArgmaxWithLowestIdOnTies() {
        Sampler g = Sampler.greedy();
        assertEquals(2, g.sample(new float[] {0.1f, -3f, 5f, 4.9f}, 4));
        assertEquals(1, g.sample(new float[] {0f, 7f, 7f, 7f}, 4));
        // vocab limits the range: id 3 is not drawable
        assertEquals(2, g.sample(new float[] {0.1f, -3f, 5f, 9f}, 3));
    }

    @Test
    void temperatureTowardsZeroIsArgmax() {
        float[] logits = {1.0f, 2.5f, 2.4f, -1f, 0.3f};
        Sampler cold = new Sampler(1e-3f, 0, 1f, 1f, 11);
        for (int i = 0; i < 200; i++) {
            assertEquals(1, cold.sample(logits, logits.length));
        }
        // and a warm sampler does not (so the assertion above could fail)
        assertTrue(drawn(new Sampler(1f, 0, 1f, 1f, 11), logits, 200).size() > 2);
    }

    @Test
    void topKKeepsExactlyTheKLargest() {
        SplittableRandom r = new SplittableRandom(3);
        float[] logits = new float[500];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian() * 0.1f;   // flat: without top-k any token could come up
        }
        logits[17] = 0.9f;
        logits[400] = 0.8f;
        logits[3] = 0.7f;
        Sampler s = new Sampler(1f, 3, 1f, 1f, 5);
        assertEquals(Set.of(3, 17, 400), drawn(s, logits, 2000));
        assertEquals(Set.of(17), drawn(new Sampler(1f, 1, 1f, 1f, 5), logits, 50));
    }

    @Test
    void topPKeepsTheSmallestSetWithMassAtLeastP() {
        float[] logits = logitsOf(0.05, 0.5, 0.15, 0.3);   // sorted: 1 (.5), 3 (.3), 2 (.15), 0 (.05)
        assertEquals(Set.of(1), drawn(new Sampler(1f, 0, 0.45f, 1f, 1), logits, 2000));
        assertEquals(Set.of(1, 3), drawn(new Sampler(1f, 0, 0.75f, 1f, 1), logits, 2000));
        assertEquals(Set.of(1, 3, 2), drawn(new Sampler(1f, 0, 0.9f, 1f, 1), logits, 4000));
        assertEquals(Set.of(0, 1, 2, 3), drawn(new Sampler(1f, 0, 1f, 1f, 1), logits, 4000));
    }

    @Test
    void topPOverALargeVocabularyMatchesABruteForceNucleus() {
        SplittableRandom r = new SplittableRandom(9);
        int V = 5000;
        float[] logits = new float[V];
        for (int i = 0; i < V; i++) {
            logits[i] = (float) (r.nextGaussian() * 3);
        }
        float p = 0.6f;
        // brute force: softmax, sort everything, cut at mass >= p
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] prob = new double[V];
        for (int i = 0; i < V; i++) {
            prob[i] = Math.exp(logits[i] - max);
            sum += prob[i];
        }
        Integer[] order = new Integer[V];
        for (int i = 0; i < V; i++) {
            order[i] = i;
            prob[i] /= sum;
        }
        Arrays.sort(order, (a, b) -> Double.compare(prob[b], prob[a]));
        Set<Integer> nucleus = new HashSet<>();
        double mass = 0;
        for (int i = 0; mass < p; i++) {
            nucleus.add(order[i]);
            mass += prob[order[i]];
        }
        assertTrue(nucleus.size() > 3 && nucleus.size() < V / 10, "test needs a mid-sized nucleus: " + nucleus.size());
        Set<Integer> seen = drawn(new Sampler(1f, 0, p, 1f, 2), logits, 20_000);
        assertTrue(nucleus.containsAll(seen), "drew outside the nucleus");
        assertTrue(seen.size() >= nucleus.size() * 3 / 4, "drew only " + seen.size() + " of " + nucleus.size());
    }

    @Test
    void drawsFollowTheDistribution() {
        float[] logits = logitsOf(0.6, 0.3, 0.1);
        Sampler s = new Sampler(1f, 0, 1f, 1f, 42);
        int[] counts = new int[3];
        int n = 30_000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(logits, 3)]++;
        }
        assertEquals(0.6, counts[0] / (double) n, 0.015);
        assertEquals(0.3, counts[1] / (double) n, 0.015);
        assertEquals(0.1, counts[2] / (double) n, 0.015);
        // temperature 2 flattens: p ∝ sqrt(p0) → 0.474, 0.335, 0.191
        Sampler warm = new Sampler(2f, 0, 1f, 1f, 42);
        Arrays.fill(counts, 0);
        for (int i = 0; i < n; i++) {
            counts[warm.sample(logits, 3)]++;
        }
        assertEquals(0.474, counts[0] / (double) n, 0.015);
        assertEquals(0.191, counts[2] / (double) n, 0.015);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerToken() {
        Sampler p2 = new Sampler(0f, 0, 1f, 2f, 0);
        // positive: 2.0 → 1.0 drops below token 1's 1.5
        assertEquals(1, p2.sample(new float[] {2f, 1.5f, -1f}, 3, new int[] {0}, 0, 1));
        // negative: -1 → -2 drops below token 1's -1.5
        assertEquals(1, p2.sample(new float[] {-1f, -1.5f}, 2, new int[] {0}, 0, 1));
        // repeated occurrences count once: 3 → 1.5 still beats 1.0 (three times would give 0.375)
        assertEquals(0, p2.sample(new float[] {3f, 1f}, 2, new int[] {0, 0, 0}, 0, 3));
        // only the window [from, to) counts
        assertEquals(0, p2.sample(new float[] {2f, 1.5f, -1f}, 3, new int[] {0, 2}, 1, 2));
        // penalty 1 is off
        assertEquals(0, new Sampler(0f, 0, 1f, 1f, 0).sample(new float[] {2f, 1.5f}, 2, new int[] {0}, 0, 1));
        // the caller's logits are not modified
        float[] logits = {2f, 1.5f};
        p2.sample(logits, 2, new int[] {0}, 0, 1);
        assertArrayEquals(new float[] {2f, 1.5f}, logits);
    }

    @Test
    void aSeedReproducesTheDraws() {
        SplittableRandom r = new SplittableRandom(1);
        float[] logits = new float[100];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        int[] a = draws(new Sampler(0.9f, 20, 0.9f, 1.1f, 77), logits);
        int[] b = draws(new Sampler(0.9f, 20, 0.9f, 1.1f, 77), logits);
        int[] c = draws(new Sampler(0.9f, 20, 0.9f, 1.1f, 78), logits);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    private static int[] draws(Sampler s, float[] logits) {
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(logits, logits.length, out, Math.max(0, i - 8), i);
        }
        return out;
    }

    @Test
    void badSettingsAndNaNAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-0.1f, 0, 1f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Float.NaN, 0, 1f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, -1, 1f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0, 1.01f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0, 1f, 0f, 0));
        IllegalStateException nan = assertThrows(IllegalStateException.class,
                () -> Sampler.greedy().sample(new float[] {0f, Float.NaN}, 2));
        assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sampler.greedy().sample(new float[3], 4));
    }
}
