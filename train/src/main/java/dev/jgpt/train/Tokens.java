package dev.jgpt.train;

import java.util.Arrays;

/** A read-only sequence of token ids: in memory, or a view of a memory-mapped token file. */
public interface Tokens {
    long length();

    /** Copies tokens [start, start + n) into {@code dst[off..]}. */
    void read(long start, int[] dst, int off, int n);

    /** The ids as they are (not copied). */
    static Tokens of(int[] ids) {
        return new Tokens() {
            @Override
            public long length() {
                return ids.length;
            }

            @Override
            public void read(long start, int[] dst, int off, int n) {
                System.arraycopy(ids, Math.toIntExact(start), dst, off, n);
            }

            @Override
            public String toString() {
                return ids.length + " tokens";
            }
        };
    }

    /** Tokens [from, to) of {@code ids} (a copy). */
    static Tokens slice(int[] ids, int from, int to) {
        return of(Arrays.copyOfRange(ids, from, to));
    }
}
