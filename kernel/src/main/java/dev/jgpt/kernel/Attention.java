package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

import static dev.jgpt.kernel.Simd.F;

/**
 * Causal self-attention with grouped-query heads (Ainslie et al. 2023) over packed rows.
 *
 * <p>Heads ({@link Heads}): n query heads and nKv key/value heads of dim floats each, n a multiple of nKv;
 * query head h uses key/value head h / (n/nKv). nKv = n is multi-head attention (GPT-2), nKv = 1
 * multi-query. The head size is free of the model width (Llama and Qwen allow n·dim ≠ hidden size).
 * A packed row of the qkv tensor [B, T, (n + 2·nKv)·dim] is [q (n·dim) | k (nKv·dim) | v (nKv·dim)],
 * head h of q at h·dim, kv head g of k at n·dim + g·dim and of v at (n + nKv)·dim + g·dim. With nKv = n
 * and dim = C/n that is exactly GPT-2's [q | k | v] of 3C, and the (C, NH) methods are that case.
 *
 * <p>Forward writes out [B, T, n·dim] and the attention probabilities att [B, n, T, T] (needed by backward;
 * zeros above the diagonal). Parallel over (b, h), one query head per task. A head is two matrix products
 * and a softmax, done by the packed GEMM ({@link Gemm#gemm}, which reads q, k, v in place at their row
 * stride): S = q·kᵀ into att, P = softmax(scale·S) row by row, out = P·v; backward is five products
 * around the softmax's backward. Query rows go in blocks of {@link #ROWS}, each against the keys it can
 * see, so long sequences skip most of the masked upper triangle. Short sequences whose keys and head fit
 * one packed panel (T ≤ 64 and dim ≤ 64 in whole vectors on AVX-512, as the baby and
 * GPT-2 heads at T ≤ 64) skip the GEMM's per-product packing and dispatch instead: a head's operands are
 * packed once and its products run on {@link GemmPacked}'s micro-kernel directly, six rows at a time,
 * with the same sums. Longer sequences do so too ({@link #inPanels}: kᵀ and vᵀ in as many panels of
 * keys as they take).
 * {@link #decode} is the inference path: new query rows against a KV cache of nKv heads per position.
 */
public final class Attention {
    private Attention() {}

    /**
     * The head layout: {@code n} query heads, {@code nKv} key/value heads, {@code dim} floats per head.
     * Query head h reads key/value head h / {@link #group()}.
     */
    public record Heads(int n, int nKv, int dim) {
        public Heads {
            if (n <= 0 || nKv <= 0 || dim <= 0) {
                throw new IllegalArgumentException("attention heads: n_head, n_kv_head and head_dim must be positive, "
                        + "got n_head=" + n + " n_kv_head=" + nKv + " head_dim=" + dim);
            }
            if (n % nKv != 0) {
                throw new IllegalArgumentException("attention heads: n_head=" + n + " is not a multiple of n_kv_head="
                        + nKv);
            }
            if ((long) (n + 2 * nKv) * dim > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("attention heads: a row of (n_head + 2·n_kv_head)·head_dim exceeds "
                        + "2^31 floats");
            }
        }

        /** GPT-2's heads: nh heads of C/nh, as many key/value heads as query heads. */
        public static Heads multiHead(int C, int nh) {
            if (C <= 0 || nh <= 0 || C % nh != 0) {
                throw new IllegalArgumentException("attention heads: C=" + C + " is not divisible by NH=" + nh);
            }
            return new Heads(nh, nh, C / nh);
        }

        /** Query heads per key/value head. */
        public int group() {
            return n / nKv;
        }

        /** Width of q and of the attention output: n·dim. */
        public int qWidth() {
            return n * dim;
        }

        /** Width of k, of v and of a KV-cache row: nKv·dim. */
        public int kvWidth() {
            return nKv * dim;
        }

        /** Width of a packed [q | k | v] row: (n + 2·nKv)·dim. */
        public int rowWidth() {
            return qWidth() + 2 * kvWidth();
        }

        @Override
        public String toString() {
            return "n_head=" + n + ", n_kv_head=" + nKv + ", head_dim=" + dim;
        }
    }

    /** GPT-2's multi-head attention over qkv [B, T, 3C]: {@link #forward(float[], float[], float[], int, int, Heads)}. */
    public static void forward(float[] out, float[] att, float[] qkv, int B, int T, int C, int NH) {
        check("attention(B=" + B + ", T=" + T + ", C=" + C + ", NH=" + NH + ")", B, T, C, NH);
        forward(out, att, qkv, B, T, Heads.multiHead(C, NH));
    }

