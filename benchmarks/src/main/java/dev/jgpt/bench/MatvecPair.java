package dev.jgpt.bench;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;

import static dev.jgpt.bench.Summary.max;
import static dev.jgpt.bench.Summary.median;
import static dev.jgpt.bench.Summary.min;

/**
 * Two weight types' matvecs compared on this machine as it is: one kernel thread, thread CPU time, the
 * two kernels taking turns every 10 calls, so both meet the machine in the same state. Prints each
 * type's ns per 256 weights (best and median block) and the median over blocks of their ratio.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.MatvecPair q4_k q8_0 [rows cols]
 * java ... dev.jgpt.bench.MatvecPair q6_k q6_k 4096 4096 2048 8192      (A's shape, then B's)
 * </pre>
 * With two shapes, one type against itself shows what a shape costs per weight: at 8192 columns a row's
 * prepared x no longer stays in L1 beside the streaming weights (Llama-3.2-1B's ffn_down).
 * Why turns: this VM's speed changes in episodes that no code of ours causes. Measured (Zen 5, 2 cores,
 * every other process stopped, 768 × 768 weights in L2): q4_K and q8_0 went from 13.5 and 12.9 to ~18 and
 * ~17 ns per 256 weights together, for 0.1 to several seconds at a time, in one process with the same
 * compiled code and the same data addresses; their ratio stayed within 1.02-1.10. A kernel timed alone for
 * a second can fall entirely in one such episode: one process reports 13 ns, the next 18.
 */
public final class MatvecPair {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int BLOCKS = 100, WARM_UP = 20, TURNS = 20, CALLS = 10;

    private MatvecPair() {}

    public static void main(String[] args) {
        if (args.length != 2 && args.length != 4 && args.length != 6) {
            System.err.println("usage: MatvecPair TYPE_A TYPE_B [ROWS COLS [ROWS_B COLS_B]]   (e.g. q4_k q8_0 768 768)");
            System.exit(2);
        }
        WeightType a = WeightType.parse(args[0]), b = WeightType.parse(args[1]);
        int rows = args.length >= 4 ? Integer.parseInt(args[2]) : 768, cols = args.length >= 4 ? Integer.parseInt(args[3]) : 768;
        int rowsB = args.length == 6 ? Integer.parseInt(args[4]) : rows, colsB = args.length == 6 ? Integer.parseInt(args[5]) : cols;
        Parallel.setThreads(1);
        SplittableRandom rng = new SplittableRandom(1);
        WeightMatrix wa = QuantBench.randomMatrix(rng, a, rows, cols), wb = QuantBench.randomMatrix(rng, b, rowsB, colsB);
        float[] x = QuantBench.random(rng, cols), y = new float[rows], xb = QuantBench.random(rng, colsB), yb = new float[rowsB];
        // A's calls against as many weights of B's (the ratio is then per weight)
        int callsB = (int) Math.max(1, Math.round((double) CALLS * rows * cols / ((double) rowsB * colsB)));
        double per256 = (double) rows * cols / 256 * TURNS * CALLS, per256B = (double) rowsB * colsB / 256 * TURNS * callsB;
        double[] ta = new double[BLOCKS - WARM_UP], tb = new double[BLOCKS - WARM_UP], ratio = new double[BLOCKS - WARM_UP];
        for (int block = 0; block < BLOCKS; block++) {
            long sa = 0, sb = 0;
            for (int turn = 0; turn < TURNS; turn++) {
                long t0 = MX.getCurrentThreadCpuTime();
                for (int i = 0; i < CALLS; i++) {
                    wa.matvec(x, 0, y, 0);
                }
                long t1 = MX.getCurrentThreadCpuTime();
                for (int i = 0; i < callsB; i++) {
                    wb.matvec(xb, 0, yb, 0);
                }
                sa += t1 - t0;
                sb += MX.getCurrentThreadCpuTime() - t1;
            }
            if (block >= WARM_UP) {   // the first blocks compile
                ta[block - WARM_UP] = sa / per256;
                tb[block - WARM_UP] = sb / per256B;
                ratio[block - WARM_UP] = ta[block - WARM_UP] / tb[block - WARM_UP];
            }
        }
        System.out.printf(Locale.ROOT, "%s [%d × %d] vs %s [%d × %d], one thread, ns per 256 weights (CPU time), %d blocks of %d turns:%n",
                a.ggmlName(), rows, cols, b.ggmlName(), rowsB, colsB, BLOCKS - WARM_UP, TURNS);
        System.out.printf(Locale.ROOT, "%-5s best %.2f  median %.2f  slowest %.2f%n", a.ggmlName(), min(ta), median(ta), max(ta));
        System.out.printf(Locale.ROOT, "%-5s best %.2f  median %.2f  slowest %.2f%n", b.ggmlName(), min(tb), median(tb), max(tb));
        System.out.printf(Locale.ROOT, "ratio %s / %s: median %.3f (blocks: %.3f to %.3f)%n", a.ggmlName(), b.ggmlName(),
                median(ratio), min(ratio), max(ratio));
    }
}
