package dev.jgpt.spark;

import dev.jgpt.train.TrainConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DiLoCo trains as well as synchronous training: 2 workers on the baby preset, 25 local steps per round,
 * against one process that consumes the same tokens (grad-accum 2: the same 2 × 12 × 64 tokens per step).
 * 300 steps (warmup 30, cosine to 1e-4): long enough for the loss to reach the regime where words form.
 */
@Tag("slow")
class DilocoQualityTest {
    @Test
    void twoWorkersReachTheSingleWorkerValLossAtTheSameTokens() throws IOException {
        TrainConfig.Builder baby = TrainConfig.preset(TrainConfig.BABY).toBuilder().data(SparkRuns.tokens().toString())
                .iters(300).warmup(30).evalInterval(300).evalIters(20).threads(1).samples(0);
        SparkRuns.Run diloco = SparkRuns.spark(baby.workers(2).sync(TrainConfig.Sync.DILOCO).syncEvery(25).build(), null);
        SparkRuns.Run single = SparkRuns.local(baby.workers(1).sync(TrainConfig.Sync.STEP).gradAccum(2).build(), null);
        double a = diloco.result().valLoss(), b = single.result().valLoss();
        System.out.printf("val loss after 300 steps (%,d tokens): DiLoCo 2 workers H=25 %.4f, one process %.4f%n",
                300 * 2 * 12 * 64, a, b);
        assertTrue(b < 2.6, "the single-worker run trains: val " + b);
        assertTrue(Math.abs(a - b) <= 0.05, "DiLoCo val " + a + " vs single-worker " + b);
    }
}
