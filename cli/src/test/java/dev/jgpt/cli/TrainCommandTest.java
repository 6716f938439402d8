package dev.jgpt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandTest {
    @TempDir
    Path tmp;

    /** A model small enough to train a few steps in a test; {@code more} adds options or replaces their values. */
    private static List<String> tiny(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", CliRun.SHAKESPEARE.toString(),
                "--layers", "1", "--heads", "2", "--embd", "16", "--block", "16", "--batch", "4",
                "--iters", "6", "--warmup", "2", "--eval-interval", "3", "--eval-iters", "2", "--threads", "2",
                "--samples", "1", "--sample-tokens", "12", "--out", out.toString()));
        for (int i = 0; i < more.length; i++) {
            int at = a.indexOf(more[i]);
            boolean flag = i + 1 >= more.length || more[i + 1].startsWith("--");
            if (at >= 0 && !flag) {
                a.set(at + 1, more[++i]);
            } else {
                a.add(more[i]);
                if (!flag) {
                    a.add(more[++i]);
                }
            }
        }
        return a;
    }

    private static CliRun train(List<String> args) {
        return CliRun.run(args.toArray(String[]::new));
    }

    private static List<Integer> evalSteps(Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<Integer> steps = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            steps.add(json.readTree(line).get("step").asInt());
        }
        return steps;
    }

    /** --diagnostics logs per-block gradient norms and per-layer residual RMS, as the stability study measures. */
    @Test
    void diagnosticsAreLoggedPerBlockAndLayer() throws Exception {
        Path out = tmp.resolve("diag");
        CliRun r = train(tiny(out, "--layers", "2", "--diagnostics", "2"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("diagnostics: step 0 loss "), r.out());
        ObjectMapper json = new ObjectMapper();
        List<Integer> steps = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("diagnostics.jsonl"))) {
            var rec = json.readTree(line);
            steps.add(rec.get("step").asInt());
            assertEquals(2, rec.get("block_grad_norm").size());
            assertEquals(3, rec.get("residual_rms").size()); // the embedding, then after each block
            double block0 = rec.get("block_grad_norm").get(0).asDouble();
            assertTrue(block0 > 0 && block0 <= rec.get("grad_norm").asDouble(), line);
            assertTrue(rec.get("residual_rms").get(2).asDouble() > 0, line);
        }
        assertEquals(List.of(0, 2, 4, 5), steps);
    }

    @Test
    void trainsWritesARunDirectoryAndResumes() throws Exception {
        Path out = tmp.resolve("run");
        CliRun r = train(tiny(out));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("data: ") && r.out().contains("char tokenizer, 65 tokens"), r.out());
        assertTrue(r.out().contains("step 3: train loss "), r.out());
        assertTrue(r.out().contains("done: step 6, train loss "), r.out());
        assertTrue(r.out().contains("--- sample 1 ---"), r.out());
        assertTrue(r.out().contains("MFU "), r.out());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "train_state/state.json",
                "train_state/optimizer.safetensors", "metrics.jsonl", "loss.png", "samples.txt")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(List.of(0, 3, 6), evalSteps(out));

        CliRun again = train(tiny(out));
        assertTrue(again.failedWith("already holds a training run; pass --resume"), again.err());

        CliRun resumed = CliRun.run("train", "--resume", "--out", out.toString(), "--iters", "9");
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("resuming " + out + " at step 6"), resumed.out());
        assertTrue(resumed.out().contains("done: step 9"), resumed.out());
        assertEquals(List.of(0, 3, 6, 9), evalSteps(out));

        CliRun changed = CliRun.run("train", "--resume", "--out", out.toString(), "--lr", "0.1");
        assertTrue(changed.failedWith("learning_rate (saved 0.001, asked 0.1)"), changed.err());
        CliRun withPreset = CliRun.run("train", "--resume", "--out", out.toString(), "--preset", "baby");
        assertTrue(withPreset.failedWith("--preset, --data, --tokenizer"), withPreset.err());

        CliRun overwritten = train(tiny(out, "--overwrite", "--iters", "3"));
        assertEquals(0, overwritten.exit(), overwritten.err());
        assertEquals(List.of(0, 3), evalSteps(out));
    }

    /** --init-from: a run continues training a model directory (here a Llama-block run, saved as LlamaForCausalLM). */
    @Test
    void initFromTrainsTheModelOfADirectoryWithItsTokenizer() throws Exception {
        Path base = tmp.resolve("base");
        CliRun made = train(tiny(base, "--norm", "rmsnorm", "--position", "rope", "--mlp", "swiglu", "--no-bias",
                "--kv-heads", "1", "--samples", "0"));
        assertEquals(0, made.exit(), made.err());
        Path tuned = tmp.resolve("tuned");
        List<String> fromBase = List.of("train", "--init-from", base.toString(), "--data", CliRun.SHAKESPEARE.toString(),
                "--block", "16", "--batch", "4", "--iters", "3", "--warmup", "1", "--eval-interval", "3", "--eval-iters", "2",
                "--threads", "2", "--samples", "0", "--out", tuned.toString());
        CliRun r = train(fromBase);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("model: pre-ln, 1 layers, 2 heads (1 kv), 16 wide, context 16, rmsnorm + rope + swiglu"),
                r.out());
        assertTrue(r.out().contains("done: step 3"), r.out());
        assertEquals(Files.readString(base.resolve("config.json")), Files.readString(tuned.resolve("config.json")),
                "the same model, saved the same way");
        assertEquals(Files.readString(base.resolve("tokenizer.json")), Files.readString(tuned.resolve("tokenizer.json")));

        List<String> wider = new ArrayList<>(fromBase);
        wider.addAll(List.of("--embd", "32"));
        CliRun shape = train(wider);
        assertTrue(shape.failedWith("--embd cannot be used with --init-from: the model's shape comes from "
                + base.resolve("config.json")), shape.err());
        CliRun missing = CliRun.run("train", "--init-from", tmp.resolve("nope").toString(), "--out", tmp.resolve("x").toString());
        assertTrue(missing.failedWith("--init-from " + tmp.resolve("nope") + ": no such directory"), missing.err());
        CliRun resumed = CliRun.run("train", "--resume", "--out", tuned.toString(), "--init-from", base.toString());
        assertTrue(resumed.failedWith("--init-from and --overwrite cannot be used with it"), resumed.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    @Test
    void divergenceStopsWithTheStepAndKeepsTheLastCheckpoint() throws Exception {
        Path out = tmp.resolve("nan");
        // Adam moves every weight by ~lr per step: at 1e30 the logits overflow on the next forward.
        CliRun r = train(tiny(out, "--lr", "1e30", "--min-lr", "0", "--warmup", "0"));
        assertEquals(TrainCommand.EXIT_DIVERGED, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("error: training diverged at step 1"), r.err());
        assertTrue(r.err().contains("the last good checkpoint (step 0) is kept in " + out), r.err());
        String state = Files.readString(out.resolve("train_state/state.json"));
        assertTrue(state.contains("\"step\" : 0"), state);
    }

    /** Ctrl-C finishes the step, saves it, says how to continue and exits with 130; --resume continues there. */
    @Test
    void ctrlCSavesACheckpointAndResumeContinuesFromIt() throws Exception {
        Path out = tmp.resolve("interrupted");
        List<String> args = tiny(out, "--iters", "100000", "--eval-interval", "3");
        CliProcess p = CliProcess.start(tmp.resolve("interrupted-process"),
                CliProcess.command(List.of("-Xmx512m"), args.toArray(String[]::new)));
        p.awaitOutput("step 3: train loss", java.time.Duration.ofMinutes(3));
        p.interrupt();
        assertEquals(InterruptSaver.EXIT_INTERRUPTED, p.exitCode(java.time.Duration.ofMinutes(2)), p.out() + p.err());
        var m = java.util.regex.Pattern.compile("jgpt train: interrupted at step (\\d+): the checkpoint of step \\1 is in "
                + java.util.regex.Pattern.quote(out.toString()) + "; continue with: jgpt train --resume --out "
                + java.util.regex.Pattern.quote(out.toString())).matcher(p.err());
        assertTrue(m.find(), p.err());
        int step = Integer.parseInt(m.group(1));
        assertTrue(step >= 3, "stopped at step " + step);
        assertTrue(Files.readString(out.resolve("train_state/state.json")).contains("\"step\" : " + step));

        CliRun resumed = CliRun.run("train", "--resume", "--out", out.toString(), "--iters", Integer.toString(step + 2));
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("resuming " + out + " at step " + step), resumed.out());
        assertTrue(resumed.out().contains("done: step " + (step + 2)), resumed.out());
    }

    /** A checkpoint that cannot be written (here: over the file size limit) names the file and the checkpoint kept. */
    @Test
    void aFailedCheckpointNamesTheFileAndKeepsTheLastOne() throws Exception {
        Path out = tmp.resolve("full");
        assertEquals(0, train(tiny(out, "--iters", "3")).exit());
        long weights = Files.size(out.resolve("model.safetensors"));
        // bash counts ulimit -f in KiB; the JVM ignores SIGXFSZ, so a write past the limit fails with EFBIG.
        long limitKib = weights / 1024 / 2;
        CliProcess p = CliProcess.start(tmp.resolve("full-process"), CliProcess.behindShell("ulimit -f " + limitKib
                + " && exec \"$@\"", CliProcess.command(List.of("-Xmx512m", "-Xshare:off"),
                "train", "--resume", "--out", out.toString(), "--iters", "6")));
        assertEquals(1, p.exitCode(java.time.Duration.ofMinutes(3)), p.out() + p.err());
        String err = p.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("jgpt train: error: cannot write the checkpoint of step 6 to " + out + ": " + out
                + "/.checkpoint.new/model.safetensors: file too large; the checkpoint of step 3 is kept (jgpt train "
                + "--resume --out " + out + " continues from it)"), err);
        assertFalse(Files.exists(out.resolve(".checkpoint.new")), "no half-written checkpoint is left");
        assertTrue(Files.readString(out.resolve("train_state/state.json")).contains("\"step\" : 3"));
    }

    @Test
    void aReadOnlyOutIsRefusedWithTheReason() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("read-only"));
        // A read-only file system of our own, in a private mount namespace (permissions would not stop root).
        List<String> command = new ArrayList<>(List.of("unshare", "-rm", "bash", "-c",
                "mount -t tmpfs -o ro tmpfs \"$0\" && exec \"$@\"", out.toString()));
        command.addAll(CliProcess.command(List.of("-Xmx256m"), tiny(out).toArray(String[]::new)));
        CliProcess p = CliProcess.start(tmp.resolve("read-only-process"), command);
        assertEquals(1, p.exitCode(java.time.Duration.ofMinutes(2)), p.out() + p.err());
        assertEquals("jgpt train: error: --out " + out + " cannot be written: read-only file system; "
                + "name a folder you can write to", p.err().strip());
    }

    @Test
    void outMustBeEmptyNewOrARunAndAFailedStartLeavesNothing() throws Exception {
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(mine.resolve("config.json"), "{\"mine\": 1}");
        for (List<String> args : List.of(tiny(mine), tiny(mine, "--overwrite"))) {
            CliRun r = train(args);
            assertTrue(r.failedWith("--out " + mine + " is not empty and holds no jgpt run (it has config.json)"), r.err());
        }
        assertEquals("{\"mine\": 1}", Files.readString(mine.resolve("config.json")));
        assertEquals(1, Files.list(mine).count());

        Path nineTokens = Files.writeString(tmp.resolve("nine.txt"), "abcdefgh\n");
        Path fresh = tmp.resolve("fresh");
        assertTrue(train(tiny(fresh, "--data", nineTokens.toString())).failedWith("it needs more than the block size"));
        assertFalse(Files.exists(fresh), "a failed start leaves no folder");

        Path run = tmp.resolve("old-run");
        assertEquals(0, train(tiny(run, "--iters", "3")).exit());
        String state = Files.readString(run.resolve("train_state/state.json"));
        CliRun tooBig = train(tiny(run, "--overwrite", "--embd", "16384"));
        assertTrue(tooBig.failedWith("this configuration needs about "), tooBig.err());
        assertTrue(tooBig.err().contains(" GB of Java heap (parameters ") && tooBig.err().contains(" heap is free"),
                tooBig.err());
        CliRun tooSmall = train(tiny(run, "--overwrite", "--data", nineTokens.toString()));
        assertTrue(tooSmall.failedWith("it needs more than the block size"), tooSmall.err());
        assertEquals(state, Files.readString(run.resolve("train_state/state.json")), "the old run is untouched");
        assertEquals(List.of(0, 3), evalSteps(run));
    }

    @Test
    void everyInputMistakeIsOneLine() throws Exception {
        Path out = tmp.resolve("mistakes");
        Path binary = Files.write(tmp.resolve("latin1.txt"), "caf\u00e9 au lait\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(train(tiny(out, "--data", binary.toString())).failedWith(binary + " is not valid UTF-8: invalid byte "
                + "sequence 0xE9 at byte offset 3"));
        assertTrue(train(tiny(out, "--threads", "0")).failedWith("--threads must be between 1 and "));
        assertTrue(train(tiny(out, "--peak-gflops", "-1")).failedWith("--peak-gflops must be a positive number"));
        assertTrue(train(tiny(out, "--peak-gflops", "0")).failedWith("--peak-gflops must be a positive number"));
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertTrue(train(tiny(file.resolve("sub"))).failedWith("cannot create --out " + file.resolve("sub") + ": "),
                "a folder that cannot be created");
        assertFalse(Files.exists(out));

        CliRun unknown = train(tiny(out, "--bogus"));
        assertEquals(2, unknown.exit());
        assertEquals("jgpt train: error: Unknown option: '--bogus' (see: jgpt train --help)", unknown.err().strip());
        CliRun notANumber = train(tiny(out, "--iters", "many"));
        assertEquals(2, notANumber.exit());
        assertEquals(1, notANumber.err().strip().lines().count(), notANumber.err());

        int cores = Runtime.getRuntime().availableProcessors();
        CliRun many = train(tiny(out, "--threads", Integer.toString(cores + 1), "--iters", "1"));
        assertEquals(0, many.exit(), many.err());
        assertTrue(many.err().contains("warning: --threads " + (cores + 1) + " is more than the " + cores + " cores"),
                many.err());
    }

    @Test
    void badKnobsAreOneClearError() {
        Path out = tmp.resolve("bad");
        assertTrue(train(tiny(out, "--embd", "15")).failedWith("embd (15) must be a positive multiple of heads (2)"));
        assertTrue(train(tiny(out, "--residual-layout", "middle-ln")).failedWith("unknown residual layout 'middle-ln'"));
        assertTrue(train(tiny(out, "--layer-drop", "1")).failedWith("layer-drop must be in [0, 1), got 1.0"));
        assertTrue(CliRun.run("train", "--preset", "huge", "--out", out.toString()).failedWith("unknown preset 'huge'"));
        assertTrue(CliRun.run("train", "--data", tmp.resolve("missing.txt").toString(), "--out", out.toString())
                .failedWith("training data not found"));
        assertTrue(train(tiny(out, "--block", "200000")).failedWith("the val split has 111540 tokens; it needs more than the block size (200000)"));
        assertTrue(CliRun.run("train", "--resume", "--out", tmp.resolve("none").toString())
                .failedWith("holds no training checkpoint"));
    }

    @Test
    void layerDropIsSavedWithTheRunAndCannotChangeOnResume() throws Exception {
        Path out = tmp.resolve("layerdrop");
        CliRun r = train(tiny(out, "--layers", "3", "--layer-drop", "0.5"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("layer drop 0.5"), r.out());
        assertEquals(0.5, new ObjectMapper().readTree(out.resolve("train_state/state.json").toFile())
                .get("config").get("layer_drop").asDouble());
        CliRun changed = CliRun.run("train", "--resume", "--out", out.toString(), "--layer-drop", "0");
        assertTrue(changed.failedWith("layer_drop (saved 0.5, asked 0.0)"), changed.err());
    }
}
