package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.assertClose;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Float {@link Attention} against {@link Reference}. Each output is a chain of two length-≤T or
 * length-hs sums (scores, then P·V; the backward adds a third), T, hs ≤ 64 here: float error ≲ 1e-6 of
 * the operand scale, tolerance 1e-5 (see {@link KernelTesting}).
 */
class AttentionTest {
    private static final double TOL = 1e-5;
    private final SplittableRandom rng = new SplittableRandom(11);

    /**
     * {B, T, C, NH}: head sizes 7 (scalar only), 21, 43, 83 = 64+16+3 and 112 = 64+32+16 (every vector
     * grouping of the kernels plus tails), 32, 64; T = 1, T below and above a vector, T not a multiple of
     * the 8-key block; T of one and of several row blocks (64, 128, 130: blocks cut off the masked keys).
     * With 16-float vectors, heads of 16, 32 and 64 at T ≤ 64 take the panel path ({@link Attention#inPanels}:
     * T = 6 one block of six rows, T = 17 and 64 a last block overlapping the one before, T = 5 of GQA_SHAPES
     * a partial block), the others the GEMM.
     */
    private static final int[][] SHAPES = {
            {1, 1, 7, 1}, {2, 5, 63, 3}, {1, 9, 129, 3}, {2, 17, 128, 4}, {1, 6, 64, 1}, {3, 4, 16, 2},
            {1, 19, 83, 1}, {1, 35, 224, 2}, {2, 64, 128, 4}, {1, 128, 32, 1}, {1, 130, 84, 2}};

    @Test
    void forwardAndBackwardMatchReference() {
        for (int[] s : SHAPES) {
            compare(s[0], s[1], s[2], s[3], 1.0, "shape " + java.util.Arrays.toString(s), TOL);
        }
    }

    @Test
    void saturatedSoftmaxStaysStable() {
        // q, k ~ N(0, 30²): scores of order ±1e3·√hs, far past exp's range without the max shift.
        // Probabilities are then ~one-hot. Relative rounding of a score s is ~u·|s| ≈ 6e-8·7e3 ≈ 4e-4 absolute
        // in the exponent, i.e. ~4e-4 relative error on the few probabilities that are not 0 or 1.
        compare(2, 8, 32, 2, 30.0, "saturated", 2e-3);
    }

    @Test
    void probabilitiesAreCausalAndNormalised() {
        int B = 2, T = 7, C = 24, NH = 3;
        float[] qkv = randn(rng, B * T * 3 * C, 1), out = new float[B * T * C];
        float[] att = randn(rng, B * NH * T * T, 1);   // garbage in: forward must overwrite every entry
        Attention.forward(out, att, qkv, B, T, C, NH);
        for (int r = 0; r < B * NH * T; r++) {
            int t = r % T;
            double sum = 0;
            for (int t2 = 0; t2 < T; t2++) {
                if (t2 > t) {
                    assertEquals(0f, att[r * T + t2], "above the diagonal");
                }
                sum += att[r * T + t2];
            }
            assertEquals(1.0, sum, 1e-6);
        }
    }

    @Test
    void independentOfThreadCount() {
        sameBitsOnOneAndTwoThreads("", 2, 9, 32, 2);
        // The baby's shape (48 sequence-head pairs, each a chunk of its own, the short-T panel path).
        sameBitsOnOneAndTwoThreads(" (baby)", 12, 64, 128, 4);
    }

    /**
     * Where a short sequence's panels start in their scratch ({@link GemmPacked#bPad}, on cache lines when the JVM
     * aligns objects to 64 bytes) moves them, never the sums: out, att and dqkv bit for bit at every offset, on shapes
     * of the panel path (the baby's; T = 17 with a last block overlapping; T = 6; GPT-2's head width).
     */
    @Test
    void panelsGiveTheSameBitsWhereverTheyStart() {
        int saved = GemmPacked.bPad;
        try {
            for (int[] s : new int[][] {{12, 64, 128, 4}, {2, 17, 128, 4}, {1, 6, 64, 1}, {1, 64, 128, 2}}) {
                int B = s[0], T = s[1], C = s[2], NH = s[3];
                assertTrue(Attention.inPanels(T, C / NH), java.util.Arrays.toString(s));
                float[] qkv = randn(rng, B * T * 3 * C, 1), dout = randn(rng, B * T * C, 1);
                GemmPacked.bPad = 0;
                float[][] want = run(B, T, C, NH, qkv, dout, 2);
                for (int pad : new int[] {5, 12, GemmPacked.PAD_SLACK - 1}) {
                    GemmPacked.bPad = pad;
                    float[][] got = run(B, T, C, NH, qkv, dout, 2);
                    String at = " " + java.util.Arrays.toString(s) + " at " + pad;
                    assertBitEqual("out" + at, want[0], got[0]);
                    assertBitEqual("att" + at, want[1], got[1]);
                    assertBitEqual("dqkv" + at, want[2], got[2]);
                }
            }
        } finally {
            GemmPacked.bPad = saved;
        }
    }

