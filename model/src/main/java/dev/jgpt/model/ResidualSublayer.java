package dev.jgpt.model;

import dev.jgpt.kernel.Vec;

import java.util.List;

/**
 * A sublayer F (attention or MLP) wrapped in its residual connection. This class is the one place
 * the residual layout of a sublayer lives; each case below is the paper's formula, forward and backward.
 * ({@code dense} and {@code unet} wire whole blocks together as well; that part is {@link BlockStack}'s.)
 *
 * <pre>
 * post-ln   out = LN(x + F(x))
 * pre-ln    out = x + F(LN(x))             (also the sublayers of dense and unet)
 * sandwich  out = x + LN'(F(LN(x)))
 * deepnorm  out = LN(α·x + F(x))
 * rezero    out = x + a·F(x)               (a learnable, 0 at init)
 * highway   out = x + g⊙(F(LN(x)) − x),   g = σ(LN(x)·W_gᵀ + b_g) per channel, b_g = −2 at init
 * none      out = F(LN(x))
 * </pre>
 */
public final class ResidualSublayer implements Layer {
    final ResidualLayout layout;
    final Layer f;
    /** Normalises F's input (pre-ln, sandwich, none) or the sum (post-ln, deepnorm); null for rezero. */
    final NormLayer ln;
    /** Sandwich only: normalises F's output before the add. */
    final NormLayer lnOut;
    /** ReZero only: the learnable residual weight a. */
    final Param rezeroAlpha;
    /** DeepNorm only: the constant skip scale α = (2N)^¼. */
    final float deepNormAlpha;
    /** Highway only: the gate's projection W_g [C, C] and bias b_g (always present: it holds the carry bias). */
    final Linear gate;

    /**
     * Highway's b_g at init: σ(−2) ≈ 0.12 of F and 0.88 of x. Srivastava et al. (2015) start at −1 to −3,
     * more negative for deeper nets; a transformer of L blocks has 2L gated sublayers.
     */
    public static final float HIGHWAY_CARRY_BIAS = -2f;

    private final int C;
    private float[] x, y, out, dy, dsum, g, dg;
    private int n;

    /**
     * Names follow the block's checkpoint names: {@code lnName} for the norm at the sublayer's input or
     * output, {@code lnOutName} for sandwich's second norm, {@code alphaName} for ReZero's a,
     * {@code gateName} for highway's gate. The norms are the config's (LayerNorm or RMSNorm).
     */
    ResidualSublayer(ResidualLayout layout, Layer f, String lnName, String lnOutName, String alphaName,
                     String gateName, GPTConfig cfg, Names names) {
        this.layout = layout;
        this.f = f;
        this.C = cfg.nEmbd();
        this.ln = layout == ResidualLayout.REZERO ? null : RmsNormLayer.of(cfg, lnName);
        this.lnOut = layout == ResidualLayout.SANDWICH ? RmsNormLayer.of(cfg, lnOutName) : null;
        this.rezeroAlpha = layout == ResidualLayout.REZERO ? new Param(alphaName, false, 1) : null;
        this.deepNormAlpha = (float) GPTConfig.deepNormAlpha(cfg.nLayer());
        this.gate = layout == ResidualLayout.HIGHWAY ? names.linear(gateName, C, C, true) : null;
        if (gate != null) {
            java.util.Arrays.fill(gate.bias.data, HIGHWAY_CARRY_BIAS);
        }
    }

    /** The wrapped sublayer F. */
    public Layer sublayer() {
        return f;
    }

    @Override
    public float[] forward(float[] in, Batch b) {
        x = in;
        n = b.rows() * C;
        switch (layout) {
            case PRE_LN, DENSE, UNET -> {   // x + F(LN(x)): the sum made by F (backward needs no F(LN(x)))
                out = Buffers.ensure(out, n);
                return f.forwardPlus(ln.forward(x, b), b, x, out, n);
            }
            case POST_LN -> {
                out = Buffers.ensure(out, n);
                return ln.forward(f.forwardPlus(x, b, x, out, n), b);
            }
            case SANDWICH -> {
                y = f.forward(ln.forward(x, b), b);
                return add(x, 1f, lnOut.forward(y, b), 1f);
            }
            case DEEPNORM -> {
                y = f.forward(x, b);
                return ln.forward(add(x, deepNormAlpha, y, 1f), b);
            }
            case REZERO -> {
                y = f.forward(x, b);
                return add(x, 1f, y, rezeroAlpha.data[0]);
            }
            case HIGHWAY -> {
                float[] h = ln.forward(x, b);
                y = f.forward(h, b);
                float[] z = gate.forward(h, b);
                g = Buffers.ensure(g, n);
                out = Buffers.ensure(out, n);
                for (int i = 0; i < n; i++) {
                    g[i] = sigmoid(z[i]);
                    out[i] = x[i] + g[i] * (y[i] - x[i]);
                }
                return out;
            }
            case NONE -> {
                return f.forward(ln.forward(x, b), b);
            }
            default -> throw new IllegalStateException("unhandled layout " + layout);
        }
    }

