package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Float {@link CrossEntropy} against {@link Reference}.
 * Loss: formed in double from the float row max, the target logit (both exact) and log Σ e^(l−max),
 * whose sum has relative error ≲ few·u (u ≈ 6e-8: 1-ulp EXP, lane-wise float partial sums of ≤ 4096
 * terms, double across blocks), so |loss − ref| ≲ 1e-6·(1 + |ref|).
 * Gradient: gradScale·(e_i/Σ − onehot) with e_i = EXP(l_i − max), where l_i − max is exact for every
 * element that does not underflow (Sterbenz): relative error of a few u on each probability, plus
 * u·|gradScale| absolute where p_target − 1 cancels: |g − ref| ≤ 1e-5·|ref| + 1e-6·|gradScale|.
 */
class CrossEntropyTest {
    private final SplittableRandom rng = new SplittableRandom(5);

    @Test
    void matchesReferenceOnOddVocabularies() {
        for (int V : new int[] {1, 7, 16, 65, 129, 4099}) {
            int rows = 5;
            float[] logits = randn(rng, rows * V, 3);
            int[] targets = {0, V - 1, -1, V / 2, -7};
            compare(logits, targets, rows, V, 1f / 3, "V=" + V);
            compare(logits, targets, rows, V, 0f, "V=" + V + " loss only");
        }
    }

    @Test
    void largeMagnitudeLogits() {
        int rows = 4, V = 1000;
        float[] logits = uniform(rng, rows * V, 1e3, 1e4);
        // Row 1: all logits near −1e4; row 3: a few ties at the max.
        for (int i = V; i < 2 * V; i++) {
            logits[i] = -logits[i];
        }
        logits[3 * V + 5] = logits[3 * V + 6] = logits[3 * V + 7] = 2e4f;
        int[] targets = {3, 999, 0, 6};
        float[] losses = compare(logits, targets, rows, V, 0.5f, "large");
        for (float l : losses) {
            assertTrue(Float.isFinite(l), "loss " + l);
        }
        assertEquals(Math.log(3), losses[3], 1e-6, "three-way tie at the max: loss ln 3");
    }

    @Test
    void negativeInfinityAndVeryNegativeLogits() {
        int V = 37, rows = 3;
        float[] logits = randn(rng, rows * V, 1);
        for (int i = 0; i < V; i += 2) {
            logits[i] = Float.NEGATIVE_INFINITY;        // masked-out vocabulary entries
            logits[V + i] = -1e30f;
        }
        compare(logits, new int[] {1, 0, 2}, rows, V, 1f, "masked");
        // A target on a −∞ logit has probability 0: loss +∞, and the gradient is still finite.
        float[] losses = new float[rows];
        CrossEntropy.forwardBackward(logits, new int[] {0, 0, 2}, losses, rows, V, 1f);
        assertEquals(Float.POSITIVE_INFINITY, losses[0], "target on a −∞ logit");
        assertTrue(Float.isFinite(losses[1]) && losses[1] > 1e29f, "−1e30 target: huge finite loss " + losses[1]);
        for (int i = 0; i < rows * V; i++) {
            assertTrue(Float.isFinite(logits[i]), "gradient " + i + " = " + logits[i]);
        }
        assertEquals(-1f, logits[0], "target with p = 0: gradient p − 1 = −1");
        assertEquals(0f, logits[2], "p = 0 on a −∞ logit");
    }

    @Test
    void nanRowThrowsNamingTheRow() {
        int V = 50, rows = 4;
        float[] logits = randn(rng, rows * V, 1);
        logits[2 * V + 17] = Float.NaN;
        ArithmeticException e = assertThrows(ArithmeticException.class,
                () -> CrossEntropy.forwardBackward(logits, new int[] {1, 2, 3, 4}, new float[rows], rows, V, 1f));
        assertTrue(e.getMessage().contains("row 2"), e.getMessage());
        // An ignored row is not looked at, so a NaN there is not an error.
        float[] l2 = randn(rng, rows * V, 1);
        l2[2 * V] = Float.NaN;
        assertEquals(3, CrossEntropy.forwardBackward(l2, new int[] {1, 2, -1, 4}, new float[rows], rows, V, 1f));
        float[] inf = randn(rng, V, 1);
        inf[3] = Float.POSITIVE_INFINITY;
        assertThrows(ArithmeticException.class, () -> CrossEntropy.forwardBackward(inf, new int[] {0}, new float[1], 1, V, 0f));
    }

