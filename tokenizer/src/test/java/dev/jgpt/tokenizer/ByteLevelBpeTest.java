package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The pure-Java GPT-2 encoder gives exactly the library's ids (the library is the reference here). The
 * encoder is tested on its own, not through {@link HfTokenizer#encode}, which would hide a mistake by
 * falling back to the library when its probe disagrees.
 */
class ByteLevelBpeTest {
    static HfTokenizer gpt2;
    static ByteLevelBpe java;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        gpt2 = (HfTokenizer) Tokenizers.load(SharedData.gpt2());
        java = inJava(gpt2, SharedData.gpt2());
    }

    private static ByteLevelBpe inJava(HfTokenizer library, Path file) throws Exception {
        ByteLevelBpe bpe = ByteLevelBpe.of(Json.MAPPER.readTree(file.toFile()), library::libraryClass);
        assertNotNull(bpe, file + " has GPT-2's shape");
        return bpe;
    }

    @AfterAll
    static void close() {
        gpt2.close();
    }

    private static void assertSameIds(String text) {
        assertArrayEquals(gpt2.libraryEncode(text), java.encode(text), () -> "ids of " + Chars.quote(
                text.length() > 200 ? text.substring(0, 200) + "..." : text));
    }

    @Test
    void gpt2EncodesInJava() {
        assertTrue(gpt2.encodesInJava());
        assertArrayEquals(new int[] {15496, 995, 50256, 198}, gpt2.encode("Hello world<|endoftext|>\n"));
    }

    @Test
    void tinyShakespeareWhole() {
        String text = SharedData.shakespeareText();
        int[] ids = java.encode(text);
        assertEquals(338_025, ids.length);
        assertArrayEquals(gpt2.libraryEncode(text), ids);
    }

    @Test
    void adversarialText() {
        List<String> cases = List.of(
                // contractions, GPT-2's (case-sensitive, ASCII apostrophe only)
                "I'm you're they've we'll she'd it's can't", "I'M YOU'RE 'S 'T 'Ll", "'s's'''s' 't", "x's\n's 's",
                "l'amour l’amour ’s ' s", "''", "'", "' 're", "rock'n'roll", "o'clock1's 1's !'s",
                // white space: runs, before words and at the end, every kind the pattern knows
                " ", "  ", "   x", "x   ", "a  b   c    d", "\n\n\nx", "x\n\n", "\t \t x", " \n \n", "a \u00a0b",
                "\u3000\u3000x\u3000", "x\u2028y\u2029z", "\u0085x\u0085 \u0085", "\u000b\u000c\r\n", "a\u001cb\u001fc",
                "\u200b\u200bx", "\u180ex", "\u2000\u200a\u202f\u205f x", " ".repeat(5000) + "x", "\n".repeat(3000),
                // special tokens, near misses and neighbours
                "<|endoftext|>", "<|endoftext|><|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ",
                "<|endoftext", "<|endoftext|>|>", "<<|endoftext|>", "<|ENDOFTEXT|>", "x\n<|endoftext|>\ny",
                // numbers and letters from other scripts, combining marks, emoji sequences
                "123 4567 ١٢٣ ½ Ⅻ ²³ 𝟙𝟚", "naïve café cafe\u0301 e\u0301\u0301", "日本語のテキスト、中文。",
                "한국어 텍스트", "مرحبا بالعالم", "👩‍👩‍👧‍👦 👍🏽 🇫🇷", "x👍y", "a\u0300", "\u0300a", "ǅungla ǈ",
                "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐐷𐐷", new String(Character.toChars(0x10570)) + "a",
                new String(Character.toChars(0x2EBF0)) + new String(Character.toChars(0x323B0)) + " 1",
                "a" + new String(Character.toChars(0x10D4A)) + "1" + new String(Character.toChars(0x10D4A)),
                "\u0000\u0001\u007f", "\ufeffx", "\ufffd\uffff", new String(Character.toChars(0x10FFFF)),
                // long words and long pieces
                "a".repeat(20_000), "!".repeat(10_000), "1".repeat(10_000), "ab".repeat(8000),
                "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis");
        for (String text : cases) {
            assertSameIds(text);
        }
    }

    /** Random strings over a small alphabet of the characters where the pattern decides something. */
    @Test
    void randomTrickyStrings() {
        String[] alphabet = {" ", " ", "  ", "\n", "\t", "\u00a0", "\u3000", "'", "s", "t", "re", "ll", "a", "Z", "é",
                "1", "٣", "!", ".", "-", "<|endoftext|>", "<|", "|>", "😀", "\u200d", "\u0301", "世", "\r\n"};
        SplittableRandom rnd = new SplittableRandom(18);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(24);
            for (int k = 0; k < n; k++) {
                sb.append(alphabet[rnd.nextInt(alphabet.length)]);
            }
            assertSameIds(sb.toString());
            all.append(sb);
        }
        assertSameIds(all.toString());
    }

    @Test
    void randomUnicode() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 300; i++) {
            assertSameIds(SharedData.randomUnicode(rnd, 1 + rnd.nextInt(400)));
        }
    }

    /**
     * Every code point of the Basic Multilingual Plane and of the recent scripts, in contexts where its
     * class (letter, number, space, other) decides the pieces: the classes are the library's.
     */
    @Test
    @Tag("slow") // a million characters through the library: -DexcludedGroups=slow leaves it out
    void everyBmpCodePointInContext() {
        StringBuilder sb = new StringBuilder();
        int[][] ranges = {{0, 0xD7FF}, {0xE000, 0xFFFF}, {0x10570, 0x105BF}, {0x11F00, 0x11F5F},
                {0x2EBF0, 0x2EE5F}, {0x10D40, 0x10D8F}, {0x16D40, 0x16D7F}, {0x323B0, 0x33479}, {0x1FBF0, 0x1FBFF}};
        for (int[] range : ranges) {
            for (int cp = range[0]; cp <= range[1]; cp++) {
                String c = Character.toString(cp);
                sb.append('a').append(c).append('1').append(c).append('!').append(c).append(' ').append(c).append(c)
                        .append("  ").append(c).append('\n');
                if (sb.length() > 1 << 16) {
                    assertSameIds(sb.toString());
                    sb.setLength(0);
                }
            }
        }
        assertSameIds(sb.toString());
    }

    /** ASCII's classes, which the encoder knows without the library, are the library's. */
    @Test
    void asciiClassesAreTheLibrarys() {
        for (int c = 0; c < 0x80; c++) {
            assertEquals(gpt2.libraryClass(c), ByteLevelBpe.asciiClass(c), "class of U+" + Integer.toHexString(c));
        }
    }

    /**
     * The library is built only when first needed: not for ASCII text; for a character outside ASCII (its class),
     * and then the encoder is checked on the probe and keeps encoding.
     */
    @Test
    void theLibraryIsBuiltOnlyWhenNeeded() throws Exception {
        try (HfTokenizer fresh = (HfTokenizer) Tokenizers.load(SharedData.gpt2())) {
            String ascii = "The quick brown fox, 42 times!\n\tdon't <|endoftext|>";
            assertArrayEquals(gpt2.libraryEncode(ascii), fresh.encode(ascii));
            assertFalse(fresh.libraryBuilt(), "ASCII text needs no library");
            String other = "naïve 日本 😀";
            assertArrayEquals(gpt2.libraryEncode(other), fresh.encode(other));
            assertTrue(fresh.libraryBuilt());
            assertTrue(fresh.encodesInJava(), "the encoder agrees with the library on the probe");
        }
    }

    /** A file of GPT-2's shape with a part only the library reads, which it rejects, is rejected on loading. */
    @Test
    void aPartOnlyTheLibraryReadsIsCheckedOnLoading() throws Exception {
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(SharedData.gpt2().toFile());
        ((ObjectNode) root.path("decoder")).put("type", "NoSuchDecoder");
        Path file = tmp.resolve("bad-decoder.json");
        Files.writeString(file, Json.MAPPER.writeValueAsString(root));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(file));
        assertTrue(e.getMessage().startsWith("corrupt tokenizer file " + file + ": the tokenizers library rejects it"),
                e.getMessage());
    }

    /** A lone surrogate (no valid UTF-8) is left to the library. */
    @Test
    void loneSurrogatesGoToTheLibrary() {
        for (String text : List.of("a\ud800b", "\udc00", "x \ud83d", "\ud83d\ud83d\ude00")) {
            assertNull(java.encode(text));
            assertArrayEquals(gpt2.libraryEncode(text), gpt2.encode(text));
        }
    }

    /** A tokenizer.json of another shape (here with a prefix space) keeps the library's encoder. */
    @Test
    void otherShapesStayWithTheLibrary() throws Exception {
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(SharedData.gpt2().toFile());
        ((ObjectNode) root.path("pre_tokenizer")).put("add_prefix_space", true);
        Path file = tmp.resolve("prefix-space.json");
        Files.writeString(file, Json.MAPPER.writeValueAsString(root));
        try (HfTokenizer prefixed = (HfTokenizer) Tokenizers.load(file)) {
            assertFalse(prefixed.encodesInJava());
            assertArrayEquals(new int[] {18435, 995}, prefixed.encode("Hello world"), "\" Hello\" with the prefix");
        }
    }

    /** The byte-level files {@link BpeTrainer} writes encode in Java too, with the library's ids. */
    @Test
    void trainedTokenizers() throws Exception {
        String text = SharedData.shakespeareText().substring(0, 200_000);
        Path file = tmp.resolve("trained.json");
        BpeTrainer.train(text, 512).save(file);
        try (HfTokenizer trained = (HfTokenizer) Tokenizers.load(file)) {
            assertTrue(trained.encodesInJava());
            String sample = SharedData.shakespeareText().substring(200_000, 260_000) + " naïve 日本 😀 <|endoftext|>";
            assertArrayEquals(trained.libraryEncode(sample), inJava(trained, file).encode(sample));
        }
    }
}
