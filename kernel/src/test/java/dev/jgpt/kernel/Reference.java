package dev.jgpt.kernel;

import java.util.List;

/**
 * Plain scalar reference implementations of every non-matmul op, in double precision, written
 * straight from the formulas for a reader to check against the papers. They are the oracle the fast
 * float kernels are tested against (and are themselves tested against finite differences); nothing
 * here is meant to be fast. Layouts and semantics match the float kernels: backward functions
 * accumulate (+=) into their gradient outputs unless stated otherwise.
 */
public final class Reference {
    private Reference() {}

    // ---------------------------------------------------------------- layer norm (Ba et al. 2016)

    /**
     * Per row r of x [rows × C]: μ = (1/C)Σ x_i, σ² = (1/C)Σ (x_i − μ)², rstd = 1/√(σ² + ε),
     * n_i = (x_i − μ)·rstd, y_i = γ_i·n_i + β_i (β may be null = 0). Saves μ and rstd.
     */
    public static void layerNormForward(double[] out, double[] mean, double[] rstd, double[] x, double[] gamma,
                                        double[] beta, int rows, int C, double eps) {
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int i = 0; i < C; i++) {
                mu += x[r * C + i];
            }
            mu /= C;
            double var = 0;
            for (int i = 0; i < C; i++) {
                double d = x[r * C + i] - mu;
                var += d * d;
            }
            var /= C;
            double s = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < C; i++) {
                double n = (x[r * C + i] - mu) * s;
                out[r * C + i] = gamma[i] * n + (beta != null ? beta[i] : 0.0);
            }
            mean[r] = mu;
            rstd[r] = s;
        }
    }

    /**
     * With g_i = γ_i·dy_i (the gradient reaching n_i):
     * dx_i += rstd·(g_i − (1/C)Σ_j g_j − n_i·(1/C)Σ_j g_j·n_j),  dγ_i += Σ_rows dy_i·n_i,  dβ_i += Σ_rows dy_i.
     * (The two mean terms come from ∂μ/∂x_i = 1/C and ∂rstd/∂x_i = −rstd³·(x_i − μ)/C.)
     */
    public static void layerNormBackward(double[] dx, double[] dgamma, double[] dbeta, double[] dout, double[] x,
                                         double[] gamma, double[] mean, double[] rstd, int rows, int C) {
        for (int r = 0; r < rows; r++) {
            double mu = mean[r], s = rstd[r];
            double sumG = 0, sumGN = 0;
            for (int i = 0; i < C; i++) {
                double n = (x[r * C + i] - mu) * s;
                double g = gamma[i] * dout[r * C + i];
                sumG += g;
                sumGN += g * n;
            }
            for (int i = 0; i < C; i++) {
                double n = (x[r * C + i] - mu) * s;
                double g = gamma[i] * dout[r * C + i];
                dx[r * C + i] += s * (g - sumG / C - n * sumGN / C);
                dgamma[i] += dout[r * C + i] * n;
                if (dbeta != null) {
                    dbeta[i] += dout[r * C + i];
                }
            }
        }
    }

    // ---------------------------------------------------------------- RMSNorm (Zhang & Sennrich 2019)

    /**
     * Per row r of x [rows × C]: rstd = 1/√((1/C)Σ x_i² + ε), n_i = x_i·rstd, y_i = g_i·n_i. Saves rstd.
     */
    public static void rmsNormForward(double[] out, double[] rstd, double[] x, double[] weight, int rows, int C,
                                      double eps) {
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < C; i++) {
                ss += x[r * C + i] * x[r * C + i];
            }
            double s = 1.0 / Math.sqrt(ss / C + eps);
            for (int i = 0; i < C; i++) {
                out[r * C + i] = weight[i] * (x[r * C + i] * s);
            }
            rstd[r] = s;
        }
    }

    /**
     * With dn_i = g_i·dy_i (the gradient reaching n_i) and ∂rstd/∂x_j = −rstd³·x_j/C:
     * dx_j += rstd·(dn_j − n_j·(1/C)Σ_i dn_i·n_i),  dg_i += Σ_rows dy_i·n_i.
     */
    public static void rmsNormBackward(double[] dx, double[] dweight, double[] dout, double[] x, double[] weight,
                                       double[] rstd, int rows, int C) {
        for (int r = 0; r < rows; r++) {
            double s = rstd[r];
            double sumDnN = 0;
            for (int i = 0; i < C; i++) {
                sumDnN += weight[i] * dout[r * C + i] * x[r * C + i] * s;
            }
            for (int i = 0; i < C; i++) {
                double n = x[r * C + i] * s;
                dx[r * C + i] += s * (weight[i] * dout[r * C + i] - n * sumDnN / C);
                dweight[i] += dout[r * C + i] * n;
            }
        }
    }

    // ---------------------------------------------------------------- SwiGLU (Shazeer 2020)

    /** silu(a) = a·σ(a) = a/(1 + e^(−a)). */
    public static double silu(double a) {
        return a / (1.0 + Math.exp(-a));
    }

    /** silu'(a) = σ(a)·(1 + a·(1 − σ(a))). */
    public static double siluGrad(double a) {
        double sig = 1.0 / (1.0 + Math.exp(-a));
        return sig * (1.0 + a * (1.0 - sig));
    }

    /** gateUp [rows × 2I], row r = [gate (I) | up (I)]: out[r, i] = silu(gate_i)·up_i. */
    public static void swigluForward(double[] out, double[] gateUp, int rows, int I) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < I; i++) {
                out[r * I + i] = silu(gateUp[2 * r * I + i]) * gateUp[2 * r * I + I + i];
            }
        }
    }

    /** dgate_i += dy_i·up_i·silu'(gate_i),  dup_i += dy_i·silu(gate_i), into the packed dGateUp. */
    public static void swigluBackward(double[] dGateUp, double[] dout, double[] gateUp, int rows, int I) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < I; i++) {
                double gate = gateUp[2 * r * I + i], up = gateUp[2 * r * I + I + i], d = dout[r * I + i];
                dGateUp[2 * r * I + i] += d * up * siluGrad(gate);
                dGateUp[2 * r * I + I + i] += d * silu(gate);
            }
        }
    }

    // ---------------------------------------------------------------- GELU (Hendrycks & Gimpel, tanh form)

    private static final double K = Math.sqrt(2.0 / Math.PI);
    private static final double A = 0.044715;

    /**
     * GELU(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Evaluated as x·σ(2u) with σ(a) = 1/(1 + e^(−a)),
     * which is the same number (1 + tanh u = 2σ(2u)) without the cancellation of 1 + tanh u for u ≪ 0,
     * where it would lose every digit by u ≈ −18 even in double.
     */
    public static double gelu(double x) {
        double u = K * (x + A * x * x * x);
        return x / (1.0 + Math.exp(-2.0 * u));
    }

    /**
     * GELU'(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²), u = √(2/π)(x + 0.044715x³),
     * evaluated with ½(1 + tanh u) = σ(2u) and 1 − tanh² u = 1/cosh² u (no cancellation, as in {@link #gelu}).
     */
    public static double geluGrad(double x) {
        double u = K * (x + A * x * x * x);
        double c = Math.cosh(u);
        return 1.0 / (1.0 + Math.exp(-2.0 * u)) + 0.5 * x * K * (1.0 + 3.0 * A * x * x) / (c * c);
    }

    public static void geluForward(double[] out, double[] x, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = gelu(x[i]);
        }
    }

    /** dx_i += GELU'(x_i)·dy_i. */
    public static void geluBackward(double[] dx, double[] x, double[] dout, int n) {
        for (int i = 0; i < n; i++) {
            dx[i] += geluGrad(x[i]) * dout[i];
        }
    }

    // ---------------------------------------------------------------- rotary position embedding (Su et al. 2021)

    /**
     * In place on rows r &lt; rows of rowStride from off, heads h &lt; heads of hd: with d = hd/2 and the angle
     * a = positions[r]·invFreq[i], (x_i, x_{i+d}) ← (x_i·cos a − x_{i+d}·sin a, x_{i+d}·cos a + x_i·sin a)
     * (Hugging Face's rotate_half pairing: the two halves of a head, not neighbours).
     */
    public static void ropeForward(double[] x, int off, int rowStride, int rows, int heads, int hd, int[] positions,
                                   double[] invFreq) {
        rope(x, off, rowStride, rows, heads, hd, positions, invFreq, 1);
    }

    /** The transpose of {@link #ropeForward} (rotation by −a), in place on the gradient. */
    public static void ropeBackward(double[] dx, int off, int rowStride, int rows, int heads, int hd, int[] positions,
                                    double[] invFreq) {
        rope(dx, off, rowStride, rows, heads, hd, positions, invFreq, -1);
    }

    private static void rope(double[] x, int off, int rowStride, int rows, int heads, int hd, int[] positions,
                             double[] invFreq, int sign) {
        int d = hd / 2;
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int a = off + r * rowStride + h * hd;
                for (int i = 0; i < d; i++) {
                    double angle = positions[r] * invFreq[i];
                    double c = Math.cos(angle), s = sign * Math.sin(angle);
                    double x1 = x[a + i], x2 = x[a + d + i];
                    x[a + i] = x1 * c - x2 * s;
                    x[a + d + i] = x2 * c + x1 * s;
                }
            }
        }
    }

    // ---------------------------------------------------------------- softmax

    /** p_i = exp(z_i − max z) / Σ_j exp(z_j − max z) over n elements (the max shift changes nothing but overflow). */
    public static void softmax(double[] out, int outOff, double[] z, int zOff, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, z[zOff + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(z[zOff + i] - max);
        }
        for (int i = 0; i < n; i++) {
            out[outOff + i] = Math.exp(z[zOff + i] - max) / sum;
        }
    }

    // ---------------------------------------------------------------- causal self-attention (Vaswani et al. 2017)

    /** GPT-2's multi-head case: qkv [B, T, 3C], NH heads of C/NH, as many key/value heads as query heads. */
    public static void attentionForward(double[] out, double[] att, double[] qkv, int B, int T, int C, int NH) {
        attentionForward(out, att, qkv, B, T, NH, NH, C / NH);
    }

    /**
     * Grouped-query attention (Ainslie et al. 2023). qkv [B, T, (NH + 2·NKV)·hd] packs q (NH heads) | k (NKV
     * heads) | v (NKV heads); query head h uses key/value head g = h/(NH/NKV). For each (b, h):
     * S = Q_h·K_gᵀ/√hd with S[t][t2] = −∞ for t2 &gt; t (causal mask), P = softmax over each row
     * (att [B, NH, T, T], zeros above the diagonal), O = P·V_g written into out [B, T, NH·hd] at head h.
     */
    public static void attentionForward(double[] out, double[] att, double[] qkv, int B, int T, int NH, int NKV,
                                        int hd) {
        double scale = 1.0 / Math.sqrt(hd);
        double[] s = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                int g = h / (NH / NKV);
                for (int t = 0; t < T; t++) {
                    for (int t2 = 0; t2 <= t; t2++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) {
                            dot += qkv[qIdx(b, t, h, i, T, NH, NKV, hd)] * qkv[kIdx(b, t2, g, i, T, NH, NKV, hd)];
                        }
                        s[t2] = dot * scale;
                    }
                    int a = ((b * NH + h) * T + t) * T;
                    softmax(att, a, s, 0, t + 1);
                    for (int t2 = t + 1; t2 < T; t2++) {
                        att[a + t2] = 0;
                    }
                    for (int i = 0; i < hd; i++) {
                        double o = 0;
                        for (int t2 = 0; t2 <= t; t2++) {
                            o += att[a + t2] * qkv[vIdx(b, t2, g, i, T, NH, NKV, hd)];
                        }
                        out[(b * T + t) * NH * hd + h * hd + i] = o;
                    }
                }
            }
        }
    }

    /** GPT-2's multi-head case of {@link #attentionBackward(double[], double[], double[], double[], int, int, int, int, int)}. */
    public static void attentionBackward(double[] dqkv, double[] dout, double[] qkv, double[] att,
                                         int B, int T, int C, int NH) {
        attentionBackward(dqkv, dout, qkv, att, B, T, NH, NH, C / NH);
    }

    /**
     * Chain rule through O = P·V, P = softmax(S), S = Q·Kᵀ/√hd per query head (accumulates into dqkv):
     * dV = Pᵀ·dO;  dP = dO·Vᵀ;  dS[t][t2] = P[t][t2]·(dP[t][t2] − Σ_j P[t][j]·dP[t][j]) (softmax Jacobian);
     * dQ = dS·K/√hd;  dK = dSᵀ·Q/√hd. A key/value head shared by a group of query heads receives the sum
     * of their dK and dV. Masked entries have P = 0, so they contribute nothing.
     */
    public static void attentionBackward(double[] dqkv, double[] dout, double[] qkv, double[] att,
                                         int B, int T, int NH, int NKV, int hd) {
        double scale = 1.0 / Math.sqrt(hd);
        double[] dp = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                int g = h / (NH / NKV);
                for (int t = 0; t < T; t++) {
                    int a = ((b * NH + h) * T + t) * T;
                    int o = (b * T + t) * NH * hd + h * hd;
                    for (int t2 = 0; t2 <= t; t2++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++) {
                            d += dout[o + i] * qkv[vIdx(b, t2, g, i, T, NH, NKV, hd)];
                            dqkv[vIdx(b, t2, g, i, T, NH, NKV, hd)] += att[a + t2] * dout[o + i];   // dV
                        }
                        dp[t2] = d;
                    }
                    double pdp = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        pdp += att[a + t2] * dp[t2];
                    }
                    for (int t2 = 0; t2 <= t; t2++) {
                        double ds = att[a + t2] * (dp[t2] - pdp);
                        for (int i = 0; i < hd; i++) {
                            dqkv[qIdx(b, t, h, i, T, NH, NKV, hd)] += ds * scale * qkv[kIdx(b, t2, g, i, T, NH, NKV, hd)];
                            dqkv[kIdx(b, t2, g, i, T, NH, NKV, hd)] += ds * scale * qkv[qIdx(b, t, h, i, T, NH, NKV, hd)];
                        }
                    }
                }
            }
        }
    }

    /** Index of q[b, t, head h, i] in the packed rows of (NH + 2·NKV)·hd. */
    private static int qIdx(int b, int t, int h, int i, int T, int NH, int NKV, int hd) {
        return (b * T + t) * (NH + 2 * NKV) * hd + h * hd + i;
    }

    private static int kIdx(int b, int t, int g, int i, int T, int NH, int NKV, int hd) {
        return (b * T + t) * (NH + 2 * NKV) * hd + (NH + g) * hd + i;
    }

    private static int vIdx(int b, int t, int g, int i, int T, int NH, int NKV, int hd) {
        return (b * T + t) * (NH + 2 * NKV) * hd + (NH + NKV + g) * hd + i;
    }

    // ---------------------------------------------------------------- cross-entropy

    /**
     * loss_r = −log p_r[target_r] = log Σ_j exp(z_j) − z_target (computed as max + log Σ exp(z_j − max) − z_t);
     * 0 for target &lt; 0 (ignored).
     */
    public static void crossEntropyForward(double[] losses, double[] logits, int[] targets, int rows, int V) {
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t < 0) {
                losses[r] = 0;
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < V; j++) {
                max = Math.max(max, logits[r * V + j]);
            }
            double sum = 0;
            for (int j = 0; j < V; j++) {
                sum += Math.exp(logits[r * V + j] - max);
            }
            losses[r] = max + Math.log(sum) - logits[r * V + t];
        }
    }

    /**
     * Gradient of gradScale·Σ_r loss_r: dz_r = gradScale·(softmax(z_r) − onehot(target_r)); rows with
     * target &lt; 0 get 0. Writes (does not accumulate), as the float kernel overwrites its logits.
     */
    public static void crossEntropyBackward(double[] dlogits, double[] logits, int[] targets, int rows, int V,
                                            double gradScale) {
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t < 0) {
                java.util.Arrays.fill(dlogits, r * V, r * V + V, 0.0);
                continue;
            }
            softmax(dlogits, r * V, logits, r * V, V);
            dlogits[r * V + t] -= 1.0;
            for (int j = 0; j < V; j++) {
                dlogits[r * V + j] *= gradScale;
            }
        }
    }

    // ---------------------------------------------------------------- embedding, residual, dropout

    /** out[b,t,:] = wte[token[b,t],:] + wpe[t,:]. */
    public static void embeddingForward(double[] out, int[] tokens, double[] wte, double[] wpe, int B, int T, int C) {
        for (int bt = 0; bt < B * T; bt++) {
            for (int i = 0; i < C; i++) {
                out[bt * C + i] = wte[tokens[bt] * C + i] + wpe[(bt % T) * C + i];
            }
        }
    }

    /** dwte[token[b,t],:] += dout[b,t,:]; dwpe[t,:] += dout[b,t,:] (repeated tokens sum). */
    public static void embeddingBackward(double[] dwte, double[] dwpe, double[] dout, int[] tokens, int B, int T, int C) {
        for (int bt = 0; bt < B * T; bt++) {
            for (int i = 0; i < C; i++) {
                dwte[tokens[bt] * C + i] += dout[bt * C + i];
                dwpe[(bt % T) * C + i] += dout[bt * C + i];
            }
        }
    }

    /** out = a + b. */
    public static void residualForward(double[] out, double[] a, double[] b, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** da += dout; db += dout (both branches of the sum get the full gradient). */
    public static void residualBackward(double[] da, double[] db, double[] dout, int n) {
        for (int i = 0; i < n; i++) {
            da[i] += dout[i];
            db[i] += dout[i];
        }
    }

    /** out = x·mask, where the mask holds 0 (dropped) or 1/(1−p) (kept). */
    public static void dropoutForward(double[] out, double[] x, double[] mask, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = x[i] * mask[i];
        }
    }

    /** dx += mask·dout. */
    public static void dropoutBackward(double[] dx, double[] dout, double[] mask, int n) {
        for (int i = 0; i < n; i++) {
            dx[i] += mask[i] * dout[i];
        }
    }

    // ---------------------------------------------------------------- optimiser (Loshchilov & Hutter 2019)

    /**
     * One AdamW step (step is 1-based): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
     * m̂ = m/(1−β1^step); v̂ = v/(1−β2^step); θ ← θ − lr·(m̂/(√v̂ + ε) + wd·θ).
     */
    public static void adamW(double[] param, double[] grad, double[] m, double[] v, int n, double lr,
                             double beta1, double beta2, double eps, double weightDecay, int step) {
        for (int i = 0; i < n; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
            v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
            double mhat = m[i] / (1 - Math.pow(beta1, step));
            double vhat = v[i] / (1 - Math.pow(beta2, step));
            param[i] -= lr * (mhat / (Math.sqrt(vhat) + eps) + weightDecay * param[i]);
        }
    }

    /** ‖g‖ = √(Σ over tensors Σ g²). */
    public static double globalNorm(List<double[]> tensors) {
        double s = 0;
        for (double[] g : tensors) {
            for (double x : g) {
                s += x * x;
            }
        }
        return Math.sqrt(s);
    }

    /** If ‖g‖ &gt; maxNorm, g ← g·maxNorm/(‖g‖ + 1e-6) (PyTorch's clip_grad_norm_). Returns ‖g‖ before clipping. */
    public static double clip(List<double[]> tensors, double maxNorm) {
        double norm = globalNorm(tensors);
        if (norm > maxNorm) {
            double f = maxNorm / (norm + 1e-6);
            for (double[] g : tensors) {
                for (int i = 0; i < g.length; i++) {
                    g[i] *= f;
                }
            }
        }
        return norm;
    }
}
