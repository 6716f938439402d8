package dev.jgpt.train;

import dev.jgpt.common.TokenSequence;
import java.util.SplittableRandom;

/**
 * Random training windows as in nanoGPT's get_batch: B windows of T+1 consecutive tokens at uniform
 * random starts; inputs are the first T, targets the last T. The starts depend only on
 * (seed, step, micro-step), so a resumed run draws the same batches as an uninterrupted one.
 * Evaluation batches depend on (seed, split, index) only: every evaluation scores the same windows,
 * which makes successive evaluations comparable.
 */
public final class Batcher {
    public enum Split { TRAIN, VAL }

    private final TokenSequence train, val;
    private final int B, T;
    private final long seed;
    private final int[] window;

    public Batcher(TokenSequence train, TokenSequence val, int batchSize, int blockSize, long seed) {
        this.B = batchSize;
        this.T = blockSize;
        checkSplits(train, val, blockSize);
        this.train = train;
        this.val = val;
        this.seed = seed;
        this.window = new int[blockSize + 1];
    }

    /** Each split must hold at least one window of {@code blockSize} + 1 tokens. */
    public static void checkSplits(TokenSequence train, TokenSequence val, int blockSize) {
        for (TokenSequence t : new TokenSequence[] {train, val}) {
            if (t.size() <= blockSize) {
                throw new IllegalArgumentException("the " + (t == train ? "train" : "val") + " split has " + t.size()
                        + " tokens; it needs more than the block size (" + blockSize + ")");
            }
        }
    }

    public int batchSize() {
        return B;
    }

    public int blockSize() {
        return T;
    }

    /** Fills x and y ([B·T] each) with the batch of 0-based optimizer step {@code step}, micro-step {@code micro}. */
    public void trainBatch(int step, int micro, int[] x, int[] y) {
        fill(train, Seeds.derive(seed, Seeds.TRAIN_BATCH, step, micro), x, y);
    }

    /** Fills x and y with evaluation batch {@code index} of {@code split}. */
    public void evalBatch(Split split, int index, int[] x, int[] y) {
        TokenSequence t = split == Split.TRAIN ? train : val;
        long purpose = split == Split.TRAIN ? Seeds.EVAL_TRAIN : Seeds.EVAL_VAL;
        fill(t, Seeds.derive(seed, purpose, 0, index), x, y);
    }

    private void fill(TokenSequence tokens, long batchSeed, int[] x, int[] y) {
        if (x.length < B * T || y.length < B * T) {
            throw new IllegalArgumentException("batcher: x and y need " + B + "×" + T + " = " + B * T
                    + " slots, got " + x.length + " and " + y.length);
        }
        SplittableRandom rng = new SplittableRandom(batchSeed);
        long bound = tokens.size() - T;
        for (int b = 0; b < B; b++) {
            long start = rng.nextLong(bound);
            tokens.read(start, window, 0, T + 1);
            System.arraycopy(window, 0, x, b * T, T);
            System.arraycopy(window, 1, y, b * T, T);
        }
    }
}
