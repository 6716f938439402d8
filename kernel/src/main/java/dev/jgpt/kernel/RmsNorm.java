package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * Root-mean-square normalisation over the last dimension C of a [rows × C] matrix (Zhang &amp; Sennrich
 * 2019; Llama's and Qwen2's RMSNorm): y = (x·rstd)·g, rstd = 1/√(mean(x²) + ε). No mean is subtracted
 * and there is no bias. As in Hugging Face's {@code LlamaRMSNorm} the row is normalised first and the
 * weight multiplied after, all in float32. Forward saves rstd per row for backward. Both directions are
 * SIMD over C and parallel over rows.
 */
public final class RmsNorm {
    private RmsNorm() {}

    public static void forward(float[] out, float[] rstd, float[] x, float[] weight, int rows, int C, float eps) {
        String op = "rmsNorm(rows=" + rows + ", C=" + C + ")";
        checkCommon(op, x, weight, rstd, rows, C);
        Checks.length(op, "out", out, (long) rows * C);
        if (!(eps >= 0f)) {
            throw new IllegalArgumentException(op + ": eps must be >= 0, got " + eps);
        }
        Parallel.forRange(rows, Math.max(1, 4096 / C), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                forwardRow(out, rstd, x, weight, r, C, eps);
            }
        });
    }

    private static void forwardRow(float[] out, float[] rstd, float[] x, float[] weight, int r, int C, float eps) {
        int o = r * C;
        double ss = Vec.sumSquares(x, o, C);
        if (Double.isInfinite(ss)) {
            // x² overflowed float (|x| ≳ 1.8e19) although the mean square may well be representable:
            // this row again in double, so huge activations normalise instead of collapsing to 0.
            ss = 0;
            for (int i = 0; i < C; i++) {
                ss += (double) x[o + i] * x[o + i];
            }
        }
        float s = (float) (1.0 / Math.sqrt(ss / C + eps));
        FloatVector vs = FloatVector.broadcast(F, s);
        int i = 0;
        for (int ub = F.loopBound(C); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, o + i).mul(vs).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, o + i);
        }
        for (; i < C; i++) {
            out[o + i] = x[o + i] * s * weight[i];
        }
        rstd[r] = s;
    }

    /**
     * Accumulates dx and dweight. With n = x·rstd and dn = g·dout: dx = rstd·(dn − n·mean(dn·n)),
     * dg = Σ_rows n·dout (summed per fixed block of rows, {@link RowBlocks}, so the result does not
     * depend on the thread count).
     */
    public static void backward(float[] dx, float[] dweight, float[] dout, float[] x, float[] weight, float[] rstd,
                                int rows, int C) {
        backward(dx, dx, dweight, dout, x, weight, rstd, rows, C);
    }

    /**
     * {@link #backward}, but dx SET to base + the input gradient (base may be dx itself): a pre-norm residual's
     * dx = dout_residual + RMSNormᵀ(…) in the same pass instead of a copy first. The same additions as copying base
     * into dx and accumulating, so the same bits.
     */
    public static void backward(float[] dx, float[] base, float[] dweight, float[] dout, float[] x, float[] weight,
                                float[] rstd, int rows, int C) {
        String op = "rmsNormBackward(rows=" + rows + ", C=" + C + ")";
        checkCommon(op, x, weight, rstd, rows, C);
        Checks.length(op, "dx", dx, (long) rows * C);
        Checks.length(op, "base", base, (long) rows * C);
        Checks.length(op, "dout", dout, (long) rows * C);
        Checks.length(op, "dweight", dweight, C);
        float[] pg = RowBlocks.partials(0, rows, C);
        RowBlocks.forEach(rows, C, (b, r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                backwardRow(dx, base, pg, b * C, dout, x, weight, rstd[r], r * C, C);
            }
        });
        RowBlocks.addPartials(dweight, pg, rows, C);
    }

    private static void backwardRow(float[] dx, float[] base, float[] pg, int p, float[] dout, float[] x,
                                    float[] weight, float s, int o, int C) {
        FloatVector vs = FloatVector.broadcast(F, s);
        FloatVector acc = FloatVector.zero(F);
        int ub = F.loopBound(C);
        int i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector n = FloatVector.fromArray(F, x, o + i).mul(vs);
            FloatVector dn = FloatVector.fromArray(F, weight, i).mul(FloatVector.fromArray(F, dout, o + i));
            acc = dn.fma(n, acc);
        }
        float sDnN = Simd.sum(acc);
        for (; i < C; i++) {
            sDnN += weight[i] * dout[o + i] * (x[o + i] * s);
        }
        FloatVector vMean = FloatVector.broadcast(F, sDnN / C);
        i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector n = FloatVector.fromArray(F, x, o + i).mul(vs);
            FloatVector d = FloatVector.fromArray(F, dout, o + i);
            FloatVector dn = FloatVector.fromArray(F, weight, i).mul(d);
            dn.sub(n.mul(vMean)).mul(vs).add(FloatVector.fromArray(F, base, o + i)).intoArray(dx, o + i);
            n.fma(d, FloatVector.fromArray(F, pg, p + i)).intoArray(pg, p + i);
        }
        float mean = sDnN / C;
        for (; i < C; i++) {
            float n = x[o + i] * s;
            float d = dout[o + i];
            dx[o + i] = base[o + i] + (weight[i] * d - n * mean) * s;
            pg[p + i] = Math.fma(n, d, pg[p + i]);
        }
    }

    private static void checkCommon(String op, float[] x, float[] weight, float[] rstd, int rows, int C) {
        Checks.nonNegative(op, "rows", rows);
        Checks.positive(op, "C", C);
        Checks.length(op, "x", x, (long) rows * C);
        Checks.length(op, "weight", weight, C);
        Checks.length(op, "rstd", rstd, rows);
    }
}