    @Test
    void softmaxMatchesReference() {
        for (int n : new int[] {1, 5, 16, 100, 50257}) {
            float[] z = randn(rng, n, 4);
            z[0] = 1e4f;
            float[] p = new float[n + 3];
            CrossEntropy.softmax(p, 3, z, 0, n);
            double[] rp = new double[n];
            Reference.softmax(rp, 0, toDouble(z), 0, n);
            for (int i = 0; i < n; i++) {
                double err = Math.abs(p[3 + i] - rp[i]);
                if (err > 1e-5 * rp[i] + 1e-30) {
                    fail("softmax n=" + n + " [" + i + "] " + p[3 + i] + " vs " + rp[i]);
                }
            }
            CrossEntropy.softmax(z, 0, z, 0, n);   // in place
            assertEquals(p[3], z[0]);
        }
    }

    @Test
    void countsAndIgnoredRows() {
        int V = 9, rows = 4;
        float[] logits = randn(rng, rows * V, 1), losses = {7, 7, 7, 7};
        assertEquals(2, CrossEntropy.forwardBackward(logits, new int[] {-1, 3, -100, 0}, losses, rows, V, 1f));
        assertEquals(0f, losses[0]);
        assertEquals(0f, losses[2]);
        for (int i = 0; i < V; i++) {
            assertEquals(0f, logits[i], "ignored row's gradient");
        }
    }

    @Test
    void badInput() {
        float[] l = new float[12];
        assertBadInput(() -> CrossEntropy.forwardBackward(l, new int[] {0, 4, 1}, new float[3], 3, 4, 1f),
                "crossEntropy", "rows=3", "V=4", "target 4", "row 1", "vocabulary");
        assertBadInput(() -> CrossEntropy.forwardBackward(l, new int[] {0, 1}, new float[3], 3, 4, 1f),
                "crossEntropy", "targets", "2", "3");
        assertBadInput(() -> CrossEntropy.forwardBackward(l, new int[] {0, 1, 2}, new float[3], 3, 5, 1f),
                "crossEntropy", "logits", "12", "15");
        assertBadInput(() -> CrossEntropy.forwardBackward(l, new int[] {0, 1, 2}, new float[2], 3, 4, 1f),
                "crossEntropy", "losses");
        assertBadInput(() -> CrossEntropy.softmax(new float[3], 0, l, 10, 4), "softmax", "n=4");
    }

    /** Runs forwardBackward on a copy and checks losses and (if gradScale ≠ 0) the gradient. */
    private float[] compare(float[] logits, int[] targets, int rows, int V, float gradScale, String label) {
        double[] rl = toDouble(logits);
        float[] g = logits.clone(), losses = new float[rows];
        int counted = CrossEntropy.forwardBackward(g, targets, losses, rows, V, gradScale);
        double[] rLoss = new double[rows];
        Reference.crossEntropyForward(rLoss, rl, targets, rows, V);
        int expectedCount = 0;
        for (int t : targets) {
            expectedCount += t >= 0 ? 1 : 0;
        }
        assertEquals(expectedCount, counted, label + " counted rows");
        for (int r = 0; r < rows; r++) {
            if (!(Math.abs(losses[r] - rLoss[r]) <= 1e-6 * (1 + Math.abs(rLoss[r])))) {
                fail(label + " loss row " + r + ": " + losses[r] + " vs " + rLoss[r]);
            }
        }
        if (gradScale == 0f) {
            assertEquals(java.util.Arrays.toString(logits), java.util.Arrays.toString(g), label + ": logits untouched");
            return losses;
        }
        double[] rg = new double[rows * V];
        Reference.crossEntropyBackward(rg, rl, targets, rows, V, gradScale);
        for (int i = 0; i < rows * V; i++) {
            if (!(Math.abs(g[i] - rg[i]) <= 1e-5 * Math.abs(rg[i]) + 1e-6 * Math.abs(gradScale))) {
                fail(label + " dlogits[" + i / V + "," + i % V + "]: " + g[i] + " vs " + rg[i]);
            }
        }
        return losses;
    }
}
