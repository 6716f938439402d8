package dev.jgpt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokenizers through llama.cpp's tokenizer.ggml.* form: a tokenizer.json becomes a vocabulary and
 * back, and the rebuilt tokenizer encodes and decodes every text exactly as the original.
 */
class GgmlVocabTest {
    @TempDir
    Path dir;

    private static final String SAMPLE = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
            + "All:  Speak, speak.  It's 1234 o'clock — naïve café 😀 <|endoftext|> done\n";

    @Test
    void gpt2TokenizerSurvivesTheRoundTrip() throws IOException {
        JsonNode json = new ObjectMapper().readTree(SharedData.gpt2().toFile());
        GgmlVocab v = GgmlVocab.fromTokenizerJson(json, "gpt2");
        assertEquals(50257, v.tokens().length);
        assertEquals(50000, v.merges().length);
        assertEquals(50256, v.eos());
        assertEquals(GgmlVocab.CONTROL, v.types()[50256]);
        try (Tokenizer original = Tokenizers.load(SharedData.gpt2());
             Tokenizer rebuilt = Tokenizers.fromJson(v.toTokenizerJson(), "rebuilt")) {
            String text = SAMPLE + SharedData.shakespeareText().substring(0, 20_000)
                    + SharedData.randomUnicode(new SplittableRandom(3), 2000);
            int[] ids = original.encode(text);
            assertArrayEquals(ids, rebuilt.encode(text));
            assertEquals(text, rebuilt.decode(ids));
            assertEquals(original.endOfText(), rebuilt.endOfText());
            assertEquals(original.vocabSize(), rebuilt.vocabSize());
        }
    }

    @Test
    void charTokenizerBecomesByteLevelWithTheSameIds() throws IOException {
        String text = SharedData.shakespeareText().substring(0, 50_000);
        CharTokenizer chars = CharTokenizer.fromText(text);
        Path file = dir.resolve("tokenizer.json");
        chars.save(file);
        GgmlVocab v = GgmlVocab.fromTokenizerJson(new ObjectMapper().readTree(file.toFile()), "chars");
        assertEquals(chars.vocabSize(), v.tokens().length);
        assertEquals("Ċ", v.tokens()[chars.id('\n')], "newline as GPT-2's byte-level character");
        assertEquals("Ġ", v.tokens()[chars.id(' ')]);
        try (Tokenizer rebuilt = Tokenizers.fromJson(v.toTokenizerJson(), "rebuilt")) {
            int[] ids = chars.encode(text);
            assertArrayEquals(ids, rebuilt.encode(text));
            assertEquals(text, rebuilt.decode(ids));
        }
        CharTokenizer accented = CharTokenizer.fromText("café");
        Path f2 = dir.resolve("accented.json");
        accented.save(f2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgmlVocab.fromTokenizerJson(new ObjectMapper().readTree(f2.toFile()), "accented.json"));
        assertTrue(e.getMessage().contains("'é'") || e.getMessage().contains("é"), e.getMessage());
    }

    /** Llama 3's pre-tokenizer: digits in groups of three, no space glued to them, merges looked up whole (ignore_merges). */
    @Test
    void llamaBpePreTokenizerSplitsAsLlama3() throws IOException {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.byteToChar(b)));
        }
        tokens.add("12");
        tokens.add("123");
        tokens.add("<|begin_of_text|>");
        int[] types = new int[tokens.size()];
        Arrays.fill(types, GgmlVocab.NORMAL);
        types[tokens.size() - 1] = GgmlVocab.CONTROL;
        int bos = tokens.size() - 1;
        GgmlVocab v = new GgmlVocab(tokens.toArray(String[]::new), types, new String[] {"1 2", "12 3"}, "llama-bpe", bos, bos, true);
        try (Tokenizer t = Tokenizers.fromJson(v.toTokenizerJson(), "llama3")) {
            assertArrayEquals(new int[] {' ', 257, 257, '4'}, t.encode(" 1231234"));
            assertEquals(bos, t.beginningOfText().orElseThrow());
            assertEquals(" 1231234", t.decode(t.encode(" 1231234")));
        }
        assertThrows(IllegalArgumentException.class,
                () -> new GgmlVocab(tokens.toArray(String[]::new), types, new String[0], "mystery", -1, -1, false));
    }
}
