package dev.jgpt.model;

/**
 * One sequence's keys and values, every layer, for positions 0..capacity−1: layer l's keys are
 * {@code k[l]} [capacity × width], row p holding position p (values likewise). Owned by whoever runs
 * the sequence ({@link InferenceSession}, a server slot); attention writes the new positions' rows
 * during a cached forward ({@link Batch#cached}).
 */
public final class KVCache {
    final float[][] k, v;
    public final int capacity;
    final int width;

    /** A cache for {@code capacity} positions of a model with this config. */
    public KVCache(GPTConfig config, int capacity) {
        if (capacity <= 0 || capacity > config.blockSize()) {
            throw new IllegalArgumentException("KV cache: capacity " + capacity + " must be in 1.." + config.blockSize()
                    + " (the model's context)");
        }
        this.capacity = capacity;
        this.width = config.nEmbd();
        long n = (long) capacity * width;
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + capacity + " × " + width + " floats is too large for one array");
        }
        k = new float[config.nLayer()][(int) n];
        v = new float[config.nLayer()][(int) n];
    }

    /** A cache for the model's whole context. */
    public KVCache(GPTConfig config) {
        this(config, config.blockSize());
    }
}
