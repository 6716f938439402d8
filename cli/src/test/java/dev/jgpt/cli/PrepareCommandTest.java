package dev.jgpt.cli;

import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PrepareCommandTest {
    @TempDir
    Path tmp;

    @Test
    void preparesTinyShakespeareCharLevel() throws Exception {
        Path out = tmp.resolve("shk-char");
        CliRun r = CliRun.run("prepare", "--data", CliRun.SHAKESPEARE.toString(), "--tokenizer", "char",
                "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("tokenizer: char, 65 tokens"), r.out());
        assertTrue(r.out().contains("train.bin: 1,003,854 tokens, val.bin: 111,540 tokens"), r.out());
        assertEquals(2 * 1_003_854, Files.size(out.resolve("train.bin")));
        assertEquals(2 * 111_540, Files.size(out.resolve("val.bin")));
        try (Tokenizer t = Tokenizers.load(out); TokenFile train = TokenFile.open(out.resolve("train.bin"))) {
            assertEquals("First Citizen", t.decode(train.read(0, 13)));
        }
        assertTrue(Files.isRegularFile(out.resolve("meta.json")));
    }

    @Test
    void preparesWithAGivenTokenizerAndFraction() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "Hello world\n".repeat(100));
        Path out = tmp.resolve("gpt2");
        CliRun r = CliRun.run("prepare", "--data", corpus.toString(), "--tokenizer", CliRun.GPT2.toString(),
                "--out", out.toString(), "--val-fraction", "0.5");
        assertEquals(0, r.exit(), r.err());
        try (TokenFile train = TokenFile.open(out.resolve("train.bin"))) {
            assertArrayEquals(new int[] {15496, 995, 198, 15496}, train.read(0, 4));   // 198 = "\n"
            assertEquals(150, train.size());
        }
    }

    /** GPT-2's tokenizer on two threads: nanoGPT's token counts, and the speed in the summary line. */
    @Test
    void preparesTinyShakespeareWithGpt2OnTwoThreads() throws Exception {
        Path out = tmp.resolve("shk-gpt2");
        CliRun r = CliRun.run("prepare", "--data", CliRun.SHAKESPEARE.toString(), "--tokenizer", CliRun.GPT2.toString(),
                "--out", out.toString(), "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("train.bin: 301,966 tokens, val.bin: 36,059 tokens"), r.out());
        assertTrue(r.out().matches("(?s).*wrote .* in [0-9.]+ s \\([0-9.]+ MB/s\\).*"), r.out());
        assertEquals(2 * 301_966, Files.size(out.resolve("train.bin")));

        CliRun zero = CliRun.run("prepare", "--data", CliRun.SHAKESPEARE.toString(), "--out", tmp.resolve("z").toString(),
                "--threads", "0");
        assertTrue(zero.failedWith("--threads must be between 1 and"), zero.err());
    }

    @Test
    void badInputGivesOneClearErrorAndNoFiles() throws Exception {
        Path out = tmp.resolve("out");
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        assertTrue(prepare(empty, "char", out).failedWith("is empty"));

        Path latin1 = tmp.resolve("latin1.txt");
        Files.write(latin1, "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(prepare(latin1, "char", out).failedWith("not valid UTF-8: invalid byte sequence 0xE9 at byte offset 3"));

        Path tok = tmp.resolve("tok");
        CharTokenizer.fromText("abc\n").save(tok.resolve("tokenizer.json"));
        Path unknown = Files.writeString(tmp.resolve("u.txt"), "abc\ncab\nabz\n");
        assertTrue(prepare(unknown, tok.toString(), out).failedWith("character 'z' (U+007A) at line 3, column 3"));

        Path corrupt = Files.writeString(tmp.resolve("bad.json"), "not json");
        assertTrue(prepare(unknown, corrupt.toString(), out).failedWith("corrupt tokenizer file"));
        assertTrue(prepare(unknown, tmp.resolve("nope.json").toString(), out).failedWith("tokenizer file not found"));
        assertTrue(prepare(tmp.resolve("missing.txt"), "char", out).failedWith("corpus not found"));
        assertTrue(prepare(tok, "char", out).failedWith("--data " + tok + " is a folder; give a text file (UTF-8)"));

        CliRun badFraction = CliRun.run("prepare", "--data", unknown.toString(), "--out", out.toString(),
                "--val-fraction", "1.5");
        assertTrue(badFraction.failedWith("validation fraction must be in [0, 1)"), badFraction.err());
        assertEquals(2, CliRun.run("prepare", "--data", unknown.toString()).exit(), "missing --out is a usage error");
        assertFalse(Files.exists(out), "no output left behind");
    }

    /** An --out that cannot be made, or a read-only one, is named with the system's reason; nothing is left. */
    @Test
    void anOutThatCannotBeWrittenIsNamedWithTheReason() throws Exception {
        Path corpus = Files.writeString(tmp.resolve("c.txt"), "Hello world\n".repeat(100));
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Path under = file.resolve("out");
        assertTrue(prepare(corpus, "char", under).failedWith("cannot create --out " + under + ": "), "under a file");

        Path out = Files.createDirectories(tmp.resolve("read-only"));
        // A read-only file system of our own, in a private mount namespace (permissions would not stop root).
        List<String> command = new ArrayList<>(List.of("unshare", "-rm", "bash", "-c",
                "mount -t tmpfs -o ro tmpfs \"$0\" && exec \"$@\"", out.toString()));
        command.addAll(CliProcess.command(List.of("-Xmx256m"), "prepare", "--data", corpus.toString(),
                "--out", out.toString()));
        CliProcess p = CliProcess.start(tmp.resolve("read-only-process"), command);
        assertEquals(1, p.exitCode(Duration.ofMinutes(2)), p.out() + p.err());
        assertEquals("jgpt prepare: error: --out " + out + " cannot be written: read-only file system; "
                + "name a folder you can write to", p.err().strip());
        Path inside = out.resolve("new");
        command.set(command.size() - 1, inside.toString());
        p = CliProcess.start(tmp.resolve("read-only-process-2"), command);
        assertEquals(1, p.exitCode(Duration.ofMinutes(2)), p.out() + p.err());
        assertEquals("jgpt prepare: error: cannot create --out " + inside + ": read-only file system", p.err().strip());
    }

    private static CliRun prepare(Path data, String tokenizer, Path out) {
        return CliRun.run("prepare", "--data", data.toString(), "--tokenizer", tokenizer, "--out", out.toString());
    }
}
