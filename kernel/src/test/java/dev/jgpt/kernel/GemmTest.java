package dev.jgpt.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class GemmTest {
    private static final float SENTINEL = -12345.5f;
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    /** A matrix stored row-major inside a larger array, at an offset, with ld ≥ its column count. */
    private record Stored(float[] data, int off, int ld, int rows, int cols) {
        float get(int r, int c) {
            return data[off + r * ld + c];
        }
    }

    private static Stored stored(Random rnd, int rows, int cols, int off, int pad, float lo, float hi) {
        int ld = cols + pad;
        float[] d = new float[off + Math.max(0, rows * ld) + 5];
        Arrays.fill(d, SENTINEL);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float mag = lo + (hi - lo) * rnd.nextFloat();
                d[off + r * ld + c] = rnd.nextBoolean() ? mag : -mag;
            }
        }
        return new Stored(d, off, Math.max(ld, 1), rows, cols);
    }

    private static double opA(Stored a, boolean t, int i, int k) {
        return t ? a.get(k, i) : a.get(i, k);
    }

    /**
     * Runs gemm and checks every element of C against a double-precision triple loop, with the
     * worst-case float bound K·eps·Σ|a||b| (plus eps·|c0| when accumulating), and checks that
     * nothing outside C's M×N window (padding, offset, tail) was written.
     */
    private static float[] check(Random rnd, boolean tA, boolean tB, int M, int N, int K, int off, int pad,
                                 boolean accumulate, float lo, float hi) {
        Stored a = tA ? stored(rnd, K, M, off, pad, lo, hi) : stored(rnd, M, K, off, pad, lo, hi);
        Stored b = tB ? stored(rnd, N, K, off + 1, pad + 2, lo, hi) : stored(rnd, K, N, off + 1, pad + 2, lo, hi);
        Stored c = stored(rnd, M, N, off + 2, pad + 1, lo, hi);
        float[] c0 = c.data().clone();
        Gemm.gemm(tA, tB, M, N, K, a.data(), a.off(), a.ld(), b.data(), b.off(), b.ld(),
                c.data(), c.off(), c.ld(), accumulate);
        String where = "tA=" + tA + " tB=" + tB + " M=" + M + " N=" + N + " K=" + K + " acc=" + accumulate;
        for (int idx = 0; idx < c0.length; idx++) {
            int rel = idx - c.off();
            boolean inside = rel >= 0 && rel / c.ld() < M && rel % c.ld() < N;
            if (!inside && Float.compare(c.data()[idx], c0[idx]) != 0) {
                fail(where + ": wrote outside C at index " + idx);
            }
        }
        double eps = Math.ulp(1f);
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = 0, mag = 0;
                for (int k = 0; k < K; k++) {
                    double p = opA(a, tA, i, k) * opA(b, tB, k, j);
                    s += p;
                    mag += Math.abs(p);
                }
                double before = c0[c.off() + i * c.ld() + j];
                double want = accumulate ? before + s : s;
                double tol = (K + 2) * eps * (mag + (accumulate ? Math.abs(before) : 0)) + 1e-30;
                double got = c.get(i, j);
                if (!(Math.abs(got - want) <= tol)) {
                    fail(where + ": C[" + i + "," + j + "] = " + got + ", want " + want + " (tol " + tol + ")");
                }
            }
        }
        return c.data();
    }

    @Test
    void oddShapesAllLayoutsAgainstDoubleReference() {
        Random rnd = new Random(1);
        int[] dims = {1, 7, 63, 129};
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                for (int M : dims) {
                    for (int N : dims) {
                        for (int K : dims) {
                            check(rnd, tA, tB, M, N, K, 0, 0, false, 0.5f, 1f);
                        }
                    }
                }
            }
        }
    }

    @Test
    void offsetsLeadingDimsAndAccumulate() {
        Random rnd = new Random(2);
        int[][] shapes = {{1, 1, 1}, {6, 64, 5}, {7, 65, 33}, {13, 129, 17}, {1, 300, 40}, {50, 1, 70}, {97, 70, 9}};
        for (int[] s : shapes) {
            for (boolean tA : new boolean[]{false, true}) {
                for (boolean tB : new boolean[]{false, true}) {
                    for (boolean acc : new boolean[]{false, true}) {
                        check(rnd, tA, tB, s[0], s[1], s[2], 3, 5, acc, 0.5f, 1f);
                    }
                }
            }
        }
    }

    /** Crosses every blocking boundary: K > KC, N > NC, M > MC, plus edge tiles in both directions. */
    @Test
    void shapesCrossingCacheBlocks() {
        Random rnd = new Random(3);
        int kc = GemmPacked.KC, nc = GemmPacked.NC, mc = GemmPacked.MC;
        check(rnd, false, true, 11, 37, kc + 9, 1, 2, true, 0.5f, 1f);
        check(rnd, true, false, 8, nc + GemmPacked.NR + 5, 12, 2, 1, false, 0.5f, 1f);
        check(rnd, false, false, mc + GemmPacked.MR + 1, 23, 19, 0, 3, true, 0.5f, 1f);
        check(rnd, true, true, mc + 5, nc + 3, kc + 1, 4, 0, false, 0.5f, 1f);
    }

    /**
     * The packed path's sums bit for bit: per KC block of k from 0, a chain of fused multiply-adds from zero,
     * the blocks added onto C in order (onto 0 without accumulate). Shapes take both loop orders, a shallow K
     * packed whole with several blocks of rows and columns, a deep K swept block by block with C's columns
     * cut, and a deep K packed whole because A has too many rows to read again (each thread's half too), with edge
     * tiles, every layout, accumulate or not, on one and two threads; a weight gradient's blocks of rows (A's columns
     * read in place) as the Xeon takes them and as AMD does.
     */
    @Test
    void packedSumsAreBlockedFmaChainsInOrder() {
        int saved = GemmPacked.wholeKMcColumns;
        try {
            for (int mcColumns : new int[] {24, GemmPacked.WHOLE_K_MC}) {
                GemmPacked.wholeKMcColumns = mcColumns;
                packedSumsAreBlockedFmaChains();
            }
        } finally {
            GemmPacked.wholeKMcColumns = saved;
        }
    }

    /**
     * Where the packed panels of B start in their buffers ({@link GemmPacked#bPad}: on a 64-byte boundary when the JVM
     * aligns objects so) moves them, never the sums: every path of the two tests above, at offsets from 0 to the last
     * the buffers have room for.
     */
    @Test
    void packedPanelsGiveTheSameSumsWhereverTheyStart() {
        int saved = GemmPacked.bPad;
        try {
            for (int pad : new int[] {0, 5, 12, GemmPacked.PAD_SLACK - 1}) {
                GemmPacked.bPad = pad;
                packedSumsAreBlockedFmaChains();
                transposedOutputKeepsTheChains();
            }
        } finally {
            GemmPacked.bPad = saved;
        }
    }

    private void packedSumsAreBlockedFmaChains() {
        int kc = GemmPacked.KC;
        int deepK = 2 * GemmPacked.WHOLE_K + 5, deepM = 2 * (GemmPacked.REREAD_A / deepK) + 2 * GemmPacked.MR + 5;
        assertTrue(deepK <= GemmPacked.DEEP_K && (long) (deepM / 2) * deepK > GemmPacked.REREAD_A);
        int[][] shapes = {
                {GemmPacked.WHOLE_K_MC * 2 + 7, GemmPacked.WHOLE_K_NC + GemmPacked.NR + 9, 2 * kc + 5},
                {GemmPacked.WHOLE_K_MC + 1, 2 * GemmPacked.WHOLE_K_NC, GemmPacked.WHOLE_K},
                {101, GemmPacked.MIN_NC * 3 + 17, 3 * GemmPacked.WHOLE_K / 2 + 3},
                {deepM, 2 * GemmPacked.NR + 3, deepK}};
        for (int[] s : shapes) {
            int M = s[0], N = s[1], K = s[2];
            for (boolean tA : new boolean[] {false, true}) {
                for (boolean tB : new boolean[] {false, true}) {
                    boolean acc = tA ^ tB;
                    Random rnd = new Random(M * 31 + N + K);
                    Stored a = tA ? stored(rnd, K, M, 3, 1, 0.5f, 1f) : stored(rnd, M, K, 3, 1, 0.5f, 1f);
                    Stored b = tB ? stored(rnd, N, K, 1, 2, 0.5f, 1f) : stored(rnd, K, N, 1, 2, 0.5f, 1f);
                    Stored c = stored(rnd, M, N, 2, 0, 0.5f, 1f);
                    float[] want = c.data().clone();
                    for (int i = 0; i < M; i++) {
                        for (int j = 0; j < N; j++) {
                            int ci = c.off() + i * c.ld() + j;
                            for (int pc = 0; pc < K; pc += kc) {
                                float sum = 0f;
                                for (int k = pc; k < Math.min(K, pc + kc); k++) {
                                    sum = Math.fma((float) opA(a, tA, i, k), (float) opA(b, tB, k, j), sum);
                                }
                                want[ci] = pc == 0 && !acc ? sum : want[ci] + sum;
                            }
                        }
                    }
                    for (int threads : new int[] {1, 2}) {
                        Parallel.setThreads(threads);
                        float[] got = c.data().clone();
                        Gemm.gemm(tA, tB, M, N, K, a.data(), a.off(), a.ld(), b.data(), b.off(), b.ld(),
                                got, c.off(), c.ld(), acc);
                        assertArrayEquals(want, got, Arrays.toString(s) + " tA=" + tA + " tB=" + tB
                                + " threads=" + threads);
                    }
                }
            }
        }
    }

    /**
     * The micro-kernel for each way it reads A: rows in place (k stride 1), columns in place (row stride 1) and a
     * packed panel (row stride 1, k stride MR), at every width: each element of C gains one chain of fused
     * multiply-adds from zero over k in order, or is set to 0 + it (reading nothing of C; +0 where the chain ends at
     * −0, as adding it to a zeroed tile gave). A reaches to the end of its array, so a bound the kernel checked
     * once for the loop instead of per step would fail here if it were one too tight. Both strides other than 1
     * are refused.
     */
    @Test
    void microKernelReadsARowsColumnsOrPackedAsOneChain() {
        int mr = GemmPacked.MR, nr = GemmPacked.NR, kc = 37;
        Random rnd = new Random(7);
        float[] bp = random(rnd, kc * nr);
        int[][] strides = {{kc + 3, 1}, {1, mr + 5}, {1, mr}};   // {A's row stride, its k stride}
        for (int[] s : strides) {
            int ars = s[0], aks = s[1], ao = 2;
            float[] a = random(rnd, ao + (mr - 1) * ars + (kc - 1) * aks + 1);
            for (int nv = 1; nv <= nr / Simd.LANES; nv++) {
                for (boolean add : new boolean[] {true, false}) {
                    int width = nv * Simd.LANES, ldc = nr + 3;
                    float[] c = random(rnd, mr * ldc);
                    if (!add) {
                        Arrays.fill(c, Float.NaN);   // setting C reads none of it
                    }
                    float[] want = c.clone();
                    for (int r = 0; r < mr; r++) {
                        for (int j = 0; j < width; j++) {
                            float sum = 0f;
                            for (int k = 0; k < kc; k++) {
                                sum = Math.fma(a[ao + r * ars + k * aks], bp[k * nr + j], sum);
                            }
                            want[r * ldc + j] = (add ? want[r * ldc + j] : 0f) + sum;
                        }
                    }
                    GemmPacked.kernel(nv, kc, a, ao, ars, aks, bp, 0, c, 0, ldc, add);
                    assertArrayEquals(want, c, "strides " + Arrays.toString(s) + ", " + nv + " vectors, add " + add);
                }
            }
        }
        // Products that underflow below zero end each chain at −0: set, C is 0 + that, +0, as on a zeroed tile.
        float[] tiny = new float[mr * kc], negTiny = new float[kc * nr], c = new float[mr * nr];
        Arrays.fill(tiny, 1e-30f);
        Arrays.fill(negTiny, -1e-30f);
        for (int nv = 1; nv <= nr / Simd.LANES; nv++) {
            Arrays.fill(c, Float.NaN);
            GemmPacked.kernel(nv, kc, tiny, 0, kc, 1, negTiny, 0, c, 0, nr, false);
            for (int r = 0; r < mr; r++) {
                for (int j = 0; j < nv * Simd.LANES; j++) {
                    assertEquals(0, Float.floatToRawIntBits(c[r * nr + j]), nv + " vectors: +0, not −0");
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmPacked.kernel(4, kc, new float[1000], 0, 3, 2, bp, 0, new float[mr * nr], 0, nr, true));
        assertTrue(e.getMessage().contains("strides") && e.getMessage().contains("3, 2"), e.getMessage());
    }

    /**
     * A Linear forward X·Wᵀ with M a multiple of NR and N ≥ 2M is made as Cᵀ = W·Xᵀ, transposed into C: the same
     * blocked fma chains as the ordinary path, onto C or zero, then the bias, then the epilogue (given each element's
     * row and column), on one and two threads. N leaves partial six-row panels of W and partial 16-column
     * transposes, and crosses pieces of rows; K is one, several and a partial KC block. Both orders of the tiles.
     */
    @Test
    void transposedOutputKeepsTheChainsBiasAndEpilogue() {
        boolean saved = GemmPacked.transposedBInL1;
        try {
            for (boolean bInL1 : new boolean[] {true, false}) {
                GemmPacked.transposedBInL1 = bInL1;
                transposedOutputKeepsTheChains();
            }
        } finally {
            GemmPacked.transposedBInL1 = saved;
        }
    }

    private void transposedOutputKeepsTheChains() {
        int kc = GemmPacked.KC, nr = GemmPacked.NR;
        int[][] shapes = {{2 * nr, 2 * GemmPacked.TRANSPOSED_ROWS + 141, 2 * kc + 5}, {3 * nr, 6 * nr + 7, kc},
                {nr, 2 * nr, 7}};
        for (int[] s : shapes) {
            int M = s[0], N = s[1], K = s[2];
            assertTrue(GemmPacked.transposedOut(false, true, M, N, false) && (long) N * K < Gemm.STREAM_WEIGHTS,
                    Arrays.toString(s));
            Random rnd = new Random(N + K);
            float[] x = new float[M * K], w = new float[N * K], bias = new float[N];
            for (float[] v : new float[][] {x, w, bias}) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = rnd.nextFloat() - 0.5f;
                }
            }
            float[] want = new float[M * N], wantBiased = new float[M * N];
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    float v = 0f;
                    for (int pc = 0; pc < K; pc += kc) {
                        float sum = 0f;
                        for (int k = pc; k < Math.min(K, pc + kc); k++) {
                            sum = Math.fma(w[j * K + k], x[i * K + k], sum);
                        }
                        v += sum;
                    }
                    wantBiased[i * N + j] = v + bias[j];
                    want[i * N + j] = (v + bias[j]) * 0.5f + i - 0.25f * j;
                }
            }
            GemmPacked.Epilogue epilogue = (c, ci, ldc, row, col, rows, cols) -> {
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < cols; j++) {
                        c[ci + r * ldc + j] = (c[ci + r * ldc + j] + bias[col + j]) * 0.5f + (row + r) - 0.25f * (col + j);
                    }
                }
            };
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                float[] got = new float[M * N];
                Arrays.fill(got, SENTINEL);
                Gemm.linearForwardThen(got, x, w, bias, M, K, N, epilogue);
                assertArrayEquals(want, got, Arrays.toString(s) + " threads=" + threads);
                Arrays.fill(got, SENTINEL);
                Gemm.linearForward(got, x, w, bias, M, K, N);
                assertArrayEquals(wantBiased, got, Arrays.toString(s) + " bias, threads=" + threads);
            }
            // X·Wᵀ added to C or setting it; an untransposed W takes the ordinary path.
            float[] c0 = new float[M * N];
            for (int i = 0; i < c0.length; i++) {
                c0[i] = rnd.nextFloat() - 0.5f;
            }
            for (boolean tB : new boolean[] {true, false}) {
                assertEquals(tB, GemmPacked.transposedOut(false, tB, M, N, true));
                for (boolean acc : new boolean[] {false, true}) {
                    for (int i = 0; i < M; i++) {
                        for (int j = 0; j < N; j++) {
                            float v = acc ? c0[i * N + j] : 0f;
                            for (int pc = 0; pc < K; pc += kc) {
                                float sum = 0f;
                                for (int k = pc; k < Math.min(K, pc + kc); k++) {
                                    sum = Math.fma(tB ? w[j * K + k] : w[k * N + j], x[i * K + k], sum);
                                }
                                v = pc == 0 && !acc ? sum : v + sum;
                            }
                            want[i * N + j] = v;
                        }
                    }
                    for (int threads : new int[] {1, 2}) {
                        Parallel.setThreads(threads);
                        float[] got = acc ? c0.clone() : new float[M * N];
                        if (!acc) {
                            Arrays.fill(got, SENTINEL);
                        }
                        Gemm.gemm(false, tB, M, N, K, x, 0, K, w, 0, tB ? K : N, got, 0, N, acc);
                        assertArrayEquals(want, got, Arrays.toString(s) + " tB=" + tB + " acc=" + acc
                                + " threads=" + threads);
                    }
                }
            }
        }
    }

    /**
     * Few rows times a large transposed W (a prompt through a Linear layer) stream W in place: odd row
     * counts (part of, one, and more than one NR-column panel of xᵀ), W rows that leave a partial six-row panel, K
     * crossing the streaming depth, both layouts of A, accumulate or not, and the same bits on one and two
     * threads.
     */
    @Test
    void fewRowsStreamingLargeWeights() {
        Random rnd = new Random(8);
        int K = GemmPacked.STREAM_KC + 37, N = (int) (Gemm.STREAM_WEIGHTS / K) + 5;
        assertTrue((long) N * K >= Gemm.STREAM_WEIGHTS && N % GemmPacked.MR != 0);
        for (int M : new int[] {2, 17, GemmPacked.NR, GemmPacked.NR + 3, Gemm.STREAM_ROWS}) {
            for (boolean tA : new boolean[] {false, true}) {
                Parallel.setThreads(1);
                float[] one = check(new Random(M), tA, true, M, N, K, 1, 2, tA, 0.5f, 1f);
                Parallel.setThreads(2);
                float[] two = check(new Random(M), tA, true, M, N, K, 1, 2, tA, 0.5f, 1f);
                assertArrayEquals(one, two, "M=" + M + " tA=" + tA);
            }
        }
        check(rnd, false, true, 3, 1 << 10, 1 << 10, 0, 0, false, 1e3f, 1e4f);
    }

    @Test
    void largeMagnitudesStayWithinRelativeBound() {
        Random rnd = new Random(4);
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                check(rnd, tA, tB, 37, 71, 300, 1, 1, false, 1e3f, 1e4f);
                check(rnd, tA, tB, 1, 71, 300, 1, 1, true, 1e3f, 1e4f);
                check(rnd, tA, tB, 37, 1, 300, 1, 1, true, 1e3f, 1e4f);
            }
        }
    }

    @Test
    void zeroDepthClearsOrKeepsC() {
        float[] a = new float[4], b = new float[4];
        float[] c = {1, 2, 3, 4, 5, 6};
        Gemm.gemm(false, false, 2, 2, 0, a, 0, 1, b, 0, 2, c, 1, 3, true);
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, c);
        Gemm.gemm(true, true, 2, 2, 0, a, 0, 2, b, 0, 1, c, 1, 3, false);
        assertArrayEquals(new float[]{1, 0, 0, 4, 0, 0}, c);
    }

    @Test
    void emptyOutputIsANoOp() {
        float[] c = {7};
        Gemm.gemm(false, false, 0, 5, 3, new float[0], 0, 3, new float[15], 0, 5, c, 0, 5, false);
        Gemm.gemm(false, false, 5, 0, 3, new float[15], 0, 3, new float[0], 0, 1, c, 0, 1, false);
        assertEquals(7f, c[0]);
    }

    /** Each element is computed by one thread with the same k order, so the thread count cannot change bits. */
    @Test
    void resultIndependentOfThreadCount() {
        int[][] shapes = {{200, 150, 90}, {12, 700, 64}, {1, 3000, 64}, {3000, 1, 64}, {300, 2, 300}};
        for (int[] s : shapes) {
            for (boolean tA : new boolean[]{false, true}) {
                for (boolean tB : new boolean[]{false, true}) {
                    Parallel.setThreads(1);
                    float[] one = check(new Random(5), tA, tB, s[0], s[1], s[2], 0, 0, false, 0.5f, 1f);
                    Parallel.setThreads(2);
                    float[] two = check(new Random(5), tA, tB, s[0], s[1], s[2], 0, 0, false, 0.5f, 1f);
                    assertArrayEquals(one, two, Arrays.toString(s) + " tA=" + tA + " tB=" + tB);
                }
            }
        }
    }

    @Test
    void badShapesThrowNamingGemmAndShapes() {
        float[] small = new float[10], big = new float[100];
        IllegalArgumentException e;
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 5, 3, small, 0, 3, big, 0, 5, big, 0, 5, false));
        assertMessage(e, "M=4", "N=5", "K=3");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, true, 4, 5, 3, big, 0, 2, big, 0, 3, big, 0, 5, false));
        assertMessage(e, "leading dimension", "M=4");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, -1, 5, 3, big, 0, 3, big, 0, 5, big, 0, 5, false));
        assertMessage(e, "M=-1");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 5, 3, big, 95, 3, big, 0, 5, big, 0, 5, false));
        assertMessage(e, "offset 95", "K=3");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 5, 3, big, 0, 3, null, 0, 5, big, 0, 5, false));
        assertMessage(e, "B is null", "N=5");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 5, 3, big, 0, 3, big, 0, 5, small, 0, 5, false));
        assertMessage(e, "C", "M=4");
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linearForward(new float[6], new float[6], new float[5], null, 2, 3, 2));
        assertTrue(e.getMessage().contains("linearForward") && e.getMessage().contains("w"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linearBackward(new float[5], null, null, new float[4], new float[6], new float[6], 2, 3, 2));
        assertTrue(e.getMessage().contains("linearBackward") && e.getMessage().contains("dx"), e.getMessage());
    }

    private static void assertMessage(IllegalArgumentException e, String... parts) {
        assertTrue(e.getMessage().startsWith("gemm"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    /** n Gaussian floats (also MatvecRowsTest's). */
    static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @Test
    void linearForwardAndBackwardMatchReference() {
        Random rnd = new Random(6);
        // The last shape is large enough for dx and dW to run side by side on two threads.
        int[][] shapes = {{1, 33, 70}, {19, 40, 65}, {64, 128, 96}, {200, 100, 70}};
        for (int[] s : shapes) {
            int M = s[0], K = s[1], N = s[2];
            float[] x = random(rnd, M * K), w = random(rnd, N * K), bias = random(rnd, N), dy = random(rnd, M * N);
            float[] out = new float[M * N];
            Gemm.linearForward(out, x, w, bias, M, K, N);
            float[] outNoBias = new float[M * N];
            Gemm.linearForward(outNoBias, x, w, null, M, K, N);
            // With a residual added in the tiles: out + residual exactly, as a pass after would give.
            float[] residual = random(rnd, M * N), plus = new float[M * N];
            Gemm.linearForwardPlus(plus, x, w, bias, residual, M, K, N);
            float[] plusNoBias = new float[M * N];
            Gemm.linearForwardPlus(plusNoBias, x, w, null, residual, M, K, N);
            for (int i = 0; i < plus.length; i++) {
                assertEquals(out[i] + residual[i], plus[i], 0f, "forward plus residual");
                assertEquals(outNoBias[i] + residual[i], plusNoBias[i], 0f, "forward plus residual, no bias");
            }
            float[] dx = random(rnd, M * K), dw = random(rnd, N * K), db = random(rnd, N);
            float[] dx0 = dx.clone(), dw0 = dw.clone(), db0 = db.clone();
            Gemm.linearBackward(dx, dw, db, dy, x, w, M, K, N);
            for (int i = 0; i < M; i++) {
                for (int n = 0; n < N; n++) {
                    double y = 0;
                    for (int k = 0; k < K; k++) {
                        y += (double) x[i * K + k] * w[n * K + k];
                    }
                    assertEquals(y + bias[n], out[i * N + n], 1e-4, "forward");
                    assertEquals(y, outNoBias[i * N + n], 1e-4, "forward without bias");
                }
                for (int k = 0; k < K; k++) {
                    double g = dx0[i * K + k];
                    for (int n = 0; n < N; n++) {
                        g += (double) dy[i * N + n] * w[n * K + k];
                    }
                    assertEquals(g, dx[i * K + k], 1e-4, "dx");
                }
            }
            for (int n = 0; n < N; n++) {
                double gb = db0[n];
                for (int i = 0; i < M; i++) {
                    gb += dy[i * N + n];
                }
                assertEquals(gb, db[n], 1e-4, "dbias");
                for (int k = 0; k < K; k++) {
                    double g = dw0[n * K + k];
                    for (int i = 0; i < M; i++) {
                        g += (double) dy[i * N + n] * x[i * K + k];
                    }
                    assertEquals(g, dw[n * K + k], 1e-4, "dw");
                }
            }
            // Null gradients are skipped, the others still accumulate.
            float[] dw2 = new float[N * K];
            Gemm.linearBackward(null, dw2, null, dy, x, w, M, K, N);
            for (int i = 0; i < dw2.length; i++) {
                assertEquals(dw[i] - dw0[i], dw2[i], 1e-4, "dw alone");
            }
        }
    }

    /**
     * dW SET (a weight gradient zeroed lazily, its array holding old values) is bit for bit dW added to zeros, on
     * every path (tiny, matrix-vector, packed with edge tiles, whole-K, dx and dW side by side) and both thread
     * counts, also where dy is zero and the products are −0: a set that gave −0 where 0 + (−0) gives +0 would fail.
     */
    @Test
    void linearBackwardSettingDwGivesTheBitsOfAddingToZeros() {
        Random rnd = new Random(9);
        int[][] shapes = {{1, 33, 70}, {3, 1, 5}, {4, 7, 1}, {19, 40, 65}, {200, 100, 70}, {256, 200, 400}};
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (int[] s : shapes) {
                int M = s[0], K = s[1], N = s[2];
                for (boolean zeroDy : new boolean[] {false, true}) {
                    float[] x = random(rnd, M * K), w = random(rnd, N * K);
                    float[] dy = zeroDy ? new float[M * N] : random(rnd, M * N);
                    float[] dxAdd = random(rnd, M * K), dxSet = dxAdd.clone(), db = random(rnd, N), db2 = db.clone();
                    float[] added = new float[N * K], set = random(rnd, N * K);
                    Gemm.linearBackward(dxAdd, true, added, true, db, dy, x, w, M, K, N);
                    Gemm.linearBackward(dxSet, true, set, false, db2, dy, x, w, M, K, N);
                    String at = Arrays.toString(s) + (zeroDy ? " dy = 0" : "") + ", " + threads + " threads";
                    for (int i = 0; i < set.length; i++) {
                        assertEquals(Float.floatToRawIntBits(added[i]), Float.floatToRawIntBits(set[i]), "dW[" + i + "] of " + at);
                    }
                    assertArrayEquals(dxAdd, dxSet, "dx of " + at);
                    assertArrayEquals(db, db2, "db of " + at);
                }
            }
        }
    }

    /**
     * dbias is dy's rows added onto it in order, exactly: the columns in strips of eight vectors, one vector and single
     * floats; the rows split between threads (or not) on one, two and three threads.
     */
    @Test
    void biasGradientAddsTheRowsInOrder() {
        Random rnd = new Random(9);
        int lanes = Simd.LANES;
        int[][] shapes = {{768, 128, 384}, {768, 64, 2 * 8 * lanes + lanes + 5}, {203, 97, 8 * lanes + 3}, {7, 40, 3},
                {100, 128, 8 * lanes}};
        for (int[] s : shapes) {
            int M = s[0], K = s[1], N = s[2];
            float[] x = random(rnd, M * K), w = random(rnd, N * K), dy = random(rnd, M * N), db0 = random(rnd, N);
            float[] want = db0.clone();
            for (int i = 0; i < M; i++) {
                for (int n = 0; n < N; n++) {
                    want[n] += dy[i * N + n];
                }
            }
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                float[] db = db0.clone();
                Gemm.linearBackward(new float[M * K], new float[N * K], db, dy, x, w, M, K, N);
                KernelTesting.assertBitEqual("dbias of " + Arrays.toString(s) + " on " + threads + " threads", want, db);
            }
        }
    }

    /**
     * On two threads linearBackward makes dx, dW and dbias in one fork-join: small products each thread on its half of
     * the rows (dW's sum passed from one to the other), larger ones (and any on three threads) in pieces the threads
     * claim; on one, in turn. Each element is still one sum in one order: the same bits (baby's shapes, the LM head's,
     * odd ones; rows split 384 | 384, 384 | 256, 128 | 75, 128 | 1, 0 | 100, 128 | 0; dW's columns in two chains of
     * 64 | 64, 256 | 256, 64 | 33, 64 | 32, 64 | 128, or one of 64; one shape above the limit).
     */
    @Test
    void linearBackwardSameBitsOnOneTwoAndThreeThreads() {
        Random rnd = new Random(8);
        int[][] shapes = {{768, 128, 384}, {768, 512, 128}, {768, 128, 65}, {640, 128, 128}, {203, 97, 71},
                {129, 96, 100}, {100, 128, 96}, {128, 128, 128}, {768, 64, 128}, {512, 192, 96}, {1024, 384, 384}};
        assertTrue(2.0 * 1024 * 384 * 384 > Gemm.HALVES_BACKWARD_FLOPS && 2.0 * 768 * 512 * 128 <= Gemm.HALVES_BACKWARD_FLOPS);
        for (int[] s : shapes) {
            int M = s[0], K = s[1], N = s[2];
            float[] x = random(rnd, M * K), w = random(rnd, N * K), dy = random(rnd, M * N);
            float[] dx0 = random(rnd, M * K), dw0 = random(rnd, N * K), db0 = random(rnd, N);
            float[][] out = new float[3][];
            for (int threads = 1; threads <= 3; threads++) {
                Parallel.setThreads(threads);
                float[] dx = dx0.clone(), dw = dw0.clone(), db = db0.clone();
                Gemm.linearBackward(dx, dw, db, dy, x, w, M, K, N);
                float[] all = new float[dx.length + dw.length + db.length];
                System.arraycopy(dx, 0, all, 0, dx.length);
                System.arraycopy(dw, 0, all, dx.length, dw.length);
                System.arraycopy(db, 0, all, dx.length + dw.length, db.length);
                out[threads - 1] = all;
            }
            assertArrayEquals(out[0], out[1], "dx | dW | db of " + Arrays.toString(s) + " on 2 threads");
            assertArrayEquals(out[0], out[2], "dx | dW | db of " + Arrays.toString(s) + " on 3 threads");
        }
    }

    @Test
    void matvecMatchesLinearForwardRow() {
        Random rnd = new Random(7);
        int K = 77, N = 131;
        float[] x = random(rnd, K + 3), w = random(rnd, N * K + 2), y = new float[N + 4];
        Gemm.matvec(y, 4, w, 2, x, 3, N, K, false);
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                s += (double) x[3 + k] * w[2 + n * K + k];
            }
            assertEquals(s, y[4 + n], 1e-4);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(0f, y[i]);
        }
    }
}
