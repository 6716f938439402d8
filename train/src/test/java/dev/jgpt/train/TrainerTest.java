package dev.jgpt.train;

import dev.jgpt.model.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir
    Path dir;

    /**
     * Bit for bit: the kernels sum SIMD lanes in a fixed order and use a reproducible exp
     * ({@code Simd}), so a run repeats exactly however warm the JIT is (the first run below is largely
     * interpreted, the second compiled).
     */
    static void assertSameCurve(List<Double> expected, List<Double> actual, String what) {
        assertEquals(expected, actual, what);
    }

    /** Records every step's loss. */
    private static final class Losses implements Trainer.Listener {
        final List<Double> losses = new ArrayList<>();
        final List<Integer> steps = new ArrayList<>();

        @Override
        public void onStep(Trainer.StepStats s, double tokensPerS) {
            steps.add(s.step());
            losses.add(s.loss());
        }
    }

    private static Losses run(TrainConfig cfg, TrainData data, Path out) throws IOException {
        Losses l = new Losses();
        try (Trainer t = Trainer.start(cfg, data, out, false)) {
            t.run(l);
        }
        return l;
    }

    @Test
    void sameSeedSameLosses() throws IOException {
        TrainData data = TinyRuns.data();
        Losses a = run(TinyRuns.config(), data, null);
        Losses b = run(TinyRuns.config(), data, null);
        assertEquals(8, a.losses.size());
        assertSameCurve(a.losses, b.losses, "same seed and threads → the same losses");
        Losses c = run(TinyRuns.config().toBuilder().seed(12).build(), data, null);
        assertTrue(Math.abs(a.losses.get(1) - c.losses.get(1)) > 1e-3, "another seed → another run");
        assertTrue(a.losses.get(7) < a.losses.get(0), "the toy loss goes down: " + a.losses);
    }

    @Test
    void resumeContinuesTheSameLossCurve() throws IOException {
        TrainData data = TinyRuns.data();
        Losses whole = run(TinyRuns.config(), data, dir.resolve("whole"));

        Path out = dir.resolve("split");
        Losses first = run(TinyRuns.config().toBuilder().iters(4).build(), data, out); // lr decays over 8 in both
        // A kill -9 during the next save leaves a half-written staging directory behind.
        Files.createDirectories(out.resolve(Checkpoint.STAGING)).resolve("model.safetensors").toFile().createNewFile();
        Losses second = new Losses();
        try (Trainer t = Trainer.resume(out, data, c -> c.toBuilder().iters(8).build())) {
            assertEquals(4, t.currentStep());
            t.run(second);
        }
        assertEquals(List.of(4, 5, 6, 7), second.steps);
        List<Double> joined = new ArrayList<>(first.losses);
        joined.addAll(second.losses);
        assertSameCurve(whole.losses, joined, "resumed run = uninterrupted run, step for step");

        // The checkpoints are the same files, byte for byte: weights and optimiser state.
        for (String f : List.of("model.safetensors", Checkpoint.STATE_DIR + "/" + Checkpoint.OPTIMIZER)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("whole").resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        // metrics.jsonl holds each evaluation once, across both sessions.
        List<Integer> evalSteps = new MetricsLog(out).read().stream().map(MetricsLog.Point::step).toList();
        assertEquals(List.of(0, 4, 8), evalSteps);
        List<MetricsLog.Point> a = new MetricsLog(dir.resolve("whole")).read(), b = new MetricsLog(out).read();
        for (int i = 0; i < 3; i++) {
            assertEquals(a.get(i).trainLoss(), b.get(i).trainLoss(), "eval at step " + a.get(i).step());
            assertEquals(a.get(i).valLoss(), b.get(i).valLoss(), "eval at step " + a.get(i).step());
        }
    }

    /**
     * Llama's block trains through the same loop: the loss falls, the run directory is a Llama-layout
     * model directory, and resume is exact.
     */
    @Test
    void llamaBlockTrainsAndResumesExactly() throws IOException {
        TrainData data = TinyRuns.data();
        TrainConfig llama = TinyRuns.config().toBuilder().bias(false).norm(dev.jgpt.model.Norm.RMSNORM)
                .position(dev.jgpt.model.Position.ROPE).mlp(dev.jgpt.model.FeedForwardKind.SWIGLU).nKvHead(1).build();
        Losses whole = run(llama, data, dir.resolve("whole"));
        assertTrue(whole.losses.get(7) < whole.losses.get(0), "the toy loss goes down: " + whole.losses);
        var model = dev.jgpt.model.io.ModelDir.load(dir.resolve("whole"));
        assertEquals(dev.jgpt.model.Family.LLAMA, model.config.family());
        assertEquals(1, model.config.nKvHead());
        Path out = dir.resolve("split");
        Losses first = run(llama.toBuilder().iters(4).build(), data, out);
        Losses second = new Losses();
        try (Trainer t = Trainer.resume(out, data, c -> c.toBuilder().iters(8).build())) {
            t.run(second);
        }
        List<Double> joined = new ArrayList<>(first.losses);
        joined.addAll(second.losses);
        assertSameCurve(whole.losses, joined, "resumed Llama run = uninterrupted run");
    }

    @Test
    void resumeRefusesChangedTrainingKnobs() throws IOException {
        TrainData data = TinyRuns.data();
        run(TinyRuns.config().toBuilder().iters(4).build(), data, dir);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(dir, data, c -> c.toBuilder().lr(1e-2).build()));
        assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> Trainer.start(TinyRuns.config(), data, dir, false));
        assertTrue(e2.getMessage().contains("--resume"), e2.getMessage());
    }

    @Test
    void writesMetricsPlotSamplesAndAModelDirectory() throws IOException {
        TrainData data = TinyRuns.data();
        Trainer.Result r;
        try (Trainer t = Trainer.start(TinyRuns.config(), data, dir, false)) {
            r = t.run(new Trainer.Listener() {
            });
        }
        assertEquals(8, r.steps());
        assertTrue(Double.isFinite(r.valLoss()) && r.tokensPerS() > 0);
        assertEquals(1, r.samples().size());
        assertEquals(20, r.samples().get(0).length(), "20 char-level tokens");
        List<MetricsLog.Point> pts = new MetricsLog(dir).read();
        assertEquals(3, pts.size());
        MetricsLog.Point p = pts.get(2);
        assertEquals(8, p.step());
        assertEquals(r.valLoss(), p.valLoss());
        assertTrue(p.lr() > 0 && p.gradNorm() > 0 && p.tokensPerS() > 0 && p.elapsedS() > 0, p.toString());
        String line = Files.readAllLines(dir.resolve(MetricsLog.FILE_NAME)).get(1);
        for (String key : List.of("step", "train_loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s")) {
            assertTrue(line.contains("\"" + key + "\""), line);
        }
        byte[] png = Files.readAllBytes(dir.resolve(LossPlot.FILE_NAME));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(Files.readString(dir.resolve(Trainer.SAMPLES_FILE)).contains(r.samples().get(0)));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "train_state/state.json",
                "train_state/optimizer.safetensors")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
    }

    @Test
    void nonFiniteLossStopsWithTheStepAndKeepsTheCheckpoint() throws IOException {
        TrainData data = TinyRuns.data();
        try (Trainer t = Trainer.start(TinyRuns.config(), data, dir, false)) {
            t.checkpoint();
            t.step();
            Param wte = t.model().parameters().get(0);
            float[] before = wte.data.clone();
            java.util.Arrays.fill(wte.data, Float.NaN);
            var e = assertThrows(TrainingDivergedException.class, t::step);
            assertEquals(1, e.step());
            assertEquals(0, e.lastCheckpointStep());
            assertTrue(e.getMessage().contains("step 1:") && e.getMessage().contains("NaN")
                    && e.getMessage().contains("step 0"), e.getMessage());
            assertEquals(1, t.currentStep(), "the bad step is not counted");
            assertFalse(java.util.Arrays.equals(before, Checkpoint.load(dir).model().parameters().get(0).data),
                    "the checkpoint holds the step-0 weights, not the step-1 ones");
        }
        TrainState state = Checkpoint.load(dir).state();
        assertEquals(0, state.step());
        assertTrue(state.elapsedS() >= 0 && state.elapsedS() < 600, "elapsed " + state.elapsedS());
    }

    @Test
    void weightDecayOnlyTouchesMatricesAndEmbeddings() throws IOException {
        TrainData data = TinyRuns.data();
        TrainConfig base = TinyRuns.config().toBuilder().dropout(0f).gradAccum(1).build();
        List<Param> a, b;
        try (Trainer t = Trainer.start(base.toBuilder().weightDecay(0).build(), data, null, false)) {
            t.step();
            a = t.model().parameters();
        }
        try (Trainer t = Trainer.start(base.toBuilder().weightDecay(50).build(), data, null, false)) {
            t.step();
            b = t.model().parameters();
        }
        int decayed = 0;
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).decays()) {
                assertFalse(java.util.Arrays.equals(a.get(i).data, b.get(i).data), a.get(i).name + " decays");
                decayed++;
            } else {
                assertArrayEquals(a.get(i).data, b.get(i).data, a.get(i).name + " (1-D) must not decay");
            }
        }
        assertTrue(decayed >= 6);
    }

    @Test
    void gradientAccumulationAveragesMicroBatches() {
        // Two micro-batches of B=4 give the gradient of their mean loss: the same grad norm scale as one
        // batch, not twice it. Compare against the norm of a single micro-batch run with clipping off.
        TrainData data = TinyRuns.data();
        TrainConfig base = TinyRuns.config().toBuilder().dropout(0f).gradClip(0).build();
        double one, two;
        try (Trainer t = Trainer.start(base.toBuilder().gradAccum(1).build(), data, null, false)) {
            one = t.step().gradNorm();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        try (Trainer t = Trainer.start(base.toBuilder().gradAccum(2).build(), data, null, false)) {
            two = t.step().gradNorm();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        // The second micro-batch differs, so the norms differ a little; unscaled they would be ≈2×.
        assertEquals(1.0, two / one, 0.35, "accumulated norm " + two + " vs single " + one);
    }
}
