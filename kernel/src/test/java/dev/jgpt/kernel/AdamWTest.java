package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertClose;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;

/**
 * Float {@link AdamW} against {@link Reference} over several steps. Each step is a handful of float
 * operations per element (relative error ≲ 10u on m, v and the update), compounded over 5 steps:
 * 1e-5 relative on m and v. Parameters are compared by their change θ − θ₀ (the update, ~lr in size),
 * not θ itself, where the error would hide behind θ's magnitude.
 */
class AdamWTest {
    @Test
    void matchesReferenceOverSeveralSteps() {
        SplittableRandom rng = new SplittableRandom(13);
        int n = 1000 + 7;   // a tail past the last full vector
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.99f, eps = 1e-8f, wd = 0.1f;
        float[] p = randn(rng, n, 1), p0 = p.clone(), m = new float[n], v = new float[n];
        double[] rp = toDouble(p), rm = new double[n], rv = new double[n];
        for (int step = 1; step <= 5; step++) {
            float[] g = randn(rng, n, step == 3 ? 1e-6 : 1);   // step 3: tiny gradients, ε matters
            g[0] = 0f;
            AdamW.update(p, g, m, v, n, lr, b1, b2, eps, wd, step);
            // The reference uses the float hyper-parameters' exact values.
            Reference.adamW(rp, toDouble(g), rm, rv, n, lr, b1, b2, eps, wd, step);
        }
        assertClose("m", rm, m, 1e-5);
        assertClose("v", rv, v, 1e-5);
        double[] dExp = new double[n];
        float[] dGot = new float[n];
        for (int i = 0; i < n; i++) {
            dExp[i] = rp[i] - p0[i];
            dGot[i] = p[i] - p0[i];
        }
        // θ − θ₀ in float loses up to ulp(θ) ≈ 1e-7 against updates of ~5e-3: ~2e-5 relative.
        assertClose("θ − θ₀", dExp, dGot, 1e-4);
    }

    @Test
    void manyTensorsInOnePassMatchOneByOneBitForBit() {
        // Empty, tail-only, exactly one piece, a piece and a tail, several pieces: each element must get
        // exactly what the one-tensor update gives it, on any thread count.
        int[] sizes = {0, 7, 1 << 15, (1 << 15) + 5, 100_003, 3};
        float[] decay = {0.1f, 0f, 0.1f, 0f, 0.1f, 0.1f};
        for (int threads : new int[] {1, 2}) {
            SplittableRandom rng = new SplittableRandom(5);
            int k = sizes.length;
            float[][] p = new float[k][], g = new float[k][], m = new float[k][], v = new float[k][];
            float[][] p1 = new float[k][], m1 = new float[k][], v1 = new float[k][];
            for (int i = 0; i < k; i++) {
                p[i] = randn(rng, sizes[i], 1);
                g[i] = randn(rng, sizes[i], 1);
                m[i] = randn(rng, sizes[i], 0.1);
                v[i] = randn(rng, sizes[i], 0.1);
                for (int j = 0; j < sizes[i]; j++) {
                    v[i][j] = Math.abs(v[i][j]);
                }
                p1[i] = p[i].clone();
                m1[i] = m[i].clone();
                v1[i] = v[i].clone();
            }
            KernelTesting.withThreads(threads, () -> {
                AdamW.update(p, g, m, v, decay, 1e-3f, 0.9f, 0.99f, 1e-8f, 7);
                for (int i = 0; i < k; i++) {
                    AdamW.update(p1[i], g[i], m1[i], v1[i], sizes[i], 1e-3f, 0.9f, 0.99f, 1e-8f, decay[i], 7);
                }
            });
            for (int i = 0; i < k; i++) {
                KernelTesting.assertBitEqual("θ of tensor " + i + ", " + threads + " threads", p1[i], p[i]);
                KernelTesting.assertBitEqual("m of tensor " + i, m1[i], m[i]);
                KernelTesting.assertBitEqual("v of tensor " + i, v1[i], v[i]);
            }
        }
    }

    @Test
    void badInput() {
        float[] a = new float[4];
        assertBadInput(() -> AdamW.update(a, a, a, a, 4, 1e-3f, 0.9f, 0.99f, 1e-8f, 0f, 0), "adamW", "step", "1-based");
        assertBadInput(() -> AdamW.update(a, new float[3], a, a, 4, 1e-3f, 0.9f, 0.99f, 1e-8f, 0f, 1),
                "adamW", "n=4", "grad", "3");
    }
}
