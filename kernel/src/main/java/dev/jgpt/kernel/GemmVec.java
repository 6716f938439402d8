package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/**
 * Matrix-vector product, the M = 1 (or N = 1) case of {@link Gemm#gemm}:
 * {@code y[i·incy] = (accumulate ? y : 0) + Σ_k mat[off + i·rs + k·cs] · x[xOff + k·incx]} for i &lt; n.
 * Every matrix element is used once, so this is bound by memory bandwidth, not FLOPs: no packing,
 * one pass over the matrix, split over output rows so both cores stream.
 * Row-major storage means one of rs, cs is 1: cs = 1 is a dot product per output (W·x with W
 * [N×K], the decode layout); rs = 1 is a sum of scaled rows (xᵀ·B with B [K×N]).
 */
final class GemmVec {
    static final int L = Simd.LANES;
    /** Matrices smaller than this (elements) are done on one thread: ~10 µs of streaming. */
    static final long PARALLEL_ELEMENTS = 1 << 16;

    private GemmVec() {}

    static void matvec(int n, int K, float[] mat, int off, int rs, int cs,
                       float[] x, int xOff, int incx, float[] y, int yOff, int incy, boolean accumulate) {
        if (incx != 1) {
            float[] xc = new float[K];
            for (int k = 0; k < K; k++) {
                xc[k] = x[xOff + k * incx];
            }
            x = xc;
            xOff = 0;
        }
        float[] xv = x;
        int xo = xOff;
        boolean dot = cs == 1;
        if (!dot && incy != 1) {
            // Sum-of-rows needs a contiguous y for vector stores: compute into a scratch vector.
            float[] tmp = new float[n];
            matvec(n, K, mat, off, rs, cs, xv, xo, 1, tmp, 0, 1, false);
            for (int i = 0; i < n; i++) {
                int yi = yOff + i * incy;
                y[yi] = accumulate ? y[yi] + tmp[i] : tmp[i];
            }
            return;
        }
        int threads = (long) n * K < PARALLEL_ELEMENTS ? 1 : Parallel.threads();
        // Chunks of whole vectors so the sum-of-rows path has no split tail in the middle.
        int units = (n + L - 1) / L;
        int parts = Math.max(1, Math.min(threads, units));
        Parallel.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int i0 = (int) ((long) units * p / parts) * L;
                int i1 = Math.min(n, (int) ((long) units * (p + 1) / parts) * L);
                if (dot) {
                    dots(i0, i1, K, mat, off, rs, xv, xo, y, yOff, incy, accumulate);
                } else {
                    rows(i0, i1, K, mat, off, cs, xv, xo, y, yOff, accumulate);
                }
            }
        });
    }

    /** y[i] = Σ_k mat[off + i·rs + k]·x[k] for i in [i0, i1): four rows at a time share each x load. */
    private static void dots(int i0, int i1, int K, float[] mat, int off, int rs,
                             float[] x, int xOff, float[] y, int yOff, int incy, boolean accumulate) {
        dots(i0, i1, K, mat, off, rs, x, xOff, 0, 1, y, yOff, incy, 0, accumulate);
    }

    /**
     * y[m·ldy + i·incy] = Σ_k mat[off + i·rs + k]·x[xOff + m·ldx + k] for i in [i0, i1), m &lt; M: M dot
     * products per matrix row while it is in cache, two x rows at a time. Every (i, m) is summed in the
     * same order as M = 1 (lane-wise FMA chain over k, {@link Simd#sum}, then the scalar tail), so a
     * row's result does not depend on M or on the other rows.
     */
    private static void dots(int i0, int i1, int K, float[] mat, int off, int rs, float[] x, int xOff, int ldx, int M,
                             float[] y, int yOff, int incy, int ldy, boolean accumulate) {
        int kb = F.loopBound(K);
        int i = i0;
        for (; i + 4 <= i1; i += 4) {
            int r0 = off + i * rs, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
            int m = 0;
            for (; m + 2 <= M; m += 2) {
                int xa = xOff + m * ldx, xb = xa + ldx;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int k = 0; k < kb; k += L) {
                    FloatVector xk = FloatVector.fromArray(F, x, xa + k), zk = FloatVector.fromArray(F, x, xb + k);
                    FloatVector w0 = FloatVector.fromArray(F, mat, r0 + k), w1 = FloatVector.fromArray(F, mat, r1 + k);
                    FloatVector w2 = FloatVector.fromArray(F, mat, r2 + k), w3 = FloatVector.fromArray(F, mat, r3 + k);
                    a0 = w0.fma(xk, a0);
                    a1 = w1.fma(xk, a1);
                    a2 = w2.fma(xk, a2);
                    a3 = w3.fma(xk, a3);
                    b0 = w0.fma(zk, b0);
                    b1 = w1.fma(zk, b1);
                    b2 = w2.fma(zk, b2);
                    b3 = w3.fma(zk, b3);
                }
                tails4(Simd.sum(a0), Simd.sum(a1), Simd.sum(a2), Simd.sum(a3), K, kb, mat, r0, rs, x, xa,
                        y, yOff + m * ldy + i * incy, incy, accumulate);
                tails4(Simd.sum(b0), Simd.sum(b1), Simd.sum(b2), Simd.sum(b3), K, kb, mat, r0, rs, x, xb,
                        y, yOff + (m + 1) * ldy + i * incy, incy, accumulate);
            }
            for (; m < M; m++) {
                int xa = xOff + m * ldx;
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                for (int k = 0; k < kb; k += L) {
                    FloatVector xk = FloatVector.fromArray(F, x, xa + k);
                    s0 = FloatVector.fromArray(F, mat, r0 + k).fma(xk, s0);
                    s1 = FloatVector.fromArray(F, mat, r1 + k).fma(xk, s1);
                    s2 = FloatVector.fromArray(F, mat, r2 + k).fma(xk, s2);
                    s3 = FloatVector.fromArray(F, mat, r3 + k).fma(xk, s3);
                }
                tails4(Simd.sum(s0), Simd.sum(s1), Simd.sum(s2), Simd.sum(s3), K, kb, mat, r0, rs, x, xa,
                        y, yOff + m * ldy + i * incy, incy, accumulate);
            }
        }
        for (; i < i1; i++) {
            int r = off + i * rs;
            for (int m = 0; m < M; m++) {
                int xa = xOff + m * ldx;
                FloatVector s = FloatVector.zero(F);
                for (int k = 0; k < kb; k += L) {
                    s = FloatVector.fromArray(F, mat, r + k).fma(FloatVector.fromArray(F, x, xa + k), s);
                }
                float d = Simd.sum(s);
                for (int k = kb; k < K; k++) {
                    d += mat[r + k] * x[xa + k];
                }
                put(y, yOff + m * ldy + i * incy, d, accumulate);
            }
        }
    }

    /**
     * Adds four rows' scalar tails over k in [kb, K) to their lane sums and stores them (floats, not
     * vectors, cross this call: a vector argument would be boxed if the JIT did not inline it).
     */
    private static void tails4(float d0, float d1, float d2, float d3, int K, int kb, float[] mat, int r0, int rs,
                               float[] x, int xa, float[] y, int yi, int incy, boolean accumulate) {
        int r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
        for (int k = kb; k < K; k++) {
            float xk = x[xa + k];
            d0 += mat[r0 + k] * xk;
            d1 += mat[r1 + k] * xk;
            d2 += mat[r2 + k] * xk;
            d3 += mat[r3 + k] * xk;
        }
        put(y, yi, d0, accumulate);
        put(y, yi + incy, d1, accumulate);
        put(y, yi + 2 * incy, d2, accumulate);
        put(y, yi + 3 * incy, d3, accumulate);
    }

    /**
     * Y[m, :] = W·x_m for M rows x_m of X [M × K] (ldx apart) into Y (ldy apart), W [n × K] row-major:
     * one pass over W for all rows, each row bit-identical to {@link #matvec} of it alone.
     */
    static void matvecRows(int n, int K, float[] w, int wOff, float[] x, int xOff, int ldx, int M,
                           float[] y, int yOff, int ldy) {
        int threads = (long) n * K < PARALLEL_ELEMENTS ? 1 : Parallel.threads();
        int units = (n + L - 1) / L;
        int parts = Math.max(1, Math.min(threads, units));
        Parallel.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int i0 = (int) ((long) units * p / parts) * L;
                int i1 = Math.min(n, (int) ((long) units * (p + 1) / parts) * L);
                dots(i0, i1, K, w, wOff, K, x, xOff, ldx, M, y, yOff, 1, ldy, false);
            }
        });
    }

    private static void put(float[] y, int yi, float v, boolean accumulate) {
        y[yi] = accumulate ? y[yi] + v : v;
    }

    /** Width of the y strip kept hot in L1 while all K rows stream past it. */
    private static final int STRIP = 1024;

    /** y[i0:i1] = Σ_k x[k]·mat[off + k·cs + i0 : ...]: scaled rows added into a strip of y, 4 rows per pass. */
    private static void rows(int i0, int i1, int K, float[] mat, int off, int cs,
                             float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        for (int s0 = i0; s0 < i1; s0 += STRIP) {
            int s1 = Math.min(i1, s0 + STRIP);
            int vb = s0 + F.loopBound(s1 - s0);
            if (!accumulate) {
                java.util.Arrays.fill(y, yOff + s0, yOff + s1, 0f);
            }
            int k = 0;
            for (; k + 4 <= K; k += 4) {
                FloatVector x0 = FloatVector.broadcast(F, x[xOff + k]), x1 = FloatVector.broadcast(F, x[xOff + k + 1]);
                FloatVector x2 = FloatVector.broadcast(F, x[xOff + k + 2]), x3 = FloatVector.broadcast(F, x[xOff + k + 3]);
                float f0 = x[xOff + k], f1 = x[xOff + k + 1], f2 = x[xOff + k + 2], f3 = x[xOff + k + 3];
                int r0 = off + k * cs, r1 = r0 + cs, r2 = r1 + cs, r3 = r2 + cs;
                int i = s0;
                for (; i < vb; i += L) {
                    FloatVector acc = FloatVector.fromArray(F, y, yOff + i);
                    acc = FloatVector.fromArray(F, mat, r0 + i).fma(x0, acc);
                    acc = FloatVector.fromArray(F, mat, r1 + i).fma(x1, acc);
                    acc = FloatVector.fromArray(F, mat, r2 + i).fma(x2, acc);
                    acc = FloatVector.fromArray(F, mat, r3 + i).fma(x3, acc);
                    acc.intoArray(y, yOff + i);
                }
                for (; i < s1; i++) {
                    y[yOff + i] += mat[r0 + i] * f0 + mat[r1 + i] * f1 + mat[r2 + i] * f2 + mat[r3 + i] * f3;
                }
            }
            for (; k < K; k++) {
                float xk = x[xOff + k];
                FloatVector xb = FloatVector.broadcast(F, xk);
                int r = off + k * cs;
                int i = s0;
                for (; i < vb; i += L) {
                    FloatVector.fromArray(F, mat, r + i).fma(xb, FloatVector.fromArray(F, y, yOff + i))
                            .intoArray(y, yOff + i);
                }
                for (; i < s1; i++) {
                    y[yOff + i] += mat[r + i] * xk;
                }
            }
        }
    }
}
