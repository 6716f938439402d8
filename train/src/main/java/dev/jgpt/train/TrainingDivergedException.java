package dev.jgpt.train;

import java.nio.file.Path;

/** The loss or the gradient norm became NaN or infinite: the run stopped before applying that step. */
public final class TrainingDivergedException extends RuntimeException {
    private final int step;
    private final String what;
    private final int lastCheckpointStep;

    /** Divergence at 0-based step {@code step}; {@code what} says which number was not finite. */
    public TrainingDivergedException(int step, String what, Throwable cause) {
        this(step, what, null, -1, cause);
    }

    TrainingDivergedException(int step, String what, Path out, int lastCheckpointStep, Throwable cause) {
        super("training diverged at step " + step + ": " + what
                + (out == null ? "" : lastCheckpointStep < 0
                ? "; no checkpoint was written yet in " + out
                : "; the last good checkpoint (step " + lastCheckpointStep + ") is kept in " + out), cause);
        this.step = step;
        this.what = what;
        this.lastCheckpointStep = lastCheckpointStep;
    }

    /** The same divergence, with the run directory and its last checkpoint named. */
    TrainingDivergedException in(Path out, int lastCheckpoint) {
        return new TrainingDivergedException(step, what, out, lastCheckpoint, getCause());
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
