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
        Dropout.forward(out, mask, x, n, p, 42L, 0);
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(mask[i] == 0f || mask[i] == keep, "mask value " + mask[i]);
            dropped += mask[i] == 0f ? 1 : 0;
            assertEquals(x[i] * mask[i], out[i], 0f);    // one float multiply: exact same rounding
        }
        // Binomial(n, p): standard deviation √(p(1−p)/n) ≈ 0.0028 in the rate; allow 5 of them.
        assertEquals(p, dropped / (double) n, 0.014);

        float[] out2 = new float[n], mask2 = new float[n];
        Dropout.forward(out2, mask2, x, n, p, 42L, 0);
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

    /**
     * Each draw computed where it is used gives the mask of SplittableRandom's floats drawn in order, bit for bit,
     * from the start of the stream or after earlier draws, on 1, 2 and 3 threads; several chunks and a partial one
     * (on AVX-512 eight draws to a vector, chunks starting between vectors, scalar tails).
     */
    @Test
    void streamFormIsTheSequentialMaskOnAnyThreadCount() {
        int n = 3 * (1 << 14) + 77;
        float[] x = randn(new SplittableRandom(5), n, 1);
        long[][] seedsAndDrawn = {{42L, 0}, {42L, 1}, {-7L, 20_003}, {0x9e3779b97f4a7c15L, 5}};
        for (float p : new float[] {0.2f, 0.3f, 0f, 0.999f}) {
            for (long[] sd : seedsAndDrawn) {
                long seed = sd[0];
                int drawn = (int) sd[1];
                SplittableRandom rng = new SplittableRandom(seed);
                for (int i = 0; i < drawn; i++) {
                    rng.nextFloat();
                }
                float keep = 1f / (1f - p);
                float[] want = new float[n], wantMask = new float[n];
                for (int i = 0; i < n; i++) {
                    wantMask[i] = rng.nextFloat() < p ? 0f : keep;
                    want[i] = x[i] * wantMask[i];
                }
                for (int threads = 1; threads <= 3; threads++) {
                    float[] out = new float[n], mask = new float[n];
                    KernelTesting.withThreads(threads, () -> Dropout.forward(out, mask, x, n, p, seed, drawn));
                    String at = "p " + p + ", seed " + seed + ", after " + drawn + " draws, " + threads + " threads";
                    assertBitEqual("mask, " + at, wantMask, mask);
                    assertBitEqual("out, " + at, want, out);
                }
            }
        }
        float[] a = new float[4];
        assertBadInput(() -> Dropout.forward(a, a, a, 4, 0.1f, 1L, -1L), "dropout", "drawn");
    }

    @Test
    void zeroRateIsIdentity() {
        int n = 37;
        float[] x = randn(new SplittableRandom(4), n, 1), out = new float[n], mask = new float[n];
        Dropout.forward(out, mask, x, n, 0f, 1L, 0);
        assertBitEqual("p = 0", x, out);
    }

    @Test
    void badInput() {
        float[] a = new float[4];
        assertBadInput(() -> Dropout.forward(a, a, a, 4, 1f, 1L, 0), "dropout", "p");
        assertBadInput(() -> Dropout.forward(a, a, a, 4, Float.NaN, 1L, 0), "dropout", "p");
        assertBadInput(() -> Dropout.forward(a, new float[2], a, 4, 0.1f, 1L, 0), "dropout", "mask");
        assertBadInput(() -> Dropout.backward(a, a, new float[3], 4), "dropoutBackward", "dout");
    }
}
