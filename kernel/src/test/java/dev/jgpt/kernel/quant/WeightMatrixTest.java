package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The products against the double-precision reference on odd shapes. Tolerance: a float dot product
 * of n terms has error ≤ n·u·Σ|terms| (u = 2⁻²⁴) whatever the summation order, so each output may
 * differ from the exact sum of the dequantized weights times x by (cols + 2)·2⁻²³·Σ|terms| (twice
 * the worst case; index or layout errors are of the size of the terms themselves).
 */
class WeightMatrixTest {
    static final float SENTINEL = -777.25f;
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    static int[] colsFor(WeightType t) {
        return switch (t.blockSize) {
            case 1 -> new int[] {1, 7, 33, 100, 777};
            case 32 -> new int[] {32, 96, 800};
            default -> new int[] {256, 768, 1280};
        };
    }

    static double tolerance(WeightMatrix m, int r, float[] x, int xOff) {
        double mag = 0;
        for (int c = 0; c < m.cols(); c++) {
            mag += QuantReference.magnitude(m.type(), m.data(), r * m.rowBytes(), c, x[xOff + c]);
        }
        return (m.cols() + 2) * 0x1p-23 * mag + 1e-30;
    }

    static void check(String what, double want, float got, double tol) {
        if (!(Math.abs(got - want) <= tol)) {
            fail(what + ": got " + got + ", want " + want + " (tolerance " + tol + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(WeightType.class)
    void matvecMatchesTheReferenceOnOddShapesAndAnyThreadCount(WeightType t) {
        SplittableRandom rng = new SplittableRandom(11 + t.ordinal());
        for (int rows : new int[] {1, 7, 33, 100}) {
            for (int cols : colsFor(t)) {
                WeightMatrix m = WeightMatrix.quantize(t, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
                float[] w = QuantReference.dequantize(t, m.data(), rows, cols);
                float[] x = FormatTest.gaussian(rng, cols + 3, 1.0);
                double[] want = QuantReference.matvec(w, rows, cols, x, 3);
                float[] y = matvecOnOneAndTwoThreads(m, x, t.toString());
                for (int r = 0; r < rows; r++) {
                    check(t + " [" + rows + "×" + cols + "] row " + r, want[r], y[1 + r], tolerance(m, r, x, 3));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightType.class)
    void matmulMatchesTheReferenceOnOddShapesAndAnyThreadCount(WeightType t) {
        SplittableRandom rng = new SplittableRandom(21 + t.ordinal());
        int[] colsList = colsFor(t);
        for (int n : new int[] {2, 3, 5, 9, 17}) {
            for (int rows : new int[] {1, 7, 33}) {
                int cols = colsList[(n + rows) % colsList.length];
                int ldx = cols + 5, ldy = rows + 3, xOff = 2, yOff = 4;
                WeightMatrix m = WeightMatrix.quantize(t, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
                float[] w = QuantReference.dequantize(t, m.data(), rows, cols);
                float[] x = FormatTest.gaussian(rng, xOff + (n - 1) * ldx + cols, 1.0);
                float[] y = matmulOnOneAndTwoThreads(m, n, x, xOff, ldx, yOff, ldy, t + ": matmul");
                for (int i = 0; i < n; i++) {
                    double[] want = QuantReference.matvec(w, rows, cols, x, xOff + i * ldx);
                    for (int r = 0; r < rows; r++) {
                        check(t + " matmul n=" + n + " [" + rows + "×" + cols + "] (" + i + ", " + r + ")",
                                want[r], y[yOff + i * ldy + r], tolerance(m, r, x, xOff + i * ldx));
                    }
                }
            }
        }
    }

    /**
     * m·x[3 ..] into y[1 ..], sentinels on either side, on one thread and then on two: fails if either writes outside
     * its rows or the two differ; returns the product (row r at y[1 + r]).
     */
    static float[] matvecOnOneAndTwoThreads(WeightMatrix m, float[] x, String what) {
        int rows = m.rows();
        float[][] got = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            float[] y = new float[rows + 2];
            Arrays.fill(y, SENTINEL);
            m.matvec(x, 3, y, 1);
            assertEquals(SENTINEL, y[0], what + ": wrote before y");
            assertEquals(SENTINEL, y[rows + 1], what + ": wrote after y");
            got[threads - 1] = y;
        }
        assertArrayEquals(got[0], got[1], what + ": results depend on the thread count");
        return got[0];
    }

    /**
     * m's n products X → Y (x rows ldx apart from xOff, y rows ldy apart from yOff) into a y filled with sentinels, on
     * one thread and then on two: fails if either writes outside Y or the two differ; returns y.
     */
    static float[] matmulOnOneAndTwoThreads(WeightMatrix m, int n, float[] x, int xOff, int ldx, int yOff, int ldy,
                                            String what) {
        int rows = m.rows();
        float[][] got = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            float[] y = new float[yOff + (n - 1) * ldy + rows + 2];
            Arrays.fill(y, SENTINEL);
            m.matmul(n, x, xOff, ldx, y, yOff, ldy);
            assertWroteOnlyY(y, yOff, ldy, n, rows, what);
            got[threads - 1] = y;
        }
        assertArrayEquals(got[0], got[1], what + ": results depend on the thread count");
        return got[0];
    }

    /**
     * Fails if y, filled with {@link #SENTINEL} before the product, changed anywhere but in Y's n rows of
     * {@code rows} values at yOff with row stride ldy.
     */
    static void assertWroteOnlyY(float[] y, int yOff, int ldy, int n, int rows, String what) {
        for (int idx = 0; idx < y.length; idx++) {
            int rel = idx - yOff;
            boolean inside = rel >= 0 && rel / ldy < n && rel % ldy < rows;
            if (!inside && y[idx] != SENTINEL) {
                fail(what + " wrote outside Y at " + idx);
            }
        }
    }

    @Test
    void stackedMatvecGivesEachPartsOwnProductBitForBit() {
        SplittableRandom rng = new SplittableRandom(9);
        int cols = 512;
        // Q4_K twice: the second part reuses the first's prepared x
        WeightType[] types = {WeightType.Q4_K, WeightType.Q6_K, WeightType.Q8_0, WeightType.Q4_0, WeightType.BF16, WeightType.Q4_K};
        int[] rows = {7, 33, 1, 300, 5, 3};
        java.util.List<WeightMatrix> parts = new java.util.ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            parts.add(WeightMatrix.quantize(types[i], FormatTest.gaussian(rng, rows[i] * cols, 0.5), rows[i], cols));
        }
        float[] x = FormatTest.gaussian(rng, cols + 2, 1.0);
        int total = Arrays.stream(rows).sum();
        float[] want = new float[total];
        for (int i = 0, at = 0; i < parts.size(); at += rows[i], i++) {
            parts.get(i).matvec(x, 2, want, at);
        }
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            float[] y = new float[total + 2];
            Arrays.fill(y, SENTINEL);
            WeightMatrix.matvec(parts, x, 2, y, 1);
            assertEquals(SENTINEL, y[0]);
            assertEquals(SENTINEL, y[total + 1]);
            assertArrayEquals(want, Arrays.copyOfRange(y, 1, total + 1), threads + " threads");
        }
        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.matvec(
                java.util.List.of(parts.get(0), WeightMatrix.quantize(WeightType.Q8_0, new float[64], 1, 64)), x, 0, new float[8], 0));
    }

    @Test
    void largeProductsSplitAcrossThreadsGiveTheSameBits() {
        SplittableRandom rng = new SplittableRandom(5);
        for (WeightType t : WeightType.values()) {
            int rows = 301, cols = 1024, n = 21;
            WeightMatrix m = WeightMatrix.quantize(t, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
            float[] x = FormatTest.gaussian(rng, n * cols, 1.0);
            float[][] mv = new float[2][rows], mm = new float[2][n * rows];
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                m.matvec(x, 0, mv[threads - 1], 0);
                m.matmul(n, x, mm[threads - 1]);
            }
            assertArrayEquals(mv[0], mv[1], t + " matvec");
            assertArrayEquals(mm[0], mm[1], t + " matmul");
            // The first row of a matmul is a matvec by other means: equal within rounding.
            float[] w = QuantReference.dequantize(t, m.data(), rows, cols);
            double[] want = QuantReference.matvec(w, rows, cols, x, 0);
            for (int r = 0; r < rows; r++) {
                check(t + " matmul row 0", want[r], mm[0][r], tolerance(m, r, x, 0));
            }
        }
    }

    /** The path for vector shapes the in-register kernels do not handle (not this machine's, so tested directly). */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void fallbackForOtherVectorShapesMatchesTheReference(WeightType t) {
        SplittableRandom rng = new SplittableRandom(31 + t.ordinal());
        int rows = 7, cols = colsFor(t)[1];
        WeightMatrix m = WeightMatrix.quantize(t, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
        float[] x = FormatTest.gaussian(rng, cols, 1.0);
        float[] y = new float[2 * rows];
        m.fallbackDots(0, rows, x, 0, y, 0, 2);
        double[] want = QuantReference.matvec(QuantReference.dequantize(t, m.data(), rows, cols), rows, cols, x, 0);
        for (int r = 0; r < rows; r++) {
            check(t + " fallback row " + r, want[r], y[2 * r], tolerance(m, r, x, 0));
        }
    }

    @Test
    void wrapsSegmentsInPlaceAndChecksTheirSize() {
        float[] w = FormatTest.gaussian(new SplittableRandom(1), 3 * 64, 1.0);
        WeightMatrix q = WeightMatrix.quantize(WeightType.Q8_0, w, 3, 64);
        assertEquals(3 * 2 * 34, q.byteSize());
        MemorySegment copy = Arena.ofAuto().allocate(q.byteSize());
        copy.copyFrom(q.data());
        WeightMatrix wrapped = WeightMatrix.wrap(WeightType.Q8_0, 3, 64, copy);
        assertArrayEquals(q.dequantize(), wrapped.dequantize());
        assertTrue(wrapped.data() == copy, "used in place, not copied");

        bad(() -> WeightMatrix.wrap(WeightType.Q8_0, 3, 64, copy.asSlice(1)), "takes 204 bytes", "203");
        bad(() -> WeightMatrix.wrap(WeightType.Q4_K, 1, 100, copy), "q4_K", "256");
        bad(() -> WeightMatrix.wrap(WeightType.F32, 0, 4, copy), "rows must be positive");
        bad(() -> WeightMatrix.quantize(WeightType.Q4_0, new float[]{Float.NaN, 0, 0, 0}, 1, 4), "not a positive multiple");
        float[] nan = new float[64];
        nan[40] = Float.POSITIVE_INFINITY;
        bad(() -> WeightMatrix.quantize(WeightType.Q4_0, nan, 2, 32), "weight [1, 8] is Infinity");
        bad(() -> WeightMatrix.quantize(WeightType.F32, new float[5], 2, 3), "does not fit");
        bad(() -> q.matvec(new float[63], 0, new float[3], 0), "x needs 64");
        bad(() -> q.matvec(new float[64], 0, new float[3], 1), "y needs 3");
        bad(() -> q.matmul(2, new float[127], 0, 64, new float[6], 0, 3), "X needs 128");
        bad(() -> q.matmul(2, new float[128], 0, 63, new float[6], 0, 3), "ldx = 63");
        bad(() -> q.dequantizeRow(3, new float[64], 0), "row 3");
    }

    /** A view with its rows reordered computes, for every output, exactly what the original's row gives. */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void rowOrderViewGivesThePermutedRowsBitForBit(WeightType t) {
        SplittableRandom rng = new SplittableRandom(31 + t.ordinal());
        int rows = 37, cols = colsFor(t)[1], n = 5;
        WeightMatrix m = WeightMatrix.quantize(t, FormatTest.gaussian(rng, rows * cols, 0.5), rows, cols);
        int[] order = new int[rows];
        for (int r = 0; r < rows; r++) {
            order[r] = r;
        }
        for (int r = rows - 1; r > 0; r--) {     // a random permutation
            int o = rng.nextInt(r + 1), swap = order[r];
            order[r] = order[o];
            order[o] = swap;
        }
        WeightMatrix v = m.withRowOrder(order);
        float[] x = FormatTest.gaussian(rng, n * cols, 1.0);
        float[] y = new float[n * rows], yv = new float[n * rows];
        m.matmul(n, x, y);
        v.matmul(n, x, yv);
        float[] one = new float[rows], oneV = new float[rows];
        m.matvec(x, one);
        v.matvec(x, oneV);
        float[] stacked = new float[2 * rows];
        WeightMatrix.matvec(java.util.List.of(v, m), x, 0, stacked, 0);
        float[] w = m.dequantize(), wv = v.dequantize();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                assertEquals(y[i * rows + order[r]], yv[i * rows + r], t + " matmul row " + r);
            }
            assertEquals(one[order[r]], oneV[r], t + " matvec row " + r);
            assertEquals(one[order[r]], stacked[r], t + " stacked matvec row " + r);
            assertArrayEquals(Arrays.copyOfRange(w, order[r] * cols, (order[r] + 1) * cols),
                    Arrays.copyOfRange(wv, r * cols, (r + 1) * cols), t + " dequantize row " + r);
            v.dequantizeRow(r, row, 0);
            assertArrayEquals(Arrays.copyOfRange(w, order[r] * cols, (order[r] + 1) * cols), row);
        }
        int[] back = new int[rows];     // the view of a view composes: undoing the order gives m's rows
        for (int r = 0; r < rows; r++) {
            back[order[r]] = r;
        }
        assertArrayEquals(w, v.withRowOrder(back).dequantize());
        bad(() -> m.withRowOrder(new int[rows - 1]), "row order of " + (rows - 1) + " rows");
        int[] twice = order.clone();
        twice[1] = twice[0];
        bad(() -> m.withRowOrder(twice), "not a permutation");
        assertThrows(IllegalStateException.class, v::data);
    }

    private static void bad(Runnable r, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "\"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }
}
