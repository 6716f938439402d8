package dev.jgpt.train;

import dev.jgpt.model.GPT;

import java.util.SplittableRandom;

/**
 * LayerDrop (Fan et al. 2020), stochastic depth with a constant rate (Huang et al. 2016): at each training
 * step every block is skipped with probability p, through {@link GPT#skipBlocks} (the identity on the
 * residual stream, forward and backward alike). Which blocks a step skips depends only on (seed, step), so
 * a resumed run skips exactly the blocks an uninterrupted one would. Evaluation runs every block.
 *
 * <p>A skipped block's gradient is zero for that step; AdamW still moves it by its momentum and weight decay,
 * as for any zero gradient (PyTorch's LayerDrop leaves such parameters out of the step instead).
 */
public final class LayerDrop {
    private LayerDrop() {
    }

    /** The blocks that step {@code step} of a run with this seed skips, for p in [0, 1); none when p = 0. */
    public static boolean[] mask(double p, int blocks, long seed, long step) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("layer drop: the probability must be in [0, 1), got " + p);
        }
        SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, Seeds.LAYER_DROP, step, 0));
        boolean[] skip = new boolean[blocks];
        for (int l = 0; l < blocks; l++) {
            skip[l] = rng.nextDouble() < p;
        }
        return skip;
    }
}
