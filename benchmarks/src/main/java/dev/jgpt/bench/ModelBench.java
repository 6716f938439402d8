package dev.jgpt.bench;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One forward + backward of the whole model (no optimiser step), at the baby config
 * (L4 H4 d128, T64, B12, vocab 65) and at GPT-2 124M (B4, T64, vocab 50257).
 *
 * <p>Secondary results ({@link TokenRate}): tokens/s and GFLOP/s by nanoGPT's count; compare the latter
 * with the FP32 peak measured on the same machine ({@code benchmarks/scripts/Limits.java}).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar ModelBench -wi 2 -i 5 -f 1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// Objects on 64-byte boundaries, as bin/jgpt trains: the GEMM then packs B on cache lines (GemmPacked.ALIGNED_PAD).
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g", "-XX:+UseParallelGC",
        "-XX:ObjectAlignmentInBytes=64"})
public class ModelBench {

    @Param({"baby", "gpt2-124M"})
    public String model;

    @Param({"2"})
    public int threads;

    /**
     * lazy: zeroGrad only flags the gradients (the first weight-gradient product sets them); eager: their zeros written
     * at once as before (every gradient read), the same jar's A/B of that change.
     */
    @Param({"lazy"})
    public String zero;

    private GPT gpt;
    private int B, T;
    private int[] x, y;
    private double gflopPerStep;


    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        GPTConfig cfg = switch (model) {
            case "baby" -> GPTConfig.of(65, 64, 4, 4, 128);
            case "gpt2-124M" -> GPTConfig.gpt2Small();
            default -> throw new IllegalArgumentException("unknown model " + model);
        };
        B = model.equals("baby") ? 12 : 4;
        T = 64;
        gpt = new GPT(cfg, 1);
        SplittableRandom r = new SplittableRandom(2);
        x = new int[B * T];
        y = new int[B * T];
        for (int i = 0; i < B * T; i++) {
            x[i] = r.nextInt(cfg.vocabSize());
            y[i] = r.nextInt(cfg.vocabSize());
        }
        gflopPerStep = gpt.trainingFlopsPerToken(T) * B * T / 1e9;
    }

    @Benchmark
    public float forwardBackward(TokenRate rate) {
        gpt.zeroGrad();
        if (zero.equals("eager")) {
            for (dev.jgpt.model.Param p : gpt.parameters()) {
                p.grad();
            }
        }
        float loss = gpt.lossAndBackward(x, y, B, T);
        rate.count(B * T, gflopPerStep);
        return loss;
    }
}
