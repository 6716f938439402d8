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
 */
record WorkerSpec(String configJson, int vocabSize, String trainUri, String valUri, int threads)
        implements Serializable {

    TrainConfig config() {
        try {
            return TrainConfig.fromJson(new ObjectMapper().readTree(configJson));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Fault injection for tests: throws in the first attempt of worker {@code worker}'s task if the job's local
     * property {@link SparkTraining#FAIL_FIRST_ATTEMPT} is {@code "STEP:WORKER"} for this step and worker.
     */
    static void injectFault(int step, int worker) {
        TaskContext task = TaskContext.get();
        if (task != null && task.attemptNumber() == 0
                && (step + ":" + worker).equals(task.getLocalProperty(SparkTraining.FAIL_FIRST_ATTEMPT))) {
            throw new IllegalStateException("injected failure: worker " + worker + " at step " + step
                    + " (task attempt " + task.attemptNumber() + ")");
        }
    }
}
