package dev.jgpt.model;

import dev.jgpt.kernel.Gemm;

import java.util.List;

/**
 * y = x·Wᵀ + b with W [out, in]. How a checkpoint stores W is W's business ({@link Param#stored}).
 *
 * <p>On a cached (inference) batch, a prompt of at least {@link #PROMPT_MATMUL_ROWS} rows is one matrix
 * product of its own; every other row (decode steps of many sequences) shares one pass over W in which
 * each row is computed exactly as it would be alone ({@link Gemm#linearRows}). So a sequence's result
 * never depends on which other sequences share the batch.
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
            Gemm.linearForward(y, x, weight.data, b, rows, in, out);
            return y;
        }
        for (int s = 0, S = batch.sequenceCount(); s < S; ) {
            int first = batch.firstRow(s);
            if (batch.count(s) >= PROMPT_MATMUL_ROWS) {
                int n = batch.count(s++);
                Gemm.gemm(false, true, n, out, in, x, first * in, in, weight.data, 0, in, y, first * out, out, false);
                for (int r = first; r < first + n && b != null; r++) {
                    dev.jgpt.kernel.Vec.add(y, r * out, b, 0, out);
                }
            } else {
                int end = s;
                while (end < S && batch.count(end) < PROMPT_MATMUL_ROWS) {
                    end++;
                }
                int last = batch.firstRow(end - 1) + batch.count(end - 1);
                Gemm.linearRows(y, first * out, x, first * in, weight.data, b, last - first, in, out);
                s = end;
            }
        }
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
