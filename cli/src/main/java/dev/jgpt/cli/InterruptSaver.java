package dev.jgpt.cli;

import dev.jgpt.train.MetricsLog;
import dev.jgpt.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Ctrl-C during {@code jgpt train}: the step under way finishes, a checkpoint of it is written, and
 * the run ends with {@link Interrupted} (exit code 130) naming the step and how to continue. A second
 * Ctrl-C quits at once, naming the checkpoint that is kept.
 */
final class InterruptSaver implements Trainer.Listener, AutoCloseable {
    static final int EXIT_INTERRUPTED = 130;

    /** Training stopped on Ctrl-C; {@code step} is the checkpoint it left (−1: none). */
    static final class Interrupted extends RuntimeException {
        final int step;

        Interrupted(int step, String message) {
            super(message);
            this.step = step;
        }
    }

    private final PrintStream err;
    private final CtrlC ctrlC;
    private volatile boolean requested;
    private volatile Trainer trainer;
    private volatile int checkpointStep = -1;
    private volatile int savingStep = -1;

    InterruptSaver(PrintStream err) {
        this.err = err;
        this.ctrlC = new CtrlC(this::interrupt);
    }

    /** What Ctrl-C does (also called by tests, as a signal would). */
    void interrupt() {
        if (!requested) {
            requested = true;
            err.println();
            err.println("jgpt train: interrupted: stopping after this step and saving a checkpoint "
                    + "(press Ctrl-C again to quit at once)");
            err.flush();
            return;
        }
        Trainer t = trainer;
        String where = t == null ? "" : " in " + t.out();
        String kept = checkpointStep < 0 ? "no checkpoint of this run was written yet"
                : "the checkpoint of step " + checkpointStep + " is kept" + where;
        if (savingStep >= 0) {
            kept += " (or that of step " + savingStep + ", if its save completed)";
        }
        err.println("jgpt train: interrupted again: quitting now; " + kept
                + (checkpointStep < 0 || t == null ? "" : "; continue with: jgpt train --resume --out " + t.out()));
        err.flush();
        Runtime.getRuntime().halt(EXIT_INTERRUPTED);
    }

    @Override
    public void onStart(Trainer trainer, int startStep) {
        this.trainer = trainer;
        if (startStep > 0) {
            checkpointStep = startStep;   // a resumed run starts from a checkpoint
        }
    }

    @Override
    public void onStep(Trainer.StepStats stats, double tokensPerS) {
        stopIfRequested();
    }

    @Override
    public void onEval(MetricsLog.Point point) {
        stopIfRequested();
    }

    @Override
    public void onCheckpoint(int step, Path dir) {
        checkpointStep = step;
        stopIfRequested();
    }

    @Override
    public void onSample(int index, String text) {
        stopIfRequested();
    }

    private void stopIfRequested() {
        if (!requested) {
            return;
        }
        Trainer t = trainer;
        int step = t.currentStep();
        if (checkpointStep != step) {
            savingStep = step;
            try {
                t.checkpoint();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            checkpointStep = step;
            savingStep = -1;
        }
        throw new Interrupted(step, "interrupted at step " + step + ": the checkpoint of step " + step + " is in "
                + t.out() + "; continue with: jgpt train --resume --out " + t.out());
    }

    @Override
    public void close() {
        ctrlC.close();
    }
}
