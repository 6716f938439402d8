package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class PrepareTest {
    @TempDir
    Path tmp;

    @Test
    void charLevelTinyShakespeareMatchesNanoGpt() throws Exception {
        Path out = tmp.resolve("shk-char");
        Prepare.Result r = Prepare.run(SharedData.shakespeare(), "char", out, 0.1);
        // nanoGPT shakespeare_char: 1,115,394 characters, 65 tokens, 1,003,854 train and 111,540 val
        assertEquals(65, r.vocabSize());
        assertEquals(1_003_854, r.trainTokens());
        assertEquals(111_540, r.valTokens());
        assertEquals(2 * 1_003_854, Files.size(out.resolve("train.bin")));
        assertEquals(2 * 111_540, Files.size(out.resolve("val.bin")));
        assertEquals(List.of("meta.json", "tokenizer.json", "train.bin", "val.bin"), list(out));
        // all outputs get the usual permissions (a temp file's 0600 would hide tokenizer.json from others)
        for (String name : List.of("meta.json", "tokenizer.json", "val.bin")) {
            assertEquals(Files.getPosixFilePermissions(out.resolve("train.bin")),
                    Files.getPosixFilePermissions(out.resolve(name)), name);
        }

        String text = SharedData.shakespeareText();
        try (Tokenizer t = Tokenizers.load(out);
             TokenFile train = TokenFile.open(out.resolve("train.bin"));
             TokenFile val = TokenFile.open(out.resolve("val.bin"))) {
            assertInstanceOf(CharTokenizer.class, t);
            assertEquals("First Citizen", t.decode(train.read(0, 13)));
            assertEquals(text.substring(1_003_854, 1_003_854 + 40), t.decode(val.read(0, 40)));
            assertEquals(text.substring(text.length() - 30), t.decode(val.read(val.size() - 30, 30)));
        }
        JsonNode meta = Json.MAPPER.readTree(out.resolve("meta.json").toFile());
        assertEquals(65, meta.path("vocab_size").asInt());
        assertEquals("char", meta.path("tokenizer").path("kind").asText());
        assertEquals("tokenizer.json", meta.path("tokenizer").path("file").asText());
        assertEquals(1_003_854, meta.path("train").path("tokens").asLong());
        assertEquals(111_540, meta.path("val").path("tokens").asLong());
        assertEquals(0.1, meta.path("split").path("val_fraction").asDouble());
        assertEquals(1_115_394, meta.path("source").path("characters").asLong());
        assertEquals(Corpus.TINY_SHAKESPEARE_SHA256, meta.path("source").path("sha256").asText());
    }

    /**
     * Encoding block by block (small blocks force many cuts) on one thread, or in parallel chunks of a large
     * block on three, gives exactly the library's encoding of each whole part.
     */
    @ParameterizedTest
    @CsvSource({"4096, 1", "4194304, 3"})
    void gpt2BlockwiseEncodingEqualsWholeEncoding(int blockBytes, int threads) throws Exception {
        Path out = tmp.resolve("shk-gpt2");
        Prepare.Result r = Prepare.run(SharedData.shakespeare(), SharedData.gpt2().toString(), out, 0.1, blockBytes,
                Long.MAX_VALUE, threads);
        String text = SharedData.shakespeareText();
        int split = 1_003_854;
        try (HfTokenizer gpt2 = (HfTokenizer) Tokenizers.load(SharedData.gpt2());
             TokenFile train = TokenFile.open(out.resolve("train.bin"));
             TokenFile val = TokenFile.open(out.resolve("val.bin"))) {
            int[] expectTrain = gpt2.libraryEncode(text.substring(0, split));
            int[] expectVal = gpt2.libraryEncode(text.substring(split));
            // nanoGPT's shakespeare/prepare.py: 301,966 train and 36,059 val tokens
            assertEquals(301_966, expectTrain.length);
            assertEquals(36_059, expectVal.length);
            assertArrayEquals(expectTrain, train.read(0, (int) train.size()));
            assertArrayEquals(expectVal, val.read(0, (int) val.size()));
            assertEquals(50257, r.vocabSize());
        }
        assertArrayEquals(Files.readAllBytes(SharedData.gpt2()), Files.readAllBytes(out.resolve("tokenizer.json")));
        JsonNode meta = Json.MAPPER.readTree(out.resolve("meta.json").toFile());
        assertEquals(50256, meta.path("tokenizer").path("end_of_text").asInt());
    }

    @Test
    void charBlocksSplitNoSurrogatePairs() throws Exception {
        String text = "😀a😀bb世界\n".repeat(500);
        Path corpus = Files.writeString(tmp.resolve("emoji.txt"), text);
        Path out = tmp.resolve("out");
        Prepare.Result r = Prepare.run(corpus, "char", out, 0.25, 17, Long.MAX_VALUE);
        long n = text.codePointCount(0, text.length());
        assertEquals(n, r.trainTokens() + r.valTokens());
        assertEquals((long) (n * 0.75), r.trainTokens());
        try (Tokenizer t = Tokenizers.load(out);
             TokenFile train = TokenFile.open(out.resolve("train.bin"));
             TokenFile val = TokenFile.open(out.resolve("val.bin"))) {
            String decoded = t.decode(train.read(0, (int) train.size())) + t.decode(val.read(0, (int) val.size()));
            assertEquals(text, decoded);
        }
    }

    @Test
    void zeroValidationFractionPutsEverythingInTrain() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "hello world\n");
        Prepare.Result r = Prepare.run(corpus, "char", tmp.resolve("out"), 0.0);
        assertEquals(12, r.trainTokens());
        assertEquals(0, r.valTokens());
        assertEquals(0, Files.size(tmp.resolve("out/val.bin")));
    }

    @Test
    void showsProgressWithoutChangingResults() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "to be or not to be\n".repeat(1000));
        Prepare.Result quiet = Prepare.run(corpus, "char", tmp.resolve("a"), 0.1, 1024, Long.MAX_VALUE);
        Prepare.Result loud = Prepare.run(corpus, "char", tmp.resolve("b"), 0.1, 1024, 0);
        assertEquals(quiet, new Prepare.Result(quiet.outDir(), loud.tokenizerKind(), loud.vocabSize(), loud.bytes(),
                loud.characters(), loud.trainTokens(), loud.valTokens(), loud.valFraction()));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/train.bin")), Files.readAllBytes(tmp.resolve("b/train.bin")));
    }

    // ---- bad input: one clear error, and no output directory or partial file left behind ----

    @Test
    void emptyCorpus() throws Exception {
        Path corpus = Files.createFile(tmp.resolve("empty.txt"));
        assertFailsCleanly(corpus, "char", "is empty");
    }

    @Test
    void nonUtf8Corpus() throws Exception {
        Path corpus = tmp.resolve("latin1.txt");
        Files.write(corpus, "caf\u00e9 au lait".getBytes(StandardCharsets.ISO_8859_1));
        assertFailsCleanly(corpus, "char", "not valid UTF-8: invalid byte sequence 0xE9 at byte offset 3");
    }

    @Test
    void unknownCharacterForAnExistingCharTokenizer() throws Exception {
        Path tokDir = tmp.resolve("tok");
        CharTokenizer.fromText("abc \n").save(tokDir.resolve("tokenizer.json"));
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "abc\nab cab\ncaXb\n");
        IllegalArgumentException e = assertFailsCleanly(corpus, tokDir.toString(), "character 'X' (U+0058) at line 3, column 3");
        assertInstanceOf(UnknownCharacterException.class, e);
        assertEquals(13, ((UnknownCharacterException) e).position());
    }

    @Test
    void vocabularyTooLargeForUint16() throws Exception {
        int[] cps = IntStream.range(0x4E00, 0x4E00 + 70_000).filter(cp -> cp < 0xD800 || cp > 0xDFFF)
                .limit(65_537).toArray();
        Path tokFile = tmp.resolve("big.json");
        CharTokenizer.ofCharacters(cps).save(tokFile);
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "\u4e00\u4e01\u4e02");
        assertFailsCleanly(corpus, tokFile.toString(), "vocabulary of 65537 tokens does not fit in uint16");
    }

    @Test
    void corruptTokenizer() throws Exception {
        Path tokFile = Files.writeString(tmp.resolve("t.json"), "{ nope");
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "hello\n");
        assertFailsCleanly(corpus, tokFile.toString(), "corrupt tokenizer file");
    }

    @Test
    void tooSmallToSplit() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "h");     // int(1 * 0.9) = 0 training characters
        assertFailsCleanly(corpus, "char", "the training split is empty");
    }

    @Test
    void badFractionAndMissingCorpus() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "hello\n");
        assertFailsCleanly(corpus, "char", 1.0, "validation fraction must be in [0, 1)");
        assertFailsCleanly(corpus, "char", -0.1, "validation fraction must be in [0, 1)");
        assertFailsCleanly(tmp.resolve("missing.txt"), "char", 0.1, "corpus not found");
    }

    /** A failure in an existing directory leaves its earlier contents alone and adds nothing. */
    @Test
    void failureKeepsAnExistingOutputDirectoryAsItWas() throws Exception {
        Path out = tmp.resolve("existing");
        Path good = Files.writeString(tmp.resolve("good.txt"), "hello world\n".repeat(10));
        Prepare.run(good, "char", out, 0.1);
        byte[] before = Files.readAllBytes(out.resolve("train.bin"));
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', (byte) 0x80});
        assertThrows(IllegalArgumentException.class, () -> Prepare.run(bad, "char", out, 0.1));
        assertEquals(List.of("meta.json", "tokenizer.json", "train.bin", "val.bin"), list(out));
        assertArrayEquals(before, Files.readAllBytes(out.resolve("train.bin")));
    }

    private IllegalArgumentException assertFailsCleanly(Path corpus, String tokenizer, String message) throws IOException {
        return assertFailsCleanly(corpus, tokenizer, 0.1, message);
    }

    private IllegalArgumentException assertFailsCleanly(Path corpus, String tokenizer, double fraction, String message)
            throws IOException {
        Path out = tmp.resolve("out-" + System.nanoTime());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Prepare.run(corpus, tokenizer, out, fraction));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertFalse(Files.exists(out), "no output directory left behind");
        return e;
    }

    private static List<String> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
