package dev.jgpt.model;

import dev.jgpt.kernel.Attention;

/** Multi-head causal self-attention: qkv = x·W_attnᵀ, softmax(q·kᵀ/√hs)·v per head, then W_proj and dropout. */
final class CausalSelfAttention implements Layer {
    final Linear cAttn, cProj;
    private final DropoutLayer dropout;
    private final int C, NH;
    private float[] qkv, att, y, dqkv, dy, dproj;
    private int B, T;

    CausalSelfAttention(String prefix, GPTConfig cfg, RunContext ctx) {
        C = cfg.nEmbd();
        NH = cfg.nHead();
        cAttn = new Linear(prefix + ".c_attn", C, 3 * C, cfg.bias());
        cProj = new Linear(prefix + ".c_proj", C, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
    }

    @Override
    public float[] forward(float[] x, int B, int T) {
        this.B = B;
        this.T = T;
        qkv = cAttn.forward(x, B, T);
        att = Buffers.ensure(att, (long) B * NH * T * T);
        y = Buffers.ensure(y, (long) B * T * C);
        Attention.forward(y, att, qkv, B, T, C, NH);
        return dropout.forward(cProj.forward(y, B, T), B, T);
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        int n = B * T * C;
        dproj = Buffers.zeroed(dproj, n);
        dropout.backward(dout, dproj);
        dy = Buffers.zeroed(dy, n);
        cProj.backward(dproj, dy);
        dqkv = Buffers.zeroed(dqkv, 3L * n);
        Attention.backward(dqkv, dy, qkv, att, B, T, C, NH);
        cAttn.backward(dqkv, dx);
    }
}
