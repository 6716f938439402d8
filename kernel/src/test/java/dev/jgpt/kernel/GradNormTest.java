package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GradNorm} against {@link Reference}. Squares are summed in float over blocks of 4096 and in
 * double across blocks: relative error ≲ 4096/16·u ≈ 1.5e-5 worst case, ~1e-7 typical; tolerance 1e-6
 * relative on the norm (a random-walk bound with a wide margin).
 */
class GradNormTest {
    private final SplittableRandom rng = new SplittableRandom(17);

    @Test
    void normMatchesReference() {
        // Sizes: empty, a tail-only, odd, and two beyond one parallel block (2^16).
        List<float[]> g = List.of(new float[0], randn(rng, 3, 1), randn(rng, 1001, 0.1), randn(rng, 200_003, 1),
                randn(rng, 70_000, 1e-3));
        List<double[]> rg = new ArrayList<>();
        for (float[] t : g) {
            rg.add(toDouble(t));
        }
        double expected = Reference.globalNorm(rg);
        assertEquals(expected, GradNorm.globalNorm(g), 1e-6 * expected);
        double[] n1 = new double[1], n2 = new double[1];
        withThreads(1, () -> n1[0] = GradNorm.globalNorm(g));
        withThreads(2, () -> n2[0] = GradNorm.globalNorm(g));
        assertEquals(n1[0], n2[0], 0.0, "independent of the thread count");
    }

    @Test
    void oneParallelPassGivesThePerTensorSumsBitForBit() {
        // The norm of all tensors at once is their per-tensor sums (blocks of 2^16 merged in order) merged
        // in order, exactly: training runs must repeat bit for bit across versions.
        List<float[]> g = List.of(randn(rng, 5, 1), new float[0], randn(rng, 65_536, 1), randn(rng, 131_073, 0.5),
                randn(rng, 17, 3));
        double expected = 0;
        for (float[] t : g) {
            double sum = 0;
            for (int s = 0; s < t.length; s += 1 << 16) {
                sum += Vec.sumSquares(t, s, Math.min(1 << 16, t.length - s));
            }
            expected += sum;
        }
        assertEquals(Math.sqrt(expected), GradNorm.globalNorm(g), 0.0);
        List<float[]> clipped = g.stream().map(float[]::clone).toList();
        double norm = GradNorm.clip(clipped, 1.0);
        float factor = (float) (1.0 / (norm + 1e-6));
        for (int k = 0; k < g.size(); k++) {
            float[] want = g.get(k).clone();
            Vec.scale(want, factor, want.length);
            assertBitEqual("tensor " + k + " scaled by the same factor", want, clipped.get(k));
        }
    }

    @Test
    void clipScalesToMaxNormAndReturnsPreClipNorm() {
        float[] a = {3, 0}, b = {4};
        List<float[]> g = List.of(a, b);
        assertEquals(5.0, GradNorm.clip(g, 1.0), 1e-6);
        assertEquals(1.0, GradNorm.globalNorm(g), 1e-6);
        assertEquals(0.6f, a[0], 1e-6f);
        assertEquals(0.8f, b[0], 1e-6f);
        // Below the threshold nothing changes.
        float[] before = a.clone();
        assertEquals(1.0, GradNorm.clip(g, 2.0), 1e-6);
        assertBitEqual("unclipped", before, a);

        List<float[]> big = List.of(randn(rng, 300_000, 1));
        double norm = GradNorm.clip(big, 1.0);
        assertTrue(norm > 100);
        assertEquals(1.0, GradNorm.globalNorm(big), 1e-5);
    }

    @Test
    void nonFiniteNormIsReportedAndGradientsLeftAlone() {
        float[] a = {1, Float.NaN, 2}, b = {Float.POSITIVE_INFINITY, 1};
        assertTrue(Double.isNaN(GradNorm.clip(List.of(a), 1.0)));
        assertEquals(1f, a[0], "not scaled");
        assertEquals(Double.POSITIVE_INFINITY, GradNorm.clip(List.of(b), 1.0));
        assertEquals(1f, b[1], "not scaled");
        assertThrows(IllegalArgumentException.class, () -> GradNorm.clip(List.of(b), 0));
        List<float[]> withNull = new ArrayList<>();
        withNull.add(null);
        assertThrows(IllegalArgumentException.class, () -> GradNorm.globalNorm(withNull));
    }
}
