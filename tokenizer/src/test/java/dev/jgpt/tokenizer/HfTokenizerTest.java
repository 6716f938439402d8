package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class HfTokenizerTest {
    static Tokenizer gpt2;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        gpt2 = Tokenizers.load(SharedData.gpt2());
    }

    @AfterAll
    static void close() {
        gpt2.close();
    }

    @Test
    void gpt2Basics() {
        assertInstanceOf(HfTokenizer.class, gpt2);
        assertArrayEquals(new int[] {15496, 995}, gpt2.encode("Hello world"));
        assertEquals(50257, gpt2.vocabSize());
        assertEquals(50256, gpt2.endOfText().orElseThrow());
        assertEquals("bpe", gpt2.kind());
        assertArrayEquals(new int[] {50256}, gpt2.encode("<|endoftext|>"));
        assertEquals("Hello world<|endoftext|>", gpt2.decode(new int[] {15496, 995, 50256}));
        assertArrayEquals(new int[0], gpt2.encode(""));
        assertEquals("", gpt2.decode(new int[0]));
    }

    /**
     * Text without a prompt starts from BOS (the token a TemplateProcessing post-processor puts first, as
     * Llama's), else end-of-text (GPT-2), else a newline (a char vocabulary, as nanoGPT samples).
     */
    @Test
    void startTokensAreBosThenEndOfTextThenNewline() throws Exception {
        assertTrue(gpt2.beginningOfText().isEmpty());
        assertArrayEquals(new int[] {50256}, gpt2.startTokens());
        assertArrayEquals(new int[] {0}, CharTokenizer.fromText("ab\n").startTokens(), "\"\\n\" sorts first");
        assertArrayEquals(new int[0], CharTokenizer.fromText("ab").startTokens(), "nothing to start from");

        var root = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(SharedData.gpt2().toFile());
        var template = Json.MAPPER.readTree("""
                {"type": "Sequence", "processors": [
                  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true},
                  {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "!", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                   "special_tokens": {"!": {"id": "!", "ids": [0], "tokens": ["!"]}}}]}
                """);
        root.set("post_processor", template);
        Path file = tmp.resolve("with-bos.json");
        Files.writeString(file, Json.MAPPER.writeValueAsString(root));
        try (Tokenizer withBos = Tokenizers.load(file)) {
            assertEquals(0, withBos.beginningOfText().orElseThrow(), "here BOS is \"!\", id 0");
            assertArrayEquals(new int[] {0}, withBos.startTokens(), "BOS comes before end-of-text");
            assertArrayEquals(new int[] {15496, 995}, withBos.encode("Hello world"), "encoding adds no special tokens");
        }
    }

    /** No truncation at 512 tokens: the whole corpus comes back (nanoGPT: 301,966 + 36,059 tokens). */
    @Test
    void roundTripsTinyShakespeareWithoutTruncation() {
        String text = SharedData.shakespeareText();
        int[] ids = gpt2.encode(text);
        assertEquals(338_025, ids.length);
        assertEquals(text, gpt2.decode(ids));
    }

    @Test
    void roundTripsRandomUnicode() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 50; i++) {
            String s = SharedData.randomUnicode(rnd, 1 + rnd.nextInt(200));
            assertEquals(s, gpt2.decode(gpt2.encode(s)), () -> "round trip of " + Chars.quote(s));
        }
    }

    @Test
    void outOfRangeIdsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gpt2.decode(new int[] {15496, 50257}));
        assertTrue(e.getMessage().contains("token id 50257 at position 1 is out of range"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gpt2.decode(new int[] {-5}));
    }

    @Test
    void saveCopiesTheFileExactly() throws Exception {
        Path copy = tmp.resolve("tok.json");
        gpt2.save(copy);
        assertArrayEquals(Files.readAllBytes(SharedData.gpt2()), Files.readAllBytes(copy));
    }

    @Test
    void corruptFilesGiveOneClearError() throws Exception {
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "{\"model\": {\"type\": \"BPE\", ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(broken));
        assertTrue(e.getMessage().startsWith("corrupt tokenizer file " + broken + ": not valid JSON"), e.getMessage());

        Path notTokenizer = tmp.resolve("other.json");
        Files.writeString(notTokenizer, "{\"hello\": 1}");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(notTokenizer));
        assertTrue(e.getMessage().contains("not a Hugging Face tokenizer.json"), e.getMessage());

        Path badModel = tmp.resolve("bad-model.json");
        Files.writeString(badModel, "{\"model\": {\"type\": \"BPE\", \"vocab\": 7, \"merges\": []}}");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(badModel));
        assertTrue(e.getMessage().startsWith("corrupt tokenizer file " + badModel), e.getMessage());
        // the library builds beside jgpt's own reading of the file; its rejection is still the one reported
        assertTrue(e.getMessage().contains("the tokenizers library rejects it"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(tmp.resolve("missing.json")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(tmp));
        assertTrue(e.getMessage().contains("no tokenizer.json in directory"), e.getMessage());
    }
}
