package dev.jgpt.cli;

import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerCommandTest {
    @TempDir
    Path tmp;

    @Test
    void trainWritesALoadableTokenizer() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), Files.readString(CliRun.SHAKESPEARE).substring(0, 100_000));
        Path out = tmp.resolve("bpe");
        CliRun r = CliRun.run("tokenizer", "train", "--data", corpus.toString(), "--vocab-size", "300",
                "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("vocabulary: 300 tokens"), r.out());
        assertTrue(r.out().contains("wrote " + out.resolve("tokenizer.json")), r.out());
        try (Tokenizer t = Tokenizers.load(out)) {
            assertEquals(300, t.vocabSize());
            assertEquals(299, t.endOfText().orElseThrow());
            assertEquals("bpe", t.kind());
        }
        CliRun info = CliRun.run("tokenizer", "info", out.toString());
        assertEquals("kind: bpe\nvocab size: 300\nend of text: 299\n", info.out().replace("\r", ""));
    }

    @Test
    void encodeAndDecodeWithGpt2() {
        CliRun enc = CliRun.run("tokenizer", "encode", "--tokenizer", CliRun.GPT2.toString(), "Hello world");
        assertEquals(0, enc.exit(), enc.err());
        assertEquals("15496 995", enc.out().strip());
        CliRun dec = CliRun.run("tokenizer", "decode", "--tokenizer", CliRun.GPT2.toString(), "15496", "995");
        assertEquals("Hello world", dec.out());
        CliRun fromStdin = CliRun.runWithInput("[15496, 995, 50256]".getBytes(StandardCharsets.UTF_8),
                "tokenizer", "decode", "--tokenizer", CliRun.GPT2.toString());
        assertEquals("Hello world<|endoftext|>", fromStdin.out());
        CliRun encStdin = CliRun.runWithInput("Hello world".getBytes(StandardCharsets.UTF_8),
                "tokenizer", "encode", "--tokenizer", CliRun.GPT2.toString());
        assertEquals("15496 995", encStdin.out().strip());
    }

    @Test
    void badInputGivesOneClearError() throws Exception {
        String gpt2 = CliRun.GPT2.toString();
        assertTrue(CliRun.run("tokenizer", "decode", "--tokenizer", gpt2, "15496", "50257")
                .failedWith("token id 50257 at position 1 is out of range"));
        assertTrue(CliRun.run("tokenizer", "decode", "--tokenizer", gpt2, "12x").failedWith("not a token id: '12x'"));
        assertTrue(CliRun.runWithInput(new byte[] {'h', (byte) 0xFF}, "tokenizer", "encode", "--tokenizer", gpt2)
                .failedWith("standard input is not valid UTF-8: invalid byte sequence 0xFF at byte offset 1"));

        Path corrupt = Files.writeString(tmp.resolve("t.json"), "{\"model\": [");
        assertTrue(CliRun.run("tokenizer", "encode", "--tokenizer", corrupt.toString(), "hi")
                .failedWith("corrupt tokenizer file"));

        Path out = tmp.resolve("out");
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        assertTrue(CliRun.run("tokenizer", "train", "--data", empty.toString(), "--vocab-size", "300",
                "--out", out.toString()).failedWith("the file is empty"));
        Path latin1 = tmp.resolve("latin1.txt");
        Files.write(latin1, "na\u00efve".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(CliRun.run("tokenizer", "train", "--data", latin1.toString(), "--vocab-size", "300",
                "--out", out.toString()).failedWith("byte offset 2"));
        Path ok = Files.writeString(tmp.resolve("ok.txt"), "hello hello\n");
        assertTrue(CliRun.run("tokenizer", "train", "--data", ok.toString(), "--vocab-size", "100",
                "--out", out.toString()).failedWith("at least 257"));
        assertTrue(CliRun.run("tokenizer", "train", "--data", ok.toString(), "--vocab-size", "70000",
                "--out", out.toString()).failedWith("at most 65,536"));
        assertTrue(CliRun.run("tokenizer", "train", "--data", tmp.resolve("missing.txt").toString(),
                "--vocab-size", "300", "--out", out.toString()).failedWith("corpus not found"));
        assertFalse(Files.exists(out), "no output left behind");

        Path underAFile = ok.resolve("out");   // checked before training, which can take minutes
        assertTrue(CliRun.run("tokenizer", "train", "--data", ok.toString(), "--vocab-size", "300",
                "--out", underAFile.toString()).failedWith("cannot create --out " + underAFile + ": "));
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, CliRun.run("tokenizer", "train", "--vocab-size", "300").exit());
        assertEquals(2, CliRun.run("tokenizer").exit());
        assertEquals(2, CliRun.run("tokenizer", "encode", "hi").exit());
    }
}
