package dev.jgpt.bench;

import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One full training step of {@code jgpt train} (forward + backward over grad-accum micro-batches,
 * gradient clipping, AdamW on every parameter) at a preset's shape: {@code baby} (L4 H4 d128, T64, B12)
 * and {@code shakespeare-char} (L6 H6 d384, T256, B64, dropout 0.2), vocabulary 65.
 *
 * <p>Secondary results ({@link TokenRate}): training tokens/s and GFLOP/s by nanoGPT's count; MFU is the
 * latter over the FP32 peak measured on the same machine ({@code benchmarks/scripts/Limits.java}). The
 * peer is {@code benchmarks/scripts/torch_train.py}.
 * A shakespeare-char step takes seconds: give it long iterations, e.g.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar TrainBench -p preset=baby
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar TrainBench -p preset=shakespeare-char -w 20 -r 30
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
// Objects on 64-byte boundaries, as bin/jgpt trains: the GEMM then packs B on cache lines (GemmPacked.ALIGNED_PAD).
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g", "-XX:+UseParallelGC",
        "-XX:ObjectAlignmentInBytes=64"})
public class TrainBench {

    @Param({"baby", "shakespeare-char"})
    public String preset;

    @Param({"2"})
    public int threads;

    private TrainData data;
    private Trainer trainer;
    private double tokensPerStep, gflopPerStep;


    @Setup
    public void setup() throws IOException {
        // Random characters over tiny Shakespeare's 65-letter alphabet: speed does not depend on the text.
        StringBuilder alphabet = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            alphabet.append((char) ('!' + i));
        }
        CharTokenizer tok = CharTokenizer.fromText(alphabet);
        SplittableRandom r = new SplittableRandom(1);
        int[] train = r.ints(200_000, 0, 65).toArray(), val = r.ints(20_000, 0, 65).toArray();
        data = TrainData.of(tok, train, val, "random");
        // Many iterations so the schedule stays in its cosine part; the lr does not change the cost.
        TrainConfig cfg = TrainConfig.preset(preset).toBuilder().threads(threads).iters(1_000_000).build();
        trainer = Trainer.start(cfg, data, null, false);
        tokensPerStep = cfg.tokensPerStep();
        gflopPerStep = trainer.flopsPerToken() * tokensPerStep / 1e9;
    }

    @Benchmark
    public double step(TokenRate rate) {
        double loss = trainer.step().loss();
        rate.count(tokensPerStep, gflopPerStep);
        return loss;
    }

    @TearDown
    public void tearDown() {
        trainer.close();
        data.close();
    }
}
