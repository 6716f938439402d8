package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * Goto/BLIS-style sgemm. op(B) is packed into NR-column panels (packing absorbs transB: a
 * transposed B goes through 16 × 16 register transposes); A is read in place, the microkernel
 * taking its row and k strides, so NN, NT, TN and TT all run the same kernel and only a last,
 * partial MR-row panel of A is copied. The microkernel holds an MR × NR tile of C in 24 vector
 * accumulators (6 rows × 4 vectors of 16 floats on AVX-512): per k it loads 4 vectors of B and
 * broadcasts 6 scalars of A, i.e. 24 FMAs per 10 loads.
 *
 * <p>Blocking (L1 48 KB, L2 1 MB per core): a KC × NR micro-panel of B (128 × 64 floats = 32 KB)
 * stays in L1 while the kernel sweeps every MR-row panel of an MC × KC block of A (up to 512 KB,
 * from L2); the packed KC × NC block of B sits in L2/L3 and each micro-panel is brought to L1 once
 * per A block. C takes K/KC sweeps (one per block of k, added in order), so C is blocked to stay in L2
 * between them: a shallow K (up to 4·KC, a weight gradient over B·T = 256 rows) is packed whole per block of
 * columns and each block of rows takes all its k blocks at once, and so is a deeper one (up to 32·KC) when A has too
 * many rows to be read again ({@link #DEEP_K}); otherwise a deeper K cuts C's columns so that the A block's rows ×
 * those columns fit (GPT-2's LM head, 256 × 50257, would otherwise go to memory six times).
 * Threads split N when each gets a wide slice of C's columns, else M (see {@link #product}); split by N each packs
 * its own columns of B, split by M they pack all of B once into a buffer they share ({@link Shared}).
 */
final class GemmPacked {
    static final int MR = 6;
    static final int NV = 4;
    static final int L = Simd.LANES;
    static final int NR = NV * L;
    /** Depth of one packed block: a KC × NR micro-panel of B must stay in L1. */
    static final int KC = Integer.getInteger("jgpt.gemm.kc", 128);
    /** Rows of A swept per B micro-panel (a multiple of MR): the A block (MC × KC) stays in L2. */
    static final int MC = roundUp(Integer.getInteger("jgpt.gemm.mc", 1020), MR);
    /** Columns of one packed B block (a multiple of NR). */
    static final int NC = roundUp(Integer.getInteger("jgpt.gemm.nc", 4096), NR);
    /** Below this many FLOPs one thread is faster than handing work to the pool (~10 µs of work). */
    static final double PARALLEL_FLOPS = 2e6;
    /**
     * Threads split C's columns only when each gets at least this many NR-column panels (384 columns on
     * AVX-512): GPT-2's products (N ≥ 768) split N, the baby preset's (N ≤ 512, M = 768) split M.
     */
    static final int SPLIT_N_PANELS = 6;

    /** Per-thread packing buffers, re-used across calls (pool threads live as long as the pool). */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        /** The last, partial MR-row panel of A (full panels are read in place); grown for a deeper block. */
        float[] a = new float[MR * KC];
        /** op(B)'s packed block; grown for a deep K's block packed whole ({@link #DEEP_K}). */
        float[] b = new float[BUFFER_B + PAD_SLACK];
        /** An MR × NR tile for edges: the kernel writes here, then only the valid part is copied to C. */
        final float[] edge = new float[MR * NR];
        /** Scratch for one 16 × 16 transpose. */
        final float[] t16 = new float[256];
        /** A block of Cᵀ for {@link Product#transposedRows}. */
        float[] ct = new float[0];
        /**
         * op(B) packed whole for the row-chunked products this thread creates ({@link Shared}), two slots taken in
         * turns: linearBackward's two products share one fork-join.
         */
        final float[][] shared = {new float[0], new float[0]};
        int nextShared;
    }

    /**
     * All of op(B) of a row-chunked product, packed once into one buffer that every thread reads, instead of whole by
     * each thread: the threads claim pieces of the packing (a KC block of one NR-column panel, laid out as
     * {@link #packWholeK} lays it) before their first chunk of rows, and wait until all are packed.
     *
     * <p>The caller of the fork-join claims pieces from the front, workers from the back, as {@link Parallel} hands
     * out chunks: when the packed matrix is activations (a weight gradient's X, the forward's Xᵀ), the front pieces
     * are the rows the caller wrote, so each thread packs rows from its own cache. With the two threads on two CCDs,
     * the strided reads of rows the other wrote cost a cross-CCD trip each.
     */
    static final class Shared {
        final float[] bp;
        /** Where the packed matrix starts in bp ({@link #bPad} when the product was made). */
        final int pad;
        final int pieces, kBlocks, panels;
        /** The pieces not yet claimed, [front, back) as front · 2³² + back ({@link Parallel#claim}). */
        final java.util.concurrent.atomic.AtomicLong ends;
        final java.util.concurrent.atomic.AtomicInteger packed = new java.util.concurrent.atomic.AtomicInteger();

        Shared(float[] bp, int kBlocks, int panels, int pad) {
            this.bp = bp;
            this.pad = pad;
            this.kBlocks = kBlocks;
            this.panels = panels;
            this.pieces = kBlocks * panels;
            this.ends = new java.util.concurrent.atomic.AtomicLong(pieces);
        }

        /** The next piece for this thread (from the front on the caller, the back on a worker), or −1. */
        int claim() {
            return Parallel.claim(ends, !Parallel.onWorker());
        }
    }

    /**
     * A product split by rows is cut into up to this many chunks per thread, claimed as the threads finish
     * the last ({@link Product#units}), each thread packing B once: a thread slowed down (a late start, a cold
     * cache, another process) takes fewer instead of holding the other up at the end of the fork-join.
     */
    static final int ROW_CHUNKS_PER_PART = Integer.getInteger("jgpt.gemm.rowchunks", 4);
    /** Row chunks no smaller than this many MR-row panels (the B micro-panel brought to L1 serves them all). */
    static final int MIN_CHUNK_PANELS = 8;

    private GemmPacked() {}

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /**
     * What is done to each block of C once it is final (its sum over K complete, the bias added), while it is
     * still in cache: an element-wise function fused into the product instead of a pass of its own. Called once
     * per block a thread computes (up to {@link #MC} × {@link #NC}; a row chunk of a split product, or the 96 columns
     * of {@link Product#transposedRows}), not per micro-tile: GELU's epilogue on each 6 × 16 tile as the
     * kernel finished it took 5-7 times as long as over the block after it (768 × 512 × 128, one thread, Zen 5:
     * +1.3-1.9 ms against +0.27 over the plain product), the same operations on the same values either way.
     */
    @FunctionalInterface
    interface Epilogue {
        /**
         * The block is C[row .. row+rows, col .. col+cols] (row and col counted from C's first element),
         * stored at c[ci + r·ldc + j].
         */
        void apply(float[] c, int ci, int ldc, int row, int col, int rows, int cols);
    }

    /**
     * One product cut into {@link #parts} pieces for up to {@code threads} threads: {@link #run} runs them
     * all on the pool, {@link #runUnit} one piece on the calling thread (so that several products can share one
     * fork-join). The pieces are whole NR-column or MR-row panels, so every element of C is computed the
     * same way (the same sum, in the same order) however the product is cut.
     */
    static Product product(boolean transA, boolean transB, int M, int N, int K,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float[] c, int cOff, int ldc, boolean accumulate, float[] bias, Epilogue epilogue,
                           int threads) {
        int parts = 2.0 * M * N * K < PARALLEL_FLOPS ? 1 : Math.max(1, threads);
        if (transposedOut(transA, transB, M, N, accumulate)) {
            Buffers buf = BUFFERS.get();
            int slot = buf.nextShared ^= 1, need = K * M;
            if (buf.shared[slot].length < need + PAD_SLACK) {
                buf.shared[slot] = new float[need + PAD_SLACK];
            }
            int units = ceilDiv(N, TRANSPOSED_ROWS);
            return new Product(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias,
                    epilogue, true, units, Math.min(parts, units), 0,
                    new Shared(buf.shared[slot], ceilDiv(K, KC), M / NR, bPad), true);
        }
        int tilesM = (M + MR - 1) / MR, tilesN = (N + NR - 1) / NR;
        // Split N and each part packs only its own columns of B; split M and every part packs all of B. But
        // split N, every row of C has a cache line that two threads write, once per KC block (the boundary
        // between their columns is not line-aligned): M·K/KC line transfers, a cost relative to the work that
        // grows as each part's columns shrink, while packing all of B costs K·N per part, relative to the work
        // growing as M shrinks. 768×128×128 on 2 threads ran at 0.7× of one thread split by N and at 1.8×
        // split by M; 128×768×512 (a weight gradient, few rows) was faster split by N (Zen 5). So split M
        // when each part would get few column panels, M is not much smaller than N and M shares evenly;
        // otherwise whichever side shares more evenly (N = 65 has 64 + 1 columns).
        double imbalanceN = (double) Math.min(N, ceilDiv(tilesN, parts) * NR) * parts / N;
        double imbalanceM = (double) Math.min(M, ceilDiv(tilesM, parts) * MR) * parts / M;
        // Split by rows, op(B) is packed once for all threads when it fits the buffer (Shared), so its size then
        // does not count against M: a weight gradient of few rows (128 × 512 over 768) no longer shares C's lines.
        long partRows = (long) ceilDiv(tilesM, parts) * MR;
        boolean shareB = (long) K * roundUp(N, NR) <= BUFFER_B && partRows <= MC
                && (K <= KC || partRows * N <= C_BLOCK);
        boolean splitM = tilesN < SPLIT_N_PANELS * parts && (N <= 2 * M || shareB) && imbalanceM <= 1.1;
        boolean splitN = !splitM && (imbalanceN <= 1.1 || imbalanceN <= imbalanceM);
        int tiles = splitN ? tilesN : tilesM;
        parts = Math.max(1, Math.min(parts, tiles));
        // Split by rows with all of op(B) fitting the packing buffer, the threads pack it once together (Shared)
        // and then claim chunks of rows; a chunk's rows must fit the blocking (A's rows in L2, and C's rows for
        // the sweeps of a deeper K), as a part's do (shareB), and fewer rows fit too.
        int chunks = !splitN && parts > 1 && shareB
                ? Math.max(parts, Math.min(ROW_CHUNKS_PER_PART * parts, tilesM / MIN_CHUNK_PANELS)) : 0;
        Shared shared = null;
        if (chunks > 0) {
            Buffers buf = BUFFERS.get();
            int slot = buf.nextShared ^= 1, need = K * roundUp(N, NR);
            if (buf.shared[slot].length < need + PAD_SLACK) {
                buf.shared[slot] = new float[need + PAD_SLACK];
            }
            shared = new Shared(buf.shared[slot], ceilDiv(K, KC), tilesN, bPad);
        }
        return new Product(transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias,
                epilogue, splitN, tiles, parts, chunks, shared, false);
    }

    /**
     * C (+)= X·Wᵀ (+ bias, epilogue) with X [M×K] of few rows and W [N×K] wide (a Linear layer's forward in training,
     * M = B·T) is computed as Cᵀ = W·Xᵀ ({@link Product#transposedRows}): W, the large operand, is then the kernel's
     * A, read in place, and only the small Xᵀ is packed, instead of all of W through 16 × 16 transposes every step.
     * M a multiple of NR (whole panels of Xᵀ). dX = dY·W the same way (W's columns read in place as A) was 2% slower
     * in a GPT-2 step than packing W (Zen 4): six floats used of each line, lines 3-12 KB apart.
     */
    static boolean transposedOut(boolean transA, boolean transB, int M, int N, boolean accumulate) {
        return TRANSPOSED_OUT && L == 16 && transB && !transA && M % NR == 0 && N >= 2 * M;
    }

    /** Switch for A/B timing ({@code -Djgpt.gemm.transposedout=false}: the forward packs Wᵀ as before). */
    static final boolean TRANSPOSED_OUT = !"false".equals(System.getProperty("jgpt.gemm.transposedout"));
    /** Rows of W (columns of C) per piece of {@link Product#transposedRows}: a multiple of MR and of 16. */
    static final int TRANSPOSED_ROWS = 96;
    /**
     * The order of {@link Product#transposedRows}'s tiles in each k block: Xᵀ's KC × NR micro-panel (32 KB) kept in L1
     * while W's row panels stream past it from L2, or W's row panel (MR × KC, 3 KB) kept while Xᵀ's micro-panels
     * stream. Same tiles, same sums either way. A 32 KB L1 (Zen 4) cannot hold the micro-panel beside anything else;
     * on the Xeon (48 KB) keeping it ran GPT-2's forward products 1.06-1.10× as fast on one thread, the mean of three
     * rounds (0.98-1.16 per round; 256 × 768 · 768 × 2304, 3072 and 768; W's rows 3-12 KB apart, the lines of a
     * panel's rows in few L1 sets). Zen 5, also 48 KB, is
     * unmeasured and keeps W's panel. {@code -Djgpt.gemm.transposed.bInL1=true|false} overrides (A/B timing); tests
     * set it to check both orders' bits.
     */
    static volatile boolean transposedBInL1 = Boolean.parseBoolean(System.getProperty("jgpt.gemm.transposed.bInL1",
            String.valueOf(CpuInfo.HERE.isIntel())));

    record Product(boolean transA, boolean transB, int M, int N, int K,
                   float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                   float[] c, int cOff, int ldc, boolean accumulate, float[] bias, Epilogue epilogue,
                   boolean splitN, int tiles, int parts, int chunks, Shared shared, boolean transposed) {
        /** All parts, on the pool (on the calling thread alone if there is one part). */
        void run() {
            if (transposed) {
                if (parts == 1) {
                    for (int u = 0; u < tiles; u++) {
                        runUnit(u);
                    }
                } else {
                    Parallel.forRange(tiles, 1, tiles, (u0, u1) -> {
                        for (int u = u0; u < u1; u++) {
                            runUnit(u);
                        }
                    });
                }
            } else if (parts == 1) {
                runPart(0);
            } else {
                int n = units();
                Parallel.forRange(n, 1, n, (u0, u1) -> {
                    for (int u = u0; u < u1; u++) {
                        runUnit(u);
                    }
                });
            }
        }

        /**
         * The pieces the threads claim one at a time: the row chunks if there are any, else the parts. Every
         * element of C is computed the same way whichever piece and thread it falls to.
         */
        int units() {
            return transposed ? tiles : chunks > 0 ? chunks : parts;
        }

        /** Piece u of {@link #units}, on the calling thread. */
        void runUnit(int u) {
            if (transposed) {
                transposedRows(u * TRANSPOSED_ROWS, Math.min(N, (u + 1) * TRANSPOSED_ROWS));
            } else if (chunks > 0) {
                rows((int) ((long) tiles * u / chunks) * MR, Math.min(M, (int) ((long) tiles * (u + 1) / chunks) * MR));
            } else {
                runPart(u);
            }
        }

        /**
         * Rows [m0, m1) of C against all of op(B), packed whole (each KC block at pc·N rounded up to NR, as
         * {@link #block}'s shallow path lays it) into the shared buffer by whichever threads get there first. Each
         * tile takes its KC blocks in order from 0, as in {@link #block}: the same sums.
         */
        private void rows(int m0, int m1) {
            Buffers buf = BUFFERS.get();
            int ncPadded = roundUp(N, NR);
            if (shared.packed.get() < shared.pieces) {
                // k-block-major: op(B)'s k runs over X's rows in a weight gradient (dYᵀ·X), the front ones the caller's.
                for (int q; (q = shared.claim()) >= 0; ) {
                    int pc = q / shared.panels * KC, jc = q % shared.panels * NR;
                    packB(transB, b, bOff, ldb, pc, Math.min(KC, K - pc), jc, Math.min(NR, N - jc), shared.bp,
                            shared.pad + pc * ncPadded + jc * Math.min(KC, K - pc), buf.t16);
                    shared.packed.incrementAndGet();
                }
                while (shared.packed.get() < shared.pieces) {   // the last pieces, being packed by another thread
                    Thread.onSpinWait();
                }
            }
            for (int pc = 0; pc < K; pc += KC) {
                blockTiles(transA, m0, m1 - m0, 0, N, pc, Math.min(KC, K - pc), K, a, aOff, lda, shared.bp,
                        shared.pad + pc * ncPadded, c, cOff, ldc, accumulate, bias, epilogue, buf.a, buf.edge);
            }
        }

        /**
         * Columns [n0, n1) of C = X·Wᵀ ({@link #transposedOut}; X = a, W = b) made as rows of Cᵀ = W·Xᵀ: Xᵀ packed
         * whole into the shared buffer by whichever threads get there first (each KC block of its NR-column panels
         * as {@link #packWholeK} lays it), W's rows read in place as the kernel's A, the block of Cᵀ kept in a
         * scratch (in L2) through all KC blocks, then transposed into C, the bias and the epilogue after. Each
         * element is the chain over each KC block of the fused multiply-adds W[j, k]·X[i, k] (the same products
         * as X[i, k]·W[j, k], each rounded once), the blocks added in order onto 0: the sums of the ordinary path.
         */
        private void transposedRows(int n0, int n1) {
            Buffers buf = BUFFERS.get();
            if (shared.packed.get() < shared.pieces) {
                // Row-panel-major: jc runs over X's rows, the front ones the caller's.
                for (int q; (q = shared.claim()) >= 0; ) {
                    int pc = q % shared.kBlocks * KC, jc = q / shared.kBlocks * NR, kc = Math.min(KC, K - pc);
                    // The kernel's B is Xᵀ: X untransposed is a transposed B.
                    packB(true, a, aOff, lda, pc, kc, jc, NR, shared.bp, shared.pad + pc * M + jc * kc, buf.t16);
                    shared.packed.incrementAndGet();
                }
                while (shared.packed.get() < shared.pieces) {   // the last pieces, being packed by another thread
                    Thread.onSpinWait();
                }
            }
            int rows = n1 - n0;
            if (buf.ct.length < TRANSPOSED_ROWS * M) {
                buf.ct = new float[TRANSPOSED_ROWS * M];
            }
            float[] ct = buf.ct;
            int ci = cOff + n0, r16 = rows / 16 * 16;
            if (accumulate) {   // Cᵀ starts from C, the blocks then added onto it in order, as in place
                for (int i = 0; i < M; i += 16) {
                    for (int r = 0; r < r16; r += 16) {
                        Transpose16.firstHalf(c, ci + i * ldc + r, ldc, buf.t16);
                        Transpose16.secondHalf(buf.t16, ct, r * M + i, M);
                    }
                }
                for (int i = 0; i < M; i++) {
                    for (int r = r16; r < rows; r++) {
                        ct[r * M + i] = c[ci + i * ldc + r];
                    }
                }
            }
            boolean bInL1 = transposedBInL1;
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                int full = rows / MR * MR;
                if (full < rows) {
                    packPartialA(false, b, bOff, ldb, n0 + full, rows - full, pc, kc, buf.a);
                }
                if (bInL1) {
                    for (int jr = 0; jr < M; jr += NR) {   // Xᵀ's micro-panel stays in L1 across W's row panels
                        for (int ir = 0; ir < rows; ir += MR) {
                            transposedTile(ir, full, rows, n0, pc, kc, jr, ct, buf);
                        }
                    }
                } else {
                    for (int ir = 0; ir < rows; ir += MR) {
                        for (int jr = 0; jr < M; jr += NR) {   // W's row panel stays in L1 across Xᵀ's panels
                            transposedTile(ir, full, rows, n0, pc, kc, jr, ct, buf);
                        }
                    }
                }
            }
            // C[i, n0 + r] = Cᵀ[r, i], in 16 × 16 register transposes where whole.
            for (int i = 0; i < M; i += 16) {
                for (int r = 0; r < r16; r += 16) {
                    Transpose16.firstHalf(ct, r * M + i, M, buf.t16);
                    Transpose16.secondHalf(buf.t16, c, ci + i * ldc + r, ldc);
                }
            }
            for (int i = 0; i < M; i++) {
                for (int r = r16; r < rows; r++) {
                    c[ci + i * ldc + r] = ct[r * M + i];
                }
            }
            if (bias != null) {
                addBias(c, ci, ldc, M, rows, bias, n0);
            }
            if (epilogue != null) {
                epilogue.apply(c, ci, ldc, 0, n0, M, rows);
            }
        }

        /**
         * Tile (ir, jr) of {@link #transposedRows}'s block of Cᵀ for k block pc: W's rows n0 + ir.. read in place, or
         * the last partial panel (rows from {@code full}) from buf.a, where the caller packed it for this pc.
         */
        private void transposedTile(int ir, int full, int rows, int n0, int pc, int kc, int jr, float[] ct, Buffers buf) {
            boolean add = accumulate || pc > 0;
            if (ir < full) {
                tile(b, bOff + (n0 + ir) * ldb + pc, ldb, 1, MR, shared.bp, shared.pad + pc * M + jr * kc, NR, kc, ct,
                        ir * M + jr, M, add, buf.edge);
            } else {
                tile(buf.a, 0, 1, MR, rows - full, shared.bp, shared.pad + pc * M + jr * kc, NR, kc, ct, ir * M + jr,
                        M, add, buf.edge);
            }
        }

        /** Part p of {@link #parts}, on the calling thread. */
        void runPart(int p) {
            int t0 = (int) ((long) tiles * p / parts), t1 = (int) ((long) tiles * (p + 1) / parts);
            if (splitN) {
                block(transA, transB, 0, M, t0 * NR, Math.min(N, t1 * NR), K,
                        a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias, epilogue);
            } else {
                block(transA, transB, t0 * MR, Math.min(M, t1 * MR), 0, N, K,
                        a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias, epilogue);
            }
        }
    }

    /**
     * A depth K with at most this many KC blocks is packed whole for each block of columns of B (at most
     * {@link #WHOLE_K_NC} columns, K·NC floats in L2) so that each block of C (at most {@link #WHOLE_K_MC} rows)
     * takes all its KC blocks while it is in L2: otherwise all of C goes through the caches once per KC block,
     * from memory when C is large (GPT-2's LM-head weight gradient, 154 MB, K = B·T = 256).
     */
    static final int WHOLE_K = 4 * KC;
    static final int WHOLE_K_NC = roundUp(Integer.getInteger("jgpt.gemm.wholek.nc", 384), NR);
    /**
     * Floats from the start of a float[]'s elements to the first on a 64-byte boundary, when the JVM puts every object
     * on one ({@code -XX:ObjectAlignmentInBytes=64}, as {@code bin/jgpt} runs training); 0 when it does not, or it
     * cannot be told. Packed panels of B start there ({@link #bPad}): each of the micro-kernel's four vector loads a step
     * then reads one cache line instead of two. Found so on the Xeon (family 6, one thread; /tmp harnesses): the
     * micro-kernel alone 1.09× (178 against 163 GFLOP/s), GPT-2's products alone 1.07-1.11×.
     */
    static final int ALIGNED_PAD = alignedPad();
    /** Room for any {@link #bPad} at the end of every B packing buffer (and of Attention's panels). */
    static final int PAD_SLACK = 16;
    /**
     * Where the packed panels of B start in their buffers (floats, below {@link #PAD_SLACK}); {@code -Djgpt.gemm.bpad=0}
     * packs them at the start as before (A/B timing). Tests set it to check that it moves them, never the sums.
     */
    static volatile int bPad = Math.floorMod(Integer.getInteger("jgpt.gemm.bpad", ALIGNED_PAD), PAD_SLACK);

    private static int alignedPad() {
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            if (Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue()) % 64 != 0) {
                return 0;
            }
            boolean compactHeaders;
            try {   // JDK 24 and later
                compactHeaders = Boolean.parseBoolean(vm.getVMOption("UseCompactObjectHeaders").getValue());
            } catch (IllegalArgumentException noSuchOption) {
                compactHeaders = false;
            }
            // A float[]'s elements follow its header and length: 8 + 4 bytes with compact headers (JDK 24+), 8 + 4 + 4
            // with compressed class pointers (the default), 8 + 8 + 4 without.
            int base = compactHeaders ? 12
                    : Boolean.parseBoolean(vm.getVMOption("UseCompressedClassPointers").getValue()) ? 16 : 20;
            return (64 - base) / Float.BYTES;
        } catch (RuntimeException | LinkageError unknown) {
            return 0;
        }
    }

    /** Floats of each thread's B packing buffer (declared after what it is made of: static fields start in order). */
    static final int BUFFER_B = Math.max(KC * NC, WHOLE_K * WHOLE_K_NC);
    static final int WHOLE_K_MC = roundUp(Integer.getInteger("jgpt.gemm.wholek.mc", 96), MR);
    /**
     * {@link #WHOLE_K_MC} where A's columns are read in place (transA: a weight gradient's dYᵀ, a line of dY per k
     * for each 16 rows, the lines a row of dY apart and so each in a page of its own, out of the prefetchers' reach).
     * 24 rows keep the A block (24 × KC, 16 KB of lines) in L1 across B's micro-panels instead of fetching it again
     * for each: GPT-2's LM-head weight gradient (50257 × 768 over K = 256) ran 1.10-1.22× as fast on one thread and
     * 1.17-1.29× on two on the Xeon, its other weight gradients within the noise. AMD is unmeasured and keeps 96.
     * Tests set it to check both blockings' bits.
     */
    static volatile int wholeKMcColumns = roundUp(Integer.getInteger("jgpt.gemm.wholek.mc.columns",
            CpuInfo.HERE.isIntel() ? 24 : WHOLE_K_MC), MR);
    /**
     * Deeper products sweep C once per KC block: its columns are cut so that a block of C (the A block's rows ×
     * these columns) of at most this many floats stays in L2 between sweeps, at the cost of reading A once per
     * block of columns (only done when A is at most {@link #REREAD_A} floats; a larger A over a K up to {@link #DEEP_K}
     * is packed whole instead).
     */
    static final int C_BLOCK = Integer.getInteger("jgpt.gemm.cblock", 1 << 16);
    static final int REREAD_A = 1 << 20;
    /**
     * A deeper K (up to this) is packed whole too when A is too large to read again ({@link #REREAD_A}: many rows,
     * shakespeare-char's MLP projection 16384 × 384 × 1536): each block of rows then keeps its block of C in L2 through
     * all its KC blocks, op(B)'s whole-K block (K·384 floats, up to 6 MB) coming from L3, where the sweep per KC block
     * sent all of C (a thread's 8192 × 384) through memory twelve times. That product ran 1.30-1.64× as fast on two
     * threads and 1.37× on one, its shape's backward 1.15-1.25× (Zen 5, 2026-12-02); at GPT-2's widths with 4096 rows
     * 0.99-1.19×. {@code -Djgpt.gemm.deepwholek=false} turns it off (A/B timing).
     */
    static final int DEEP_K = "false".equals(System.getProperty("jgpt.gemm.deepwholek")) ? 0 : 32 * KC;
    /** Never cut C's columns narrower than this for {@link #C_BLOCK}. */
    static final int MIN_NC = 4 * NR;

    /**
     * C[m0:m1, n0:n1] on the calling thread. However it is blocked, each tile of C takes its KC blocks of k in
     * order from 0, each a chain of fused multiply-adds from zero added to C: the blocking changes which sums
     * are in cache, never the sums.
     */
    private static void block(boolean transA, boolean transB, int m0, int m1, int n0, int n1, int K,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate, float[] bias, Epilogue epilogue) {
        Buffers buf = BUFFERS.get();
        float[] ap = buf.a, bp = buf.b, t16 = buf.t16;
        int pad = bPad;
        // A part of C within C_BLOCK stays in L2 as it is (the baby model's products): only larger ones are re-blocked.
        boolean cFits = (long) (m1 - m0) * (n1 - n0) <= C_BLOCK;
        boolean deep = K <= DEEP_K && (long) (m1 - m0) * K > REREAD_A;
        if (!cFits && K > KC && (K <= WHOLE_K || deep)) {
            int ncBlock = roundUp(ceilDiv(n1 - n0, ceilDiv(n1 - n0, WHOLE_K_NC)), NR);
            int mcBlock = roundUp(ceilDiv(m1 - m0, ceilDiv(m1 - m0, transA ? wholeKMcColumns : WHOLE_K_MC)), MR);
            if ((long) K * ncBlock + PAD_SLACK > bp.length) {   // a deep K's block of op(B)
                buf.b = bp = new float[K * ncBlock + PAD_SLACK];
            }
            for (int jc = n0; jc < n1; jc += ncBlock) {
                int nc = Math.min(ncBlock, n1 - jc), ncPadded = roundUp(nc, NR);
                packWholeK(transB, b, bOff, ldb, K, jc, nc, bp, pad, t16);
                for (int ic = m0; ic < m1; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m1 - ic);
                    for (int pc = 0; pc < K; pc += KC) {
                        blockTiles(transA, ic, mc, jc, nc, pc, Math.min(KC, K - pc), K, a, aOff, lda, bp, pad + pc * ncPadded,
                                c, cOff, ldc, accumulate, bias, epilogue, ap, buf.edge);
                    }
                }
            }
            return;
        }
        // Equal blocks (rounded to whole panels) rather than full blocks plus a sliver.
        int mcBlock = roundUp(ceilDiv(m1 - m0, ceilDiv(m1 - m0, MC)), MR);
        int ncMax = NC;
        if (!cFits && K > KC && (long) (m1 - m0) * K <= REREAD_A) {   // one sweep (K <= KC) has nothing to keep
            ncMax = Math.max(MIN_NC, Math.min(NC, C_BLOCK / mcBlock / NR * NR));
        }
        int ncBlock = roundUp(ceilDiv(n1 - n0, ceilDiv(n1 - n0, ncMax)), NR);
        for (int jc = n0; jc < n1; jc += ncBlock) {
            int nc = Math.min(ncBlock, n1 - jc);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp, pad, t16);
                for (int ic = m0; ic < m1; ic += mcBlock) {
                    blockTiles(transA, ic, Math.min(mcBlock, m1 - ic), jc, nc, pc, kc, K, a, aOff, lda, bp, pad,
                            c, cOff, ldc, accumulate, bias, epilogue, ap, buf.edge);
                }
            }
        }
    }

    /**
     * All KC blocks of op(B)'s columns [jc, jc + nc), block pc at bp[bo + pc·roundUp(nc, NR)..], each laid out as
     * {@link #packB} lays one: the layout of a whole-K block ({@link #block}) and of a row-chunked product.
     */
    private static void packWholeK(boolean transB, float[] b, int bOff, int ldb, int K, int jc, int nc, float[] bp,
                                   int bo, float[] t16) {
        int ncPadded = roundUp(nc, NR);
        for (int pc = 0; pc < K; pc += KC) {
            packB(transB, b, bOff, ldb, pc, Math.min(KC, K - pc), jc, nc, bp, bo + pc * ncPadded, t16);
        }
    }

    /**
     * C[ic:ic+mc, jc:jc+nc] (+)= op(A)[ic:ic+mc, pc:pc+kc]·(B's block packed at bp[bo..]), then the bias and the
     * epilogue if this is the last block of K: each B micro-panel (KC × NR, in L1) against every MR-row panel.
     */
    private static void blockTiles(boolean transA, int ic, int mc, int jc, int nc, int pc, int kc, int K,
                                   float[] a, int aOff, int lda, float[] bp, int bo,
                                   float[] c, int cOff, int ldc, boolean accumulate, float[] bias, Epilogue epilogue,
                                   float[] ap, float[] edge) {
        boolean add = accumulate || pc > 0;
        boolean last = pc + kc == K;   // the bias and the epilogue come after the last block of K
        // Full MR-row panels of A are read in place: the kernel takes A's strides, so A
        // needs no packing. Only a last, partial panel is copied (zero-padded) into ap.
        int full = mc / MR * MR;
        if (full < mc) {
            packPartialA(transA, a, aOff, lda, ic + full, mc - full, pc, kc, ap);
        }
        int ars = transA ? 1 : lda, aks = transA ? lda : 1;
        for (int jr = 0; jr < nc; jr += NR) {
            for (int ir = 0; ir < mc; ir += MR) {
                int ci = cOff + (ic + ir) * ldc + jc + jr;
                if (ir < full) {
                    int ao = aOff + (transA ? pc * lda + ic + ir : (ic + ir) * lda + pc);
                    tile(a, ao, ars, aks, MR, bp, bo + jr * kc, Math.min(NR, nc - jr), kc, c, ci, ldc, add, edge);
                } else {
                    tile(ap, 0, 1, MR, mc - full, bp, bo + jr * kc, Math.min(NR, nc - jr), kc, c, ci, ldc, add, edge);
                }
            }
        }
        if (last && bias != null) {
            addBias(c, cOff + ic * ldc + jc, ldc, mc, nc, bias, jc);
        }
        if (last && epilogue != null) {   // once over the finished block, row by row (see Epilogue)
            epilogue.apply(c, cOff + ic * ldc + jc, ldc, ic, jc, mc, nc);
        }
    }

    /**
     * C[n × nr] = A[n × K]·B for B [K × nr] given as one packed panel (bp[k·NR + j], zero for nr ≤ j &lt; NR) and A
     * read in place (row stride lda), on the calling thread: per block of kc values of k from 0, each row panel's
     * tile in registers, added to C (set by the first block). So C[i, j] is the blocks' chains of fused
     * multiply-adds over their k in order from 0, added in block order from 0 onto 0.
     */
    static void panelProduct(int n, int K, int kc, float[] a, int aOff, int lda, float[] bp, int nr,
                             float[] c, int cOff, int ldc) {
        Buffers buf = BUFFERS.get();
        if (buf.a.length < MR * kc) {
            buf.a = new float[MR * kc];
        }
        int full = n / MR * MR;
        for (int pc = 0; pc < K; pc += kc) {
            int kb = Math.min(kc, K - pc);
            boolean add = pc > 0;
            for (int i = 0; i < full; i += MR) {
                tile(a, aOff + i * lda + pc, lda, 1, MR, bp, pc * NR, nr, kb, c, cOff + i * ldc, ldc, add, buf.edge);
            }
            if (full < n) {
                packPartialA(false, a, aOff, lda, full, n - full, pc, kb, buf.a);
                tile(buf.a, 0, 1, MR, n - full, bp, pc * NR, nr, kb, c, cOff + full * ldc, ldc, add, buf.edge);
            }
        }
    }

    /** Depth of one block of a panel of packed xᵀ in {@link #streamWeights}: 1024 × NR floats (256 KB), in L2. */
    static final int STREAM_KC = 1024;

    /** Per-thread scratch of {@link #streamWeights}: the packed xᵀ, one MR × NR tile, a last partial panel of W. */
    private static final ThreadLocal<StreamBuffers> STREAM_BUFFERS = ThreadLocal.withInitial(StreamBuffers::new);

    private static final class StreamBuffers {
        float[] xt = new float[0];
        final float[] tile = new float[MR * NR];
        float[] wEdge = new float[0];
        final float[] t16 = new float[256];
    }

    /**
     * C[M×N] (+)= op(A)[M×K]·Wᵀ with W [N×K] row-major (a Linear layer's weights) for a few rows of A (a
     * prompt). Packing W's panels would cost about as much as multiplying them by so few rows, so W is the
     * micro-kernel's A operand instead, read in place and in order, six rows at a time, while op(A)ᵀ, packed
     * once into NR-column panels, is its B operand: each MR × NR tile of Cᵀ (six outputs of NR rows) is
     * stored transposed. Threads split W's rows. Every element is the same sum over K (in blocks of
     * {@link #STREAM_KC}), whatever the thread count and the other rows.
     */
    static void streamWeights(boolean transA, int M, int N, int K, float[] a, int aOff, int lda,
                              float[] w, int wOff, int ldw, float[] c, int cOff, int ldc, boolean accumulate,
                              int threads) {
        StreamBuffers buf = STREAM_BUFFERS.get();
        if (buf.xt.length < (long) roundUp(M, NR) * K) {
            buf.xt = new float[roundUp(M, NR) * K];
        }
        float[] xt = buf.xt;
        // op(A)ᵀ[k, i] = op(A)[i, k]: as packB's B, op(A)ᵀ is transposed exactly when A is not.
        packB(!transA, a, aOff, lda, 0, K, 0, M, xt, buf.t16);
        int panels = ceilDiv(N, MR);
        int parts = 2.0 * M * N * K < PARALLEL_FLOPS ? 1 : Math.max(1, Math.min(threads, panels));
        Parallel.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                streamPanels((int) ((long) panels * p / parts), (int) ((long) panels * (p + 1) / parts),
                        M, N, K, xt, w, wOff, ldw, c, cOff, ldc, accumulate);
            }
        });
    }

    /** W's six-row panels [q0, q1) of {@link #streamWeights}, on the calling thread. */
    private static void streamPanels(int q0, int q1, int M, int N, int K, float[] xt, float[] w, int wOff, int ldw,
                                     float[] c, int cOff, int ldc, boolean accumulate) {
        StreamBuffers buf = STREAM_BUFFERS.get();
        float[] tile = buf.tile;
        for (int q = q0; q < q1; q++) {
            int n0 = q * MR, rows = Math.min(MR, N - n0);
            float[] wp = w;
            int wo = wOff + n0 * ldw, ws = ldw;
            if (rows < MR) {
                // The last, partial panel: its rows copied into a zero-padded MR-row panel.
                if (buf.wEdge.length < MR * K) {
                    buf.wEdge = new float[MR * K];
                }
                wp = buf.wEdge;
                java.util.Arrays.fill(wp, 0, MR * K, 0f);
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(w, wo + r * ldw, wp, r * K, K);
                }
                wo = 0;
                ws = K;
            }
            for (int m0 = 0; m0 < M; m0 += NR) {   // each panel of xᵀ: NR rows of C
                int m = Math.min(NR, M - m0);
                for (int pc = 0; pc < K; pc += STREAM_KC) {   // the first block sets the tile, the others add
                    kernel(ceilDiv(m, L), Math.min(STREAM_KC, K - pc), wp, wo + pc, ws, 1, xt, m0 * K + pc * NR,
                            tile, 0, NR, pc > 0);
                }
                for (int i = 0; i < m; i++) {
                    int row = cOff + (m0 + i) * ldc + n0;
                    for (int r = 0; r < rows; r++) {
                        c[row + r] = accumulate ? c[row + r] + tile[r * NR + i] : tile[r * NR + i];
                    }
                }
            }
        }
    }

    /**
     * One tile of C at ci, mr × nr (mr ≤ MR, nr ≤ NR): C (+)= A(mr rows) · the packed panel of B at bPanel
     * (rows NR apart); edge is an MR × NR scratch tile.
     */
    static void tile(float[] a, int ao, int ars, int aks, int mr, float[] bp, int bPanel, int nr, int kc,
                     float[] c, int ci, int ldc, boolean add, float[] edge) {
        if (mr == MR && nr % L == 0) {
            // Whole vectors of full rows (every tile of NR columns, and a narrower last one such as a head
            // of 32): the kernel adds into C in place, or sets it. Setting it instead of zeroing the tile first ran a
            // 768 × 384 block of K = 128 (one block of k, as the baby's forward products) 1.05× as fast in the kernel
            // harness (Xeon family 6).
            kernel(nr / L, kc, a, ao, ars, aks, bp, bPanel, c, ci, ldc, add);
        } else {
            // Edge tile: compute the full (zero-padded) tile into a scratch tile, copy the valid part.
            kernel((nr + L - 1) / L, kc, a, ao, ars, aks, bp, bPanel, edge, 0, NR, false);
            for (int r = 0; r < mr; r++) {
                int row = ci + r * ldc;
                for (int j = 0; j < nr; j++) {
                    c[row + j] = add ? c[row + j] + edge[r * NR + j] : edge[r * NR + j];
                }
            }
        }
    }

    /** C[r, j] += bias[bOff + j] over an mr × nr tile at ci (the same sum, C + bias, as a pass over C after). */
    private static void addBias(float[] c, int ci, int ldc, int mr, int nr, float[] bias, int bOff) {
        int ub = nr / L * L;
        for (int r = 0; r < mr; r++) {
            int row = ci + r * ldc;
            int j = 0;
            for (; j < ub; j += L) {
                FloatVector.fromArray(F, c, row + j).add(FloatVector.fromArray(F, bias, bOff + j)).intoArray(c, row + j);
            }
            for (; j < nr; j++) {
                c[row + j] += bias[bOff + j];
            }
        }
    }

    /**
     * Copies the last mr (&lt; MR) rows op(A)[i0:i0+mr, pc:pc+kc] into a panel laid out as the kernel
     * reads it with ars = 1, aks = MR: for each k, MR values, the rows past mr zero.
     */
    static void packPartialA(boolean transA, float[] a, int aOff, int lda, int i0, int mr, int pc, int kc,
                             float[] ap) {
        for (int k = 0; k < kc; k++) {
            for (int r = 0; r < MR; r++) {
                int i = i0 + r, kk = pc + k;
                ap[k * MR + r] = r >= mr ? 0f : transA ? a[aOff + kk * lda + i] : a[aOff + i * lda + kk];
            }
        }
    }

    /**
     * Packs op(B)[pc:pc+kc, jc:jc+nc] as NR-column panels: panel p (at p·NR·kc) holds, for each k,
     * NR consecutive values op(B)[pc+k, jc+p·NR+j]. The last panel is zero-padded to NR.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] bp, float[] t16) {
        packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp, 0, t16);
    }

    /** {@link #packB} into bp from bpOff. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] bp, int bpOff, float[] t16) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = bpOff + jr * kc;
            if (transB) {
                // op(B)[k, j] = b[j·ldb + k]: a transpose, in 16 × 16 register blocks where possible.
                int j = 0;
                if (L == 16) {
                    for (; j + 16 <= nr; j += 16) {
                        int src = bOff + (jc + jr + j) * ldb + pc;
                        int k = 0;
                        for (; k + 16 <= kc; k += 16) {
                            Transpose16.firstHalf(b, src + k, ldb, t16);
                            Transpose16.secondHalf(t16, bp, base + k * NR + j, NR);
                        }
                        for (; k < kc; k++) {
                            for (int jj = 0; jj < 16; jj++) {
                                bp[base + k * NR + j + jj] = b[src + jj * ldb + k];
                            }
                        }
                    }
                }
                for (; j < nr; j++) {
                    int src = bOff + (jc + jr + j) * ldb + pc;
                    for (int k = 0; k < kc; k++) {
                        bp[base + k * NR + j] = b[src + k];
                    }
                }
            } else if (nr == NR) {
                // A whole panel by vector loads and stores rather than an arraycopy call per row: a weight
                // matrix comes from memory here (dx = dy·W), and this copied it at 8.4 GB/s against 7.1 (Zen 4).
                int src = bOff + pc * ldb + jc + jr;
                for (int k = 0; k < kc; k++, src += ldb) {
                    int d = base + k * NR;
                    FloatVector.fromArray(F, b, src).intoArray(bp, d);
                    FloatVector.fromArray(F, b, src + L).intoArray(bp, d + L);
                    FloatVector.fromArray(F, b, src + 2 * L).intoArray(bp, d + 2 * L);
                    FloatVector.fromArray(F, b, src + 3 * L).intoArray(bp, d + 3 * L);
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    System.arraycopy(b, bOff + (pc + k) * ldb + jc + jr, bp, base + k * NR, nr);
                }
            }
            if (nr < NR) {
                for (int k = 0; k < kc; k++) {
                    java.util.Arrays.fill(bp, base + k * NR + nr, base + (k + 1) * NR, 0f);
                }
            }
        }
    }

    /**
     * C[6 × nv·L] += A[6 × kc] · Bpanel[kc × nv·L] (C = 0 + ... if !add), A(r, k) = a[ao + r·ars + k·aks] with one of
     * the strides 1. Edge tiles narrower than NR use a kernel with fewer vectors (the B panel is zero-padded to whole
     * vectors).
     */
    static void kernel(int nv, int kc, float[] a, int ao, int ars, int aks, float[] bp, int bo,
                       float[] c, int ci, int ldc, boolean add) {
        if (ars != 1 && aks != 1) {
            throw new IllegalArgumentException("GEMM micro-kernel: one of A's strides must be 1, got " + ars + ", " + aks);
        }
        switch (nv) {
            case 4 -> {
                if (aks == 1) {
                    kernel4Rows(kc, a, ao, ars, bp, bo, c, ci, ldc, add);
                } else {
                    kernel4Columns(kc, a, ao, aks, bp, bo, c, ci, ldc, add);
                }
            }
            case 3 -> kernel3(kc, a, ao, ars, aks, bp, bo, c, ci, ldc, add);
            case 2 -> kernel2(kc, a, ao, ars, aks, bp, bo, c, ci, ldc, add);
            default -> kernel1(kc, a, ao, ars, aks, bp, bo, c, ci, ldc, add);
        }
    }

    /**
     * The hot loop: C[6 × 4L] += A[6 × kc] · Bpanel[kc × 4L], with A(r, k) = a[ao + r·ars + k], A's rows read
     * in place (a row-major A: a forward's X, an input gradient's dY; W's rows in {@link #streamWeights}).
     * 24 accumulators, 4 B vectors and 4 broadcasts are live: all 32 vector registers, so keep it free of
     * anything else. A's index is linear in k with a constant stride, so C2 checks A's bounds once before the
     * loop, not six times a step; with both strides variable it could not, and on Intel, where scalar work
     * shares two ports with the FMAs, the checks cost 4–9% of the loop (Xeon family 6, one thread).
     * {@link #kernel4Columns} is the same loop for A's columns.
     */
    static void kernel4Rows(int kc, float[] a, int ao, int ars, float[] bp, int bo, float[] c, int ci, int ldc,
                            boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z;
        FloatVector c50 = z, c51 = z, c52 = z, c53 = z;
        int a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bk + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, bp, bk + 3 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(F, a[ak + a1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(F, a[ak + a2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(F, a[ak + a3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(F, a[ak + a4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(F, a[ak + a5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        // C += tile or C = 0 + tile, written out: a helper here would not be inlined (the method is at C2's node
        // limit) and every vector would be boxed. Setting C, 0 + tile is what adding onto a zeroed tile gave, bit
        // for bit (a chain can end at −0 when its products underflow), without zeroing C and loading it back.
        int r0 = ci;
        c00.add(add ? FloatVector.fromArray(F, c, r0) : z).intoArray(c, r0);
        c01.add(add ? FloatVector.fromArray(F, c, r0 + L) : z).intoArray(c, r0 + L);
        c02.add(add ? FloatVector.fromArray(F, c, r0 + 2 * L) : z).intoArray(c, r0 + 2 * L);
        c03.add(add ? FloatVector.fromArray(F, c, r0 + 3 * L) : z).intoArray(c, r0 + 3 * L);
        int r1 = ci + ldc;
        c10.add(add ? FloatVector.fromArray(F, c, r1) : z).intoArray(c, r1);
        c11.add(add ? FloatVector.fromArray(F, c, r1 + L) : z).intoArray(c, r1 + L);
        c12.add(add ? FloatVector.fromArray(F, c, r1 + 2 * L) : z).intoArray(c, r1 + 2 * L);
        c13.add(add ? FloatVector.fromArray(F, c, r1 + 3 * L) : z).intoArray(c, r1 + 3 * L);
        int r2 = ci + 2 * ldc;
        c20.add(add ? FloatVector.fromArray(F, c, r2) : z).intoArray(c, r2);
        c21.add(add ? FloatVector.fromArray(F, c, r2 + L) : z).intoArray(c, r2 + L);
        c22.add(add ? FloatVector.fromArray(F, c, r2 + 2 * L) : z).intoArray(c, r2 + 2 * L);
        c23.add(add ? FloatVector.fromArray(F, c, r2 + 3 * L) : z).intoArray(c, r2 + 3 * L);
        int r3 = ci + 3 * ldc;
        c30.add(add ? FloatVector.fromArray(F, c, r3) : z).intoArray(c, r3);
        c31.add(add ? FloatVector.fromArray(F, c, r3 + L) : z).intoArray(c, r3 + L);
        c32.add(add ? FloatVector.fromArray(F, c, r3 + 2 * L) : z).intoArray(c, r3 + 2 * L);
        c33.add(add ? FloatVector.fromArray(F, c, r3 + 3 * L) : z).intoArray(c, r3 + 3 * L);
        int r4 = ci + 4 * ldc;
        c40.add(add ? FloatVector.fromArray(F, c, r4) : z).intoArray(c, r4);
        c41.add(add ? FloatVector.fromArray(F, c, r4 + L) : z).intoArray(c, r4 + L);
        c42.add(add ? FloatVector.fromArray(F, c, r4 + 2 * L) : z).intoArray(c, r4 + 2 * L);
        c43.add(add ? FloatVector.fromArray(F, c, r4 + 3 * L) : z).intoArray(c, r4 + 3 * L);
        int r5 = ci + 5 * ldc;
        c50.add(add ? FloatVector.fromArray(F, c, r5) : z).intoArray(c, r5);
        c51.add(add ? FloatVector.fromArray(F, c, r5 + L) : z).intoArray(c, r5 + L);
        c52.add(add ? FloatVector.fromArray(F, c, r5 + 2 * L) : z).intoArray(c, r5 + 2 * L);
        c53.add(add ? FloatVector.fromArray(F, c, r5 + 3 * L) : z).intoArray(c, r5 + 3 * L);
    }

    /**
     * {@link #kernel4Rows} with A(r, k) = a[ao + r + k·aks]: A's columns read in place (a weight gradient's dYᵀ)
     * or a packed panel (aks = MR). The six values of a step sit side by side, so C2 checks the first and the last
     * of them rather than all six (aks is not a constant, so the checks stay in the loop).
     */
    static void kernel4Columns(int kc, float[] a, int ao, int aks, float[] bp, int bo, float[] c, int ci, int ldc,
                               boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z;
        FloatVector c50 = z, c51 = z, c52 = z, c53 = z;
        final int a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * aks;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bk + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, bp, bk + 3 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(F, a[ak + a1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(F, a[ak + a2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(F, a[ak + a3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(F, a[ak + a4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(F, a[ak + a5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        // C += tile or C = 0 + tile, written out: a helper here would not be inlined (the method is at C2's node
        // limit) and every vector would be boxed. Setting C, 0 + tile is what adding onto a zeroed tile gave, bit
        // for bit (a chain can end at −0 when its products underflow), without zeroing C and loading it back.
        int r0 = ci;
        c00.add(add ? FloatVector.fromArray(F, c, r0) : z).intoArray(c, r0);
        c01.add(add ? FloatVector.fromArray(F, c, r0 + L) : z).intoArray(c, r0 + L);
        c02.add(add ? FloatVector.fromArray(F, c, r0 + 2 * L) : z).intoArray(c, r0 + 2 * L);
        c03.add(add ? FloatVector.fromArray(F, c, r0 + 3 * L) : z).intoArray(c, r0 + 3 * L);
        int r1 = ci + ldc;
        c10.add(add ? FloatVector.fromArray(F, c, r1) : z).intoArray(c, r1);
        c11.add(add ? FloatVector.fromArray(F, c, r1 + L) : z).intoArray(c, r1 + L);
        c12.add(add ? FloatVector.fromArray(F, c, r1 + 2 * L) : z).intoArray(c, r1 + 2 * L);
        c13.add(add ? FloatVector.fromArray(F, c, r1 + 3 * L) : z).intoArray(c, r1 + 3 * L);
        int r2 = ci + 2 * ldc;
        c20.add(add ? FloatVector.fromArray(F, c, r2) : z).intoArray(c, r2);
        c21.add(add ? FloatVector.fromArray(F, c, r2 + L) : z).intoArray(c, r2 + L);
        c22.add(add ? FloatVector.fromArray(F, c, r2 + 2 * L) : z).intoArray(c, r2 + 2 * L);
        c23.add(add ? FloatVector.fromArray(F, c, r2 + 3 * L) : z).intoArray(c, r2 + 3 * L);
        int r3 = ci + 3 * ldc;
        c30.add(add ? FloatVector.fromArray(F, c, r3) : z).intoArray(c, r3);
        c31.add(add ? FloatVector.fromArray(F, c, r3 + L) : z).intoArray(c, r3 + L);
        c32.add(add ? FloatVector.fromArray(F, c, r3 + 2 * L) : z).intoArray(c, r3 + 2 * L);
        c33.add(add ? FloatVector.fromArray(F, c, r3 + 3 * L) : z).intoArray(c, r3 + 3 * L);
        int r4 = ci + 4 * ldc;
        c40.add(add ? FloatVector.fromArray(F, c, r4) : z).intoArray(c, r4);
        c41.add(add ? FloatVector.fromArray(F, c, r4 + L) : z).intoArray(c, r4 + L);
        c42.add(add ? FloatVector.fromArray(F, c, r4 + 2 * L) : z).intoArray(c, r4 + 2 * L);
        c43.add(add ? FloatVector.fromArray(F, c, r4 + 3 * L) : z).intoArray(c, r4 + 3 * L);
        int r5 = ci + 5 * ldc;
        c50.add(add ? FloatVector.fromArray(F, c, r5) : z).intoArray(c, r5);
        c51.add(add ? FloatVector.fromArray(F, c, r5 + L) : z).intoArray(c, r5 + L);
        c52.add(add ? FloatVector.fromArray(F, c, r5 + 2 * L) : z).intoArray(c, r5 + 2 * L);
        c53.add(add ? FloatVector.fromArray(F, c, r5 + 3 * L) : z).intoArray(c, r5 + 3 * L);
    }

    static void kernel3(int kc, float[] a, int ao, int ars, int aks, float[] bp, int bo, float[] c, int ci, int ldc,
                        boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z;
        FloatVector c50 = z, c51 = z, c52 = z;
        int a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * aks;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bk + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02);
            x = FloatVector.broadcast(F, a[ak + a1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12);
            x = FloatVector.broadcast(F, a[ak + a2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22);
            x = FloatVector.broadcast(F, a[ak + a3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32);
            x = FloatVector.broadcast(F, a[ak + a4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42);
            x = FloatVector.broadcast(F, a[ak + a5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52);
        }
        // C += tile or C = 0 + tile, written out: a helper here would not be inlined (the method is at C2's node
        // limit) and every vector would be boxed. Setting C, 0 + tile is what adding onto a zeroed tile gave, bit
        // for bit (a chain can end at −0 when its products underflow), without zeroing C and loading it back.
        int r0 = ci;
        c00.add(add ? FloatVector.fromArray(F, c, r0) : z).intoArray(c, r0);
        c01.add(add ? FloatVector.fromArray(F, c, r0 + L) : z).intoArray(c, r0 + L);
        c02.add(add ? FloatVector.fromArray(F, c, r0 + 2 * L) : z).intoArray(c, r0 + 2 * L);
        int r1 = ci + ldc;
        c10.add(add ? FloatVector.fromArray(F, c, r1) : z).intoArray(c, r1);
        c11.add(add ? FloatVector.fromArray(F, c, r1 + L) : z).intoArray(c, r1 + L);
        c12.add(add ? FloatVector.fromArray(F, c, r1 + 2 * L) : z).intoArray(c, r1 + 2 * L);
        int r2 = ci + 2 * ldc;
        c20.add(add ? FloatVector.fromArray(F, c, r2) : z).intoArray(c, r2);
        c21.add(add ? FloatVector.fromArray(F, c, r2 + L) : z).intoArray(c, r2 + L);
        c22.add(add ? FloatVector.fromArray(F, c, r2 + 2 * L) : z).intoArray(c, r2 + 2 * L);
        int r3 = ci + 3 * ldc;
        c30.add(add ? FloatVector.fromArray(F, c, r3) : z).intoArray(c, r3);
        c31.add(add ? FloatVector.fromArray(F, c, r3 + L) : z).intoArray(c, r3 + L);
        c32.add(add ? FloatVector.fromArray(F, c, r3 + 2 * L) : z).intoArray(c, r3 + 2 * L);
        int r4 = ci + 4 * ldc;
        c40.add(add ? FloatVector.fromArray(F, c, r4) : z).intoArray(c, r4);
        c41.add(add ? FloatVector.fromArray(F, c, r4 + L) : z).intoArray(c, r4 + L);
        c42.add(add ? FloatVector.fromArray(F, c, r4 + 2 * L) : z).intoArray(c, r4 + 2 * L);
        int r5 = ci + 5 * ldc;
        c50.add(add ? FloatVector.fromArray(F, c, r5) : z).intoArray(c, r5);
        c51.add(add ? FloatVector.fromArray(F, c, r5 + L) : z).intoArray(c, r5 + L);
        c52.add(add ? FloatVector.fromArray(F, c, r5 + 2 * L) : z).intoArray(c, r5 + 2 * L);
    }

    static void kernel2(int kc, float[] a, int ao, int ars, int aks, float[] bp, int bo, float[] c, int ci, int ldc,
                        boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        int a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * aks;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[ak + a1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[ak + a2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[ak + a3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[ak + a4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[ak + a5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        // C += tile or C = 0 + tile, written out: a helper here would not be inlined (the method is at C2's node
        // limit) and every vector would be boxed. Setting C, 0 + tile is what adding onto a zeroed tile gave, bit
        // for bit (a chain can end at −0 when its products underflow), without zeroing C and loading it back.
        int r0 = ci;
        c00.add(add ? FloatVector.fromArray(F, c, r0) : z).intoArray(c, r0);
        c01.add(add ? FloatVector.fromArray(F, c, r0 + L) : z).intoArray(c, r0 + L);
        int r1 = ci + ldc;
        c10.add(add ? FloatVector.fromArray(F, c, r1) : z).intoArray(c, r1);
        c11.add(add ? FloatVector.fromArray(F, c, r1 + L) : z).intoArray(c, r1 + L);
        int r2 = ci + 2 * ldc;
        c20.add(add ? FloatVector.fromArray(F, c, r2) : z).intoArray(c, r2);
        c21.add(add ? FloatVector.fromArray(F, c, r2 + L) : z).intoArray(c, r2 + L);
        int r3 = ci + 3 * ldc;
        c30.add(add ? FloatVector.fromArray(F, c, r3) : z).intoArray(c, r3);
        c31.add(add ? FloatVector.fromArray(F, c, r3 + L) : z).intoArray(c, r3 + L);
        int r4 = ci + 4 * ldc;
        c40.add(add ? FloatVector.fromArray(F, c, r4) : z).intoArray(c, r4);
        c41.add(add ? FloatVector.fromArray(F, c, r4 + L) : z).intoArray(c, r4 + L);
        int r5 = ci + 5 * ldc;
        c50.add(add ? FloatVector.fromArray(F, c, r5) : z).intoArray(c, r5);
        c51.add(add ? FloatVector.fromArray(F, c, r5 + L) : z).intoArray(c, r5 + L);
    }

    static void kernel1(int kc, float[] a, int ao, int ars, int aks, float[] bp, int bo, float[] c, int ci, int ldc,
                        boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z;
        FloatVector c10 = z;
        FloatVector c20 = z;
        FloatVector c30 = z;
        FloatVector c40 = z;
        FloatVector c50 = z;
        int a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * aks;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00);
            x = FloatVector.broadcast(F, a[ak + a1]);
            c10 = b0.fma(x, c10);
            x = FloatVector.broadcast(F, a[ak + a2]);
            c20 = b0.fma(x, c20);
            x = FloatVector.broadcast(F, a[ak + a3]);
            c30 = b0.fma(x, c30);
            x = FloatVector.broadcast(F, a[ak + a4]);
            c40 = b0.fma(x, c40);
            x = FloatVector.broadcast(F, a[ak + a5]);
            c50 = b0.fma(x, c50);
        }
        // C += tile or C = 0 + tile, written out: a helper here would not be inlined (the method is at C2's node
        // limit) and every vector would be boxed. Setting C, 0 + tile is what adding onto a zeroed tile gave, bit
        // for bit (a chain can end at −0 when its products underflow), without zeroing C and loading it back.
        int r0 = ci;
        c00.add(add ? FloatVector.fromArray(F, c, r0) : z).intoArray(c, r0);
        int r1 = ci + ldc;
        c10.add(add ? FloatVector.fromArray(F, c, r1) : z).intoArray(c, r1);
        int r2 = ci + 2 * ldc;
        c20.add(add ? FloatVector.fromArray(F, c, r2) : z).intoArray(c, r2);
        int r3 = ci + 3 * ldc;
        c30.add(add ? FloatVector.fromArray(F, c, r3) : z).intoArray(c, r3);
        int r4 = ci + 4 * ldc;
        c40.add(add ? FloatVector.fromArray(F, c, r4) : z).intoArray(c, r4);
        int r5 = ci + 5 * ldc;
        c50.add(add ? FloatVector.fromArray(F, c, r5) : z).intoArray(c, r5);
    }
}
