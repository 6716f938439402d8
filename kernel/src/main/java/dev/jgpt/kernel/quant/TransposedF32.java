package dev.jgpt.kernel.quant;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.FLOAT_LE;
import static dev.jgpt.kernel.quant.QuantSimd.L;
import static dev.jgpt.kernel.quant.QuantSimd.LE;

/**
 * Products with W [rows × cols] stored transposed: S = Wᵀ [cols × rows], row-major little-endian f32 (a
 * Hugging Face GPT-2 Conv1D weight, used in place in its file). Row c of S holds column c of W, so
 * y = W·x is the sum of the rows of S scaled by x: y[r] = Σ_c x[c]·S[c, r]. Every output is one chain
 * of fused multiply-adds over c in order from 0, y[r] = fma(S[c, r], x[c], y[r]), in the vector lanes and
 * in the scalar tails alike: the decode and the prefill give the same bits, whatever the thread count.
 */
final class TransposedF32 {
    /** Output columns of one prefill panel: two vectors, so 4 rows of X × 2 vectors are 8 FMA chains. */
    static final int PANEL = 2 * L;

    private TransposedF32() {}

    /**
     * y_i[r] = Σ_c x_i[c]·S[c, r] for r0 ≤ r &lt; r1 and m vectors x_i = x[xOff + i·ldx ..], y_i = y[yOff + i·ldy ..]:
     * four rows of S per pass over each y_i's slice, each block of them read from memory once for all the x_i (it
     * stays in the L1 cache). Each y_i gets the floats it gets alone (m = 1): the same chain per output.
     */
    static void axpyRows(MemorySegment s, int rows, int cols, int r0, int r1, int m, float[] x, int xOff, int ldx,
                         float[] y, int yOff, int ldy) {
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(y, yOff + i * ldy + r0, yOff + i * ldy + r1, 0f);
        }
        int vEnd = r0 + F.loopBound(r1 - r0);
        long stride = 4L * rows;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            long o0 = c * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
            for (int i = 0; i < m; i++) {
                int xi = xOff + i * ldx + c, yi = yOff + i * ldy;
                float f0 = x[xi], f1 = x[xi + 1], f2 = x[xi + 2], f3 = x[xi + 3];
                FloatVector x0 = FloatVector.broadcast(F, f0), x1 = FloatVector.broadcast(F, f1);
                FloatVector x2 = FloatVector.broadcast(F, f2), x3 = FloatVector.broadcast(F, f3);
                int r = r0;
                for (; r < vEnd; r += L) {
                    long b = 4L * r;
                    FloatVector acc = FloatVector.fromArray(F, y, yi + r);
                    acc = FloatVector.fromMemorySegment(F, s, o0 + b, LE).fma(x0, acc);
                    acc = FloatVector.fromMemorySegment(F, s, o1 + b, LE).fma(x1, acc);
                    acc = FloatVector.fromMemorySegment(F, s, o2 + b, LE).fma(x2, acc);
                    acc = FloatVector.fromMemorySegment(F, s, o3 + b, LE).fma(x3, acc);
                    acc.intoArray(y, yi + r);
                }
                for (; r < r1; r++) {
                    long b = 4L * r;
                    float a = y[yi + r];
                    a = Math.fma(s.get(FLOAT_LE, o0 + b), f0, a);
                    a = Math.fma(s.get(FLOAT_LE, o1 + b), f1, a);
                    a = Math.fma(s.get(FLOAT_LE, o2 + b), f2, a);
                    a = Math.fma(s.get(FLOAT_LE, o3 + b), f3, a);
                    y[yi + r] = a;
                }
            }
        }
        for (; c < cols; c++) {
            long o = c * stride;
            for (int i = 0; i < m; i++) {
                int yi = yOff + i * ldy;
                float f = x[xOff + i * ldx + c];
                FloatVector xb = FloatVector.broadcast(F, f);
                int r = r0;
                for (; r < vEnd; r += L) {
                    FloatVector.fromMemorySegment(F, s, o + 4L * r, LE).fma(xb, FloatVector.fromArray(F, y, yi + r))
                            .intoArray(y, yi + r);
                }
                for (; r < r1; r++) {
                    y[yi + r] = Math.fma(s.get(FLOAT_LE, o + 4L * r), f, y[yi + r]);
                }
            }
        }
    }

    /**
     * Columns [r0, r0 + width) of S (width ≤ {@link #PANEL}) into panel[c·PANEL + j], zero beyond width: the
     * prefill reads them n times, from a small heap buffer instead of strided lines of the file.
     */
    static void loadPanel(MemorySegment s, int rows, int cols, int r0, int width, float[] panel) {
        long stride = 4L * rows;
        if (width == PANEL) {   // two vector loads per row of S: a copy call per row costs more than its 2·L floats
            for (int c = 0; c < cols; c++) {
                long o = c * stride + 4L * r0;
                FloatVector.fromMemorySegment(F, s, o, LE).intoArray(panel, c * PANEL);
                FloatVector.fromMemorySegment(F, s, o + 4L * L, LE).intoArray(panel, c * PANEL + L);
            }
            return;
        }
        for (int c = 0; c < cols; c++) {
            MemorySegment.copy(s, FLOAT_LE, c * stride + 4L * r0, panel, c * PANEL, width);
            java.util.Arrays.fill(panel, c * PANEL + width, (c + 1) * PANEL, 0f);
        }
    }

    /**
     * y[yOff + i·ldy + j] = Σ_c x[xOff + i·ldx + c]·panel[c·PANEL + j] for i &lt; n, j &lt; width: 4 rows of X ×
     * 2 vectors of outputs in registers, each X value broadcast once per 2 fused multiply-adds.
     */
    static void multiplyPanel(int n, int cols, float[] x, int xOff, int ldx, float[] panel, int width,
                              float[] y, int yOff, int ldy, float[] tile) {
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            int xa = xOff + i * ldx, xb = xa + ldx, xc = xb + ldx, xd = xc + ldx;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            for (int c = 0, p = 0; c < cols; c++, p += PANEL) {
                FloatVector s0 = FloatVector.fromArray(F, panel, p), s1 = FloatVector.fromArray(F, panel, p + L);
                FloatVector v = FloatVector.broadcast(F, x[xa + c]);
                a0 = s0.fma(v, a0);
                a1 = s1.fma(v, a1);
                v = FloatVector.broadcast(F, x[xb + c]);
                b0 = s0.fma(v, b0);
                b1 = s1.fma(v, b1);
                v = FloatVector.broadcast(F, x[xc + c]);
                c0 = s0.fma(v, c0);
                c1 = s1.fma(v, c1);
                v = FloatVector.broadcast(F, x[xd + c]);
                d0 = s0.fma(v, d0);
                d1 = s1.fma(v, d1);
            }
            store(a0, a1, tile, y, yOff + i * ldy, width);
            store(b0, b1, tile, y, yOff + (i + 1) * ldy, width);
            store(c0, c1, tile, y, yOff + (i + 2) * ldy, width);
            store(d0, d1, tile, y, yOff + (i + 3) * ldy, width);
        }
        for (; i < n; i++) {
            int xa = xOff + i * ldx;
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int c = 0, p = 0; c < cols; c++, p += PANEL) {
                FloatVector v = FloatVector.broadcast(F, x[xa + c]);
                a0 = FloatVector.fromArray(F, panel, p).fma(v, a0);
                a1 = FloatVector.fromArray(F, panel, p + L).fma(v, a1);
            }
            store(a0, a1, tile, y, yOff + i * ldy, width);
        }
    }

    /** The first width lanes of (lo, hi) into y[yi..]: whole vectors straight, a partial panel through tile. */
    private static void store(FloatVector lo, FloatVector hi, float[] tile, float[] y, int yi, int width) {
        if (width == PANEL) {
            lo.intoArray(y, yi);
            hi.intoArray(y, yi + L);
        } else {
            lo.intoArray(tile, 0);
            hi.intoArray(tile, L);
            System.arraycopy(tile, 0, y, yi, width);
        }
    }

    /** Row r of W (column r of S) into y[yOff, yOff + cols). */
    static void column(MemorySegment s, int rows, int cols, int r, float[] y, int yOff) {
        for (int c = 0; c < cols; c++) {
            y[yOff + c] = s.get(FLOAT_LE, 4L * ((long) c * rows + r));
        }
    }
}
