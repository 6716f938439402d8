package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.checkGradient;
import static dev.jgpt.kernel.KernelTesting.randnD;
import static dev.jgpt.kernel.KernelTesting.weighted;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link Reference} backward against centred finite differences in double (h = 1e-6, relative
 * error &lt; 1e-6) on random inputs of tiny shapes. The scalar loss is L = Σ w·y with random w, whose
 * gradient with respect to y is w, so the backward gets dout = w. Backward outputs start non-zero to
 * check they accumulate.
 */
class ReferenceGradientTest {
    private final SplittableRandom rng = new SplittableRandom(1);

    @Test
    void layerNorm() {
        int rows = 3, C = 5;
        double eps = 1e-5;
        double[] x = randnD(rng, rows * C, 1), gamma = randnD(rng, C, 1), beta = randnD(rng, C, 1);
        double[] w = randnD(rng, rows * C, 1);
        double[] mean = new double[rows], rstd = new double[rows];
        double[] out = new double[rows * C];
        Reference.layerNormForward(out, mean, rstd, x, gamma, beta, rows, C, eps);
        double[] dx0 = randnD(rng, rows * C, 1), dg0 = randnD(rng, C, 1), db0 = randnD(rng, C, 1);
        double[] dx = dx0.clone(), dg = dg0.clone(), db = db0.clone();
        Reference.layerNormBackward(dx, dg, db, w, x, gamma, mean, rstd, rows, C);
        minus(dx, dx0);
        minus(dg, dg0);
        minus(db, db0);
        java.util.function.ToDoubleFunction<double[]> lossOfX = xx -> {
            double[] y = new double[rows * C];
            Reference.layerNormForward(y, new double[rows], new double[rows], xx, gamma, beta, rows, C, eps);
            return weighted(w, y);
        };
        checkGradient("layerNorm dx", x, dx, lossOfX);
        checkGradient("layerNorm dgamma", gamma, dg, gg -> {
            double[] y = new double[rows * C];
            Reference.layerNormForward(y, new double[rows], new double[rows], x, gg, beta, rows, C, eps);
            return weighted(w, y);
        });
        checkGradient("layerNorm dbeta", beta, db, bb -> {
            double[] y = new double[rows * C];
            Reference.layerNormForward(y, new double[rows], new double[rows], x, gamma, bb, rows, C, eps);
            return weighted(w, y);
        });
    }

    @Test
    void rmsNorm() {
        int rows = 3, C = 5;
        double eps = 1e-5;
        double[] x = randnD(rng, rows * C, 1), weight = randnD(rng, C, 1), w = randnD(rng, rows * C, 1);
        double[] rstd = new double[rows], out = new double[rows * C];
        Reference.rmsNormForward(out, rstd, x, weight, rows, C, eps);
        double[] dx0 = randnD(rng, rows * C, 1), dg0 = randnD(rng, C, 1);
        double[] dx = dx0.clone(), dg = dg0.clone();
        Reference.rmsNormBackward(dx, dg, w, x, weight, rstd, rows, C);
        minus(dx, dx0);
        minus(dg, dg0);
        checkGradient("rmsNorm dx", x, dx, xx -> {
            double[] y = new double[rows * C];
            Reference.rmsNormForward(y, new double[rows], xx, weight, rows, C, eps);
            return weighted(w, y);
        });
        checkGradient("rmsNorm dweight", weight, dg, gg -> {
            double[] y = new double[rows * C];
            Reference.rmsNormForward(y, new double[rows], x, gg, rows, C, eps);
            return weighted(w, y);
        });
        // Scale invariance (ε aside): y(λx) = y(x), so with ε = 0 a row times 1000 gives the same output.
        double[] big = x.clone(), y0 = new double[rows * C], y1 = new double[rows * C];
        for (int i = 0; i < big.length; i++) {
            big[i] *= 1000;
        }
        Reference.rmsNormForward(y0, new double[rows], x, weight, rows, C, 0);
        Reference.rmsNormForward(y1, new double[rows], big, weight, rows, C, 0);
        assertArrayEquals(y0, y1, 1e-12);
    }

