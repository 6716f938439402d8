package dev.jgpt.cli;

import dev.jgpt.common.SharedData;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.StopReason;
import dev.jgpt.infer.TokenListener;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCommandTest {
    static final String TEXT = "to be, or not to be: that is the question.\n";
    static final CharTokenizer CHARS = CharTokenizer.fromText(TEXT);
    static final int CONTEXT = 32;

    @TempDir
    static Path tmp;
    static Path modelDir;

    static CliRun run(String stdin, String... args) {
        return CliRun.runWithInput(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    static CliRun generate(String stdin, String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "generate";
        all[1] = "--model";
        all[2] = modelDir.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return run(stdin, all);
    }

    @BeforeAll
    static void saveTinyModel() throws Exception {
        modelDir = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), CONTEXT, 2, 2, 16).withInit(dev.jgpt.model.InitScheme.XAVIER), 5), modelDir);
        CHARS.save(modelDir.resolve("tokenizer.json"));
    }

    /** What the Java API generates from the saved model directory (the reference for the CLI). */
    static Generator loadGenerator() throws Exception {
        return new Generator(ModelDir.load(modelDir), Tokenizers.load(modelDir));
    }

    @Test
    void greedyOutputIsWhatTheApiGeneratesAndTheSummaryGoesToStderr() throws Exception {
        String expected = loadGenerator().generate("to be", GenerationOptions.greedy(12), TokenListener.NONE).text();
        CliRun r = generate("", "-p", "to be", "-n", "12", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        assertEquals(expected + "\n", r.out());
        assertTrue(r.err().contains("prompt 5 tok"), r.err());
        assertTrue(r.err().contains("generated 12 tok"), r.err());
        assertTrue(r.err().contains("stop: max-tokens"), r.err());

        assertEquals(r.out(), generate("to be", "-n", "12", "--temp", "0").out(), "prompt from stdin");
        Path file = Files.writeString(tmp.resolve("prompt.txt"), "to be");
        assertEquals(r.out(), generate("", "--prompt-file", file.toString(), "-n", "12", "--temp", "0").out());
    }

    @Test
    void aSeedReproducesSampledOutput() {
        CliRun a = generate("", "-p", "the", "-n", "20", "--temp", "1", "--top-k", "0", "--top-p", "1", "--seed", "3");
        CliRun b = generate("", "-p", "the", "-n", "20", "--temp", "1", "--top-k", "0", "--top-p", "1", "--seed", "3");
        CliRun c = generate("", "-p", "the", "-n", "20", "--temp", "1", "--top-k", "0", "--top-p", "1", "--seed", "4");
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
        assertNotEquals(a.out(), c.out());
        assertTrue(a.err().contains("seed 3"), a.err());
        // without --seed, a random seed is used and reported
        assertTrue(generate("", "-p", "the", "-n", "3").err().matches("(?s).*seed \\d+.*"));
    }

    @Test
    void stopStringsAndSamplingFlagsAreApplied() throws Exception {
        String full = loadGenerator().generate("to", GenerationOptions.greedy(20), TokenListener.NONE).text();
        String stop = full.substring(6, 8);
        CliRun r = generate("", "-p", "to", "-n", "20", "--temp", "0", "--stop", stop);
        assertEquals(0, r.exit(), r.err());
        assertEquals(full.substring(0, full.indexOf(stop)) + "\n", r.out());
        assertTrue(r.err().contains("stop: stop-string"), r.err());

        GenerationResult penalised = loadGenerator().generate("to",
                GenerationOptions.greedy(20).toBuilder().repeatPenalty(1.5f).repeatLastN(-1).build(), TokenListener.NONE);
        CliRun p = generate("", "-p", "to", "-n", "20", "--temp", "0", "--repeat-penalty", "1.5", "--repeat-last-n", "-1");
        assertEquals(penalised.text() + "\n", p.out());
    }

    @Test
    void contextFullStopsWithAMessageOrSlides() {
        CliRun full = generate("", "-p", "to be", "-n", "-1", "--temp", "0");
        assertEquals(0, full.exit(), full.err());
        assertTrue(full.err().contains("generated " + (CONTEXT - 5 + 1) + " tok"), full.err());
        assertTrue(full.err().contains("context of " + CONTEXT + " tokens is full"), full.err());

        CliRun slid = generate("", "-p", "to be", "-n", "100", "--temp", "0", "--slide");
        assertEquals(0, slid.exit(), slid.err());
        assertTrue(slid.err().contains("generated 100 tok"), slid.err());
    }

    @Test
    void interactiveKeepsTheSessionBetweenTurns() throws Exception {
        Generator g = loadGenerator();
        GenerationOptions o = GenerationOptions.greedy(6);
        String t1 = g.generate("to be\n", o, TokenListener.NONE).text();
        String t2 = g.generate("that is\n", o, TokenListener.NONE).text();
        g.reset();
        String fresh2 = g.generate("that is\n", o, TokenListener.NONE).text();

        // Everything of a session is on stdout, in order: text, its own line's end, the turn's summary, the prompt.
        CliRun r = generate("to be\nthat is\n/quit\n", "-i", "-n", "6", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        // The first turn's prompt rate includes compiling the kernels, and says so.
        String first = "jgpt generate: prompt \\d+ tok \\([0-9.]+ tok/s, incl\\. JIT warm-up\\) \\| generated 6 tok "
                + "\\([0-9.]+ tok/s\\) \\| stop: max-tokens \\| seed \\d+\n";
        String summary = "jgpt generate: prompt \\d+ tok \\([0-9.]+ tok/s\\) \\| generated 6 tok \\([0-9.]+ tok/s\\) "
                + "\\| stop: max-tokens \\| seed \\d+\n";
        assertTrue(r.out().matches(java.util.regex.Pattern.quote("> " + t1 + "\n") + first
                + java.util.regex.Pattern.quote("> " + t2 + "\n") + summary + "> \n"), r.out());
        assertEquals("", r.err());

        CliRun reset = generate("to be\n/reset\nthat is\n", "-i", "-n", "6", "--temp", "0");
        assertTrue(reset.out().matches(java.util.regex.Pattern.quote("> " + t1 + "\n") + first
                + java.util.regex.Pattern.quote("> jgpt generate: session cleared\n> " + fresh2 + "\n") + summary
                + "> \n"), reset.out());

        CliRun full = generate("to be ".repeat(4) + "\nthat is\n", "-i", "-n", "40",
                "--temp", "0");
        assertEquals(0, full.exit(), full.err());
        assertTrue(full.out().contains("\n> jgpt generate: context full: "), full.out());
        assertFalse(full.out().contains("generate: generate:"), "one prefix: " + full.out());
    }

    @Test
    void anEmptyPromptStartsFromANewline() throws Exception {
        String fromNewline = loadGenerator().generate("\n", GenerationOptions.greedy(8), TokenListener.NONE).text();
        CliRun r = generate("", "-n", "8", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        assertEquals(fromNewline + "\n", r.out());
        assertTrue(r.err().contains("prompt 1 tok"), r.err());
    }

    @Test
    void aPromptThatIsNotUtf8IsOneClearError() throws Exception {
        byte[] latin1 = "to b\u00e9".getBytes(StandardCharsets.ISO_8859_1);
        Path file = Files.write(tmp.resolve("latin1.txt"), latin1);
        assertError(generate("", "--prompt-file", file.toString()), file + " is not valid UTF-8: invalid byte sequence "
                + "0xE9 at byte offset 4");
        CliRun stdin = CliRun.runWithInput(latin1, "generate", "--model", modelDir.toString());
        assertError(stdin, "standard input is not valid UTF-8: invalid byte sequence 0xE9 at byte offset 4");
        CliRun repl = CliRun.runWithInput(latin1, "generate", "--model", modelDir.toString(), "-i");
        assertEquals(1, repl.exit());
        assertEquals("jgpt generate: error: standard input is not valid UTF-8 (line 1)", repl.err().strip());
    }

    @Test
    void badInputGivesOneClearErrorAndNonZeroExit() throws Exception {
        String m = modelDir.toString();
        assertError(run("", "generate", "--model", tmp.resolve("nope").toString(), "-p", "x"), "not a model directory");

        Path noTok = tmp.resolve("no-tokenizer");
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), 8, 1, 1, 4), 1), noTok);
        assertError(run("", "generate", "--model", noTok.toString(), "-p", "x"), "tokenizer.json");

        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("config.json"), "{ not json");
        assertError(run("", "generate", "--model", broken.toString(), "-p", "x"), "config.json");

        assertError(generate("", "-p", "to be ".repeat(10)), "context is " + CONTEXT);
        assertError(generate("", "-p", "x", "--top-p", "0"), "top-p must be in (0, 1]");
        assertError(generate("", "-p", "x", "--top-p", "1.5"), "top-p must be in (0, 1]");
        assertError(generate("", "-p", "x", "--temp", "-0.5"), "temperature");
        assertError(generate("", "-p", "x", "--top-k", "-2"), "top-k");
        assertError(generate("", "-p", "x", "--prompt-file", m), "not both");
        assertError(generate("", "--prompt-file", tmp.resolve("missing.txt").toString()), "no such prompt file");
        assertError(generate("", "-p", "x", "--threads", "0"), "--threads must be between 1 and");
        assertError(generate("", "-p", "Zebra"), "Z");   // a character the char tokenizer does not know

        CliRun unknown = generate("", "-p", "x", "--bogus");
        assertEquals(2, unknown.exit());
        assertEquals("jgpt generate: error: Unknown option: '--bogus' (see: jgpt generate --help)", unknown.err().strip());
        CliRun badNumber = generate("", "-p", "x", "-n", "many");
        assertEquals(2, badNumber.exit());
        assertTrue(badNumber.err().contains("many"), badNumber.err());
        assertEquals(1, badNumber.err().strip().lines().count(), badNumber.err());
    }

    private static void assertError(CliRun r, String fragment) {
        assertNotEquals(0, r.exit(), "exit code; stdout: " + r.out());
        assertTrue(r.err().contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("jgpt generate: error: "), r.err());
        assertFalse(r.err().contains("error: generate:"), "one prefix: " + r.err());
    }

    /** A GPT-2-vocabulary model (random, tiny width) with the real GPT-2 tokenizer, end to end. */
    @Test
    void generatesWithTheGpt2Tokenizer() throws Exception {
        Path shared = SharedData.gpt2();
        Path dir = tmp.resolve("gpt2-tiny");
        GPT gpt = new GPT(GPTConfig.of(50257, 64, 1, 2, 16), 9);
        ModelDir.save(gpt, dir);
        try (Tokenizer tok = Tokenizers.load(shared)) {
            assertEquals(50257, tok.vocabSize());
            tok.save(dir.resolve("tokenizer.json"));
        }
        CliRun r = run("", "generate", "--model", dir.toString(), "-p", "Hello, world. Héllo ✓", "-n", "24",
                "--seed", "1", "--ignore-eos");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("generated 24 tok"), r.err());
        assertFalse(r.out().isBlank());

        try (Tokenizer tok = Tokenizers.load(dir)) {
            Generator g = new Generator(ModelDir.load(dir), tok);
            StringBuilder streamed = new StringBuilder();
            GenerationOptions o = GenerationOptions.builder().temperature(1f).topK(0).topP(1f).seed(2).maxTokens(40)
                    .stopAtEndOfText(false).build();
            GenerationResult res = g.generate("The quick brown fox", o, t -> streamed.append(t.text()));
            assertEquals(StopReason.MAX_TOKENS, res.reason());
            assertEquals(tok.decode(res.tokens()), streamed.toString(), "streamed text = decode(all tokens)");
            assertEquals(streamed.toString(), res.text());
            assertEquals(tok.encode("The quick brown fox").length, res.stats().promptTokens());
            assertArrayEquals(res.tokens(), g.tokens().length == 0 ? null
                    : java.util.Arrays.copyOfRange(g.tokens(), res.stats().promptTokens(), g.tokens().length));
        }
    }
}
