package dev.jgpt.model;

import dev.jgpt.kernel.RopeTable;

/**
 * The model's rotary angles, shared by every attention layer and grown on demand: a Llama 3 context
 * of 131072 positions need not be tabulated for a 64-token prompt.
 */
final class RotaryTable {
    private final GPTConfig cfg;
    private RopeTable table;
    private int size;

    RotaryTable(GPTConfig cfg) {
        this.cfg = cfg;
    }

    /** A table covering positions 0..maxPosition. */
    RopeTable covering(int maxPosition) {
        if (maxPosition >= size) {
            size = (int) Math.min(cfg.blockSize(), Math.max(256, Integer.highestOneBit(maxPosition) * 2L));
            table = new RopeTable(cfg.headDim(), cfg.ropeTheta(), cfg.ropeScaling(), size);
        }
        return table;
    }
}
