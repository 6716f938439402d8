package dev.jgpt.train;

import dev.jgpt.model.GPT;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Takes a run's optimizer steps for a {@link Trainer}, which evaluates, logs and checkpoints around them.
 * The trainer's own engine, {@link LocalSteps}, computes every micro-batch in this process; the spark module's
 * engines spread them over a cluster. An engine owns the optimisation state (AdamW's moments, and whatever
 * else its way of training keeps) and saves it into each checkpoint's {@code train_state/}.
 */
public interface StepEngine extends AutoCloseable {
    /** Makes the engine of a run: {@code model} is the one it trains, in place. */
    @FunctionalInterface
    interface Factory {
        StepEngine create(GPT model, TrainConfig config, TrainData data) throws IOException;
    }

    /**
     * Takes steps {@code from}, {@code from + 1}, ..., at least one and none at or past {@code limit}, and
     * returns their stats in order. Throws {@link TrainingDivergedException} if a loss or gradient is not finite.
     */
    List<Trainer.StepStats> advance(int from, int limit);

    /** Writes the optimisation state after the steps taken so far into a checkpoint's {@code train_state/}. */
    void save(Path stateDir) throws IOException;

    /** Reads back what {@link #save} wrote for a run at {@code step}; a mismatch is one clear error. */
    void load(Path stateDir, int step) throws IOException;

    @Override
    default void close() {
    }
}
