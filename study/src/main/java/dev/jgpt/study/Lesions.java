package dev.jgpt.study;

import dev.jgpt.model.GPT;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Lesions of a trained model (Veit, Wilber &amp; Belongie 2016): delete blocks at test time and measure the loss.
 * A deleted block is the identity ({@link GPT#skipBlocks}): its output is its input, and the wiring between blocks
 * (dense's averages, unet's skips) stays. That is the same operation for every layout ({@link #DEFINITION} says
 * what it means for each); for the plain stack ({@code none}, no skip path) it is the layer deletion Veit et al.
 * applied to VGG: the next layer receives the deleted layer's input.
 *
 * <p>Measured: the loss with each single block deleted, and for k = 0..L the loss with k blocks deleted, over
 * every k-subset when there are at most {@code draws} of them (the exact mean over a uniformly random subset),
 * else over {@code draws} random k-subsets in a balanced design ({@link #subsets}). k = 1 reuses the single
 * deletions.
 */
public final class Lesions {
    /** What deleting a block means, and why, for reports. */
    public static final String DEFINITION = "A **deleted block is the identity**: its input goes on as its output "
            + "(`GPT.skipBlocks`, the mechanism LayerDrop trains with), and whatever wires blocks together stays. For the "
            + "x + F layouts (pre-LN, post-LN, sandwich, DeepNorm, ReZero) that removes the block's sublayers, norms and "
            + "gates included, and leaves the skip path. **highway**: the same as closing both of the block's gates "
            + "(g = 0, carry only: x ← x). **dense**: the block's output y_{l+1} becomes its input x_l, so every later "
            + "depth-weighted average reads x_l where it read y_{l+1}; the averages are wiring between blocks, not part of "
            + "one, and stay. Dropping y_{l+1} from the averages instead would also drop the stream itself from the average "
            + "right after the block, whose weight on y_{l+1} carries it (1 at init). **unet**: the block's output becomes its "
            + "input and the skip weights stay, so a deleted first-half block's long skip carries that block's input to its "
            + "mirror. For dense and unet, as for pre-LN, deleting a block is the same as zeroing its two output projections "
            + "(a test checks it). The plain stack `none` (x ← F(LN(x)), no skip path) is deleted the same way: the next "
            + "block receives the deleted block's input, which is how Veit et al. deleted a layer of VGG. The alternatives "
            + "would not measure the same thing: zeroing the block's output would hand the next LN a zero vector, so every "
            + "later block would see a constant and the prediction would ignore the text (a collapse built into the "
            + "definition), and keeping the block's norms would not delete it. One definition for every layout means "
            + "differences measure the architecture. **Damage** is relative: (lesioned loss − intact loss) / (unigram loss "
            + "− intact loss); 0 = no harm, 100% = no better than token frequencies.";

    /** At most this many blocks: a subset is a bit mask in a long. */
    public static final int MAX_BLOCKS = 62;

    /**
     * The loss after deleting k blocks, for each of several subsets.
     *
     * @param blocks the deleted blocks of each subset (0-based, ascending)
     * @param losses the loss with those blocks deleted
     */
    public record Deletions(int k, int[][] blocks, double[] losses) {
        public double mean() {
            return Stats.mean(losses);
        }

        /** Standard deviation over the subsets (0 for one subset). */
        public double sd() {
            return Stats.sd(losses);
        }

        public double min() {
            return java.util.Arrays.stream(losses).min().orElse(Double.NaN);
        }

        public double max() {
            return java.util.Arrays.stream(losses).max().orElse(Double.NaN);
        }
    }

    /**
     * A model's lesion measurements.
     *
     * @param loss      with every block (k = 0)
     * @param reference the loss that counts as having learned nothing beyond character (token) frequencies:
     *                  the unigram loss; {@link #relative} measures damage as a fraction of the way to it
     * @param single    the loss with block l deleted, l = 0..L−1
     * @param byK       k = 0..L
     */
    public record Result(double loss, double reference, double[] single, List<Deletions> byK) {
        public int depth() {
            return single.length;
        }

        /**
         * How far a lesioned loss is from the intact loss toward the reference: 0 = no harm, 1 = as bad as the
         * unigram model. NaN when the model is not below the reference (nothing learned to lose).
         */
        public double relative(double lesioned) {
            double gap = reference - loss;
            return gap > 0 ? (lesioned - loss) / gap : Double.NaN;
        }

        /** {@link #relative} of each single deletion. */
        public double[] singleRelative() {
            double[] r = new double[single.length];
            for (int l = 0; l < r.length; l++) {
                r[l] = relative(single[l]);
            }
            return r;
        }

        /** {@link #relative} of the mean loss at each k = 0..L. */
        public double[] meanRelativeByK() {
            return byK.stream().mapToDouble(d -> relative(d.mean())).toArray();
        }
    }

    private Lesions() {
    }

    /**
     * Measures a model's lesions with {@code loss} (the same fixed batches for every subset, so differences are
     * paired), then runs every block again. {@code seed} picks the random subsets.
     */
    public static Result measure(GPT model, ToDoubleFunction<GPT> loss, double reference, int draws, long seed) {
        return measure(model, loss, reference, draws, seed, (done, total) -> { });
    }

    /** Hears how many of the subsets have been evaluated. */
    public interface Progress {
        void evaluated(int done, int total);
    }

    /** How many losses {@link #measure} evaluates for L blocks: intact, L singles, then min(draws, C(L, k)) for k ≥ 2. */
    public static int evaluations(int L, int draws) {
        int n = 1 + L;
        for (int k = 2; k <= L; k++) {
            n += (int) Math.min(draws, binomial(L, k));
        }
        return n;
    }

    /** As {@link #measure(GPT, ToDoubleFunction, double, int, long)}, telling {@code progress} as it goes. */
    public static Result measure(GPT model, ToDoubleFunction<GPT> loss, double reference, int draws, long seed,
                                 Progress progress) {
        int L = model.blocks().size();
        if (L > MAX_BLOCKS) {
            throw new IllegalArgumentException("lesion: at most " + MAX_BLOCKS + " blocks, the model has " + L);
        }
        if (draws < 1) {
            throw new IllegalArgumentException("lesion: need at least 1 draw per k, got " + draws);
        }
        Map<Long, Double> cache = new HashMap<>();
        int total = evaluations(L, draws);
        ToDoubleFunction<Long> lossOf = mask -> cache.computeIfAbsent(mask, m -> {
            boolean[] skip = new boolean[L];
            for (int l = 0; l < L; l++) {
                skip[l] = (m >>> l & 1) != 0;
            }
            model.skipBlocks(skip);
            double v = loss.applyAsDouble(model);
            progress.evaluated(cache.size() + 1, total);
            return v;
        });
        try {
            double intact = lossOf.applyAsDouble(0L);
            double[] single = new double[L];
            for (int l = 0; l < L; l++) {
                single[l] = lossOf.applyAsDouble(1L << l);
            }
            SplittableRandom rng = new SplittableRandom(seed);
            List<Deletions> byK = new ArrayList<>();
            for (int k = 0; k <= L; k++) {
                List<Long> masks = subsets(L, k, draws, rng);
                int[][] blocks = new int[masks.size()][];
                double[] losses = new double[masks.size()];
                for (int i = 0; i < masks.size(); i++) {
                    blocks[i] = blocks(masks.get(i));
                    losses[i] = lossOf.applyAsDouble(masks.get(i));
                }
                byK.add(new Deletions(k, blocks, losses));
            }
            return new Result(intact, reference, single, byK);
        } finally {
            model.skipBlocks(null);
        }
    }

    /**
     * Every k-subset of L blocks when there are at most {@code draws}, else {@code draws} random ones in a balanced
     * design: windows of k consecutive blocks around a random cyclic order of the blocks, their starts spread
     * evenly (a new random order for each further L windows). Each window is, on its own, a uniformly random
     * k-subset, so the mean over them estimates the expectation without bias; and every block falls in about k/L
     * of them (within one), so one essential block cannot make the mean swing with how often the draws hit it.
     * Windows with distinct starts on one cycle are distinct; a repeat across orders is dropped.
     */
    static List<Long> subsets(int L, int k, int draws, SplittableRandom rng) {
        if (k == 0) {
            return List.of(0L);
        }
        List<Long> out = new ArrayList<>();
        if (binomial(L, k) <= draws) {
            // Gosper's hack: the k-bit masks below 2^L in increasing order
            for (long m = (1L << k) - 1; m < 1L << L; ) {
                out.add(m);
                long lowest = m & -m, ripple = m + lowest;
                m = (((ripple ^ m) >>> 2) / lowest) | ripple;
            }
            return out;
        }
        LinkedHashSet<Long> windows = new LinkedHashSet<>();
        int[] order = new int[L];
        for (int i = 0; i < draws; i++) {
            int round = i / L, within = i % L, inRound = Math.min(L, draws - round * L);
            if (within == 0) {
                for (int j = 0; j < L; j++) { // a random order: Fisher–Yates
                    order[j] = j;
                }
                for (int j = L - 1; j > 0; j--) {
                    int r = rng.nextInt(j + 1), t = order[j];
                    order[j] = order[r];
                    order[r] = t;
                }
            }
            int start = within * L / inRound;
            long m = 0;
            for (int j = 0; j < k; j++) {
                m |= 1L << order[(start + j) % L];
            }
            windows.add(m);
        }
        out.addAll(windows);
        return out;
    }

    static double binomial(int n, int k) {
        double c = 1;
        for (int i = 1; i <= k; i++) {
            c = c * (n - k + i) / i;
        }
        return c;
    }

    private static int[] blocks(long mask) {
        int[] b = new int[Long.bitCount(mask)];
        for (int l = 0, i = 0; l < 64; l++) {
            if ((mask >>> l & 1) != 0) {
                b[i++] = l;
            }
        }
        return b;
    }
}
