package dev.jgpt.model;

import dev.jgpt.common.TokenSequence;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluationTest {

    /** Every token after the first is scored once, windows included, tail included. */
    @Test
    void meanLossEqualsThePerTokenAverageOverAllWindows() {
        int V = 11, T = 6;
        GPT m = new GPT(GPTConfig.of(V, T, 1, 2, 8), 3);
        SplittableRandom r = new SplittableRandom(4);
        int[] tokens = IntStream.range(0, 23).map(i -> r.nextInt(V)).toArray(); // 22 targets: 3 windows of 6 + 4
        Evaluation.Result res = Evaluation.meanLoss(m, TokenSequence.of(tokens));
        assertEquals(22, res.tokens());
        double sum = 0;
        for (int start = 0; start < 22; start += T) {
            int len = Math.min(T, 22 - start);
            int[] x = java.util.Arrays.copyOfRange(tokens, start, start + len);
            int[] y = java.util.Arrays.copyOfRange(tokens, start + 1, start + len + 1);
            sum += m.loss(x, y, 1, len) * len;
        }
        assertEquals(sum / 22, res.loss(), 1e-5);
        assertTrue(Math.abs(res.loss() - Math.log(V)) < 0.1);
    }

    @Test
    void tokensOutsideTheVocabularyAreNamed() {
        GPT m = new GPT(GPTConfig.of(5, 4, 1, 1, 4), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Evaluation.meanLoss(m, TokenSequence.of(new int[] {1, 2, 9, 1})));
        assertTrue(e.getMessage().contains("token id 9 at position 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Evaluation.meanLoss(m, TokenSequence.of(new int[] {1})));
    }
}
