package dev.jgpt.common;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class LongHeapTest {
    /** Pushing keys (with repeats) and popping them all gives them sorted. */
    @Test
    void popsInAscendingOrder() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int n : new int[] {1, 2, 3, 7, 64, 1000}) {
            long[] keys = new long[n];
            long[] heap = new long[n];
            for (int i = 0; i < n; i++) {
                keys[i] = rnd.nextLong(-50, 50);
                heap[i] = keys[i];
                LongHeap.siftUp(heap, i);
            }
            long[] popped = new long[n];
            for (int size = n; size > 0; size--) {
                popped[n - size] = heap[0];
                heap[0] = heap[size - 1];
                LongHeap.siftDown(heap, size - 1);
            }
            Arrays.sort(keys);
            assertArrayEquals(keys, popped, "n = " + n);
        }
    }

    /** Replacing the top keeps the k largest keys seen (top-k selection, as the sampler does). */
    @Test
    void replacingTheTopKeepsTheLargest() {
        SplittableRandom rnd = new SplittableRandom(4);
        long[] all = rnd.longs(500).toArray();
        int k = 10, size = 0;
        long[] heap = new long[k];
        for (long key : all) {
            if (size < k) {
                heap[size] = key;
                LongHeap.siftUp(heap, size++);
            } else if (key > heap[0]) {
                heap[0] = key;
                LongHeap.siftDown(heap, size);
            }
        }
        Arrays.sort(heap);
        Arrays.sort(all);
        assertArrayEquals(Arrays.copyOfRange(all, all.length - k, all.length), heap);
    }
}
