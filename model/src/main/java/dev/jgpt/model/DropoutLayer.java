package dev.jgpt.model;

import dev.jgpt.kernel.Dropout;
import dev.jgpt.kernel.Vec;

import java.util.List;

/** Inverted dropout over rows of width C; the identity (no copy) when not training or p = 0. */
final class DropoutLayer implements Layer {
    private final RunContext ctx;
    private final int C;
    private float[] y, mask, dx;
    private int n;
    private boolean active;

    DropoutLayer(RunContext ctx, int C) {
        this.ctx = ctx;
        this.C = C;
    }

    /**
     * Whether this batch's forward is the identity (not training, or p = 0), recorded for backward as
     * {@link #forward} records it: a caller may then skip the forward and use its input as the output.
     */
    boolean skips(Batch batch) {
        active = ctx.dropoutActive();
        n = batch.rows() * C;
        return !active;
    }

    @Override
    public float[] forward(float[] in, Batch batch) {
        if (skips(batch)) {
            return in;
        }
        y = Buffers.ensure(y, n);
        mask = Buffers.ensure(mask, n);
        Dropout.forward(y, mask, in, n, ctx.dropout, ctx.dropoutSeed, ctx.dropoutDrawn);
        ctx.dropoutDrawn += n;
        return y;
    }

    @Override
    public void backward(float[] dout, float[] din) {
        if (active) {
            Dropout.backward(din, mask, dout, n);
        } else {
            Vec.add(din, 0, dout, 0, n);
        }
    }

    /**
     * The gradient with respect to the input as a buffer: dout itself when the forward was the identity
     * (no copy), else mask·dout in this layer's own buffer.
     */
    float[] backward(float[] dout) {
        if (!active) {
            return dout;
        }
        dx = Buffers.zeroed(dx, n);
        Dropout.backward(dx, mask, dout, n);
        return dx;
    }

    @Override
    public List<Param> parameters() {
        return List.of();
    }
}
