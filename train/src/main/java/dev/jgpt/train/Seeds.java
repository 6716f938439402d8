package dev.jgpt.train;

/**
 * Derives independent random seeds from (run seed, purpose, step, index) with SplitMix64's finaliser.
 * Every random draw of a run (batches, dropout masks, skipped blocks, samples) comes from such a seed, so a run is
 * reproducible and a resumed run continues exactly without saving any generator state.
 */
final class Seeds {
    static final long TRAIN_BATCH = 1, EVAL_TRAIN = 2, EVAL_VAL = 3, DROPOUT = 4, SAMPLE = 5, LAYER_DROP = 6;

    private Seeds() {
    }

    static long derive(long seed, long purpose, long step, long index) {
        long h = mix(seed);
        h = mix(h ^ purpose);
        h = mix(h ^ step);
        return mix(h ^ index);
    }

    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
