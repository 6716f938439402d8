package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/**
 * Layer normalisation over the last dimension C of a [rows × C] matrix:
 * y = (x − μ)·rstd·γ + β, rstd = 1/√(σ² + ε). Forward saves μ and rstd per row for backward.
 * Both directions are SIMD over C and parallel over rows.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /** beta may be null (no bias). */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] gamma, float[] beta,
                               int rows, int C, float eps) {
        String op = "layerNorm(rows=" + rows + ", C=" + C + ")";
        checkCommon(op, x, gamma, mean, rstd, rows, C);
        Checks.length(op, "out", out, (long) rows * C);
        if (beta != null) {
            Checks.length(op, "beta", beta, C);
        }
        if (!(eps >= 0f)) {
            throw new IllegalArgumentException(op + ": eps must be >= 0, got " + eps);
        }
        Parallel.forRange(rows, Math.max(1, 4096 / C), 4, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                forwardRow(out, mean, rstd, x, gamma, beta, r, C, eps);
            }
        });
    }

    private static void forwardRow(float[] out, float[] mean, float[] rstd, float[] x, float[] gamma, float[] beta,
                                   int r, int C, float eps) {
        int o = r * C;
        float m0 = Vec.sum(x, o, C) / C;
        // Corrected two-pass (Chan, Golub & LeVeque): with d = x − m0, the mean is m0 + Σd/C and
        // σ² = (Σd² − (Σd)²/C)/C. Unlike E[x²]−μ² nothing cancels when |μ| ≫ σ, and the Σd term removes
        // m0's rounding error, so a constant row gets exactly μ = x and normalises to exactly 0.
        FloatVector vm0 = FloatVector.broadcast(F, m0);
        FloatVector accD = FloatVector.zero(F), accDD = FloatVector.zero(F);
        int i = 0;
        int ub = F.loopBound(C);
        for (; i < ub; i += F.length()) {
            FloatVector d = FloatVector.fromArray(F, x, o + i).sub(vm0);
            accD = accD.add(d);
            accDD = d.fma(d, accDD);
        }
        float sd = Simd.sum(accD), sdd = Simd.sum(accDD);
        for (; i < C; i++) {
            float d = x[o + i] - m0;
            sd += d;
            sdd += d * d;
        }
        float m = m0 + sd / C;
        float var = Math.max(0f, (sdd - sd * sd / C) / C);
        FloatVector vm = FloatVector.broadcast(F, m);
        float s = (float) (1.0 / Math.sqrt(var + eps));
        FloatVector vs = FloatVector.broadcast(F, s);
        i = 0;
        if (beta != null) {
            for (; i < ub; i += F.length()) {
                FloatVector n = FloatVector.fromArray(F, x, o + i).sub(vm).mul(vs);
                n.fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i)).intoArray(out, o + i);
            }
            for (; i < C; i++) {
                out[o + i] = (x[o + i] - m) * s * gamma[i] + beta[i];
            }
        } else {
            for (; i < ub; i += F.length()) {
                FloatVector n = FloatVector.fromArray(F, x, o + i).sub(vm).mul(vs);
                n.mul(FloatVector.fromArray(F, gamma, i)).intoArray(out, o + i);
            }
            for (; i < C; i++) {
                out[o + i] = (x[o + i] - m) * s * gamma[i];
            }
        }
        mean[r] = m;
        rstd[r] = s;
    }

    /**
     * Accumulates dx, dgamma, dbeta (dbeta may be null).
     * dx is computed row-parallel; dγ = Σ_rows n·dout and dβ = Σ_rows dout are summed per fixed block of
     * rows ({@link RowBlocks}), so the result does not depend on the thread count.
     */
    public static void backward(float[] dx, float[] dgamma, float[] dbeta, float[] dout, float[] x, float[] gamma,
                                float[] mean, float[] rstd, int rows, int C) {
        backward(dx, dx, dgamma, dbeta, dout, x, gamma, mean, rstd, rows, C);
    }

    /**
     * {@link #backward}, but dx SET to base + the input gradient (base may be dx itself): a pre-LN residual's
     * dx = dout_residual + LNᵀ(…) in the same pass instead of a copy first. The same additions as copying base
     * into dx and accumulating, so the same bits.
     */
    public static void backward(float[] dx, float[] base, float[] dgamma, float[] dbeta, float[] dout, float[] x,
                                float[] gamma, float[] mean, float[] rstd, int rows, int C) {
        String op = "layerNormBackward(rows=" + rows + ", C=" + C + ")";
        checkCommon(op, x, gamma, mean, rstd, rows, C);
        Checks.length(op, "dx", dx, (long) rows * C);
        Checks.length(op, "base", base, (long) rows * C);
        Checks.length(op, "dout", dout, (long) rows * C);
        Checks.length(op, "dgamma", dgamma, C);
        if (dbeta != null) {
            Checks.length(op, "dbeta", dbeta, C);
        }
        float[] pg = RowBlocks.partials(0, rows, C);
        float[] pb = dbeta != null ? RowBlocks.partials(1, rows, C) : null;
        RowBlocks.forEach(rows, C, (b, r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                backwardRow(dx, base, pg, pb, b * C, dout, x, gamma, mean[r], rstd[r], r * C, C);
            }
        });
        RowBlocks.addPartials(dgamma, pg, rows, C);
        if (dbeta != null) {
            RowBlocks.addPartials(dbeta, pb, rows, C);
        }
    }

    private static void backwardRow(float[] dx, float[] base, float[] pg, float[] pb, int p, float[] dout, float[] x,
                                    float[] gamma, float m, float s, int o, int C) {
        FloatVector vm = FloatVector.broadcast(F, m), vs = FloatVector.broadcast(F, s);
        // dn = γ·dout; dx = rstd·(dn − mean(dn) − n·mean(dn·n)).
        FloatVector accDn = FloatVector.zero(F), accDnN = FloatVector.zero(F);
        int ub = F.loopBound(C);
        int i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector n = FloatVector.fromArray(F, x, o + i).sub(vm).mul(vs);
            FloatVector dn = FloatVector.fromArray(F, gamma, i).mul(FloatVector.fromArray(F, dout, o + i));
            accDn = accDn.add(dn);
            accDnN = dn.fma(n, accDnN);
        }
        float sDn = Simd.sum(accDn);
        float sDnN = Simd.sum(accDnN);
        for (; i < C; i++) {
            float n = (x[o + i] - m) * s;
            float dn = gamma[i] * dout[o + i];
            sDn += dn;
            sDnN += dn * n;
        }
        float meanDn = sDn / C, meanDnN = sDnN / C;
        FloatVector vMeanDn = FloatVector.broadcast(F, meanDn), vMeanDnN = FloatVector.broadcast(F, meanDnN);
        i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector n = FloatVector.fromArray(F, x, o + i).sub(vm).mul(vs);
            FloatVector d = FloatVector.fromArray(F, dout, o + i);
            FloatVector dn = FloatVector.fromArray(F, gamma, i).mul(d);
            FloatVector g = dn.sub(vMeanDn).sub(n.mul(vMeanDnN)).mul(vs);
            g.add(FloatVector.fromArray(F, base, o + i)).intoArray(dx, o + i);
            n.fma(d, FloatVector.fromArray(F, pg, p + i)).intoArray(pg, p + i);
            if (pb != null) {
                d.add(FloatVector.fromArray(F, pb, p + i)).intoArray(pb, p + i);
            }
        }
        for (; i < C; i++) {
            float n = (x[o + i] - m) * s;
            float d = dout[o + i];
            float dn = gamma[i] * d;
            dx[o + i] = base[o + i] + (dn - meanDn - n * meanDnN) * s;
            pg[p + i] += n * d;
            if (pb != null) {
                pb[p + i] += d;
            }
        }
    }

    private static void checkCommon(String op, float[] x, float[] gamma, float[] mean, float[] rstd, int rows, int C) {
        Checks.nonNegative(op, "rows", rows);
        Checks.positive(op, "C", C);
        Checks.length(op, "x", x, (long) rows * C);
        Checks.length(op, "gamma", gamma, C);
        Checks.length(op, "mean", mean, rows);
        Checks.length(op, "rstd", rstd, rows);
    }
}
