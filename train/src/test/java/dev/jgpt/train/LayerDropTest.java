package dev.jgpt.train;

import dev.jgpt.model.Block;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.model.optim.LrSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerDropTest {
    @TempDir
    Path dir;

    @Test
    void layerDropZeroIsThePlainTrainingStepBitForBit() throws IOException {
        TrainData data = TinyRuns.data();
        TrainConfig c = TinyRuns.config().toBuilder().nLayer(3).build(); // dropout and 2 micro-batches on
        assertEquals(0, c.layerDrop());
        List<Double> trainerLosses = new ArrayList<>();
        GPT trained;
        try (Trainer t = Trainer.start(c, data, null, false)) {
            for (int s = 0; s < c.iters(); s++) {
                trainerLosses.add(t.step().loss());
            }
            trained = t.model();
        }

        // The plain step written out (nanoGPT's loop), with no LayerDrop anywhere, on the same thread count.
        GPT plain = new GPT(c.modelConfig(data.tokenizer.vocabSize()), c.seed());
        AdamW adamW = new AdamW(plain.parameters(), c.beta1(), c.beta2(), c.eps(), c.weightDecay());
        Batcher batcher = new Batcher(data.train, data.val, c.batchSize(), c.blockSize(), c.seed());
        LrSchedule schedule = c.schedule();
        int[] x = new int[c.batchSize() * c.blockSize()], y = new int[x.length];
        List<Double> plainLosses = new ArrayList<>();
        plain.setTraining(true);
        for (int s = 0; s < c.iters(); s++) {
            plain.zeroGrad();
            double sum = 0;
            for (int micro = 0; micro < c.gradAccum(); micro++) {
                batcher.trainBatch(s, micro, x, y);
                plain.seedDropout(Seeds.derive(c.seed(), Seeds.DROPOUT, s, micro));
                sum += plain.lossAndBackward(x, y, c.batchSize(), c.blockSize());
            }
            adamW.scaleGradients(1f / c.gradAccum());
            adamW.clipGradients(c.gradClip());
            adamW.step(schedule.lr(s));
            plainLosses.add(sum / c.gradAccum());
        }
        assertEquals(plainLosses, trainerLosses, "--layer-drop 0: the same losses as the plain step");
        for (int i = 0; i < plain.parameters().size(); i++) {
            assertArrayEquals(plain.parameters().get(i).data, trained.parameters().get(i).data,
                    plain.parameters().get(i).name + " after " + c.iters() + " steps");
        }
    }

    @Test
    void theMaskDependsOnlyOnSeedAndStepAndSkipsAboutPOfTheBlocks() {
        assertArrayEquals(LayerDrop.mask(0.3, 12, 7, 5), LayerDrop.mask(0.3, 12, 7, 5));
        assertArrayEquals(new boolean[12], LayerDrop.mask(0, 12, 7, 5), "p = 0 skips nothing");
        int skipped = 0, differ = 0, n = 2000;
        for (int s = 0; s < n; s++) {
            boolean[] m = LayerDrop.mask(0.3, 10, 7, s);
            for (boolean b : m) {
                skipped += b ? 1 : 0;
            }
            differ += Arrays.equals(m, LayerDrop.mask(0.3, 10, 8, s)) ? 0 : 1;
        }
        assertEquals(0.3, skipped / (10.0 * n), 0.02, "the skipped fraction is p");
        assertTrue(differ > n / 2, "another seed draws other blocks: " + differ + " of " + n + " steps differ");
        var e = assertThrows(IllegalArgumentException.class, () -> LayerDrop.mask(1, 4, 0, 0));
        assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
    }

    @Test
    void skippedBlocksGetNoGradientInTheirStepAndEvaluationRunsEveryBlock() throws IOException {
        TrainData data = TinyRuns.data();
        TrainConfig c = TinyRuns.config().toBuilder().nLayer(4).layerDrop(0.5).dropout(0f).build();
        int skipped = 0;
        try (Trainer t = Trainer.start(c, data, null, false)) {
            for (int s = 0; s < 6; s++) {
                boolean[] skip = LayerDrop.mask(0.5, 4, c.seed(), s);
                t.step(); // the gradients of this step stay in the parameters until the next step zeroes them
                for (int l = 0; l < 4; l++) {
                    Block block = t.model().blocks().get(l);
                    boolean zero = block.parameters().stream().allMatch(LayerDropTest::zeroGrad);
                    assertEquals(skip[l], zero, "step " + s + ", block " + l + (skip[l] ? " skipped" : " ran"));
                    skipped += skip[l] ? 1 : 0;
                }
                // After a step that skipped blocks the model runs whole again: evaluating equals evaluating
                // with every block switched on explicitly.
                double[] eval = t.evaluate();
                t.model().skipBlocks(new boolean[4]);
                assertArrayEquals(t.evaluate(), eval, "evaluation after step " + s);
            }
        }
        assertTrue(skipped > 0, "some block was skipped");
    }

    private static boolean zeroGrad(Param p) {
        for (float g : p.grad()) {
            if (g != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aResumedLayerDropRunContinuesExactly() throws IOException {
        TrainData data = TinyRuns.data();
        TrainConfig c = TinyRuns.config().toBuilder().nLayer(4).layerDrop(0.3).build();
        List<Double> whole = losses(Trainer.start(c, data, dir.resolve("whole"), false));
        List<Double> plain = losses(Trainer.start(c.toBuilder().layerDrop(0).build(), data, null, false));
        assertNotEquals(plain, whole, "LayerDrop changes the run");
        assertFalse(whole.stream().anyMatch(v -> !Double.isFinite(v)));

        Path out = dir.resolve("split");
        List<Double> joined = losses(Trainer.start(c.toBuilder().iters(4).build(), data, out, false));
        joined.addAll(losses(Trainer.resume(out, data, k -> k.toBuilder().iters(8).build())));
        assertEquals(whole, joined, "resumed = uninterrupted, step for step");
        assertArrayEquals(Files.readAllBytes(dir.resolve("whole").resolve("model.safetensors")),
                Files.readAllBytes(out.resolve("model.safetensors")));
    }

    private static List<Double> losses(Trainer trainer) throws IOException {
        List<Double> losses = new ArrayList<>();
        try (Trainer t = trainer) {
            t.run(new Trainer.Listener() {
                @Override
                public void onStep(Trainer.StepStats s, double tokensPerS) {
                    losses.add(s.loss());
                }
            });
        }
        return losses;
    }
}
