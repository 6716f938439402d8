package dev.jgpt.model;

import dev.jgpt.kernel.Attention;
import dev.jgpt.kernel.Rope;

import java.util.List;

/**
 * Causal self-attention with n_head query heads and n_kv_head key/value heads (grouped-query
 * attention; n_kv_head = n_head is GPT-2's multi-head attention): one projection to packed
 * [q | k | v] rows, RoPE on q and k when positions are rotary, softmax(q·kᵀ/√d)·v per head (query head
 * h reads kv head h/(n_head/n_kv_head)), then the output projection and dropout. On a training batch
 * each sequence attends within itself; on a cached batch each new row is appended to its sequence's KV
 * cache (n_kv_head heads per position) and attends to every cached position up to its own.
 */
public final class CausalSelfAttention implements Layer {
    public final Linear qkv, proj;
    private final DropoutLayer dropout;
    private final RotaryTable rotary;   // null for learned positions
    private final Attention.Heads heads;
    private final int layer;
    /** Rows of a prompt attended at once in a cached forward. */
    private static final int PREFILL_CHUNK = 256;
    private float[] packed, att, y, dqkv, dy, scores;
    private Batch batch;

    CausalSelfAttention(String prefix, int layer, GPTConfig cfg, Names names, RotaryTable rotary, RunContext ctx) {
        this.layer = layer;
        this.heads = new Attention.Heads(cfg.nHead(), cfg.nKvHead(), cfg.headDim());
        this.rotary = rotary;
        qkv = names.qkv(prefix, cfg.nEmbd(), heads.qWidth(), heads.kvWidth(), cfg.qkvBias());
        proj = names.attentionOut(prefix, heads.qWidth(), cfg.nEmbd(), cfg.bias());
        dropout = new DropoutLayer(ctx, cfg.nEmbd());
    }

    @Override
    public float[] forward(float[] x, Batch batch) {
        return dropout.forward(proj.forward(attend(x, batch), batch), batch);
    }

    /** Without dropout, the residual goes into the output projection's product. */
    @Override
    public float[] forwardPlus(float[] x, Batch batch, float[] residual, float[] sum, int n) {
        if (!dropout.skips(batch)) {
            return Layer.super.forwardPlus(x, batch, residual, sum, n);
        }
        return proj.forwardPlus(attend(x, batch), batch, residual, sum, n);
    }

    /** The heads' outputs [rows × n·dim], before the output projection. */
    private float[] attend(float[] x, Batch batch) {
        this.batch = batch;
        int rows = batch.rows(), W = heads.rowWidth();
        packed = qkv.forward(x, batch);
        if (rotary != null) {
            int[] pos = batch.positions();
            Rope.forward(packed, 0, W, rows, heads.n() + heads.nKv(), pos, rotary.covering(maxOf(pos)));
        }
        y = Buffers.ensure(y, (long) rows * heads.qWidth());
        if (batch.isCached()) {
            attendCached(batch);
        } else {
            int B = batch.B(), T = batch.T();
            att = Buffers.ensure(att, (long) B * heads.n() * T * T);
            Attention.forward(y, att, packed, B, T, heads);
        }
        return y;
    }

    /**
     * Appends each sequence's new keys and values to its cache, then attends its new rows to the cache,
     * a chunk of rows at a time so a long prompt's scores (rows × heads × positions) stay small.
     */
    private void attendCached(Batch batch) {
        int W = heads.rowWidth(), Q = heads.qWidth();
        for (int s = 0; s < batch.sequenceCount(); s++) {
            KVCache cache = batch.cache(s);
            int pos = batch.start(s), row = batch.firstRow(s), n = batch.count(s);
            float[] kc = cache.keys(layer, pos + n), vc = cache.values(layer, pos + n);
            Attention.appendToCache(kc, vc, 0, pos, packed, row * W, n, heads);
            for (int c = 0; c < n; c += PREFILL_CHUNK) {
                int m = Math.min(PREFILL_CHUNK, n - c), r = row + c;
                scores = Buffers.ensure(scores, (long) m * heads.n() * (pos + c + m));
                Attention.decode(y, r * Q, packed, r * W, W, kc, vc, 0, pos + c, m, heads, scores);
            }
        }
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        qkv.backward(qkvGradient(dout), dx);
    }

    @Override
    public void backwardSet(float[] dout, float[] dx, int n) {
        qkv.backwardSet(qkvGradient(dout), dx, n);
    }

    /** The gradient at the packed [q | k | v] rows, the output projection's gradients on the way. */
    private float[] qkvGradient(float[] dout) {
        int B = batch.B(), T = batch.T(), rows = B * T;
        dy = Buffers.ensure(dy, (long) rows * heads.qWidth());
        proj.backwardSet(dropout.backward(dout), dy, rows * heads.qWidth());
        dqkv = Buffers.ensure(dqkv, (long) rows * heads.rowWidth());
        Attention.backwardSet(dqkv, dy, packed, att, B, T, heads);
        if (rotary != null) {
            int[] pos = batch.positions();
            Rope.backward(dqkv, 0, heads.rowWidth(), rows, heads.n() + heads.nKv(), pos, rotary.covering(maxOf(pos)));
        }
        return dqkv;
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(qkv, proj);
    }

    private static int maxOf(int[] a) {
        int m = 0;
        for (int v : a) {
            m = Math.max(m, v);
        }
        return m;
    }
}
