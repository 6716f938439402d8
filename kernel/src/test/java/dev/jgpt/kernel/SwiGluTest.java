package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.uniform;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Float {@link SwiGlu} against {@link Reference}, element by element. The float path has a few roundings
 * per element (e^(−|a|) within 2 ulp of an exact argument, one division, two or three products), so its
 * error is a few u ≈ 6e-8 of the size of the terms it adds; the tests allow 1e-5 of that size (for
 * silu', the size of σ and a·σ(1−σ) apart, which cancel near its zero at a ≈ −1.28), plus an absolute
 * 1e-30 for a ≪ 0, where float's e^a underflows to 0 while the double reference is a tiny number.
 */
class SwiGluTest {
    private final SplittableRandom rng = new SplittableRandom(19);

    /** Gates at the edges: 0, ±tiny, the zero of silu', the ends of exp's range, huge and infinite-adjacent. */
    private static final float[] EDGES = {0f, -0f, 1e-30f, -1e-30f, -1.2784645f, 20f, -20f, 87f, -87f, 88f, -88f,
            90f, -90f, 1e4f, -1e4f, 1e30f, -1e30f, 3e38f, -3e38f};

    @Test
    void forwardAndBackwardMatchReference() {
        for (int I : new int[] {1, 7, 16, 63, 129}) {
            for (int rows : new int[] {1, 3}) {
                float[] gu = randn(rng, rows * 2 * I, 3);
                compare(gu, rows, I, "I=" + I + " rows=" + rows);
            }
        }
    }

    @Test
    void extremeGates() {
        int rows = 2, I = EDGES.length;
        // Ups in [−½, ½] so silu(3e38)·up stays a float.
        float[] gu = uniform(rng, rows * 2 * I, -0.5, 0.5);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(EDGES, 0, gu, 2 * r * I, I);
        }
        compare(gu, rows, I, "edges");
        float[] out = new float[rows * I], d = new float[gu.length];
        float[] ones = new float[rows * I];
        java.util.Arrays.fill(ones, 1f);
        SwiGlu.forward(out, gu, rows, I);
        SwiGlu.backward(d, ones, gu, rows, I);
        for (float f : out) {
            assertTrue(Float.isFinite(f), "finite outputs");
        }
        for (float f : d) {
            assertTrue(Float.isFinite(f), "finite gradients");
        }
    }

    @Test
    void noRowsIsANoOp() {
        SwiGlu.forward(new float[0], new float[0], 0, 5);
        SwiGlu.backward(new float[0], new float[0], new float[0], 0, 5);
    }

    @Test
    void independentOfThreadCount() {
        // 70 rows of 1001: the threads' chunks start in the middle of rows, at offsets that are not
        // multiples of the vector length, so elements move between full and masked vectors.
        int rows = 70, I = 1001;
        float[] gu = randn(rng, rows * 2 * I, 3), dout = randn(rng, rows * I, 1);
        float[][] one = run(gu, dout, rows, I, 1);
        for (int threads : new int[] {2, 3}) {
            float[][] many = run(gu, dout, rows, I, threads);
            assertBitEqual("out, " + threads + " threads", one[0], many[0]);
            assertBitEqual("dGateUp, " + threads + " threads", one[1], many[1]);
        }
    }

    private static float[][] run(float[] gu, float[] dout, int rows, int I, int threads) {
        float[] out = new float[rows * I], d = new float[gu.length];
        withThreads(threads, () -> {
            SwiGlu.forward(out, gu, rows, I);
            SwiGlu.backward(d, dout, gu, rows, I);
        });
        return new float[][] {out, d};
    }

    @Test
    void badInput() {
        assertBadInput(() -> SwiGlu.forward(new float[6], new float[10], 2, 3), "swiglu", "rows=2", "I=3", "gateUp", "12");
        assertBadInput(() -> SwiGlu.forward(new float[5], new float[12], 2, 3), "swiglu", "out", "6");
        assertBadInput(() -> SwiGlu.forward(new float[6], new float[12], 2, 0), "swiglu", "I");
        assertBadInput(() -> SwiGlu.backward(new float[11], new float[6], new float[12], 2, 3),
                "swigluBackward", "dGateUp", "12");
        assertBadInput(() -> SwiGlu.backward(new float[12], new float[5], new float[12], 2, 3), "swigluBackward", "dout");
    }

    private void compare(float[] gu, int rows, int I, String label) {
        float[] out = new float[rows * I];
        SwiGlu.forward(out, gu, rows, I);
        float[] dout = randn(rng, rows * I, 1), d0 = randn(rng, gu.length, 1), d = d0.clone();
        SwiGlu.backward(d, dout, gu, rows, I);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < I; i++) {
                int g = 2 * r * I + i, u = g + I, o = r * I + i;
                double a = gu[g], up = gu[u], dy = dout[o];
                double sig = 1 / (1 + Math.exp(-a));
                check(label + " out at gate " + a, Reference.silu(a) * up, out[o], Math.abs(Reference.silu(a) * up));
                check(label + " dgate at gate " + a, d0[g] + dy * up * Reference.siluGrad(a), d[g],
                        Math.abs(d0[g]) + Math.abs(dy * up) * (sig + Math.abs(a * sig * (1 - sig))));
                check(label + " dup at gate " + a, d0[u] + dy * Reference.silu(a), d[u],
                        Math.abs(d0[u]) + Math.abs(dy * Reference.silu(a)));
            }
        }
    }

    private static void check(String what, double expected, float actual, double size) {
        if (!(Math.abs(actual - expected) <= 1e-5 * size + 1e-30)) {
            fail(what + ": got " + actual + ", expected " + expected);
        }
        assertEquals(expected, actual, 1e-5 * size + 1e-30);
    }
}
