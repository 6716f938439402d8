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
        int kb = F.loopBound(K);
        int i = i0;
        for (; i + 4 <= i1; i += 4) {
            int r0 = off + i * rs, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < kb; k += L) {
                FloatVector xk = FloatVector.fromArray(F, x, xOff + k);
                s0 = FloatVector.fromArray(F, mat, r0 + k).fma(xk, s0);
                s1 = FloatVector.fromArray(F, mat, r1 + k).fma(xk, s1);
                s2 = FloatVector.fromArray(F, mat, r2 + k).fma(xk, s2);
                s3 = FloatVector.fromArray(F, mat, r3 + k).fma(xk, s3);
            }
            float d0 = Simd.sum(s0), d1 = Simd.sum(s1);
            float d2 = Simd.sum(s2), d3 = Simd.sum(s3);
            for (int k = kb; k < K; k++) {
                float xk = x[xOff + k];
                d0 += mat[r0 + k] * xk;
                d1 += mat[r1 + k] * xk;
                d2 += mat[r2 + k] * xk;
                d3 += mat[r3 + k] * xk;
            }
            put(y, yOff + i * incy, d0, accumulate);
            put(y, yOff + (i + 1) * incy, d1, accumulate);
            put(y, yOff + (i + 2) * incy, d2, accumulate);
            put(y, yOff + (i + 3) * incy, d3, accumulate);
        }
        for (; i < i1; i++) {
            int r = off + i * rs;
            FloatVector s = FloatVector.zero(F);
            for (int k = 0; k < kb; k += L) {
                s = FloatVector.fromArray(F, mat, r + k).fma(FloatVector.fromArray(F, x, xOff + k), s);
            }
            float d = Simd.sum(s);
            for (int k = kb; k < K; k++) {
                d += mat[r + k] * x[xOff + k];
            }
            put(y, yOff + i * incy, d, accumulate);
        }
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
