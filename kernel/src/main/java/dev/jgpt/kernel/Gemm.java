package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

/**
 * Single-precision matrix multiply, row-major with leading dimensions:
 * {@code C[M×N] = (accumulate ? C : 0) + op(A)·op(B)}, op(X) = X or Xᵀ.
 * The three transformer layouts are thin wrappers: {@link #linearForward} (y = x·Wᵀ + b),
 * and {@link #linearBackward} (dX += dY·W, dW += dYᵀ·X, db += Σ dY).
 *
 * <p>Four paths, chosen by shape: a packed, cache-blocked SIMD kernel ({@link GemmPacked}) for
 * everything of real size; matrix-vector ({@link GemmVec}) when M or N is 1, which is memory-bound
 * (decode at inference); a few rows times large weights, the same kernel with the weights read in place
 * instead of packed ({@link GemmPacked#streamWeights}: a prompt at inference); and a plain loop for tiny
 * problems where packing would cost more than it saves.
 */
public final class Gemm {
    /** Below this many multiply-adds the plain loop wins: packing and dispatch cost more than the work. */
    static final long TINY = 4096;
    /**
     * Products of at most this many rows by a transposed B of at least {@link #STREAM_WEIGHTS} elements (a
     * prompt through a Linear layer) stream B in place ({@link GemmPacked#streamWeights}).
     */
    static final int STREAM_ROWS = 2 * GemmPacked.NR;
    /** 4 MB of weights, which come from memory on every call: packing them would cost as much as using them. */
    static final long STREAM_WEIGHTS = 1 << 20;
    /**
     * On two threads, {@link #linearBackward}'s dx and dW of at most this many FLOPs each (the baby preset's are
     * 13-101 MFLOP) are made by each thread on its own half of the rows ({@link #backwardInHalves}). Cut into pieces
     * both threads claim, each packs or reads what the other wrote in the same call: on two CCDs a baby step spent
     * 12% more (see that method). Larger products (GPT-2's from 0.3 GFLOP, shakespeare-char's 5-10) do not gain:
     * GPT-2's step took 1.08x as long in halves. {@code -Djgpt.gemm.halvesbackward=false} turns it off (A/B timing).
     */
    static final double HALVES_BACKWARD_FLOPS =
            "false".equals(System.getProperty("jgpt.gemm.halvesbackward")) ? 0 : 2.5e8;

    private Gemm() {}

    /** Columns of one packed panel of B for {@link #multiplyPackedPanel}: the packed kernel's tile width. */
    public static final int PACKED_PANEL = GemmPacked.NR;

    /**
     * C[n × nr] = A[n × K]·B on the calling thread with the packed kernel, for B [K × nr] (nr ≤ {@link #PACKED_PANEL})
     * packed by the caller, bp[k·PACKED_PANEL + j] with zeros for nr ≤ j, and A row-major in place (row stride lda):
     * for weights packed from elsewhere (a transposed matrix read in place from a mapped file). Each C[i, j] is, per
     * block of kc values of k from 0, the chain of fused multiply-adds B[k, j]·A[i, k] over its k in order from 0, the
     * blocks' sums added in order from 0 onto 0: the same bits whatever else C holds or which thread runs it.
     */
    public static void multiplyPackedPanel(int n, int K, int kc, float[] a, int aOff, int lda, float[] bp, int nr,
                                           float[] c, int cOff, int ldc) {
        if (n < 0 || K < 1 || kc < 1 || nr < 1 || nr > PACKED_PANEL || lda < K || ldc < nr
                || bp.length < (long) K * PACKED_PANEL) {
            throw new IllegalArgumentException("multiplyPackedPanel: n = " + n + ", K = " + K + ", kc = " + kc
                    + ", nr = " + nr + ", lda = " + lda + ", ldc = " + ldc + ", panel of " + bp.length + " floats");
        }
        if (n > 0) {
            Checks.gemmShapes("multiplyPackedPanel", false, false, n, nr, K, a, aOff, lda, bp, 0, PACKED_PANEL,
                    c, cOff, ldc);
            GemmPacked.panelProduct(n, K, kc, a, aOff, lda, bp, nr, c, cOff, ldc);
        }
    }

