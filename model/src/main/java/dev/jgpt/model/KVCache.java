package dev.jgpt.model;

import java.util.Arrays;

/**
 * One sequence's keys and values, every layer, for positions 0..capacity−1: layer l's keys are
 * [positions × width], row p holding position p (values likewise). Owned by whoever runs the sequence
 * ({@link InferenceSession}, a server slot); attention writes the new positions' rows during a cached
 * forward ({@link Batch#cached}).
 *
 * <p>A layer's rows are allocated as positions arrive ({@link #keys}, {@link #values}: twice the rows each time,
 * at least {@link #MIN_ROWS}, at most the capacity), not all at once: GPT-2's full context is 75 MB of cache, fresh
 * memory that the first token does not need and the system takes long to supply (0.1–0.4 s of CPU on a VM).
 * Growing copies the rows written so far, so what attention reads is the same either way.
 */
public final class KVCache {
    /** Rows a layer starts with: a short prompt's, so that a session's first steps grow nothing. */
    static final int MIN_ROWS = 64;

    private final float[][] k, v;
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
        if ((long) capacity * width > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + capacity + " × " + width + " floats is too large for one array");
        }
        k = new float[config.nLayer()][0];
        v = new float[config.nLayer()][0];
    }

    /** A cache for the model's whole context. */
    public KVCache(GPTConfig config) {
        this(config, config.blockSize());
    }

    /** Layer {@code layer}'s keys, holding at least positions 0..positions−1 (rows [positions × width] or more). */
    float[] keys(int layer, int positions) {
        reserve(layer, positions);
        return k[layer];
    }

    /** Layer {@code layer}'s values, holding at least positions 0..positions−1. */
    float[] values(int layer, int positions) {
        reserve(layer, positions);
        return v[layer];
    }

    /** The positions layer {@code layer} has room for now (its rows allocated so far). */
    int allocatedPositions(int layer) {
        return k[layer].length / width;
    }

    private void reserve(int layer, int positions) {
        if (positions < 0 || positions > capacity) {
            throw new IllegalArgumentException("KV cache: " + positions + " positions outside its capacity of " + capacity);
        }
        int rows = allocatedPositions(layer);
        if (positions > rows) {
            int grown = Math.min(capacity, Math.max(positions, Math.max(MIN_ROWS, 2 * rows)));
            k[layer] = Arrays.copyOf(k[layer], grown * width);
            v[layer] = Arrays.copyOf(v[layer], grown * width);
        }
    }
}
