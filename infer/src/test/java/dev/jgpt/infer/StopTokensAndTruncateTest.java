package dev.jgpt.infer;

import dev.jgpt.model.GPT;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Stop tokens besides end-of-text (eos ids, end-of-turn tokens), and cutting a session back. */
class StopTokensAndTruncateTest {
    static final GeneratorTest.Letters LETTERS = new GeneratorTest.Letters(GeneratorTest.CHARS.vocabSize(), -1);

    @Test
    void anyStopTokenEndsGenerationWithoutBeingOutput() {
        GPT m = GeneratorTest.tinyModel(ResidualLayout.PRE_LN, 64, 5);
        int[] plain = new Generator(m, LETTERS).generate(new int[] {1, 2}, GenerationOptions.greedy(20), TokenListener.NONE).tokens();
        int stop = plain[4];
        int firstAt = 0;
        while (plain[firstAt] != stop) {
            firstAt++;
        }
        GenerationOptions withStop = GenerationOptions.greedy(20).toBuilder().addStopTokens(List.of(plain[19] == stop ? 0 : 999, stop))
                .build();
        GenerationResult r = new Generator(m, LETTERS).generate(new int[] {1, 2}, withStop, TokenListener.NONE);
        assertEquals(StopReason.END_OF_TEXT, r.reason());
        assertArrayEquals(Arrays.copyOf(plain, firstAt + 1), r.tokens());
        assertEquals(LETTERS.decode(Arrays.copyOf(plain, firstAt)), r.text());

        GenerationResult ignored = new Generator(m, LETTERS).generate(new int[] {1, 2},
                withStop.toBuilder().stopAtEndOfText(false).build(), TokenListener.NONE);
        assertArrayEquals(plain, ignored.tokens());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().stopTokens(List.of(-1)).build());
    }

    @Test
    void truncateKeepsAPrefixAndTheNextGenerationContinuesFromIt() {
        GPT m = GeneratorTest.tinyModel(ResidualLayout.PRE_LN, 64, 6);
        Generator g = new Generator(m, LETTERS);
        g.generate(new int[] {1, 2, 3, 4, 5}, GenerationOptions.greedy(6), TokenListener.NONE);
        assertEquals(11, g.position());
        int[] kept = Arrays.copyOf(g.tokens(), 7);
        g.truncate(7);
        assertArrayEquals(kept, g.tokens());
        GenerationResult after = g.generate(new int[] {9, 8}, GenerationOptions.greedy(6), TokenListener.NONE);
        assertEquals(2, after.stats().promptTokens(), "only the new tokens run: the kept ones are cached");

        Generator fresh = new Generator(GeneratorTest.tinyModel(ResidualLayout.PRE_LN, 64, 6), LETTERS);
        int[] whole = Arrays.copyOf(kept, 9);
        whole[7] = 9;
        whole[8] = 8;
        GenerationResult once = fresh.generate(whole, GenerationOptions.greedy(6), TokenListener.NONE);
        assertArrayEquals(once.tokens(), after.tokens());

        g.truncate(g.position());   // keeping everything, the pending token included, changes nothing
        assertArrayEquals(fresh.tokens(), g.tokens());
        assertThrows(IllegalArgumentException.class, () -> g.truncate(g.position() + 1));
        assertThrows(IllegalArgumentException.class, () -> g.truncate(-1));
    }
}
