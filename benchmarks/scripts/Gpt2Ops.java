import dev.jgpt.kernel.FmaPeak;
import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.*;

/**
 * Where a GPT-2 124M training step's time goes (TrainPair's step: zeroGrad, then forward + backward of B4 T64
 * random tokens, no optimizer), on 1 and 2 threads in one process:
 * (1) each product shape of the step alone, through the same Gemm entry points the model uses (forward NT, dX = dY·W
 * NN, dW = dYᵀ·X TN), median ms and GFLOP/s, taking turns between the thread counts, each against the FP32 peak on
 * that many threads measured at the start ({@code FmaPeak}). Each turn runs its product twice untimed first: a
 * thread count set anew starts a new pool whose worker has no packing buffers yet, and timing its first call made
 * 2 threads look slower than 1 (attention's projection 0.2-0.4x, where warmed it is 1.6-2.0x; Zen 5, 2026-12-02);
 * (2) the whole step sampled with JFR on the stepping thread (which takes part in every parallel kernel, so its
 * samples split the wall time), each sample charged to the outermost kernel frame (class.method).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx10g -XX:+UseParallelGC -cp benchmarks/target/benchmarks.jar \
 *     benchmarks/scripts/Gpt2Ops.java [reps=15] [steps=12]
 * </pre>
 */
public class Gpt2Ops {
    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 15, steps = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        int M = 256, C = 768, V = 50257;
        int[][] shapes = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}, {C, V}};   // {in, out}
        String[] names = {"qkv 768->2304", "attn proj 768->768", "fc 768->3072", "mlp proj 3072->768", "lm head 768->50257"};
        int[] count = {12, 12, 12, 12, 1};
        SplittableRandom r = new SplittableRandom(3);
        double[] peak = {FmaPeak.gflops(1, 10), FmaPeak.gflops(2, 10)};
        System.out.printf(Locale.ROOT, "| product | M×N×K | kind | 1 thread ms | GFLOP/s | %% of %.0f | 2 threads ms | GFLOP/s | %% of %.0f | 1t/2t |%n",
                peak[0], peak[1]);
        System.out.println("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        double[] totals = new double[2];
        for (int s = 0; s < shapes.length; s++) {
            int in = shapes[s][0], out = shapes[s][1];
            float[] x = rnd(r, M * in), w = rnd(r, out * in), dy = rnd(r, M * out), y = new float[M * out],
                    dx = new float[M * in], dw = new float[out * in];
            Runnable[] ops = {
                    () -> Gemm.linearForward(y, x, w, null, M, in, out),
                    () -> Gemm.linearBackward(dx, false, null, false, null, dy, x, w, M, in, out),
                    () -> Gemm.linearBackward(null, false, dw, false, null, dy, x, w, M, in, out)};
            String[] kinds = {"fwd", "dX", "dW"};
            String[] dims = {M + "×" + out + "×" + in, M + "×" + in + "×" + out, out + "×" + in + "×" + M};
            double flop = 2.0 * M * in * out;
            for (int k = 0; k < 3; k++) {
                double[][] t = new double[2][reps];
                for (int i = 0; i < reps + 2; i++) {
                    for (int th = 0; th < 2; th++) {
                        int tc = (i % 2 == 0) ? th : 1 - th;
                        Parallel.setThreads(tc + 1);
                        ops[k].run();   // a new pool's worker: its buffers and pages (see the class comment)
                        ops[k].run();
                        long t0 = System.nanoTime();
                        ops[k].run();
                        if (i >= 2) t[tc][i - 2] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                Arrays.sort(t[0]);
                Arrays.sort(t[1]);
                double m1 = t[0][reps / 2], m2 = t[1][reps / 2];
                totals[0] += m1 * count[s];
                totals[1] += m2 * count[s];
                System.out.printf(Locale.ROOT, "| %s ×%d | %s | %s | %.2f | %.1f | %.0f%% | %.2f | %.1f | %.0f%% | %.2f |%n",
                        names[s], count[s], dims[k], kinds[k], m1, flop / m1 / 1e6, flop / m1 / 1e6 / peak[0] * 100, m2,
                        flop / m2 / 1e6, flop / m2 / 1e6 / peak[1] * 100, m1 / m2);
            }
        }
        System.out.printf(Locale.ROOT, "products alone, summed over the step: %.0f ms on 1 thread, %.0f ms on 2%n", totals[0], totals[1]);

        int B = 4, T = 64;
        GPT gpt = new GPT(GPTConfig.gpt2Small(), 1L);
        int[] xs = new int[B * T], ys = new int[B * T];
        for (int i = 0; i < B * T; i++) { xs[i] = r.nextInt(V); ys[i] = r.nextInt(V); }
        double gf = gpt.trainingFlopsPerToken(T) * B * T / 1e9;
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int i = 0; i < 3; i++) { gpt.zeroGrad(); gpt.lossAndBackward(xs, ys, B, T); }
            Path jfr = Files.createTempFile("gpt2ops", ".jfr");
            double sec;
            try (Recording rec = new Recording()) {
                rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1)).withStackTrace();
                rec.start();
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) { gpt.zeroGrad(); gpt.lossAndBackward(xs, ys, B, T); }
                sec = (System.nanoTime() - t0) / 1e9;
                rec.stop();
                rec.dump(jfr);
            }
            Map<String, Integer> by = new HashMap<>();
            int n = 0;
            String main = Thread.currentThread().getName();
            for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
                if (e.getThread("sampledThread") == null || !main.equals(e.getThread("sampledThread").getJavaName())
                        || e.getStackTrace() == null) continue;
                by.merge(classify(e.getStackTrace().getFrames()), 1, Integer::sum);
                n++;
            }
            Files.deleteIfExists(jfr);
            double ms = 1e3 * sec / steps;
            System.out.printf(Locale.ROOT, "%n%d thread(s): %.1f ms/step, %.1f GFLOP/s (%.1f%% of %d)%n", threads, ms, gf / sec * steps,
                    100 * gf / sec * steps / peak[threads - 1], Math.round(peak[threads - 1]));
            System.out.println("| outermost kernel frame (caller of it in the model) | % | ms/step |");
            System.out.println("| --- | ---: | ---: |");
            final int total = n;
            by.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(30).forEach(en ->
                    System.out.printf(Locale.ROOT, "| %s | %.1f%% | %.1f |%n", en.getKey(), 100.0 * en.getValue() / total,
                            ms * en.getValue() / total));
        }
    }

    static float[] rnd(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** The outermost dev.jgpt.kernel frame and the model frame that called it; a wait at a fork-join's end apart. */
    static String classify(List<RecordedFrame> frames) {
        String layer = "(other)", kernel = "";
        for (int i = frames.size() - 1; i >= 0; i--) {
            String cls = frames.get(i).getMethod().getType().getName();
            String m = cls.substring(cls.lastIndexOf('.') + 1) + "." + frames.get(i).getMethod().getName();
            if (cls.startsWith("dev.jgpt.kernel.")) { kernel = m; break; }
            if (cls.startsWith("dev.jgpt.")) layer = m;
        }
        String top = frames.isEmpty() ? "" : frames.get(0).getMethod().getType().getName() + "." + frames.get(0).getMethod().getName();
        boolean waiting = top.startsWith("dev.jgpt.kernel.Parallel$Pool.run") || top.startsWith("java.lang.Thread.")
                || top.contains("onSpinWait") || top.contains("AtomicInteger.get");
        return kernel + " (" + layer + ")" + (waiting ? " [wait]" : "");
    }
}