    /**
     * Causal attention of qkv [B, T, heads.rowWidth()] (layout in the class note): out [B, T, n·dim],
     * att [B, n, T, T].
     */
    public static void forward(float[] out, float[] att, float[] qkv, int B, int T, Heads heads) {
        String op = "attention(B=" + B + ", T=" + T + ", " + heads + ")";
        check(op, B, T, heads);
        Checks.length(op, "qkv", qkv, (long) B * T * heads.rowWidth());
        Checks.length(op, "out", out, (long) B * T * heads.qWidth());
        Checks.length(op, "att", att, (long) B * heads.n() * T * T);
        int hs = heads.dim(), NH = heads.n(), G = heads.group(), W = heads.rowWidth(), Q = heads.qWidth();
        int kOff = Q, vOff = Q + heads.kvWidth();
        float scale = (float) (1.0 / Math.sqrt(hs));
        boolean inPanels = inPanels(T, hs);
        Parallel.forRange(B * NH, 1, CHUNKS_PER_THREAD, (s, e) -> {
            Scratch sc = SCRATCH.get();
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH, g = h / G;
                int base = b * T * W;
                int qB = base + h * hs, kB = base + kOff + g * hs, vB = base + vOff + g * hs;
                int aB = bh * T * T, oB = b * T * Q + h * hs;
                if (inPanels) {
                    forwardInPanels(out, oB, Q, att, aB, qkv, qB, kB, vB, W, T, hs, scale, sc);
                    continue;
                }
                for (int r0 = 0; r0 < T; r0 += ROWS) {
                    int r1 = Math.min(T, r0 + ROWS), m = r1 - r0;
                    // S = q·kᵀ of rows r0..r1−1 against keys 0..r1−1 (the later ones are none of theirs), into att.
                    Gemm.gemm(false, true, m, r1, hs, qkv, qB + r0 * W, W, qkv, kB, W, att, aB + r0 * T, T, false);
                    softmaxRows(att, aB + r0 * T, T, att, aB, r0, r1, T, scale, sc);
                    // out = P·v (P is zero past the diagonal).
                    Gemm.gemm(false, false, m, hs, r1, att, aB + r0 * T, T, qkv, vB, W, out, oB + r0 * Q, Q, false);
                }
            }
        });
    }

    /**
     * Query rows per block of the products: rows r0..r1−1 meet keys 0..r1−1 only, so a long sequence skips
     * most of the upper triangle; a short one (T ≤ ROWS) is one block, where whole products beat skipping.
     */
    private static final int ROWS = 64;
    /**
     * The (sequence, head) pairs are cut into up to this many chunks per thread (the baby's 48 pairs: one each), which
     * the threads claim as they finish the last: a pair takes ~10 µs, and with 4 chunks a thread could wait a
     * chunk of ~70 µs for the other at the end of every call. Pairs are independent: the same bits however cut.
     */
    private static final int CHUNKS_PER_THREAD = 24;

    /**
     * Whether the backward's threads first read a sequence's rows of qkv, att and dqkv once, in order, before its heads
     * run ({@link #warm}); {@code -Djgpt.attention.warm=false} turns it off (A/B timing).
     */
    static final boolean WARM = !"false".equals(System.getProperty("jgpt.attention.warm"));
    /**
     * The most floats a sequence's rows of qkv, att and dqkv may take for {@link #WARM} (256 KB, the baby's): a quarter of
     * Zen 4's and Zen 5's 1 MB L2, so that what is read first is still there when the sequence's last head reaches it.
     */
    static final int WARM_FLOATS = 1 << 16;
    /** Numbers the backward's calls, so that a thread's scratch knows which sequence it last warmed in this one. */
    private static final java.util.concurrent.atomic.AtomicInteger CALLS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Reads sequence b's rows of each array (w floats from b·w) once, a vector at a time and in order, unless this
     * thread did so last in this call. A head reads its slice of every row of qkv and dqkv (the baby's: 32 floats of
     * 384) and its T × T block of att, all written long before in a training step and so from beyond L2: each line of
     * a head's slices is a miss of its own, which the prefetchers, finding no stream, do not hide. One pass over the sequence's
     * contiguous rows streams them into L2 for all of its heads. (dout comes warm from the product before.) The
     * baby's backward alone, 128 MB read between calls: 720 → 600 µs on one thread, 425 → 356 on two (in cache: 415
     * → 440 and 206 → 220); in a training step on two threads, 1.50–1.70 → 1.25–1.54 ms a step, the whole step
     * 1.008–1.027× ({@code TrainPair.java}'s baby, four runs; Xeon family 6).
     * Reads only: the same bits.
     */
    private static void warm(Scratch sc, int call, int b, float[] a0, int w0, float[] a1, int w1, float[] a2, int w2) {
        if (sc.warmedCall == call && sc.warmedSequence == b) {
            return;
        }
        sc.warmedCall = call;
        sc.warmedSequence = b;
        sc.sink += touch(a0, b * w0, w0).add(touch(a1, b * w1, w1)).add(touch(a2, b * w2, w2)).lane(0);
    }

    /**
     * The sum of a[from .. from + n) by whole vectors (the reads are the point; the sum keeps them), in four chains of
     * adds: {@link Vec#sum}'s one chain waits on each add, and in its place the pass cost twice as much in cache and
     * saved less from beyond it (the baby's backward alone on two threads: 231–260 µs against 206–220, cold 395–448
     * against 356).
     */
    private static FloatVector touch(float[] a, int from, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int L = Simd.LANES, i = from, end = from + n;
        for (; i + 4 * L <= end; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + L));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * L));
        }
        return s0.add(s1).add(s2.add(s3));
    }

    /**
     * Rows r0..r1−1 of a head's probabilities [T × T] from aB, from their scores (row t has t + 1) at
     * scores[sOff + (t − r0)·sStride ..] (att's own rows, or a tile): p = softmax(scale·s) (the row maximum
     * subtracted before exp), then zeros past the diagonal. The scores are scaled in place. In passes over
     * the rows: the steps of one row wait for each other (its maximum, then exp and the sum, then the
     * scaling), those of different rows do not, and the core overlaps them.
     */
    private static void softmaxRows(float[] scores, int sOff, int sStride, float[] att, int aB, int r0, int r1, int T,
                                    float scale, Scratch sc) {
        int L = F.length();
        FloatVector vScale = FloatVector.broadcast(F, scale);
        for (int t = r0; t < r1; t++) {   // s ← scale·s, and the row maximum
            int a = sOff + (t - r0) * sStride, n = t + 1, j = 0;
            FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; j + L <= n; j += L) {
                FloatVector v = FloatVector.fromArray(F, scores, a + j).mul(vScale);
                v.intoArray(scores, a + j);
                max = max.max(v);
            }
            if (j < n) {
                VectorMask<Float> m = F.indexInRange(j, n);
                FloatVector v = FloatVector.fromArray(F, scores, a + j, m).mul(vScale);
                v.intoArray(scores, a + j, m);
                max = max.max(v.blend(Float.NEGATIVE_INFINITY, m.not()));
            }
            sc.rowMax[t - r0] = max.reduceLanes(VectorOperators.MAX);
        }
        for (int t = r0; t < r1; t++) {   // e^(s − max) and its sum
            sc.rowSum[t - r0] = Vec.expShiftSum(att, aB + t * T, scores, sOff + (t - r0) * sStride, t + 1,
                    sc.rowMax[t - r0]);
        }
        for (int t = r0; t < r1; t++) {   // p = e / sum, zeros past the diagonal
            int a = aB + t * T, n = t + 1, j = 0;
            FloatVector inv = FloatVector.broadcast(F, (float) (1.0 / sc.rowSum[t - r0]));
            for (; j + L <= n; j += L) {
                FloatVector.fromArray(F, att, a + j).mul(inv).intoArray(att, a + j);
            }
            if (j < n) {
                VectorMask<Float> m = F.indexInRange(j, n);
                FloatVector.fromArray(F, att, a + j, m).mul(inv).intoArray(att, a + j, m);
            }
            Arrays.fill(att, a + n, a + T, 0f);
        }
    }

    /**
     * Each thread's scratch: dS of a head for {@link #backward}, per-row values of a block of rows, and for
     * {@link #inPanels short sequences} four packed panels, a tile of scores, a partial block of rows of A
     * and an edge tile.
     */
    private static final class Scratch {
        float[] ds = new float[0];
        /** {@link #warm}: the call and sequence this thread last read, and where the sums go. */
        int warmedCall, warmedSequence = -1;
        float sink;
        final float[] rowMax = new float[ROWS], rowDot = new float[ROWS];
        final double[] rowSum = new double[ROWS];
        /** Grown for a sequence longer than NR ({@link #fit}). */
        float[] panel0 = new float[NR * NR + PAD], panel1 = new float[NR * NR + PAD], tile = new float[MR * NR],
                panel2 = new float[NR * NR + PAD], panel3 = new float[NR * NR + PAD];
        /** A partial block of rows of A, up to NR or {@link GemmPacked#KC} deep (the forward's P·v blocks). */
        final float[] edge = new float[MR * NR], partialA = new float[MR * Math.max(NR, GemmPacked.KC)];
        final float[] t16 = new float[256];

        /**
         * Grows the panels and the tile for T keys of dim hs ≤ NR: each panel holds T rows NR apart or hs rows of T
         * keys rounded up to whole panels, the tile MR rows of those keys.
         */
        void fit(int T, int hs) {
            int keys = GemmPacked.roundUp(T, NR), n = Math.max(T * NR, hs * keys) + PAD;
            if (panel0.length < n) {
                panel0 = new float[n];
                panel1 = new float[n];
                panel2 = new float[n];
                panel3 = new float[n];
            }
            if (tile.length < MR * keys) {
                tile = new float[MR * keys];
            }
        }
    }

    private static final int MR = GemmPacked.MR, NR = GemmPacked.NR, PAD = GemmPacked.PAD_SLACK;

    /**
     * Whether sequences longer than one panel of keys run in panels too ({@link #inPanels});
     * {@code -Djgpt.attention.panels=false} leaves them to the GEMM in blocks of {@link #ROWS} query rows (A/B timing).
     * Not final, so that tests can compare the two paths.
     */
    static boolean longPanels = !"false".equals(System.getProperty("jgpt.attention.panels"));

    /**
     * Whether a head runs in panels ({@link #forwardInPanels}, {@link #backwardInPanels}): its dim fits one NR-column
     * panel (64 floats on AVX-512) in whole vectors; kᵀ and vᵀ take as many panels of NR keys as T needs. Against
     * the GEMM in blocks of {@link #ROWS} query rows, which packed the operands again for each block and took each
     * product through the GEMM's dispatch, packing and transposes, the forward alone ran 1.2-1.4x as fast at T = 128,
     * 1.4-1.6x at 256 (B12, 6 heads of 64), 1.5-1.6x at 512, 1024 and 2048 (heads of 64), the backward 1.3x at 128 and
     * 256, 1.15-1.3x at 512 and 1024; one thread, Xeon family 6.
     */
    static boolean inPanels(int T, int hs) {
        return (longPanels || T <= NR) && hs <= NR && hs % Simd.LANES == 0;
    }

    /**
     * One head's forward in panels ({@link #inPanels}): kᵀ packed once into panels of NR keys and v
     * into one panel, as {@link GemmPacked}'s micro-kernel reads B, then per block of MR query rows t0..t1−1 the scores
     * against keys 0..t1−1 only (in whole vectors; the few past the diagonal are ignored) into a tile in L1, the softmax
     * from the tile into att, and out = P·v over keys 0..t1−1 in the GEMM's blocks of {@link GemmPacked#KC} keys,
     * added in order. The same sums in the same order as the GEMM's products of the general path (which also add P's
     * zeros past the diagonal, and a block of them: +0), without their per-product packing and dispatch.
     */
    private static void forwardInPanels(float[] out, int oB, int Q, float[] att, int aB, float[] qkv, int qB, int kB,
                                        int vB, int W, int T, int hs, float scale, Scratch sc) {
        int stride = GemmPacked.roundUp(T, NR);
        sc.fit(T, hs);
        float[] kt = sc.panel0, vp = sc.panel1, tile = sc.tile;
        int p = GemmPacked.bPad;   // the panels on cache lines, as the GEMM's
        GemmPacked.packB(true, qkv, kB, W, 0, hs, 0, T, kt, p, sc.t16);    // kᵀ: [hs × NR] panels of NR keys
        rowsToPanel(qkv, vB, W, T, hs, vp, p);                            // v [T × NR]
        for (int t = 0; t < T; t += MR) {
            int t0 = lastBlockOverlaps(T, false) ? Math.min(t, T - MR) : t, mr = Math.min(MR, T - t0), t1 = t0 + mr;
            againstKeyPanels(mr, t1, hs, qkv, qB + t0 * W, W, kt, p, tile, stride, sc);   // the scores
            softmaxRows(tile, 0, stride, att, aB, t0, t1, T, scale, sc);
            inKcBlocks(mr, hs, 0, t1, 0, att, aB + t0 * T, T, 1, vp, p, out, oB + t0 * Q, Q, false, sc);
        }
    }

    /**
     * One head's backward in panels ({@link #inPanels}), as {@link #forwardInPanels}: k and vᵀ (of the kv head, for
     * all query heads of its group), q and dO (of the query head) packed once, then the general path's five products
     * per block of MR rows, each over the keys or queries it can see, in the GEMM's blocks of {@link GemmPacked#KC}:
     * dq's over keys from 0, dk's and dv's over queries from the start of the general path's block of {@link #ROWS}
     * keys (the queries before j0 add only dS's and P's zeros there). So the same sums in the same order.
     */
    private static void backwardInPanels(float[] dqkv, boolean accumulate, float[] dout, float[] qkv, float[] att,
                                         float[] ds, int S, int b, int g, int T, Heads heads, float scale, Scratch sc) {
        int hs = heads.dim(), NH = heads.n(), G = heads.group(), W = heads.rowWidth(), Q = heads.qWidth();
        int stride = GemmPacked.roundUp(T, NR);
        int base = b * T * W, kB = base + Q + g * hs, vB = base + Q + heads.kvWidth() + g * hs;
        sc.fit(T, hs);
        float[] kp = sc.panel0, vt = sc.panel1, qp = sc.panel2, dop = sc.panel3, tile = sc.tile;
        int p = GemmPacked.bPad;
        rowsToPanel(qkv, kB, W, T, hs, kp, p);                            // k [T × NR]
        GemmPacked.packB(true, qkv, vB, W, 0, hs, 0, T, vt, p, sc.t16);    // vᵀ: [hs × NR] panels of NR keys
        for (int h = g * G; h < (g + 1) * G; h++) {
            int qB = base + h * hs, aB = (b * NH + h) * T * T, dB = b * T * Q + h * hs;
            rowsToPanel(qkv, qB, W, T, hs, qp, p);      // q [T × NR]
            rowsToPanel(dout, dB, Q, T, hs, dop, p);    // dO [T × NR]
            for (int i = 0; i < T; i += MR) {
                int t0 = lastBlockOverlaps(T, accumulate) ? Math.min(i, T - MR) : i, mr = Math.min(MR, T - t0), t1 = t0 + mr;
                // dP = dO·vᵀ against keys 0..t1−1 into the tile, then dS row by row.
                againstKeyPanels(mr, t1, hs, dout, dB + t0 * Q, Q, vt, p, tile, stride, sc);
                for (int t = t0; t < t1; t++) {   // Σ P·dP of each row first (see softmaxRows)
                    sc.rowDot[t - t0] = Vec.dot(att, aB + t * T, tile, (t - t0) * stride, t + 1);
                }
                for (int t = t0; t < t1; t++) {
                    softmaxBackwardRow(ds, t * S, tile, (t - t0) * stride, att, aB + t * T, t + 1, sc.rowDot[t - t0], scale);
                    Arrays.fill(ds, t * S + t + 1, t * S + T, 0f);
                }
                // dq (+)= dS·k over keys 0..t1−1
                inKcBlocks(mr, hs, 0, t1, 0, ds, t0 * S, S, 1, kp, p, dqkv, qB + t0 * W, W, accumulate, sc);
            }
            // dk (+)= dSᵀ·q and dv (+)= Pᵀ·dO for keys j0..j0+MR−1, over the queries t ≥ j0 (set by the group's
            // first head, unless accumulating), in blocks of KC queries from the start of their block of ROWS keys:
            // the blocks of MR keys do not cross one.
            boolean add = accumulate || h > g * G;
            for (int from = 0; from < T; from += ROWS) {
                int end = Math.min(T, from + ROWS);
                for (int j = from; j < end; j += MR) {
                    int j0 = lastBlockOverlaps(end - from, add) ? Math.min(j, end - MR) : j, mr = Math.min(MR, end - j0);
                    inKcBlocks(mr, hs, j0, T, from, ds, j0, 1, S, qp, p, dqkv, kB + j0 * W, W, add, sc);
                    inKcBlocks(mr, hs, j0, T, from, att, aB + j0, 1, T, dop, p, dqkv, vB + j0 * W, W, add, sc);
                }
            }
        }
    }

    /**
     * Whether a last block of fewer than MR rows is instead the last MR rows, overlapping the block before:
     * the rows of both are set to the same values twice (the longer sums add only P's and dS's zeros past
     * the diagonal), which beats copying a partial block. Not when adding to the output, nor for T &lt; MR.
     */
    private static boolean lastBlockOverlaps(int T, boolean add) {
        return !add && T >= MR;
    }

    /**
     * tile[r·stride + j] = A(r, ·)·kᵀ(·, j) for the keys j &lt; t1 (and the few past them in the last vector), one panel
     * of NR keys at a time: A's mr rows (lda apart, hs each) against kᵀ packed as {@link GemmPacked#packB} packs it from
     * kt[p] ([hs × NR] per panel). One chain over hs per value.
     */
    private static void againstKeyPanels(int mr, int t1, int hs, float[] a, int ao, int lda, float[] kt, int p,
                                         float[] tile, int stride, Scratch sc) {
        for (int j0 = 0; j0 < t1; j0 += NR) {
            int keys = Math.min(NR, t1 - j0);
            panelProduct(mr, (keys + Simd.LANES - 1) / Simd.LANES, hs, a, ao, lda, 1, kt, p + j0 * hs, tile, j0, stride,
                    false, sc);
        }
    }

    /**
     * C[mr × hs] (+)= Σ over k0 ≤ k &lt; k1 of A(r, k)·B(k, ·), A(r, k) = a[ao + r·ars + k·aks] and B's row k at
     * bp[bo + k·NR], in the GEMM's blocks of {@link GemmPacked#KC} counted from kFrom: the first set (unless add), the
     * others added in order, as the GEMM's path sums a product whose k starts at kFrom (the k below k0 adding zeros).
     */
    private static void inKcBlocks(int mr, int hs, int k0, int k1, int kFrom, float[] a, int ao, int ars, int aks,
                                   float[] bp, int bo, float[] c, int ci, int ldc, boolean add, Scratch sc) {
        for (int k = k0; k < k1; ) {
            int next = Math.min(k1, kFrom + ((k - kFrom) / GemmPacked.KC + 1) * GemmPacked.KC);
            panelProduct(mr, hs / Simd.LANES, next - k, a, ao + k * aks, ars, aks, bp, bo + k * NR, c, ci, ldc,
                    add || k > k0, sc);
            k = next;
        }
    }

    /**
     * rows × cols floats of src (rows ld apart) into a panel of rows NR apart from panel[at], as the micro-kernel
     * reads B (no zero padding: the products read cols = dim floats of each row, whole vectors). By vectors, cols being
     * whole ones ({@link #inPanels}), rather than an arraycopy call per row of 32 floats, which JFR charged with 1.2%
     * of a baby step on one thread; the step, the two ways taking turns on two threads, 1.002-1.003x (Xeon family 6).
     */
    private static void rowsToPanel(float[] src, int off, int ld, int rows, int cols, float[] panel, int at) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0, o = off + r * ld, p = at + r * NR; j < cols; j += Simd.LANES) {
                FloatVector.fromArray(F, src, o + j).intoArray(panel, p + j);
            }
        }
    }

    /**
     * C[mr × nv·L] (+)= A·B by {@link GemmPacked#tile}, mr ≤ MR: A(r, k) = a[ao + r·ars + k·aks] for k &lt; kc (one
     * of the strides is 1), read in place for a whole block of MR rows, else copied zero-padded as the GEMM copies
     * its last panel ({@link GemmPacked#packPartialA}); B a packed panel, rows NR apart from bo; C at
     * c[ci + r·ldc + j]. Set (add = false) or added to.
     */
    private static void panelProduct(int mr, int nv, int kc, float[] a, int ao, int ars, int aks, float[] bp, int bo,
                                     float[] c, int ci, int ldc, boolean add, Scratch sc) {
        if (mr < MR) {
            boolean transA = aks != 1;
            GemmPacked.packPartialA(transA, a, ao, transA ? aks : ars, 0, mr, 0, kc, sc.partialA);
            a = sc.partialA;
            ao = 0;
            ars = 1;
            aks = MR;
        }
        GemmPacked.tile(a, ao, ars, aks, mr, bp, bo, nv * Simd.LANES, kc, c, ci, ldc, add, sc.edge);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** GPT-2's multi-head attention backward: {@link #backward(float[], float[], float[], float[], int, int, Heads)}. */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, int C, int NH) {
        check("attentionBackward(B=" + B + ", T=" + T + ", C=" + C + ", NH=" + NH + ")", B, T, C, NH);
        backward(dqkv, dout, qkv, att, B, T, Heads.multiHead(C, NH));
    }

    /**
     * Accumulates dqkv (+=) from dout [B, T, n·dim], using qkv and the forward's att.
     * Per query head: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale, dQ = dS·K, dK = dSᵀ·Q;
     * a key/value head sums dK and dV over the query heads of its group. dS for the head is kept in a
     * per-thread T×T scratch. Parallel over (b, kv head): the query heads of a group run in order in one
     * task, so no two threads add to the same dK/dV row and the sums do not depend on the thread count.
     */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, Heads heads) {
        backward(dqkv, true, dout, qkv, att, B, T, heads);
    }

    /**
     * {@link #backward(float[], float[], float[], float[], int, int, Heads)}, but dqkv's first B·T rows are SET
     * to the gradient, whatever they held (each product writes its part instead of adding to a zeroed buffer).
     */
    public static void backwardSet(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, Heads heads) {
        backward(dqkv, false, dout, qkv, att, B, T, heads);
    }

    private static void backward(float[] dqkv, boolean accumulate, float[] dout, float[] qkv, float[] att, int B, int T,
                                 Heads heads) {
        String op = "attentionBackward(B=" + B + ", T=" + T + ", " + heads + ")";
        check(op, B, T, heads);
        Checks.length(op, "qkv", qkv, (long) B * T * heads.rowWidth());
        Checks.length(op, "dqkv", dqkv, (long) B * T * heads.rowWidth());
        Checks.length(op, "dout", dout, (long) B * T * heads.qWidth());
        Checks.length(op, "att", att, (long) B * heads.n() * T * T);
        int hs = heads.dim(), NH = heads.n(), NKV = heads.nKv(), G = heads.group();
        int W = heads.rowWidth(), Q = heads.qWidth(), kOff = Q, vOff = Q + heads.kvWidth();
        float scale = (float) (1.0 / Math.sqrt(hs));
        // dS row stride: not a multiple of 64 floats, or reading a column block (dSᵀ·Q) would walk the same
        // few L1 sets at every row.
        int S = T % 64 == 0 ? T + Simd.LANES : T;
        boolean inPanels = inPanels(T, hs);
        int call = CALLS.incrementAndGet();
        boolean warm = WARM && (long) T * (2 * W + NH * T) <= WARM_FLOATS;
        Parallel.forRange(B * NKV, 1, CHUNKS_PER_THREAD, (s, e) -> {
            Scratch sc = SCRATCH.get();
            if (sc.ds.length < T * S) {
                sc.ds = new float[T * S];
            }
            float[] ds = sc.ds;
            for (int bg = s; bg < e; bg++) {
                int b = bg / NKV, g = bg % NKV;
                if (warm) {
                    warm(sc, call, b, qkv, T * W, att, NH * T * T, dqkv, T * W);
                }
                if (inPanels) {
                    backwardInPanels(dqkv, accumulate, dout, qkv, att, ds, S, b, g, T, heads, scale, sc);
                    continue;
                }
                int base = b * T * W;
                int kB = base + kOff + g * hs, vB = base + vOff + g * hs;
                for (int h = g * G; h < (g + 1) * G; h++) {
                    int qB = base + h * hs, aB = (b * NH + h) * T * T, dB = b * T * Q + h * hs;
                    for (int r0 = 0; r0 < T; r0 += ROWS) {
                        int r1 = Math.min(T, r0 + ROWS), m = r1 - r0;
                        // dP = dO·vᵀ of rows r0..r1−1 against keys 0..r1−1, then dS row by row.
                        Gemm.gemm(false, true, m, r1, hs, dout, dB + r0 * Q, Q, qkv, vB, W, ds, r0 * S, S, false);
                        for (int t = r0; t < r1; t++) {   // Σ P·dP of each row first (see softmaxRows)
                            sc.rowDot[t - r0] = Vec.dot(att, aB + t * T, ds, t * S, t + 1);
                        }
                        for (int t = r0; t < r1; t++) {
                            int row = t * S;
                            softmaxBackwardRow(ds, row, ds, row, att, aB + t * T, t + 1, sc.rowDot[t - r0], scale);
                            Arrays.fill(ds, row + t + 1, row + T, 0f);
                        }
                        // dq += dS·k (the head's only term: set, unless accumulating)
                        Gemm.gemm(false, false, m, hs, r1, ds, r0 * S, S, qkv, kB, W, dqkv, qB + r0 * W, W, accumulate);
                    }
                    // dk += dSᵀ·q and dv += Pᵀ·dO for keys j0..j1−1, over the queries t ≥ j0 that see them (set
                    // by the group's first head, unless accumulating).
                    boolean add = accumulate || h > g * G;
                    for (int j0 = 0; j0 < T; j0 += ROWS) {
                        int m = Math.min(T, j0 + ROWS) - j0, n = T - j0;
                        Gemm.gemm(true, false, m, hs, n, ds, j0 * S + j0, S, qkv, qB + j0 * W, W, dqkv, kB + j0 * W, W, add);
                        Gemm.gemm(true, false, m, hs, n, att, aB + j0 * T + j0, T, dout, dB + j0 * Q, Q, dqkv, vB + j0 * W, W, add);
                    }
                }
            }
        });
    }

    /**
     * GPT-2's decode of one new position against a KV cache of C-wide rows, all offsets 0:
     * {@link #decode}.
     */
    public static void decodeStep(float[] out, float[] q, float[] kCache, float[] vCache, int pos, int C, int NH,
                                  float[] att) {
        decodeStep(out, 0, q, 0, kCache, vCache, 0, pos, C, NH, att);
    }

    /**
     * GPT-2's decode of one new position: {@link #decode} with rows = 1 and nKv = n = NH heads of C/NH.
     * The caches are [T_max × C] from cacheOff, q is C floats at qOff, the output C floats at outOff; att
     * (≥ NH·(pos+1) floats) receives the probabilities of head h at att[h·(pos+1) ..].
     */
    public static void decodeStep(float[] out, int outOff, float[] q, int qOff, float[] kCache, float[] vCache,
                                  int cacheOff, int pos, int C, int NH, float[] att) {
        if (pos < 0 || C <= 0 || NH <= 0 || C % NH != 0 || outOff < 0 || qOff < 0 || cacheOff < 0
                || q == null || out == null || kCache == null || vCache == null || att == null
                || (long) qOff + C > q.length || (long) outOff + C > out.length
                || cacheOff + (long) (pos + 1) * C > kCache.length || cacheOff + (long) (pos + 1) * C > vCache.length
                || (long) NH * (pos + 1) > att.length) {
            throw new IllegalArgumentException("attentionDecode(pos=" + pos + ", C=" + C + ", NH=" + NH
                    + "): bad shapes: C must be positive and divisible by NH, pos >= 0; need q ≥ qOff+C ("
                    + (q == null ? "null" : q.length) + "), out ≥ outOff+C (" + (out == null ? "null" : out.length)
                    + "), caches ≥ cacheOff+(pos+1)·C (" + (kCache == null ? "null" : kCache.length) + ", "
                    + (vCache == null ? "null" : vCache.length) + "), att ≥ NH·(pos+1) ("
                    + (att == null ? "null" : att.length) + ")");
        }
        decode(out, outOff, q, qOff, C, kCache, vCache, cacheOff, pos, 1, Heads.multiHead(C, NH), att);
    }

    /**
     * Attention of {@code rows} new positions firstPos..firstPos+rows−1 of one sequence against its KV
     * cache (inference: one decoded token, or a chunk of a prompt). Row r attends to positions
     * 0..firstPos+r, so the new rows are causal among themselves too.
     *
     * <p>Layout: the caches are row-major [T_max × nKv·dim] from {@code cacheOff}; row p holds position
     * p's keys (kCache) or values (vCache) of every kv head, head g at g·dim — the k and v parts of a
     * packed row, so the cache holds nKv heads per position, not n. Rows 0..firstPos+rows−1 must be filled
     * before the call ({@link #appendToCache}). Row r's query is n·dim floats at q[qOff + r·qStride] (for
     * packed qkv rows qStride = {@link Heads#rowWidth()}); its output goes to out[outOff + r·n·dim ..].
     * att is scratch of at least rows·n·(firstPos+rows) floats; it receives row r's probabilities of head h
     * at att[(r·n + h)·(firstPos+rows) ..] (firstPos+r+1 of them). Parallel over (row, head) when the
     * work is large; the result does not depend on the split.
     */
    public static void decode(float[] out, int outOff, float[] q, int qOff, int qStride, float[] kCache,
                              float[] vCache, int cacheOff, int firstPos, int rows, Heads heads, float[] att) {
        String op = "attentionDecode(firstPos=" + firstPos + ", rows=" + rows + ", " + heads + ")";
        Checks.nonNegative(op, "firstPos", firstPos);
        Checks.nonNegative(op, "rows", rows);
        Checks.nonNegative(op, "outOff", outOff);
        Checks.nonNegative(op, "qOff", qOff);
        Checks.nonNegative(op, "cacheOff", cacheOff);
        int hs = heads.dim(), NH = heads.n(), G = heads.group(), KW = heads.kvWidth(), Q = heads.qWidth();
        if (rows > 1 && qStride < Q) {
            throw new IllegalArgumentException(op + ": query rows " + qStride + " floats apart overlap (n·dim = " + Q + ")");
        }
        if (rows == 0) {
            return;
        }
        int span = firstPos + rows;
        Checks.length(op, "q", q, qOff + (long) (rows - 1) * qStride + Q);
        Checks.length(op, "out", out, outOff + (long) rows * Q);
        Checks.length(op, "kCache", kCache, cacheOff + (long) span * KW);
        Checks.length(op, "vCache", vCache, cacheOff + (long) span * KW);
        Checks.length(op, "att", att, (long) rows * NH * span);
        float scale = (float) (1.0 / Math.sqrt(hs));
        int minTasks = (long) rows * NH * span * hs >= (1 << 16) ? 1 : rows * NH;
        Parallel.forRange(rows * NH, minTasks, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH, g = h / G, n = firstPos + r + 1;
                int a = i * span;
                dots(q, qOff + r * qStride + h * hs, kCache, cacheOff + g * hs, KW, n, hs, scale, att, a);
                Vec.softmaxInPlace(att, a, n);
                weightedSum(att, a, 1, vCache, cacheOff + g * hs, KW, n, hs, out, outOff + r * Q + h * hs, false);
            }
        });
    }

    /**
     * Copies the k and v parts of {@code rows} packed [q | k | v] rows (qkv from qkvOff, rows
     * {@link Heads#rowWidth()} apart) into KV-cache rows firstPos..firstPos+rows−1 (layout of {@link #decode}).
     */
    public static void appendToCache(float[] kCache, float[] vCache, int cacheOff, int firstPos, float[] qkv,
                                     int qkvOff, int rows, Heads heads) {
        String op = "attentionAppendToCache(firstPos=" + firstPos + ", rows=" + rows + ", " + heads + ")";
        Checks.nonNegative(op, "firstPos", firstPos);
        Checks.nonNegative(op, "rows", rows);
        Checks.nonNegative(op, "cacheOff", cacheOff);
        Checks.nonNegative(op, "qkvOff", qkvOff);
        int W = heads.rowWidth(), Q = heads.qWidth(), KW = heads.kvWidth();
        Checks.length(op, "qkv", qkv, qkvOff + (long) rows * W);
        Checks.length(op, "kCache", kCache, cacheOff + (long) (firstPos + rows) * KW);
        Checks.length(op, "vCache", vCache, cacheOff + (long) (firstPos + rows) * KW);
        for (int r = 0; r < rows; r++) {
            int src = qkvOff + r * W, dst = cacheOff + (firstPos + r) * KW;
            System.arraycopy(qkv, src + Q, kCache, dst, KW);
            System.arraycopy(qkv, src + Q + KW, vCache, dst, KW);
        }
    }

    /**
     * dst[dOff+j] = scale · Σ_i a[aOff+i]·rows[rOff + j·rStride + i] for j &lt; count, i &lt; n.
     * Four rows at a time share each load of a and give four independent FMA chains.
     */
    static void dots(float[] a, int aOff, float[] rows, int rOff, int rStride, int count, int n, float scale,
                     float[] dst, int dOff) {
        int ub = F.loopBound(n);
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int r0 = rOff + j * rStride, r1 = r0 + rStride, r2 = r1 + rStride, r3 = r2 + rStride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            int i = 0;
            for (; i < ub; i += F.length()) {
                FloatVector va = FloatVector.fromArray(F, a, aOff + i);
                acc0 = va.fma(FloatVector.fromArray(F, rows, r0 + i), acc0);
                acc1 = va.fma(FloatVector.fromArray(F, rows, r1 + i), acc1);
                acc2 = va.fma(FloatVector.fromArray(F, rows, r2 + i), acc2);
                acc3 = va.fma(FloatVector.fromArray(F, rows, r3 + i), acc3);
            }
            float s0 = Simd.sum(acc0), s1 = Simd.sum(acc1);
            float s2 = Simd.sum(acc2), s3 = Simd.sum(acc3);
            for (; i < n; i++) {
                float x = a[aOff + i];
                s0 += x * rows[r0 + i];
                s1 += x * rows[r1 + i];
                s2 += x * rows[r2 + i];
                s3 += x * rows[r3 + i];
            }
            dst[dOff + j] = s0 * scale;
            dst[dOff + j + 1] = s1 * scale;
            dst[dOff + j + 2] = s2 * scale;
            dst[dOff + j + 3] = s3 * scale;
        }
        for (; j < count; j++) {
            dst[dOff + j] = Vec.dot(a, aOff, rows, rOff + j * rStride, n) * scale;
        }
    }

    /**
     * dst[dOff+i] (+)= Σ_j w[wOff + j·wStride]·rows[rOff + j·rStride + i] for i &lt; n, j &lt; count.
     * Vectorised along i, walking the rows once per group of 4 (then 2, then 1) vectors of i with two
     * (four) rows in flight: 8 independent FMA chains, one broadcast per 4 (2) FMAs. Walking all rows
     * once per single vector instead measured half the speed.
     */
    static void weightedSum(float[] w, int wOff, int wStride, float[] rows, int rOff, int rStride, int count, int n,
                            float[] dst, int dOff, boolean accumulate) {
        int L = F.length();
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int j = 0, r = rOff + i, wi = wOff;
            for (; j + 2 <= count; j += 2, r += 2 * rStride, wi += 2 * wStride) {
                FloatVector x = FloatVector.broadcast(F, w[wi]), y = FloatVector.broadcast(F, w[wi + wStride]);
                int r2 = r + rStride;
                a0 = FloatVector.fromArray(F, rows, r).fma(x, a0);
                a1 = FloatVector.fromArray(F, rows, r + L).fma(x, a1);
                a2 = FloatVector.fromArray(F, rows, r + 2 * L).fma(x, a2);
                a3 = FloatVector.fromArray(F, rows, r + 3 * L).fma(x, a3);
                b0 = FloatVector.fromArray(F, rows, r2).fma(y, b0);
                b1 = FloatVector.fromArray(F, rows, r2 + L).fma(y, b1);
                b2 = FloatVector.fromArray(F, rows, r2 + 2 * L).fma(y, b2);
                b3 = FloatVector.fromArray(F, rows, r2 + 3 * L).fma(y, b3);
            }
            if (j < count) {
                FloatVector x = FloatVector.broadcast(F, w[wi]);
                a0 = FloatVector.fromArray(F, rows, r).fma(x, a0);
                a1 = FloatVector.fromArray(F, rows, r + L).fma(x, a1);
                a2 = FloatVector.fromArray(F, rows, r + 2 * L).fma(x, a2);
                a3 = FloatVector.fromArray(F, rows, r + 3 * L).fma(x, a3);
            }
            store(a0.add(b0), dst, dOff + i, accumulate);
            store(a1.add(b1), dst, dOff + i + L, accumulate);
            store(a2.add(b2), dst, dOff + i + 2 * L, accumulate);
            store(a3.add(b3), dst, dOff + i + 3 * L, accumulate);
        }
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            int j = 0, r = rOff + i, wi = wOff;
            for (; j + 4 <= count; j += 4, r += 4 * rStride, wi += 4 * wStride) {
                FloatVector x = FloatVector.broadcast(F, w[wi]), y = FloatVector.broadcast(F, w[wi + wStride]);
                FloatVector z = FloatVector.broadcast(F, w[wi + 2 * wStride]);
                FloatVector u = FloatVector.broadcast(F, w[wi + 3 * wStride]);
                int r2 = r + rStride, r3 = r2 + rStride, r4 = r3 + rStride;
                a0 = FloatVector.fromArray(F, rows, r).fma(x, a0);
                a1 = FloatVector.fromArray(F, rows, r + L).fma(x, a1);
                b0 = FloatVector.fromArray(F, rows, r2).fma(y, b0);
                b1 = FloatVector.fromArray(F, rows, r2 + L).fma(y, b1);
                c0 = FloatVector.fromArray(F, rows, r3).fma(z, c0);
                c1 = FloatVector.fromArray(F, rows, r3 + L).fma(z, c1);
                d0 = FloatVector.fromArray(F, rows, r4).fma(u, d0);
                d1 = FloatVector.fromArray(F, rows, r4 + L).fma(u, d1);
            }
            for (; j < count; j++, r += rStride, wi += wStride) {
                FloatVector x = FloatVector.broadcast(F, w[wi]);
                a0 = FloatVector.fromArray(F, rows, r).fma(x, a0);
                a1 = FloatVector.fromArray(F, rows, r + L).fma(x, a1);
            }
            store(a0.add(b0).add(c0.add(d0)), dst, dOff + i, accumulate);
            store(a1.add(b1).add(c1.add(d1)), dst, dOff + i + L, accumulate);
        }
        for (; i + L <= n; i += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int j = 0, r = rOff + i, wi = wOff;
            for (; j + 4 <= count; j += 4, r += 4 * rStride, wi += 4 * wStride) {
                a0 = FloatVector.fromArray(F, rows, r).fma(FloatVector.broadcast(F, w[wi]), a0);
                a1 = FloatVector.fromArray(F, rows, r + rStride).fma(FloatVector.broadcast(F, w[wi + wStride]), a1);
                a2 = FloatVector.fromArray(F, rows, r + 2 * rStride).fma(FloatVector.broadcast(F, w[wi + 2 * wStride]), a2);
                a3 = FloatVector.fromArray(F, rows, r + 3 * rStride).fma(FloatVector.broadcast(F, w[wi + 3 * wStride]), a3);
            }
            for (; j < count; j++, r += rStride, wi += wStride) {
                a0 = FloatVector.fromArray(F, rows, r).fma(FloatVector.broadcast(F, w[wi]), a0);
            }
            store(a0.add(a1).add(a2.add(a3)), dst, dOff + i, accumulate);
        }
        for (; i < n; i++) {
            float s = 0f;
            for (int j = 0; j < count; j++) {
                s += w[wOff + j * wStride] * rows[rOff + j * rStride + i];
            }
            dst[dOff + i] = accumulate ? dst[dOff + i] + s : s;
        }
    }

    private static void store(FloatVector v, float[] dst, int off, boolean accumulate) {
        (accumulate ? v.add(FloatVector.fromArray(F, dst, off)) : v).intoArray(dst, off);
    }

    /** ds[i] = p[i]·(dp[i] − pdp)·scale over one causal row (dp may be ds itself). */
    private static void softmaxBackwardRow(float[] ds, int dOff, float[] dp, int dpOff, float[] p, int pOff, int n,
                                           float pdp, float scale) {
        FloatVector vdot = FloatVector.broadcast(F, pdp);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, p, pOff + i).mul(FloatVector.fromArray(F, dp, dpOff + i).sub(vdot)).mul(scale)
                    .intoArray(ds, dOff + i);
        }
        if (i < n) {   // a masked vector, not a scalar loop: as costly as the rest for short rows, and the same bits
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, p, pOff + i, m).mul(FloatVector.fromArray(F, dp, dpOff + i, m).sub(vdot)).mul(scale)
                    .intoArray(ds, dOff + i, m);
        }
    }

    private static void check(String op, int B, int T, Heads heads) {
        Checks.positive(op, "B, T", B, T);
        if ((long) B * heads.n() * T * T > Integer.MAX_VALUE || (long) B * T * heads.rowWidth() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors exceed 2^31 elements");
        }
    }

    private static void check(String op, int B, int T, int C, int NH) {
        Checks.positive(op, "B, T, C, NH", B, T, C, NH);
        if (C % NH != 0) {
            throw new IllegalArgumentException(op + ": C=" + C + " is not divisible by NH=" + NH);
        }
        if ((long) B * NH * T * T > Integer.MAX_VALUE || 3L * B * T * C > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors exceed 2^31 elements");
        }
    }
}