    /**
     * Heads in panels past one panel of keys give the bits of the GEMM's path they replaced: out, att and dqkv (set and
     * accumulated) on shapes of two to sixteen panels of kᵀ (T = 100, 128, 192, 256, 1024; products over more than one
     * block of KC keys or queries from T = 192), heads of 32 and 64, grouped queries, on one thread and two. Where that
     * path's products were not all the packed kernel's, the two agree to rounding: its last block of keys is a tiny
     * product at T = 130, 200 and 520 (≤ {@link Gemm#TINY} multiply-adds, summed by multiplies and adds, not fused), a
     * single row at T = 65 (dot products).
     */
    @Test
    void panelsGiveTheGemmsBits() {
        boolean saved = Attention.longPanels;
        try {
            // {B, T, C, heads, kv heads, whether the GEMM's path took the packed kernel for all its products}
            for (int[] s : new int[][] {{2, 128, 128, 4, 4, 1}, {1, 192, 64, 2, 1, 1}, {2, 256, 384, 6, 6, 1},
                    {1, 100, 64, 2, 2, 1}, {1, 1024, 64, 1, 1, 1}, {1, 130, 32, 2, 2, 0}, {1, 200, 128, 4, 2, 0},
                    {1, 520, 128, 2, 2, 0}, {2, 65, 128, 2, 2, 0}}) {
                int B = s[0], T = s[1], C = s[2];
                Attention.Heads heads = new Attention.Heads(s[3], s[4], C / s[3]);
                float[] qkv = randn(rng, B * T * heads.rowWidth(), 1), dout = randn(rng, B * T * heads.qWidth(), 1);
                float[] prior = randn(rng, qkv.length, 1);
                for (int threads = 1; threads <= 2; threads++) {
                    Attention.longPanels = false;
                    assertFalse(Attention.inPanels(T, heads.dim()));
                    float[][] want = forwardBackward(B, T, heads, qkv, dout, prior, threads);
                    Attention.longPanels = true;
                    assertTrue(Attention.inPanels(T, heads.dim()));
                    float[][] got = forwardBackward(B, T, heads, qkv, dout, prior, threads);
                    String at = " " + java.util.Arrays.toString(s) + " on " + threads + " threads";
                    String[] names = {"out", "att", "dqkv set", "dqkv accumulated"};
                    for (int k = 0; k < names.length; k++) {
                        if (s[5] == 1) {
                            assertBitEqual(names[k] + at, want[k], got[k]);
                        } else {
                            assertClose(names[k] + at, toDouble(want[k]), got[k], 1e-6);
                        }
                    }
                }
            }
        } finally {
            Attention.longPanels = saved;
        }
    }

    /** out, att, dqkv set by backwardSet and dqkv accumulated onto prior by backward. */
    private static float[][] forwardBackward(int B, int T, Attention.Heads heads, float[] qkv, float[] dout, float[] prior,
                                             int threads) {
        float[] out = new float[B * T * heads.qWidth()], att = new float[B * heads.n() * T * T];
        float[] set = new float[qkv.length], added = prior.clone();
        withThreads(threads, () -> {
            Attention.forward(out, att, qkv, B, T, heads);
            Attention.backwardSet(set, dout, qkv, att, B, T, heads);
            Attention.backward(added, dout, qkv, att, B, T, heads);
        });
        return new float[][] {out, att, set, added};
    }


    private void sameBitsOnOneAndTwoThreads(String shape, int B, int T, int C, int NH) {
        float[] qkv = randn(rng, B * T * 3 * C, 1), dout = randn(rng, B * T * C, 1);
        float[][] one = run(B, T, C, NH, qkv, dout, 1), two = run(B, T, C, NH, qkv, dout, 2);
        assertBitEqual("out" + shape, one[0], two[0]);
        assertBitEqual("att" + shape, one[1], two[1]);
        assertBitEqual("dqkv" + shape, one[2], two[2]);
    }

