package dev.jgpt.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fork-join for the kernels: {@link #forRange} splits [0, n) into one contiguous chunk per thread
 * (a deterministic split, so results do not depend on scheduling) and runs them on the caller plus
 * {@code threads − 1} workers.
 *
 * <p>A training step makes hundreds of kernel calls of tens of microseconds each, so hand-off latency
 * matters more than anything: workers spin briefly on a volatile epoch before parking, and the caller
 * takes chunks itself. Calls made from inside a job (a kernel calling a kernel), or while another thread
 * holds the pool, run inline.
 */
public final class Parallel {
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** How long an idle worker spins before parking: long enough to bridge consecutive kernel calls. */
    private static final long SPIN_NANOS = 200_000;

    private static volatile Pool pool = new Pool(Runtime.getRuntime().availableProcessors());

    /**
     * {@code -Djgpt.parallel.stats=true} counts the fork-joins and the time the caller waits at their ends
     * for the other threads ({@link #stats}; for profiling, off by default: the JIT folds the checks away);
     * {@code =cpu} also each chunk's thread CPU time, which costs a system call per chunk (µs each on these VMs,
     * about a millisecond per 2-thread baby step), so it is asked for apart.
     */
    private static final String STATS_MODE = System.getProperty("jgpt.parallel.stats", "false");
    private static final boolean STATS = STATS_MODE.equalsIgnoreCase("true") || STATS_MODE.equalsIgnoreCase("cpu");
    private static final boolean CPU_STATS = STATS_MODE.equalsIgnoreCase("cpu");
    /** Written only by the thread holding the pool's lock. */
    private static long forks, waitNanos, busyNanos, busyCpuNanos, workerJobs, workerChunks, workerLateNanos;

    /**
     * Fork-joins so far, the nanoseconds callers spent waiting for workers at their ends, the nanoseconds all
     * threads spent running chunks (summed over threads; wall time, and with {@code =cpu} the threads' CPU time, which
     * leaves out the time another task had their CPU, else 0), the fork-joins in which a worker ran chunks, those chunks,
     * and the nanoseconds from each such job's publication to a worker's first chunk of it (zeros unless counting).
     */
    public record Stats(long forks, long waitNanos, long busyNanos, long busyCpuNanos, long workerJobs,
                        long workerChunks, long workerLateNanos) {
    }

    public static synchronized Stats stats() {
        return new Stats(forks, waitNanos, busyNanos, busyCpuNanos, workerJobs, workerChunks, workerLateNanos);
    }

    private Parallel() {}

    public static int threads() {
        return pool.threads;
    }

    /** Sets the number of threads the kernels use (the CLI's {@code --threads}). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n != pool.threads) {
            Pool old = pool;
            pool = new Pool(n);
            old.shutdown();
        }
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous chunks. Ranges
     * smaller than {@code minChunk} per thread are not split (threading costs microseconds).
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        forRange(n, minChunk, 1, body);
    }

    /**
     * {@link #forRange}, but [0, n) cut into up to {@code chunksPerThread} chunks per thread (none smaller than
     * {@code minChunk}), which the threads claim as they finish the last: a thread slowed down (by a cold
     * cache or another process) takes fewer chunks instead of holding the others up at the end. Only for
     * bodies whose results do not depend on where the chunks begin and end.
     */
    public static void forRange(int n, int minChunk, int chunksPerThread, RangeBody body) {
        Pool p = pool;
        int most = n / Math.max(1, minChunk);
        int t = Math.min(p.threads, Math.max(1, most));
        // Inline: too small, or called from inside a job (a worker, or the caller taking its chunks; the
        // lock is reentrant, so the holder's tryLock would succeed), or another thread holds the pool.
        if (t <= 1 || onWorker() || p.lock.isHeldByCurrentThread() || !p.lock.tryLock()) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        try {
            p.run(new Job(body, n, Math.max(t, Math.min(most, t * chunksPerThread))));
        } finally {
            p.lock.unlock();
        }
    }

    /** Whether the current thread is one of the pool's workers (not a caller of {@link #forRange}). */
    static boolean onWorker() {
        return Thread.currentThread() instanceof Worker;
    }

    /**
     * The next item of [front, back), packed in {@code ends} as front · 2³² + back, taken from the front or the back,
     * or −1 if none is left. Callers take from the front and workers from the back ({@link Job#ends}).
     */
    static int claim(AtomicLong ends, boolean fromFront) {
        while (true) {
            long e = ends.get();
            int front = (int) (e >>> 32), back = (int) e;
            if (front >= back) {
                return -1;
            }
            long next = fromFront ? e + (1L << 32) : e - 1;
            if (ends.compareAndSet(e, next)) {
                return fromFront ? front : back - 1;
            }
        }
    }

    /** Loaded only when counting. */
    private static final class Profiling {
        static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    }

    private static final class Job {
        final RangeBody body;
        final int n, chunks;
        /**
         * The chunks not yet claimed, [front, back) packed as front · 2³² + back: the caller claims from the front,
         * workers from the back, so that with two threads each takes the same end of every job, rows of the
         * activations (a product's row chunks, LayerNorm's, attention's sequences) stay in the cache of the thread
         * that wrote them from one kernel to the next, instead of going wherever the claims happened to fall.
         */
        final AtomicLong ends;
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable error;
        /** Profiling ({@link #STATS}): when the job was published, chunk time summed, workers' chunks and start. */
        long published;
        final AtomicLong busy = new AtomicLong(), busyCpu = new AtomicLong();
        final AtomicInteger workerChunks = new AtomicInteger();
        volatile long workerLate;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.ends = new AtomicLong(chunks);
        }

        /** Claims and runs chunks until none are left. */
        void work() {
            boolean worker = onWorker(), first = true;
            for (int c; (c = claim(ends, !worker)) >= 0; ) {
                long t0 = STATS ? System.nanoTime() : 0, cpu0 = CPU_STATS ? Profiling.CPU.getCurrentThreadCpuTime() : 0;
                if (STATS && worker) {
                    if (first) {
                        workerLate = t0 - published;
                        first = false;
                    }
                    workerChunks.incrementAndGet();
                }
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable e) {
                    error = e;
                } finally {
                    if (STATS) {
                        busy.addAndGet(System.nanoTime() - t0);
                    }
                    if (CPU_STATS) {
                        busyCpu.addAndGet(Profiling.CPU.getCurrentThreadCpuTime() - cpu0);
                    }
                    done.incrementAndGet();
                }
            }
        }
    }

    private static final class Worker extends Thread {
        final Pool pool;
        volatile boolean parked;

        Worker(Pool pool, int id) {
            super("jgpt-kernel-" + id);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0;
            while (!pool.stopped) {
                long spinStart = System.nanoTime();
                int spins = 0;
                while (pool.epoch == seen && !pool.stopped) {
                    if ((++spins & 63) != 0 || System.nanoTime() - spinStart < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (pool.epoch == seen && !pool.stopped) {
                            LockSupport.park(this);
                        }
                        parked = false;
                    }
                }
                seen = pool.epoch;
                work(pool.job);
            }
        }

        /**
         * In a method of its own, so that no slot of the idle loop's frame holds the finished job: its body's
         * captures (a model's arrays) would stay reachable until the next job.
         */
        private static void work(Job j) {
            if (j != null) {
                j.work();
            }
        }
    }

    private static final class Pool {
        final int threads;
        final Worker[] workers;
        final ReentrantLock lock = new ReentrantLock();
        volatile Job job;
        volatile long epoch;
        volatile boolean stopped;

        Pool(int threads) {
            this.threads = threads;
            workers = new Worker[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i + 1);
                workers[i].start();
            }
        }

        void run(Job j) {
            if (STATS) {
                j.published = System.nanoTime();
            }
            job = j;
            epoch++; // publishes the job (volatile write after it)
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            j.work();
            long waitStart = STATS ? System.nanoTime() : 0;
            for (int spins = 0; j.done.get() < j.chunks; spins++) {
                if ((spins & 1023) == 1023) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
            if (STATS) {
                forks++;
                waitNanos += System.nanoTime() - waitStart;
                busyNanos += j.busy.get();
                busyCpuNanos += j.busyCpu.get();
                int wc = j.workerChunks.get();
                if (wc > 0) {
                    workerJobs++;
                    workerChunks += wc;
                    workerLateNanos += j.workerLate;
                }
            }
            job = null;
            Throwable e = j.error;
            if (e instanceof RuntimeException re) {
                throw re;
            } else if (e instanceof Error err) {
                throw err;
            } else if (e != null) {
                throw new IllegalStateException(e);
            }
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        }
    }
}
