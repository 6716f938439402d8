import dev.jgpt.bench.Placement;
import dev.jgpt.kernel.FmaPeak;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static dev.jgpt.bench.Summary.max;
import static dev.jgpt.bench.Summary.median;
import static dev.jgpt.bench.Summary.min;

/**
 * A preset's training step on 2 threads and on 1, each against the FP32 peak measured in the same round, round
 * after round, with where the two threads ran ({@link Placement}: one CCD, two, or one core's two hardware threads).
 * The step's FLOP rate is its median over the round's steps (random tokens, as {@code StepProfile}); the peak the
 * best of {@code FmaPeak}'s rounds right before and after. On a VM whose two vCPUs move between placements, the
 * 2-thread step and its scaling over 1 thread differ by placement (and on one core the peak's scaling too), so the
 * summary is per placement. A single-file program on the benchmarks jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -XX:ObjectAlignmentInBytes=64 -cp benchmarks/target/benchmarks.jar benchmarks/scripts/StepBound.java [preset] [rounds] [steps]
 * </pre>
 *
 * (with {@code -Xmx16g} for shakespeare-char, whose step takes seconds: a few steps a round do.)
 */
public class StepBound {
    public static void main(String[] args) throws Exception {
        String preset = args.length > 0 ? args[0] : "baby";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20, steps = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        StringBuilder alphabet = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            alphabet.append((char) ('!' + i));
        }
        SplittableRandom r = new SplittableRandom(1);
        TrainConfig cfg = TrainConfig.preset(preset).toBuilder().threads(2).iters(1_000_000).build();
        Map<String, List<double[]>> byPlacement = new TreeMap<>();
        try (TrainData data = TrainData.of(CharTokenizer.fromText(alphabet), r.ints(200_000, 0, 65).toArray(),
                r.ints(20_000, 0, 65).toArray(), "random");
             Trainer trainer = Trainer.start(cfg, data, null, false)) {
            double gflopPerStep = trainer.flopsPerToken() * cfg.tokensPerStep() / 1e9;
            for (int t : new int[] {2, 1}) {   // JIT warm-up on both thread counts: 200 steps, or 30 s of a larger preset's
                Parallel.setThreads(t);
                long start = System.nanoTime();
                for (int i = 0; i < 200 && (i < 3 || System.nanoTime() - start < 30e9); i++) {
                    trainer.step();
                }
            }
            for (int round = 0; round < rounds; round++) {
                double roundTrip = Placement.roundTripNanos();
                double[] step = new double[3], peak = new double[3];
                for (int t : new int[] {2, 1}) {
                    Parallel.setThreads(t);
                    peak[t] = FmaPeak.gflops(t, 3);
                    double[] ms = new double[steps];
                    for (int i = 0; i < steps; i++) {
                        long t0 = System.nanoTime();
                        trainer.step();
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                    step[t] = gflopPerStep / (median(ms) / 1e3);
                    peak[t] = Math.max(peak[t], FmaPeak.gflops(t, 3));
                }
                double[] row = {step[2] / peak[2], step[1] / peak[1], step[2] / step[1], peak[2] / peak[1]};
                String where = Placement.describe(roundTrip, row[3]);
                byPlacement.computeIfAbsent(where, k -> new ArrayList<>()).add(row);
                System.out.printf(Locale.ROOT, "round %d (%s, round trip %.0f ns): 2 threads %.1f GFLOP/s = %.1f%% of %.1f, "
                                + "1 thread %.1f = %.1f%% of %.1f; 2/1 threads: step %.2fx, peak %.2fx%n", round,
                        where, roundTrip, step[2], 100 * row[0], peak[2], step[1], 100 * row[1],
                        peak[1], row[2], row[3]);
            }
        }
        String vectors = "Vector API " + Simd.F.vectorBitSize() + "-bit";
        byPlacement.forEach((where, rows) -> System.out.printf(Locale.ROOT, "# %s, %s steps on %s (%d rounds): 2 threads "
                        + "median %.1f%% of the peak (range %.1f-%.1f%%), 1 thread %.1f%%; step scaling median %.2fx "
                        + "(range %.2f-%.2fx), peak scaling %.2fx%n", vectors, preset, where, rows.size(),
                100 * median(col(rows, 0)), 100 * min(col(rows, 0)), 100 * max(col(rows, 0)), 100 * median(col(rows, 1)),
                median(col(rows, 2)), min(col(rows, 2)), max(col(rows, 2)), median(col(rows, 3))));
    }

    static double[] col(List<double[]> rows, int c) {
        return rows.stream().mapToDouble(row -> row[c]).toArray();
    }
}
