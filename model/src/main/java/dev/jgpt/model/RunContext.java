package dev.jgpt.model;

import java.util.SplittableRandom;

/** State shared by the layers of one model: train/eval mode, the dropout random stream, the KV cache. */
public final class RunContext {
    boolean training;
    SplittableRandom rng;
    final float dropout;
    /** Set while an {@link InferenceSession} runs: attention reads and appends keys/values here. */
    KVCache cache;
    /** The absolute position of the first row of the current forward (0 without a cache). */
    int position;

    RunContext(float dropout, long seed) {
        this.dropout = dropout;
        this.rng = new SplittableRandom(seed);
    }

    boolean dropoutActive() {
        return training && dropout > 0f;
    }
}
