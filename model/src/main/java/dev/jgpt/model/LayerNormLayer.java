package dev.jgpt.model;

import dev.jgpt.kernel.LayerNorm;

import java.util.Arrays;
import java.util.List;

/** LN(x) = (x − μ)/√(σ² + ε)·γ + β over the channel dimension. */
final class LayerNormLayer implements NormLayer {
    final Param weight;
    final Param bias;
    private final int C;
    private final float eps;
    private float[] x, y, mean, rstd;
    private int rows;

    LayerNormLayer(String name, int C, boolean bias, float eps) {
        this.C = C;
        this.eps = eps;
        this.weight = new Param(name + ".weight", false, C);
        this.bias = bias ? new Param(name + ".bias", false, C) : null;
        Arrays.fill(weight.data, 1f);
    }

    @Override
    public float[] forward(float[] input, Batch batch) {
        rows = batch.rows();
        x = input;
        y = Buffers.ensure(y, (long) rows * C);
        mean = Buffers.ensure(mean, rows);
        rstd = Buffers.ensure(rstd, rows);
        LayerNorm.forward(y, mean, rstd, x, weight.data, bias != null ? bias.data : null, rows, C, eps);
        return y;
    }

    @Override
    public void backward(float[] dout, float[] din) {
        LayerNorm.backward(din, weight.grad(), bias != null ? bias.grad() : null, dout, x, weight.data, mean, rstd, rows, C);
    }

    @Override
    public void backwardOnto(float[] dout, float[] base, float[] din) {
        LayerNorm.backward(din, base, weight.grad(), bias != null ? bias.grad() : null, dout, x, weight.data, mean, rstd,
                rows, C);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(weight, bias);
    }
}
