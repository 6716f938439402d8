package dev.jgpt.kernel;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Decode's matrix-vector products give every output the bits of one FMA chain, however many rows
 * {@link MatvecRows} reads side by side: each row's sum is checked against that chain written out in scalar
 * code (lane-wise fused multiply-adds, {@link Simd#sum}'s pairwise tree, then the scalar tail). The build
 * runs this class once with the CPU's own choice and once with each of {@code -Djgpt.matvec.rows=1} and {@code 8}.
 */
class MatvecRowsTest {
    private static final int L = Simd.LANES;
    /** Rows not a multiple of 8 (a one-row remainder per thread's chunk), depths with and without a tail. */
    private static final int[][] SHAPES = {{29, 3 * L + 5}, {131, 77}, {64, 2 * L}, {1024 + 3, 768}, {7, L - 1}};

    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    @Test
    void heapMatvecIsOneChainPerRow() {
        eachShapeOnOneAndTwoThreads((threads, n, K) -> {
            Random rnd = new Random(n * 31L + K);
            float[] w = GemmTest.random(rnd, 2 + n * K), x = GemmTest.random(rnd, 3 + K), y = new float[4 + n];
            Gemm.matvec(y, 4, w, 2, x, 3, n, K, false);
            assertOneChainPerRow("", y, 4, w, 2, x, 3, n, K, threads);
        });
    }

    /** Decode of a model on the heap ({@link Gemm#linearRows}): one row (side by side) and several (one at a time). */
    @Test
    void heapLinearRowsIsOneChainPerRowForOneOrSeveralInputs() {
        eachShapeOnOneAndTwoThreads((threads, n, K) -> {
            Random rnd = new Random(n * 13L + K);
            float[] w = GemmTest.random(rnd, n * K), x = GemmTest.random(rnd, 2 + 3 * K);
            for (int M : new int[] {1, 3}) {
                float[] y = new float[5 + M * n];
                Gemm.linearRows(y, 5, x, 2, w, null, M, K, n);
                for (int m = 0; m < M; m++) {
                    assertOneChainPerRow("input " + m + " of " + M + ", ", y, 5 + m * n, w, 0, x, 2 + m * K, n, K, threads);
                }
            }
        });
    }

    @Test
    void f32WeightMatrixIsOneChainPerRowOnHeapAndNativeMemory() {
        eachShapeOnOneAndTwoThreads((threads, n, K) -> {
            Random rnd = new Random(n * 17L + K);
            float[] w = GemmTest.random(rnd, n * K), x = GemmTest.random(rnd, 1 + K), y = new float[n];
            MemorySegment nativeCopy = Arena.ofAuto().allocate(4L * n * K, 64);
            MemorySegment.copy(w, 0, nativeCopy, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, w.length);
            for (WeightMatrix m : new WeightMatrix[] {
                    WeightMatrix.quantize(WeightType.F32, w, n, K), WeightMatrix.wrap(WeightType.F32, n, K, nativeCopy)}) {
                java.util.Arrays.fill(y, Float.NaN);
                m.matvec(x, 1, y, 0);
                assertOneChainPerRow((m.data().isNative() ? "native" : "heap") + ", ", y, 0, w, 0, x, 1, n, K, threads);
            }
        });
    }

    private interface ShapeCheck {
        void run(int threads, int n, int K);
    }

    /** The check for every shape of {@link #SHAPES} (n rows of K), on 1 thread and on 2. */
    private static void eachShapeOnOneAndTwoThreads(ShapeCheck check) {
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                check.run(threads, s[0], s[1]);
            }
        }
    }

    /** y[yOff + i] is, bit for bit, the {@link #chain} of row i of w (K floats from wOff + i·K) with x from xOff. */
    private static void assertOneChainPerRow(String what, float[] y, int yOff, float[] w, int wOff, float[] x, int xOff,
                                             int n, int K, int threads) {
        for (int i = 0; i < n; i++) {
            float want = chain(w, wOff + i * K, x, xOff, K);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[yOff + i]),
                    what + "row " + i + " of " + n + "x" + K + " on " + threads + " threads (rows side by side: "
                            + MatvecRows.SIDE_BY_SIDE + ")");
        }
    }

    /** Σ_k w[wOff + k]·x[xOff + k] as the kernels sum it: L lane chains of fused multiply-adds, their pairwise tree, the tail. */
    private static float chain(float[] w, int wOff, float[] x, int xOff, int K) {
        float[] lanes = new float[L];
        int kb = K / L * L;
        for (int k = 0; k < kb; k += L) {
            for (int l = 0; l < L; l++) {
                lanes[l] = Math.fma(w[wOff + k + l], x[xOff + k + l], lanes[l]);
            }
        }
        for (int d = L / 2; d >= 1; d /= 2) {      // lane i meets lane i ^ d, widest distance first
            float[] next = new float[L];
            for (int l = 0; l < L; l++) {
                next[l] = lanes[l] + lanes[l ^ d];
            }
            lanes = next;
        }
        float s = lanes[0];
        for (int k = kb; k < K; k++) {
            s += w[wOff + k] * x[xOff + k];
        }
        return s;
    }
}
