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

/**
 * Float {@link RmsNorm} against {@link Reference} (tolerance argued in {@link KernelTesting}: one
 * length-C sum of squares and a few operations per element, C ≤ 576 here).
 */
class RmsNormTest {
    private static final float EPS = 1e-5f;
    private static final double TOL = 1e-5;
    private final SplittableRandom rng = new SplittableRandom(17);

    @Test
    void matchesReferenceOnOddSizesAndScales() {
        for (int C : new int[] {1, 7, 16, 63, 64, 129, 576}) {
            for (int rows : new int[] {1, 5}) {
                // Scales: ordinary; 3e18, where Σx² passes float's 3.4e38 for longer rows; 1e30, where every
                // x² overflows float (the row is redone in double); 1e-30, where every x² underflows and ε rules.
                for (double scale : new double[] {1, 3e18, 1e30, 1e-30}) {
                    compare(rows, C, randn(rng, rows * C, scale), EPS, "C=" + C + " rows=" + rows + " scale=" + scale);
                }
                // ε = 0 at a small scale whose squares are still normal floats: pure x/RMS(x).
                compare(rows, C, randn(rng, rows * C, 1e-15), 0f, "C=" + C + " rows=" + rows + " eps=0");
            }
        }
    }

    @Test
    void normalisesFirstThenMultipliesTheWeightInFloat() {
        // Hugging Face's LlamaRMSNorm: weight * (x * rsqrt(mean(x²) + ε)), in float32. The output is exactly
        // that product of floats, given the saved rstd.
        int rows = 3, C = 37;
        float[] x = randn(rng, rows * C, 2), w = randn(rng, C, 1);
        float[] out = new float[rows * C], rstd = new float[rows];
        RmsNorm.forward(out, rstd, x, w, rows, C, EPS);
        for (int i = 0; i < rows * C; i++) {
            assertEquals(Float.floatToIntBits((x[i] * rstd[i / C]) * w[i % C]), Float.floatToIntBits(out[i]), "at " + i);
        }
    }

    @Test
    void backwardOntoABaseIsCopyThenAccumulate() {
        int rows = 37, C = 129;   // C not a multiple of the vector length: the scalar tail too
        float[] x = randn(rng, rows * C, 1), w = randn(rng, C, 1), dout = randn(rng, rows * C, 1);
        float[] base = randn(rng, rows * C, 1), rstd = new float[rows];
        RmsNorm.forward(new float[rows * C], rstd, x, w, rows, C, EPS);
        float[] copied = base.clone(), gw1 = new float[C];
        RmsNorm.backward(copied, gw1, dout, x, w, rstd, rows, C);
        float[] onto = randn(rng, rows * C, 1), gw2 = new float[C];   // old contents ignored
        float[] baseBefore = base.clone();
        RmsNorm.backward(onto, base, gw2, dout, x, w, rstd, rows, C);
        assertBitEqual("dx", copied, onto);
        assertBitEqual("dweight", gw1, gw2);
        assertBitEqual("base untouched", baseBefore, base);
    }

    @Test
    void zeroRowsAndNoRows() {
        int rows = 3, C = 129;
        float[] x = randn(rng, rows * C, 1);
        java.util.Arrays.fill(x, C, 2 * C, 0f);          // the middle row is all zeros
        float[] w = randn(rng, C, 1), out = randn(rng, rows * C, 1), rstd = new float[rows];
        RmsNorm.forward(out, rstd, x, w, rows, C, EPS);
        for (int i = C; i < 2 * C; i++) {
            assertEquals(0f, out[i], 0f, "a zero row normalises to 0");
        }
        assertEquals((float) (1 / Math.sqrt(EPS)), rstd[1], 1e-3f);
        compare(rows, C, x, EPS, "zero row");
        // rows = 0 is a no-op on empty arrays; dweight is left as it was.
        float[] dw = {1f, 2f};
        RmsNorm.forward(new float[0], new float[0], new float[0], new float[2], 0, 2, EPS);
        RmsNorm.backward(new float[0], dw, new float[0], new float[0], new float[2], new float[0], 0, 2);
        assertEquals(1f, dw[0]);
        assertEquals(2f, dw[1]);
    }

