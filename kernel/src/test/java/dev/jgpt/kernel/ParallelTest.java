package dev.jgpt.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnceForAnyThreadCount() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {0, 1, 2, 7, 1000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                for (int repeat = 0; repeat < 50; repeat++) {
                    Parallel.forRange(n, 1, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(50, hits.get(i), "threads " + threads + ", n " + n + ", index " + i);
                }
            }
        }
    }

    @Test
    void claimedChunksCoverTheRangeOnceAndRespectMinChunk() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {0, 1, 7, 48, 1000}) {
                for (int minChunk : new int[] {1, 5}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                    java.util.concurrent.atomic.AtomicInteger chunks = new java.util.concurrent.atomic.AtomicInteger();
                    java.util.concurrent.atomic.AtomicInteger smallest = new java.util.concurrent.atomic.AtomicInteger(n);
                    Parallel.forRange(n, minChunk, 4, (s, e) -> {
                        chunks.incrementAndGet();
                        smallest.accumulateAndGet(e - s, Math::min);
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    String at = "threads " + threads + ", n " + n + ", minChunk " + minChunk;
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), at + ", index " + i);
                    }
                    // One chunk when one thread (inline); else up to 4 per thread, none below minChunk.
                    int expected = threads == 1 || n / minChunk <= 1 ? Math.min(1, n)
                            : Math.min(n / minChunk, threads * 4);
                    assertEquals(expected, chunks.get(), at);
                    if (n >= minChunk) {
                        org.junit.jupiter.api.Assertions.assertTrue(smallest.get() >= minChunk, at);
                    }
                }
            }
        }
    }

    @Test
    void exceptionsReachTheCallerAndThePoolKeepsWorking() {
        Parallel.setThreads(2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(10, 1, (s, x) -> {
            if (s > 0) {
                throw new IllegalStateException("boom in chunk " + s);
            }
        }));
        assertEquals("boom in chunk 5", e.getMessage());
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        Parallel.forRange(10, 1, (s, x) -> {
            for (int i = s; i < x; i++) {
                hits.incrementAndGet(i);
            }
        });
        for (int i = 0; i < 10; i++) {
            assertEquals(1, hits.get(i));
        }
    }

    @Test
    void nestedAndConcurrentCallersAreSafe() throws Exception {
        Parallel.setThreads(2);
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            Future<?>[] fs = new Future<?>[6];
            for (int c = 0; c < fs.length; c++) {
                fs[c] = callers.submit(() -> {
                    for (int r = 0; r < 200; r++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(64);
                        Parallel.forRange(8, 1, (s, e) -> {
                            for (int i = s; i < e; i++) {
                                int outer = i;
                                Parallel.forRange(8, 1, (s2, e2) -> {
                                    for (int j = s2; j < e2; j++) {
                                        hits.incrementAndGet(outer * 8 + j);
                                    }
                                });
                            }
                        });
                        for (int i = 0; i < 64; i++) {
                            if (hits.get(i) != 1) {
                                throw new AssertionError("index " + i + " ran " + hits.get(i) + " times");
                            }
                        }
                    }
                    return null;
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            callers.shutdownNow();
        }
    }
}
