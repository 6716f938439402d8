package dev.jgpt.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exact facts about the architecture that any correct implementation must show. */
class GPTFactsTest {

    @Test
    void deepNormConstantsForTwelveLayers() {
        assertEquals(2.213, GPTConfig.deepNormAlpha(12), 1e-3);
        assertEquals(0.319, GPTConfig.deepNormBeta(12), 1e-3);
    }

    @Test
    void deepNormScalesValueOutputAndFfnInitByBeta() {
        int C = 64, L = 12;
        GPTConfig cfg = new GPTConfig(50, 16, L, 4, C, true, 0f, 1e-5f, ResidualLayout.DEEPNORM, InitScheme.XAVIER);
        GPT m = new GPT(cfg, 3);
        double beta = GPTConfig.deepNormBeta(L), xavierSquare = Math.sqrt(2.0 / (C + C));
        float[] qkv = m.param("transformer.h.0.attn.c_attn.weight").data;
        assertEquals(xavierSquare, std(qkv, 0, C * C), 0.05 * xavierSquare);                 // q: gain 1
        assertEquals(xavierSquare * beta, std(qkv, 2 * C * C, C * C), 0.05 * xavierSquare * beta); // v: gain β
        float[] fc = m.param("transformer.h.0.mlp.c_fc.weight").data;
        double xavierFc = Math.sqrt(2.0 / (C + 4 * C));
        assertEquals(xavierFc * beta, std(fc, 0, fc.length), 0.05 * xavierFc * beta);
    }

    @Test
    void gpt2InitScalesResidualProjections() {
        GPTConfig cfg = GPTConfig.of(50, 16, 8, 4, 64);
        GPT m = new GPT(cfg, 5);
        float[] proj = m.param("transformer.h.3.mlp.c_proj.weight").data;
        float[] fc = m.param("transformer.h.3.mlp.c_fc.weight").data;
        assertEquals(0.02 / Math.sqrt(16), std(proj, 0, proj.length), 0.0003);
        assertEquals(0.02, std(fc, 0, fc.length), 0.0005);
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void untrainedLossIsNearLnVocab(ResidualLayout layout) {
        int V = 65;
        GPT m = new GPT(new GPTConfig(V, 16, 2, 2, 16, true, 0f, 1e-5f, layout, InitScheme.GPT2), 7);
        SplittableRandom r = new SplittableRandom(1);
        int[] x = IntStream.range(0, 64).map(i -> r.nextInt(V)).toArray();
        int[] y = IntStream.range(0, 64).map(i -> r.nextInt(V)).toArray();
        float loss = m.loss(x, y, 4, 16);
        assertEquals(Math.log(V), loss, 0.05, layout + " initial loss");
    }

    @Test
    void reZeroIsTheIdentityAtInitAndOnlyAlphaLearnsFirst() {
        GPTConfig cfg = new GPTConfig(11, 8, 3, 2, 8, true, 0f, 1e-5f, ResidualLayout.REZERO, InitScheme.XAVIER);
        GPT m = new GPT(cfg, 9);
        int B = 2, T = 6;
        SplittableRandom r = new SplittableRandom(2);
        int[] x = IntStream.range(0, B * T).map(i -> r.nextInt(11)).toArray();
        int[] y = IntStream.range(0, B * T).map(i -> r.nextInt(11)).toArray();
        m.zeroGrad();
        m.lossAndBackward(x, y, B, T);
        float[] embedding = new float[B * T * 8];
        for (int i = 0; i < B * T; i++) {
            for (int c = 0; c < 8; c++) {
                embedding[i * 8 + c] = m.param("transformer.wte.weight").data[x[i] * 8 + c]
                        + m.param("transformer.wpe.weight").data[(i % T) * 8 + c];
            }
        }
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(embedding, java.util.Arrays.copyOf(m.residualStream(l + 1), B * T * 8), "block " + l);
        }
        for (Param p : m.parameters()) {
            boolean inBlock = p.name.startsWith("transformer.h.");
            double norm = 0;
            for (float g : p.grad()) {
                norm += g * g;
            }
            if (p.name.endsWith("_alpha")) {
                assertNotEquals(0.0, norm, p.name + " must get a gradient at init");
            } else if (inBlock) {
                assertEquals(0.0, norm, p.name + " must get no gradient while a = 0");
            }
        }
        assertEquals(ResidualLayout.REZERO, cfg.layout());
        assertTrue(m.parameters().stream().noneMatch(p -> p.name.contains("ln")), "ReZero has no layer norm");
    }

    /** The count the layers report equals the count by hand, for every layout, with and without bias. */
    @Test
    void parameterCountMatchesTheFormula() {
        for (ResidualLayout l : ResidualLayout.values()) {
            for (boolean bias : new boolean[] {true, false}) {
                for (int layers : new int[] {3, 4}) {
                    GPTConfig cfg = new GPTConfig(100, 32, layers, 4, 32, bias, 0f, 1e-5f, l, InitScheme.GPT2);
                    assertEquals(countByHand(cfg), new GPT(cfg, 1).parameterCount(), l.id() + " bias " + bias + " L" + layers);
                }
            }
        }
        assertEquals(124_439_808L, GPT.uninitialized(GPTConfig.gpt2Small()).parameterCount());
    }

