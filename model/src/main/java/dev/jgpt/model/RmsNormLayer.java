package dev.jgpt.model;

import dev.jgpt.kernel.RmsNorm;

import java.util.Arrays;
import java.util.List;

/** RMSNorm(x) = x/√(mean(x²) + ε)·γ over the channel dimension (Zhang &amp; Sennrich 2019): no centring, no bias. */
final class RmsNormLayer implements NormLayer {
    final Param weight;
    private final int C;
    private final float eps;
    private float[] x, y, rstd;
    private int rows;

    RmsNormLayer(String name, int C, float eps) {
        this.C = C;
        this.eps = eps;
        this.weight = new Param(name + ".weight", false, C);
        Arrays.fill(weight.data, 1f);
    }

    /** The norm a config asks for, under {@code name}: LayerNorm (with bias if the config has biases) or RMSNorm. */
    static NormLayer of(GPTConfig cfg, String name) {
        return cfg.norm() == Norm.RMSNORM ? new RmsNormLayer(name, cfg.nEmbd(), cfg.layerNormEps())
                : new LayerNormLayer(name, cfg.nEmbd(), cfg.bias(), cfg.layerNormEps());
    }

    @Override
    public float[] forward(float[] input, Batch batch) {
        rows = batch.rows();
        x = input;
        y = Buffers.ensure(y, (long) rows * C);
        rstd = Buffers.ensure(rstd, rows);
        RmsNorm.forward(y, rstd, x, weight.data, rows, C, eps);
        return y;
    }

    @Override
    public void backward(float[] dout, float[] din) {
        RmsNorm.backward(din, weight.grad(), dout, x, weight.data, rstd, rows, C);
    }

    @Override
    public void backwardOnto(float[] dout, float[] base, float[] din) {
        RmsNorm.backward(din, base, weight.grad(), dout, x, weight.data, rstd, rows, C);
    }

    @Override
    public List<Param> parameters() {
        return List.of(weight);
    }
}
