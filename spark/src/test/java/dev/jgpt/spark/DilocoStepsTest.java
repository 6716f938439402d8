package dev.jgpt.spark;

import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DilocoStepsTest {
    @TempDir
    Path dir;

    /**
     * One worker with outer lr 1 and no momentum sets θ ← θ − (θ − θ_w) = θ_w: plain training, its inner
     * AdamW state carried across rounds. Equal up to that subtraction's rounding.
     */
    @Test
    void oneWorkerWithOuterLrOneIsPlainTraining() throws IOException {
        TrainConfig.Builder b = SparkRuns.small().iters(12).evalInterval(12).dropout(0f);
        SparkRuns.Run diloco = SparkRuns.spark(b.sync(TrainConfig.Sync.DILOCO).syncEvery(4).outerLr(1).outerMomentum(0)
                .build(), null);
        SparkRuns.Run plain = SparkRuns.local(b.sync(TrainConfig.Sync.STEP).build(), null);
        assertEquals(12, diloco.steps().size());
        double diff = SparkRuns.maxRelativeDifference(plain.losses(), diloco.losses());
        assertTrue(diff < 1e-5, "loss curves differ by " + diff);
        assertTrue(SparkRuns.weightDifference(plain.weights(), diloco.weights()) < 1e-4);
    }

    /**
     * A resumed DiLoCo run continues exactly: the checkpoint holds the shared weights, the outer momentum and
     * every worker's inner AdamW state.
     */
    @Test
    void resumeContinuesExactly() throws IOException {
        TrainConfig cfg = SparkRuns.small().iters(12).evalInterval(6).workers(2).sync(TrainConfig.Sync.DILOCO)
                .syncEvery(3).build();
        SparkRuns.Run whole = SparkRuns.spark(cfg, dir.resolve("whole"));

        Path out = dir.resolve("split");
        SparkRuns.Run first = SparkRuns.spark(cfg.toBuilder().iters(6).lrDecayIters(12).build(), out);
        assertTrue(Files.isRegularFile(out.resolve("train_state").resolve(DilocoSteps.MOMENTUM)));
        assertTrue(Files.isRegularFile(out.resolve("train_state").resolve(DilocoSteps.workerFile(1))));
        SparkRuns.Run second;
        try (var data = SparkRuns.data();
             Trainer t = Trainer.resume(out, data, c -> c.toBuilder().iters(12).build(), SparkRuns.local2().engines())) {
            assertEquals(6, t.currentStep());
            second = SparkRuns.run(t);
        }
        List<Double> joined = new ArrayList<>(first.losses());
        joined.addAll(second.losses());
        assertEquals(whole.losses(), joined);
        assertTrue(SparkRuns.sameWeights(whole.weights(), second.weights()), "identical final weights");
    }
}
