package dev.jgpt.kernel;

/**
 * The precomputed angles of rotary position embeddings (Su et al. 2021) for one head size, as Hugging
 * Face's Llama computes them: pair i of a head (i &lt; headDim/2) turns by pos·f_i with the inverse
 * frequency f_i = θ^(−2i/headDim), optionally rescaled by {@link Scaling} (HF's {@code rope_scaling}
 * types {@code linear} and {@code llama3}; both leave HF's attention scaling at 1).
 *
 * <p>The table holds cos(pos·f_i) and sin(pos·f_i) for positions 0..maxPositions−1, [maxPositions ×
 * headDim/2] floats each. Everything is computed in double and rounded once, so each entry is the float
 * nearest the exact value; HF computes f_i, pos·f_i and cos/sin in float32, so its entries differ from
 * these by the float rounding of the angle (≈ 2⁻²⁴·pos·f_i, up to ~5e-4 at position 8191 for f_0 = 1).
 * The table is immutable and may be shared by any number of threads and layers.
 */
public final class RopeTable {
    /** How {@code rope_scaling} changes the inverse frequencies. */
    public sealed interface Scaling {
        /** No scaling (HF's {@code default}). */
        record None() implements Scaling {}

        /** f_i / factor: positions interpolated by the factor (HF's {@code linear}). */
        record Linear(double factor) implements Scaling {
            public Linear {
                positive("linear rope scaling factor", factor);
            }
        }

        /**
         * Llama 3.1's band-wise scaling (HF's {@code llama3}, {@code _compute_llama3_parameters}): with the
         * wavelength λ_i = 2π/f_i and L = originalMaxPositions, pairs with λ &lt; L/highFreqFactor keep
         * f_i, pairs with λ &gt; L/lowFreqFactor get f_i/factor, and in between
         * f_i·((1 − s)/factor + s) with s = (L/λ − lowFreqFactor)/(highFreqFactor − lowFreqFactor).
         */
        record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
                implements Scaling {
            public Llama3 {
                positive("llama3 rope scaling factor", factor);
                positive("llama3 rope scaling low_freq_factor", lowFreqFactor);
                positive("llama3 rope scaling high_freq_factor", highFreqFactor);
                if (!(highFreqFactor > lowFreqFactor)) {
                    throw new IllegalArgumentException("llama3 rope scaling: high_freq_factor (" + highFreqFactor
                            + ") must be greater than low_freq_factor (" + lowFreqFactor + ")");
                }
                if (originalMaxPositions <= 0) {
                    throw new IllegalArgumentException("llama3 rope scaling: original_max_position_embeddings must be "
                            + "positive, got " + originalMaxPositions);
                }
            }
        }

        Scaling NONE = new None();
    }

    private final int headDim, half, maxPositions;
    private final double theta;
    private final Scaling scaling;
    private final double[] inverseFrequencies;
    /** cos(pos·f_i) at [pos·half + i], and sin likewise. */
    final float[] cos, sin;

    /**
     * Builds the table for heads of {@code headDim} (even) and positions 0..maxPositions−1
     * (maxPositions·headDim floats in all).
     */
    public RopeTable(int headDim, double theta, Scaling scaling, int maxPositions) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: head_dim must be positive and even, got " + headDim);
        }
        if (maxPositions <= 0 || (long) maxPositions * headDim / 2 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rope: max positions must be in 1.." + (2L * Integer.MAX_VALUE / headDim)
                    + ", got " + maxPositions);
        }
        this.headDim = headDim;
        this.half = headDim / 2;
        this.maxPositions = maxPositions;
        this.theta = theta;
        this.scaling = java.util.Objects.requireNonNull(scaling, "scaling");
        this.inverseFrequencies = inverseFrequencies(headDim, theta, scaling);
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        Parallel.forRange(maxPositions, Math.max(1, 4096 / half), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int i = 0; i < half; i++) {
                    double angle = p * inverseFrequencies[i];
                    cos[p * half + i] = (float) Math.cos(angle);
                    sin[p * half + i] = (float) Math.sin(angle);
                }
            }
        });
    }

    /** f_i for i &lt; headDim/2, in double: θ^(−2i/headDim), then the scaling. */
    public static double[] inverseFrequencies(int headDim, double theta, Scaling scaling) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: head_dim must be positive and even, got " + headDim);
        }
        positive("rope_theta", theta);
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, 2.0 * i / headDim);
        }
        switch (scaling) {
            case Scaling.None none -> { }
            case Scaling.Linear linear -> {
                for (int i = 0; i < f.length; i++) {
                    f[i] /= linear.factor();
                }
            }
            case Scaling.Llama3 s -> {
                double lowFreqWavelength = s.originalMaxPositions() / s.lowFreqFactor();
                double highFreqWavelength = s.originalMaxPositions() / s.highFreqFactor();
                for (int i = 0; i < f.length; i++) {
                    double wavelength = 2 * Math.PI / f[i];
                    if (wavelength > lowFreqWavelength) {
                        f[i] /= s.factor();
                    } else if (wavelength >= highFreqWavelength) {
                        double smooth = (s.originalMaxPositions() / wavelength - s.lowFreqFactor())
                                / (s.highFreqFactor() - s.lowFreqFactor());
                        f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
                    }
                }
            }
        }
        return f;
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public double theta() {
        return theta;
    }

    public Scaling scaling() {
        return scaling;
    }

    /** A copy of f_i, i &lt; headDim/2. */
    public double[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    /** cos(pos·f_i), rounded to float. */
    public float cos(int pos, int i) {
        return cos[index(pos, i)];
    }

    /** sin(pos·f_i), rounded to float. */
    public float sin(int pos, int i) {
        return sin[index(pos, i)];
    }

    private int index(int pos, int i) {
        if (pos < 0 || pos >= maxPositions || i < 0 || i >= half) {
            throw new IndexOutOfBoundsException("rope table: (pos " + pos + ", pair " + i + ") outside "
                    + maxPositions + " positions × " + half + " pairs");
        }
        return pos * half + i;
    }

    private static void positive(String what, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("rope: " + what + " must be positive and finite, got " + v);
        }
    }

    @Override
    public String toString() {
        return "RopeTable[headDim=" + headDim + ", theta=" + theta + ", " + scaling + ", " + maxPositions + " positions]";
    }
}