    @Test
    void swiglu() {
        int rows = 3, I = 4;
        double[] gu = randnD(rng, rows * 2 * I, 2.5), w = randnD(rng, rows * I, 1);
        double[] d0 = randnD(rng, gu.length, 1), d = d0.clone();
        Reference.swigluBackward(d, w, gu, rows, I);
        minus(d, d0);
        checkGradient("swiglu dGateUp", gu, d, gg -> {
            double[] y = new double[rows * I];
            Reference.swigluForward(y, gg, rows, I);
            return weighted(w, y);
        });
        // silu's own derivative, one value at a time (purely relative, as for GELU), and known values:
        // silu(0) = 0, silu'(0) = ½, silu → a for a ≫ 0 and → 0 for a ≪ 0.
        for (double t : new double[] {-30, -5, -1, 0.5, 3, 20}) {
            double h = 1e-5;
            double num = (Reference.silu(t + h) - Reference.silu(t - h)) / (2 * h);
            assertEquals(0.0, Math.abs(Reference.siluGrad(t) - num) / Math.abs(num), 1e-6, "silu' at " + t);
        }
        assertEquals(0.0, Reference.silu(0.0));
        assertEquals(0.5, Reference.siluGrad(0.0));
        assertEquals(40.0, Reference.silu(40.0), 1e-15);
        assertEquals(0.0, Reference.silu(-800.0), 0.0);
    }

