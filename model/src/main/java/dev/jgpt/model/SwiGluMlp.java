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
    private float[] gu, h, dproj, dh, dgu;
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
        rows = batch.rows();
        gu = gateUp.forward(x, batch);
        h = Buffers.ensure(h, (long) rows * hidden);
        SwiGlu.forward(h, gu, rows, hidden);
        return dropout.forward(down.forward(h, batch), batch);
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        dproj = Buffers.zeroed(dproj, (long) rows * down.out);
        dropout.backward(dout, dproj);
        dh = Buffers.zeroed(dh, (long) rows * hidden);
        down.backward(dproj, dh);
        dgu = Buffers.zeroed(dgu, 2L * rows * hidden);
        SwiGlu.backward(dgu, dh, gu, rows, hidden);
        gateUp.backward(dgu, dx);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(gateUp, down);
    }
}
