package dev.jgpt.spark;

import dev.jgpt.train.TrainConfig;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A task that fails once is retried by Spark and recomputed from the same seeds: the run ends the same, bit for bit. */
class FaultTest {
    /** The failure messages of failed task attempts, as Spark reports them. */
    private static final List<String> failures = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void listen() {
        SparkRuns.local2().context().sc().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.reason() instanceof ExceptionFailure f) {
                    failures.add(f.description());
                }
            }
        });
    }

    /** Waits (boundedly: Spark's listener bus is asynchronous) for the injected failure to be reported. */
    private static void assertFailedOnce(String what) throws InterruptedException {
        for (int i = 0; i < 100 && failures.stream().noneMatch(f -> f.contains(what)); i++) {
            Thread.sleep(100);
        }
        assertEquals(1, failures.stream().filter(f -> f.contains(what)).count(), "failures: " + failures);
    }
    @Test
    void syncStepRetriesAFailedTask() throws Exception {
        TrainConfig cfg = SparkRuns.small().iters(8).evalInterval(4).workers(2).build();
        SparkRuns.Run clean = SparkRuns.spark(cfg, null);
        SparkRuns.Run failed = SparkRuns.spark(cfg, null, "5:1");   // worker 1's task of step 5, first attempt
        assertFailedOnce("injected failure: worker 1 at step 5");
        assertEquals(clean.losses(), failed.losses());
        assertTrue(SparkRuns.sameWeights(clean.weights(), failed.weights()), "identical final weights");
    }

    /**
     * The failure strikes inside a round, after the worker's replica took inner steps: the retry starts again
     * from the cached state of the previous round and the round's broadcast weights.
     */
    @Test
    void dilocoRetriesAFailedTaskMidRound() throws Exception {
        TrainConfig cfg = SparkRuns.small().iters(8).evalInterval(8).workers(2).sync(TrainConfig.Sync.DILOCO)
                .syncEvery(4).build();
        SparkRuns.Run clean = SparkRuns.spark(cfg, null);
        SparkRuns.Run failed = SparkRuns.spark(cfg, null, "6:0");   // step 6 = the third inner step of round 2
        assertFailedOnce("injected failure: worker 0 at step 6");
        assertEquals(clean.losses(), failed.losses());
        assertTrue(SparkRuns.sameWeights(clean.weights(), failed.weights()), "identical final weights");
    }
}
