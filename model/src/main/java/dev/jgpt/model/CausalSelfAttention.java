package dev.jgpt.model;

import dev.jgpt.kernel.Attention;

import java.util.List;

/**
 * Multi-head causal self-attention: qkv = x·W_attnᵀ, softmax(q·kᵀ/√hs)·v per head, then W_proj and
 * dropout. On a training batch each sequence attends within itself; on a cached batch each new row
 * is appended to its sequence's KV cache and attends to every cached position up to its own.
 */
public final class CausalSelfAttention implements Layer {
    public final Linear qkv, proj;
    private final DropoutLayer dropout;
    private final int layer, C, NH;
    private float[] packed, att, y, dqkv, dy, dproj, scores;
    private Batch batch;

    CausalSelfAttention(String prefix, int layer, GPTConfig cfg, RunContext ctx) {
        this.layer = layer;
        C = cfg.nEmbd();
        NH = cfg.nHead();
        qkv = new Linear(prefix + ".c_attn", C, 3 * C, cfg.bias());
        proj = new Linear(prefix + ".c_proj", C, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
    }

    @Override
    public float[] forward(float[] x, Batch batch) {
        this.batch = batch;
        packed = qkv.forward(x, batch);
        y = Buffers.ensure(y, (long) batch.rows() * C);
        if (batch.isCached()) {
            attendCached(batch);
        } else {
            int B = batch.B(), T = batch.T();
            att = Buffers.ensure(att, (long) B * NH * T * T);
            Attention.forward(y, att, packed, B, T, C, NH);
        }
        return dropout.forward(proj.forward(y, batch), batch);
    }

    /** Appends each sequence's new keys and values to its cache, then attends row by row. */
    private void attendCached(Batch batch) {
        for (int s = 0; s < batch.sequenceCount(); s++) {
            KVCache cache = batch.cache(s);
            float[] kc = cache.k[layer], vc = cache.v[layer];
            int pos = batch.start(s), row = batch.firstRow(s), n = batch.count(s);
            scores = Buffers.ensure(scores, (long) NH * (pos + n));
            for (int t = 0; t < n; t++) {
                int r = (row + t) * 3 * C;
                System.arraycopy(packed, r + C, kc, (pos + t) * C, C);
                System.arraycopy(packed, r + 2 * C, vc, (pos + t) * C, C);
                Attention.decodeStep(y, (row + t) * C, packed, r, kc, vc, 0, pos + t, C, NH, scores);
            }
        }
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        int B = batch.B(), T = batch.T(), n = B * T * C;
        dproj = Buffers.zeroed(dproj, n);
        dropout.backward(dout, dproj);
        dy = Buffers.zeroed(dy, n);
        proj.backward(dproj, dy);
        dqkv = Buffers.zeroed(dqkv, 3L * n);
        Attention.backward(dqkv, dy, packed, att, B, T, C, NH);
        qkv.backward(dqkv, dx);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(qkv, proj);
    }
}
