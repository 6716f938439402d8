package dev.jgpt.study;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.model.ResidualSublayer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LesionsTest {
    private static final int B = 4, T = 32;

    /** The loss on one fixed batch of tiny Shakespeare's validation split. */
    private static ToDoubleFunction<GPT> fixedBatch() {
        StudyCorpus c = StudyTesting.corpus();
        int[] x = new int[B * T], y = new int[B * T];
        StudyCorpus.sample(c.val, B, T, new SplittableRandom(3), x, y);
        return m -> m.loss(x, y, B, T);
    }

    private static GPT model(ResidualLayout layout, int depth, long seed) {
        return new GPT(GPTConfig.of(StudyTesting.corpus().vocabSize, 64, depth, 4, 64).withLayout(layout)
                .withInit(InitScheme.XAVIER), seed);
    }

    @Test
    void aLesionOfAReZeroModelAtInitChangesNothing() {
        GPT rezero = model(ResidualLayout.REZERO, 5, 1);
        Lesions.Result r = Lesions.measure(rezero, fixedBatch(), StudyTesting.corpus().unigramLoss, 4, 7);
        for (int l = 0; l < 5; l++) {
            assertEquals(r.loss(), r.single()[l], "deleting block " + l + " of x + 0·F(x) is exact");
        }
        assertEquals(6, r.byK().size());
        for (Lesions.Deletions d : r.byK()) {
            for (double loss : d.losses()) {
                assertEquals(r.loss(), loss, "k = " + d.k());
            }
        }
        // The same lesions do change a model whose blocks do something: the test can fail.
        Lesions.Result pre = Lesions.measure(model(ResidualLayout.PRE_LN, 5, 1), fixedBatch(),
                StudyTesting.corpus().unigramLoss, 4, 7);
        for (int l = 0; l < 5; l++) {
            assertNotEquals(pre.loss(), pre.single()[l], "pre-ln block " + l);
        }
    }

    /** Every parameter moved by a random amount, so gates are open, wiring weights off init and every path carries signal. */
    private static void moveOffInit(GPT model, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Param p : model.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data[i] += (float) (0.2 * r.nextGaussian() * (p.name.endsWith(".weight") && p.size() > 1000 ? 0.2 : 1));
            }
        }
    }

    /** Deleting a highway block is closing both of its gates: g = 0, carry only. */
    @Test
    void aDeletedHighwayBlockIsOneWithBothGatesClosed() {
        GPT model = model(ResidualLayout.HIGHWAY, 3, 2);
        moveOffInit(model, 4);
        ToDoubleFunction<GPT> loss = fixedBatch();
        Lesions.Result lesion = Lesions.measure(model, loss, StudyTesting.corpus().unigramLoss, 1, 3);
        for (int l = 0; l < 3; l++) {
            List<float[]> biases = new ArrayList<>();
            for (ResidualSublayer s : List.of(model.blocks().get(l).attention(), model.blocks().get(l).feedForward())) {
                biases.add(s.gate().bias.data.clone());
                Arrays.fill(s.gate().bias.data, -1e4f);   // σ = 0 exactly
            }
            double closed = loss.applyAsDouble(model);
            for (int j = 0; j < 2; j++) {
                ResidualSublayer s = j == 0 ? model.blocks().get(l).attention() : model.blocks().get(l).feedForward();
                System.arraycopy(biases.get(j), 0, s.gate().bias.data, 0, biases.get(j).length);
            }
            assertEquals(closed, lesion.single()[l], "block " + l + ": deleted = both gates closed");
            assertTrue(Math.abs(lesion.single()[l] - lesion.loss()) > 1e-4, "block " + l + " does something when open");
        }
    }

    /**
     * For pre-LN and the layouts built on its blocks (dense, unet), deleting a block is zeroing its two output
     * projections: the block becomes x + 0 + 0, and dense's averages and unet's skips stay as they are.
     */
    @ParameterizedTest
    @EnumSource(value = ResidualLayout.class, names = {"PRE_LN", "DENSE", "UNET"})
    void aDeletedBlockIsOneWithItsOutputProjectionsZeroedAndTheWiringKept(ResidualLayout layout) {
        GPT model = model(layout, 4, 6);
        moveOffInit(model, 7);
        ToDoubleFunction<GPT> loss = fixedBatch();
        Lesions.Result lesion = Lesions.measure(model, loss, StudyTesting.corpus().unigramLoss, 1, 3);
        for (int l = 0; l < 4; l++) {
            List<Param> projections = List.of(model.param("transformer.h." + l + ".attn.c_proj.weight"),
                    model.param("transformer.h." + l + ".attn.c_proj.bias"), model.param("transformer.h." + l + ".mlp.c_proj.weight"),
                    model.param("transformer.h." + l + ".mlp.c_proj.bias"));
            List<float[]> saved = projections.stream().map(p -> p.data.clone()).toList();
            projections.forEach(p -> Arrays.fill(p.data, 0f));
            double zeroed = loss.applyAsDouble(model);
            for (int i = 0; i < projections.size(); i++) {
                System.arraycopy(saved.get(i), 0, projections.get(i).data, 0, saved.get(i).length);
            }
            assertEquals(zeroed, lesion.single()[l], layout + " block " + l);
            assertTrue(Math.abs(lesion.single()[l] - lesion.loss()) > 1e-4, layout + " block " + l + " does something");
        }
        assertEquals(lesion.loss(), loss.applyAsDouble(model), "restored");
    }

    /**
     * With every block deleted a layout with a final LN leaves embeddings → final LN → head; dense's averages and
     * unet's skips still run, over copies of the embedding, so they leave c·x_0 with c a number of the wiring weights
     * (checked by hand below), and the final LN sees c·x_0.
     */
    @ParameterizedTest
    @EnumSource(value = ResidualLayout.class, names = {"PRE_LN", "HIGHWAY", "DENSE", "UNET"})
    void deletingEveryBlockLeavesEmbeddingsThroughTheWiringFinalLnAndHead(ResidualLayout layout) {
        int L = 5;
        GPT model = model(layout, L, 5);
        moveOffInit(model, 9);
        // the scale the wiring gives x_0 when every block passes its input on: y_{l+1} = x_l
        double[] cx = new double[L + 1], cy = new double[L + 1];
        cx[0] = cy[0] = 1;
        for (int l = 0; l < L; l++) {
            cy[l + 1] = cx[l];
            cx[l + 1] = cy[l + 1];
            if (layout == ResidualLayout.DENSE) {
                float[] a = model.param("transformer.dwa." + l + ".weight").data;
                cx[l + 1] = 0;
                for (int j = 0; j <= l + 1; j++) {
                    cx[l + 1] += a[j] * cy[j];
                }
            } else if (layout == ResidualLayout.UNET && l + 1 < L && l + 1 >= L - L / 2) {
                float[] w = model.param("transformer.skip_weights").data;
                cx[l + 1] += w[l + 1 - (L - L / 2)] * cy[L - l - 1];
            }
        }
        assertTrue(layout.crossesBlocks() ? Math.abs(cx[L] - 1) > 0.05 : cx[L] == 1, layout + ": c = " + cx[L]);
        StudyCorpus c = StudyTesting.corpus();
        int[] x = new int[B * T], y = new int[B * T];
        StudyCorpus.sample(c.val, B, T, new SplittableRandom(3), x, y);
        Lesions.Result lesion = Lesions.measure(model, m -> m.loss(x, y, B, T), c.unigramLoss, 2, 1);
        double byHand = embeddingsFinalLnHead(model, x, y, cx[L]);
        Lesions.Deletions all = lesion.byK().get(L);
        assertEquals(1, all.losses().length, "one way to delete all blocks");
        assertEquals(byHand, all.losses()[0], 1e-5 * byHand, layout + ": c·x_0 → final LN → head");
        assertTrue(Math.abs(lesion.loss() - byHand) > 1e-3, "the intact model differs: " + lesion.loss() + " vs " + byHand);
        assertEquals(lesion.loss(), model.loss(x, y, B, T), "and the model runs whole again afterwards");
    }

    /** By hand, in double: h = c·(wte[token] + wpe[position]); LN with ln_f; logits = h·wteᵀ; mean cross-entropy. */
    private static double embeddingsFinalLnHead(GPT model, int[] x, int[] y, double scale) {
        float[] g = model.param("transformer.ln_f.weight").data, beta = model.param("transformer.ln_f.bias").data;
        float[] wte = model.param("transformer.wte.weight").data, wpe = model.param("transformer.wpe.weight").data;
        int C = model.config.nEmbd(), V = model.config.vocabSize();
        double eps = model.config.layerNormEps(), total = 0;
        for (int row = 0; row < B * T; row++) {
            int t = row % T;
            double[] h = new double[C];
            double mean = 0, var = 0;
            for (int i = 0; i < C; i++) {
                h[i] = scale * ((double) wte[x[row] * C + i] + wpe[t * C + i]);
                mean += h[i] / C;
            }
            for (int i = 0; i < C; i++) {
                var += (h[i] - mean) * (h[i] - mean) / C;
            }
            for (int i = 0; i < C; i++) {
                h[i] = (h[i] - mean) / Math.sqrt(var + eps) * g[i] + beta[i];
            }
            double[] logits = new double[V];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                for (int i = 0; i < C; i++) {
                    logits[v] += h[i] * wte[v * C + i];
                }
                max = Math.max(max, logits[v]);
            }
            double sum = 0;
            for (int v = 0; v < V; v++) {
                sum += Math.exp(logits[v] - max);
            }
            total += max + Math.log(sum) - logits[y[row]];
        }
        return total / (B * T);
    }

    @Test
    void subsetsAreAllOfThemWhenFewElseABalancedRandomDesign() {
        SplittableRandom rng = new SplittableRandom(1);
        assertEquals(List.of(0L), Lesions.subsets(6, 0, 5, rng));
        assertEquals(List.of(63L), Lesions.subsets(6, 6, 5, rng));
        List<Long> all = Lesions.subsets(6, 2, 15, rng);
        assertEquals(15, all.size(), "C(6,2) = 15 ≤ 15 draws: every pair");
        assertEquals(15, new HashSet<>(all).size());
        all.forEach(m -> assertEquals(2, Long.bitCount(m)));
        // 12 windows of 6 around one random order of 12 blocks: distinct, and each block in exactly half of them
        List<Long> balanced = Lesions.subsets(12, 6, 12, rng);
        assertEquals(12, new HashSet<>(balanced).size());
        for (int block = 0; block < 12; block++) {
            int b = block;
            assertEquals(6, balanced.stream().filter(m -> (m >>> b & 1) != 0).count(), "block " + block);
        }
        // fewer draws than blocks: each block in k·draws/L of them, within one
        List<Long> some = Lesions.subsets(8, 3, 5, rng);
        assertEquals(5, some.size());
        for (int block = 0; block < 8; block++) {
            int b = block;
            long n = some.stream().filter(m -> (m >>> b & 1) != 0).count();
            assertTrue(Math.abs(n - 3 * 5 / 8.0) < 1 + 1e-9, "block " + block + " in " + n + " of 5");
        }
        some.forEach(m -> assertTrue(Long.bitCount(m) == 3 && m < 1L << 8, Long.toBinaryString(m)));
        // each window alone is a uniformly random k-subset: over many designs every block is equally likely
        int[] hits = new int[8];
        for (int i = 0; i < 4000; i++) {
            long m = Lesions.subsets(8, 3, 1, rng).get(0);
            for (int b = 0; b < 8; b++) {
                hits[b] += (int) (m >>> b & 1);
            }
        }
        for (int b = 0; b < 8; b++) {
            assertEquals(3 / 8.0, hits[b] / 4000.0, 0.04, "block " + b);
        }
        assertEquals(924, Lesions.binomial(12, 6));
        assertEquals(1 + 12 + 10 * 4 + 1, Lesions.evaluations(12, 4));
        assertEquals(16, Lesions.evaluations(4, 6), "L = 4 with 6 draws: all 16 subsets");
    }

    @Test
    @Tag("slow") // trains for seconds: -DexcludedGroups=slow leaves it out
    void theLossAgainstKOfATrainedSmallPreLnModelRisesInExpectation() {
        // L = 4 with 6 draws per k: every subset, so the means are the exact expectations over a random k-subset.
        RunSpec spec = StudyTesting.spec(ResidualLayout.PRE_LN, 4, InitScheme.XAVIER, 0, 300).withLesionDraws(6);
        RunResult run = StabilityRun.run(spec, StudyTesting.corpus());
        assertEquals(RunResult.TRAINED, run.verdict(), "val " + run.valLoss());
        Lesions.Result r = run.lesion();
        assertEquals(run.valLoss(), r.loss(), "the lesion phase starts from the validation loss");
        for (int k = 0; k < 4; k++) {
            assertEquals(k == 0 ? 1 : (int) Lesions.binomial(4, k), r.byK().get(k).losses().length);
            assertTrue(r.byK().get(k + 1).mean() > r.byK().get(k).mean(),
                    "E[loss | k + 1 deleted] > E[loss | k deleted] at k = " + k + ": " + r.byK().stream().map(Lesions.Deletions::mean).toList());
        }
        // an init-only probe has no lesion phase
        assertNull(StabilityRun.run(StudyTesting.spec(ResidualLayout.PRE_LN, 4, InitScheme.XAVIER, 0, 0).withLesionDraws(6),
                StudyTesting.corpus()).lesion());
    }
}
