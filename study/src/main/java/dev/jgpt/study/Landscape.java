package dev.jgpt.study;

import dev.jgpt.model.Param;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Loss surfaces along random directions, by Li et al.'s method ("Visualizing the Loss Landscape of Neural
 * Nets", 2018): a Gaussian direction d, filter-normalised so that each filter (a row of a weight matrix: one
 * output neuron; a row of an embedding: one token) of d has the norm of that filter of θ, and d = 0 on 1-D
 * parameters (biases, norm gains, residual scalars: their "ignore biasbn"). The 1-D surface is L(θ + α·d),
 * the 2-D one L(θ + α·d₁ + β·d₂), on a symmetric grid through α = β = 0. The weights are restored afterwards.
 */
public final class Landscape {
    private Landscape() {
    }

    /** A direction: one array per parameter, the parameter's shape. */
    public record Direction(float[][] parts) {
        /** Σ over parameters of ⟨a, b⟩. */
        public double dot(Direction o) {
            double s = 0;
            for (int k = 0; k < parts.length; k++) {
                for (int i = 0; i < parts[k].length; i++) {
                    s += (double) parts[k][i] * o.parts[k][i];
                }
            }
            return s;
        }
    }

    /**
     * The 1-D surface. {@code curvature} is d²L/dα² at 0 by the central second difference over the grid's
     * step (exact for a quadratic).
     */
    public record Line(double[] alphas, double[] losses, double curvature) {
    }

    /**
     * The 2-D surface, {@code losses[i][j]} at (alphas[i], betas[j]). {@code hessian} is the 2×2 curvature in
     * (α, β) at the centre by central differences; {@code nonConvexity} the mean over the grid's interior points
     * of max(0, −λ_min)/max(|λ_min|, |λ_max|) of that 2×2 curvature there: 0 where the surface is convex
     * everywhere, towards 1 where it curves down (Li et al. map |λ_min/λ_max| of the full Hessian).
     */
    public record Plane(double[] alphas, double[] betas, double[][] losses, double[][] hessian, double nonConvexity) {
    }

    /** A filter-normalised Gaussian direction for these parameters (deterministic for a seed). */
    public static Direction randomDirection(List<Param> params, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] d = new float[params.size()][];
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            d[k] = new float[p.size()];
            if (p.shape.length < 2) {
                continue;   // biases and gains stay put
            }
            int row = p.rowSize();
            for (int r = 0; r < p.size() / row; r++) {
                double dn = 0, wn = 0;
                for (int i = r * row; i < (r + 1) * row; i++) {
                    d[k][i] = (float) rng.nextGaussian();
                    dn += (double) d[k][i] * d[k][i];
                    wn += (double) p.data[i] * p.data[i];
                }
                double scale = dn > 0 ? Math.sqrt(wn / dn) : 0;
                for (int i = r * row; i < (r + 1) * row; i++) {
                    d[k][i] = (float) (d[k][i] * scale);
                }
            }
        }
        return new Direction(d);
    }

    /** L(θ + α·d) at {@code points} (odd, ≥ 3) evenly spaced α in [−radius, radius]. */
    public static Line line(Objective f, Direction d, double radius, int points, IntConsumer progress) {
        double[] a = grid(radius, points);
        double[] loss = new double[points];
        Shift shift = new Shift(f.parameters());
        try {
            for (int i = 0; i < points; i++) {
                shift.to(a[i], d, 0, null);
                loss[i] = f.loss();
                progress.accept(i + 1);
            }
        } finally {
            shift.restore();
        }
        int c = points / 2;
        double h = a[c + 1] - a[c];
        return new Line(a, loss, (loss[c + 1] - 2 * loss[c] + loss[c - 1]) / (h * h));
    }

    /** L(θ + α·d₁ + β·d₂) on a points × points grid over [−radius, radius]². */
    public static Plane plane(Objective f, Direction d1, Direction d2, double radius, int points, IntConsumer progress) {
        double[] a = grid(radius, points);
        double[][] loss = new double[points][points];
        Shift shift = new Shift(f.parameters());
        try {
            for (int i = 0; i < points; i++) {
                for (int j = 0; j < points; j++) {
                    shift.to(a[i], d1, a[j], d2);
                    loss[i][j] = f.loss();
                    progress.accept(i * points + j + 1);
                }
            }
        } finally {
            shift.restore();
        }
        int c = points / 2;
        double h = a[c + 1] - a[c];
        double sum = 0;
        int count = 0;
        for (int i = 1; i < points - 1; i++) {
            for (int j = 1; j < points - 1; j++) {
                double[][] hij = curvature(loss, i, j, h);
                double tr = hij[0][0] + hij[1][1], det = hij[0][0] * hij[1][1] - hij[0][1] * hij[1][0];
                double disc = Math.sqrt(Math.max(0, tr * tr / 4 - det));
                double max = tr / 2 + disc, min = tr / 2 - disc;
                double scale = Math.max(Math.abs(min), Math.abs(max));
                sum += scale > 0 ? Math.max(0, -min) / scale : 0;
                count++;
            }
        }
        return new Plane(a, a.clone(), loss, curvature(loss, c, c, h), sum / count);
    }

    /** The 2×2 curvature of a grid function at (i, j) by central differences of step h. */
    static double[][] curvature(double[][] f, int i, int j, double h) {
        double aa = (f[i + 1][j] - 2 * f[i][j] + f[i - 1][j]) / (h * h);
        double bb = (f[i][j + 1] - 2 * f[i][j] + f[i][j - 1]) / (h * h);
        double ab = (f[i + 1][j + 1] - f[i + 1][j - 1] - f[i - 1][j + 1] + f[i - 1][j - 1]) / (4 * h * h);
        return new double[][] {{aa, ab}, {ab, bb}};
    }

    static double[] grid(double radius, int points) {
        if (points < 3 || points % 2 == 0 || !(radius > 0)) {
            throw new IllegalArgumentException("landscape: need an odd number of points >= 3 and a positive radius, got "
                    + points + " points, radius " + radius);
        }
        double[] a = new double[points];
        int c = points / 2;
        for (int i = 0; i < points; i++) {
            a[i] = radius * (i - c) / c;
        }
        return a;
    }

    /** Moves parameters to θ₀ + α·d₁ + β·d₂ from a saved θ₀ (no drift over many points), and back. */
    static final class Shift {
        private final List<Param> params;
        private final float[][] origin;

        Shift(List<Param> params) {
            this.params = params;
            origin = new float[params.size()][];
            for (int k = 0; k < params.size(); k++) {
                origin[k] = params.get(k).data.clone();
            }
        }

        void to(double alpha, Direction d1, double beta, Direction d2) {
            for (int k = 0; k < params.size(); k++) {
                float[] w = params.get(k).data, o = origin[k], a = d1.parts()[k], b = d2 == null ? null : d2.parts()[k];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (o[i] + alpha * a[i] + (b == null ? 0 : beta * b[i]));
                }
            }
        }

        void restore() {
            for (int k = 0; k < params.size(); k++) {
                System.arraycopy(origin[k], 0, params.get(k).data, 0, origin[k].length);
            }
        }
    }
}
