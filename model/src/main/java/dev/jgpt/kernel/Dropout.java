package dev.jgpt.kernel;

import java.util.SplittableRandom;

/** Inverted dropout: keep with probability 1−p and scale by 1/(1−p); the mask holds that scale or 0. */
public final class Dropout {
    private Dropout() {}

    public static void forward(float[] out, float[] mask, float[] x, int n, float p, SplittableRandom rng) {
        if (p < 0f || p >= 1f) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        }
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) {
            mask[i] = rng.nextFloat() < p ? 0f : keep;
            out[i] = x[i] * mask[i];
        }
    }

    /** dx += mask·dout. */
    public static void backward(float[] dx, float[] mask, float[] dout, int n) {
        for (int i = 0; i < n; i++) {
            dx[i] += mask[i] * dout[i];
        }
    }
}
