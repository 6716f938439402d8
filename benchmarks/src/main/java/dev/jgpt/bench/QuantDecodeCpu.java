package dev.jgpt.bench;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.Quantize;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * DecodeBench's decode and prefill per weight type, timed in thread CPU time on one kernel thread: the
 * figures that still compare types when the machine is shared (wall-clock rates then measure the other
 * work as much as this). Decode: CPU seconds per generated token (the best of 8 rounds of 32 tokens,
 * or the third argument, from position 64), as tokens per CPU-second; prefill: a 64-token prompt into an empty
 * cache. The read bound: the best CPU time of a SIMD sum over as many f32 bytes as the f32 model, so a
 * type's bound is that rate divided by its own bytes per token.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.QuantDecodeCpu gpt2 f32,q8_0,q4_k
 * java --add-modules jdk.incubator.vector -Xmx12g -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.QuantDecodeCpu llama-1b f32,q4_k 8
 * </pre>
 * The types run one after another in one JVM: a kernel compiled for one type and then met with another
 * (f16 after bf16 share their code) may be slower than in a process that runs one; give one type per
 * process to compare those.
 *
 * <p>The best round varies from process to process by more than the kernels do: this VM's speed changes
 * in episodes of 0.1 to several seconds that no code of ours causes (see {@link MatvecPair}). Measured
 * (Zen 5, 2 cores, every other process stopped, {@code gpt2 f32,q4_k 16} and {@code gpt2 q4_k 16}): one
 * process's q4_K rounds of 16 tokens ranged 102-143 tok per CPU-s (its f32 rounds 45-52); over 8
 * processes the best of 8 rounds ranged 122-144 and the median of rounds 3-8 111-129. Compare kernels with {@link MatvecPair} (turns
 * every 10 calls: the ratio holds), or types by the median of several processes.
 */
public final class QuantDecodeCpu {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private QuantDecodeCpu() {}

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "gpt2";
        String[] types = (args.length > 1 ? args[1] : "f32,bf16,f16,q8_0,q6_k,q4_k,q4_0").split(",");
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        Parallel.setThreads(1);
        GPT f32 = new GPT(DecodeBench.config(model), 1);
        double boundGBps = readBound(f32);
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "%s, one kernel thread, thread CPU time (best of rounds); read bound %.1f GB/s (%s)",
                model, boundGBps, Simd.describe()));
        out.add("| weights | MB per token | decode tok per CPU-s | vs f32 | GB per CPU-s | % of read bound | prefill tok per CPU-s | vs f32 | kB allocated per token |");
        out.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        double decode0 = 0, prefill0 = 0;
        for (String name : types) {
            WeightType type = WeightType.parse(name);
            GPT gpt = type == WeightType.F32 ? f32 : Quantize.packed(f32, type);
            double bytes = DecodeBench.bytesPerToken(gpt);
            double[] r = measure(gpt, tokens);
            if (type == WeightType.F32) {
                decode0 = r[0];
                prefill0 = r[1];
            }
            double gbps = r[0] * bytes / 1e9;
            out.add(String.format(Locale.ROOT, "| %s | %.0f | %.1f | %.2fx | %.1f | %.0f%% | %.0f | %.0f%% | %.0f |", name, bytes / 1e6,
                    r[0], r[0] / decode0, gbps, 100 * gbps / boundGBps, r[1], 100 * r[1] / prefill0, r[2] / 1e3));
            System.out.println(out.getLast());
        }
        System.out.println();
        out.forEach(System.out::println);
    }

    /**
     * {decode tokens per CPU-second, prefill tokens per CPU-second, bytes allocated per decoded token in
     * the last round}. The allocation shows boxing: a kernel past the JIT's inlining budget leaves vector
     * operations as calls on heap objects, megabytes per token, where a compiled kernel allocates nothing.
     */
    static double[] measure(GPT gpt, int tokens) {
        int vocab = gpt.config.vocabSize();
        SplittableRandom rng = new SplittableRandom(7);
        int[] prompt = new int[64];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = rng.nextInt(vocab);
        }
        InferenceSession s = new InferenceSession(gpt, 256);
        int next = argmax(s.append(prompt));
        long bestDecode = Long.MAX_VALUE, bestPrefill = Long.MAX_VALUE, allocated = 0;
        for (int round = 0; round < 8; round++) {   // the first rounds compile; the best later one counts
            s.truncate(64);
            long a = MX.getCurrentThreadAllocatedBytes();
            long t = MX.getCurrentThreadCpuTime();
            for (int i = 0; i < tokens; i++) {
                next = argmax(s.append(next));
            }
            bestDecode = Math.min(bestDecode, MX.getCurrentThreadCpuTime() - t);
            allocated = MX.getCurrentThreadAllocatedBytes() - a;
            if (round % 2 == 1) {
                s.reset();
                t = MX.getCurrentThreadCpuTime();
                next = argmax(s.append(prompt));
                bestPrefill = Math.min(bestPrefill, MX.getCurrentThreadCpuTime() - t);
            }
        }
        return new double[] {tokens * 1e9 / bestDecode, 64e9 / bestPrefill, allocated / (double) tokens};
    }

    /** GB per CPU-second of a SIMD sum over the f32 model's parameters (best of several passes, after compiling the sum). */
    static double readBound(GPT f32) {
        float[][] arrays = f32.parameters().stream().map(p -> p.data).toArray(float[][]::new);
        float sink = 0;
        float[] warm = new float[1 << 14];
        for (int i = 0; i < 20_000; i++) {
            sink += StreamRead.sum(warm, 0, warm.length);
        }
        long bytes = 4L * f32.parameterCount(), best = Long.MAX_VALUE;
        for (int pass = 0; pass < 5; pass++) {
            long t = MX.getCurrentThreadCpuTime();
            for (float[] a : arrays) {
                sink += StreamRead.sum(a, 0, a.length);
            }
            best = Math.min(best, MX.getCurrentThreadCpuTime() - t);
        }
        return sink == 42.4242f ? 0 : bytes / (double) best;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
