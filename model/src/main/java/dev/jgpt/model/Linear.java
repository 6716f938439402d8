package dev.jgpt.model;

import dev.jgpt.kernel.Gelu;
import dev.jgpt.kernel.Gemm;

import java.util.List;

/**
 * y = x·Wᵀ + b with W [out, in]. How a checkpoint stores W is W's business ({@link Param#stored}).
 *
 * <p>On a cached (inference) batch, a prompt of at least {@link #PROMPT_MATMUL_ROWS} rows is one matrix
 * product of its own; every other row (decode steps of many sequences) shares one pass over W in which
 * each row is computed exactly as it would be alone ({@link Gemm#linearRows}). So a sequence's result
 * never depends on which other sequences share the batch. A packed W (weights kept in a storage format such
 * as Q4_K, {@link Param#isPacked}) follows the same rule with the quant kernels: a prompt's rows in one
 * product, every other row a matrix-vector product of its own.
 */
public final class Linear implements Layer {
    /** Rows of one sequence from which a cached forward uses a matrix-matrix product for them. */
    static final int PROMPT_MATMUL_ROWS = 16;

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
        float[] b = bias != null ? bias.data : null;
        if (!batch.isCached()) {
            multiply(y, x, weight, bias, rows, in, out);
            return y;
        }
        for (int s = 0, S = batch.sequenceCount(); s < S; ) {
            int first = batch.firstRow(s);
            if (batch.count(s) >= PROMPT_MATMUL_ROWS) {
                int n = batch.count(s++);
                if (weight.isPacked()) {
                    weight.packedMatmul(y, first, x, first, n);
                } else {
                    Gemm.gemm(false, true, n, out, in, x, first * in, in, weight.data, 0, in, y, first * out, out, false);
                }
                for (int r = first; r < first + n && b != null; r++) {
                    dev.jgpt.kernel.Vec.add(y, r * out, b, 0, out);
                }
            } else {
                int end = s;
                while (end < S && batch.count(end) < PROMPT_MATMUL_ROWS) {
                    end++;
                }
                int last = batch.firstRow(end - 1) + batch.count(end - 1);
                if (weight.isPacked()) {
                    weight.packedRows(y, first, x, first, last - first);   // each row's product as alone
                    for (int r = first; r < last && b != null; r++) {
                        dev.jgpt.kernel.Vec.add(y, r * out, b, 0, out);
                    }
                } else {
                    Gemm.linearRows(y, first * out, x, first * in, weight.data, b, last - first, in, out);
                }
                s = end;
            }
        }
        return y;
    }

    /** out = residual + x·Wᵀ + b, the residual added to each finished tile of the product on a training batch. */
    @Override
    public float[] forwardPlus(float[] input, Batch batch, float[] residual, float[] sum, int n) {
        if (batch.isCached() || weight.isPacked()) {
            return Layer.super.forwardPlus(input, batch, residual, sum, n);
        }
        rows = batch.rows();
        x = input;
        Gemm.linearForwardPlus(sum, x, weight.data, bias != null ? bias.data : null, residual, rows, in, out);
        return sum;
    }

    /**
     * The GELU MLP's first half: fills a [rows × out] with GELU(x·Wᵀ + b). On a training batch it is one
     * pass ({@link Gelu#forwardOfLinear}) that also leaves GELU'(x·Wᵀ + b) in this layer's buffer, which it
     * returns for the backward ({@link #backwardThroughGelu} of the next layer). Otherwise (a cached batch,
     * packed weights: no backward) {@link #forward}, then {@link Gelu#forward}, and returns null.
     */
    float[] forwardGelu(float[] input, Batch batch, float[] a) {
        if (batch.isCached() || weight.isPacked()) {
            forward(input, batch);
            Gelu.forward(a, y, rows * out);
            return null;
        }
        rows = batch.rows();
        x = input;
        y = Buffers.ensure(y, (long) rows * out);
        Gelu.forwardOfLinear(a, y, x, weight.data, bias != null ? bias.data : null, rows, in, out);
        return y;
    }

    /**
     * Backward when the last forward's input was GELU(h) (the GELU MLP's second half), from geluGrad =
     * GELU'(h) ({@link #forwardGelu}): dh = GELU'(h) ⊙ (dout·W), OVERWRITTEN, and this layer's parameter
     * gradients as {@link #backward} ({@link Gelu#backwardThroughLinear}).
     */
    void backwardThroughGelu(float[] dout, float[] geluGrad, float[] dh) {
        boolean addDw = !weight.gradIsZero();
        Gelu.backwardThroughLinear(dh, weight.gradToSet(), addDw, bias != null ? bias.grad() : null, dout, geluGrad, x,
                weight.data, rows, in, out);
    }

    /**
     * y = x·Wᵀ + b for rows of x [rows × in]: f32 through Gemm, a packed W ({@link Param#isPacked}) through
     * the quant kernels, which decode its weights in registers.
     */
    static void multiply(float[] y, float[] x, Param w, Param bias, int rows, int in, int out) {
        if (!w.isPacked()) {
            Gemm.linearForward(y, x, w.data, bias != null ? bias.data : null, rows, in, out);
            return;
        }
        w.packedMatmul(y, 0, x, 0, rows);
        for (int r = 0; r < rows && bias != null; r++) {
            dev.jgpt.kernel.Vec.add(y, r * out, bias.data, 0, out);
        }
    }

    @Override
    public void backward(float[] dout, float[] din) {
        backward(dout, din, true);
    }

    /**
     * din (+)= dout·W, and W's gradient set by the product if it is still zero ({@link Param#gradIsZero}: the
     * first micro-batch after zeroGrad), added to otherwise. The bias's gradient is small: it is zeroed and added to.
     */
    private void backward(float[] dout, float[] din, boolean addDin) {
        boolean addDw = !weight.gradIsZero();
        Gemm.linearBackward(din, addDin, weight.gradToSet(), addDw, bias != null ? bias.grad() : null, dout, x,
                weight.data, rows, in, out);
    }

    /** din = dout·W written, not added (its old contents ignored). */
    @Override
    public void backwardSet(float[] dout, float[] din, int n) {
        backward(dout, din, false);
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(weight, bias);
    }
}
