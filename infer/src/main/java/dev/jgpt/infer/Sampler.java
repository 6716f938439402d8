package dev.jgpt.infer;

import dev.jgpt.common.LongHeap;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits.
 *
 * <p>Order of operations (Hugging Face's {@code generate}): repetition penalty → temperature →
 * top-k → top-p → draw. Temperature 0 is greedy: the penalised argmax (lowest id on ties), no
 * randomness used. Each draw takes exactly one number from a seeded {@link SplittableRandom}, so
 * a seed reproduces a sequence.
 *
 * <ul>
 *   <li><b>Repetition penalty</b> θ (CTRL, Keskar et al. 2019; as in llama.cpp and HF): every
 *       distinct token among the recent ones has its logit divided by θ if positive and multiplied
 *       by θ if negative, so θ &gt; 1 always makes it less likely. θ = 1 turns it off.</li>
 *   <li><b>Top-k</b>: keep the k largest logits (0 = off).</li>
 *   <li><b>Top-p</b> (nucleus): keep the smallest set of most likely tokens whose probability
 *       mass is ≥ p (1 = off).</li>
 * </ul>
 *
 * <p>Not thread-safe: one sampler per generated sequence.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final float repeatPenalty;
    private final SplittableRandom random;

    private float[] work = new float[0];
    private int[] seen = new int[0];   // seen[t] == stamp ⇔ t already penalised this call
    private int stamp;
    private long[] keys = new long[0];
    private int[] candIds = new int[0];
    private double[] candProbs = new double[0];

    /**
     * @param temperature   ≥ 0; 0 is greedy
     * @param topK          ≥ 0; 0 keeps every token
     * @param topP          in (0, 1]; 1 keeps every token
     * @param repeatPenalty &gt; 0; 1 is no penalty
     * @param seed          seeds the draws
     */
    public Sampler(float temperature, int topK, float topP, float repeatPenalty, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("sampler: temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("sampler: top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("sampler: top-p must be in (0, 1], got " + topP);
        }
        if (!(repeatPenalty > 0f) || Float.isInfinite(repeatPenalty)) {
            throw new IllegalArgumentException("sampler: repeat penalty must be a finite number > 0, got " + repeatPenalty);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.repeatPenalty = repeatPenalty;
        this.random = new SplittableRandom(seed);
    }

    /** A greedy sampler: argmax, no penalty. */
    public static Sampler greedy() {
        return new Sampler(0f, 0, 1f, 1f, 0);
    }

    /** Samples from {@code logits[0, vocab)} with no repetition history. */
    public int sample(float[] logits, int vocab) {
        return sample(logits, vocab, null, 0, 0);
    }

    /**
     * Samples a token id in {@code [0, vocab)} from {@code logits[0, vocab)} (not modified),
     * penalising the tokens in {@code recent[from, to)}.
     *
     * @throws IllegalArgumentException if vocab is out of range for the logits
     * @throws IllegalStateException    if a logit is NaN (the model diverged)
     */
    public int sample(float[] logits, int vocab, int[] recent, int from, int to) {
        if (vocab <= 0 || vocab > logits.length) {
            throw new IllegalArgumentException("sample: vocab " + vocab + " does not fit logits of length " + logits.length);
        }
        float[] x = work(vocab);
        System.arraycopy(logits, 0, x, 0, vocab);
        for (int i = 0; i < vocab; i++) {
            if (Float.isNaN(x[i])) {
                throw new IllegalStateException("sample: logit of token " + i + " is NaN (the model's output is invalid)");
            }
        }
        if (repeatPenalty != 1f && recent != null) {
            applyRepeatPenalty(x, vocab, recent, from, to);
        }
        if (temperature == 0f || topK == 1) {
            return argmax(x, vocab);
        }
        float invT = 1f / temperature;
        for (int i = 0; i < vocab; i++) {
            x[i] *= invT;
        }
        int n;               // candidates in candIds[0, n), sorted by probability descending if sorted
        boolean sorted;
        if (topK > 0 && topK < vocab) {
            n = topKCandidates(x, vocab, topK);
            sorted = true;
        } else {
            n = vocab;
            ensureCandidates(vocab);
            for (int i = 0; i < vocab; i++) {
                candIds[i] = i;
            }
            sorted = false;
        }
        softmaxCandidates(x, n);
        if (topP < 1f && n > 1) {
            if (!sorted) {
                n = sortForTopP(n);
            }
            double mass = 0;
            int keep = 0;
            while (keep < n) {
                mass += candProbs[keep++];
                if (mass >= topP) {
                    break;
                }
            }
            n = keep;
        }
        return draw(n);
    }

    private void applyRepeatPenalty(float[] x, int vocab, int[] recent, int from, int to) {
        if (seen.length < vocab) {
            seen = new int[vocab];
            stamp = 0;
        }
        if (++stamp == Integer.MAX_VALUE) {
            Arrays.fill(seen, 0);
            stamp = 1;
        }
        for (int i = from; i < to; i++) {
            int t = recent[i];
            if (t < 0 || t >= vocab || seen[t] == stamp) {
                continue;   // ids outside the sampled range cannot be drawn anyway
            }
            seen[t] = stamp;
            x[t] = x[t] > 0 ? x[t] / repeatPenalty : x[t] * repeatPenalty;
        }
    }

    /** Index of the largest value; the lowest index among equals. */
    static int argmax(float[] x, int n) {
        int best = 0;
        float max = x[0];
        for (int i = 1; i < n; i++) {
            if (x[i] > max) {
                max = x[i];
                best = i;
            }
        }
        return best;
    }

    /**
     * Puts the k largest logits' ids into candIds, largest first (lowest id first among equals),
     * with a size-k min-heap of sortable keys: O(V log k) instead of sorting the vocabulary.
     */
    private int topKCandidates(float[] x, int vocab, int k) {
        if (keys.length < k) {
            keys = new long[k];
        }
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            long key = key(x[i], i);
            if (size < k) {
                keys[size] = key;
                LongHeap.siftUp(keys, size++);
            } else if (key > keys[0]) {
                keys[0] = key;
                LongHeap.siftDown(keys, size);
            }
        }
        Arrays.sort(keys, 0, size);
        ensureCandidates(size);
        for (int j = 0; j < size; j++) {
            candIds[j] = idOf(keys[size - 1 - j]);
        }
        return size;
    }

    /**
     * Sorts the candidates by probability, descending, for the nucleus cut. Tokens with
     * probability below (1 − p)/(n − 1) cannot be in the nucleus (together they weigh less than
     * 1 − p), so only the rest are sorted (the trick from llama2.c): a few hundred instead of 50k.
     */
    private int sortForTopP(int n) {
        double cutoff = (1.0 - topP) / (n - 1);
        if (keys.length < n) {
            keys = new long[n];
        }
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (candProbs[j] >= cutoff) {
                keys[m++] = key((float) candProbs[j], candIds[j]);
            }
        }
        if (m == 0) {   // only rounding can empty it (near-uniform, tiny p): sort everything
            for (int j = 0; j < n; j++) {
                keys[m++] = key((float) candProbs[j], candIds[j]);
            }
        }
        Arrays.sort(keys, 0, m);
        // candIds is the identity here (no top-k), so candProbs is indexed by token id
        int[] ids = new int[m];
        double[] probs = new double[m];
        for (int j = 0; j < m; j++) {
            ids[j] = idOf(keys[m - 1 - j]);
            probs[j] = candProbs[ids[j]];
        }
        System.arraycopy(ids, 0, candIds, 0, m);
        System.arraycopy(probs, 0, candProbs, 0, m);
        return m;
    }

    /** Softmax of the candidates' logits into candProbs (max-subtracted, summed in double). */
    private void softmaxCandidates(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, x[candIds[j]]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double e = Math.exp((double) x[candIds[j]] - max);
            candProbs[j] = e;
            sum += e;
        }
        double inv = 1.0 / sum;
        for (int j = 0; j < n; j++) {
            candProbs[j] *= inv;
        }
    }

    /** Draws from candidates [0, n) in proportion to their (possibly truncated) probabilities. */
    private int draw(int n) {
        double mass = 0;
        for (int j = 0; j < n; j++) {
            mass += candProbs[j];
        }
        double r = random.nextDouble() * mass;
        double cum = 0;
        for (int j = 0; j < n; j++) {
            cum += candProbs[j];
            if (r < cum) {
                return candIds[j];
            }
        }
        return candIds[n - 1];   // rounding: r landed on the total
    }

    /**
     * A long that orders like (value, −id): the float's bits made sign-monotonic in the high half,
     * and Integer.MAX_VALUE − id in the low half, so equal values put the lower id higher.
     */
    private static long key(float value, int id) {
        int bits = Float.floatToIntBits(value);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) bits << 32) | (Integer.MAX_VALUE - id);
    }

    private static int idOf(long key) {
        return Integer.MAX_VALUE - (int) key;
    }

    private float[] work(int vocab) {
        if (work.length < vocab) {
            work = new float[vocab];
        }
        return work;
    }

    private void ensureCandidates(int n) {
        if (candIds.length < n) {
            candIds = new int[n];
            candProbs = new double[n];
        }
    }
}
