package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * The machine's FP32 peak, measured rather than assumed: 12 independent chains of vector FMAs per
 * thread (enough to cover the FMA latency on two pipes) on {@code threads} threads at once, the best of
 * several short rounds (other load can only lower a round). Each round takes a fraction of a second, so
 * {@code jgpt train} can measure the peak its MFU figure divides by; {@code benchmarks/scripts/Limits.java}
 * reports the same figure.
 */
public final class FmaPeak {
    /** FMA chains per thread: 12 × 4-cycle latency covers two FMA pipes with room to spare. */
    private static final int CHAINS = 12;
    /** FLOPs of one iteration of {@link #chains}. */
    public static final int FLOPS_PER_ITERATION = CHAINS * 2 * F.length();

    private FmaPeak() {}

    /** GFLOP/s of {@code threads} threads running FMA chains together: best of {@code rounds} rounds of ~10 ms. */
    public static double gflops(int threads, int rounds) {
        if (threads < 1 || rounds < 1) {
            throw new IllegalArgumentException("fmaPeak: threads and rounds must be >= 1, got " + threads + ", " + rounds);
        }
        for (int i = 0; i < 200; i++) {
            chains(20_000);   // compiled before anything is timed
        }
        long iters = 8_000_000;
        double best = 0;
        for (int r = 0; r < rounds; r++) {
            Thread[] ts = new Thread[threads];
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> chains(iters), "jgpt-fma-peak-" + t);
                ts[t].start();
            }
            for (Thread t : ts) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("fmaPeak: interrupted", e);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, threads * iters * (double) FLOPS_PER_ITERATION / seconds / 1e9);
        }
        return best;
    }

    /** Runs the chains on the calling thread; the result only keeps them from being optimised away. */
    public static float chains(long iters) {
        FloatVector a = FloatVector.broadcast(F, 1.0000001f), b = FloatVector.broadcast(F, 0.9999999f);
        FloatVector c0 = FloatVector.broadcast(F, 0.1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
                c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iters; i++) {
            c0 = a.fma(c0, b); c1 = a.fma(c1, b); c2 = a.fma(c2, b); c3 = a.fma(c3, b);
            c4 = a.fma(c4, b); c5 = a.fma(c5, b); c6 = a.fma(c6, b); c7 = a.fma(c7, b);
            c8 = a.fma(c8, b); c9 = a.fma(c9, b); c10 = a.fma(c10, b); c11 = a.fma(c11, b);
        }
        return Simd.sum(c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11));
    }
}
