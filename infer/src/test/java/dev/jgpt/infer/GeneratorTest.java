package dev.jgpt.infer;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    static final String ALPHABET = "\n abcdefghijklmnopqrstuvwxyz.";
    static final CharTokenizer CHARS = CharTokenizer.fromText(ALPHABET);

    /** A small model whose logits are far from uniform (Xavier init), so greedy choices are clear. */
    static GPT tinyModel(ResidualLayout layout, int blockSize, long seed) {
        GPT m = new GPT(new GPTConfig(CHARS.vocabSize(), blockSize, 2, 2, 16, true, 0f, 1e-5f, layout,
                InitScheme.XAVIER), seed);
        for (Param p : m.parameters()) {
            if (p.name.endsWith("_alpha")) {
                p.data[0] = 0.7f;   // ReZero's α = 0 at init would make every block the identity
            }
        }
        return m;
    }

    /**
     * The KV-cache path, driven the way generation drives it (a prompt, then one sampled token at a
     * time), gives the logits of a full forward pass over the whole prefix at every step.
     */
    @ParameterizedTest
    @EnumSource(value = ResidualLayout.class, names = {"PRE_LN", "POST_LN", "SANDWICH", "REZERO"})
    void cachedLogitsEqualAFullForwardAtEveryStep(ResidualLayout layout) {
        int T = 24;
        GPT cachedModel = tinyModel(layout, T, 3), fullModel = tinyModel(layout, T, 3);
        int V = CHARS.vocabSize();
        InferenceSession session = new InferenceSession(cachedModel);
        List<Integer> seq = new ArrayList<>();
        for (int id : CHARS.encode("the cat")) {
            seq.add(id);
        }
        float[] cached = session.append(seq.stream().mapToInt(Integer::intValue).toArray()).clone();
        Sampler sampler = new Sampler(1f, 0, 1f, 1f, 5);
        while (true) {
            int[] prefix = seq.stream().mapToInt(Integer::intValue).toArray();
            float[] full = fullModel.logits(prefix, 1, prefix.length);
            float[] last = Arrays.copyOfRange(full, (prefix.length - 1) * V, prefix.length * V);
            assertClose(last, cached, layout + " at position " + prefix.length);
            if (seq.size() == T) {
                break;
            }
            int next = sampler.sample(cached, V);
            seq.add(next);
            cached = session.append(next).clone();
        }
        assertEquals(T, session.position());
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        float scale = 1e-6f;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-4f * scale,
                    what + ": logit " + i + " cached " + actual[i] + " vs full " + expected[i] + " (scale " + scale + ")");
        }
    }

    @Test
    void greedyGenerationEqualsGreedyDecodingWithoutACache() {
        GPT m = tinyModel(ResidualLayout.PRE_LN, 32, 7);
        GPT reference = tinyModel(ResidualLayout.PRE_LN, 32, 7);
        int[] prompt = CHARS.encode("to be or");
        GenerationResult r = new Generator(m, CHARS).generate(prompt, GenerationOptions.greedy(20), TokenListener.NONE);
        assertEquals(StopReason.MAX_TOKENS, r.reason());
        assertEquals(20, r.tokens().length);

        int V = CHARS.vocabSize();
        int[] seq = Arrays.copyOf(prompt, prompt.length + 20);
        for (int n = prompt.length; n < seq.length; n++) {
            float[] logits = reference.logits(Arrays.copyOf(seq, n), 1, n);
            seq[n] = Sampler.argmax(Arrays.copyOfRange(logits, (n - 1) * V, n * V), V);
        }
        assertArrayEquals(Arrays.copyOfRange(seq, prompt.length, seq.length), r.tokens());
        assertEquals(CHARS.decode(r.tokens()), r.text());
        // and it is not trivially constant, so the comparison means something
        assertTrue(Arrays.stream(r.tokens()).distinct().count() > 1, Arrays.toString(r.tokens()));
    }

    @Test
    void greedyIsDeterministicAndASeedReproducesSampling() {
        GPT m = tinyModel(ResidualLayout.PRE_LN, 64, 1);
        GenerationOptions greedy = GenerationOptions.greedy(30);
        Generator g = new Generator(m, CHARS);
        String a = g.generate("hello", greedy, TokenListener.NONE).text();
        g.reset();
        String b = g.generate("hello", greedy, TokenListener.NONE).text();
        assertEquals(a, b);

        GenerationOptions s7 = GenerationOptions.builder().temperature(1f).topK(0).topP(1f).seed(7).maxTokens(40).build();
        g.reset();
        GenerationResult x = g.generate("hello", s7, TokenListener.NONE);
        g.reset();
        GenerationResult y = g.generate("hello", s7, TokenListener.NONE);
        g.reset();
        GenerationResult z = g.generate("hello", s7.toBuilder().seed(8).build(), TokenListener.NONE);
        assertArrayEquals(x.tokens(), y.tokens());
        assertFalse(Arrays.equals(x.tokens(), z.tokens()), "seeds 7 and 8 gave the same 40 tokens");
        assertNotEquals(a, x.text());
    }

    @Test
    void streamedTextAddsUpToTheResult() {
        Generator g = new Generator(tinyModel(ResidualLayout.PRE_LN, 64, 2), CHARS);
        StringBuilder streamed = new StringBuilder();
        List<Integer> indices = new ArrayList<>();
        GenerationOptions o = GenerationOptions.builder().seed(3).maxTokens(25).build();
        GenerationResult r = g.generate("abc", o, t -> {
            streamed.append(t.text());
            indices.add(t.index());
        });
        assertEquals(r.text(), streamed.toString());
        assertEquals(25, indices.size());
        assertEquals(24, indices.get(24));
        assertEquals(3, r.stats().promptTokens());
        assertEquals(25, r.stats().generatedTokens());
        assertTrue(r.stats().prefillNanos() > 0 && r.stats().decodeNanos() > 0);
    }

    @Test
    void stopStringsEndGenerationAndAreNotOutput() {
        GPT m = tinyModel(ResidualLayout.PRE_LN, 64, 4);
        GenerationOptions sample = GenerationOptions.builder().seed(11).temperature(1f).topK(0).topP(1f).maxTokens(40).build();
        Generator g = new Generator(m, CHARS);
        String full = g.generate("x", sample, TokenListener.NONE).text();
        String stop = full.substring(10, 12);
        int at = full.indexOf(stop);

        g.reset();
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = g.generate("x", sample.toBuilder().addStop(stop).build(), t -> streamed.append(t.text()));
        assertEquals(StopReason.STOP_STRING, r.reason());
        assertEquals(full.substring(0, at), r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(at + stop.length(), r.tokens().length, "one token per char: stops right after the match");
    }

    @Test
    void endOfTextStopsWithoutOutputtingIt() {
        GPT m = tinyModel(ResidualLayout.PRE_LN, 64, 5);
        int[] plain = new Generator(m, new Letters(CHARS.vocabSize(), -1))
                .generate(new int[] {1, 2}, GenerationOptions.greedy(20), TokenListener.NONE).tokens();
        int eot = plain[3];   // call the 4th generated token end-of-text: generation ends where it first occurs
        int firstAt = 0;
        while (plain[firstAt] != eot) {
            firstAt++;
        }
        Letters tok = new Letters(CHARS.vocabSize(), eot);
        GenerationResult r = new Generator(m, tok).generate(new int[] {1, 2}, GenerationOptions.greedy(20), TokenListener.NONE);
        assertEquals(StopReason.END_OF_TEXT, r.reason());
        assertArrayEquals(Arrays.copyOf(plain, firstAt + 1), r.tokens());
        assertEquals(tok.decode(Arrays.copyOf(plain, firstAt)), r.text());

        GenerationResult ignored = new Generator(m, tok).generate(new int[] {1, 2},
                GenerationOptions.greedy(20).toBuilder().stopAtEndOfText(false).build(), TokenListener.NONE);
        assertEquals(StopReason.MAX_TOKENS, ignored.reason());
        assertArrayEquals(plain, ignored.tokens());
    }

    @Test
    void aSessionContinuesAcrossCalls() {
        GPT m = tinyModel(ResidualLayout.PRE_LN, 64, 6);
        Generator g = new Generator(m, CHARS);
        GenerationResult first = g.generate("ab", GenerationOptions.greedy(5), TokenListener.NONE);
        GenerationResult second = g.generate("cd", GenerationOptions.greedy(5), TokenListener.NONE);
        assertEquals(2 + 5 + 2 + 5, g.position());
        assertEquals(1 + 2, second.stats().promptTokens(), "the last sampled token is fed with the new prompt");

        Generator fresh = new Generator(tinyModel(ResidualLayout.PRE_LN, 64, 6), CHARS);
        GenerationResult once = fresh.generate("ab" + first.text() + "cd", GenerationOptions.greedy(5), TokenListener.NONE);
        assertArrayEquals(once.tokens(), second.tokens());
        assertArrayEquals(g.tokens(), fresh.tokens());
    }

    @Test
    void contextOverflowStopsByDefaultAndSlidesOnRequest() {
        int T = 16;
        Generator g = new Generator(tinyModel(ResidualLayout.PRE_LN, T, 8), CHARS);
        GenerationResult r = g.generate("abcdefghij", GenerationOptions.greedy(100), TokenListener.NONE);
        assertEquals(StopReason.CONTEXT_FULL, r.reason());
        assertEquals(T - 10 + 1, r.tokens().length, "fills the context; the last token needs no position");
        IllegalStateException full = assertThrows(IllegalStateException.class,
                () -> g.generate("k", GenerationOptions.greedy(3), TokenListener.NONE));
        assertTrue(full.getMessage().contains("context full"), full.getMessage());

        g.reset();
        GenerationOptions slide = GenerationOptions.builder().temperature(0f).maxTokens(100)
                .overflow(GenerationOptions.Overflow.SLIDE).build();
        GenerationResult s = g.generate("abcdefghij", slide, TokenListener.NONE);
        assertEquals(StopReason.MAX_TOKENS, s.reason());
        assertEquals(100, s.tokens().length);
        assertTrue(g.position() <= T + 1, "position " + g.position());
        // identical until the context fills ...
        assertArrayEquals(r.tokens(), Arrays.copyOf(s.tokens(), r.tokens().length));
        // ... then the last T/2 − 1 tokens plus the pending one are re-run: the next token is the
        // greedy choice of a full forward over exactly that window
        int[] prompt = CHARS.encode("abcdefghij");
        int[] window = new int[T / 2];
        window[0] = prompt[9];
        System.arraycopy(r.tokens(), 0, window, 1, 7);
        GPT reference = tinyModel(ResidualLayout.PRE_LN, T, 8);
        int V = CHARS.vocabSize();
        float[] logits = reference.logits(window, 1, window.length);
        assertEquals(Sampler.argmax(Arrays.copyOfRange(logits, (window.length - 1) * V, window.length * V), V),
                s.tokens()[7]);
    }

    @Test
    void aPromptLongerThanTheContextIsRejected() {
        Generator g = new Generator(tinyModel(ResidualLayout.PRE_LN, 8, 9), CHARS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate("abcdefghijkl", GenerationOptions.greedy(3), TokenListener.NONE));
        assertTrue(e.getMessage().contains("12 tokens") && e.getMessage().contains("context is 8"), e.getMessage());
    }

    @Test
    void anEmptyPromptStartsFromTheTokenizersStartToken() {
        Generator g = new Generator(tinyModel(ResidualLayout.PRE_LN, 16, 9), CHARS);
        String fromNewline = g.generate("\n", GenerationOptions.greedy(5), TokenListener.NONE).text();
        g.reset();
        GenerationResult empty = g.generate("", GenerationOptions.greedy(5), TokenListener.NONE);
        assertEquals(fromNewline, empty.text(), "a char vocabulary starts from the newline, as nanoGPT");
        assertArrayEquals(new int[] {0}, Arrays.copyOf(g.tokens(), 1));

        Letters withEot = new Letters(CHARS.vocabSize(), 3);
        assertArrayEquals(new int[] {3}, withEot.startTokens(), "end-of-text when there is one");
        Generator none = new Generator(tinyModel(ResidualLayout.PRE_LN, 8, 9), new Letters(CHARS.vocabSize(), -1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> none.generate("", GenerationOptions.greedy(3), TokenListener.NONE));
        assertTrue(e.getMessage().contains("give a prompt"), e.getMessage());
    }

    @Test
    void iteratorAndStreamApi() {
        Generator g = new Generator(tinyModel(ResidualLayout.PRE_LN, 64, 10), CHARS);
        Generator.Generation gen = g.start("abc", GenerationOptions.greedy(50));
        List<Token> three = gen.stream().limit(3).toList();
        assertEquals(3, three.size());
        GenerationResult r = gen.result();
        assertEquals(StopReason.CANCELLED, r.reason());
        assertEquals(3, r.tokens().length);

        g.reset();
        Generator.Generation again = g.start("abc", GenerationOptions.greedy(50));
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(again.next().id());
        }
        assertEquals(three.stream().map(Token::id).toList(), ids);
        g.reset();
        assertThrows(IllegalStateException.class, again::next, "a reset ends the generation");
    }

    @Test
    void badOptionsAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().topP(0f).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().topP(1.5f).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().temperature(-1f).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().topK(-1).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().maxTokens(-1).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().addStop("").build());
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> new Generator(tinyModel(ResidualLayout.PRE_LN, 8, 1), new Letters(100, -1)));
        assertTrue(big.getMessage().contains("100 tokens"), big.getMessage());
    }

    /** Id i is the letter 'A' + i; an optional end-of-text id. Not a char tokenizer, to exercise the generic path. */
    record Letters(int vocab, int eot) implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return text.chars().map(c -> c - 'A').toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(id == eot ? "<|endoftext|>" : String.valueOf((char) ('A' + id)));
            }
            return sb.toString();
        }

        @Override
        public int vocabSize() {
            return vocab;
        }

        @Override
        public OptionalInt endOfText() {
            return eot < 0 ? OptionalInt.empty() : OptionalInt.of(eot);
        }

        @Override
        public String kind() {
            return "letters";
        }

        @Override
        public void save(Path tokenizerJson) {
            throw new UnsupportedOperationException();
        }
    }
}
