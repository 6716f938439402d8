package dev.jgpt.study;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Power iteration and Hessian-vector products: a known matrix, a quadratic, and a tiny GPT's full Hessian. */
class HessianTest {

    /** Q·diag(λ)·Qᵀ for a random orthogonal Q (Gram-Schmidt of Gaussian columns). */
    static double[][] withEigenvalues(double[] lambda, long seed) {
        int n = lambda.length;
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] q = new double[n][n];
        for (int c = 0; c < n; c++) {
            for (int r = 0; r < n; r++) {
                q[r][c] = rng.nextGaussian();
            }
            for (int p = 0; p < c; p++) {
                double d = 0;
                for (int r = 0; r < n; r++) {
                    d += q[r][c] * q[r][p];
                }
                for (int r = 0; r < n; r++) {
                    q[r][c] -= d * q[r][p];
                }
            }
            double norm = 0;
            for (int r = 0; r < n; r++) {
                norm += q[r][c] * q[r][c];
            }
            for (int r = 0; r < n; r++) {
                q[r][c] /= Math.sqrt(norm);
            }
        }
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    a[i][j] += q[i][k] * lambda[k] * q[j][k];
                }
            }
        }
        return a;
    }

    static Hessian.Operator matrix(double[][] a) {
        return new Hessian.Operator() {
            @Override
            public int dimension() {
                return a.length;
            }

            @Override
            public void apply(double[] v, double[] out) {
                for (int i = 0; i < a.length; i++) {
                    double s = 0;
                    for (int j = 0; j < a.length; j++) {
                        s += a[i][j] * v[j];
                    }
                    out[i] = s;
                }
            }
        };
    }

    @Test
    void powerIterationFindsTheEigenvaluesOfAKnownMatrix() {
        double[][] a = withEigenvalues(new double[] {5, -2, 1, 0.5, 0.1, -0.3}, 1);
        Hessian.Eigenvalue top = Hessian.power(matrix(a), 500, 1e-12, 2, i -> { });
        assertTrue(top.converged());
        assertEquals(5, top.value(), 1e-8);
        Hessian.Extremes e = Hessian.extremes(matrix(a), 500, 1e-12, 3, i -> { });
        assertEquals(5, e.max().value(), 1e-8);
        assertEquals(-2, e.min().value(), 1e-8);
        assertEquals(0.4, e.ratio(), 1e-8);
        // The largest magnitude negative: the shift then finds the largest positive one.
        Hessian.Extremes f = Hessian.extremes(matrix(withEigenvalues(new double[] {-7, 3, 1, 2.5}, 4)), 500, 1e-12, 5, i -> { });
        assertEquals(3, f.max().value(), 1e-8);
        assertEquals(-7, f.min().value(), 1e-8);
        // The largest alone: directly when it is the largest in magnitude, by the shift when the bottom is larger.
        assertEquals(5, Hessian.largest(matrix(a), 500, 1e-12, 3, i -> { }).max().value(), 1e-8);
        Hessian.Extremes upper = Hessian.largest(matrix(withEigenvalues(new double[] {-7, 3, 1, 2.5}, 4)), 500, 1e-12, 5, i -> { });
        assertEquals(3, upper.max().value(), 1e-8);
        assertTrue(upper.min() == null && Double.isNaN(upper.ratio()));
        // A small other end beside a large λ₁ (a network's Hessian): the shifted run converges slowly and says so,
        // rather than stopping because every quotient of A − λ₁I is close to −λ₁.
        Hessian.Extremes g = Hessian.extremes(matrix(withEigenvalues(new double[] {5, 0.01, 0.02, -0.03, 0.015}, 8)), 5,
                1e-3, 9, i -> { });
        assertEquals(5, g.max().value(), 1e-6);
        assertTrue(!g.min().converged(), "λ_min after 5 steps: " + g.min());
        // Too few iterations for a small gap: reported as not converged.
        assertTrue(!Hessian.power(matrix(withEigenvalues(new double[] {1, 0.999, 0.5}, 6)), 3, 1e-12, 7, i -> { }).converged());
    }

    /** On a quadratic ½(θ − c)ᵀA(θ − c) the finite-difference product is A·v (up to float rounding of θ ± εv). */
    @Test
    void hessianVectorProductsOfAQuadraticAreExact() {
        double[][] a = withEigenvalues(new double[] {3, 1, -0.5, 2, 0.25, 1.5}, 8);
        Quadratic q = new Quadratic(a, new float[] {0.5f, -1, 0.25f, 2, 0, 1}, 2, 3);
        Hessian.Operator h = Hessian.of(q, Hessian.DEFAULT_STEP);
        double[] v = {0.3, -0.2, 0.5, 0.1, -0.7, 0.2}, hv = new double[6], av = new double[6];
        float[] before = q.parameters().get(0).data.clone();
        h.apply(v, hv);
        matrix(a).apply(v, av);
        assertArrayEquals(av, hv, 1e-4);
        assertArrayEquals(before, q.parameters().get(0).data, "weights restored");
        Hessian.Extremes e = Hessian.extremes(h, 300, 1e-10, 9, i -> { });
        assertEquals(3, e.max().value(), 1e-3);
        assertEquals(-0.5, e.min().value(), 1e-3);
    }

    /**
     * A tiny GPT (a few hundred parameters): its full Hessian, column by column from products with unit vectors, is
     * symmetric and agrees with second differences of the loss itself; its largest eigenvalue (Commons Math's
     * symmetric eigensolver) is what power iteration on random products finds.
     */
    @Test
    void powerIterationMatchesTheFullHessianOfATinyModel() {
        GPTConfig cfg = new GPTConfig(5, 4, 1, 1, 4, false, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER);
        GPT model = new GPT(cfg, 3);
        for (Param p : model.embeddingParameters()) {
            dev.jgpt.kernel.Vec.scale(p.data, 20f, p.size());   // embeddings of order 0.4: curvature of order 1, not 1/0.02²
        }
        int[][] x = {{1, 2, 3, 4, 0, 1, 2, 3}}, y = {{2, 3, 4, 0, 1, 2, 3, 4}};
        Objective f = Objective.of(model, x, y, 2, 4);
        // Unit vectors move one weight by ε: a smaller ε than a model's default keeps the O(ε²) third-derivative
        // terms (which make H_ij and H_ji differ) below the test's 0.2%, while float gradients still resolve ε.
        Hessian.Operator h = Hessian.of(f, 2e-3);
        int n = h.dimension();
        assertTrue(n > 100 && n < 400, n + " parameters");
        double[][] full = new double[n][];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = 1;
            full[i] = new double[n];
            h.apply(e, full[i]);
            e[i] = 0;
        }
        double asym = 0, scale = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                asym = Math.max(asym, Math.abs(full[i][j] - full[j][i]));
                scale = Math.max(scale, Math.abs(full[i][j]));
            }
        }
        assertTrue(asym < 2e-3 * scale, "Hessian symmetric: max |H_ij − H_ji| " + asym + " of max |H_ij| " + scale);
        double[][] sym = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sym[i][j] = (full[i][j] + full[j][i]) / 2;
            }
        }
        // The largest diagonal entry against the loss's own second difference (no gradient code involved).
        int k = 0;
        for (int i = 0; i < n; i++) {
            k = Math.abs(sym[i][i]) > Math.abs(sym[k][k]) ? i : k;
        }
        assertEquals(sym[k][k], secondDifference(f, k, 3e-2), 0.03 * Math.abs(sym[k][k]) + 1e-2, "H_kk, k = " + k);

        double[] exact = new EigenDecomposition(new Array2DRowRealMatrix(sym)).getRealEigenvalues();
        double max = Arrays.stream(exact).max().orElseThrow(), min = Arrays.stream(exact).min().orElseThrow();
        Hessian.Extremes found = Hessian.extremes(h, 300, 1e-7, 11, i -> { });
        assertTrue(found.max().converged());
        assertEquals(max, found.max().value(), 1e-3 * Math.abs(max), "λ_max");
        assertEquals(min, found.min().value(), 1e-2 * Math.abs(max), "λ_min");
    }

    private static double secondDifference(Objective f, int index, double h) {
        List<Param> ps = f.parameters();
        int k = 0, i = index;
        while (i >= ps.get(k).size()) {
            i -= ps.get(k).size();
            k++;
        }
        float[] w = ps.get(k).data;
        float saved = w[i];
        w[i] = (float) (saved + h);
        double plus = f.loss();
        w[i] = (float) (saved - h);
        double minus = f.loss();
        w[i] = saved;
        double centre = f.loss();
        return (plus - 2 * centre + minus) / (h * h);
    }

    /** ½(θ − c)ᵀA(θ − c) over one [rows × cols] parameter (row-major θ), for the tests of this package. */
    static final class Quadratic implements Objective {
        private final double[][] a;
        private final float[] centre;
        private final Param theta;

        Quadratic(double[][] a, float[] centre, int rows, int cols) {
            this.a = a;
            this.centre = centre.clone();
            theta = new Param("theta", false, rows, cols);
            System.arraycopy(centre, 0, theta.data, 0, centre.length);
        }

        @Override
        public List<Param> parameters() {
            return List.of(theta);
        }

        @Override
        public double loss() {
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                for (int j = 0; j < a.length; j++) {
                    s += ((double) theta.data[i] - centre[i]) * a[i][j] * ((double) theta.data[j] - centre[j]);
                }
            }
            return s / 2;
        }

        @Override
        public double lossAndGradient() {
            float[] g = theta.grad();
            for (int i = 0; i < a.length; i++) {
                double s = 0;
                for (int j = 0; j < a.length; j++) {
                    s += a[i][j] * ((double) theta.data[j] - centre[j]);
                }
                g[i] = (float) s;
            }
            return loss();
        }
    }
}