    /**
     * Pre-LN's dx = dout + LNᵀ(Fᵀ(dout)): the norm writes it in its backward pass (not a serial copy of dout
     * first, a whole pass over dx); the other layouts zero dx and add.
     */
    @Override
    public void backwardSet(float[] dout, float[] dx, int n) {
        if (layout == ResidualLayout.PRE_LN || layout == ResidualLayout.DENSE || layout == ResidualLayout.UNET) {
            ln.backwardOnto(fBackward(dout), dout, dx);
        } else {
            Layer.super.backwardSet(dout, dx, n);
        }
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        switch (layout) {
            case PRE_LN, DENSE, UNET -> {           // dx = dout + LNᵀ(Fᵀ(dout))
                Vec.add(dx, 0, dout, 0, n);
                ln.backward(fBackward(dout), dx);
            }
            case POST_LN -> {                       // ds = LNᵀ(dout); dx = ds + Fᵀ(ds)
                float[] ds = lnBackward(ln, dout);
                Vec.add(dx, 0, ds, 0, n);
                f.backward(ds, dx);
            }
            case SANDWICH -> {                      // dx = dout + LNᵀ(Fᵀ(LN'ᵀ(dout)))
                Vec.add(dx, 0, dout, 0, n);
                ln.backward(fBackward(lnBackward(lnOut, dout)), dx);
            }
            case DEEPNORM -> {                      // ds = LNᵀ(dout); dx = α·ds + Fᵀ(ds)
                float[] ds = lnBackward(ln, dout);
                for (int i = 0; i < n; i++) {
                    dx[i] += deepNormAlpha * ds[i];
                }
                f.backward(ds, dx);
            }
            case REZERO -> {                        // dx = dout + Fᵀ(a·dout); da = Σ dout·F(x)
                Vec.add(dx, 0, dout, 0, n);
                float a = rezeroAlpha.data[0];
                rezeroAlpha.grad()[0] += Vec.dot(dout, 0, y, 0, n);
                dsum = Buffers.ensure(dsum, n);
                for (int i = 0; i < n; i++) {
                    dsum[i] = a * dout[i];
                }
                f.backward(dsum, dx);
            }
            case HIGHWAY -> {                       // dx = (1−g)⊙dout + LNᵀ(Fᵀ(g⊙dout) + W_gᵀ(dout⊙(F − x)⊙g(1−g)))
                dsum = Buffers.ensure(dsum, n);     // ∂/∂F
                dg = Buffers.ensure(dg, n);         // ∂/∂z, z the gate's pre-activation
                for (int i = 0; i < n; i++) {
                    float gi = g[i];
                    dx[i] += (1f - gi) * dout[i];
                    dsum[i] = gi * dout[i];
                    dg[i] = dout[i] * (y[i] - x[i]) * gi * (1f - gi);
                }
                float[] dh = fBackward(dsum);
                gate.backward(dg, dh);
                ln.backward(dh, dx);
            }
            case NONE -> ln.backward(fBackward(dout), dx);
            default -> throw new IllegalStateException("unhandled layout " + layout);
        }
    }

    /** The input LN (or the output LN for post-ln and deepnorm), F, sandwich's second LN, ReZero's a, highway's gate. */
    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(ln, f, lnOut, rezeroAlpha, gate);
    }

    /** Highway's gate projection, or null for other layouts. */
    public Linear gate() {
        return gate;
    }

    /** σ(z) without overflow: exp of a large |z| gives ∞ or 0, and 1/(1 + ∞) = 0. */
    private static float sigmoid(float z) {
        return (float) (1.0 / (1.0 + Math.exp(-z)));
    }

    /** out = p·a + q·b into this sublayer's own buffer. */
    private float[] add(float[] a, float p, float[] b, float q) {
        out = Buffers.ensure(out, n);
        if (p == 1f && q == 1f) {
            Vec.add(out, a, b, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = p * a[i] + q * b[i];
            }
        }
        return out;
    }

    /** Gradient through F into a buffer of this sublayer's (F's input gradient). */
    private float[] fBackward(float[] dF) {
        dy = Buffers.ensure(dy, n);
        f.backwardSet(dF, dy, n);
        return dy;
    }

    private float[] lnBackward(Layer norm, float[] d) {
        dsum = Buffers.zeroed(dsum, n);
        norm.backward(d, dsum);
        return dsum;
    }
}
