import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.*;

/**
 * Two builds of jgpt training in one process, taking turns every step (ModelPair.java's idea for a training step): each
 * build's benchmarks jar in a class loader of its own, each a GPT-2 124M (seed 1) taking ModelBench's step (zeroGrad,
 * then forward + backward of B4 T64 random tokens, 2 threads), which of the two goes first alternating; with
 * {@code baby}, the baby preset's model (65 tokens, 4 layers of 4 heads, width 128) on B12 T64 instead; with
 * {@code shakespeare-char}, that preset's (65 tokens, 6 layers of 6 heads, width 384) on B64 T256 (two of them need
 * {@code -Xmx18g}; a step takes seconds, a dozen steps do). Prints each
 * build's median GFLOP/s and the median of the per-step ratios B / A, which hold through this VM's speed swings, and
 * each median against the 2-thread FP32 peak measured right before and after the steps (the better of the two; A's
 * {@code FmaPeak}). Run it with {@code -XX:+UseTransparentHugePages}, as {@code bin/jgpt} runs training, for the
 * figure a user gets (without it GPT-2's 500 MB of weights and gradients take 4 KB pages' TLB misses).
 *
 * <p>Arguments {@code A:key=value} and {@code B:key=value} set a system property for one build only: it is set while
 * that build's model is made and takes a first step, so that every class a step uses initialises then and its
 * {@code static final} switches read it, and cleared after. So one jar against itself times a switch such as
 * {@code -Djgpt.gemm.twochains=false} in one process.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx10g -XX:+UseParallelGC -XX:+UseTransparentHugePages -XX:ObjectAlignmentInBytes=64 benchmarks/scripts/TrainPair.java A.jar B.jar [steps=40] [gpt2|baby|shakespeare-char] [A:key=value | B:key=value ...]
 * </pre>
 */
public class TrainPair {
    public static void main(String[] args) throws Exception {
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        String model = args.length > 3 ? args[3] : "gpt2";
        boolean baby = model.equals("baby"), chars = model.equals("shakespeare-char");
        if (!baby && !chars && !model.equals("gpt2")) {
            throw new IllegalArgumentException("model: gpt2, baby or shakespeare-char, got " + model);
        }
        int B = baby ? 12 : chars ? 64 : 4, T = chars ? 256 : 64, vocab = baby || chars ? 65 : 50257;
        SplittableRandom r = new SplittableRandom(2);
        int[] x = new int[B * T], y = new int[B * T];
        for (int i = 0; i < B * T; i++) { x[i] = r.nextInt(vocab); y[i] = r.nextInt(vocab); }
        Object[][] m = new Object[2][];
        for (int b = 0; b < 2; b++) {
            ClassLoader cl = new URLClassLoader(new URL[] {Path.of(args[b]).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            List<String> set = new ArrayList<>();
            for (int i = 4; i < args.length; i++) {
                if (!args[i].matches("[AB]:[^=]+=.*")) {
                    throw new IllegalArgumentException("expected A:key=value or B:key=value, got " + args[i]);
                }
                if (args[i].charAt(0) == "AB".charAt(b)) {
                    String[] kv = args[i].substring(2).split("=", 2);
                    System.setProperty(kv[0], kv[1]);
                    set.add(kv[0]);
                }
            }
            Class<?> par = cl.loadClass("dev.jgpt.kernel.Parallel");
            par.getMethod("setThreads", int.class).invoke(null, 2);
            Class<?> cfgC = cl.loadClass("dev.jgpt.model.GPTConfig"), gptC = cl.loadClass("dev.jgpt.model.GPT");
            Method of = cfgC.getMethod("of", int.class, int.class, int.class, int.class, int.class);
            Object cfg = baby ? of.invoke(null, 65, 64, 4, 4, 128) : chars ? of.invoke(null, 65, 256, 6, 6, 384)
                    : cfgC.getMethod("gpt2Small").invoke(null);
            Object gpt = gptC.getConstructor(cfgC, long.class).newInstance(cfg, 1L);
            m[b] = new Object[] {gpt, gptC.getMethod("zeroGrad"), gptC.getMethod("lossAndBackward", int[].class, int[].class, int.class, int.class),
                    gptC.getMethod("trainingFlopsPerToken", int.class).invoke(gpt, T)};
            // One step with the build's properties set: every class a step uses initialises now and reads its switches.
            ((Method) m[b][2]).invoke(gpt, x, y, B, T);
            set.forEach(System::clearProperty);
        }
        double gf = ((Number) m[0][3]).doubleValue() * B * T / 1e9;
        List<Double> g0 = new ArrayList<>(), g1 = new ArrayList<>(), ratio = new ArrayList<>();
        Method peak = m[0][0].getClass().getClassLoader().loadClass("dev.jgpt.kernel.FmaPeak")
                .getMethod("gflops", int.class, int.class);
        double peakBefore = ((Number) peak.invoke(null, 2, 3)).doubleValue();
        for (int s = 0; s < steps; s++) {
            double[] g = new double[2];
            for (int k = 0; k < 2; k++) {
                int b = (s % 2 == 0) ? k : 1 - k;
                long t0 = System.nanoTime();
                ((Method) m[b][1]).invoke(m[b][0]);
                ((Method) m[b][2]).invoke(m[b][0], x, y, B, T);
                g[b] = gf / ((System.nanoTime() - t0) / 1e9);
            }
            if (s >= 4) { g0.add(g[0]); g1.add(g[1]); ratio.add(g[1] / g[0]); }
        }
        double peak2 = Math.max(peakBefore, ((Number) peak.invoke(null, 2, 3)).doubleValue());
        Collections.sort(g0); Collections.sort(g1); Collections.sort(ratio);
        int n = ratio.size();
        System.out.printf(Locale.ROOT, "FP32 peak on 2 threads %.1f GFLOP/s (better of before and after): A %.1f%%, B %.1f%% of it%n",
                peak2, 100 * g0.get(n / 2) / peak2, 100 * g1.get(n / 2) / peak2);
        System.out.printf(Locale.ROOT, "A median %.1f GFLOP/s, B median %.1f, B/A per-turn ratio median %.4f (q1 %.4f q3 %.4f), n=%d%n",
                g0.get(n / 2), g1.get(n / 2), ratio.get(n / 2), ratio.get(n / 4), ratio.get(3 * n / 4), n);
    }
}