    @Test
    void independentOfThreadCount() {
        int rows = 200, C = 129;   // enough rows that the dweight blocks are split across threads
        float[] x = randn(rng, rows * C, 1), w = randn(rng, C, 1), dout = randn(rng, rows * C, 1);
        float[][] one = run(x, w, dout, rows, C, 1);
        for (int threads : new int[] {2, 3}) {
            float[][] many = run(x, w, dout, rows, C, threads);
            assertBitEqual("out, " + threads + " threads", one[0], many[0]);
            assertBitEqual("rstd, " + threads + " threads", one[1], many[1]);
            assertBitEqual("dx, " + threads + " threads", one[2], many[2]);
            assertBitEqual("dweight, " + threads + " threads", one[3], many[3]);
        }
    }

    private static float[][] run(float[] x, float[] w, float[] dout, int rows, int C, int threads) {
        float[] out = new float[rows * C], rstd = new float[rows], dx = new float[rows * C], dw = new float[C];
        withThreads(threads, () -> {
            RmsNorm.forward(out, rstd, x, w, rows, C, EPS);
            RmsNorm.backward(dx, dw, dout, x, w, rstd, rows, C);
        });
        return new float[][] {out, rstd, dx, dw};
    }

    @Test
    void badInput() {
        float[] x = new float[10], w = new float[5], s = new float[2];
        assertBadInput(() -> RmsNorm.forward(new float[10], s, x, w, 3, 5, EPS), "rmsNorm", "rows=3", "C=5", "x", "15");
        assertBadInput(() -> RmsNorm.forward(new float[10], s, x, new float[4], 2, 5, EPS), "rmsNorm", "weight");
        assertBadInput(() -> RmsNorm.forward(new float[10], s, x, w, 2, 0, EPS), "rmsNorm", "C");
        assertBadInput(() -> RmsNorm.forward(new float[10], s, x, w, 2, 5, -1f), "rmsNorm", "eps");
        assertBadInput(() -> RmsNorm.forward(new float[10], s, x, w, -1, 5, EPS), "rmsNorm", "rows", "-1");
        assertBadInput(() -> RmsNorm.backward(new float[9], w, x, x, w, s, 2, 5), "rmsNormBackward", "dx", "9", "10");
        assertBadInput(() -> RmsNorm.backward(new float[10], new float[1], x, x, w, s, 2, 5),
                "rmsNormBackward", "dweight");
    }

    /** Forward and (accumulating) backward of one case against the double reference. */
    private void compare(int rows, int C, float[] x, float eps, String label) {
        float[] w = randn(rng, C, 1);
        float[] out = new float[rows * C], rstd = new float[rows];
        RmsNorm.forward(out, rstd, x, w, rows, C, eps);
        double[] rOut = new double[rows * C], rRstd = new double[rows], rx = toDouble(x), rw = toDouble(w);
        Reference.rmsNormForward(rOut, rRstd, rx, rw, rows, C, eps);
        assertClose(label + " out", rOut, out, TOL);
        assertClose(label + " rstd", rRstd, rstd, TOL);

        float[] dout = randn(rng, rows * C, 1);
        // Non-zero starts (backward accumulates), dx's at the size of its increments rstd·g·dout.
        float[] gx = randn(rng, rows * C, rRstd[0]), gw = randn(rng, C, 1);
        double[] rgx = toDouble(gx), rgw = toDouble(gw);
        RmsNorm.backward(gx, gw, dout, x, w, rstd, rows, C);
        Reference.rmsNormBackward(rgx, rgw, toDouble(dout), rx, rw, rRstd, rows, C);
        assertClose(label + " dx", rgx, gx, TOL);
        assertClose(label + " dweight", rgw, gw, TOL);
    }
}
