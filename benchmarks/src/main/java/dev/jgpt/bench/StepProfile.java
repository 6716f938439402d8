package dev.jgpt.bench;

import dev.jgpt.kernel.FmaPeak;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where one training step's time goes, op by op: trains a preset on random tokens (as {@link TrainBench}),
 * warms up, then samples the stacks of the calling thread with JFR every millisecond over the measured
 * steps. The calling thread takes part in every parallel kernel, so its samples split the step's wall
 * time; each is charged to the innermost layer of the model and the kernel it called (the time it spends
 * waiting for the other threads at the end of a kernel is shown as that kernel's "wait" share).
 * Prints tokens/s, the process CPU time per step, and the table (Markdown); with
 * {@code -Djgpt.parallel.stats=true} also the fork-joins per step, the stepping thread's wait at their ends, the chunks'
 * summed time and how late the worker joined (all inflated on 2 threads by the sampling itself: see there), with
 * {@code =cpu} also the chunks' thread CPU time (at ~1.5 µs a system call per chunk, itself ~5% of a baby step); with
 * {@code -Djgpt.profile.leaf=true} each row is split by the innermost project method sampled (which loop of a kernel).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -XX:ObjectAlignmentInBytes=64 -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.StepProfile [preset] [threads] [steps]
 * </pre>
 */
public final class StepProfile {
    private StepProfile() {}

    public static void main(String[] args) throws Exception {
        String preset = args.length > 0 ? args[0] : "baby";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        StringBuilder alphabet = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            alphabet.append((char) ('!' + i));
        }
        SplittableRandom r = new SplittableRandom(1);
        try (TrainData data = TrainData.of(CharTokenizer.fromText(alphabet), r.ints(200_000, 0, 65).toArray(),
                r.ints(20_000, 0, 65).toArray(), "random");
             Trainer trainer = Trainer.start(TrainConfig.preset(preset).toBuilder().threads(threads).iters(1_000_000)
                     .build(), data, null, false)) {
            for (int i = 0; i < Math.max(50, steps / 2); i++) {
                trainer.step();   // JIT warm-up
            }
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            Path jfr = Files.createTempFile("jgpt-step", ".jfr");
            Map<String, long[]> byOp = new HashMap<>();
            long samples = 0;
            double seconds, cpuSeconds;
            Parallel.Stats stats0, stats1;
            try (Recording rec = new Recording()) {
                rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1)).withStackTrace();
                rec.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(1)).withStackTrace();   // yields
                rec.start();
                stats0 = Parallel.stats();
                long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    trainer.step();
                }
                seconds = (System.nanoTime() - t0) / 1e9;
                cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
                stats1 = Parallel.stats();
                rec.stop();
                rec.dump(jfr);
            }
            String main = Thread.currentThread().getName();
            for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
                if (e.getThread("sampledThread") == null || !main.equals(e.getThread("sampledThread").getJavaName())
                        || e.getStackTrace() == null) {
                    continue;
                }
                String[] op = classify(e.getStackTrace().getFrames());
                long[] c = byOp.computeIfAbsent(op[0], k -> new long[2]);
                c[0]++;
                if (op[1] != null) {
                    c[1]++;
                }
                samples++;
            }
            Files.deleteIfExists(jfr);
            double tokensPerStep = TrainConfig.preset(preset).tokensPerStep();
            System.out.printf(Locale.ROOT, "%s, %d threads: %.0f tokens/s, %.2f ms/step wall, %.2f ms/step CPU (all threads), "
                    + "%d samples of the stepping thread%n", preset, threads, steps * tokensPerStep / seconds,
                    1e3 * seconds / steps, 1e3 * cpuSeconds / steps, samples);
            double msPerStep = 1e3 * seconds / steps;
            // Against the FP32 peak measured now on as many threads (best of its rounds); per CPU-second too,
            // which other processes on a shared machine disturb far less than wall time.
            double gflop = trainer.flopsPerToken() * tokensPerStep * steps / 1e9, peak = FmaPeak.gflops(threads, 10);
            System.out.printf(Locale.ROOT, "%.0f GFLOP/s = %.1f%% of the FP32 peak measured now (%.0f GFLOP/s on %d threads); "
                            + "%.0f GFLOP per CPU-second = %.1f%% of one core's peak%n", gflop / seconds,
                    100 * gflop / seconds / peak, peak, threads, gflop / cpuSeconds, 100 * gflop / cpuSeconds / (peak / threads));
            if (stats1.forks() > 0) {
                System.out.printf(Locale.ROOT, "%.1f fork-joins per step; the stepping thread waited %.3f ms/step at their ends%n",
                        (double) (stats1.forks() - stats0.forks()) / steps,
                        (stats1.waitNanos() - stats0.waitNanos()) / 1e6 / steps);
                long jobs = stats1.workerJobs() - stats0.workerJobs();
                // JFR's sampler stops the threads ~1,000 times a second to walk their stacks, which delays hand-offs:
                // timed inside the baby's backward products on 2 threads (Zen 5, 2026-12-02), the worker joined
                // 48-63 us late at p90 under this sampling and 1.6-3.7 us without (p50 1 us either way), so on 2
                // threads these waits, and the table's wait shares, are upper bounds.
                long cpu = stats1.busyCpuNanos() - stats0.busyCpuNanos();   // counted only with =cpu (see Parallel)
                System.out.printf(Locale.ROOT, "chunks ran %.3f ms/step (summed over threads%s); a worker joined"
                                + " %.1f fork-joins per step, %.1f us after publication on average, and ran %.1f chunks per step%n",
                        (stats1.busyNanos() - stats0.busyNanos()) / 1e6 / steps,
                        cpu == 0 ? "" : String.format(Locale.ROOT, "; %.3f ms on the CPU", cpu / 1e6 / steps), (double) jobs / steps,
                        jobs == 0 ? 0 : (stats1.workerLateNanos() - stats0.workerLateNanos()) / 1e3 / jobs,
                        (double) (stats1.workerChunks() - stats0.workerChunks()) / steps);
            }
            System.out.println("| layer / op | kernel | % of step | ms/step | of which waiting for threads |");
            System.out.println("| --- | --- | ---: | ---: | ---: |");
            long total = samples;
            byOp.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(en -> {
                String[] k = en.getKey().split("\t");
                long[] c = en.getValue();
                System.out.printf(Locale.ROOT, "| %s | %s | %.1f%% | %.3f | %.0f%% |%n", k[0], k.length > 1 ? k[1] : "",
                        100.0 * c[0] / total, msPerStep * c[0] / total, 100.0 * c[1] / c[0]);
            });
        }
    }

    /**
     * {layer op + "\t" + kernel, non-null if the sample is a wait}: the innermost model frame (class.method)
     * and the outermost kernel frame called from it.
     */
    /** {@code -Djgpt.profile.leaf=true}: split each kernel's row by the innermost project method sampled. */
    private static final boolean LEAF = Boolean.getBoolean("jgpt.profile.leaf");

    private static String[] classify(List<RecordedFrame> frames) {
        String layer = "(other)", kernel = "";
        for (int i = frames.size() - 1; i >= 0; i--) {   // outermost first
            String cls = frames.get(i).getMethod().getType().getName();
            String m = simple(cls) + "." + frames.get(i).getMethod().getName();
            if (cls.startsWith("dev.jgpt.kernel.")) {
                kernel = m;
                break;
            }
            if (cls.startsWith("dev.jgpt.")) {
                layer = m;
            }
        }
        String top = frames.isEmpty() ? "" : frames.get(0).getMethod().getType().getName()
                + "." + frames.get(0).getMethod().getName();
        if (LEAF) {   // the innermost project frame too: which loop of the kernel
            for (RecordedFrame f : frames) {
                String cls = f.getMethod().getType().getName();
                if (cls.startsWith("dev.jgpt.")) {
                    kernel += " > " + simple(cls) + "." + f.getMethod().getName();
                    break;
                }
            }
        }
        boolean waiting = top.startsWith("dev.jgpt.kernel.Parallel$Pool.run") || top.startsWith("java.lang.Thread.")
                || top.contains("onSpinWait") || top.contains("AtomicInteger.get");
        return new String[] {layer + "\t" + kernel, waiting ? "wait" : null};
    }

    private static String simple(String cls) {
        return cls.substring(cls.lastIndexOf('.') + 1);
    }
}
