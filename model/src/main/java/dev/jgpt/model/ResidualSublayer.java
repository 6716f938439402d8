package dev.jgpt.model;

import dev.jgpt.kernel.Vec;

import java.util.List;

/**
 * A sublayer F (attention or MLP) wrapped in its residual connection. This class is the one place
 * the residual layout lives; each case below is the paper's formula, forward and backward.
 *
 * <pre>
 * post-ln   out = LN(x + F(x))
 * pre-ln    out = x + F(LN(x))
 * sandwich  out = x + LN'(F(LN(x)))
 * deepnorm  out = LN(α·x + F(x))
 * rezero    out = x + a·F(x)          (a learnable, 0 at init)
 * none      out = F(LN(x))
 * </pre>
 */
public final class ResidualSublayer implements Layer {
    final ResidualLayout layout;
    final Layer f;
    /** Normalises F's input (pre-ln, sandwich, none) or the sum (post-ln, deepnorm); null for rezero. */
    final Layer ln;
    /** Sandwich only: normalises F's output before the add. */
    final Layer lnOut;
    /** ReZero only: the learnable residual weight a. */
    final Param rezeroAlpha;
    /** DeepNorm only: the constant skip scale α = (2N)^¼. */
    final float deepNormAlpha;

    private final int C;
    private float[] x, y, out, dy, dsum;
    private int n;

    /**
     * Names follow the block's checkpoint names: {@code lnName} for the norm at the sublayer's input or
     * output, {@code lnOutName} for sandwich's second norm, {@code alphaName} for ReZero's a. The norms
     * are the config's (LayerNorm or RMSNorm).
     */
    ResidualSublayer(ResidualLayout layout, Layer f, String lnName, String lnOutName, String alphaName, GPTConfig cfg) {
        this.layout = layout;
        this.f = f;
        this.C = cfg.nEmbd();
        this.ln = layout == ResidualLayout.REZERO ? null : RmsNormLayer.of(cfg, lnName);
        this.lnOut = layout == ResidualLayout.SANDWICH ? RmsNormLayer.of(cfg, lnOutName) : null;
        this.rezeroAlpha = layout == ResidualLayout.REZERO ? new Param(alphaName, false, 1) : null;
        this.deepNormAlpha = (float) GPTConfig.deepNormAlpha(cfg.nLayer());
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
            case PRE_LN -> {
                y = f.forward(ln.forward(x, b), b);
                return add(x, 1f, y, 1f);
            }
            case POST_LN -> {
                y = f.forward(x, b);
                return ln.forward(add(x, 1f, y, 1f), b);
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
            case NONE -> {
                return f.forward(ln.forward(x, b), b);
            }
            default -> throw new IllegalStateException("unhandled layout " + layout);
        }
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        switch (layout) {
            case PRE_LN -> {                        // dx = dout + LNᵀ(Fᵀ(dout))
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
            case NONE -> ln.backward(fBackward(dout), dx);
            default -> throw new IllegalStateException("unhandled layout " + layout);
        }
    }

    /** The input LN (or the output LN for post-ln and deepnorm), F, sandwich's second LN, ReZero's a. */
    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(ln, f, lnOut, rezeroAlpha);
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

    /** Gradient through F into a fresh buffer (F's input gradient). */
    private float[] fBackward(float[] dF) {
        dy = Buffers.zeroed(dy, n);
        f.backward(dF, dy);
        return dy;
    }

    private float[] lnBackward(Layer norm, float[] d) {
        dsum = Buffers.zeroed(dsum, n);
        norm.backward(d, dsum);
        return dsum;
    }
}
