package dev.jgpt.bench;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.Param;
import jdk.incubator.vector.FloatVector;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Single-stream generation speed with the KV cache, random fp32 weights, each figure beside the bound
 * it is measured against in the same run (the machine is shared: read ratios, not absolute rates).
 *
 * <ul>
 *   <li>{@code decode}: one op = one generated token (feed the previous greedy token, argmax the
 *       logits), so the score is <b>tokens/s</b>. The cache holds a {@code prompt}-token prefix
 *       and decoding runs {@code decodeSpan} positions past it before the cache is truncated back
 *       to the prefix: GPT-2 decodes at positions 64..191, the baby model (context 64) at 16..63.
 *       The secondary result {@code decode:gbyte} is the <b>GB/s</b> of weights read (every
 *       matrix once per token: the blocks, the final norm and the LM head; the KV cache, a few MB, is not
 *       counted). decode:gbyte / sweep:gbyte is the fraction of the bandwidth bound reached.</li>
 *   <li>{@code prefill}: one op = one prompt token of a 64-token prompt run as one batch into an
 *       empty cache (the score is prompt <b>tokens/s</b>). {@code prefill:gflop} is GFLOP/s: 2 per
 *       weight per token in the blocks, the causal attention's 4·head_dim per (query, key) pair and
 *       head, and the LM head on the last row only; prefill:gflop / peak:gflop is the fraction of the
 *       FP32 peak reached.</li>
 *   <li>{@code sweep}: one op = one SIMD read of every parameter (a sum), split over the threads
 *       like decode's matrix-vector work: the bandwidth bound measured in the same session.
 *       {@code sweep:gbyte} is the GB/s a decode step could at best reach here, and its score
 *       the matching ceiling in tok/s.</li>
 *   <li>{@code peak}: independent FMA chains on the widest vectors, one job per thread through the
 *       kernels' thread pool ({@code benchmarks/scripts/Limits.java}'s loop): {@code peak:gflop} is the
 *       FP32 GFLOP/s the cores reach now.</li>
 * </ul>
 *
 * <p>{@code llama-1b} is Llama 3.2 1B's shape (16 layers, 32 query and 8 kv heads of 64, 2048 wide,
 * SwiGLU 8192, 128256 tokens, tied head, llama3 RoPE): 1.24 B parameters, 4.9 GB of fp32 weights
 * (run it alone: the fork takes -Xmx8g). Random init takes a while; its setup prints when ready.
 *
 * benchmarks/scripts/torch_decode.py times PyTorch with a KV cache under the same protocol.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar DecodeBench
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar DecodeBench -p model=gpt2 -p threads=1
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar DecodeBench -p model=llama-1b -wi 2 -i 3
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g", "-XX:+UseParallelGC"})
public class DecodeBench {

    /**
     * gpt2: GPT-2 124M (L12 H12 d768, 1024 context, 50257 tokens); baby: L4 H4 d128, 64 context, 65 tokens;
     * llama-1b (pass -p model=llama-1b): Llama 3.2 1B's shape with a 1024-position cache.
     */
    @org.openjdk.jmh.annotations.Param({"gpt2", "baby"})
    public String model;

    @org.openjdk.jmh.annotations.Param({"2"})
    public int threads;

