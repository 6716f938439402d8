package dev.jgpt.train;

import java.nio.file.Path;

/** The loss or the gradient norm became NaN or infinite: the run stopped before applying that step. */
public final class TrainingDivergedException extends RuntimeException {
    private final int step;
    private final int lastCheckpointStep;

    TrainingDivergedException(int step, String what, Path out, int lastCheckpointStep, Throwable cause) {
        super("training diverged at step " + step + ": " + what
                + (out == null ? "" : lastCheckpointStep < 0
                ? "; no checkpoint was written yet in " + out
                : "; the last good checkpoint (step " + lastCheckpointStep + ") is kept in " + out), cause);
        this.step = step;
        this.lastCheckpointStep = lastCheckpointStep;
    }

    /** The 0-based step whose loss or gradient was not finite. */
    public int step() {
        return step;
    }

    /** The step of the last checkpoint written, or -1. */
    public int lastCheckpointStep() {
        return lastCheckpointStep;
    }
}