    public static void gemm(boolean transA, boolean transB, int M, int N, int K,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, null, null);
    }

    /**
     * {@link #gemm}, then C[i, j] += bias[j] (bias null: none), then the epilogue on C (null: none). The
     * packed path does both tile by tile, the others in a pass over C after.
     */
    private static void gemm(boolean transA, boolean transB, int M, int N, int K,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate, float[] bias,
                             GemmPacked.Epilogue epilogue) {
        if (a == null || b == null || c == null) {
            throw new IllegalArgumentException("gemm: " + (a == null ? "A" : b == null ? "B" : "C")
                    + " is null (M=" + M + " N=" + N + " K=" + K + ")");
        }
        Checks.gemmShapes("gemm", transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (M == 0 || N == 0) {
            return;
        }
        if (K == 0) {
            // An empty sum: C = 0, or unchanged when accumulating.
            if (!accumulate) {
                for (int i = 0; i < M; i++) {
                    java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + N, 0f);
                }
            }
            addBias(c, cOff, ldc, M, N, bias);
            applyEpilogue(c, cOff, ldc, M, N, epilogue);
            return;
        }
        if (M == 1) {
            // c[0, j] = Σ_k A(0,k)·B(k,j): the rows of op(B)ᵀ dotted with one vector.
            GemmVec.matvec(N, K, b, bOff, transB ? ldb : 1, transB ? 1 : ldb,
                    a, aOff, transA ? lda : 1, c, cOff, 1, accumulate);
        } else if (N == 1) {
            // c[i, 0] = Σ_k A(i,k)·B(k,0).
            GemmVec.matvec(M, K, a, aOff, transA ? 1 : lda, transA ? lda : 1,
                    b, bOff, transB ? 1 : ldb, c, cOff, ldc, accumulate);
        } else if (transB && M <= STREAM_ROWS && (long) N * K >= STREAM_WEIGHTS) {
            GemmPacked.streamWeights(transA, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate,
                    Parallel.threads());
        } else if (!packed(M, N, K)) {
            naive(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        } else {
            GemmPacked.product(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias,
                    epilogue, Parallel.threads()).run();
            return;
        }
        addBias(c, cOff, ldc, M, N, bias);
        applyEpilogue(c, cOff, ldc, M, N, epilogue);
    }

    /** Whether a product of this shape takes the packed path (the others are matrix-vector or tiny). */
    private static boolean packed(int M, int N, int K) {
        return M > 1 && N > 1 && K > 0 && (long) M * N * K > TINY;
    }

    /** The epilogue on all of C at once (the paths that do not go tile by tile). */
    private static void applyEpilogue(float[] c, int cOff, int ldc, int M, int N, GemmPacked.Epilogue epilogue) {
        if (epilogue != null) {
            epilogue.apply(c, cOff, ldc, 0, 0, M, N);
        }
    }

    private static void addBias(float[] c, int cOff, int ldc, int M, int N, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < M; i++) {
                Vec.add(c, cOff + i * ldc, bias, 0, N);
            }
        }
    }

    /**
     * y[N] = (accumulate ? y : 0) + W[N×K]·x[K]: one row of {@link #linearForward} without the bias
     * (decode at inference). Same as {@code gemm(false, true, 1, N, K, x, xOff, K, w, wOff, K, y, yOff, N, accumulate)}.
     */
    public static void matvec(float[] y, int yOff, float[] w, int wOff, float[] x, int xOff, int N, int K,
                              boolean accumulate) {
        gemm(false, true, 1, N, K, x, xOff, K, w, wOff, K, y, yOff, N, accumulate);
    }

    /** The reference loop: used for tiny problems, where it is the fastest path. */
    static void naive(boolean transA, boolean transB, int M, int N, int K,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                float s = 0f;
                for (int k = 0; k < K; k++) {
                    float av = transA ? a[aOff + k * lda + i] : a[aOff + i * lda + k];
                    float bv = transB ? b[bOff + j * ldb + k] : b[bOff + k * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /** out[M×N] = x[M×K]·w[N×K]ᵀ + bias[N] (bias may be null). PyTorch Linear layout. */
    public static void linearForward(float[] out, float[] x, float[] w, float[] bias, int M, int K, int N) {
        linearForward(out, x, w, bias, M, K, N, null);
    }

    /**
     * out = residual + x·wᵀ + bias (residual [M×N]; a residual connection around a linear layer), the bias and
     * the residual added to each block of the product once it is final, in one pass: the same sums as passes after.
     */
    public static void linearForwardPlus(float[] out, float[] x, float[] w, float[] bias, float[] residual,
                                         int M, int K, int N) {
        Checks.length("linearForwardPlus", "residual", residual, (long) M * N);
        linearForwardThen(out, x, w, bias, M, K, N, (c, ci, ldc, row, col, rows, cols) -> {
            for (int r = 0; r < rows; r++) {
                int o = ci + r * ldc, ro = (row + r) * N + col;
                int j = 0;
                for (int ub = Simd.F.loopBound(cols); j < ub; j += Simd.LANES) {
                    plusBias(FloatVector.fromArray(Simd.F, c, o + j), bias, col + j)
                            .add(FloatVector.fromArray(Simd.F, residual, ro + j)).intoArray(c, o + j);
                }
                for (; j < cols; j++) {
                    c[o + j] = (bias == null ? c[o + j] : c[o + j] + bias[col + j]) + residual[ro + j];
                }
            }
        });
    }

    /**
     * out = x·wᵀ, then the epilogue on each finished block of out (a fused element-wise function), which adds the
     * bias (checked here; null: none) first ({@link #plusBias}): one pass over the block instead of two.
     */
    static void linearForwardThen(float[] out, float[] x, float[] w, float[] bias, int M, int K, int N,
                                  GemmPacked.Epilogue epilogue) {
        if (bias != null) {
            Checks.length("linearForward", "bias", bias, N);
        }
        linearForward(out, x, w, null, M, K, N, epilogue);
    }

    private static void linearForward(float[] out, float[] x, float[] w, float[] bias, int M, int K, int N,
                                      GemmPacked.Epilogue epilogue) {
        Checks.length("linearForward", "x", x, (long) M * K);
        Checks.length("linearForward", "w", w, (long) N * K);
        Checks.length("linearForward", "out", out, (long) M * N);
        if (bias != null) {
            Checks.length("linearForward", "bias", bias, N);
        }
        gemm(false, true, M, N, K, x, 0, K, w, 0, K, out, 0, N, false, bias, epilogue);
    }

    /** v + bias[j..] (bias null: v), an epilogue's first step: the value the GEMM's own bias pass would have left. */
    static FloatVector plusBias(FloatVector v, float[] bias, int j) {
        return bias == null ? v : v.add(FloatVector.fromArray(Simd.F, bias, j));
    }

    /**
     * out[outOff + m·N ..] = x[xOff + m·K ..]·wᵀ + bias for m &lt; M: like {@link #linearForward}, but every
     * row is computed exactly as it would be alone (M = 1, bit for bit), in one pass over w for all rows.
     * For inference on rows of different sequences (batched decoding): a sequence's result does not
     * depend on which others share the pass.
     */
    public static void linearRows(float[] out, int outOff, float[] x, int xOff, float[] w, float[] bias,
                                  int M, int K, int N) {
        String op = "linearRows(M=" + M + ", K=" + K + ", N=" + N + ")";
        Checks.nonNegative(op, "M", M);
        Checks.positive(op, "K, N", K, N);
        Checks.nonNegative(op, "xOff", xOff);
        Checks.nonNegative(op, "outOff", outOff);
        Checks.length(op, "x", x, xOff + (long) M * K);
        Checks.length(op, "w", w, (long) N * K);
        Checks.length(op, "out", out, outOff + (long) M * N);
        if (bias != null) {
            Checks.length(op, "bias", bias, N);
        }
        GemmVec.matvecRows(N, K, w, 0, x, xOff, K, M, out, outOff, N);
        if (bias != null) {
            for (int i = 0; i < M; i++) {
                Vec.add(out, outOff + i * N, bias, 0, N);
            }
        }
    }

    /**
     * Backward of {@link #linearForward}, accumulating: dx += dy·w, dw += dyᵀ·x, dbias += Σ rows of dy.
     * Any of dx, dw, dbias may be null to skip it.
     */
    public static void linearBackward(float[] dx, float[] dw, float[] dbias, float[] dy, float[] x, float[] w,
                                      int M, int K, int N) {
        linearBackward(dx, true, null, dw, true, dbias, dy, x, w, M, K, N);
    }

    /**
     * {@link #linearBackward} with dx and dw each added to or SET (old contents ignored; a weight gradient not yet
     * written since it was zeroed), dbias added to. Set gives the same bits as adding to zeros: every path sums from
     * +0 (the packed kernel adds its tile to C, zeroed first), and such a sum is never −0, so 0 + sum = sum.
     */
    public static void linearBackward(float[] dx, boolean accumulateDx, float[] dw, boolean accumulateDw,
                                      float[] dbias, float[] dy, float[] x, float[] w, int M, int K, int N) {
        linearBackward(dx, accumulateDx, null, dw, accumulateDw, dbias, dy, x, w, M, K, N);
    }

    /**
     * {@link #linearBackward} with dx = dy·w overwritten instead if {@code !accumulateDx}, dw = dyᵀ·x if
     * {@code !accumulateDw}, and the epilogue applied to each finished block of dx (null: none).
     *
     * <p>dx, dw and dbias are independent, so with two or more threads they share one fork-join: on two threads
     * and small products ({@link #HALVES_BACKWARD_FLOPS}) each thread takes its half of the rows; otherwise the
     * threads claim pieces of dx, of dw and slices of dbias's columns as they finish the last, one barrier instead of
     * three. How a product is cut does not change its sums, so the result is the same as one after the other.
     */
    static void linearBackward(float[] dx, boolean accumulateDx, GemmPacked.Epilogue dxEpilogue, float[] dw,
                               boolean accumulateDw, float[] dbias, float[] dy, float[] x, float[] w, int M, int K,
                               int N) {
        Checks.length("linearBackward", "dy", dy, (long) M * N);
        if (dx != null) {
            Checks.length("linearBackward", "w", w, (long) N * K);
            Checks.length("linearBackward", "dx", dx, (long) M * K);
        }
        if (dw != null) {
            Checks.length("linearBackward", "x", x, (long) M * K);
            Checks.length("linearBackward", "dw", dw, (long) N * K);
        }
        if (dbias != null) {
            Checks.length("linearBackward", "dbias", dbias, N);
        }
        int threads = Parallel.threads();
        double flops = 2.0 * M * N * K;   // of each of the two products
        if (dx != null && dw != null && threads > 1 && packed(M, K, N) && packed(N, K, M)
                && flops >= GemmPacked.PARALLEL_FLOPS) {
            if (threads == 2 && flops <= HALVES_BACKWARD_FLOPS) {
                backwardInHalves(dx, accumulateDx, dxEpilogue, dw, accumulateDw, dbias, dy, x, w, M, K, N);
                return;
            }
            GemmPacked.Product pdx = GemmPacked.product(false, false, M, K, N, dy, 0, N, w, 0, K, dx, 0, K,
                    accumulateDx, null, dxEpilogue, threads);
            GemmPacked.Product pdw = GemmPacked.product(true, false, N, K, M, dy, 0, N, x, 0, K, dw, 0, K,
                    accumulateDw, null, null, threads);
            // The threads claim the pieces one at a time, the caller from the front and the workers from the back
            // (Parallel.forRange): dx's first half, dw's pieces, dbias's slices, dx's second half. So each thread
            // takes dx's rows at its own end, as it took those rows in the kernels before and will in those after
            // (the rows stay in its cache), and meets the other in dw.
            int ux = pdx.units(), half = (ux + 1) / 2, uw = pdw.units(), slices = dbias != null ? threads : 0;
            int vectors = (N + Simd.LANES - 1) / Simd.LANES;
            Parallel.forRange(ux + uw + slices, 1, ux + uw + slices, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    if (t < half) {
                        pdx.runUnit(t);
                    } else if (t < half + uw) {
                        pdw.runUnit(t - half);
                    } else if (t < half + uw + slices) {
                        int sl = t - half - uw;
                        int v0 = (int) ((long) vectors * sl / slices), v1 = (int) ((long) vectors * (sl + 1) / slices);
                        columnSums(dbias, dy, 0, M, N, v0 * Simd.LANES, Math.min(N, v1 * Simd.LANES));
                    } else {
                        pdx.runUnit(t - uw - slices);
                    }
                }
            });
            return;
        }
        if (dx != null) {
            gemm(false, false, M, K, N, dy, 0, N, w, 0, K, dx, 0, K, accumulateDx, null, dxEpilogue);
        }
        if (dw != null) {
            gemm(true, false, N, K, M, dy, 0, N, x, 0, K, dw, 0, K, accumulateDw);
        }
        if (dbias != null) {
            // Threads split the columns, so the sums do not depend on the thread count.
            int vectors = (N + Simd.LANES - 1) / Simd.LANES;
            Parallel.forRange(vectors, Math.max(1, (1 << 15) / Math.max(1, M * Simd.LANES)), (v0, v1) ->
                    columnSums(dbias, dy, 0, M, N, v0 * Simd.LANES, Math.min(N, v1 * Simd.LANES)));
        }
    }

    /**
     * {@link #linearBackward} on two threads, each on its own half of the rows, the half it wrote in the layers
     * before. dW = Σ_i dy[i]ᵀ·x[i] is made as KC-row blocks added in order onto dW, so the caller adds the blocks of
     * rows [0, h) (h = M/2 rounded to whole blocks) and then the worker, once they are in, those of [h, M): the same
     * additions in the same order as one product over all rows (dbias's row sums likewise). Meanwhile the worker
     * makes dx's last h rows and the caller, after its part of dW, the others: both do the same work, and no large
     * operand is read by a thread that did not write it, only dW passes from one to the other.
     *
     * <p>dW's columns go in two chains, [0, kh) and [kh, K) (whole panels; one chain where K is one panel), each
     * passed on as soon as the caller's rows of it are in: the worker, done with its dx, adds its rows to the first
     * chain while the caller makes the second. With one chain the worker could start its dW only when the caller's
     * was whole, so dW ran from end to end on the two threads in turn: the fork-join took as long as all of dW on one
     * thread, which is more than half of the whole where dW is the slower product (1.1-1.2x dx on the baby's shapes).
     *
     * <p>Measured (Zen 5, two CCDs, baby step, same process, the ways taking turns): 1.056-1.074x over the pieces
     * both threads claim; over one whole product per thread (dx and dbias on the caller, dW on the worker, which
     * came between) a further 1.037-1.071x. Two chains over one (Xeon family 6): the stepping thread's wait at the end
     * of Linear.backward 6-7% of its time against 8-10% ({@code StepProfile}, two runs each), the step itself the same
     * within the noise (0.98-1.02x, median 1.00, in seven runs of {@code TrainPair.java}'s baby switching
     * {@code jgpt.gemm.twochains} in one jar).
     */
    private static void backwardInHalves(float[] dx, boolean accumulateDx, GemmPacked.Epilogue dxEpilogue, float[] dw,
                                         boolean accumulateDw, float[] dbias, float[] dy, float[] x, float[] w, int M,
                                         int K, int N) {
        int kc = GemmPacked.KC, h = Math.min(M, Math.round(M / 2f / kc) * kc), rest = M - h;
        // dW's columns in two chains, [0, kh) and [kh, K), each a whole number of panels where K has two or more.
        int panels = (K + GemmPacked.NR - 1) / GemmPacked.NR, kh = TWO_CHAINS && panels > 1 ? panels / 2 * GemmPacked.NR : K;
        GemmPacked.Product[] dwFirst = new GemmPacked.Product[2], dwRest = new GemmPacked.Product[2];
        for (int q = 0; q < 2; q++) {
            int k0 = q == 0 ? 0 : kh, k1 = q == 0 ? kh : K;
            if (k1 > k0 && h > 0) {
                dwFirst[q] = GemmPacked.product(true, false, N, k1 - k0, h, dy, 0, N, x, k0, K, dw, k0, K, accumulateDw,
                        null, null, 1);
            }
            if (k1 > k0 && rest > 0) {
                dwRest[q] = GemmPacked.product(true, false, N, k1 - k0, rest, dy, h * N, N, x, h * K + k0, K, dw, k0, K,
                        accumulateDw || h > 0, null, null, 1);
            }
        }
        GemmPacked.Product dxFront = rest == 0 ? null : GemmPacked.product(false, false, rest, K, N, dy, 0, N, w, 0, K,
                dx, 0, K, accumulateDx, null, dxEpilogue, 1);
        GemmPacked.Epilogue backEpilogue = dxEpilogue == null ? null   // its rows are counted from dx's first
                : (c, ci, ldc, row, col, rows, cols) -> dxEpilogue.apply(c, ci, ldc, rest + row, col, rows, cols);
        GemmPacked.Product dxBack = h == 0 ? null : GemmPacked.product(false, false, h, K, N, dy, rest * N, N, w, 0, K,
                dx, rest * K, K, accumulateDx, null, backEpilogue, 1);
        // How many of the caller's dW chains (and then dbias's first rows, with the second) are in.
        java.util.concurrent.atomic.AtomicInteger chainsIn = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forRange(2, 1, 2, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                if (t == 0) {   // the caller claims from the front (or one thread runs both parts, this one first)
                    try {
                        if (dwFirst[0] != null) {
                            dwFirst[0].run();
                        }
                        chainsIn.set(1);
                        if (dwFirst[1] != null) {
                            dwFirst[1].run();
                        }
                        if (dbias != null && h > 0) {
                            columnSums(dbias, dy, 0, h, N, 0, N);
                        }
                    } finally {   // a failure is reported by the fork-join; the worker must not wait for ever
                        chainsIn.set(2);
                    }
                    if (dxFront != null) {
                        dxFront.run();
                    }
                } else {
                    if (dxBack != null) {
                        dxBack.run();
                    }
                    for (int q = 0; q < 2; q++) {
                        for (int spins = 1; chainsIn.get() <= q; spins++) {   // yielding now and then, as Parallel's
                            if ((spins & 1023) == 0) {                        // caller does, for a shared CPU
                                Thread.yield();
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                        if (dwRest[q] != null) {
                            dwRest[q].run();
                        }
                    }
                    if (rest > 0 && dbias != null) {
                        columnSums(dbias, dy, h, M, N, 0, N);
                    }
                }
            }
        });
    }

    /** {@code -Djgpt.gemm.twochains=false}: {@link #backwardInHalves} passes dW on in one chain (A/B timing). */
    static final boolean TWO_CHAINS = !"false".equals(System.getProperty("jgpt.gemm.twochains"));

    /**
     * dbias[j] += Σ_i dy[i, j] over rows i in [i0, i1) and j in [j0, j1) (dy N wide), the rows added in order. A strip
     * of eight vectors' sums stays in registers down all the rows, where adding row by row into dbias would load
     * and store it once a row.
     */
    private static void columnSums(float[] dbias, float[] dy, int i0, int i1, int N, int j0, int j1) {
        var f = Simd.F;
        int L = Simd.LANES, j = j0;
        for (; j + 8 * L <= j1; j += 8 * L) {
            FloatVector s0 = FloatVector.fromArray(f, dbias, j), s1 = FloatVector.fromArray(f, dbias, j + L);
            FloatVector s2 = FloatVector.fromArray(f, dbias, j + 2 * L), s3 = FloatVector.fromArray(f, dbias, j + 3 * L);
            FloatVector s4 = FloatVector.fromArray(f, dbias, j + 4 * L), s5 = FloatVector.fromArray(f, dbias, j + 5 * L);
            FloatVector s6 = FloatVector.fromArray(f, dbias, j + 6 * L), s7 = FloatVector.fromArray(f, dbias, j + 7 * L);
            for (int i = i0; i < i1; i++) {
                int o = i * N + j;
                s0 = s0.add(FloatVector.fromArray(f, dy, o));
                s1 = s1.add(FloatVector.fromArray(f, dy, o + L));
                s2 = s2.add(FloatVector.fromArray(f, dy, o + 2 * L));
                s3 = s3.add(FloatVector.fromArray(f, dy, o + 3 * L));
                s4 = s4.add(FloatVector.fromArray(f, dy, o + 4 * L));
                s5 = s5.add(FloatVector.fromArray(f, dy, o + 5 * L));
                s6 = s6.add(FloatVector.fromArray(f, dy, o + 6 * L));
                s7 = s7.add(FloatVector.fromArray(f, dy, o + 7 * L));
            }
            s0.intoArray(dbias, j);
            s1.intoArray(dbias, j + L);
            s2.intoArray(dbias, j + 2 * L);
            s3.intoArray(dbias, j + 3 * L);
            s4.intoArray(dbias, j + 4 * L);
            s5.intoArray(dbias, j + 5 * L);
            s6.intoArray(dbias, j + 6 * L);
            s7.intoArray(dbias, j + 7 * L);
        }
        for (; j + L <= j1; j += L) {
            FloatVector s0 = FloatVector.fromArray(f, dbias, j);
            for (int i = i0; i < i1; i++) {
                s0 = s0.add(FloatVector.fromArray(f, dy, i * N + j));
            }
            s0.intoArray(dbias, j);
        }
        for (; j < j1; j++) {
            float s0 = dbias[j];
            for (int i = i0; i < i1; i++) {
                s0 += dy[i * N + j];
            }
            dbias[j] = s0;
        }
    }
}
