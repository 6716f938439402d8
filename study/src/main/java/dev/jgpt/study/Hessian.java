package dev.jgpt.study;

import dev.jgpt.model.Param;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Sharpness: the extreme eigenvalues of the loss's Hessian over every parameter, by power iteration on
 * Hessian-vector products, each the central difference of two gradients,
 * Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε (exact for a quadratic, error O(ε²) otherwise).
 */
public final class Hessian {
    /** ε of the gradient difference along a unit vector v. */
    public static final double DEFAULT_STEP = 1e-2;

    private Hessian() {
    }

    /** A symmetric linear map on ℝⁿ. */
    public interface Operator {
        int dimension();

        /** out = A·v. */
        void apply(double[] v, double[] out);
    }

    /** An eigenvalue estimate: the Rayleigh quotient after {@code iterations} steps; converged if it settled. */
    public record Eigenvalue(double value, int iterations, boolean converged) {
    }

    /**
     * Both ends of the spectrum: {@code max} the largest eigenvalue (the sharpness), {@code min} the smallest (null
     * when only the largest was asked for); |min/max| is Li et al.'s measure of non-convexity at the point.
     */
    public record Extremes(Eigenvalue max, Eigenvalue min) {
        public double ratio() {
            return min == null ? Double.NaN : Math.abs(min.value() / max.value());
        }
    }

    /** The Hessian of f at its parameters' current values, as products with vectors (the weights are restored). */
    public static Operator of(Objective f, double eps) {
        if (!(eps > 0)) {
            throw new IllegalArgumentException("Hessian: the difference step must be positive, got " + eps);
        }
        List<Param> ps = f.parameters();
        int n = 0;
        for (Param p : ps) {
            n += p.size();
        }
        int dim = n;
        return new Operator() {
            @Override
            public int dimension() {
                return dim;
            }

            @Override
            public void apply(double[] v, double[] out) {
                float[][] saved = new float[ps.size()][];
                for (int k = 0; k < ps.size(); k++) {
                    saved[k] = ps.get(k).data.clone();
                }
                try {
                    shift(ps, saved, v, eps);
                    f.lossAndGradient();
                    gather(ps, out, 1.0);
                    shift(ps, saved, v, -eps);
                    f.lossAndGradient();
                    gather(ps, out, -1.0);
                    for (int i = 0; i < dim; i++) {
                        out[i] /= 2 * eps;
                    }
                } finally {
                    for (int k = 0; k < ps.size(); k++) {
                        System.arraycopy(saved[k], 0, ps.get(k).data, 0, saved[k].length);
                    }
                }
            }
        };
    }

    private static void shift(List<Param> ps, float[][] origin, double[] v, double eps) {
        int off = 0;
        for (int k = 0; k < ps.size(); k++) {
            float[] w = ps.get(k).data;
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (origin[k][i] + eps * v[off + i]);
            }
            off += w.length;
        }
    }

    /** out = g (sign +1) or out −= g (sign −1), g the parameters' gradients flattened. */
    private static void gather(List<Param> ps, double[] out, double sign) {
        int off = 0;
        for (Param p : ps) {
            float[] g = p.grad();
            for (int i = 0; i < g.length; i++) {
                out[off + i] = sign > 0 ? g[i] : out[off + i] - g[i];
            }
            off += g.length;
        }
    }

    /**
     * The eigenvalue of largest magnitude by power iteration from a random start (seeded): v ← Av/‖Av‖, λ = vᵀAv,
     * until λ changes by less than {@code tol}·|λ| or {@code maxIterations} products; {@code progress} gets the
     * count of products so far.
     */
    public static Eigenvalue power(Operator a, int maxIterations, double tol, long seed, IntConsumer progress) {
        return power(a, 0, maxIterations, tol, seed, progress);
    }

    /** Power iteration on A − shift·I; returns the eigenvalue of A (the shift added back). */
    private static Eigenvalue power(Operator a, double shift, int maxIterations, double tol, long seed, IntConsumer progress) {
        int n = a.dimension();
        double[] v = new double[n], w = new double[n];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextGaussian();
        }
        normalise(v);
        double lambda = Double.NaN;
        for (int it = 1; it <= maxIterations; it++) {
            a.apply(v, w);
            double q = 0;
            for (int i = 0; i < n; i++) {
                w[i] -= shift * v[i];
                q += v[i] * w[i];
            }
            progress.accept(it);
            // settled relative to the eigenvalue of A, not of A − shift·I: after a shift by λ₁ every Rayleigh quotient
            // is close to −λ₁, so a test on q alone would stop at once however far λ_min still is
            boolean settled = it > 1 && Math.abs(q - lambda) <= tol * Math.abs(q + shift);
            lambda = q;
            if (settled || normalise(w) == 0) {
                return new Eigenvalue(lambda + shift, it, true);
            }
            double[] t = v;
            v = w;
            w = t;
        }
        return new Eigenvalue(lambda + shift, maxIterations, false);
    }

    /**
     * The largest eigenvalue (the sharpness) alone: power iteration finds λ₁ of largest magnitude; when that is the
     * bottom of the spectrum (negative), power iteration on A − λ₁I finds the top. {@code min} of the result is null.
     */
    public static Extremes largest(Operator a, int maxIterations, double tol, long seed, IntConsumer progress) {
        Eigenvalue first = power(a, 0, maxIterations, tol, seed, progress);
        if (first.value() >= 0) {
            return new Extremes(first, null);
        }
        int done = first.iterations();
        return new Extremes(power(a, first.value(), maxIterations, tol, seed + 1, i -> progress.accept(done + i)), null);
    }

    /**
     * The largest and smallest eigenvalues: power iteration finds λ₁ of largest magnitude; power iteration on
     * A − λ₁I then finds the other end of the spectrum. {@code progress} counts products over both runs.
     */
    public static Extremes extremes(Operator a, int maxIterations, double tol, long seed, IntConsumer progress) {
        Eigenvalue first = power(a, 0, maxIterations, tol, seed, progress);
        int done = first.iterations();
        Eigenvalue other = power(a, first.value(), maxIterations, tol, seed + 1, i -> progress.accept(done + i));
        return first.value() >= other.value() ? new Extremes(first, other) : new Extremes(other, first);
    }

    private static double normalise(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        double norm = Math.sqrt(s);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= norm;
            }
        }
        return norm;
    }
}