    private static float[][] run(int B, int T, int C, int NH, float[] qkv, float[] dout, int threads) {
        float[] out = new float[B * T * C], att = new float[B * NH * T * T], dqkv = new float[qkv.length];
        withThreads(threads, () -> {
            Attention.forward(out, att, qkv, B, T, C, NH);
            Attention.backward(dqkv, dout, qkv, att, B, T, C, NH);
        });
        return new float[][] {out, att, dqkv};
    }

    @Test
    void decodeStepMatchesForward() {
        for (int[] s : new int[][] {{6, 64, 4}, {5, 63, 3}, {3, 7, 1}}) {
            int T = s[0], C = s[1], NH = s[2];
            float[] qkv = randn(rng, T * 3 * C, 1), out = new float[T * C], att = new float[NH * T * T];
            Attention.forward(out, att, qkv, 1, T, C, NH);
            // Caches live at an offset inside larger arrays, rows of C: position p's key/value for all heads.
            int cacheOff = 5;
            float[] kc = new float[cacheOff + T * C + 3], vc = new float[cacheOff + T * C + 3];
            for (int pos = 0; pos < T; pos++) {
                System.arraycopy(qkv, pos * 3 * C + C, kc, cacheOff + pos * C, C);
                System.arraycopy(qkv, pos * 3 * C + 2 * C, vc, cacheOff + pos * C, C);
                float[] o = new float[C + 2], a = new float[NH * (pos + 1)];
                Attention.decodeStep(o, 2, qkv, pos * 3 * C, kc, vc, cacheOff, pos, C, NH, a);
                for (int i = 0; i < C; i++) {
                    assertEquals(out[pos * C + i], o[2 + i], 1e-6f, "T=" + T + " pos " + pos + " channel " + i);
                }
                for (int h = 0; h < NH; h++) {
                    for (int t2 = 0; t2 <= pos; t2++) {
                        assertEquals(att[(h * T + pos) * T + t2], a[h * (pos + 1) + t2], 1e-6f);
                    }
                }
            }
            // The offset-free form on its own arrays.
            int pos = T - 1;
            float[] q = java.util.Arrays.copyOfRange(qkv, pos * 3 * C, pos * 3 * C + C);
            float[] k0 = java.util.Arrays.copyOfRange(kc, cacheOff, cacheOff + T * C);
            float[] v0 = java.util.Arrays.copyOfRange(vc, cacheOff, cacheOff + T * C);
            float[] o = new float[C];
            Attention.decodeStep(o, q, k0, v0, pos, C, NH, new float[NH * T]);
            for (int i = 0; i < C; i++) {
                assertEquals(out[pos * C + i], o[i], 1e-6f);
            }
        }
    }

    /**
     * {B, T, NH, NKV, hd}: head sizes 64/80/96/128 (Llama, SmolLM, Qwen) and odd ones (7, 33, 83), groups of
     * 1 to 8 query heads per key/value head, multi-query (NKV = 1), T = 1 and T across vector and key-block
     * boundaries. There is no model width: NH·hd is whatever the heads make.
     */
    private static final int[][] GQA_SHAPES = {
            {1, 1, 1, 1, 7}, {2, 5, 4, 2, 64}, {1, 9, 6, 3, 80}, {2, 17, 8, 1, 96}, {1, 6, 2, 2, 128},
            {1, 35, 9, 3, 64}, {3, 4, 4, 4, 8}, {1, 19, 3, 1, 83}, {1, 40, 4, 2, 33}, {1, 150, 4, 2, 16}};

    @Test
    void groupedQueryForwardAndBackwardMatchReference() {
        for (int[] s : GQA_SHAPES) {
            compare(s[0], s[1], new Attention.Heads(s[2], s[3], s[4]), 1.0, "gqa " + java.util.Arrays.toString(s), TOL);
        }
        compare(2, 8, new Attention.Heads(4, 1, 32), 30.0, "gqa saturated", 2e-3);
    }

