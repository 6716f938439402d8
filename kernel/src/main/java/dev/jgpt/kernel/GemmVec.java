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
        // Pieces of whole vectors so the sum-of-rows path has no split tail in the middle.
        int units = (n + L - 1) / L;
        Parallel.forRange(units, (long) n * K < PARALLEL_ELEMENTS ? units : 1, (u0, u1) -> {
            int i0 = u0 * L, i1 = Math.min(n, u1 * L);
            if (dot) {
                dots(i0, i1, K, mat, off, rs, xv, xo, y, yOff, incy, accumulate);
            } else {
                rows(i0, i1, K, mat, off, cs, xv, xo, y, yOff, accumulate);
            }
        });
    }

    /**
     * y[i] = Σ_k mat[off + i·rs + k]·x[k] for i in [i0, i1): eight rows side by side where {@link MatvecRows} says
     * so, the rest a row at a time (see the next method); each row's sum is the same chain either way.
     */
    private static void dots(int i0, int i1, int K, float[] mat, int off, int rs,
                             float[] x, int xOff, float[] y, int yOff, int incy, boolean accumulate) {
        int i = MatvecRows.SIDE_BY_SIDE == 8 ? dotsEight(i0, i1, K, mat, off, rs, x, xOff, y, yOff, incy, accumulate) : i0;
        dots(i, i1, K, mat, off, rs, x, xOff, 0, 1, y, yOff, incy, 0, accumulate);
    }

    /**
     * The rows from i0 in whole groups of eight, each group's rows read side by side with their FMA chains sharing
     * each load of x, each chain as the one-row method's; returns the first row not done (i1 - i0 mod 8 are left).
     */
    static int dotsEight(int i0, int i1, int K, float[] mat, int off, int rs,
                         float[] x, int xOff, float[] y, int yOff, int incy, boolean accumulate) {
        int kb = F.loopBound(K);
        int i = i0;
        for (; i + 8 <= i1; i += 8) {
            int r0 = off + i * rs, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs, r4 = r3 + rs, r5 = r4 + rs, r6 = r5 + rs, r7 = r6 + rs;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int k = 0; k < kb; k += L) {
                FloatVector xk = FloatVector.fromArray(F, x, xOff + k);
                a0 = FloatVector.fromArray(F, mat, r0 + k).fma(xk, a0);
                a1 = FloatVector.fromArray(F, mat, r1 + k).fma(xk, a1);
                a2 = FloatVector.fromArray(F, mat, r2 + k).fma(xk, a2);
                a3 = FloatVector.fromArray(F, mat, r3 + k).fma(xk, a3);
                a4 = FloatVector.fromArray(F, mat, r4 + k).fma(xk, a4);
                a5 = FloatVector.fromArray(F, mat, r5 + k).fma(xk, a5);
                a6 = FloatVector.fromArray(F, mat, r6 + k).fma(xk, a6);
                a7 = FloatVector.fromArray(F, mat, r7 + k).fma(xk, a7);
            }
            int yi = yOff + i * incy;
            put(y, yi, tail(Simd.sum(a0), K, kb, mat, r0, x, xOff), accumulate);
            put(y, yi + incy, tail(Simd.sum(a1), K, kb, mat, r1, x, xOff), accumulate);
            put(y, yi + 2 * incy, tail(Simd.sum(a2), K, kb, mat, r2, x, xOff), accumulate);
            put(y, yi + 3 * incy, tail(Simd.sum(a3), K, kb, mat, r3, x, xOff), accumulate);
            put(y, yi + 4 * incy, tail(Simd.sum(a4), K, kb, mat, r4, x, xOff), accumulate);
            put(y, yi + 5 * incy, tail(Simd.sum(a5), K, kb, mat, r5, x, xOff), accumulate);
            put(y, yi + 6 * incy, tail(Simd.sum(a6), K, kb, mat, r6, x, xOff), accumulate);
            put(y, yi + 7 * incy, tail(Simd.sum(a7), K, kb, mat, r7, x, xOff), accumulate);
        }
        return i;
    }

    /**
     * y[m·ldy + i·incy] = Σ_k mat[off + i·rs + k]·x[xOff + m·ldx + k] for i in [i0, i1), m &lt; M: M dot
     * products per matrix row while it is in cache, two x rows at a time. Every (i, m) is summed in the
     * same order as M = 1 (lane-wise FMA chain over k, {@link Simd#sum}, then the scalar tail), so a
     * row's result does not depend on M or on the other rows.
     *
     * <p>The matrix is read one row at a time, a single sequential stream per thread (for M = 1 the method above
     * reads eight side by side where the CPU prefers it: {@link MatvecRows}).
     */
    static void dots(int i0, int i1, int K, float[] mat, int off, int rs, float[] x, int xOff, int ldx, int M,
                     float[] y, int yOff, int incy, int ldy, boolean accumulate) {
        int kb = F.loopBound(K);
        for (int i = i0; i < i1; i++) {
            int r = off + i * rs;
            int m = 0;
            for (; m + 2 <= M; m += 2) {
                int xa = xOff + m * ldx, xb = xa + ldx;
                FloatVector a = FloatVector.zero(F), b = a;
                for (int k = 0; k < kb; k += L) {
                    FloatVector w = FloatVector.fromArray(F, mat, r + k);
                    a = w.fma(FloatVector.fromArray(F, x, xa + k), a);
                    b = w.fma(FloatVector.fromArray(F, x, xb + k), b);
                }
                put(y, yOff + m * ldy + i * incy, tail(Simd.sum(a), K, kb, mat, r, x, xa), accumulate);
                put(y, yOff + (m + 1) * ldy + i * incy, tail(Simd.sum(b), K, kb, mat, r, x, xb), accumulate);
            }
            for (; m < M; m++) {
                int xa = xOff + m * ldx;
                FloatVector s = FloatVector.zero(F);
                for (int k = 0; k < kb; k += L) {
                    s = FloatVector.fromArray(F, mat, r + k).fma(FloatVector.fromArray(F, x, xa + k), s);
                }
                put(y, yOff + m * ldy + i * incy, tail(Simd.sum(s), K, kb, mat, r, x, xa), accumulate);
            }
        }
    }

    /**
     * A row's lane sum plus its scalar tail over k in [kb, K) (a float, not a vector, crosses this call: a vector
     * argument would be boxed if the JIT did not inline it).
     */
    private static float tail(float d, int K, int kb, float[] mat, int r, float[] x, int xa) {
        for (int k = kb; k < K; k++) {
            d += mat[r + k] * x[xa + k];
        }
        return d;
    }

    /**
     * Y[m, :] = W·x_m for M rows x_m of X [M × K] (ldx apart) into Y (ldy apart), W [n × K] row-major:
     * one pass over W for all rows, each row bit-identical to {@link #matvec} of it alone.
     */
    static void matvecRows(int n, int K, float[] w, int wOff, float[] x, int xOff, int ldx, int M,
                           float[] y, int yOff, int ldy) {
        int units = (n + L - 1) / L;
        Parallel.forRange(units, (long) n * K < PARALLEL_ELEMENTS ? units : 1, (u0, u1) -> {
            if (M == 1) {   // decode: rows side by side where the CPU prefers it, as matvec
                dots(u0 * L, Math.min(n, u1 * L), K, w, wOff, K, x, xOff, y, yOff, 1, false);
            } else {
                dots(u0 * L, Math.min(n, u1 * L), K, w, wOff, K, x, xOff, ldx, M, y, yOff, 1, ldy, false);
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
