package dev.jgpt.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.train.TrainConfig;
import org.apache.spark.TaskContext;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * Everything a worker task needs to rebuild its side of a run, small enough to ship with every task: the
 * run's config (as its JSON), the vocabulary size, the token files' Hadoop URIs, and kernel threads per task.
 *
 * @param failFirstAttempt for fault-injection tests, {@code "STEP:WORKER"}: the first attempt of that worker's
 *                         task fails at the start of that step, so Spark retries it; {@code null} in real runs
 */
record WorkerSpec(String configJson, int vocabSize, String trainUri, String valUri, int threads,
                  String failFirstAttempt) implements Serializable {

    TrainConfig config() {
        try {
            return TrainConfig.fromJson(new ObjectMapper().readTree(configJson));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Throws in the first attempt of worker {@code worker}'s task if this spec injects a failure at {@code step}. */
    void injectFault(int step, int worker) {
        TaskContext task = TaskContext.get();
        if (failFirstAttempt != null && failFirstAttempt.equals(step + ":" + worker)
                && task != null && task.attemptNumber() == 0) {
            throw new IllegalStateException("injected failure: worker " + worker + " at step " + step
                    + " (task attempt " + task.attemptNumber() + ")");
        }
    }
}
