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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Float {@link Attention} against {@link Reference}. Each output is a chain of two length-≤T or
 * length-hs sums (scores, then P·V; the backward adds a third), T, hs ≤ 64 here: float error ≲ 1e-6 of
 * the operand scale, tolerance 1e-5 (see {@link KernelTesting}).
 */
class AttentionTest {
    private static final double TOL = 1e-5;
    private final SplittableRandom rng = new SplittableRandom(11);

    /**
     * {B, T, C, NH}: head sizes 7 (scalar only), 21, 43, 83 = 64+16+3 and 112 = 64+32+16 (every vector
     * grouping of the kernels plus tails), 32, 64; T = 1, T below and above a vector, T not a multiple of
     * the 8-key block.
     */
    private static final int[][] SHAPES = {
            {1, 1, 7, 1}, {2, 5, 63, 3}, {1, 9, 129, 3}, {2, 17, 128, 4}, {1, 6, 64, 1}, {3, 4, 16, 2},
            {1, 19, 83, 1}, {1, 35, 224, 2}};

    @Test
    void forwardAndBackwardMatchReference() {
        for (int[] s : SHAPES) {
            compare(s[0], s[1], s[2], s[3], 1.0, "shape " + java.util.Arrays.toString(s), TOL);
        }
    }

    @Test
    void saturatedSoftmaxStaysStable() {
        // q, k ~ N(0, 30²): scores of order ±1e3·√hs, far past exp's range without the max shift.
        // Probabilities are then ~one-hot. Relative rounding of a score s is ~u·|s| ≈ 6e-8·7e3 ≈ 4e-4 absolute
        // in the exponent, i.e. ~4e-4 relative error on the few probabilities that are not 0 or 1.
        compare(2, 8, 32, 2, 30.0, "saturated", 2e-3);
    }

    @Test
    void probabilitiesAreCausalAndNormalised() {
        int B = 2, T = 7, C = 24, NH = 3;
        float[] qkv = randn(rng, B * T * 3 * C, 1), out = new float[B * T * C];
        float[] att = randn(rng, B * NH * T * T, 1);   // garbage in: forward must overwrite every entry
        Attention.forward(out, att, qkv, B, T, C, NH);
        for (int r = 0; r < B * NH * T; r++) {
            int t = r % T;
            double sum = 0;
            for (int t2 = 0; t2 < T; t2++) {
                if (t2 > t) {
                    assertEquals(0f, att[r * T + t2], "above the diagonal");
                }
                sum += att[r * T + t2];
            }
            assertEquals(1.0, sum, 1e-6);
        }
    }

    @Test
    void independentOfThreadCount() {
        int B = 2, T = 9, C = 32, NH = 2;
        float[] qkv = randn(rng, B * T * 3 * C, 1), dout = randn(rng, B * T * C, 1);
        float[][] one = run(B, T, C, NH, qkv, dout, 1), two = run(B, T, C, NH, qkv, dout, 2);
        assertBitEqual("out", one[0], two[0]);
        assertBitEqual("att", one[1], two[1]);
        assertBitEqual("dqkv", one[2], two[2]);
    }

    private static float[][] run(int B, int T, int C, int NH, float[] qkv, float[] dout, int threads) {
        float[] out = new float[B * T * C], att = new float[B * NH * T * T], dqkv = new float[qkv.length];
        withThreads(threads, () -> {
            Attention.forward(out, att, qkv, B, T, C, NH);
            Attention.backward(dqkv, dout, qkv, att, B, T, C, NH);
        });
        return new float[][] {out, att, dqkv};
    }

