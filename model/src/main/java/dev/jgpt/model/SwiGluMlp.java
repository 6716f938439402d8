package dev.jgpt.model;

import dev.jgpt.kernel.SwiGlu;

import java.util.List;

/**
 * Llama's feed-forward sublayer (Shazeer 2020): [gate | up] = x·W_{gate,up}ᵀ (one packed matmul),
 * h = SiLU(gate) ⊙ up, out = h·W_downᵀ, then dropout.
 */
public final class SwiGluMlp implements FeedForward {
    private final Linear gateUp, down;
    private final DropoutLayer dropout;
    private final int hidden;
    private float[] gu, h, dh, dgu;
    private int rows;

    SwiGluMlp(String prefix, GPTConfig cfg, Names names, RunContext ctx) {
        int C = cfg.nEmbd();
        hidden = cfg.intermediateSize();
        gateUp = names.feedForwardIn(prefix, C, hidden, true, cfg.bias());
        down = names.feedForwardOut(prefix, hidden, C, cfg.bias());
        dropout = new DropoutLayer(ctx, C);
    }

    @Override
    public Linear in() {
        return gateUp;
    }

    @Override
    public Linear out() {
        return down;
    }

    @Override
    public float[] forward(float[] x, Batch batch) {
        return dropout.forward(down.forward(hidden(x, batch), batch), batch);
    }

    /** Without dropout, the residual goes into W_down's product. */
    @Override
    public float[] forwardPlus(float[] x, Batch batch, float[] residual, float[] sum, int n) {
        if (!dropout.skips(batch)) {
            return FeedForward.super.forwardPlus(x, batch, residual, sum, n);
        }
        return down.forwardPlus(hidden(x, batch), batch, residual, sum, n);
    }

    /** silu(gate)·up of x's [gate | up] projection. */
    private float[] hidden(float[] x, Batch batch) {
        rows = batch.rows();
        gu = gateUp.forward(x, batch);
        h = Buffers.ensure(h, (long) rows * hidden);
        SwiGlu.forward(h, gu, rows, hidden);
        return h;
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        gateUp.backward(gateUpGradient(dout), dx);
    }

    @Override
    public void backwardSet(float[] dout, float[] dx, int n) {
        gateUp.backwardSet(gateUpGradient(dout), dx, n);
    }

    /** The gradient at [gate | up], W_down's gradients on the way. */
    private float[] gateUpGradient(float[] dout) {
        dh = Buffers.ensure(dh, (long) rows * hidden);
        down.backwardSet(dropout.backward(dout), dh, rows * hidden);
        dgu = Buffers.zeroed(dgu, 2L * rows * hidden);
        SwiGlu.backward(dgu, dh, gu, rows, hidden);
        return dgu;
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(gateUp, down);
    }
}
