package dev.jgpt.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The KV-cache path must give the same logits as a full forward over the whole prefix. */
class InferenceSessionTest {

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void cachedLogitsEqualFullForward(ResidualLayout layout) {
        int V = 13, T = 12;
        GPT m = new GPT(new GPTConfig(V, T, 2, 2, 16, true, 0.1f, 1e-5f, layout, InitScheme.XAVIER), 4);
        SplittableRandom r = new SplittableRandom(5);
        for (Param p : m.parameters()) {
            if (p.name.endsWith("_alpha")) {
                p.data[0] = 0.7f; // ReZero at init would hide the blocks
            }
        }
        int[] seq = IntStream.range(0, T).map(i -> r.nextInt(V)).toArray();
        InferenceSession s = new InferenceSession(m);
        int prompt = 5;
        float[] cached = s.append(Arrays.copyOf(seq, prompt)).clone();
        assertClose(lastRow(m, seq, prompt, V), cached, layout + " prefill");
        for (int t = prompt; t < T; t++) {
            cached = s.append(seq[t]).clone();
            assertClose(lastRow(m, seq, t + 1, V), cached, layout + " step " + t);
        }
        assertEquals(T, s.position());
        IllegalStateException overflow = assertThrows(IllegalStateException.class, () -> s.append(1));
        assertTrue(overflow.getMessage().contains("context"), overflow.getMessage());
    }

    /** The same with Llama's block: RoPE at absolute positions, a cache of n_kv_head heads, RMSNorm, SwiGLU. */
    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void cachedLogitsEqualFullForwardLlama(ResidualLayout layout) {
        int V = 13, T = 12;
        GPT m = new GPT(GPTConfig.llama(V, T, 2, 4, 2, 16, 24).toBuilder().headDim(6).tiedEmbeddings(false)
                .qkvBias(true).layout(layout).init(InitScheme.XAVIER).build(), 6);
        m.parameters().stream().filter(p -> p.name.endsWith("_alpha")).forEach(p -> p.data[0] = 0.7f);
        SplittableRandom r = new SplittableRandom(7);
        int[] seq = IntStream.range(0, T).map(i -> r.nextInt(V)).toArray();
        InferenceSession s = new InferenceSession(m);
        float[] cached = s.append(Arrays.copyOf(seq, 5)).clone();
        assertClose(lastRow(m, seq, 5, V), cached, layout + " prefill");
        for (int t = 5; t < T; t++) {
            cached = s.append(seq[t]).clone();
            assertClose(lastRow(m, seq, t + 1, V), cached, layout + " step " + t);
        }
    }