    @Test
    void decodeStepMatchesForward() {
        for (int[] s : new int[][] {{6, 64, 4}, {5, 63, 3}, {3, 7, 1}}) {
            int T = s[0], C = s[1], NH = s[2];
            float[] qkv = randn(rng, T * 3 * C, 1), out = new float[T * C], att = new float[NH * T * T];
            Attention.forward(out, att, qkv, 1, T, C, NH);
            // Caches live at an offset inside larger arrays, rows of C: position p's key/value for all heads.
            int cacheOff = 5;
            float[] kc = new float[cacheOff + T * C + 3], vc = new float[cacheOff + T * C + 3];
            for (int pos = 0; pos < T; pos++) {
                System.arraycopy(qkv, pos * 3 * C + C, kc, cacheOff + pos * C, C);
                System.arraycopy(qkv, pos * 3 * C + 2 * C, vc, cacheOff + pos * C, C);
                float[] o = new float[C + 2], a = new float[NH * (pos + 1)];
                Attention.decodeStep(o, 2, qkv, pos * 3 * C, kc, vc, cacheOff, pos, C, NH, a);
                for (int i = 0; i < C; i++) {
                    assertEquals(out[pos * C + i], o[2 + i], 1e-6f, "T=" + T + " pos " + pos + " channel " + i);
                }
                for (int h = 0; h < NH; h++) {
                    for (int t2 = 0; t2 <= pos; t2++) {
                        assertEquals(att[(h * T + pos) * T + t2], a[h * (pos + 1) + t2], 1e-6f);
                    }
                }
            }
            // The offset-free form on its own arrays.
            int pos = T - 1;
            float[] q = java.util.Arrays.copyOfRange(qkv, pos * 3 * C, pos * 3 * C + C);
            float[] k0 = java.util.Arrays.copyOfRange(kc, cacheOff, cacheOff + T * C);
            float[] v0 = java.util.Arrays.copyOfRange(vc, cacheOff, cacheOff + T * C);
            float[] o = new float[C];
            Attention.decodeStep(o, q, k0, v0, pos, C, NH, new float[NH * T]);
            for (int i = 0; i < C; i++) {
                assertEquals(out[pos * C + i], o[i], 1e-6f);
            }
        }
    }

    @Test
    void badInput() {
        float[] qkv = new float[2 * 3 * 3 * 12], out = new float[2 * 3 * 12], att = new float[2 * 4 * 9];
        assertBadInput(() -> Attention.forward(out, att, qkv, 2, 3, 12, 5),
                "attention", "B=2", "T=3", "C=12", "NH=5", "not divisible");
        assertBadInput(() -> Attention.forward(out, att, new float[10], 2, 3, 12, 4), "attention", "qkv", "216");
        assertBadInput(() -> Attention.forward(out, new float[5], qkv, 2, 3, 12, 4), "attention", "att");
        assertBadInput(() -> Attention.forward(out, att, qkv, 0, 3, 12, 4), "attention", "positive");
        assertBadInput(() -> Attention.backward(new float[3], out, qkv, att, 2, 3, 12, 4),
                "attentionBackward", "dqkv");
        assertBadInput(() -> Attention.decodeStep(new float[12], new float[12], new float[24], new float[24], 2, 12, 4,
                new float[12]), "attentionDecode", "pos=2", "C=12", "NH=4");
        assertBadInput(() -> Attention.decodeStep(new float[12], new float[12], new float[24], new float[24], 1, 12, 5,
                new float[12]), "attentionDecode", "divisible");
    }

    private void compare(int B, int T, int C, int NH, double std, String label, double tol) {
        float[] qkv = randn(rng, B * T * 3 * C, std);
        float[] out = new float[B * T * C], att = new float[B * NH * T * T];
        Attention.forward(out, att, qkv, B, T, C, NH);
        double[] rq = toDouble(qkv), rout = new double[out.length], ratt = new double[att.length];
        Reference.attentionForward(rout, ratt, rq, B, T, C, NH);
        for (float f : out) {
            assertTrue(Float.isFinite(f), label + ": non-finite output");
        }
        assertClose(label + " out", rout, out, tol);
        assertClose(label + " att", ratt, att, tol);

        float[] dout = randn(rng, out.length, 1);
        float[] dqkv = randn(rng, qkv.length, 1);       // non-zero start: backward must accumulate
        double[] rd = toDouble(dqkv);
        Attention.backward(dqkv, dout, qkv, att, B, T, C, NH);
        Reference.attentionBackward(rd, toDouble(dout), rq, ratt, B, T, C, NH);
        assertClose(label + " dqkv", rd, dqkv, tol);
    }
}
