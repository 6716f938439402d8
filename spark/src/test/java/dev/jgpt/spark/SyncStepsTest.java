package dev.jgpt.spark;

import dev.jgpt.train.TrainConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyncStepsTest {
    /**
     * local[2]: 2 workers × batch B is one process with batch B and grad-accum 2, up to the order of one float
     * addition per gradient element (the workers' gradients are added after, not during, backward).
     */
    @Test
    void twoWorkersEqualGradAccumTwo() throws IOException {
        TrainConfig spark = SparkRuns.small().workers(2).sync(TrainConfig.Sync.STEP).build();
        TrainConfig local = SparkRuns.small().gradAccum(2).build();
        SparkRuns.Run a = SparkRuns.spark(spark, null);
        SparkRuns.Run b = SparkRuns.local(local, null);
        assertEquals(50, a.steps().size());
        double lossDiff = SparkRuns.maxRelativeDifference(b.losses(), a.losses());
        System.out.printf("sync step, 2 workers vs grad-accum 2 over 50 steps: loss max rel diff %.2e, weights %.2e%n",
                lossDiff, SparkRuns.weightDifference(b.weights(), a.weights()));
        assertTrue(lossDiff <= 1e-5, "loss curves differ by " + lossDiff);
        assertTrue(SparkRuns.weightDifference(b.weights(), a.weights()) < 1e-4);
        assertTrue(a.losses().get(49) < a.losses().get(0) - 0.5, "it trains: " + a.losses());
        assertEquals(b.result().valLoss(), a.result().valLoss(), 1e-4);
    }
}
