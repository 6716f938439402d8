package dev.jgpt.model;

import dev.jgpt.kernel.Gelu;

import java.util.List;

/** The feed-forward sublayer: x·W_fcᵀ → GELU → ·W_projᵀ → dropout, 4× wide in the middle. */
public final class Mlp implements Layer {
    /** W¹ (c_fc), into the hidden width. */
    public final Linear in;
    /** W² (c_proj), back to the residual width: the matrix of Xiong et al.'s Theorem 1. */
    public final Linear out;
    private final DropoutLayer dropout;
    private float[] h, g, dproj, dg, dh;
    private int rows;

    Mlp(String prefix, GPTConfig cfg, RunContext ctx) {
        int C = cfg.nEmbd();
        in = new Linear(prefix + ".c_fc", C, 4 * C, cfg.bias());
        out = new Linear(prefix + ".c_proj", 4 * C, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
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
