package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Gemm;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.FLOAT_LE;
import static dev.jgpt.kernel.quant.QuantSimd.L;
import static dev.jgpt.kernel.quant.QuantSimd.LE;

/**
 * Products with W [rows × cols] stored transposed: S = Wᵀ [cols × rows], row-major little-endian f32 (a
 * Hugging Face GPT-2 Conv1D weight, used in place in its file). Row c of S holds column c of W, so
 * y = W·x is the sum of the rows of S scaled by x: y[r] = Σ_c x[c]·S[c, r].
 *
 * <p>The rows of S are taken in chunks of {@link #CHUNK}, each chunk's partial sums by one thread reading its rows
 * whole, in order: a thread that read a column slab of S instead (half of each row) ran 2.5 times slower from a
 * mapped file than from the heap, its streams cut at every 4 KB page. Every output is then, in the vector lanes and
 * the scalar tails alike, the chunks' chains of fused multiply-adds over their c in order from 0,
 * p_k[r] = fma(S[c, r], x[c], p_k[r]), added in chunk order from 0: the decode and the prefill give the same bits,
 * whatever the thread count.
 */
final class TransposedF32 {
    /** Output columns of one prefill panel: the packed GEMM kernel's (4 vectors, 6 rows of X × 4 vectors in registers). */
    static final int PANEL = Gemm.PACKED_PANEL;
    /** Rows of S summed into one partial result (GPT-2's 768-row Conv1D weights: 12 chunks for two threads). */
    static final int CHUNK = 64;

    private TransposedF32() {}