    private InferenceSession session;
    private int vocab, prompt, end, next;
    private int[] promptTokens;
    private double gbytePerToken, prefillGflop;
    private float[][] weights;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gbyte, gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gbyte = 0;
            gflop = 0;
        }
    }

    static GPTConfig config(String model) {
        return switch (model) {
            case "gpt2" -> GPTConfig.gpt2Small();
            case "baby" -> GPTConfig.of(65, 64, 4, 4, 128);
            case "llama-1b" -> GPTConfig.llama32OneB(1024);
            default -> throw new IllegalArgumentException("model must be gpt2, baby or llama-1b, got " + model);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        GPTConfig cfg = config(model);
        GPT gpt = new GPT(cfg, 1);
        session = new InferenceSession(gpt);
        vocab = cfg.vocabSize();
        prompt = Math.min(64, cfg.blockSize() / 4);
        promptTokens = new int[64];
        gbytePerToken = 4.0 * decodeWeights(gpt) / 1e9;
        prefillGflop = prefillFlops(gpt, promptTokens.length) / 1e9;
        end = Math.min(cfg.blockSize(), prompt + 128);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < promptTokens.length; i++) {
            promptTokens[i] = r.nextInt(vocab);
        }
        weights = gpt.parameters().stream().filter(p -> readWhole(gpt, p)).map(p -> p.data).toArray(float[][]::new);
        next = argmax(session.append(java.util.Arrays.copyOf(promptTokens, prompt)));
        System.out.printf("# %s, %s: %.1fM params, decode positions %d..%d%n", Simd.describe(), model,
                gpt.parameterCount() / 1e6, prompt, end - 1);
    }

    @Benchmark
    public int decode(Rate rate) {
        if (session.position() == end) {
            session.truncate(prompt);
        }
        next = argmax(session.append(next));
        rate.gbyte += gbytePerToken;
        return next;
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public float prefill(Rate rate) {
        session.reset();
        rate.gflop += prefillGflop;
        return session.append(promptTokens)[0];
    }

    /** The FP32 peak now: 12 independent FMA chains per thread, as benchmarks/scripts/Limits.java. */
    @Benchmark
    public float peak(Rate rate) {
        int threads = Parallel.threads();
        float[] sink = new float[threads];
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                sink[t] = fmaChains(PEAK_ITERATIONS);
            }
        });
        rate.gflop += threads * PEAK_ITERATIONS * 12.0 * 2 * Simd.LANES / 1e9;
        return sink[0];
    }

    private static final int PEAK_ITERATIONS = 1 << 20;

    private static float fmaChains(int iterations) {
        FloatVector a = FloatVector.broadcast(Simd.F, 1.0000001f), b = FloatVector.broadcast(Simd.F, 0.9999999f);
        FloatVector c0 = FloatVector.broadcast(Simd.F, 0.1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
                c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = a.fma(c0, b); c1 = a.fma(c1, b); c2 = a.fma(c2, b); c3 = a.fma(c3, b);
            c4 = a.fma(c4, b); c5 = a.fma(c5, b); c6 = a.fma(c6, b); c7 = a.fma(c7, b);
            c8 = a.fma(c8, b); c9 = a.fma(c9, b); c10 = a.fma(c10, b); c11 = a.fma(c11, b);
        }
        return Simd.sum(c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11));
    }

    /**
     * Whether one decode step reads all of p: every block and head parameter, and the token embedding
     * when it is the tied LM head (otherwise decode reads one row of it, and of the position embedding).
     */
    private static boolean readWhole(GPT gpt, Param p) {
        List<Param> embeddings = gpt.embeddingParameters();
        return !embeddings.contains(p) || gpt.config.tiedEmbeddings() && p == embeddings.getFirst();
    }

    /** Weights one decode step reads whole. */
    static long decodeWeights(GPT gpt) {
        return gpt.parameters().stream().filter(p -> readWhole(gpt, p)).mapToLong(Param::size).sum();
    }

    /**
     * FLOPs of a T-token prefill: 2 per block weight per token (norm and bias vectors are negligible and
     * counted the same), causal attention's QK and PV (2·head_dim each per query–key pair, T(T+1)/2 pairs
     * per head and layer), and the LM head for the last token only.
     */
    static double prefillFlops(GPT gpt, int T) {
        GPTConfig c = gpt.config;
        long blockWeights = 0;
        for (var b : gpt.blocks()) {
            for (Param p : b.parameters()) {
                blockWeights += p.size();
            }
        }
        double attention = 4.0 * c.headDim() * c.nHead() * c.nLayer() * T * (T + 1) / 2.0;
        return 2.0 * blockWeights * T + attention + 2.0 * c.nEmbd() * c.vocabSize();
    }

    @Benchmark
    public float sweep(Rate rate) {
        float total = 0;
        for (float[] w : weights) {
            total += sum(w);
        }
        rate.gbyte += gbytePerToken;
        return total;
    }

    private static float sum(float[] w) {
        int chunk = 1 << 14;
        int chunks = (w.length + chunk - 1) / chunk;
        float[] partial = new float[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int from = c * chunk, to = Math.min(w.length, from + chunk);
                FloatVector acc = FloatVector.zero(Simd.F);
                int i = from, bound = from + Simd.F.loopBound(to - from);
                for (; i < bound; i += Simd.LANES) {
                    acc = acc.add(FloatVector.fromArray(Simd.F, w, i));
                }
                float s = Simd.sum(acc);
                for (; i < to; i++) {
                    s += w[i];
                }
                partial[c] = s;
            }
        });
        float s = 0;
        for (float p : partial) {
            s += p;
        }
        return s;
    }

    private int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
