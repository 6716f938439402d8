package dev.jgpt.bench;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the two threads run, measured: the round trip of a cache line handed back and forth between them. This
 * project's 2-vCPU Zen 4 VMs move between two placements from one minute (or second) to the next: both vCPUs on one
 * CCD, sharing its L3 (a round trip of ~70 ns, ~35 GB/s of memory read for the two), or on two CCDs (~300 ns, and
 * ~60 GB/s: each CCD has its own link to memory). A training step is ~20% slower on two CCDs, where whatever one
 * thread wrote and the other reads crosses between them, while decode has twice the bandwidth there; so figures
 * from the two placements are not comparable, and the benchmarks that take turns name the placement of each round.
 */
public final class Placement {
    /** Round trips longer than this mean the two threads share no L3 (measured: 65-75 ns against 300-480 ns). */
    public static final double SPLIT_NANOS = 150;

    private Placement() {}

    /** The best of five runs' mean round trip (ns) of a value handed from this thread to another and back. */
    public static double roundTripNanos() {
        double best = Double.MAX_VALUE;
        for (int run = 0; run < 5; run++) {
            best = Math.min(best, pingPong(50_000));
        }
        return best;
    }

    /** "one CCD" or "two CCDs" for a round trip measured by {@link #roundTripNanos}. */
    public static String describe(double roundTripNanos) {
        return roundTripNanos > SPLIT_NANOS ? "two CCDs" : "one CCD";
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
