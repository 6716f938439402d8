package dev.jgpt.model;

import dev.jgpt.kernel.Gelu;

import java.util.List;

/** GPT-2's feed-forward sublayer: x·W₁ᵀ → GELU (tanh form) → ·W₂ᵀ → dropout. */
public final class Mlp implements FeedForward {
    private final Linear in, out;
    private final DropoutLayer dropout;
    private float[] h, g, dproj, dg, dh;
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
        rows = batch.rows();
        h = in.forward(x, batch);
        int n = rows * in.out;
        g = Buffers.ensure(g, n);
        Gelu.forward(g, h, n);
        return dropout.forward(out.forward(g, batch), batch);
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        int n = rows * in.out;
        dproj = Buffers.zeroed(dproj, rows * out.out);
        dropout.backward(dout, dproj);
        dg = Buffers.zeroed(dg, n);
        out.backward(dproj, dg);
        dh = Buffers.zeroed(dh, n);
        Gelu.backward(dh, h, dg, n);
        in.backward(dh, dx);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(in, out);
    }
}
