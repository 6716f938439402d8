import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.Sampler;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.model.*;
import jdk.incubator.vector.FloatVector;
import java.lang.management.ManagementFactory;

/**
 * Decode of GPT-2 124M (random f32 weights) on one thread, in thread CPU time, so that a busy machine's waiting
 * is left out: per token over a whole 512-token generation (positions 1..511, jgpt generate's default sampler)
 * and at short context (64..127, greedy), each as a percentage of one SIMD read of every weight in the same
 * round (the read-bandwidth bound). A single-file program on the benchmarks jar; the argument is the rounds:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx4g -cp benchmarks/target/benchmarks.jar benchmarks/scripts/Decode512Cpu.java 4
 * </pre>
 */
public class Decode512Cpu {
    static long cpu() { return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime(); }
    public static void main(String[] a) {
        Parallel.setThreads(1);
        GPTConfig cfg = GPTConfig.gpt2Small();
        GPT gpt = new GPT(cfg, 1);
        InferenceSession s = new InferenceSession(gpt);
        float[][] w = gpt.parameters().stream().map(p -> p.data).toArray(float[][]::new);
        Sampler sampler = GenerationOptions.builder().seed(7).build().newSampler();
        int V = cfg.vocabSize();
        for (int round = 0; round < Integer.parseInt(a[0]); round++) {
            long c0 = cpu(); float t = 0;
            for (float[] x : w) t += sum(x);
            double sweep = (cpu() - c0) / 1e9;
            // short context: positions 64..127, greedy
            s.reset(); int next = 1; s.append(new int[64]);
            c0 = cpu();
            for (int i = 0; i < 64; i++) next = Sampler.greedy().sample(s.append(next), V);
            double shortTok = (cpu() - c0) / 1e9 / 64;
            // whole 512-token generation with the default sampler
            s.reset(); next = sampler.sample(s.append(1), V);
            c0 = cpu();
            for (int p = 1; p < 512; p++) next = sampler.sample(s.append(next), V);
            double genTok = (cpu() - c0) / 1e9 / 511;
            System.out.printf("round %d: sweep %.1f ms CPU; decode per token: short (64..127, greedy) %.1f ms = %.0f%% of sweep, 512-generation (1..511, sampled) %.1f ms = %.0f%% of sweep  [%s]%n",
                round, sweep * 1e3, shortTok * 1e3, 100 * sweep / shortTok, genTok * 1e3, 100 * sweep / genTok, t);
        }
    }
    static float sum(float[] w) {
        FloatVector acc = FloatVector.zero(Simd.F), acc2 = acc;
        int i = 0, b = Simd.F.loopBound(w.length) - Simd.LANES;
        for (; i < b; i += 2 * Simd.LANES) { acc = acc.add(FloatVector.fromArray(Simd.F, w, i)); acc2 = acc2.add(FloatVector.fromArray(Simd.F, w, i + Simd.LANES)); }
        float s = Simd.sum(acc.add(acc2));
        for (; i < w.length; i++) s += w[i];
        return s;
    }
}
