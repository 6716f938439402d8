package dev.jgpt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
