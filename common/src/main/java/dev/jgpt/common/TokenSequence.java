package dev.jgpt.common;

/** A read-only sequence of token ids: in memory, or a memory-mapped token file. */
public interface TokenSequence {
    long size();

    /** Copies tokens [start, start + n) into {@code dst[off..]}. */
    void read(long start, int[] dst, int off, int n);

    /** The ids as they are (not copied). */
    static TokenSequence of(int[] ids) {
        return new TokenSequence() {
            @Override
            public long size() {
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
}
