package dev.jgpt.kernel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool sized to the cores. Work is split into one contiguous chunk per thread; the
 * caller runs the first chunk itself so a one-thread pool has no hand-off at all.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static volatile int threads = Runtime.getRuntime().availableProcessors();
    private static volatile ExecutorService pool = newPool(threads);

    private Parallel() {}

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads the kernels use (the CLI's {@code --threads}). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n == threads) {
            return;
        }
        ExecutorService old = pool;
        pool = newPool(n);
        threads = n;
        old.shutdown();
    }

    private static ExecutorService newPool(int n) {
        AtomicInteger id = new AtomicInteger();
        return Executors.newFixedThreadPool(Math.max(1, n - 1), r -> {
            Thread t = new Thread(r, "jgpt-kernel-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous chunks.
     * Ranges smaller than {@code minChunk} per thread are not split (threading costs microseconds).
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        int t = Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        if (t <= 1 || inWorker()) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[t - 1];
        for (int i = 1; i < t; i++) {
            int s = (int) ((long) n * i / t), e = (int) ((long) n * (i + 1) / t);
            futures[i - 1] = pool.submit(() -> body.run(s, e));
        }
        body.run(0, (int) ((long) n / t));
        RuntimeException failure = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel threads", e);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause();
                if (failure == null) {
                    failure = c instanceof RuntimeException re ? re : new IllegalStateException(c);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Nested parallel calls run inline: the pool's threads never wait on the pool. */
    private static boolean inWorker() {
        return Thread.currentThread().getName().startsWith("jgpt-kernel-");
    }
}
