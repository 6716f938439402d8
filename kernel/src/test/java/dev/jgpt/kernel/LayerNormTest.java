package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.assertClose;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Float {@link LayerNorm} against {@link Reference} (tolerance argued in {@link KernelTesting}). */
class LayerNormTest {
    private static final float EPS = 1e-5f;
    private static final double TOL = 1e-5;
    private final SplittableRandom rng = new SplittableRandom(7);

    @Test
    void matchesReferenceOnOddSizes() {
        for (int C : new int[] {1, 7, 16, 63, 129}) {
            for (int rows : new int[] {1, 5}) {
                for (boolean bias : new boolean[] {true, false}) {
                    String label = "C=" + C + " rows=" + rows + " bias=" + bias;
                    compare(rows, C, randn(rng, rows * C, 1), bias, label, TOL);
                    // A large common offset (μ = 100, σ = 1). A float mean near 100 is only known to about
                    // ulp(100) ≈ 7.6e-6, an absolute error in every x − μ: ≈ 7.6e-6·|γ|/σ in y, |γ| ≲ 3 here.
                    float[] x = randn(rng, rows * C, 1);
                    for (int i = 0; i < rows * C; i++) {
                        x[i] += 100f;
                    }
                    compare(rows, C, x, bias, label + " offset 100", TOL + 3 * 7.6e-6);
                }
            }
        }
    }

    @Test
    void zeroVarianceRows() {
        int rows = 3, C = 129;
        float[] x = new float[rows * C];
        java.util.Arrays.fill(x, 0, C, 0.1f);           // 0.1 is inexact: the float mean must still be exact
        java.util.Arrays.fill(x, C, 2 * C, 1234.5f);
        // third row stays all zeros
        float[] gamma = randn(rng, C, 1), beta = randn(rng, C, 1);
        float[] out = new float[rows * C], mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(out, mean, rstd, x, gamma, beta, rows, C, EPS);
        // (x − μ) is exactly 0, so y = β exactly and rstd = 1/√ε.
        for (int i = 0; i < rows * C; i++) {
            assertEquals(beta[i % C], out[i], 0f, "row " + i / C);
        }
        assertEquals(0.1f, mean[0], 0f);
        assertEquals((float) (1 / Math.sqrt(EPS)), rstd[2], 1e-3f);
        compare(rows, C, x, true, "zero variance", TOL);
    }

    @Test
    void backwardIsIndependentOfThreadCount() {
        int rows = 200, C = 129;   // enough rows that the dγ/dβ blocks are split across threads
        float[] x = randn(rng, rows * C, 1), gamma = randn(rng, C, 1), dout = randn(rng, rows * C, 1);
        float[] mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(new float[rows * C], mean, rstd, x, gamma, null, rows, C, EPS);
        float[][] r1 = new float[3][], r2 = new float[3][];
        withThreads(1, () -> run(r1, x, gamma, dout, mean, rstd, rows, C));
        withThreads(2, () -> run(r2, x, gamma, dout, mean, rstd, rows, C));
        assertBitEqual("dx", r1[0], r2[0]);
        assertBitEqual("dgamma", r1[1], r2[1]);
        assertBitEqual("dbeta", r1[2], r2[2]);
    }

    @Test
    void backwardOntoABaseIsCopyThenAccumulate() {
        int rows = 37, C = 129;   // C not a multiple of the vector length: the scalar tail too
        float[] x = randn(rng, rows * C, 1), gamma = randn(rng, C, 1), dout = randn(rng, rows * C, 1);
        float[] base = randn(rng, rows * C, 1);
        float[] mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(new float[rows * C], mean, rstd, x, gamma, null, rows, C, EPS);
        float[] copied = base.clone(), gg1 = new float[C], gb1 = new float[C];
        LayerNorm.backward(copied, gg1, gb1, dout, x, gamma, mean, rstd, rows, C);
        float[] onto = randn(rng, rows * C, 1), gg2 = new float[C], gb2 = new float[C];   // old contents ignored
        float[] baseBefore = base.clone();
        LayerNorm.backward(onto, base, gg2, gb2, dout, x, gamma, mean, rstd, rows, C);
        assertBitEqual("dx", copied, onto);
        assertBitEqual("dgamma", gg1, gg2);
        assertBitEqual("dbeta", gb1, gb2);
        assertBitEqual("base untouched", baseBefore, base);
    }

    private static void run(float[][] res, float[] x, float[] gamma, float[] dout, float[] mean, float[] rstd,
                            int rows, int C) {
        res[0] = new float[rows * C];
        res[1] = new float[C];
        res[2] = new float[C];
        LayerNorm.backward(res[0], res[1], res[2], dout, x, gamma, mean, rstd, rows, C);
    }

    @Test
    void badInput() {
        float[] x = new float[10], g = new float[5], m = new float[2], s = new float[2];
        assertBadInput(() -> LayerNorm.forward(new float[10], m, s, x, g, null, 3, 5, EPS),
                "layerNorm", "rows=3", "C=5", "x", "10", "15");
        assertBadInput(() -> LayerNorm.forward(new float[10], m, s, x, new float[4], null, 2, 5, EPS),
                "layerNorm", "gamma");
        assertBadInput(() -> LayerNorm.forward(new float[10], m, s, x, g, null, 2, 0, EPS), "layerNorm", "C");
        assertBadInput(() -> LayerNorm.backward(new float[9], g, null, x, x, g, m, s, 2, 5),
                "layerNormBackward", "dx", "9", "10");
        assertBadInput(() -> LayerNorm.backward(new float[10], g, new float[1], x, x, g, m, s, 2, 5),
                "layerNormBackward", "dbeta");
    }

    /** Forward and (accumulating) backward of one case against the double reference. */
    private void compare(int rows, int C, float[] x, boolean bias, String label, double tol) {
        float[] gamma = randn(rng, C, 1), beta = bias ? randn(rng, C, 1) : null;
        float[] out = new float[rows * C], mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(out, mean, rstd, x, gamma, beta, rows, C, EPS);

        double[] dOut = new double[rows * C], dMean = new double[rows], dRstd = new double[rows];
        double[] dx = toDouble(x), dGamma = toDouble(gamma), dBeta = bias ? toDouble(beta) : null;
        Reference.layerNormForward(dOut, dMean, dRstd, dx, dGamma, dBeta, rows, C, EPS);
        assertClose(label + " out", dOut, out, tol);
        assertClose(label + " mean", dMean, mean, tol);
        assertClose(label + " rstd", dRstd, rstd, tol);

        float[] dout = randn(rng, rows * C, 1);
        float[] gx = randn(rng, rows * C, 1), gg = randn(rng, C, 1), gb = randn(rng, C, 1);
        double[] rgx = toDouble(gx), rgg = toDouble(gg), rgb = toDouble(gb);
        LayerNorm.backward(gx, gg, bias ? gb : null, dout, x, gamma, mean, rstd, rows, C);
        // The reference uses its own μ and rstd: any error in the saved float statistics shows up here too.
        Reference.layerNormBackward(rgx, rgg, bias ? rgb : null, toDouble(dout), dx, dGamma, dMean, dRstd, rows, C);
        assertClose(label + " dx", rgx, gx, tol);
        assertClose(label + " dgamma", rgg, gg, tol);
        if (bias) {
            assertClose(label + " dbeta", rgb, gb, tol);
        }
    }
}