    @Test
    void groupedQueryIsMultiHeadWithRepeatedKeysAndValues() {
        // Hugging Face's repeat_kv: GQA equals multi-head attention whose kv heads are copies, head h getting
        // kv head h/G. Forward and dq are the same computation, so the same bits; a shared kv head's dk/dv is
        // the sum of its copies' (in another order, hence close).
        int B = 2, T = 21, NH = 6, NKV = 2, hd = 24, G = NH / NKV;
        Attention.Heads gqa = new Attention.Heads(NH, NKV, hd), mha = new Attention.Heads(NH, NH, hd);
        float[] qkv = randn(rng, B * T * gqa.rowWidth(), 1);
        float[] rep = new float[B * T * mha.rowWidth()];
        for (int bt = 0; bt < B * T; bt++) {
            int src = bt * gqa.rowWidth(), dst = bt * mha.rowWidth();
            System.arraycopy(qkv, src, rep, dst, NH * hd);
            for (int h = 0; h < NH; h++) {
                int g = h / G;
                System.arraycopy(qkv, src + (NH + g) * hd, rep, dst + (NH + h) * hd, hd);
                System.arraycopy(qkv, src + (NH + NKV + g) * hd, rep, dst + (2 * NH + h) * hd, hd);
            }
        }
        float[] out1 = new float[B * T * NH * hd], att1 = new float[B * NH * T * T];
        float[] out2 = new float[B * T * NH * hd], att2 = new float[B * NH * T * T];
        Attention.forward(out1, att1, qkv, B, T, gqa);
        Attention.forward(out2, att2, rep, B, T, mha);
        assertBitEqual("out", out1, out2);
        assertBitEqual("att", att1, att2);
        float[] dout = randn(rng, out1.length, 1);
        float[] d1 = new float[qkv.length], d2 = new float[rep.length];
        Attention.backward(d1, dout, qkv, att1, B, T, gqa);
        Attention.backward(d2, dout, rep, att2, B, T, mha);
        double[] summed = new double[d1.length];
        float[] dq1 = new float[B * T * NH * hd], dq2 = new float[dq1.length];
        for (int bt = 0; bt < B * T; bt++) {
            System.arraycopy(d1, bt * gqa.rowWidth(), dq1, bt * NH * hd, NH * hd);
            System.arraycopy(d2, bt * mha.rowWidth(), dq2, bt * NH * hd, NH * hd);
            for (int i = 0; i < NH * hd; i++) {
                summed[bt * gqa.rowWidth() + i] = d1[bt * gqa.rowWidth() + i];
            }
            for (int h = 0; h < NH; h++) {
                int g = h / G;
                for (int i = 0; i < hd; i++) {
                    summed[bt * gqa.rowWidth() + (NH + g) * hd + i] += d2[bt * mha.rowWidth() + (NH + h) * hd + i];
                    summed[bt * gqa.rowWidth() + (NH + NKV + g) * hd + i] += d2[bt * mha.rowWidth() + (2 * NH + h) * hd + i];
                }
            }
        }
        assertBitEqual("dq", dq1, dq2);
        assertClose("dk, dv summed over each group", summed, d1, TOL);
    }

    @Test
    void groupedQueryIndependentOfThreadCount() {
        int B = 2, T = 9;
        Attention.Heads heads = new Attention.Heads(6, 2, 40);
        float[] qkv = randn(rng, B * T * heads.rowWidth(), 1), dout = randn(rng, B * T * heads.qWidth(), 1);
        float[][] one = run(B, T, heads, qkv, dout, 1);
        for (int threads : new int[] {2, 3}) {
            float[][] many = run(B, T, heads, qkv, dout, threads);
            assertBitEqual("out, " + threads + " threads", one[0], many[0]);
            assertBitEqual("att, " + threads + " threads", one[1], many[1]);
            assertBitEqual("dqkv, " + threads + " threads", one[2], many[2]);
            assertBitEqual("decode, " + threads + " threads", one[3], many[3]);
        }
    }

    private static float[][] run(int B, int T, Attention.Heads heads, float[] qkv, float[] dout, int threads) {
        float[] out = new float[B * T * heads.qWidth()], att = new float[B * heads.n() * T * T];
        float[] dqkv = new float[qkv.length], dec = new float[T * heads.qWidth()];
        withThreads(threads, () -> {
            Attention.forward(out, att, qkv, B, T, heads);
            Attention.backward(dqkv, dout, qkv, att, B, T, heads);
            float[] kc = new float[T * heads.kvWidth()], vc = new float[T * heads.kvWidth()];
            Attention.appendToCache(kc, vc, 0, 0, qkv, 0, T, heads);
            Attention.decode(dec, 0, qkv, 0, heads.rowWidth(), kc, vc, 0, 0, T, heads,
                    new float[T * heads.n() * T]);
        });
        return new float[][] {out, att, dqkv, dec};
    }

