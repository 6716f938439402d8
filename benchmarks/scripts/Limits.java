import dev.jgpt.kernel.FmaPeak;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The machine's limits, measured rather than assumed: FP32 FMA peak and memory read bandwidth,
 * on 1 thread and on N threads. Run as a single-file program on the benchmarks jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/scripts/Limits.java [threads]
 * </pre>
 *
 * Prints one JSON line: peak_gflops_1t, peak_gflops, read_gbps_1t, read_gbps (best of several runs).
 * Peak: the kernel's {@code FmaPeak}, which {@code jgpt train} also divides its MFU by (12 independent
 * FMA chains per thread on the widest vectors, enough to cover FMA latency on two pipes). Bandwidth:
 * sum of a 1 GiB float array split across the threads, i.e. the streaming read that decode does with
 * the weights.
 */
public class Limits {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    static double sum(float[] x, int from, int to) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int L = F.length(), i = from;
        for (; i + 4 * L <= to; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(F, x, i));
            s1 = s1.add(FloatVector.fromArray(F, x, i + L));
            s2 = s2.add(FloatVector.fromArray(F, x, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(F, x, i + 3 * L));
        }
        double s = s0.add(s1).add(s2).add(s3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < to; i++) {
            s += x[i];
        }
        return s;
    }

    /** Runs job(t) on `threads` threads at once; returns the wall time in seconds. */
    static double timed(ExecutorService pool, int threads, java.util.function.IntFunction<Double> job) throws Exception {
        List<Callable<Double>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> job.apply(id));
        }
        long t0 = System.nanoTime();
        double sink = 0;
        for (Future<Double> f : pool.invokeAll(tasks)) {
            sink += f.get();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (sink == 42.4242) {
            System.err.print("");
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        double peak1 = FmaPeak.gflops(1, 30), peakN = FmaPeak.gflops(threads, 30);
        float[] x = new float[1 << 28];   // 1 GiB, far beyond the caches
        java.util.Arrays.fill(x, 1f);
        double bw1 = 0, bwN = 0;
        for (int rep = 0; rep < 6; rep++) {
            bw1 = Math.max(bw1, 4.0 * x.length / timed(pool, 1, t -> sum(x, 0, x.length)) / 1e9);
            bwN = Math.max(bwN, 4.0 * x.length / timed(pool, threads, t -> sum(x,
                    (int) ((long) x.length * t / threads), (int) ((long) x.length * (t + 1) / threads))) / 1e9);
        }
        pool.shutdown();
        System.out.printf("{\"threads\": %d, \"lanes\": %d, \"peak_gflops_1t\": %.1f, \"peak_gflops\": %.1f, "
                + "\"read_gbps_1t\": %.1f, \"read_gbps\": %.1f}%n", threads, F.length(), peak1, peakN, bw1, bwN);
    }
}
