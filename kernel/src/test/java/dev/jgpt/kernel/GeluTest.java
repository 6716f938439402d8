package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Float {@link Gelu} (σ(2u) form, vector EXP) against the tanh formula in double ({@link Reference}).
 * Element-wise: relative error ≤ 1e-5 + absolute 1e-30. The float u = √(2/π)(x + 0.044715x³) carries a
 * few u_f (≈6e-8) of relative error, which e^(−2|u|) turns into ≈|2u|·u_f relative error in the small
 * tail σ; |x| ≤ 12 here gives |2u| ≲ 100 → ≲ 6e-6. The absolute floor is for x ≪ 0, where GELU
 * underflows to 0 in float while the double reference is a denormal-sized number.
 */
class GeluTest {
    private final SplittableRandom rng = new SplittableRandom(3);

    @Test
    void forwardAndBackwardMatchReference() {
        for (int n : new int[] {1, 7, 16, 63, 129, 1000}) {
            float[] x = randn(rng, n, 3);
            if (n > 10) {
                x[0] = 0f;
                x[1] = -12f;
                x[2] = 12f;
                x[3] = -1e-30f;
                x[4] = 1e-4f;
                x[5] = -3.5f;
                x[6] = -300f;
            }
            float[] out = new float[n];
            Gelu.forward(out, x, n);
            float[] dout = randn(rng, n, 1), dx0 = randn(rng, n, 1), dx = dx0.clone();
            Gelu.backward(dx, x, dout, n);
            for (int i = 0; i < n; i++) {
                double e = Reference.gelu(x[i]);
                check("gelu(" + x[i] + ")", e, out[i]);
                double g = Reference.geluGrad(x[i]);
                // dx accumulated: compare the increment (dx0 + g·dout computed in double).
                double expected = dx0[i] + g * dout[i];
                double err = Math.abs(dx[i] - expected);
                double bound = 1e-5 * (Math.abs(g * dout[i]) + Math.abs(dx0[i])) + 1e-30;
                if (err > bound) {
                    fail("gelu' at x=" + x[i] + ": dx " + dx[i] + " expected " + expected);
                }
            }
        }
    }

    @Test
    void scalarHelpersAgreeWithVectorPath() {
        int n = 64;
        float[] x = randn(rng, n, 4), out = new float[n];
        Gelu.forward(out, x, n);
        for (int i = 0; i < n; i++) {
            check("scalar gelu", out[i], Gelu.gelu(x[i]));
            check("scalar gelu'", Reference.geluGrad(x[i]), Gelu.geluGrad(x[i]));
        }
        assertEquals(0.5f, Gelu.geluGrad(0f), 1e-7f);
    }

    @Test
    void extremesStayFinite() {
        float[] x = {-1e30f, -1e6f, -90f, 90f, 1e6f, 3e38f};
        float[] out = new float[x.length], dx = new float[x.length], ones = {1, 1, 1, 1, 1, 1};
        Gelu.forward(out, x, x.length);
        Gelu.backward(dx, x, ones, x.length);
        for (int i = 0; i < x.length; i++) {
            assertTrue(Float.isFinite(out[i]), "gelu(" + x[i] + ") = " + out[i]);
            assertTrue(Float.isFinite(dx[i]), "gelu'(" + x[i] + ") = " + dx[i]);
            // Far from 0, GELU is x or 0 and GELU' is 1 or 0 to far below float resolution.
            assertEquals(x[i] > 0 ? x[i] : 0f, out[i], x[i] > 0 ? x[i] * 1e-6f : 0f, "gelu(" + x[i] + ")");
            assertEquals(x[i] > 0 ? 1f : 0f, dx[i], 0f, "gelu'(" + x[i] + ")");
        }
    }

    /**
     * {@link Gelu#forwardOfLinear} (a = GELU(h), d = GELU'(h) for h = x·Wᵀ + b, made in the product's tiles)
     * on odd shapes (edge tiles, masked tails, the small-product paths) and both thread counts: h is the
     * product {@link Gemm#linearForward} gives (its own tests check it against double precision); a and d
     * against the double GELU and GELU' of h; the same bits on 1 and 2 threads.
     */
    @Test
    void forwardOfLinearMatchesReference() {
        int[][] shapes = {{1, 5, 3}, {7, 13, 17}, {13, 33, 65}, {50, 40, 130}, {200, 100, 70}};
        for (int[] s : shapes) {
            int M = s[0], K = s[1], N = s[2];
            float[] x = randn(rng, M * K, 1), w = randn(rng, N * K, 0.5), h = new float[M * N];
            float[] b = M % 2 == 1 ? randn(rng, N, 1) : null;   // with a bias and without
            Gemm.linearForward(h, x, w, b, M, K, N);
            float[][] one = new float[2][], two = new float[2][];
            for (int threads : new int[] {1, 2}) {
                float[] a = new float[M * N], d = new float[M * N];
                KernelTesting.withThreads(threads, () -> Gelu.forwardOfLinear(a, d, x, w, b, M, K, N));
                for (int i = 0; i < M * N; i++) {
                    String at = M + "x" + K + "x" + N + " [" + i + "], h = " + h[i];
                    check("a " + at, Reference.gelu(h[i]), a[i]);
                    double g = Reference.geluGrad(h[i]);
                    // GELU' in float: within 1e-5 relative, and ~1e-7 absolute where its two terms cancel (x ≈ −0.75).
                    assertEquals(g, d[i], 1e-5 * Math.abs(g) + 1e-6, "d " + at);
                }
                if (threads == 1) {
                    one = new float[][] {a, d};
                } else {
                    two = new float[][] {a, d};
                }
            }
            KernelTesting.assertBitEqual("a, threads 1 vs 2", one[0], two[0]);
            KernelTesting.assertBitEqual("d, threads 1 vs 2", one[1], two[1]);
        }
    }

