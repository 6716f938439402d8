package dev.jgpt.model;

import dev.jgpt.kernel.Gemm;

import java.util.List;

/** y = x·Wᵀ + b with W [out, in]. How a checkpoint stores W is W's business ({@link Param#stored}). */
public final class Linear implements Layer {
    public final Param weight;
    /** Null without bias. */
    public final Param bias;
    final int in, out;
    private float[] x;
    private float[] y;
    private int rows;

    Linear(Param weight, Param bias, int in, int out) {
        this.weight = weight;
        this.bias = bias;
        this.in = in;
        this.out = out;
    }

    @Override
    public float[] forward(float[] input, Batch batch) {
        rows = batch.rows();
        x = input;
        y = Buffers.ensure(y, (long) rows * out);
        Gemm.linearForward(y, x, weight.data, bias != null ? bias.data : null, rows, in, out);
        return y;
    }

    @Override
    public void backward(float[] dout, float[] din) {
        Gemm.linearBackward(din, weight.grad(), bias != null ? bias.grad() : null, dout, x, weight.data, rows, in, out);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(weight, bias);
    }
}
