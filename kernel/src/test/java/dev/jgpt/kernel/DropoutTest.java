package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Dropout}: mask values and rate, reproducibility, out = x·mask and dx += mask·dout exactly. */
class DropoutTest {
    @Test
    void maskRateScaleAndReproducibility() {
        int n = 20_003;
        float p = 0.2f, keep = 1f / (1f - p);
        float[] x = randn(new SplittableRandom(1), n, 1), out = new float[n], mask = new float[n];
        Dropout.forward(out, mask, x, n, p, new SplittableRandom(42));
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(mask[i] == 0f || mask[i] == keep, "mask value " + mask[i]);
            dropped += mask[i] == 0f ? 1 : 0;
            assertEquals(x[i] * mask[i], out[i], 0f);    // one float multiply: exact same rounding
        }
        // Binomial(n, p): standard deviation √(p(1−p)/n) ≈ 0.0028 in the rate; allow 5 of them.
        assertEquals(p, dropped / (double) n, 0.014);

        float[] out2 = new float[n], mask2 = new float[n];
        Dropout.forward(out2, mask2, x, n, p, new SplittableRandom(42));
        assertBitEqual("same seed, same mask", mask, mask2);
        float[] applied = new float[n];
        Dropout.apply(applied, x, mask, n);
        assertBitEqual("apply", out, applied);

        float[] dout = randn(new SplittableRandom(2), n, 1), dx0 = randn(new SplittableRandom(3), n, 1);
        float[] dx = dx0.clone();
        Dropout.backward(dx, mask, dout, n);
        for (int i = 0; i < n; i++) {
            // fma(mask, dout, dx) is the correctly rounded mask·dout + dx.
            assertEquals((float) ((double) mask[i] * dout[i] + dx0[i]), dx[i], 0f);
        }
    }

    @Test
    void seededParallelFormIsIndependentOfThreadCount() {
        int n = 3 * Dropout.SEED_BLOCK + 77;   // several blocks and a partial one
        float p = 0.3f, keep = 1f / (1f - p);
        float[] x = randn(new SplittableRandom(5), n, 1);
        float[][] one = new float[2][], two = new float[2][];
        KernelTesting.withThreads(1, () -> one[0] = seeded(one, x, n, p));
        KernelTesting.withThreads(2, () -> two[0] = seeded(two, x, n, p));
        assertBitEqual("mask", one[1], two[1]);
        assertBitEqual("out", one[0], two[0]);
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(one[1][i] == 0f || one[1][i] == keep);
            assertEquals(x[i] * one[1][i], one[0][i], 0f);
            dropped += one[1][i] == 0f ? 1 : 0;
        }
        // σ of the rate ≈ √(0.21/49229) ≈ 0.002; 5σ.
        assertEquals(p, dropped / (double) n, 0.01);
        // Blocks are not copies of each other (each has its own seed).
        boolean differ = false;
        for (int i = 0; i < Dropout.SEED_BLOCK && !differ; i++) {
            differ = one[1][i] != one[1][i + Dropout.SEED_BLOCK];
        }
        assertTrue(differ, "blocks must draw different masks");
        float[] other = new float[n], otherMask = new float[n];
        Dropout.forward(other, otherMask, x, n, p, 43L);
        assertTrue(!java.util.Arrays.equals(otherMask, one[1]), "another seed, another mask");
    }

    private static float[] seeded(float[][] res, float[] x, int n, float p) {
        float[] out = new float[n];
        res[1] = new float[n];
        Dropout.forward(out, res[1], x, n, p, 42L);
        return out;
    }

    @Test
    void zeroRateIsIdentity() {
        int n = 37;
        float[] x = randn(new SplittableRandom(4), n, 1), out = new float[n], mask = new float[n];
        Dropout.forward(out, mask, x, n, 0f, new SplittableRandom(1));
        assertBitEqual("p = 0", x, out);
    }

    @Test
    void badInput() {
        float[] a = new float[4];
        assertBadInput(() -> Dropout.forward(a, a, a, 4, 1f, new SplittableRandom(1)), "dropout", "p");
        assertBadInput(() -> Dropout.forward(a, a, a, 4, Float.NaN, new SplittableRandom(1)), "dropout", "p");
        assertBadInput(() -> Dropout.forward(a, new float[2], a, 4, 0.1f, new SplittableRandom(1)), "dropout", "mask");
        assertBadInput(() -> Dropout.backward(a, a, new float[3], 4), "dropoutBackward", "dout");
    }
}
