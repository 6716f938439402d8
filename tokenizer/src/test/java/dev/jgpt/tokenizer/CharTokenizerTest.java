package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class CharTokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void tinyShakespeareVocabularyMatchesNanoGpt() {
        CharTokenizer t = CharTokenizer.fromText(SharedData.shakespeareText());
        assertEquals(65, t.vocabSize());
        assertEquals(0, t.id('\n'));
        assertEquals(1, t.id(' '));
        assertEquals('z', t.character(64));
        // nanoGPT shakespeare_char's encoding of the first words
        assertArrayEquals(new int[] {18, 47, 56, 57, 58, 1, 15, 47, 58, 47, 64, 43, 52}, t.encode("First Citizen"));
        assertEquals("char", t.kind());
        assertTrue(t.endOfText().isEmpty());
    }

    @Test
    void roundTripsTinyShakespeareExactly() {
        String text = SharedData.shakespeareText();
        CharTokenizer t = CharTokenizer.fromText(text);
        int[] ids = t.encode(text);
        assertEquals(text.length(), ids.length);
        assertEquals(text, t.decode(ids));
    }

    @Test
    void unknownCharacterNamesCharacterAndPosition() {
        CharTokenizer t = CharTokenizer.fromText("Hi there");
        UnknownCharacterException e = assertThrows(UnknownCharacterException.class, () -> t.encode("Hi é"));
        assertEquals('é', e.codePoint());
        assertEquals(3, e.position());
        assertTrue(e.getMessage().contains("'é' (U+00E9) at character 3"), e.getMessage());
        UnknownCharacterException tab = assertThrows(UnknownCharacterException.class, () -> t.encode("\t"));
        assertTrue(tab.getMessage().contains("U+0009"), tab.getMessage());
    }

    @Test
    void outOfRangeIdsAreRejected() {
        CharTokenizer t = CharTokenizer.fromText("abc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {0, 3}));
        assertTrue(e.getMessage().contains("token id 3 at position 1 is out of range"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}));
    }

    @Test
    void supplementaryCharactersAreSingleTokens() {
        String text = "a😀b𝄞a\n";
        CharTokenizer t = CharTokenizer.fromText(text);
        assertEquals(5, t.vocabSize());
        int[] ids = t.encode(text);
        assertEquals(6, ids.length);
        assertEquals(text, t.decode(ids));
        // sorted by code point, as Python sorts characters
        assertEquals(0x1D11E, t.character(3));
        assertEquals(0x1F600, t.character(4));
    }

    @Test
    void savedJsonLoadsBackAsCharTokenizer() throws Exception {
        CharTokenizer t = CharTokenizer.fromText(SharedData.shakespeareText());
        Path file = tmp.resolve("tokenizer.json");
        t.save(file);
        try (Tokenizer loaded = Tokenizers.load(tmp)) {
            assertInstanceOf(CharTokenizer.class, loaded);
            assertEquals(65, loaded.vocabSize());
            for (int id = 0; id < 65; id++) {
                assertEquals(t.character(id), ((CharTokenizer) loaded).character(id));
            }
        }
        assertEquals(0, Files.list(tmp).filter(p -> p.getFileName().toString().endsWith(".tmp")).count());
    }

    /** The saved file is a real Hugging Face tokenizer: DJL encodes and decodes it identically. */
    @Test
    void savedJsonRoundTripsThroughDjl() throws Exception {
        String text = SharedData.shakespeareText();
        String unicode = SharedData.randomUnicode(new SplittableRandom(7), 3000);
        CharTokenizer t = CharTokenizer.fromText(text + unicode);
        Path file = tmp.resolve("tokenizer.json");
        t.save(file);
        try (HfTokenizer hf = HfTokenizer.load(file, Json.readTokenizerJson(file));
             HuggingFaceTokenizer djl = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                     .optTruncation(false).optPadding(false).optAddSpecialTokens(false).build()) {
            for (String s : new String[] {text, unicode}) {
                int[] ours = t.encode(s);
                long[] theirs = djl.encode(s, false, false).getIds();
                assertArrayEquals(ours, Arrays.stream(theirs).mapToInt(x -> (int) x).toArray());
                assertEquals(s, hf.decode(ours));
            }
            assertEquals(t.vocabSize(), hf.vocabSize());
        }
    }

    @Test
    void invalidVocabularies() {
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.ofCharacters(new int[0]));
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> CharTokenizer.ofCharacters(new int[] {'a', 'b', 'a'}));
        assertTrue(dup.getMessage().contains("'a'"), dup.getMessage());
    }
}
