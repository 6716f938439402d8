package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

import static dev.jgpt.kernel.Simd.F;

/**
 * Causal multi-head self-attention over a packed qkv tensor [B, T, 3C] (q, k, v each C = NH·hs wide;
 * head h of q at row offset h·hs, of k at C + h·hs, of v at 2C + h·hs).
 * Forward writes out [B, T, C] and the attention probabilities att [B, NH, T, T] (needed by backward;
 * zeros above the diagonal). Parallel over (b, h); inside a head everything is built from two SIMD
 * kernels over the head size: 4-way dot products ({@link #dots}) and weighted row sums
 * ({@link #weightedSum}), neither of which needs a horizontal reduction per output element except
 * the dots' final one.
 */
public final class Attention {
    private Attention() {}

    public static void forward(float[] out, float[] att, float[] qkv, int B, int T, int C, int NH) {
        String op = "attention(B=" + B + ", T=" + T + ", C=" + C + ", NH=" + NH + ")";
        check(op, B, T, C, NH);
        Checks.length(op, "qkv", qkv, 3L * B * T * C);
        Checks.length(op, "out", out, (long) B * T * C);
        Checks.length(op, "att", att, (long) B * NH * T * T);
        int hs = C / NH, C3 = 3 * C;
        float scale = (float) (1.0 / Math.sqrt(hs));
        Parallel.forRange(B * NH, 1, (s, e) -> {
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH;
                int base = b * T * C3;
                int qB = base + h * hs, kB = base + C + h * hs, vB = base + 2 * C + h * hs;
                for (int t = 0; t < T; t++) {
                    int a = (bh * T + t) * T;
                    dots(qkv, qB + t * C3, qkv, kB, C3, t + 1, hs, scale, att, a);
                    // Stable softmax over the causal prefix (max subtracted before exp).
                    Vec.softmaxInPlace(att, a, t + 1);
                    Arrays.fill(att, a + t + 1, a + T, 0f);
                    weightedSum(att, a, 1, qkv, vB, C3, t + 1, hs, out, (b * T + t) * C + h * hs, false);
                }
            }
        });
    }

    /**
     * Accumulates dqkv (+=) from dout [B, T, C], using qkv and the forward's att.
     * Per head: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale, dQ = dS·K, dK = dSᵀ·Q.
     * dS for the head is kept in a per-thread T×T scratch so dK and dV can be summed per key row.
     */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, int C, int NH) {
        String op = "attentionBackward(B=" + B + ", T=" + T + ", C=" + C + ", NH=" + NH + ")";
        check(op, B, T, C, NH);
        Checks.length(op, "qkv", qkv, 3L * B * T * C);
        Checks.length(op, "dqkv", dqkv, 3L * B * T * C);
        Checks.length(op, "dout", dout, (long) B * T * C);
        Checks.length(op, "att", att, (long) B * NH * T * T);
        int hs = C / NH, C3 = 3 * C;
        float scale = (float) (1.0 / Math.sqrt(hs));
        Parallel.forRange(B * NH, 1, (s, e) -> {
            float[] ds = new float[T * T];
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH;
                int base = b * T * C3;
                int qB = base + h * hs, kB = base + C + h * hs, vB = base + 2 * C + h * hs;
                int oB = b * T * C + h * hs;
                int aB = bh * T * T;
                for (int t = 0; t < T; t++) {
                    int row = t * T;
                    dots(dout, oB + t * C, qkv, vB, C3, t + 1, hs, 1f, ds, row);      // dP row
                    float pdp = Vec.dot(att, aB + row, ds, row, t + 1);               // Σ P·dP
                    softmaxBackwardRow(ds, row, att, aB + row, t + 1, pdp, scale);      // dS row
                    weightedSum(ds, row, 1, qkv, kB, C3, t + 1, hs, dqkv, qB + t * C3, true);
                }
                for (int t2 = 0; t2 < T; t2++) {
                    // Column t2 of dS / P, rows t ≥ t2 (causal).
                    weightedSum(ds, t2 * T + t2, T, qkv, qB + t2 * C3, C3, T - t2, hs, dqkv, kB + t2 * C3, true);
                    weightedSum(att, aB + t2 * T + t2, T, dout, oB + t2 * C, C, T - t2, hs, dqkv, vB + t2 * C3, true);
                }
            }
        });
    }

    /**
     * Attention of one new position against a KV cache (inference decode).
     * Same as {@link #decodeStep(float[], int, float[], int, float[], float[], int, int, int, int, float[])}
     * with all offsets 0.
     */
    public static void decodeStep(float[] out, float[] q, float[] kCache, float[] vCache, int pos, int C, int NH,
                                  float[] att) {
        decodeStep(out, 0, q, 0, kCache, vCache, 0, pos, C, NH, att);
    }

    /**
     * Attention of one new position against a KV cache (inference decode).
     *
     * <p>Layout: the caches are row-major [T_max × C] starting at {@code cacheOff}; row p holds position p's
     * key (in kCache) or value (in vCache) for all heads, head h in columns h·hs .. h·hs+hs−1 — the same
     * per-row layout as the k and v thirds of a packed qkv row. Rows 0..pos must be filled: the caller
     * writes the new position's k and v into row {@code pos} before the call.
     * q is the new position's query, C floats at {@code qOff} (e.g. a packed qkv row at offset 0).
     * Writes the output C floats at {@code outOff}; att is scratch of at least NH·(pos+1) floats and
     * receives the probabilities of head h at att[h·(pos+1) ..]. Parallel over heads when the prefix is long.
     */
    public static void decodeStep(float[] out, int outOff, float[] q, int qOff, float[] kCache, float[] vCache,
                                  int cacheOff, int pos, int C, int NH, float[] att) {
        if (pos < 0 || C <= 0 || NH <= 0 || C % NH != 0 || outOff < 0 || qOff < 0 || cacheOff < 0
                || q == null || out == null || kCache == null || vCache == null || att == null
                || (long) qOff + C > q.length || (long) outOff + C > out.length
                || cacheOff + (long) (pos + 1) * C > kCache.length || cacheOff + (long) (pos + 1) * C > vCache.length
                || (long) NH * (pos + 1) > att.length) {
            throw new IllegalArgumentException("attentionDecode(pos=" + pos + ", C=" + C + ", NH=" + NH
                    + "): bad shapes: C must be positive and divisible by NH, pos >= 0; need q ≥ qOff+C ("
                    + (q == null ? "null" : q.length) + "), out ≥ outOff+C (" + (out == null ? "null" : out.length)
                    + "), caches ≥ cacheOff+(pos+1)·C (" + (kCache == null ? "null" : kCache.length) + ", "
                    + (vCache == null ? "null" : vCache.length) + "), att ≥ NH·(pos+1) ("
                    + (att == null ? "null" : att.length) + ")");
        }
        int hs = C / NH, n = pos + 1;
        float scale = (float) (1.0 / Math.sqrt(hs));
        int minHeads = (long) n * C >= (1 << 16) ? 1 : NH;
        Parallel.forRange(NH, minHeads, (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                int a = h * n;
                dots(q, qOff + h * hs, kCache, cacheOff + h * hs, C, n, hs, scale, att, a);
                Vec.softmaxInPlace(att, a, n);
                weightedSum(att, a, 1, vCache, cacheOff + h * hs, C, n, hs, out, outOff + h * hs, false);
            }
        });
    }

    /**
     * dst[dOff+j] = scale · Σ_i a[aOff+i]·rows[rOff + j·rStride + i] for j &lt; count, i &lt; n.
     * Four rows at a time share each load of a and give four independent FMA chains.
     */
    static void dots(float[] a, int aOff, float[] rows, int rOff, int rStride, int count, int n, float scale,
                     float[] dst, int dOff) {
        int ub = F.loopBound(n);
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int r0 = rOff + j * rStride, r1 = r0 + rStride, r2 = r1 + rStride, r3 = r2 + rStride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            int i = 0;
            for (; i < ub; i += F.length()) {
                FloatVector va = FloatVector.fromArray(F, a, aOff + i);
                acc0 = va.fma(FloatVector.fromArray(F, rows, r0 + i), acc0);
                acc1 = va.fma(FloatVector.fromArray(F, rows, r1 + i), acc1);
                acc2 = va.fma(FloatVector.fromArray(F, rows, r2 + i), acc2);
                acc3 = va.fma(FloatVector.fromArray(F, rows, r3 + i), acc3);
            }
            float s0 = acc0.reduceLanes(VectorOperators.ADD), s1 = acc1.reduceLanes(VectorOperators.ADD);
            float s2 = acc2.reduceLanes(VectorOperators.ADD), s3 = acc3.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                float x = a[aOff + i];
                s0 += x * rows[r0 + i];
                s1 += x * rows[r1 + i];
                s2 += x * rows[r2 + i];
                s3 += x * rows[r3 + i];
            }
            dst[dOff + j] = s0 * scale;
            dst[dOff + j + 1] = s1 * scale;
            dst[dOff + j + 2] = s2 * scale;
            dst[dOff + j + 3] = s3 * scale;
        }
        for (; j < count; j++) {
            dst[dOff + j] = Vec.dot(a, aOff, rows, rOff + j * rStride, n) * scale;
        }
    }

    /**
     * dst[dOff+i] (+)= Σ_j w[wOff + j·wStride]·rows[rOff + j·rStride + i] for i &lt; n, j &lt; count.
     * Vectorised along i; four accumulators over j hide the FMA latency.
     */
    static void weightedSum(float[] w, int wOff, int wStride, float[] rows, int rOff, int rStride, int count, int n,
                            float[] dst, int dOff, boolean accumulate) {
        int ub = F.loopBound(n);
        int i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            int j = 0;
            int r = rOff + i, wi = wOff;
            for (; j + 4 <= count; j += 4, r += 4 * rStride, wi += 4 * wStride) {
                acc0 = FloatVector.fromArray(F, rows, r).fma(FloatVector.broadcast(F, w[wi]), acc0);
                acc1 = FloatVector.fromArray(F, rows, r + rStride).fma(FloatVector.broadcast(F, w[wi + wStride]), acc1);
                acc2 = FloatVector.fromArray(F, rows, r + 2 * rStride).fma(FloatVector.broadcast(F, w[wi + 2 * wStride]), acc2);
                acc3 = FloatVector.fromArray(F, rows, r + 3 * rStride).fma(FloatVector.broadcast(F, w[wi + 3 * wStride]), acc3);
            }
            for (; j < count; j++, r += rStride, wi += wStride) {
                acc0 = FloatVector.fromArray(F, rows, r).fma(FloatVector.broadcast(F, w[wi]), acc0);
            }
            FloatVector sum = acc0.add(acc1).add(acc2.add(acc3));
            if (accumulate) {
                sum = sum.add(FloatVector.fromArray(F, dst, dOff + i));
            }
            sum.intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            float s = 0f;
            for (int j = 0; j < count; j++) {
                s += w[wOff + j * wStride] * rows[rOff + j * rStride + i];
            }
            dst[dOff + i] = accumulate ? dst[dOff + i] + s : s;
        }
    }

    /** ds[i] = p[i]·(ds[i] − pdp)·scale over one causal row (ds holds dP on entry). */
    private static void softmaxBackwardRow(float[] ds, int dOff, float[] p, int pOff, int n, float pdp, float scale) {
        FloatVector vdot = FloatVector.broadcast(F, pdp);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, p, pOff + i).mul(FloatVector.fromArray(F, ds, dOff + i).sub(vdot)).mul(scale)
                    .intoArray(ds, dOff + i);
        }
        for (; i < n; i++) {
            ds[dOff + i] = p[pOff + i] * (ds[dOff + i] - pdp) * scale;
        }
    }

    private static void check(String op, int B, int T, int C, int NH) {
        Checks.positive(op, "B, T, C, NH", B, T, C, NH);
        if (C % NH != 0) {
            throw new IllegalArgumentException(op + ": C=" + C + " is not divisible by NH=" + NH);
        }
        if ((long) B * NH * T * T > Integer.MAX_VALUE || 3L * B * T * C > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors exceed 2^31 elements");
        }
    }
}
