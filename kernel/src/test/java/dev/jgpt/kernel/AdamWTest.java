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
    void badInput() {
        float[] a = new float[4];
        assertBadInput(() -> AdamW.update(a, a, a, a, 4, 1e-3f, 0.9f, 0.99f, 1e-8f, 0f, 0), "adamW", "step", "1-based");
        assertBadInput(() -> AdamW.update(a, new float[3], a, a, 4, 1e-3f, 0.9f, 0.99f, 1e-8f, 0f, 1),
                "adamW", "n=4", "grad", "3");
    }
}
