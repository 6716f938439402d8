package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
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
 * zeros above the diagonal). Parallel over (b, h), one query head per task. Inside a head, SIMD kernels
 * that avoid a horizontal reduction per output:
 * <ul>
 *   <li>scores q·kᵀ: the head's keys are packed once into transposed panels of LANES keys
 *       ({@link #packPanels}), so a query row gets LANES scores per vector FMA chain ({@link #panelDots});</li>
 *   <li>P·V, dS·K: rows weighted and summed, vectorised along the head size ({@link #weightedSum});</li>
 *   <li>dK, dV: blocks of 8 keys accumulated over all later queries in registers ({@link #keyBlock}).</li>
 * </ul>
 * Rows of the head are first copied out of qkv to contiguous scratch: at their natural row stride
 * they fall into a few L1 sets. Measured on one core (B8 T256 C384 NH6, causal FLOPs): forward ≈45,
 * backward ≈55 GFLOP/s, against ≈6 for the scalar loops this replaced.
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
        int L = F.length(), panels = (T + L - 1) / L;
        Parallel.forRange(B * NH, 1, (s, e) -> {
            float[] kp = new float[panels * hs * L];   // this kv head's keys, transposed into panels of L
            float[] vh = new float[T * hs];            // this kv head's values, contiguous rows
            float[] srow = new float[panels * L];
            int packed = -1;                           // b·nKv + g of the kv head in kp/vh
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH, g = h / G;
                int base = b * T * W;
                int qB = base + h * hs, kB = base + kOff + g * hs, vB = base + vOff + g * hs;
                if (b * heads.nKv() + g != packed) {
                    packPanels(qkv, kB, W, T, hs, kp);
                    packRows(qkv, vB, W, T, hs, vh);
                    packed = b * heads.nKv() + g;
                }
                for (int t = 0; t < T; t++) {
                    int a = (bh * T + t) * T;
                    panelDots(qkv, qB + t * W, kp, hs, t / L + 1, scale, srow);
                    // Stable softmax over the causal prefix (max subtracted before exp), into att.
                    float max = Vec.max(srow, 0, t + 1);
                    double sum = Vec.expShiftSum(att, a, srow, 0, t + 1, max);
                    Vec.scale(att, a, (float) (1.0 / sum), t + 1);
                    Arrays.fill(att, a + t + 1, a + T, 0f);
                    weightedSum(att, a, 1, vh, 0, hs, t + 1, hs, out, (b * T + t) * Q + h * hs, false);
                }
            }
        });
    }

    /** GPT-2's multi-head attention backward: {@link #backward(float[], float[], float[], float[], int, int, Heads)}. */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, int C, int NH) {
        check("attentionBackward(B=" + B + ", T=" + T + ", C=" + C + ", NH=" + NH + ")", B, T, C, NH);
        backward(dqkv, dout, qkv, att, B, T, Heads.multiHead(C, NH));
    }

    /**
     * Accumulates dqkv (+=) from dout [B, T, n·dim], using qkv and the forward's att.
     * Per query head: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale, dQ = dS·K, dK = dSᵀ·Q;
     * a key/value head sums dK and dV over the query heads of its group. dS for the head is kept in a
     * per-thread T×T scratch so dK and dV can be summed per key row. Parallel over (b, kv head): the
     * query heads of a group run in order in one task, so no two threads add to the same dK/dV row and
     * the sums do not depend on the thread count.
     */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, Heads heads) {
        String op = "attentionBackward(B=" + B + ", T=" + T + ", " + heads + ")";
        check(op, B, T, heads);
        Checks.length(op, "qkv", qkv, (long) B * T * heads.rowWidth());
        Checks.length(op, "dqkv", dqkv, (long) B * T * heads.rowWidth());
        Checks.length(op, "dout", dout, (long) B * T * heads.qWidth());
        Checks.length(op, "att", att, (long) B * heads.n() * T * T);
        int hs = heads.dim(), NH = heads.n(), NKV = heads.nKv(), G = heads.group();
        int W = heads.rowWidth(), Q = heads.qWidth(), kOff = Q, vOff = Q + heads.kvWidth();
        float scale = (float) (1.0 / Math.sqrt(hs));
        int L = F.length(), panels = (T + L - 1) / L;
        // dS scratch row stride: room for whole panels, plus one vector so the stride is not a power of
        // two (column-block reads at a 2^k stride would all land in the same few L1 sets).
        int S = panels * L + L;
        Parallel.forRange(B * NKV, 1, (s, e) -> {
            float[] ds = new float[T * S];
            float[] vp = new float[panels * hs * L];
            // Contiguous copies of this head's rows: in qkv they are a row apart, a stride that maps
            // them onto a few L1 sets.
            float[] qh = new float[T * hs], kh = new float[T * hs], dh = new float[T * hs];
            for (int bg = s; bg < e; bg++) {
                int b = bg / NKV, g = bg % NKV;
                int base = b * T * W;
                int kB = base + kOff + g * hs, vB = base + vOff + g * hs;
                packPanels(qkv, vB, W, T, hs, vp);
                packRows(qkv, kB, W, T, hs, kh);
                for (int h = g * G; h < (g + 1) * G; h++) {
                    int qB = base + h * hs;
                    int aB = (b * NH + h) * T * T;
                    packRows(qkv, qB, W, T, hs, qh);
                    packRows(dout, b * T * Q + h * hs, Q, T, hs, dh);
                    for (int t = 0; t < T; t++) {
                        int row = t * S, aRow = aB + t * T;
                        panelDots(dh, t * hs, vp, hs, t / L + 1, 1f, ds, row);             // dP row
                        float pdp = Vec.dot(att, aRow, ds, row, t + 1);                      // Σ P·dP
                        softmaxBackwardRow(ds, row, att, aRow, t + 1, pdp, scale);          // dS row
                        // Zero just past the diagonal: the key blocks below read up to KEY_BLOCK−1 columns beyond it.
                        Arrays.fill(ds, row + t + 1, row + Math.min(T, t + KEY_BLOCK), 0f);
                        weightedSum(ds, row, 1, kh, 0, hs, t + 1, hs, dqkv, qB + t * W, true);
                    }
                    int t2 = 0;
                    for (; t2 + KEY_BLOCK <= T; t2 += KEY_BLOCK) {
                        keyBlock(ds, S, att, aB, T, qh, dh, t2, hs, dqkv, kB, vB, W);
                    }
                    for (; t2 < T; t2++) {
                        // Leftover keys: column t2 of dS / P, rows t ≥ t2 (causal).
                        weightedSum(ds, t2 * S + t2, S, qh, t2 * hs, hs, T - t2, hs, dqkv, kB + t2 * W, true);
                        weightedSum(att, aB + t2 * T + t2, T, dh, t2 * hs, hs, T - t2, hs, dqkv, vB + t2 * W, true);
                    }
                }
            }
        });
    }

    private static final int KEY_BLOCK = 8;

    /**
     * dK and dV for the KEY_BLOCK keys t2..t2+7 of one head: dk_j += Σ_{t ≥ t2} dS[t][t2+j]·q_t and
     * dv_j += Σ_{t ≥ t2} P[t][t2+j]·dO_t, with 16 vector accumulators per head-size chunk so each row of
     * q, dO, dS and P is read once per 8 keys. Entries above the diagonal are 0 in both dS and P.
     */
    private static void keyBlock(float[] ds, int S, float[] att, int aB, int T, float[] qh, float[] dh, int t2,
                                 int hs, float[] dqkv, int kB, int vB, int W) {
        int ub = F.loopBound(hs);
        int i = 0;
        for (; i < ub; i += F.length()) {
            FloatVector k0 = FloatVector.zero(F), k1 = k0, k2 = k0, k3 = k0, k4 = k0, k5 = k0, k6 = k0, k7 = k0;
            FloatVector v0 = k0, v1 = k0, v2 = k0, v3 = k0, v4 = k0, v5 = k0, v6 = k0, v7 = k0;
            for (int t = t2; t < T; t++) {
                FloatVector q = FloatVector.fromArray(F, qh, t * hs + i);
                FloatVector d = FloatVector.fromArray(F, dh, t * hs + i);
                int w = t * S + t2, p = aB + t * T + t2;
                k0 = q.fma(FloatVector.broadcast(F, ds[w]), k0);
                k1 = q.fma(FloatVector.broadcast(F, ds[w + 1]), k1);
                k2 = q.fma(FloatVector.broadcast(F, ds[w + 2]), k2);
                k3 = q.fma(FloatVector.broadcast(F, ds[w + 3]), k3);
                k4 = q.fma(FloatVector.broadcast(F, ds[w + 4]), k4);
                k5 = q.fma(FloatVector.broadcast(F, ds[w + 5]), k5);
                k6 = q.fma(FloatVector.broadcast(F, ds[w + 6]), k6);
                k7 = q.fma(FloatVector.broadcast(F, ds[w + 7]), k7);
                v0 = d.fma(FloatVector.broadcast(F, att[p]), v0);
                v1 = d.fma(FloatVector.broadcast(F, att[p + 1]), v1);
                v2 = d.fma(FloatVector.broadcast(F, att[p + 2]), v2);
                v3 = d.fma(FloatVector.broadcast(F, att[p + 3]), v3);
                v4 = d.fma(FloatVector.broadcast(F, att[p + 4]), v4);
                v5 = d.fma(FloatVector.broadcast(F, att[p + 5]), v5);
                v6 = d.fma(FloatVector.broadcast(F, att[p + 6]), v6);
                v7 = d.fma(FloatVector.broadcast(F, att[p + 7]), v7);
            }
            // Written out: an array of vectors indexed in a loop would not be scalar-replaced (boxing).
            int kd = kB + t2 * W + i, vd = vB + t2 * W + i;
            addInto(k0, dqkv, kd);
            addInto(k1, dqkv, kd + W);
            addInto(k2, dqkv, kd + 2 * W);
            addInto(k3, dqkv, kd + 3 * W);
            addInto(k4, dqkv, kd + 4 * W);
            addInto(k5, dqkv, kd + 5 * W);
            addInto(k6, dqkv, kd + 6 * W);
            addInto(k7, dqkv, kd + 7 * W);
            addInto(v0, dqkv, vd);
            addInto(v1, dqkv, vd + W);
            addInto(v2, dqkv, vd + 2 * W);
            addInto(v3, dqkv, vd + 3 * W);
            addInto(v4, dqkv, vd + 4 * W);
            addInto(v5, dqkv, vd + 5 * W);
            addInto(v6, dqkv, vd + 6 * W);
            addInto(v7, dqkv, vd + 7 * W);
        }
        for (; i < hs; i++) {
            for (int j = 0; j < KEY_BLOCK; j++) {
                float sk = 0f, sv = 0f;
                for (int t = t2 + j; t < T; t++) {
                    sk += ds[t * S + t2 + j] * qh[t * hs + i];
                    sv += att[aB + t * T + t2 + j] * dh[t * hs + i];
                }
                dqkv[kB + (t2 + j) * W + i] += sk;
                dqkv[vB + (t2 + j) * W + i] += sv;
            }
        }
    }

    private static void addInto(FloatVector v, float[] dst, int off) {
        v.add(FloatVector.fromArray(F, dst, off)).intoArray(dst, off);
    }

    /** dst[r·n + i] = rows[rOff + r·rStride + i]: count rows of n floats made contiguous. */
    static void packRows(float[] rows, int rOff, int rStride, int count, int n, float[] dst) {
        for (int r = 0; r < count; r++) {
            System.arraycopy(rows, rOff + r * rStride, dst, r * n, n);
        }
    }

    /**
     * Packs count rows of n floats (row r at rows[rOff + r·rStride]) into panels of L = LANES rows,
     * transposed: dst[p·n·L + i·L + j] = row (p·L + j), element i. Rows past count are 0, so whole panels
     * can be used. One panel is a contiguous n×L block: {@link #panelDots} streams it.
     */
    static void packPanels(float[] rows, int rOff, int rStride, int count, int n, float[] dst) {
        int L = F.length(), panels = (count + L - 1) / L;
        for (int p = 0; p < panels; p++) {
            int base = p * n * L;
            for (int j = 0; j < L; j++) {
                int r = p * L + j;
                if (r < count) {
                    int src = rOff + r * rStride;
                    for (int i = 0; i < n; i++) {
                        dst[base + i * L + j] = rows[src + i];
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        dst[base + i * L + j] = 0f;
                    }
                }
            }
        }
    }

    /**
     * dst[dOff + p·L + j] = scale · Σ_i a[aOff+i]·(row p·L+j) for the first {@code panels} panels made by
     * {@link #packPanels}: L dot products at once, vectorised across rows, so no horizontal reduction.
     * Four accumulators over i hide the FMA latency.
     */
    static void panelDots(float[] a, int aOff, float[] pan, int n, int panels, float scale, float[] dst, int dOff) {
        int L = F.length(), stride = n * L;
        int p = 0;
        for (; p + 2 <= panels; p += 2) {
            // Two panels share each broadcast of a[i]; 8 independent chains.
            int base = p * stride;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                int o = base + i * L;
                FloatVector x0 = FloatVector.broadcast(F, a[aOff + i]), x1 = FloatVector.broadcast(F, a[aOff + i + 1]);
                FloatVector x2 = FloatVector.broadcast(F, a[aOff + i + 2]), x3 = FloatVector.broadcast(F, a[aOff + i + 3]);
                a0 = FloatVector.fromArray(F, pan, o).fma(x0, a0);
                a1 = FloatVector.fromArray(F, pan, o + L).fma(x1, a1);
                a2 = FloatVector.fromArray(F, pan, o + 2 * L).fma(x2, a2);
                a3 = FloatVector.fromArray(F, pan, o + 3 * L).fma(x3, a3);
                b0 = FloatVector.fromArray(F, pan, o + stride).fma(x0, b0);
                b1 = FloatVector.fromArray(F, pan, o + stride + L).fma(x1, b1);
                b2 = FloatVector.fromArray(F, pan, o + stride + 2 * L).fma(x2, b2);
                b3 = FloatVector.fromArray(F, pan, o + stride + 3 * L).fma(x3, b3);
            }
            for (; i < n; i++) {
                FloatVector x = FloatVector.broadcast(F, a[aOff + i]);
                a0 = FloatVector.fromArray(F, pan, base + i * L).fma(x, a0);
                b0 = FloatVector.fromArray(F, pan, base + stride + i * L).fma(x, b0);
            }
            a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(dst, dOff + p * L);
            b0.add(b1).add(b2.add(b3)).mul(scale).intoArray(dst, dOff + p * L + L);
        }
        if (p < panels) {
            int base = p * stride;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                int o = base + i * L;
                a0 = FloatVector.fromArray(F, pan, o).fma(FloatVector.broadcast(F, a[aOff + i]), a0);
                a1 = FloatVector.fromArray(F, pan, o + L).fma(FloatVector.broadcast(F, a[aOff + i + 1]), a1);
                a2 = FloatVector.fromArray(F, pan, o + 2 * L).fma(FloatVector.broadcast(F, a[aOff + i + 2]), a2);
                a3 = FloatVector.fromArray(F, pan, o + 3 * L).fma(FloatVector.broadcast(F, a[aOff + i + 3]), a3);
            }
            for (; i < n; i++) {
                a0 = FloatVector.fromArray(F, pan, base + i * L).fma(FloatVector.broadcast(F, a[aOff + i]), a0);
            }
            a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(dst, dOff + p * L);
        }
    }

    static void panelDots(float[] a, int aOff, float[] pan, int n, int panels, float scale, float[] dst) {
        panelDots(a, aOff, pan, n, panels, scale, dst, 0);
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

    /** ds[i] = p[i]·(ds[i] − pdp)·scale over one causal row (ds holds dP on entry). */
    private static void softmaxBackwardRow(float[] ds, int dOff, float[] p, int pOff, int n, float pdp, float scale) {
        FloatVector vdot = FloatVector.broadcast(F, pdp);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, p, pOff + i).mul(FloatVector.fromArray(F, ds, dOff + i).sub(vdot)).mul(scale)
                    .intoArray(ds, dOff + i);
        }
        for (; i < n; i++) {
            ds[dOff + i] = p[pOff + i] * (ds[dOff + i] - pdp) * scale;
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