    /**
     * The KV-cache path with n_kv heads per cached position: a prompt as one chunk of rows, then the rest one
     * or a few rows at a time, must give what the full forward gives at those positions.
     */
    @Test
    void groupedQueryDecodeMatchesForward() {
        for (int[] s : new int[][] {{13, 4, 2, 64}, {9, 6, 3, 80}, {7, 8, 1, 96}, {5, 2, 2, 128}, {11, 3, 1, 7}}) {
            int T = s[0];
            Attention.Heads heads = new Attention.Heads(s[1], s[2], s[3]);
            int W = heads.rowWidth(), Q = heads.qWidth(), KW = heads.kvWidth(), NH = heads.n();
            float[] qkv = randn(rng, T * W, 1), out = new float[T * Q], att = new float[NH * T * T];
            Attention.forward(out, att, qkv, 1, T, heads);
            // Caches at an offset inside larger arrays; the qkv rows are read in place (an offset into qkv).
            int cacheOff = 3;
            float[] kc = new float[cacheOff + T * KW + 2], vc = new float[cacheOff + T * KW + 2];
            int pos = 0;
            for (int rows : new int[] {T / 2, 1, 2, T}) {
                rows = Math.min(rows, T - pos);
                if (rows == 0) {
                    continue;
                }
                Attention.appendToCache(kc, vc, cacheOff, pos, qkv, pos * W, rows, heads);
                int span = pos + rows;
                float[] o = new float[1 + rows * Q], a = new float[rows * NH * span];
                Attention.decode(o, 1, qkv, pos * W, W, kc, vc, cacheOff, pos, rows, heads, a);
                for (int r = 0; r < rows; r++) {
                    int p = pos + r;
                    for (int i = 0; i < Q; i++) {
                        assertEquals(out[p * Q + i], o[1 + r * Q + i], 1e-6f, java.util.Arrays.toString(s) + " pos " + p);
                    }
                    for (int h = 0; h < NH; h++) {
                        for (int t2 = 0; t2 <= p; t2++) {
                            assertEquals(att[(h * T + p) * T + t2], a[(r * NH + h) * span + t2], 1e-6f);
                        }
                    }
                }
                pos += rows;
            }
            assertEquals(T, pos);
            // The cache holds k and v of n_kv heads per position, exactly the packed rows' k and v parts.
            for (int p = 0; p < T; p++) {
                for (int i = 0; i < KW; i++) {
                    assertEquals(qkv[p * W + Q + i], kc[cacheOff + p * KW + i], 0f);
                    assertEquals(qkv[p * W + Q + KW + i], vc[cacheOff + p * KW + i], 0f);
                }
            }
        }
        // No rows: nothing to do, nothing read.
        Attention.decode(new float[0], 0, new float[0], 0, 0, new float[0], new float[0], 0, 5, 0,
                new Attention.Heads(2, 1, 4), new float[0]);
    }

    @Test
    void groupedQueryBadInput() {
        assertBadInput(() -> new Attention.Heads(6, 4, 8), "n_head=6", "n_kv_head=4", "multiple");
        assertBadInput(() -> new Attention.Heads(4, 2, 0), "head_dim", "positive");
        Attention.Heads heads = new Attention.Heads(4, 2, 8);   // rows of (4 + 4)·8 = 64
        float[] qkv = new float[2 * 3 * 64], out = new float[2 * 3 * 32], att = new float[2 * 4 * 9];
        assertBadInput(() -> Attention.forward(out, att, new float[100], 2, 3, heads),
                "attention", "n_head=4", "n_kv_head=2", "head_dim=8", "qkv", "384");
        assertBadInput(() -> Attention.forward(new float[191], att, qkv, 2, 3, heads), "attention", "out", "192");
        assertBadInput(() -> Attention.backward(qkv, new float[5], qkv, att, 2, 3, heads), "attentionBackward", "dout");
        float[] kc = new float[3 * 16], vc = new float[3 * 16];
        assertBadInput(() -> Attention.decode(new float[64], 0, qkv, 0, 64, kc, vc, 0, 2, 2, heads, new float[64]),
                "attentionDecode", "firstPos=2", "rows=2", "kCache", "64");
        assertBadInput(() -> Attention.decode(new float[64], 0, qkv, 0, 16, kc, vc, 0, 0, 2, heads, new float[64]),
                "attentionDecode", "overlap");
        assertBadInput(() -> Attention.decode(new float[32], 0, qkv, 0, 64, kc, vc, 0, 0, 1, heads, new float[3]),
                "attentionDecode", "att");
        assertBadInput(() -> Attention.appendToCache(kc, vc, 0, 2, qkv, 0, 2, heads),
                "attentionAppendToCache", "kCache", "64");
    }

