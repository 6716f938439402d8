package dev.jgpt.model;

import dev.jgpt.model.io.ModelDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The residual family beyond x + F(x): highway gates, DenseFormer's depth-weighted averages and U-Net skips.
 * Each starts where its paper says it does, wires the blocks as {@link BlockStack} says, has the names of its
 * family and survives a checkpoint round trip; gradients and the KV cache are checked with every layout
 * ({@link GPTGradientTest}, {@link InferenceSessionTest}).
 */
class ResidualFamilyTest {
    static final int V = 13, B = 2, T = 6, C = 8;

    static GPTConfig config(ResidualLayout layout, int layers) {
        return new GPTConfig(V, 8, layers, 2, C, true, 0f, 1e-5f, layout, InitScheme.XAVIER);
    }

    static int[] tokens(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return IntStream.range(0, B * T).map(i -> r.nextInt(V)).toArray();
    }

    /** DenseFormer's weights start at α_{l,l+1} = 1, the rest 0: the same model as pre-LN, bit for bit, gradients too. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5})
    void denseAtInitIsPreLnExactly(int layers) {
        GPT pre = new GPT(config(ResidualLayout.PRE_LN, layers), 3);
        GPT dense = new GPT(config(ResidualLayout.DENSE, layers), 3);
        int[] x = tokens(1), y = tokens(2);
        pre.zeroGrad();
        dense.zeroGrad();
        assertEquals(pre.lossAndBackward(x, y, B, T), dense.lossAndBackward(x, y, B, T));
        assertArrayEquals(Arrays.copyOf(pre.logits(x, B, T), B * T * V), Arrays.copyOf(dense.logits(x, B, T), B * T * V));
        for (Param p : pre.parameters()) {
            assertArrayEquals(p.grad(), dense.param(p.name).grad(), p.name);
        }
        assertEquals(layers * (layers + 3) / 2, dense.crossBlockParameters().stream().mapToInt(Param::size).sum());
        // The weights on earlier blocks get a gradient at init, so the average can learn to use them.
        for (Param a : dense.crossBlockParameters()) {
            assertTrue(Arrays.stream(toDouble(a.grad())).anyMatch(g -> g != 0), a.name);
        }
    }

    /** With a large negative gate bias every gate is ~0: each block, and so the stack, is the identity. */
    @Test
    void highwayWithAClosedGateIsTheIdentity() {
        GPT m = new GPT(config(ResidualLayout.HIGHWAY, 3), 4);
        for (Block b : m.blocks()) {
            for (ResidualSublayer s : List.of(b.attention(), b.feedForward())) {
                assertEquals(ResidualSublayer.HIGHWAY_CARRY_BIAS, s.gate().bias.data[0], "carry bias at init");
                Arrays.fill(s.gate().bias.data, -40f);
            }
        }
        int[] x = tokens(5);
        m.logits(x, B, T);
        float[] x0 = Arrays.copyOf(m.residualStream(0), B * T * C);
        for (int l = 1; l <= 3; l++) {
            float[] xl = m.residualStream(l);
            for (int i = 0; i < x0.length; i++) {
                assertEquals(x0[i], xl[i], 1e-6f * Math.abs(x0[i]) + 1e-9f, "stream after block " + l);
            }
        }
    }

    /** At the carry bias σ(−2) ≈ 0.12 of F passes: the stream after a block is much closer to its input than pre-LN's. */
    @Test
    void highwayAtInitStartsCloseToTheIdentity() {
        double highway = relativeUpdate(new GPT(config(ResidualLayout.HIGHWAY, 2), 6));
        double preLn = relativeUpdate(new GPT(config(ResidualLayout.PRE_LN, 2), 6));
        assertTrue(highway < 0.5 * preLn, "highway " + highway + " vs pre-ln " + preLn);
    }

    private static double relativeUpdate(GPT m) {
        m.logits(tokens(7), B, T);
        int n = B * T * C;
        double diff = 0, base = 0;
        for (int i = 0; i < n; i++) {
            double d = m.residualStream(1)[i] - m.residualStream(0)[i];
            diff += d * d;
            base += (double) m.residualStream(0)[i] * m.residualStream(0)[i];
        }
        return Math.sqrt(diff / base);
    }