    @Test
    void rope() {
        // Two rows of a packed [q (2 heads) | k (1 head) | v (1 head)] layout, hd = 6, at positions 3 and 11,
        // placed at an offset; q and k are rotated, v and the padding are not.
        int hd = 6, heads = 3, stride = 4 * hd + 1, off = 2, rows = 2;
        int[] pos = {3, 11};
        double[] invFreq = {1.0, 0.3, 0.05};
        double[] x = randnD(rng, off + rows * stride, 1), w = randnD(rng, x.length, 1);
        double[] d = w.clone();
        Reference.ropeBackward(d, off, stride, rows, heads, hd, pos, invFreq);
        checkGradient("rope dx", x, d, xx -> {
            double[] y = xx.clone();
            Reference.ropeForward(y, off, stride, rows, heads, hd, pos, invFreq);
            return weighted(w, y);
        });
        // A rotation: the backward undoes the forward, and each pair keeps its length.
        double[] y = x.clone();
        Reference.ropeForward(y, off, stride, rows, heads, hd, pos, invFreq);
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    int a = off + r * stride + h * hd + i;
                    assertEquals(Math.hypot(x[a], x[a + hd / 2]), Math.hypot(y[a], y[a + hd / 2]), 1e-12);
                }
            }
        }
        Reference.ropeBackward(y, off, stride, rows, heads, hd, pos, invFreq);
        assertArrayEquals(x, y, 1e-12);
        // Attention sees relative positions only: q at m and k at n score the same as at m + δ and n + δ.
        double[] q = randnD(rng, hd, 1), k = randnD(rng, hd, 1);
        double s0 = rotatedDot(q, 7, k, 2, invFreq), s1 = rotatedDot(q, 107, k, 102, invFreq);
        assertEquals(s0, s1, 1e-12);
        assertTrue(Math.abs(s0 - rotatedDot(q, 8, k, 2, invFreq)) > 1e-3, "a different offset scores differently");
    }

    private static double rotatedDot(double[] q, int m, double[] k, int n, double[] invFreq) {
        double[] a = q.clone(), b = k.clone();
        Reference.ropeForward(a, 0, a.length, 1, 1, a.length, new int[] {m}, invFreq);
        Reference.ropeForward(b, 0, b.length, 1, 1, b.length, new int[] {n}, invFreq);
        return weighted(a, b);
    }

    @Test
    void gelu() {
        int n = 40;
        double[] x = randnD(rng, n, 2.5);
        double[] w = randnD(rng, n, 1);
        double[] dx0 = randnD(rng, n, 1), dx = dx0.clone();
        Reference.geluBackward(dx, x, w, n);
        minus(dx, dx0);
        checkGradient("gelu dx", x, dx, xx -> {
            double[] y = new double[n];
            Reference.geluForward(y, xx, n);
            return weighted(w, y);
        });
        // The tails, where GELU and GELU' are tiny for x ≪ 0 and must keep their relative accuracy (no
        // 1 + tanh u cancellation). One value at a time, purely relative: the quotient's rounding noise is
        // ε·|f|/(h·|f'|) and |f/f'| ≲ 1 here, so it is far below 1e-6.
        for (double t : new double[] {-12, -8, -5, -2, 2, 5}) {
            double h = 1e-5;
            double num = (Reference.gelu(t + h) - Reference.gelu(t - h)) / (2 * h);
            double a = Reference.geluGrad(t);
            assertEquals(0.0, Math.abs(a - num) / Math.abs(num), 1e-6, "gelu' at " + t + ": " + a + " vs " + num);
            assertTrue(a != 0, "gelu'(" + t + ") must not underflow in double");
        }
        // Known values: GELU(0) = 0, GELU'(0) = ½, and GELU(x) → x for large x.
        assertEquals(0.0, Reference.gelu(0.0));
        assertEquals(0.5, Reference.geluGrad(0.0));
        assertEquals(10.0, Reference.gelu(10.0), 1e-12);
    }

    @Test
    void attention() {
        for (int[] s : new int[][] {{2, 3, 4, 2}, {1, 4, 3, 1}, {1, 1, 2, 2}}) {
            int B = s[0], T = s[1], C = s[2], NH = s[3];
            double[] qkv = randnD(rng, B * T * 3 * C, 1);
            double[] w = randnD(rng, B * T * C, 1);
            double[] out = new double[B * T * C], att = new double[B * NH * T * T];
            Reference.attentionForward(out, att, qkv, B, T, C, NH);
            double[] d0 = randnD(rng, qkv.length, 1), d = d0.clone();
            Reference.attentionBackward(d, w, qkv, att, B, T, C, NH);
            minus(d, d0);
            checkGradient("attention dqkv " + java.util.Arrays.toString(s), qkv, d, qq -> {
                double[] y = new double[B * T * C];
                Reference.attentionForward(y, new double[B * NH * T * T], qq, B, T, C, NH);
                return weighted(w, y);
            });
            // Causal: probabilities above the diagonal are 0 and each row sums to 1.
            for (int r = 0; r < B * NH * T; r++) {
                int t = r % T;
                double sum = 0;
                for (int t2 = 0; t2 < T; t2++) {
                    if (t2 > t) {
                        assertEquals(0.0, att[r * T + t2]);
                    }
                    sum += att[r * T + t2];
                }
                assertEquals(1.0, sum, 1e-12);
            }
        }
    }

    @Test
    void groupedQueryAttention() {
        // {B, T, NH, NKV, hd}: groups of 2 and 3 query heads, multi-query (NKV = 1), and NH·hd unrelated to any width.
        for (int[] s : new int[][] {{2, 3, 4, 2, 2}, {1, 4, 3, 1, 3}, {1, 3, 6, 2, 1}}) {
            int B = s[0], T = s[1], NH = s[2], NKV = s[3], hd = s[4];
            int W = (NH + 2 * NKV) * hd;
            double[] qkv = randnD(rng, B * T * W, 1), w = randnD(rng, B * T * NH * hd, 1);
            double[] att = new double[B * NH * T * T];
            Reference.attentionForward(new double[B * T * NH * hd], att, qkv, B, T, NH, NKV, hd);
            double[] d0 = randnD(rng, qkv.length, 1), d = d0.clone();
            Reference.attentionBackward(d, w, qkv, att, B, T, NH, NKV, hd);
            minus(d, d0);
            checkGradient("gqa dqkv " + java.util.Arrays.toString(s), qkv, d, qq -> {
                double[] y = new double[B * T * NH * hd];
                Reference.attentionForward(y, new double[B * NH * T * T], qq, B, T, NH, NKV, hd);
                return weighted(w, y);
            });
        }
    }

    @Test
    void crossEntropy() {
        int rows = 4, V = 6;
        double[] logits = randnD(rng, rows * V, 2);
        int[] targets = {0, 5, -1, 3};
        double gradScale = 0.25;
        double[] dl = new double[rows * V];
        Reference.crossEntropyBackward(dl, logits, targets, rows, V, gradScale);
        checkGradient("crossEntropy dlogits", logits, dl, ll -> {
            double[] losses = new double[rows];
            Reference.crossEntropyForward(losses, ll, targets, rows, V);
            double s = 0;
            for (double l : losses) {
                s += l;
            }
            return gradScale * s;
        });
        // Uniform logits: loss = ln V; the ignored row has loss 0.
        double[] losses = new double[rows];
        Reference.crossEntropyForward(losses, new double[rows * V], targets, rows, V);
        assertEquals(Math.log(V), losses[0], 1e-12);
        assertEquals(0.0, losses[2]);
    }

    @Test
    void softmax() {
        int n = 5;
        double[] z = randnD(rng, n, 3), w = randnD(rng, n, 1);
        double[] p = new double[n];
        Reference.softmax(p, 0, z, 0, n);
        // dL/dz_i = p_i·(w_i − Σ_j p_j·w_j) (the softmax Jacobian applied to w).
        double pw = weighted(p, w);
        double[] dz = new double[n];
        for (int i = 0; i < n; i++) {
            dz[i] = p[i] * (w[i] - pw);
        }
        checkGradient("softmax dz", z, dz, zz -> {
            double[] q = new double[n];
            Reference.softmax(q, 0, zz, 0, n);
            return weighted(w, q);
        });
        // Shift invariance: huge logits give the same probabilities (no overflow).
        double[] shifted = z.clone();
        for (int i = 0; i < n; i++) {
            shifted[i] += 1000;   // exp(1000) overflows double without the max shift
        }
        double[] p2 = new double[n];
        Reference.softmax(p2, 0, shifted, 0, n);
        assertArrayEquals(p, p2, 1e-12);
    }

    @Test
    void embedding() {
        int B = 2, T = 3, C = 4, V = 5;
        int[] tokens = {1, 1, 4, 0, 1, 4};   // repeats: rows of dwte get several contributions
        double[] wte = randnD(rng, V * C, 1), wpe = randnD(rng, T * C, 1), w = randnD(rng, B * T * C, 1);
        double[] dwte0 = randnD(rng, V * C, 1), dwpe0 = randnD(rng, T * C, 1);
        double[] dwte = dwte0.clone(), dwpe = dwpe0.clone();
        Reference.embeddingBackward(dwte, dwpe, w, tokens, B, T, C);
        minus(dwte, dwte0);
        minus(dwpe, dwpe0);
        checkGradient("embedding dwte", wte, dwte, ww -> {
            double[] y = new double[B * T * C];
            Reference.embeddingForward(y, tokens, ww, wpe, B, T, C);
            return weighted(w, y);
        });
        checkGradient("embedding dwpe", wpe, dwpe, pp -> {
            double[] y = new double[B * T * C];
            Reference.embeddingForward(y, tokens, wte, pp, B, T, C);
            return weighted(w, y);
        });
    }

    @Test
    void residualAndDropout() {
        int n = 7;
        double[] a = randnD(rng, n, 1), b = randnD(rng, n, 1), w = randnD(rng, n, 1);
        double[] da = new double[n], db = new double[n];
        Reference.residualBackward(da, db, w, n);
        checkGradient("residual da", a, da, aa -> {
            double[] y = new double[n];
            Reference.residualForward(y, aa, b, n);
            return weighted(w, y);
        });
        checkGradient("residual db", b, db, bb -> {
            double[] y = new double[n];
            Reference.residualForward(y, a, bb, n);
            return weighted(w, y);
        });
        double[] mask = {0, 2, 2, 0, 2, 2, 2};   // p = 0.5: kept elements scaled by 2
        double[] dx = new double[n];
        Reference.dropoutBackward(dx, w, mask, n);
        checkGradient("dropout dx", a, dx, xx -> {
            double[] y = new double[n];
            Reference.dropoutForward(y, xx, mask, n);
            return weighted(w, y);
        });
    }

    @Test
    void adamWFirstStepIsSignLike() {
        // At step 1 with zero moments, m̂ = g and v̂ = g² exactly, so the step is lr·(g/(|g|+ε) + wd·θ).
        int n = 5;
        double lr = 1e-2, wd = 0.1, eps = 1e-8;
        double[] p = randnD(rng, n, 1), g = randnD(rng, n, 1), p0 = p.clone();
        Reference.adamW(p, g, new double[n], new double[n], n, lr, 0.9, 0.95, eps, wd, 1);
        for (int i = 0; i < n; i++) {
            double expected = p0[i] - lr * (g[i] / (Math.abs(g[i]) + eps) + wd * p0[i]);
            assertEquals(expected, p[i], 1e-15);
        }
    }

    @Test
    void globalNormAndClip() {
        List<double[]> g = new ArrayList<>(List.of(new double[] {3, 4}, new double[] {12}));
        assertEquals(13.0, Reference.globalNorm(g), 0.0);
        assertEquals(13.0, Reference.clip(g, 6.5), 0.0);
        assertEquals(6.5, Reference.globalNorm(g), 1e-6);
        assertEquals(6.5, Reference.clip(g, 100), 1e-6);   // below the threshold: unchanged
        assertEquals(6.5, Reference.globalNorm(g), 1e-6);
    }

    private static void minus(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] -= b[i];
        }
    }
}
