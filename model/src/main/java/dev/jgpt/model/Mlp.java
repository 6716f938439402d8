package dev.jgpt.model;

import dev.jgpt.kernel.Gelu;

/** The feed-forward sublayer: x·W_fcᵀ → GELU → ·W_projᵀ → dropout, 4× wide in the middle. */
final class Mlp implements Layer {
    final Linear cFc, cProj;
    private final DropoutLayer dropout;
    private final int C;
    private float[] h, g, dproj, dg, dh;
    private int B, T;

    Mlp(String prefix, GPTConfig cfg, RunContext ctx) {
        C = cfg.nEmbd();
        cFc = new Linear(prefix + ".c_fc", C, 4 * C, cfg.bias());
        cProj = new Linear(prefix + ".c_proj", 4 * C, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
    }

    @Override
    public float[] forward(float[] x, int B, int T) {
        this.B = B;
        this.T = T;
        h = cFc.forward(x, B, T);
        int n = B * T * 4 * C;
        g = Buffers.ensure(g, n);
        Gelu.forward(g, h, n);
        return dropout.forward(cProj.forward(g, B, T), B, T);
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        int n = B * T * C;
        dproj = Buffers.zeroed(dproj, n);
        dropout.backward(dout, dproj);
        dg = Buffers.zeroed(dg, 4L * n);
        cProj.backward(dproj, dg);
        dh = Buffers.zeroed(dh, 4L * n);
        Gelu.backward(dh, h, dg, 4 * n);
        cFc.backward(dh, dx);
    }
}
