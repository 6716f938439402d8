package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Vec} helpers against plain loops at odd sizes and offsets. Element-wise ops are one float
 * operation, so they must match exactly (axpy: the fused multiply-add, i.e. the double-rounded-once
 * value); reductions are compared in double with a length-aware bound.
 */
class VecTest {
    private final SplittableRandom rng = new SplittableRandom(19);

    @Test
    void zeroClearsExactlyTheFirstN() {
        for (int threads : new int[] {1, 2}) {
            for (int n : new int[] {0, 5, 65_535, 65_536, 200_003}) {
                float[] x = randn(rng, n + 4, 1), before = x.clone();
                KernelTesting.withThreads(threads, () -> Vec.zero(x, n));
                for (int i = 0; i < x.length; i++) {
                    assertEquals(i < n ? 0f : before[i], x[i], 0f, "element " + i + " of n = " + n);
                }
            }
        }
        assertBadInput(() -> Vec.zero(new float[3], 4), "zero", "x");
    }

    @Test
    void elementWise() {
        for (int n : new int[] {0, 1, 7, 16, 33, 129, 70_001}) {
            float[] a = randn(rng, n + 3, 1), b = randn(rng, n + 5, 1);
            float[] y = a.clone();
            Vec.add(y, 3, b, 5, n);
            for (int i = 0; i < n; i++) {
                assertEquals(a[3 + i] + b[5 + i], y[3 + i], 0f);
            }
            float[] out = new float[n];
            Vec.add(out, a, b, n);
            for (int i = 0; i < n; i++) {
                assertEquals(a[i] + b[i], out[i], 0f);
            }
            y = a.clone();
            Vec.axpy(0.3f, b, 5, y, 3, n);
            for (int i = 0; i < n; i++) {
                assertEquals((float) (0.3f * (double) b[5 + i] + a[3 + i]), y[3 + i], 0f);
            }
            y = a.clone();
            Vec.scale(y, 3, -2.5f, n);
            for (int i = 0; i < n; i++) {
                assertEquals(a[3 + i] * -2.5f, y[3 + i], 0f);
            }
            assertEquals(a[0], y[0], 0f, "elements before the offset are untouched");
        }
    }

    @Test
    void reductions() {
        for (int n : new int[] {1, 7, 16, 129, 100_003}) {
            float[] a = randn(rng, n + 2, 1), b = randn(rng, n + 1, 1);
            double dot = 0, ss = 0, sum = 0, max = Double.NEGATIVE_INFINITY, abs = 0;
            for (int i = 0; i < n; i++) {
                dot += (double) a[2 + i] * b[1 + i];
                abs += Math.abs((double) a[2 + i] * b[1 + i]);
                ss += (double) a[2 + i] * a[2 + i];
                sum += a[2 + i];
                max = Math.max(max, a[2 + i]);
            }
            // Float partial sums over ≤ 4096 terms per block: error ≲ 4096/16·u·Σ|terms| worst case.
            assertEquals(dot, Vec.dot(a, 2, b, 1, n), 2e-5 * abs + 1e-6);
            assertEquals(ss, Vec.sumSquares(java.util.Arrays.copyOfRange(a, 2, n + 2), n), 2e-5 * ss);
            assertEquals(ss, Vec.sumSquares(a, 2, n), 2e-5 * ss);
            assertEquals(max, Vec.max(a, 2, n), 0.0);
            if (n < 1000) {
                assertEquals(sum, Vec.sum(a, 2, n), 1e-5 * n);
            }
        }
        float[] nan = {1, 2, Float.NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
        assertTrue(Float.isNaN(Vec.max(nan, 0, nan.length)), "NaN propagates through max");
    }

    @Test
    void residualAddChecksLengths() {
        assertBadInput(() -> Vec.add(new float[4], new float[4], new float[3], 4), "residualAdd", "b", "3", "4");
    }
}
