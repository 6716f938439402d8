package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class BpeTrainerTest {
    static BpeTrainer.Result shakespeare512;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() throws Exception {
        shakespeare512 = BpeTrainer.train(SharedData.shakespeare(), 512);
    }

    @Test
    void vocabularyLayout() {
        BpeTrainer.Result r = shakespeare512;
        assertEquals(512, r.vocabSize());
        assertEquals("<|endoftext|>", r.vocab().get(511));
        assertEquals(511, r.endOfText());
        for (int b = 0; b < 256; b++) {
            assertArrayEquals(new byte[] {(byte) b}, ByteLevel.toBytes(r.vocab().get(b)));
        }
        assertEquals(512 - 257, r.merges().size(), "no duplicate tokens on tiny Shakespeare");
        assertEquals(r.vocab().size(), new HashSet<>(r.vocab()).size(), "tokens are distinct");
        // each merged token is the concatenation of its merge
        for (int i = 0; i < r.merges().size(); i++) {
            String[] pair = r.merges().get(i).split(" ");
            assertEquals(pair[0] + pair[1], r.vocab().get(256 + i));
        }
        assertEquals(SharedData.shakespeareText().length(), r.bytes(), "ASCII corpus: one byte per character");
    }

    /** DJL loads the file and encodes the corpus into exactly as many tokens as training ended with. */
    @Test
    void djlLoadsAndRoundTripsTheTrainingText() throws Exception {
        Path file = tmp.resolve("tokenizer.json");
        shakespeare512.save(file);
        String text = SharedData.shakespeareText();
        try (Tokenizer t = Tokenizers.load(file)) {
            assertInstanceOf(HfTokenizer.class, t);
            assertEquals(512, t.vocabSize());
            assertEquals(511, t.endOfText().orElseThrow());
            int[] ids = t.encode(text);
            assertEquals(shakespeare512.tokens(), ids.length);
            assertTrue(ids.length < 0.55 * text.length(), "compresses: " + ids.length + " tokens");
            assertEquals(text, t.decode(ids));
            assertArrayEquals(new int[] {511}, t.encode("<|endoftext|>"));
        }
    }

    /** Byte-level: text with characters never seen in training still round-trips exactly. */
    @Test
    void roundTripsAnyUtf8Text() throws Exception {
        Path file = tmp.resolve("tokenizer.json");
        shakespeare512.save(file);
        SplittableRandom rnd = new SplittableRandom(3);
        try (Tokenizer t = Tokenizers.load(file)) {
            for (int i = 0; i < 50; i++) {
                String s = SharedData.randomUnicode(rnd, 1 + rnd.nextInt(300));
                assertEquals(s, t.decode(t.encode(s)), () -> "round trip of " + Chars.quote(s));
            }
        }
    }

    @Test
    void trainsOnUnicodeText() throws Exception {
        String text = SharedData.randomUnicode(new SplittableRandom(11), 20_000);
        BpeTrainer.Result r = BpeTrainer.train(text, 400);
        assertEquals(400, r.vocabSize());
        Path file = tmp.resolve("tokenizer.json");
        r.save(file);
        try (Tokenizer t = Tokenizers.load(file)) {
            int[] ids = t.encode(text);
            assertEquals(text, t.decode(ids));
            assertEquals(r.tokens(), ids.length);
        }
    }

    @Test
    void deterministic() {
        String text = SharedData.shakespeareText().substring(0, 50_000);
        assertEquals(BpeTrainer.train(text, 300), BpeTrainer.train(text, 300));
    }

    @Test
    void smallTextRunsOutOfPairs() throws Exception {
        BpeTrainer.Result r = BpeTrainer.train("abab abab", 1000);
        // words "abab" and " abab": merges ab, abab, then Ġ+abab, ...
        assertTrue(r.vocabSize() < 1000);
        assertEquals(1, r.tokens() / 2, "each word became one token");
        Path file = tmp.resolve("tokenizer.json");
        r.save(file);
        try (Tokenizer t = Tokenizers.load(file)) {
            assertEquals(2, t.encode("abab abab").length);
            assertEquals("abab abab", t.decode(t.encode("abab abab")));
        }
    }

    @Test
    void badArguments() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpeTrainer.train("abc", 256));
        assertTrue(e.getMessage().contains("at least 257"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BpeTrainer.train("", 300));
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        e = assertThrows(IllegalArgumentException.class, () -> BpeTrainer.train(empty, 300));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'o', 'k', (byte) 0xC3, '(', 'x'});
        e = assertThrows(IllegalArgumentException.class, () -> BpeTrainer.train(bad, 300));
        assertTrue(e.getMessage().contains("not valid UTF-8") && e.getMessage().contains("byte offset 2"),
                e.getMessage());
    }
}
