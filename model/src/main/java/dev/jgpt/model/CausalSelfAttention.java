package dev.jgpt.model;

import dev.jgpt.kernel.Attention;

/** Multi-head causal self-attention: qkv = x·W_attnᵀ, softmax(q·kᵀ/√hs)·v per head, then W_proj and dropout. */
final class CausalSelfAttention implements Layer {
    final Linear cAttn, cProj;
    private final DropoutLayer dropout;
    private final RunContext ctx;
    private final int layer, C, NH;
    private float[] qkv, att, y, dqkv, dy, dproj, scores;
    private int B, T;

    CausalSelfAttention(String prefix, int layer, GPTConfig cfg, RunContext ctx) {
        this.ctx = ctx;
        this.layer = layer;
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
        y = Buffers.ensure(y, (long) B * T * C);
        if (ctx.cache != null) {
            attendCached(T);
        } else {
            att = Buffers.ensure(att, (long) B * NH * T * T);
            Attention.forward(y, att, qkv, B, T, C, NH);
        }
        return dropout.forward(cProj.forward(y, B, T), B, T);
    }

    /**
     * Inference with a KV cache (B = 1): appends the new rows' keys and values at ctx.position and
     * attends each new row to every cached position up to its own.
     */
    private void attendCached(int n) {
        int pos = ctx.position;
        float[] kc = ctx.cache.k[layer], vc = ctx.cache.v[layer];
        scores = Buffers.ensure(scores, (long) NH * (pos + n));
        for (int t = 0; t < n; t++) {
            System.arraycopy(qkv, t * 3 * C + C, kc, (pos + t) * C, C);
            System.arraycopy(qkv, t * 3 * C + 2 * C, vc, (pos + t) * C, C);
            Attention.decodeStep(y, t * C, qkv, t * 3 * C, kc, vc, 0, pos + t, C, NH, scores);
        }
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
