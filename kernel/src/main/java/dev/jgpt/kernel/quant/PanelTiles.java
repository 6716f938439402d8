package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * y[i·ldy + j] = Σ_k x[xOff + i·ldx + k]·panel[j·K + k] for i &lt; n, j &lt; pr: the rows of X dotted
 * with a decoded f32 panel of W rows. 4×4 register tiles (16 accumulators, 8 loads per 16 fused
 * multiply-adds); leftover rows of X or W take 1×4 and 1×1 dots.
 */
final class PanelTiles {
    private static final int L = Simd.LANES;

    private PanelTiles() {}

    static void multiply(int n, int K, float[] x, int xOff, int ldx, float[] panel, int pr,
                         float[] y, int yOff, int ldy) {
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            int j = 0;
            for (; j + 4 <= pr; j += 4) {
                tile4x4(K, x, xOff + i * ldx, ldx, panel, j * K, y, yOff + i * ldy + j, ldy);
            }
            for (; j < pr; j++) {
                for (int ii = i; ii < i + 4; ii++) {
                    y[yOff + ii * ldy + j] = dot(K, x, xOff + ii * ldx, panel, j * K);
                }
            }
        }
        for (; i < n; i++) {
            int j = 0;
            for (; j + 4 <= pr; j += 4) {
                tile1x4(K, x, xOff + i * ldx, panel, j * K, y, yOff + i * ldy + j);
            }
            for (; j < pr; j++) {
                y[yOff + i * ldy + j] = dot(K, x, xOff + i * ldx, panel, j * K);
            }
        }
    }

    private static void tile4x4(int K, float[] x, int xa, int ldx, float[] w, int wa, float[] y, int ya, int ldy) {
        int x0 = xa, x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        int w0 = wa, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int k = 0;
        for (int end = F.loopBound(K); k < end; k += L) {
            FloatVector b0 = FloatVector.fromArray(F, w, w0 + k), b1 = FloatVector.fromArray(F, w, w1 + k);
            FloatVector b2 = FloatVector.fromArray(F, w, w2 + k), b3 = FloatVector.fromArray(F, w, w3 + k);
            FloatVector v = FloatVector.fromArray(F, x, x0 + k);
            a00 = v.fma(b0, a00);
            a01 = v.fma(b1, a01);
            a02 = v.fma(b2, a02);
            a03 = v.fma(b3, a03);
            v = FloatVector.fromArray(F, x, x1 + k);
            a10 = v.fma(b0, a10);
            a11 = v.fma(b1, a11);
            a12 = v.fma(b2, a12);
            a13 = v.fma(b3, a13);
            v = FloatVector.fromArray(F, x, x2 + k);
            a20 = v.fma(b0, a20);
            a21 = v.fma(b1, a21);
            a22 = v.fma(b2, a22);
            a23 = v.fma(b3, a23);
            v = FloatVector.fromArray(F, x, x3 + k);
            a30 = v.fma(b0, a30);
            a31 = v.fma(b1, a31);
            a32 = v.fma(b2, a32);
            a33 = v.fma(b3, a33);
        }
        // Named stores, not an array of vectors (which would box every accumulator).
        store(a00, k, K, x, x0, w, w0, y, ya);
        store(a01, k, K, x, x0, w, w1, y, ya + 1);
        store(a02, k, K, x, x0, w, w2, y, ya + 2);
        store(a03, k, K, x, x0, w, w3, y, ya + 3);
        store(a10, k, K, x, x1, w, w0, y, ya + ldy);
        store(a11, k, K, x, x1, w, w1, y, ya + ldy + 1);
        store(a12, k, K, x, x1, w, w2, y, ya + ldy + 2);
        store(a13, k, K, x, x1, w, w3, y, ya + ldy + 3);
        store(a20, k, K, x, x2, w, w0, y, ya + 2 * ldy);
        store(a21, k, K, x, x2, w, w1, y, ya + 2 * ldy + 1);
        store(a22, k, K, x, x2, w, w2, y, ya + 2 * ldy + 2);
        store(a23, k, K, x, x2, w, w3, y, ya + 2 * ldy + 3);
        store(a30, k, K, x, x3, w, w0, y, ya + 3 * ldy);
        store(a31, k, K, x, x3, w, w1, y, ya + 3 * ldy + 1);
        store(a32, k, K, x, x3, w, w2, y, ya + 3 * ldy + 2);
        store(a33, k, K, x, x3, w, w3, y, ya + 3 * ldy + 3);
    }

    /** y[yi] = Σ lanes of acc + the scalar tail k0 ≤ k &lt; K of x[xr..]·w[wr..]. */
    private static void store(FloatVector acc, int k0, int K, float[] x, int xr, float[] w, int wr, float[] y, int yi) {
        float s = Simd.sum(acc);
        for (int k = k0; k < K; k++) {
            s += x[xr + k] * w[wr + k];
        }
        y[yi] = s;
    }

    private static void tile1x4(int K, float[] x, int xa, float[] w, int wa, float[] y, int ya) {
        int w0 = wa, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (int end = F.loopBound(K); k < end; k += L) {
            FloatVector v = FloatVector.fromArray(F, x, xa + k);
            a0 = v.fma(FloatVector.fromArray(F, w, w0 + k), a0);
            a1 = v.fma(FloatVector.fromArray(F, w, w1 + k), a1);
            a2 = v.fma(FloatVector.fromArray(F, w, w2 + k), a2);
            a3 = v.fma(FloatVector.fromArray(F, w, w3 + k), a3);
        }
        float s0 = Simd.sum(a0), s1 = Simd.sum(a1), s2 = Simd.sum(a2), s3 = Simd.sum(a3);
        for (; k < K; k++) {
            float v = x[xa + k];
            s0 += v * w[w0 + k];
            s1 += v * w[w1 + k];
            s2 += v * w[w2 + k];
            s3 += v * w[w3 + k];
        }
        y[ya] = s0;
        y[ya + 1] = s1;
        y[ya + 2] = s2;
        y[ya + 3] = s3;
    }

    private static float dot(int K, float[] x, int xa, float[] w, int wa) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (int end = F.loopBound(K); k < end; k += L) {
            acc = FloatVector.fromArray(F, x, xa + k).fma(FloatVector.fromArray(F, w, wa + k), acc);
        }
        float s = Simd.sum(acc);
        for (; k < K; k++) {
            s += x[xa + k] * w[wa + k];
        }
        return s;
    }
}
