package dev.jgpt.bench;

import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.Sampler;
import dev.jgpt.kernel.FmaPeak;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Quantize;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Single-stream generation speed with the KV cache, random fp32 weights.
 *
 * <ul>
 *   <li>{@code decode}: one op = one generated token (feed the previous greedy token, argmax the
 *       logits), so the score is <b>tokens/s</b>. The cache holds a {@code prompt}-token prefix
 *       and decoding runs {@code decodeSpan} positions past it before the cache is truncated back
 *       to the prefix: GPT-2 decodes at positions 64..191, the baby model (context 64) at 16..63.
 *       The secondary result {@code decode:gbyte} is the <b>GB/s</b> of weights read (every
 *       parameter once per token; the KV cache is not counted): compare with the ~30 GB/s of the
 *       machine. 124M fp32 = 498 MB per token, so 30 GB/s bounds decode at ~60 tok/s.</li>
 *   <li>{@code prefill}: one op = one prompt token of a 64-token prompt run as one batch into an
 *       empty cache (the score is prompt <b>tokens/s</b>). {@code prefill:gflop} is its GFLOP/s: 2 per
 *       block weight per token, the causal attention's 4·head_dim per (query, key) pair and head, and the
 *       LM head on the last row only (the logits a prompt needs).</li>
 *   <li>{@code prefillLong}: the same for a {@code longPrompt}-token prompt (default 512, llama-bench's
 *       pp512; at most the model's context). One op = one prompt; {@code prefillLong:tokens} is prompt
 *       tokens/s and {@code prefillLong:gflop} GFLOP/s: a longer prompt spreads the packing of each weight
 *       matrix over more rows.</li>
 *   <li>{@code peak}: the FP32 peak now, the kernel's {@code FmaPeak} chains on every thread of the
 *       kernels' pool: {@code peak:gflop} / the prefill's gflop is the fraction of the peak reached.</li>
 *   <li>{@code weights}: the matrices in another type (quantized on load): decode then reads the
 *       stored bytes, and {@code decode:gbyte} counts those.</li>
 *   <li>{@code sweep}: one op = one SIMD read of every f32 parameter (a sum), split over the threads
 *       like decode's matrix-vector work: the bandwidth bound measured in the same session.
 *       {@code sweep:gbyte} is the GB/s a decode step could at best reach here, and its score
 *       the matching ceiling in tok/s.</li>
 * </ul>
 *
 * benchmarks/scripts/torch_decode.py times PyTorch with a KV cache under the same protocol.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar DecodeBench
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar DecodeBench -p model=gpt2 -p threads=1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g", "-XX:+UseParallelGC"})
public class DecodeBench {

    /** gpt2: GPT-2 124M (L12 H12 d768, 1024 context, 50257 tokens); baby: L4 H4 d128, 64 context, 65 tokens. */
    @Param({"gpt2", "baby"})
    public String model;

    @Param({"2"})
    public int threads;

    /** Weight type of the matrices (quantized on load, {@link Quantize#packed}): f32, f16, bf16, q8_0, q4_0, q4_k, q6_k. */
    @Param({"f32"})
    public String weights;

    /**
     * The positions decode runs at, {@code A..B}: an A-token prefix in the cache, then tokens fed at positions
     * A..B, then back to the prefix. {@code default}: 64..191 (baby 16..63). A whole 512-token generation from a
     * one-token prompt is {@code 1..511}, where attention reads a KV cache that grows to 512 positions.
     */
    @Param({"default"})
    public String positions;

    /**
     * How each next token is picked: {@code greedy} (argmax) or {@code default}, jgpt generate's sampler
     * (temperature 0.8, top-k 40, top-p 0.95), whose pass over the vocabulary's logits then counts too.
     */
    @Param({"greedy"})
    public String sampling;

    /** Prompt length of {@code prefillLong} (clipped to the model's context). */
    @Param({"512"})
    public int longPrompt;

    private InferenceSession session;
    private Sampler sampler;
    private int vocab, prompt, end, next;
    private int[] promptTokens;
    private double gbytePerToken, prefillGflop, longPrefillGflop;
    private int[] longPromptTokens;
    private float[][] f32Weights;
    private double sweepGbyte;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gbyte, gflop, tokens;

        @Setup(Level.Iteration)
        public void reset() {
            gbyte = 0;
            gflop = 0;
            tokens = 0;
        }
    }

    static GPTConfig config(String model) {
        return switch (model) {
            case "gpt2" -> GPTConfig.gpt2Small();
            case "baby" -> GPTConfig.of(65, 64, 4, 4, 128);
            // Llama 3.2 1B's shape (4.9 GB of f32 weights) with a 1024-position cache: pass -p model=llama-1b
            case "llama-1b" -> GPTConfig.llama32OneB(1024);
            default -> throw new IllegalArgumentException("model must be gpt2, baby or llama-1b, got " + model);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        GPTConfig cfg = config(model);
        GPT f32 = new GPT(cfg, 1);
        WeightType type = WeightType.parse(weights);
        GPT gpt = type == WeightType.F32 ? f32 : Quantize.packed(f32, type);
        session = new InferenceSession(gpt);
        vocab = cfg.vocabSize();
        if (positions.equals("default")) {
            prompt = Math.min(64, cfg.blockSize() / 4);
            end = Math.min(cfg.blockSize(), prompt + 128);
        } else {
            String[] ab = positions.split("\\.\\.");
            prompt = ab.length == 2 ? Integer.parseInt(ab[0]) : -1;
            end = ab.length == 2 ? Integer.parseInt(ab[1]) + 1 : -1;
            if (prompt < 1 || end <= prompt || end > cfg.blockSize()) {
                throw new IllegalArgumentException("positions must be A..B with 1 <= A <= B < " + cfg.blockSize()
                        + ", got " + positions);
            }
        }
        sampler = switch (sampling) {
            case "greedy" -> null;
            case "default" -> GenerationOptions.builder().seed(7).build().newSampler();
            default -> throw new IllegalArgumentException("sampling must be greedy or default, got " + sampling);
        };
        SplittableRandom r = new SplittableRandom(7);
        int[] tokens = new int[Math.max(64, prompt)];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(vocab);
        }
        promptTokens = java.util.Arrays.copyOf(tokens, 64);
        longPromptTokens = new int[Math.min(longPrompt, cfg.blockSize())];
        for (int i = 0; i < longPromptTokens.length; i++) {
            longPromptTokens[i] = r.nextInt(vocab);
        }
        prefillGflop = prefillFlops(cfg, promptTokens.length) / 1e9;
        longPrefillGflop = prefillFlops(cfg, longPromptTokens.length) / 1e9;
        gbytePerToken = bytesPerToken(gpt) / 1e9;
        f32Weights = f32.parameters().stream().map(p -> p.data).toArray(float[][]::new);
        sweepGbyte = 4.0 * f32.parameterCount() / 1e9;
        next = pick(session.append(java.util.Arrays.copyOf(tokens, prompt)));
        System.out.printf("# %s, %s %s: %.1fM params, %.1f MB read per token, decode positions %d..%d%n",
                Simd.describe(), model, weights, gpt.parameterCount() / 1e6, gbytePerToken * 1e3, prompt, end - 1);
    }

    @Benchmark
    public int decode(Rate rate) {
        if (session.position() == end) {
            session.truncate(prompt);
        }
        next = pick(session.append(next));
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

    @Benchmark
    public float prefillLong(Rate rate) {
        session.reset();
        rate.gflop += longPrefillGflop;
        rate.tokens += longPromptTokens.length;
        return session.append(longPromptTokens)[0];
    }

    private static final long PEAK_ITERATIONS = 1 << 20;

    @Benchmark
    public float peak(Rate rate) {
        int threads = Parallel.threads();
        float[] sink = new float[threads];
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                sink[t] = FmaPeak.chains(PEAK_ITERATIONS);
            }
        });
        rate.gflop += threads * PEAK_ITERATIONS * (double) FmaPeak.FLOPS_PER_ITERATION / 1e9;
        return sink[0];
    }

    /**
     * FLOPs of a T-token prefill into an empty cache: 2 per block matrix weight per token (norms and
     * biases are negligible), QKᵀ and AV over the causal pairs (4·head_dim each, per query head), and
     * the LM head on the last row.
     */
    static double prefillFlops(GPTConfig c, int T) {
        long d = c.nEmbd(), q = (long) c.nHead() * c.headDim(), kv = (long) c.nKvHead() * c.headDim();
        long mlp = c.mlp() == dev.jgpt.model.FeedForwardKind.SWIGLU ? 3L * d * c.intermediateSize()
                : 2L * d * c.intermediateSize();
        long blockWeights = c.nLayer() * (d * q + 2 * d * kv + q * d + mlp);
        double pairs = (double) T * (T + 1) / 2;
        return 2.0 * blockWeights * T + 4.0 * c.headDim() * c.nHead() * c.nLayer() * pairs + 2.0 * d * c.vocabSize();
    }

    @Benchmark
    public float sweep(Rate rate) {
        float total = 0;
        for (float[] w : f32Weights) {
            total += sum(w);
        }
        rate.gbyte += sweepGbyte;
        return total;
    }

    /** Bytes of weights one decode step reads: packed matrices as stored, the rest as f32. */
    public static long bytesPerToken(GPT gpt) {
        long bytes = 0;
        for (dev.jgpt.model.Param p : gpt.parameters()) {
            if (p.isPacked()) {
                for (var m : p.packed()) {
                    bytes += m.byteSize();
                }
            } else {
                bytes += 4L * p.size();
            }
        }
        return bytes;
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
                float s = acc.reduceLanes(VectorOperators.ADD);
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

    private int pick(float[] logits) {
        return sampler == null ? argmax(logits) : sampler.sample(logits, vocab);
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
