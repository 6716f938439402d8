package dev.jgpt.model;

import java.util.List;

/** GPT-2's feed-forward sublayer: x·W₁ᵀ → GELU (tanh form) → ·W₂ᵀ → dropout. */
public final class Mlp implements FeedForward {
    private final Linear in, out;
    private final DropoutLayer dropout;
    private float[] geluGrad, g, dh;
    private int rows;

    Mlp(String prefix, GPTConfig cfg, Names names, RunContext ctx) {
        int C = cfg.nEmbd(), I = cfg.intermediateSize();
        in = names.feedForwardIn(prefix, C, I, false, cfg.bias());
        out = names.feedForwardOut(prefix, I, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
    }

    @Override
    public Linear in() {
        return in;
    }

    @Override
    public Linear out() {
        return out;
    }

    @Override
    public float[] forward(float[] x, Batch batch) {
        return dropout.forward(out.forward(hidden(x, batch), batch), batch);
    }

    /** Without dropout, the residual goes into W₂'s product. */
    @Override
    public float[] forwardPlus(float[] x, Batch batch, float[] residual, float[] sum, int n) {
        if (!dropout.skips(batch)) {
            return FeedForward.super.forwardPlus(x, batch, residual, sum, n);
        }
        return out.forwardPlus(hidden(x, batch), batch, residual, sum, n);
    }

    /** g = GELU(h), h = x·W₁ᵀ + b₁, keeping GELU'(h) for the backward (one pass makes both). */
    private float[] hidden(float[] x, Batch batch) {
        rows = batch.rows();
        g = Buffers.ensure(g, (long) rows * in.out);
        geluGrad = in.forwardGelu(x, batch, g);
        return g;
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        in.backward(hiddenGradient(dout), dx);
    }

    @Override
    public void backwardSet(float[] dout, float[] dx, int n) {
        in.backwardSet(hiddenGradient(dout), dx, n);
    }

    /** dh = GELU'(h) ⊙ (dproj·W₂), W₂'s gradients on the way. */
    private float[] hiddenGradient(float[] dout) {
        dh = Buffers.ensure(dh, (long) rows * in.out);
        out.backwardThroughGelu(dropout.backward(dout), geluGrad, dh);
        return dh;
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(in, out);
    }
}
