package dev.jgpt.kernel;

/**
 * The reproducible row split of the normalisation backward passes, which sum a per-column gradient
 * (dγ, dβ) over all rows. Rows are cut into a fixed number of blocks that depends only on the row count;
 * each block sums its rows into a private partial, and the partials are then added in block order. No
 * two threads write the same element, and the result does not depend on the thread count.
 */
final class RowBlocks {
    /** At most this many blocks: enough to split across any thread count, few enough to add cheaply. */
    private static final int MAX_BLOCKS = 128;

    @FunctionalInterface
    interface Body {
        /** Processes rows [r0, r1) into the partials of block b (at offset b·C). */
        void run(int b, int r0, int r1);
    }

    /** Each calling thread's partials, reused from call to call (a training step would otherwise allocate them per norm). */
    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[2][0]);

    private RowBlocks() {}

    /**
     * Zeroed room for the partials of rows of C elements: the calling thread's own array number
     * {@code slot} (0 or 1: a pass may need two at once), valid until its next call with that slot.
     */
    static float[] partials(int slot, int rows, int C) {
        int n = count(rows) * C;
        float[][] mine = PARTIALS.get();
        if (mine[slot].length < n) {
            mine[slot] = new float[n];
        } else {
            java.util.Arrays.fill(mine[slot], 0, n, 0f);
        }
        return mine[slot];
    }

    /** How many blocks rows are cut into. */
    static int count(int rows) {
        return Math.min(MAX_BLOCKS, Math.max(1, rows / 8));
    }

    /** Runs body over every block of rows (rows of C elements each), in parallel over blocks. */
    static void forEach(int rows, int C, Body body) {
        int blocks = count(rows);
        int minBlocks = (int) Math.max(1, blocks * 4096L / Math.max(1L, (long) rows * C));
        Parallel.forRange(blocks, minBlocks, 4, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                body.run(b, (int) ((long) rows * b / blocks), (int) ((long) rows * (b + 1) / blocks));
            }
        });
    }

    /** dst[0..C) += Σ_b partials[b·C ..], added in block order. */
    static void addPartials(float[] dst, float[] partials, int rows, int C) {
        for (int b = 0, blocks = count(rows); b < blocks; b++) {
            Vec.add(dst, 0, partials, b * C, C);
        }
    }
}