    private static long countByHand(GPTConfig c) {
        long C = c.nEmbd(), b = c.bias() ? 1 : 0;
        long attn = C * 3 * C + b * 3 * C + C * C + b * C;
        long mlp = C * 4 * C + b * 4 * C + 4 * C * C + b * C;
        long ln = C + b * C;
        long norms = switch (c.layout()) {
            case REZERO -> 0;
            case SANDWICH -> 4 * ln;
            default -> 2 * ln;
        };
        long alphas = c.layout() == ResidualLayout.REZERO ? 2 : 0;
        long gates = c.layout() == ResidualLayout.HIGHWAY ? 2 * (C * C + C) : 0;   // W_g and b_g per sublayer
        long L = c.nLayer();
        long wiring = switch (c.layout()) {
            case DENSE -> L * (L + 3) / 2;  // after block l: weights over the embedding and blocks 0..l
            case UNET -> L / 2;             // one weight per skip
            default -> 0;
        };
        return (long) c.vocabSize() * C + (long) c.blockSize() * C + L * (attn + mlp + norms + alphas + gates) + wiring
                + (c.layout().hasFinalLayerNorm() ? ln : 0);
    }

    @Test
    void badInputIsRejectedWithClearMessages() {
        GPT m = new GPT(GPTConfig.of(10, 8, 1, 2, 8), 1);
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> m.loss(new int[9], new int[9], 1, 9));
        assertTrue(tooLong.getMessage().contains("context"), tooLong.getMessage());
        IllegalArgumentException badToken = assertThrows(IllegalArgumentException.class,
                () -> m.loss(new int[] {1, 12}, new int[] {1, 1}, 1, 2));
        assertTrue(badToken.getMessage().contains("12"), badToken.getMessage());
        IllegalArgumentException badCfg = assertThrows(IllegalArgumentException.class,
                () -> GPTConfig.of(10, 8, 1, 3, 8));
        assertTrue(badCfg.getMessage().contains("n_head"), badCfg.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ResidualLayout.parse("postln2"));
    }

    /**
     * zeroGrad is lazy (the first backward product sets a weight gradient instead of adding to zeros): over two
     * micro-batches, a tied and an untied head, and a skipped block, every gradient is bit for bit what zeros written
     * eagerly give, and a gradient not written since zeroGrad reads zero, also through AdamW's own arrays.
     */
    @Test
    void lazyZeroGradGivesTheBitsOfEagerZeros() {
        for (boolean tied : new boolean[] {true, false}) {
            GPTConfig cfg = new GPTConfig(13, 8, 3, 2, 16, true, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.GPT2)
                    .toBuilder().tiedEmbeddings(tied).build();
            SplittableRandom r = new SplittableRandom(4);
            int[] x1 = IntStream.range(0, 16).map(i -> r.nextInt(13)).toArray(), y1 = x1.clone();
            int[] x2 = IntStream.range(0, 16).map(i -> r.nextInt(13)).toArray(), y2 = x2.clone();
            GPT lazy = new GPT(cfg, 5), eager = new GPT(cfg, 5);
            for (GPT m : new GPT[] {lazy, eager}) {
                m.lossAndBackward(x2, y2, 2, 8);   // old gradients in every array
                m.skipBlocks(new boolean[] {false, true, false});
                m.zeroGrad();
            }
            for (Param p : eager.parameters()) {
                p.grad();   // writes the zeros now
            }
            for (GPT m : new GPT[] {lazy, eager}) {
                m.lossAndBackward(x1, y1, 2, 8);
                m.lossAndBackward(x2, y2, 2, 8);
            }
            for (int i = 0; i < lazy.parameters().size(); i++) {
                Param p = lazy.parameters().get(i);
                float[] g = p.grad(), e = eager.parameters().get(i).grad();
                for (int j = 0; j < g.length; j++) {
                    assertEquals(Float.floatToRawIntBits(e[j]), Float.floatToRawIntBits(g[j]), p.name + "[" + j + "], tied " + tied);
                }
            }
            for (Param p : lazy.blocks().get(1).parameters()) {
                for (float g : p.grad()) {
                    assertEquals(0f, g, p.name + " of a skipped block");
                }
            }
            var adamW = new dev.jgpt.model.optim.AdamW(lazy.parameters(), 0.9, 0.95, 1e-8, 0.1);
            assertNotEquals(0.0, adamW.gradientNorm());
            lazy.zeroGrad();
            assertEquals(0.0, adamW.gradientNorm(), "AdamW's arrays after zeroGrad");
        }
    }

    /** A skipped block is the identity: its gradient is zero and the rest still match finite differences. */
    @Test
    void skippedBlocksAreTheIdentity() {
        GPTConfig cfg = new GPTConfig(9, 8, 3, 2, 8, true, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER);
        GPT m = new GPT(cfg, 3);
        int[] x = {1, 2, 3, 4, 5, 6}, y = {2, 3, 4, 5, 6, 7};
        m.loss(x, y, 1, 6);
        float[] afterFirst = java.util.Arrays.copyOf(m.residualStream(1), 6 * 8);
        m.skipBlocks(new boolean[] {false, true, false});
        m.zeroGrad();
        m.lossAndBackward(x, y, 1, 6);
        assertArrayEquals(afterFirst, java.util.Arrays.copyOf(m.residualStream(2), 6 * 8), "block 1 passes its input on");
        for (Param p : m.blocks().get(1).parameters()) {
            for (float g : p.grad()) {
                assertEquals(0f, g, p.name + " of a skipped block gets no gradient");
            }
        }
        GPTGradientTest.check(m, 3, false);
        m.skipBlocks(null);
        assertThrows(IllegalArgumentException.class, () -> m.skipBlocks(new boolean[2]));
    }

    static double std(float[] a, int off, int n) {
        double s = 0, s2 = 0;
        for (int i = off; i < off + n; i++) {
            s += a[i];
            s2 += (double) a[i] * a[i];
        }
        double mean = s / n;
        return Math.sqrt(s2 / n - mean * mean);
    }
}
