package dev.jgpt.model;

import java.util.SplittableRandom;

/** State shared by the layers of one model: train/eval mode and the dropout random stream. */
final class RunContext {
    boolean training;
    SplittableRandom rng;
    final float dropout;

    RunContext(float dropout, long seed) {
        this.dropout = dropout;
        this.rng = new SplittableRandom(seed);
    }

    boolean dropoutActive() {
        return training && dropout > 0f;
    }
}
