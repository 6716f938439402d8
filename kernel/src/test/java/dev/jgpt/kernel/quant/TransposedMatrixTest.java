package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.jgpt.kernel.quant.WeightMatrixTest.SENTINEL;
import static dev.jgpt.kernel.quant.WeightMatrixTest.matmulOnOneAndTwoThreads;
import static dev.jgpt.kernel.quant.WeightMatrixTest.matvecOnOneAndTwoThreads;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * W stored transposed ({@link WeightMatrix#wrapTransposed}) against the scalar reference: each output is
 * the chain of fused multiply-adds over the columns in order (what the kernels promise, bit for bit), and
 * within float rounding of the double-precision product. Odd shapes (1 row, 1 column, neither a multiple
 * of the vector length or the panel), 1 and 2 threads.
 */
class TransposedMatrixTest {
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    /** Wᵀ [cols × rows] of w [rows × cols], as little-endian f32 at byte 3 of a larger segment (unaligned, as in a file). */
    static MemorySegment storeTransposed(float[] w, int rows, int cols) {
        MemorySegment all = Arena.ofAuto().allocate(4L * rows * cols + 7);
        MemorySegment s = all.asSlice(3, 4L * rows * cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                s.set(QuantSimd.FLOAT_LE, 4L * ((long) c * rows + r), w[r * cols + c]);
            }
        }
        return s;
    }

    /** y[r]: per chunk of columns, the fma chain of W[r, c]·x[c] over its c from 0; the chunks' sums added in order from 0. */
    static float chain(float[] w, int cols, int r, float[] x, int xOff) {
        float sum = 0f;
        for (int c0 = 0; c0 < cols; c0 += TransposedF32.CHUNK) {
            float a = 0f;
            for (int c = c0; c < Math.min(cols, c0 + TransposedF32.CHUNK); c++) {
                a = Math.fma(w[r * cols + c], x[xOff + c], a);
            }
            sum += a;
        }
        return sum;
    }

    static void near(String what, float[] w, int cols, int r, float[] x, int xOff, float got) {
        double want = 0, mag = 0;
        for (int c = 0; c < cols; c++) {
            want += (double) w[r * cols + c] * x[xOff + c];
            mag += Math.abs((double) w[r * cols + c] * x[xOff + c]);
        }
        if (!(Math.abs(got - want) <= (cols + 2) * 0x1p-23 * mag + 1e-30)) {
            fail(what + ": got " + got + ", want " + want);
        }
    }

    private static final int[] ROWS = {1, 5, 16, 33, 2 * QuantSimd.L + 3, 100, 200};
    private static final int[] COLS = {1, 3, 7, 33, 64, 100, 131};

    @Test
    void matvecIsTheReferenceChainOnOddShapesAndAnyThreadCount() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int rows : ROWS) {
            for (int cols : COLS) {
                float[] w = FormatTest.gaussian(rng, rows * cols, 0.5);
                WeightMatrix m = WeightMatrix.wrapTransposed(rows, cols, storeTransposed(w, rows, cols));
                float[] x = FormatTest.gaussian(rng, cols + 3, 1.0);
                float[] y = matvecOnOneAndTwoThreads(m, x, "[" + rows + "×" + cols + "]");
                for (int r = 0; r < rows; r++) {
                    String what = "[" + rows + "×" + cols + "] row " + r;
                    assertEquals(chain(w, cols, r, x, 3), y[1 + r], what);
                    near(what, w, cols, r, x, 3, y[1 + r]);
                }
            }
        }
    }

    @Test
    void matmulGivesTheMatvecsBitsOnOddShapesAndAnyThreadCount() {
        SplittableRandom rng = new SplittableRandom(6);
        for (int n : new int[] {2, 3, 4, 5, 9, 14}) {
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    int ldx = cols + 5, ldy = rows + 3, xOff = 2, yOff = 4;
                    float[] w = FormatTest.gaussian(rng, rows * cols, 0.5);
                    WeightMatrix m = WeightMatrix.wrapTransposed(rows, cols, storeTransposed(w, rows, cols));
                    float[] x = FormatTest.gaussian(rng, xOff + (n - 1) * ldx + cols, 1.0);
                    float[] y = matmulOnOneAndTwoThreads(m, n, x, xOff, ldx, yOff, ldy,
                            "matmul (n=" + n + " [" + rows + "×" + cols + "])");
                    for (int i = 0; i < n; i++) {
                        for (int r = 0; r < rows; r++) {
                            assertEquals(chain(w, cols, r, x, xOff + i * ldx), y[yOff + i * ldy + r],
                                    "n=" + n + " [" + rows + "×" + cols + "] (" + i + ", " + r + ")");
                        }
                    }
                }
            }
        }
    }

    /** Rows in one pass give each row's own matvec, bit for bit, at any thread count; other matrices loop over rows. */
    @Test
    void matvecRowsGiveEachRowsMatvecBitForBit() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int rows : new int[] {1, 5, 2 * QuantSimd.L + 3, 301}) {
            for (int cols : new int[] {1, 7, 203}) {
                float[] w = FormatTest.gaussian(rng, rows * cols, 0.5);
                for (WeightMatrix m : new WeightMatrix[] {WeightMatrix.wrapTransposed(rows, cols, storeTransposed(w, rows, cols)),
                        WeightMatrix.quantize(WeightType.F32, w, rows, cols)}) {
                    for (int n : new int[] {1, 2, 5, 9}) {
                        int ldx = cols + 2, ldy = rows + 1;
                        float[] x = FormatTest.gaussian(rng, 1 + (n - 1) * ldx + cols, 1.0);
                        float[][] got = new float[2][];
                        for (int threads = 1; threads <= 2; threads++) {
                            Parallel.setThreads(threads);
                            float[] y = new float[3 + (n - 1) * ldy + rows];
                            Arrays.fill(y, SENTINEL);
                            m.matvecRows(n, x, 1, ldx, y, 3, ldy);
                            for (int i = 0; i < n; i++) {
                                float[] alone = new float[rows];
                                m.matvec(x, 1 + i * ldx, alone, 0);
                                assertArrayEquals(alone, Arrays.copyOfRange(y, 3 + i * ldy, 3 + i * ldy + rows),
                                        m + " n=" + n + " row " + i);
                                if (i + 1 < n) {
                                    assertEquals(SENTINEL, y[3 + i * ldy + rows], "wrote between rows");
                                }
                            }
                            assertEquals(SENTINEL, y[2]);
                            got[threads - 1] = y;
                        }
                        assertArrayEquals(got[0], got[1], "results depend on the thread count");
                    }
                }
            }
        }
    }

    /** Big enough that both products split across threads (the small ones above may run on one). */
    @Test
    void largeProductsSplitAcrossThreadsGiveTheSameBits() {
        SplittableRandom rng = new SplittableRandom(7);
        int rows = 301, cols = 203, n = 13;
        float[] w = FormatTest.gaussian(rng, rows * cols, 0.5);
        WeightMatrix m = WeightMatrix.wrapTransposed(rows, cols, storeTransposed(w, rows, cols));
        float[] x = FormatTest.gaussian(rng, n * cols, 1.0);
        float[][] vec = new float[2][], mat = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            vec[threads - 1] = new float[rows];
            m.matvec(x, 0, vec[threads - 1], 0);
            mat[threads - 1] = new float[n * rows];
            m.matmul(n, x, mat[threads - 1]);
        }
        assertArrayEquals(vec[0], vec[1]);
        assertArrayEquals(mat[0], mat[1]);
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < rows; r++) {
                assertEquals(chain(w, cols, r, x, i * cols), mat[0][i * rows + r], "(" + i + ", " + r + ")");
            }
        }
        assertArrayEquals(Arrays.copyOf(mat[0], rows), vec[0], "matmul's first row is the matvec");
    }

    @Test
    void rowsAreTheStoredColumnsAndTheSegmentIsUsedInPlace() {
        int rows = 7, cols = 5;
        float[] w = FormatTest.gaussian(new SplittableRandom(8), rows * cols, 1.0);
        MemorySegment s = storeTransposed(w, rows, cols);
        WeightMatrix m = WeightMatrix.wrapTransposed(rows, cols, s);
        assertTrue(m.isTransposed());
        assertArrayEquals(w, m.dequantize());
        float[] row = new float[cols + 1];
        m.dequantizeRow(6, row, 1);
        assertArrayEquals(Arrays.copyOfRange(w, 6 * cols, 7 * cols), Arrays.copyOfRange(row, 1, cols + 1));
        s.set(QuantSimd.FLOAT_LE, 4L * (2 * rows + 6), 42f);   // W[6, 2], through the segment
        m.dequantizeRow(6, row, 0);
        assertEquals(42f, row[2]);

        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.wrapTransposed(rows, cols, s.asSlice(4)));
        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.wrapTransposed(0, cols, s));
        assertThrows(IllegalStateException.class, m::data);
        assertThrows(IllegalStateException.class, () -> m.row(0));
        assertThrows(UnsupportedOperationException.class, () -> m.withRowOrder(new int[] {6, 5, 4, 3, 2, 1, 0}));
        assertThrows(IllegalArgumentException.class, () -> m.matvec(new float[cols - 1], new float[rows]));
    }

    /** Stacked parts with a transposed one: each part's outputs are its own matvec's, in place. */
    @Test
    void stackedMatvecWithATransposedPartGivesEachPartsOwnProduct() {
        SplittableRandom rng = new SplittableRandom(9);
        int cols = 40;
        float[] w1 = FormatTest.gaussian(rng, 9 * cols, 0.5), w2 = FormatTest.gaussian(rng, 21 * cols, 0.5);
        WeightMatrix a = WeightMatrix.wrapTransposed(9, cols, storeTransposed(w1, 9, cols));
        WeightMatrix b = WeightMatrix.quantize(WeightType.F32, w2, 21, cols);
        float[] x = FormatTest.gaussian(rng, cols, 1.0);
        float[] y = new float[30], ya = new float[9], yb = new float[21];
        WeightMatrix.matvec(java.util.List.of(a, b), x, 0, y, 0);
        a.matvec(x, ya);
        b.matvec(x, yb);
        assertArrayEquals(ya, Arrays.copyOfRange(y, 0, 9));
        assertArrayEquals(yb, Arrays.copyOfRange(y, 9, 30));
    }

    /** F32's matvec takes rows four at a time; each row must still be the single-row dot's float. */
    @Test
    void f32RowsFourAtATimeAreTheSingleRowDot() {
        SplittableRandom rng = new SplittableRandom(10);
        for (int rows : new int[] {1, 4, 7, 9}) {
            for (int cols : new int[] {1, 15, 16, 17, 100}) {
                WeightMatrix m = WeightMatrix.quantize(WeightType.F32, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
                float[] x = FormatTest.gaussian(rng, cols + 1, 1.0);
                float[] y = new float[rows];
                m.matvec(x, 1, y, 0);
                for (int r = 0; r < rows; r++) {
                    float want = WeightType.F32.format.dot(m.data(), r * m.rowBytes(), x, 1, cols, null);
                    assertEquals(want, y[r], "[" + rows + "×" + cols + "] row " + r);
                }
            }
        }
    }
}
