package dev.jgpt.study;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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

    @Test
    void deletingEveryBlockOfAPreLnModelLeavesEmbeddingsFinalLnAndHead() {
        GPT model = model(ResidualLayout.PRE_LN, 3, 5);
        // a final LN that is not the identity, so the hand computation has to get it right
        SplittableRandom r = new SplittableRandom(9);
        float[] g = model.param("transformer.ln_f.weight").data, beta = model.param("transformer.ln_f.bias").data;
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) (0.5 + r.nextDouble());
            beta[i] = (float) (r.nextDouble() - 0.5);
        }
        StudyCorpus c = StudyTesting.corpus();
        int[] x = new int[B * T], y = new int[B * T];
        StudyCorpus.sample(c.val, B, T, new SplittableRandom(3), x, y);
        Lesions.Result lesion = Lesions.measure(model, m -> m.loss(x, y, B, T), c.unigramLoss, 2, 1);

        // By hand, in double: h = wte[token] + wpe[position]; LN with ln_f; logits = h·wteᵀ; mean cross-entropy.
        float[] wte = model.param("transformer.wte.weight").data, wpe = model.param("transformer.wpe.weight").data;
        int C = model.config.nEmbd(), V = model.config.vocabSize();
        double eps = model.config.layerNormEps(), total = 0;
        for (int row = 0; row < B * T; row++) {
            int t = row % T;
            double[] h = new double[C];
            double mean = 0, var = 0;
            for (int i = 0; i < C; i++) {
                h[i] = (double) wte[x[row] * C + i] + wpe[t * C + i];
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
        double byHand = total / (B * T);
        Lesions.Deletions all = lesion.byK().get(3);
        assertEquals(1, all.losses().length, "one way to delete all 3 blocks");
        assertEquals(byHand, all.losses()[0], 1e-5 * byHand, "embeddings → final LN → head");
        assertTrue(Math.abs(lesion.loss() - byHand) > 1e-3, "the intact model differs: " + lesion.loss() + " vs " + byHand);

        // and the model runs whole again afterwards
        assertEquals(lesion.loss(), model.loss(x, y, B, T));
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
