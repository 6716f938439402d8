package dev.jgpt.study;

import dev.jgpt.common.TokenSequence;

/**
 * The unigram model's losses: what a model that learned token frequencies and nothing else scores. The level a
 * stuck run sits at, and the far end of the lesion damage scale.
 */
final class Unigram {
    private static final int CHUNK = 1 << 16;

    private Unigram() {
    }

    /** H(X) in nats of the sequence's own token frequencies: −Σ p(c) ln p(c). */
    static double entropy(TokenSequence tokens, int V) {
        long[] count = counts(tokens, V);
        double h = 0;
        for (long c : count) {
            if (c > 0) {
                double p = (double) c / tokens.size();
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    /**
     * Mean cross-entropy of {@code eval} under the frequencies of {@code fit}, add-one smoothed: a token unseen in
     * {@code fit} must not cost ∞.
     */
    static double crossEntropy(TokenSequence fit, TokenSequence eval, int V) {
        long[] count = counts(fit, V);
        double total = fit.size() + (double) V;
        double[] cost = new double[V];
        for (int v = 0; v < V; v++) {
            cost[v] = -Math.log((count[v] + 1) / total);
        }
        double h = 0;
        int[] buf = new int[CHUNK];
        for (long start = 0; start < eval.size(); start += CHUNK) {
            int n = (int) Math.min(CHUNK, eval.size() - start);
            eval.read(start, buf, 0, n);
            for (int i = 0; i < n; i++) {
                h += cost[checked(buf[i], V, start + i)];
            }
        }
        return h / eval.size();
    }

    private static long[] counts(TokenSequence tokens, int V) {
        long[] count = new long[V];
        int[] buf = new int[CHUNK];
        for (long start = 0; start < tokens.size(); start += CHUNK) {
            int n = (int) Math.min(CHUNK, tokens.size() - start);
            tokens.read(start, buf, 0, n);
            for (int i = 0; i < n; i++) {
                count[checked(buf[i], V, start + i)]++;
            }
        }
        return count;
    }

    private static int checked(int id, int V, long position) {
        if (id < 0 || id >= V) {
            throw new IllegalArgumentException("token id " + id + " at position " + position
                    + " is outside the model's vocabulary of " + V + " (wrong tokenizer for this model?)");
        }
        return id;
    }
}