    @Test
    void badInput() {
        float[] qkv = new float[2 * 3 * 3 * 12], out = new float[2 * 3 * 12], att = new float[2 * 4 * 9];
        assertBadInput(() -> Attention.forward(out, att, qkv, 2, 3, 12, 5),
                "attention", "B=2", "T=3", "C=12", "NH=5", "not divisible");
        assertBadInput(() -> Attention.forward(out, att, new float[10], 2, 3, 12, 4), "attention", "qkv", "216");
        assertBadInput(() -> Attention.forward(out, new float[5], qkv, 2, 3, 12, 4), "attention", "att");
        assertBadInput(() -> Attention.forward(out, att, qkv, 0, 3, 12, 4), "attention", "positive");
        assertBadInput(() -> Attention.backward(new float[3], out, qkv, att, 2, 3, 12, 4),
                "attentionBackward", "dqkv");
        assertBadInput(() -> Attention.decodeStep(new float[12], new float[12], new float[24], new float[24], 2, 12, 4,
                new float[12]), "attentionDecode", "pos=2", "C=12", "NH=4");
        assertBadInput(() -> Attention.decodeStep(new float[12], new float[12], new float[24], new float[24], 1, 12, 5,
                new float[12]), "attentionDecode", "divisible");
    }

    private void compare(int B, int T, int C, int NH, double std, String label, double tol) {
        compare(B, T, Attention.Heads.multiHead(C, NH), std, label, tol);
        // The (C, NH) methods are the multi-head case of the general ones, to the bit.
        float[] qkv = randn(rng, B * T * 3 * C, std), dout = randn(rng, B * T * C, 1);
        float[] o1 = new float[B * T * C], a1 = new float[B * NH * T * T], d1 = new float[qkv.length];
        float[] o2 = new float[B * T * C], a2 = new float[B * NH * T * T], d2 = new float[qkv.length];
        Attention.forward(o1, a1, qkv, B, T, C, NH);
        Attention.backward(d1, dout, qkv, a1, B, T, C, NH);
        Attention.forward(o2, a2, qkv, B, T, Attention.Heads.multiHead(C, NH));
        Attention.backward(d2, dout, qkv, a2, B, T, Attention.Heads.multiHead(C, NH));
        assertBitEqual(label + " out (C, NH)", o2, o1);
        assertBitEqual(label + " dqkv (C, NH)", d2, d1);
    }

    private void compare(int B, int T, Attention.Heads heads, double std, String label, double tol) {
        int NH = heads.n(), NKV = heads.nKv(), hd = heads.dim();
        float[] qkv = randn(rng, B * T * heads.rowWidth(), std);
        float[] out = new float[B * T * heads.qWidth()], att = new float[B * NH * T * T];
        Attention.forward(out, att, qkv, B, T, heads);
        double[] rq = toDouble(qkv), rout = new double[out.length], ratt = new double[att.length];
        Reference.attentionForward(rout, ratt, rq, B, T, NH, NKV, hd);
        for (float f : out) {
            assertTrue(Float.isFinite(f), label + ": non-finite output");
        }
        assertClose(label + " out", rout, out, tol);
        assertClose(label + " att", ratt, att, tol);

        float[] dout = randn(rng, out.length, 1);
        float[] dqkv = randn(rng, qkv.length, 1);       // non-zero start: backward must accumulate
        double[] rd = toDouble(dqkv);
        float[] start = dqkv.clone();
        Attention.backward(dqkv, dout, qkv, att, B, T, heads);
        Reference.attentionBackward(rd, toDouble(dout), rq, ratt, B, T, NH, NKV, hd);
        assertClose(label + " dqkv", rd, dqkv, tol);

        // backwardSet: what backward adds to zeros, whatever dqkv held (the same sums in the same order).
        float[] fromZero = new float[qkv.length], set = start;
        Attention.backward(fromZero, dout, qkv, att, B, T, heads);
        Attention.backwardSet(set, dout, qkv, att, B, T, heads);
        org.junit.jupiter.api.Assertions.assertArrayEquals(fromZero, set, 0f, label + " backwardSet");
    }
}
