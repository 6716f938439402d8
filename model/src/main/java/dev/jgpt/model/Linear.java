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
        multiply(y, x, weight, bias, rows, in, out);
        return y;
    }

    /** y = x·Wᵀ + b for rows of x [rows × in]: f32 through Gemm, a packed W through the quant kernels. */
    static void multiply(float[] y, float[] x, Param w, Param bias, int rows, int in, int out) {
        if (!w.isPacked()) {
            Gemm.linearForward(y, x, w.data, bias != null ? bias.data : null, rows, in, out);
            return;
        }
        w.packedMatmul(y, x, rows);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += bias.data[o];
                }
            }
        }
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