    /**
     * Several sequences in one cached forward (continuous batching) give each exactly the logits it gets
     * alone, bit for bit: short prefills beside a decode step, and a long prompt (matrix-matrix path)
     * beside both; for every layout, the cross-block weights moved off their init so dense's and unet's
     * wiring carries signal.
     */
    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void aBatchOfSequencesEqualsEachAlone(ResidualLayout layout) {
        int V = 11;
        GPT m = new GPT(GPTConfig.llama(V, 32, 2, 4, 1, 16, 24).toBuilder().init(InitScheme.XAVIER).layout(layout).build(), 8);
        for (Param p : m.crossBlockParameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data[i] += 0.3f;
            }
        }
        assertBatchEqualsAlone(m);
    }

    /**
     * Short prefills and a decode step beside a long prompt in one cached forward: each sequence's logits
     * equal its logits alone, bit for bit. Returns the long prompt's logits (its last row).
     */
    static float[] assertBatchEqualsAlone(GPT m) {
        int V = m.config.vocabSize();
        int[] longPrompt = IntStream.range(0, Linear.PROMPT_MATMUL_ROWS + 3).map(i -> i % V).toArray();
        int[][] prompts = {{1, 2, 3}, {4, 5, 6, 7, 8}, {9}, longPrompt};
        float[][] alone = new float[4][];
        for (int i = 0; i < 3; i++) {
            InferenceSession s = new InferenceSession(m);
            if (i == 1) {
                s.append(4, 5, 6, 7);   // decoded one token at a time after its prompt, as a server does
                alone[i] = s.append(8).clone();
            } else {
                alone[i] = s.append(prompts[i]).clone();
            }
        }
        alone[3] = new InferenceSession(m).append(longPrompt).clone();
        KVCache[] caches = {new KVCache(m.config), new KVCache(m.config), new KVCache(m.config), new KVCache(m.config)};
        // Sequence 1 already holds its first four tokens; this step decodes its fifth beside three prefills.
        m.forwardCached(new int[] {4, 5, 6, 7}, Batch.cached(caches[1], 0, 4), new float[V]);
        int[] tokens = IntStream.concat(IntStream.of(1, 2, 3, 8, 9), IntStream.of(longPrompt)).toArray();
        float[] together = m.forwardCached(tokens,
                Batch.cached(caches, new int[] {0, 4, 0, 0}, new int[] {3, 1, 1, longPrompt.length}), new float[4 * V]);
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(alone[i], Arrays.copyOfRange(together, i * V, (i + 1) * V), "sequence " + i);
        }
        return alone[3];
    }

    /**
     * A cache grows its layers as positions arrive (twice the rows each time, from {@link KVCache#MIN_ROWS}) and
     * attention reads the same keys and values either way: logits over a prompt and steps that cross every growth
     * equal, bit for bit, those of a cache whose rows were all allocated before the first token.
     */
    @Test
    void aGrowingCacheGivesTheLogitsOfAFullOne() {
        int V = 11, T = 4 * KVCache.MIN_ROWS + 9;
        GPT m = new GPT(GPTConfig.of(V, T, 2, 2, 16), 3);
        KVCache growing = new KVCache(m.config), full = new KVCache(m.config);
        for (int l = 0; l < m.config.nLayer(); l++) {
            full.keys(l, T);
            full.values(l, T);
            assertEquals(0, growing.allocatedPositions(l), "nothing allocated before the first token");
        }
        SplittableRandom r = new SplittableRandom(7);
        int[] prompt = IntStream.range(0, KVCache.MIN_ROWS - 2).map(i -> r.nextInt(V)).toArray();
        float[] a = m.forwardCached(prompt, Batch.cached(growing, 0, prompt.length), new float[V]).clone();
        float[] b = m.forwardCached(prompt, Batch.cached(full, 0, prompt.length), new float[V]).clone();
        assertArrayEquals(b, a, "prompt");
        assertEquals(KVCache.MIN_ROWS, growing.allocatedPositions(0));
        for (int pos = prompt.length; pos < T; pos++) {
            int[] token = {r.nextInt(V)};
            a = m.forwardCached(token, Batch.cached(growing, pos, 1), new float[V]);
            b = m.forwardCached(token, Batch.cached(full, pos, 1), new float[V]);
            assertArrayEquals(b, a, "step at position " + pos);
            int rows = growing.allocatedPositions(1);
            assertTrue(rows > pos && rows <= Math.max(KVCache.MIN_ROWS, 2 * pos), "rows " + rows + " at position " + pos);
        }
        assertEquals(T, growing.allocatedPositions(0), "grown to the capacity, never past it");
        assertThrows(IllegalArgumentException.class, () -> growing.keys(0, T + 1));
    }

    @Test
    void truncateRewindsTheCache() {
        int V = 9;
        GPT m = new GPT(GPTConfig.of(V, 8, 1, 2, 8), 2);
        InferenceSession s = new InferenceSession(m);
        float[] a = s.append(1, 2, 3).clone();
        s.append(4, 5);
        s.truncate(2);
        float[] b = s.append(3).clone();
        assertClose(a, b, "after truncate");
    }

    static float[] lastRow(GPT m, int[] seq, int n, int V) {
        float[] full = m.logits(Arrays.copyOf(seq, n), 1, n);
        return Arrays.copyOfRange(full, (n - 1) * V, n * V);
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f * Math.max(1f, Math.abs(expected[i])), what + " logit " + i);
        }
    }
}
