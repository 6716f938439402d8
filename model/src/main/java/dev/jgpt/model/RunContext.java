package dev.jgpt.model;

/**
 * State shared by the layers of one model: train/eval mode and the dropout random stream, the floats of
 * {@code new SplittableRandom(dropoutSeed)} of which {@code dropoutDrawn} have been used (each dropout layer draws
 * its mask from where the last one stopped, on all threads: {@link dev.jgpt.kernel.Dropout}).
 */
final class RunContext {
    boolean training;
    long dropoutSeed, dropoutDrawn;
    final float dropout;

    RunContext(float dropout, long seed) {
        this.dropout = dropout;
        this.dropoutSeed = seed;
    }

    boolean dropoutActive() {
        return training && dropout > 0f;
    }
}
