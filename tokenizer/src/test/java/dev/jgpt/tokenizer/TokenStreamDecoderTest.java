package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class TokenStreamDecoderTest {
    static Tokenizer gpt2;

    @BeforeAll
    static void load() throws Exception {
        gpt2 = Tokenizers.load(SharedData.gpt2());
    }

    @AfterAll
    static void close() {
        gpt2.close();
    }

    /** Streams ids one by one; returns the pieces joined, checking none holds a half character. */
    static String stream(Tokenizer t, int[] ids, int[] emptyPushes) {
        TokenStreamDecoder d = new TokenStreamDecoder(t);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = d.push(id);
            assertFalse(piece.contains("\uFFFD"), "emitted a broken character");
            if (piece.isEmpty()) {
                emptyPushes[0]++;
            }
            sb.append(piece);
        }
        return sb.append(d.finish()).toString();
    }

    @Test
    void multiTokenCharactersAreEmittedWhole() {
        String text = "Hi 😀! 世界 👩‍👩‍👧 e\u0301 done\n";
        assertArrayEquals("😀".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.util.Arrays.stream(gpt2.encode("😀")).mapToObj(id -> ((HfTokenizer) gpt2).tokenBytes(id))
                        .collect(java.io.ByteArrayOutputStream::new, (o, b) -> o.writeBytes(b), (a, b) -> { })
                        .toByteArray(), "GPT-2 streams through token bytes");
        int[] ids = gpt2.encode(text);
        assertTrue(ids.length > text.codePointCount(0, text.length()) / 2);
        int[] empty = {0};
        assertEquals(text, stream(gpt2, ids, empty));
        assertTrue(empty[0] > 0, "some tokens held back a partial character");
    }

    @Test
    void randomUnicodeStreamsExactly() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 30; i++) {
            String s = SharedData.randomUnicode(rnd, 1 + rnd.nextInt(120));
            assertEquals(s, stream(gpt2, gpt2.encode(s), new int[1]));
        }
    }

    /** Random ids make invalid UTF-8 too: streaming must match the library's lossy decode exactly. */
    @Test
    void randomIdsMatchTheFullDecode() {
        SplittableRandom rnd = new SplittableRandom(9);
        for (int i = 0; i < 200; i++) {
            int[] ids = new int[1 + rnd.nextInt(12)];
            for (int k = 0; k < ids.length; k++) {
                // mostly single-byte tokens (ids < 256 are bytes in GPT-2), sometimes any token
                ids[k] = rnd.nextInt(4) == 0 ? rnd.nextInt(gpt2.vocabSize()) : rnd.nextInt(256);
            }
            TokenStreamDecoder d = new TokenStreamDecoder(gpt2);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(d.push(id));
            }
            sb.append(d.finish());
            assertEquals(gpt2.decode(ids), sb.toString(), () -> java.util.Arrays.toString(ids));
        }
    }

    /** A tokenizer that is neither char-level nor byte-level goes through the generic path. */
    @Test
    void genericPathForOtherTokenizers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        // a WordLevel tokenizer with a whitespace pre-tokenizer and no decoder (tokens joined by spaces)
        java.nio.file.Path file = tmp.resolve("tokenizer.json");
        java.nio.file.Files.writeString(file, """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
                 "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null,
                 "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "to": 1, "be": 2, "or": 3, "not": 4},
                           "unk_token": "[UNK]"}}
                """);
        try (Tokenizer t = Tokenizers.load(file)) {
            assertEquals("wordlevel", t.kind());
            int[] ids = t.encode("to be or not to be");
            assertArrayEquals(new int[] {1, 2, 3, 4, 1, 2}, ids);
            assertEquals(t.decode(ids), stream(t, ids, new int[1]));
        }
    }

    @Test
    void incompleteCharacterIsFlushedByFinish() {
        int[] ids = gpt2.encode("😀");
        assertTrue(ids.length >= 2);
        TokenStreamDecoder d = new TokenStreamDecoder(gpt2);
        assertEquals("", d.push(ids[0]));
        assertTrue(d.finish().contains("\uFFFD"));
        // after finish the decoder starts afresh
        assertEquals("Hello", d.push(15496));
    }

    @Test
    void charTokenizerEmitsEachCharacter() {
        CharTokenizer t = CharTokenizer.fromText("ab😀\n");
        TokenStreamDecoder d = new TokenStreamDecoder(t);
        assertEquals("😀", d.push(t.id(0x1F600)));
        assertEquals("a", d.push(t.id('a')));
        assertEquals("", d.finish());
    }

    @Test
    void longStreamsStayCorrect() {
        String text = SharedData.shakespeareText().substring(0, 20_000);
        assertEquals(text, stream(gpt2, gpt2.encode(text), new int[1]));
    }

    @Test
    void outOfRangeIdIsRejected() {
        TokenStreamDecoder d = new TokenStreamDecoder(gpt2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.push(50257));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }
}
