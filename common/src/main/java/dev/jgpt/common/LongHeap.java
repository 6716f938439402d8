package dev.jgpt.common;

/**
 * A binary min-heap of longs kept in the prefix {@code h[0, size)} of an array: keys pack what is
 * compared (high bits) with what is carried (low bits), so the heap needs no objects.
 */
public final class LongHeap {
    private LongHeap() {
    }

    /** Restores the heap after {@code h[i]} was placed at the end ({@code i} = the old size). */
    public static void siftUp(long[] h, int i) {
        long v = h[i];
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (h[p] <= v) {
                break;
            }
            h[i] = h[p];
            i = p;
        }
        h[i] = v;
    }

    /** Restores the heap of {@code size} keys after its top {@code h[0]} was replaced. */
    public static void siftDown(long[] h, int size) {
        long v = h[0];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && h[c + 1] < h[c]) {
                c++;
            }
            if (h[c] >= v) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
    }
}
