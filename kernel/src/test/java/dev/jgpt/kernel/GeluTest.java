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

    @Test
    void badInput() {
        assertBadInput(() -> Gelu.forward(new float[4], new float[3], 4), "gelu", "x", "3", "4");
        assertBadInput(() -> Gelu.backward(new float[4], new float[4], new float[2], 4), "geluBackward", "dout");
        assertBadInput(() -> Gelu.forward(new float[4], new float[4], -1), "gelu", "-1");
    }

    private static void check(String what, double expected, float actual) {
        double err = Math.abs(actual - expected);
        if (!(err <= 1e-5 * Math.abs(expected) + 1e-30)) {
            fail(what + ": got " + actual + ", expected " + expected);
        }
    }
}
