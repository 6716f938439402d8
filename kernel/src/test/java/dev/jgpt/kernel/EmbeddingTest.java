package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.assertClose;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.withThreads;

/**
 * Float {@link Embedding} against {@link Reference}. Forward is one float add per element (error ≤ u
 * relative); backward sums at most B·T terms per element in position order (error ≲ B·T·u ≈ 1e-6 here):
 * tolerance 1e-5.
 */
class EmbeddingTest {
    private final SplittableRandom rng = new SplittableRandom(9);

    @Test
    void matchesReferenceWithRepeatedTokens() {
        for (int C : new int[] {1, 7, 16, 129}) {
            int B = 3, T = 5, V = 6;
            int[] tokens = new int[B * T];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = i % 4 == 0 ? 2 : rng.nextInt(V);   // token 2 repeats many times
            }
            float[] wte = randn(rng, V * C, 1), wpe = randn(rng, T * C, 1), out = new float[B * T * C];
            Embedding.forward(out, tokens, wte, wpe, B, T, C, V);
            double[] rout = new double[out.length];
            Reference.embeddingForward(rout, tokens, toDouble(wte), toDouble(wpe), B, T, C);
            assertClose("embedding C=" + C, rout, out, 1e-6);

            float[] dout = randn(rng, out.length, 1), dwte = randn(rng, V * C, 1), dwpe = randn(rng, T * C, 1);
            double[] rwte = toDouble(dwte), rwpe = toDouble(dwpe);
            Embedding.backward(dwte, dwpe, dout, tokens, B, T, C);
            Reference.embeddingBackward(rwte, rwpe, toDouble(dout), tokens, B, T, C);
            assertClose("dwte C=" + C, rwte, dwte, 1e-5);
            assertClose("dwpe C=" + C, rwpe, dwpe, 1e-5);
        }
    }

    @Test
    void backwardIsIndependentOfThreadCount() {
        // Large enough (B·T·C ≥ 2^16) that the channel ranges are split across threads; every token the same.
        int B = 8, T = 64, C = 130, V = 3;
        int[] tokens = new int[B * T];
        java.util.Arrays.fill(tokens, 1);
        float[] dout = randn(rng, B * T * C, 1);
        float[][] one = new float[2][], two = new float[2][];
        withThreads(1, () -> run(one, dout, tokens, B, T, C, V));
        withThreads(2, () -> run(two, dout, tokens, B, T, C, V));
        assertBitEqual("dwte", one[0], two[0]);
        assertBitEqual("dwpe", one[1], two[1]);
        double[] rwte = new double[V * C], rwpe = new double[T * C];
        Reference.embeddingBackward(rwte, rwpe, toDouble(dout), tokens, B, T, C);
        assertClose("dwte", rwte, two[0], 1e-5);
        assertClose("dwpe", rwpe, two[1], 1e-5);
    }

    private static void run(float[][] res, float[] dout, int[] tokens, int B, int T, int C, int V) {
        res[0] = new float[V * C];
        res[1] = new float[T * C];
        Embedding.backward(res[0], res[1], dout, tokens, B, T, C);
    }

    @Test
    void badInput() {
        int B = 1, T = 2, C = 3, V = 4;
        float[] wte = new float[V * C], wpe = new float[T * C], out = new float[B * T * C];
        assertBadInput(() -> Embedding.forward(out, new int[] {1, 4}, wte, wpe, B, T, C, V),
                "embedding", "V=4", "token id 4", "position 1");
        assertBadInput(() -> Embedding.forward(out, new int[] {-1, 0}, wte, wpe, B, T, C, V), "embedding", "-1");
        assertBadInput(() -> Embedding.forward(out, new int[] {1}, wte, wpe, B, T, C, V), "embedding", "tokens");
        assertBadInput(() -> Embedding.forward(out, new int[] {1, 2}, wte, new float[3], B, T, C, V),
                "embedding", "wpe", "3", "6");
        assertBadInput(() -> Embedding.backward(wte, wpe, out, new int[] {0, -2}, B, T, C),
                "embeddingBackward", "token id -2");
        assertBadInput(() -> Embedding.backward(wte, wpe, out, new int[] {0, 4}, B, T, C),
                "embeddingBackward", "token id 4");
    }
}