    /**
     * U-Net: block l of the first half feeds block L−1−l's input with weight w; with L = 5 the middle block gets
     * nothing. Checked against the wiring written out by hand, and with w = 0 it is pre-LN exactly.
     */
    @Test
    void unetAddsTheMirroredFirstHalfOutputs() {
        int L = 5;
        GPT m = new GPT(config(ResidualLayout.UNET, L), 8);
        Param w = m.param("transformer.skip_weights");
        assertArrayEquals(new float[] {1f, 1f}, w.data, "modded-nanogpt starts the skip weights at 1");
        w.data[0] = 0.5f;   // block 1 → block 3
        w.data[1] = -0.25f; // block 0 → block 4
        m.logits(tokens(9), B, T);
        int n = B * T * C;
        for (int l = 0; l < L; l++) {
            float[] expected = Arrays.copyOf(l == 0 ? m.residualStream(0) : m.blockOutput(l - 1), n);
            if (l == 3) {
                addScaled(expected, 0.5f, m.blockOutput(1), n);
            } else if (l == 4) {
                addScaled(expected, -0.25f, m.blockOutput(0), n);
            }
            assertArrayEquals(expected, Arrays.copyOf(m.residualStream(l), n), 1e-6f, "input of block " + l);
        }
        assertArrayEquals(Arrays.copyOf(m.blockOutput(L - 1), n), Arrays.copyOf(m.residualStream(L), n));

        GPT pre = new GPT(config(ResidualLayout.PRE_LN, L), 8);
        Arrays.fill(w.data, 0f);
        int[] x = tokens(10);
        assertArrayEquals(Arrays.copyOf(pre.logits(x, B, T), B * T * V), Arrays.copyOf(m.logits(x, B, T), B * T * V));
    }

    private static void addScaled(float[] y, float a, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            y[i] += a * x[i];
        }
    }

    /** Dense and U-Net at depths where the wiring has several hops, with blocks skipped (lesions, LayerDrop). */
    @ParameterizedTest
    @EnumSource(value = ResidualLayout.class, names = {"DENSE", "UNET"})
    void crossBlockWiringMatchesFiniteDifferencesWithSkippedBlocks(ResidualLayout layout) {
        GPTGradientTest.check(new GPT(config(layout, 4), 12), 12, false);
        GPT m = new GPT(config(layout, 5), 13);
        m.skipBlocks(new boolean[] {false, true, false, false, true});
        GPTGradientTest.check(m, 13, false);
        m.loss(tokens(3), tokens(4), B, T);
        assertArrayEquals(Arrays.copyOf(m.residualStream(1), B * T * C), Arrays.copyOf(m.blockOutput(1), B * T * C),
                "a skipped block passes its input on");
    }

    /** The KV cache with the wiring over more blocks than the layout-wide test's two. */
    @ParameterizedTest
    @EnumSource(value = ResidualLayout.class, names = {"DENSE", "UNET", "HIGHWAY"})
    void cachedLogitsEqualFullForwardDeeper(ResidualLayout layout) {
        GPT m = new GPT(config(layout, 5).toBuilder().blockSize(10).build(), 14);
        for (Param p : m.crossBlockParameters()) {  // move off init so every connection carries signal
            for (int i = 0; i < p.size(); i++) {
                p.data[i] += 0.3f;
            }
        }
        int[] seq = IntStream.range(0, 10).map(i -> (i * 7 + 3) % V).toArray();
        InferenceSession s = new InferenceSession(m);
        InferenceSessionTest.assertClose(InferenceSessionTest.lastRow(m, seq, 4, V), s.append(Arrays.copyOf(seq, 4)).clone(),
                layout + " prefill");
        for (int t = 4; t < 10; t++) {
            InferenceSessionTest.assertClose(InferenceSessionTest.lastRow(m, seq, t + 1, V), s.append(seq[t]).clone(),
                    layout + " step " + t);
        }
    }

    /** Names per family: GPT-2's transformer.* and Llama's model.*; a checkpoint round trip keeps every value. */
    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"GPT2", "LLAMA"})
    void namesPerFamilyAndCheckpointRoundTrip(Family family, @TempDir Path dir) throws IOException {
        boolean gpt2 = family == Family.GPT2;
        GPTConfig base = gpt2 ? config(ResidualLayout.PRE_LN, 4)
                : GPTConfig.llama(V, 8, 4, 2, 2, C, 12).toBuilder().init(InitScheme.XAVIER).build();
        String block = gpt2 ? "transformer.h.1." : "model.layers.1.";
        String top = gpt2 ? "transformer." : "model.";
        expectNames(base.withLayout(ResidualLayout.HIGHWAY), List.of(block + (gpt2 ? "attn_gate" : "self_attn_gate") + ".weight",
                block + (gpt2 ? "attn_gate" : "self_attn_gate") + ".bias", block + "mlp_gate.weight", block + "mlp_gate.bias"), dir);
        expectNames(base.withLayout(ResidualLayout.DENSE), List.of(top + "dwa.0.weight", top + "dwa.3.weight"), dir);
        expectNames(base.withLayout(ResidualLayout.UNET), List.of(top + "skip_weights"), dir);
    }

    private static void expectNames(GPTConfig cfg, List<String> names, Path dir) throws IOException {
        GPT a = new GPT(cfg, 21);
        SplittableRandom r = new SplittableRandom(22);
        for (String name : names) {
            Param p = a.param(name);
            for (int i = 0; i < p.size(); i++) {
                p.data[i] += (float) r.nextGaussian();
            }
        }
        ModelDir.save(a, dir);
        GPT b = ModelDir.load(dir);
        assertEquals(cfg, b.config);
        for (Param p : a.parameters()) {
            assertArrayEquals(p.data, b.param(p.name).data, p.name);
        }
    }

    private static double[] toDouble(float[] a) {
        return IntStream.range(0, a.length).mapToDouble(i -> a[i]).toArray();
    }
}
