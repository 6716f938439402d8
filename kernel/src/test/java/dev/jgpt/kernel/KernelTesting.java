package dev.jgpt.kernel;

import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared helpers for the kernel tests.
 *
 * <p>Tolerances. A float kernel is compared with {@link Reference} run in double on the same (exactly
 * converted) inputs, so the difference is the kernel's own float32 rounding. One float operation has
 * relative error ≤ u = 2⁻²⁴ ≈ 6e-8; a length-n sum has error ≲ n·u·Σ|terms| in the worst case and
 * ≈ √n·u·Σ|terms| typically (lane-wise SIMD partial sums make it shorter still). For the small shapes in
 * these tests (n ≤ ~130 terms per sum, a few operations deep) that is ≲ 1e-6 of the operand scale;
 * the tests allow 1e-5 of it, leaving a 10× margin while still catching any indexing or formula error
 * (those are O(1)). Errors are measured as |a − e| / (|e| + scale) where scale is the RMS of the
 * expected tensor: rounding error is proportional to the operands, not to a result that happens to
 * cancel to near 0, so an element-wise pure relative test would be wrong near zero.
 */
final class KernelTesting {
    private KernelTesting() {}

    static float[] randn(SplittableRandom rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (gaussian(rng) * std);
        }
        return a;
    }

    static double[] randnD(SplittableRandom rng, int n, double std) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = gaussian(rng) * std;
        }
        return a;
    }

    static float[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return a;
    }

    private static double gaussian(SplittableRandom rng) {
        return rng.nextGaussian();
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static double rms(double[] e, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += e[i] * e[i];
        }
        return n == 0 ? 0 : Math.sqrt(s / n);
    }

    /** Asserts max_i |a_i − e_i| / (|e_i| + RMS(e) + floor) ≤ tol over the first n elements. */
    static void assertClose(String what, double[] expected, float[] actual, int n, double tol, double floor) {
        double scale = rms(expected, n) + floor;
        double worst = 0;
        int at = -1;
        for (int i = 0; i < n; i++) {
            double e = expected[i], a = actual[i];
            if (!Double.isFinite(a) && a != e) {
                fail(what + "[" + i + "] = " + a + ", expected " + e);
            }
            if (a == e) {
                continue;
            }
            double err = Math.abs(a - e) / (Math.abs(e) + scale);
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        if (System.getenv("JGPT_KERNEL_VERBOSE") != null) {
            System.out.printf("%-50s worst error %.2e (tolerance %.0e)%n", what, worst, tol);
        }
        if (worst > tol) {
            fail(what + ": error " + worst + " > " + tol + " at [" + at + "]: got " + actual[at]
                    + ", expected " + expected[at] + " (scale " + scale + ")");
        }
    }

    static void assertClose(String what, double[] expected, float[] actual, double tol) {
        assertClose(what, expected, actual, expected.length, tol, 0);
    }

    /**
     * Centred finite differences of a scalar function of x (x is perturbed in place and restored),
     * compared element-wise with the analytic gradient: |a − n| ≤ 1e-6·max(|a|, |n|) + 1e-9.
     * The absolute 1e-9 only matters for exact-zero gradients, where the difference quotient is pure
     * rounding noise of size ≈ ε_double·|f|/h ≈ 1e-10.
     */
    static void checkGradient(String what, double[] x, double[] analytic, ToDoubleFunction<double[]> f) {
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double old = x[i];
            x[i] = old + h;
            double fp = f.applyAsDouble(x);
            x[i] = old - h;
            double fm = f.applyAsDouble(x);
            x[i] = old;
            double num = (fp - fm) / (2 * h);
            double a = analytic[i];
            double tol = 1e-6 * Math.max(Math.abs(a), Math.abs(num)) + 1e-9;
            if (!(Math.abs(a - num) <= tol)) {
                fail(what + "[" + i + "]: analytic " + a + " vs numeric " + num
                        + " (relative error " + Math.abs(a - num) / Math.max(Math.abs(a), Math.abs(num)) + ")");
            }
        }
    }

    /** Σ w·y: the scalar loss whose gradient with respect to y is w (used to test backward passes). */
    static double weighted(double[] w, double[] y) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            s += w[i] * y[i];
        }
        return s;
    }

    /** Asserts an IllegalArgumentException whose message contains every given fragment. */
    static void assertBadInput(Runnable r, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }

    /** Runs body with the kernel pool set to the given thread count, restoring it afterwards. */
    static void withThreads(int n, Runnable body) {
        int old = Parallel.threads();
        Parallel.setThreads(n);
        try {
            body.run();
        } finally {
            Parallel.setThreads(old);
        }
    }

    static void assertBitEqual(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what + " length");
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                fail(what + "[" + i + "] differs: " + a[i] + " vs " + b[i]);
            }
        }
    }

    static void forEach(int[] values, IntConsumer body) {
        for (int v : values) {
            body.accept(v);
        }
    }
}
