package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.Simd.F;

/** Inverted dropout: keep with probability 1−p and scale by 1/(1−p); the mask holds that scale or 0. */
public final class Dropout {
    private Dropout() {}

    /**
     * Draws mask[i] (one rng.nextFloat() per element, in order, so a seeded rng gives a reproducible
     * mask) and writes out = x·mask. The draw is sequential; the multiply is SIMD.
     */
    public static void forward(float[] out, float[] mask, float[] x, int n, float p, SplittableRandom rng) {
        checkForward(out, mask, x, n, p);
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) {
            mask[i] = rng.nextFloat() < p ? 0f : keep;
        }
        mul(out, x, mask, n);
    }

    /** Elements per independently seeded block in {@link #forward(float[], float[], float[], int, float, long)}. */
    static final int SEED_BLOCK = 1 << 14;

    /**
     * Same as {@link #forward(float[], float[], float[], int, float, SplittableRandom)} but parallel: the
     * mask is drawn in fixed blocks of {@value #SEED_BLOCK} elements, block k from its own
     * {@code new SplittableRandom(seed + k·0x9E3779B97F4A7C15L)}, so it depends only on (seed, n, p) and
     * not on the thread count. The caller supplies a fresh seed per call (e.g. from its own rng).
     */
    public static void forward(float[] out, float[] mask, float[] x, int n, float p, long seed) {
        checkForward(out, mask, x, n, p);
        float keep = 1f / (1f - p);
        int blocks = (n + SEED_BLOCK - 1) / SEED_BLOCK;
        Parallel.forRange(blocks, 2, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                SplittableRandom rng = new SplittableRandom(seed + b * 0x9E3779B97F4A7C15L);
                int s = b * SEED_BLOCK, e = Math.min(n, s + SEED_BLOCK);
                for (int i = s; i < e; i++) {
                    mask[i] = rng.nextFloat() < p ? 0f : keep;
                }
                mulRange(out, x, mask, s, e);
            }
        });
    }

    /** out = x·mask for a mask drawn earlier (the same mask forward would apply). */
    public static void apply(float[] out, float[] x, float[] mask, int n) {
        String op = "dropoutApply(n=" + n + ")";
        Checks.nonNegative(op, "n", n);
        Checks.length(op, "x", x, n);
        Checks.length(op, "out", out, n);
        Checks.length(op, "mask", mask, n);
        mul(out, x, mask, n);
    }

    /** dx += mask·dout. */
    public static void backward(float[] dx, float[] mask, float[] dout, int n) {
        String op = "dropoutBackward(n=" + n + ")";
        Checks.nonNegative(op, "n", n);
        Checks.length(op, "dx", dx, n);
        Checks.length(op, "mask", mask, n);
        Checks.length(op, "dout", dout, n);
        Parallel.forRange(n, 1 << 15, (s, e) -> {
            int i = s;
            for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
                FloatVector.fromArray(F, mask, i).fma(FloatVector.fromArray(F, dout, i), FloatVector.fromArray(F, dx, i))
                        .intoArray(dx, i);
            }
            for (; i < e; i++) {
                dx[i] = Math.fma(mask[i], dout[i], dx[i]);   // same rounding as the vector body
            }
        });
    }

    private static void mul(float[] out, float[] x, float[] mask, int n) {
        Parallel.forRange(n, 1 << 15, (s, e) -> mulRange(out, x, mask, s, e));
    }

    private static void mulRange(float[] out, float[] x, float[] mask, int s, int e) {
        int i = s;
        for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(FloatVector.fromArray(F, mask, i)).intoArray(out, i);
        }
        for (; i < e; i++) {
            out[i] = x[i] * mask[i];
        }
    }

    private static void checkForward(float[] out, float[] mask, float[] x, int n, float p) {
        String op = "dropout(n=" + n + ", p=" + p + ")";
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        }
        Checks.nonNegative(op, "n", n);
        Checks.length(op, "x", x, n);
        Checks.length(op, "out", out, n);
        Checks.length(op, "mask", mask, n);
    }
}
