package dev.jgpt.model;

import java.util.Arrays;

/**
 * What the rows of one forward pass are. Either B training sequences of T tokens each (row b·T + t
 * is position t of sequence b; attention is causal within a sequence), or the new tokens of one or
 * more cached sequences: sequence s contributes {@code count(s)} consecutive rows at absolute
 * positions {@code start(s)..}, and attention reads and extends that sequence's own {@link KVCache}.
 * The second form is inference: a prompt (prefill), one new token (decode), or several sequences
 * decoded together in one pass over the weights.
 */
public final class Batch {
    private final int rows;
    private final int B, T;               // training layout; T = 0 for cached batches
    private final KVCache[] caches;       // null for training batches
    private final int[] start, count, firstRow;
    private int[] positions;

    private Batch(int rows, int B, int T, KVCache[] caches, int[] start, int[] count, int[] firstRow) {
        this.rows = rows;
        this.B = B;
        this.T = T;
        this.caches = caches;
        this.start = start;
        this.count = count;
        this.firstRow = firstRow;
    }

    /** B sequences of T tokens, positions 0..T−1 each (training, evaluation, full forwards). */
    public static Batch sequences(int B, int T) {
        if (B <= 0 || T <= 0) {
            throw new IllegalArgumentException("batch: need B, T > 0, got " + B + "×" + T);
        }
        return new Batch(Math.multiplyExact(B, T), B, T, null, null, null, null);
    }

    /** n new tokens of one cached sequence, at positions {@code position..position+n−1}. */
    public static Batch cached(KVCache cache, int position, int n) {
        return cached(new KVCache[] {cache}, new int[] {position}, new int[] {n});
    }

    /**
     * New tokens of several cached sequences: {@code counts[s]} rows for sequence s at positions
     * {@code positions[s]..}, the sequences' rows one after another in this order.
     */
    public static Batch cached(KVCache[] caches, int[] positions, int[] counts) {
        int S = caches.length;
        if (S == 0 || positions.length != S || counts.length != S) {
            throw new IllegalArgumentException("batch: need one position and one count per cache, got "
                    + S + " caches, " + positions.length + " positions, " + counts.length + " counts");
        }
        int[] first = new int[S];
        int rows = 0;
        for (int s = 0; s < S; s++) {
            if (counts[s] <= 0 || positions[s] < 0 || positions[s] + counts[s] > caches[s].capacity) {
                throw new IllegalArgumentException("batch: sequence " + s + " has " + counts[s] + " new tokens at position "
                        + positions[s] + ", outside its cache of " + caches[s].capacity + " positions");
            }
            first[s] = rows;
            rows += counts[s];
        }
        return new Batch(rows, S, 0, caches.clone(), positions.clone(), counts.clone(), first);
    }

    public int rows() {
        return rows;
    }

    /** True for new tokens of cached sequences (inference), false for B×T training sequences. */
    public boolean isCached() {
        return caches != null;
    }

    /** Training layout: the number of sequences and their length. */
    public int B() {
        return B;
    }

    public int T() {
        requireSequences();
        return T;
    }

    /** Cached layout: the number of sequences. */
    public int sequenceCount() {
        return isCached() ? caches.length : B;
    }

    public KVCache cache(int s) {
        return caches[s];
    }

    /** The absolute position of sequence s's first new row. */
    public int start(int s) {
        return isCached() ? start[s] : 0;
    }

    /** How many rows sequence s contributes. */
    public int count(int s) {
        return isCached() ? count[s] : T;
    }

    /** The index of sequence s's first row. */
    public int firstRow(int s) {
        return isCached() ? firstRow[s] : s * T;
    }

    /** The absolute position of every row (computed once). */
    public int[] positions() {
        if (positions == null) {
            int[] p = new int[rows];
            for (int s = 0; s < sequenceCount(); s++) {
                for (int i = 0; i < count(s); i++) {
                    p[firstRow(s) + i] = start(s) + i;
                }
            }
            positions = p;
        }
        return positions;
    }

    private void requireSequences() {
        if (isCached()) {
            throw new IllegalStateException("a cached batch has no fixed sequence length");
        }
    }

    @Override
    public String toString() {
        return isCached() ? "cached batch " + Arrays.toString(start) + "+" + Arrays.toString(count) : "batch " + B + "×" + T;
    }
}
