package dev.jgpt.bench;

import dev.jgpt.kernel.CpuInfo;
import dev.jgpt.kernel.FmaPeak;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the two threads run, measured: the round trip of a cache line handed back and forth between them, and how
 * their FMA peak scales. This
 * project's 2-vCPU Zen 4 VMs move between two placements from one minute (or second) to the next: both vCPUs on one
 * CCD, sharing its L3 (a round trip of ~70 ns, ~35 GB/s of memory read for the two), or on two CCDs (~300 ns, and
 * ~60 GB/s: each CCD has its own link to memory). A training step is ~20% slower on two CCDs, where whatever one
 * thread wrote and the other reads crosses between them, while decode has twice the bandwidth there; so figures
 * from the two placements are not comparable, and the benchmarks that take turns name the placement of each round.
 * The Zen 5 VMs have a third: both vCPUs on the two hardware threads of one core (SMT siblings; a round trip of
 * 35-80 ns), where two threads' FMA peak is one thread's, so compute-bound work gains little from the second thread.
 */
public final class Placement {
    /** Round trips longer than this mean the two threads share no L3 (measured: 65-75 ns against 300-480 ns). */
    public static final double SPLIT_NANOS = 150;

    /** Two threads' FMA peak over one thread's below this: they share one core's FMA pipes (measured on Zen 5: 1.00-1.04x against 1.89-2.03x). */
    public static final double SHARED_CORE_SCALING = 1.4;

    private Placement() {}

    /** Two threads' FP32 peak over one thread's ({@link FmaPeak}, the best of three ~10 ms rounds each; ~0.1 s). */
    public static double peakScaling() {
        return FmaPeak.gflops(2, 3) / FmaPeak.gflops(1, 3);
    }

    /** The best of five runs' mean round trip (ns) of a value handed from this thread to another and back. */
    public static double roundTripNanos() {
        double best = Double.MAX_VALUE;
        for (int run = 0; run < 5; run++) {
            best = Math.min(best, pingPong(50_000));
        }
        return best;
    }

    /**
     * "one core" (the threads are SMT siblings: their FMA peak does not scale), else by the round trip measured by
     * {@link #roundTripNanos}: on AMD "one CCD" or "two CCDs"; elsewhere (an Intel Xeon's cores share one L3 over a
     * mesh, a round trip of 111-129 ns there) "two cores", or "two cores, L3 apart" past {@link #SPLIT_NANOS}.
     */
    public static String describe(double roundTripNanos, double peakScaling) {
        if (peakScaling < SHARED_CORE_SCALING) {
            return "one core";
        }
        boolean apart = roundTripNanos > SPLIT_NANOS;
        if (CpuInfo.HERE.amdFamily() < 0) {
            return apart ? "two cores, L3 apart" : "two cores";
        }
        return apart ? "two CCDs" : "one CCD";
    }

    private static double pingPong(int n) {
        AtomicInteger turn = new AtomicInteger();
        Thread other = new Thread(() -> {
            for (int i = 0; i < n; i++) {
                while (turn.get() != 2 * i + 1) {
                    Thread.onSpinWait();
                }
                turn.set(2 * i + 2);
            }
        }, "jgpt-placement");
        other.start();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            turn.set(2 * i + 1);
            while (turn.get() != 2 * i + 2) {
                Thread.onSpinWait();
            }
        }
        double nanos = (System.nanoTime() - t0) / (double) n;
        try {
            other.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return nanos;
    }
}
