package dev.jgpt.cli;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.jgpt.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jgpt export writes GGUF files that jgpt generate and eval run as they run the model directory. */
class GgufCommandTest {
    static final String TEXT = "to be, or not to be: that is the question.\nwhether 'tis nobler in the mind to suffer\n";
    static final CharTokenizer CHARS = CharTokenizer.fromText(TEXT);

    @TempDir
    static Path tmp;
    static Path gpt2Dir, llamaDir, textFile;

    @BeforeAll
    static void saveModels() throws Exception {
        gpt2Dir = tmp.resolve("gpt2");
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), 64, 2, 2, 64).withInit(dev.jgpt.model.InitScheme.XAVIER), 5), gpt2Dir);
        CHARS.save(gpt2Dir.resolve("tokenizer.json"));
        llamaDir = tmp.resolve("llama");
        ModelDir.save(new GPT(GPTConfig.llama(CHARS.vocabSize(), 64, 2, 4, 2, 64, 128)
                .withInit(dev.jgpt.model.InitScheme.XAVIER), 6), llamaDir);
        CHARS.save(llamaDir.resolve("tokenizer.json"));
        textFile = Files.writeString(tmp.resolve("text.txt"), TEXT.repeat(3));
    }

    private static CliRun ok(String... args) {
        CliRun r = run("", args);
        assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.err());
        return r;
    }

    private static double loss(String... modelArgs) {
        String[] args = new String[modelArgs.length + 5];
        args[0] = "eval";
        args[1] = "--model";
        args[2] = modelArgs[modelArgs.length - 1];
        System.arraycopy(modelArgs, 0, args, 3, modelArgs.length - 1);
        args[modelArgs.length + 2] = "--data";
        args[modelArgs.length + 3] = textFile.toString();
        args[modelArgs.length + 4] = "--json";
        String json = ok(args).out();
        return Double.parseDouble(json.replaceAll("(?s).*\"loss\":([-0-9.Ee]+).*", "$1"));
    }

    @Test
    void f32ExportGeneratesAndScoresExactlyAsTheDirectory() {
        for (Path dir : new Path[] {gpt2Dir, llamaDir}) {
            Path gguf = tmp.resolve(dir.getFileName() + "-f32.gguf");
            String summary = ok("export", "--model", dir.toString(), "--type", "f32", "--out", gguf.toString()).out();
            assertTrue(summary.contains(dir.getFileName().toString().equals("gpt2") ? "gpt2" : "llama"), summary);
            String want = ok("generate", "--model", dir.toString(), "-p", "to be", "-n", "20", "--temp", "0").out();
            assertEquals(want, ok("generate", "--model", gguf.toString(), "-p", "to be", "-n", "20", "--temp", "0").out());
            assertEquals(loss(dir.toString()), loss(gguf.toString()), 0.0, dir.toString());
        }
    }

    @Test
    void quantizedExportsScoreCloseToF32() {
        double f32 = loss(llamaDir.toString());
        for (String type : new String[] {"q8_0", "q4_0", "f16"}) {
            Path gguf = tmp.resolve("llama-" + type + ".gguf");
            ok("export", "--model", llamaDir.toString(), "--type", type, "--out", gguf.toString());
            double q = loss(gguf.toString());
            assertEquals(q, loss("--weights", type, llamaDir.toString()), 0.0, type + ": the file = quantizing on load");
            assertTrue(Math.abs(q - f32) / f32 < (type.equals("q4_0") ? 0.05 : 0.01), type + ": " + q + " vs " + f32);
            ok("generate", "--model", gguf.toString(), "-p", "to", "-n", "8", "--temp", "0");
        }
    }

    @Test
    void quantizedDirectoryRunsAsQuantizingOnLoad() throws Exception {
        Path q = tmp.resolve("llama-q4_k");
        String summary = ok("quantize", "--model", llamaDir.toString(), "--to", "q6_k", "--out", q.toString()).out();
        assertTrue(summary.contains("q6_K"), summary);
        String config = Files.readString(q.resolve("config.json"));
        assertTrue(config.contains("\"weights\" : \"q6_K\"") && config.contains("\"output_norm.weight\" : \"f32\""), config);
        assertTrue(Files.isRegularFile(q.resolve("tokenizer.json")));
        assertEquals(loss("--weights", "q6_k", llamaDir.toString()), loss(q.toString()), 0.0);
        assertEquals(ok("generate", "--model", llamaDir.toString(), "--weights", "q6_k", "-p", "to", "-n", "12", "--temp", "0").out(),
                ok("generate", "--model", q.toString(), "-p", "to", "-n", "12", "--temp", "0").out());
        CliRun again = run("", "quantize", "--model", llamaDir.toString(), "--to", "q8_0", "--out", q.toString());
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("already exists"), again.err());
    }

    @Test
    void badInputIsOneLineAndExitCodeOne() throws Exception {
        Path gguf = tmp.resolve("exists.gguf");
        ok("export", "--model", gpt2Dir.toString(), "--type", "q8_0", "--out", gguf.toString());
        byte[] before = Files.readAllBytes(gguf);
        CliRun again = run("", "export", "--model", gpt2Dir.toString(), "--out", gguf.toString());
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("already exists"), again.err());
        assertTrue(Arrays.equals(before, Files.readAllBytes(gguf)), "nothing overwritten");

        Path truncated = Files.write(tmp.resolve("truncated.gguf"), Arrays.copyOf(before, before.length / 2));
        CliRun r = run("", "generate", "--model", truncated.toString(), "-p", "to");
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(truncated.toString()), r.err());

        CliRun type = run("", "export", "--model", gpt2Dir.toString(), "--type", "q5_k", "--out",
                tmp.resolve("q5.gguf").toString());
        assertEquals(1, type.exit());
        assertTrue(type.err().contains("--type") && type.err().contains("q5_k"), type.err());

        CliRun both = run("", "generate", "--model", gguf.toString(), "--weights", "q8_0", "-p", "to");
        assertEquals(1, both.exit());
        assertTrue(both.err().contains("--weights"), both.err());

        CliRun missing = run("", "eval", "--model", tmp.resolve("none.gguf").toString(), "--data",
                textFile.toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("none.gguf"), missing.err());
    }
}