    /**
     * {@link Gelu#backwardThroughLinear} for y = GELU(h)·Wᵀ + b on odd shapes and both thread counts, from
     * d = GELU'(h) and a = GELU(h) as {@link Gelu#forwardOfLinear} leaves them: dh = d·(dy·W) OVERWRITES dh
     * (it starts as garbage), dW and db accumulate onto what they held; each against double precision,
     * and the same bits on 1 and 2 threads (the last two shapes split their rows between the two threads, the
     * worker's rows of dh taking d from their own rows).
     */
    @Test
    void backwardThroughLinearMatchesReference() {
        int[][] shapes = {{1, 5, 3}, {7, 17, 13}, {13, 65, 33}, {50, 130, 40}, {200, 100, 70}, {300, 160, 96}};
        for (int[] s : shapes) {
            int M = s[0], K = s[1], N = s[2];
            float[] h = randn(rng, M * K, 2), a = new float[M * K], d = new float[M * K];
            float[] w = randn(rng, N * K, 0.5), dy = randn(rng, M * N, 1);
            Gelu.forward(a, h, M * K);
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) Reference.geluGrad(h[i]);
            }
            float[] dh0 = randn(rng, M * K, 5), dw0 = randn(rng, N * K, 1), db0 = randn(rng, N, 1);
            float[][] one = new float[3][], two = new float[3][];
            for (int threads : new int[] {1, 2}) {
                float[] dh = dh0.clone(), dw = dw0.clone(), db = db0.clone();
                KernelTesting.withThreads(threads, () -> Gelu.backwardThroughLinear(dh, dw, db, dy, d, a, w, M, K, N));
                String shape = M + "x" + K + "x" + N;
                for (int i = 0; i < M; i++) {
                    for (int k = 0; k < K; k++) {
                        double g = 0, mag = 0;
                        for (int n = 0; n < N; n++) {
                            g += (double) dy[i * N + n] * w[n * K + k];
                            mag += Math.abs((double) dy[i * N + n] * w[n * K + k]);
                        }
                        double grad = d[i * K + k];
                        double tol = (N + 3) * Math.ulp(1f) * mag * Math.abs(grad) + 1e-30;
                        assertEquals(grad * g, dh[i * K + k], tol, "dh " + shape + " [" + i + "," + k + "]");
                    }
                }
                double eps = Math.ulp(1f);
                for (int n = 0; n < N; n++) {
                    double gb = db0[n], magB = Math.abs(db0[n]);
                    for (int i = 0; i < M; i++) {
                        gb += dy[i * N + n];
                        magB += Math.abs(dy[i * N + n]);
                    }
                    assertEquals(gb, db[n], (M + 2) * eps * magB, "db " + shape);
                    for (int k = 0; k < K; k++) {
                        double g = dw0[n * K + k], mag = Math.abs(dw0[n * K + k]);
                        for (int i = 0; i < M; i++) {
                            g += (double) dy[i * N + n] * a[i * K + k];
                            mag += Math.abs((double) dy[i * N + n] * a[i * K + k]);
                        }
                        assertEquals(g, dw[n * K + k], (M + 2) * eps * mag, "dW " + shape + " [" + n + "," + k + "]");
                    }
                }
                if (threads == 1) {
                    one = new float[][] {dh, dw, db};
                } else {
                    two = new float[][] {dh, dw, db};
                }
            }
            KernelTesting.assertBitEqual("dh, threads 1 vs 2", one[0], two[0]);
            KernelTesting.assertBitEqual("dW, threads 1 vs 2", one[1], two[1]);
            KernelTesting.assertBitEqual("db, threads 1 vs 2", one[2], two[2]);
        }
    }

    @Test
    void badInput() {
        assertBadInput(() -> Gelu.forward(new float[4], new float[3], 4), "gelu", "x", "3", "4");
        assertBadInput(() -> Gelu.backward(new float[4], new float[4], new float[2], 4), "geluBackward", "dout");
        assertBadInput(() -> Gelu.forward(new float[4], new float[4], -1), "gelu", "-1");
        assertBadInput(() -> Gelu.forwardOfLinear(new float[5], new float[6], new float[6], new float[9], null, 2, 3, 3),
                "geluForwardOfLinear", "a", "5", "6");
        assertBadInput(() -> Gelu.backwardThroughLinear(new float[6], new float[6], null, new float[4], new float[5],
                new float[6], new float[6], 2, 3, 2), "geluBackwardThroughLinear", "d", "5", "6");
    }

    private static void check(String what, double expected, float actual) {
        double err = Math.abs(actual - expected);
        if (!(err <= 1e-5 * Math.abs(expected) + 1e-30)) {
            fail(what + ": got " + actual + ", expected " + expected);
        }
    }
}