    /**
     * y_i[r] = Σ_{c0 ≤ c &lt; c1} x_i[c]·S[c, r] for r0 ≤ r &lt; r1 and m vectors x_i = x[xOff + i·ldx ..], y_i =
     * y[yOff + i·ldy ..]: one row of S at a time added into each y_i's slice (in L1), so the thread reads S in a
     * single sequential stream (four rows side by side streamed at 14–21 GB/s per core on Zen 4 against 25 for
     * one), each row read from memory once for all the x_i. Each y_i gets the floats it gets alone (m = 1): the
     * same chain per output. touch: read each next row's pages first (see WeightMatrix.touchPages).
     */
    static void axpyRows(MemorySegment s, boolean touch, int rows, int c0, int c1, int r0, int r1, int m,
                         float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(y, yOff + i * ldy + r0, yOff + i * ldy + r1, 0f);
        }
        int vEnd = r0 + F.loopBound(r1 - r0), vEnd4 = r0 + (r1 - r0) / (4 * L) * (4 * L);
        long stride = 4L * rows;
        for (int c = c0; c < c1; c++) {
            long o = c * stride + 4L * r0;
            if (touch && c + 1 < c1) {   // the next row's pages first, in 4 KB pages (see WeightMatrix.touchPages)
                WeightMatrix.touchPages(s, o + stride, 4L * (r1 - r0));
            }
            // The row as a slice indexed from 0, 4 vectors a step: GPT-2's Conv1D products from the mapped file
            // streamed at 29-31 GB/s on 2 Zen 4 cores against 25-27 a vector a step (C2 unrolls both; why the
            // blocks help was not pinned down). Two rows of S per pass over y, y kept in registers, ran at 20.
            MemorySegment row = s.asSlice(o, 4L * (r1 - r0));
            for (int i = 0; i < m; i++) {
                int yi = yOff + i * ldy + r0;
                float f = x[xOff + i * ldx + c];
                FloatVector xb = FloatVector.broadcast(F, f);
                int r = 0;
                for (int end = vEnd4 - r0; r < end; r += 4 * L) {
                    FloatVector w0 = FloatVector.fromMemorySegment(F, row, 4L * r, LE);
                    FloatVector w1 = FloatVector.fromMemorySegment(F, row, 4L * (r + L), LE);
                    FloatVector w2 = FloatVector.fromMemorySegment(F, row, 4L * (r + 2 * L), LE);
                    FloatVector w3 = FloatVector.fromMemorySegment(F, row, 4L * (r + 3 * L), LE);
                    int y0 = yi + r, y1 = y0 + L, y2 = y0 + 2 * L, y3 = y0 + 3 * L;
                    w0.fma(xb, FloatVector.fromArray(F, y, y0)).intoArray(y, y0);
                    w1.fma(xb, FloatVector.fromArray(F, y, y1)).intoArray(y, y1);
                    w2.fma(xb, FloatVector.fromArray(F, y, y2)).intoArray(y, y2);
                    w3.fma(xb, FloatVector.fromArray(F, y, y3)).intoArray(y, y3);
                }
                for (int end = vEnd - r0; r < end; r += L) {
                    FloatVector.fromMemorySegment(F, row, 4L * r, LE).fma(xb, FloatVector.fromArray(F, y, yi + r))
                            .intoArray(y, yi + r);
                }
                for (int end = r1 - r0; r < end; r++) {
                    y[yi + r] = Math.fma(row.get(FLOAT_LE, 4L * r), f, y[yi + r]);
                }
            }
        }
    }

    /**
     * y_i[r] = Σ_k p[i·ldp + k·rows + r] over the chunks k &lt; chunks, added in order from 0, for r0 ≤ r &lt; r1 and
     * i &lt; m, into y[yOff + i·ldy + r].
     */
    static void addChunks(float[] p, int rows, int chunks, int ldp, int r0, int r1, int m, float[] y, int yOff, int ldy) {
        int vEnd = r0 + F.loopBound(r1 - r0);
        for (int i = 0; i < m; i++) {
            int pi = i * ldp, yi = yOff + i * ldy;
            int r = r0;
            for (; r < vEnd; r += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int k = 0; k < chunks; k++) {
                    acc = acc.add(FloatVector.fromArray(F, p, pi + k * rows + r));
                }
                acc.intoArray(y, yi + r);
            }
            for (; r < r1; r++) {
                float a = 0f;
                for (int k = 0; k < chunks; k++) {
                    a += p[pi + k * rows + r];
                }
                y[yi + r] = a;
            }
        }
    }

    /**
     * Columns [r0, r0 + width) of S (width ≤ {@link #PANEL}) into panel[c·PANEL + j], zero beyond width: the packed
     * panel of {@link Gemm#multiplyPackedPanel} (S is its B as stored), read n/6 times from a heap buffer instead of
     * strided lines of the file.
     */
    static void loadPanel(MemorySegment s, int rows, int cols, int r0, int width, float[] panel) {
        long stride = 4L * rows;
        if (width == PANEL) {   // its 4 vectors (NR = 4·L): a copy call per row costs more than its PANEL floats
            for (int c = 0; c < cols; c++) {
                long o = c * stride + 4L * r0;
                int p = c * PANEL;
                FloatVector.fromMemorySegment(F, s, o, LE).intoArray(panel, p);
                FloatVector.fromMemorySegment(F, s, o + 4L * L, LE).intoArray(panel, p + L);
                FloatVector.fromMemorySegment(F, s, o + 8L * L, LE).intoArray(panel, p + 2 * L);
                FloatVector.fromMemorySegment(F, s, o + 12L * L, LE).intoArray(panel, p + 3 * L);
            }
            return;
        }
        for (int c = 0; c < cols; c++) {
            MemorySegment.copy(s, FLOAT_LE, c * stride + 4L * r0, panel, c * PANEL, width);
            java.util.Arrays.fill(panel, c * PANEL + width, (c + 1) * PANEL, 0f);
        }
    }

    /** Row r of W (column r of S) into y[yOff, yOff + cols). */
    static void column(MemorySegment s, int rows, int cols, int r, float[] y, int yOff) {
        for (int c = 0; c < cols; c++) {
            y[yOff + c] = s.get(FLOAT_LE, 4L * ((long) c * rows + r));
        }
    }
}
