package dev.jgpt.bench;

import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.kernel.quant.Halves;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import jdk.incubator.vector.FloatVector;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Quantized weight kernels ({@code dev.jgpt.kernel.quant}) against the machine's read bandwidth.
 *
 * <p>{@code matvec}: y = W·x through every weight matrix of one transformer layer (decode), at the
 * shapes of GPT-2 124M (qkv 2304×768, attention out 768×768, fc 3072×768, proj 768×3072) and
 * Llama-3.2-1B (q 2048×2048, k and v 512×2048, o 2048×2048, gate and up 8192×2048, down 2048×8192).
 * Its secondary result {@code quant:gbyte} is <b>GB/s of weight bytes read</b>. Enough copies of the
 * layer to fill ≥ 256 MB are cycled through, so the weights come from DRAM, not from the caches.
 * {@code stream}: a plain vector sum over 512 MB of native memory on the same threads, the bound
 * the decode kernels can at best reach ({@code quant:gbyte} again).
 *
 * <p>{@code matmul}: Y = X·Wᵀ for 64 rows of X (prefill) through the same layer; {@code quant:gflop}
 * is GFLOP/s (2·rows·cols per row of X), next to {@code gemmF32}, the f32 sgemm on the same shapes.
 *
 * <p>Weight bytes are random (finite f16 scales, arbitrary quants): the kernels' speed does not
 * depend on the values. Run everything and print a table of GB/s and % of the stream bound:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.QuantBench
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar QuantBench.matvec -p type=q4_k
 * </pre>
 * On a shared, loaded machine wall-clock rates are noise (the stream bound itself drops); {@link CpuTime}
 * runs the same code on one kernel thread and keeps the best thread CPU time per call, stream bound
 * included, so the ratios hold up under load:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar 'dev.jgpt.bench.QuantBench$CpuTime'
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC"})
public class QuantBench {
    static final int[][] GPT2 = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
    static final int[][] LLAMA_1B = {{2048, 2048}, {512, 2048}, {512, 2048}, {2048, 2048},
            {8192, 2048}, {8192, 2048}, {2048, 8192}};
    static final long WORKING_SET = 256L << 20;
    static final int PREFILL_ROWS = 64;

    /** JMH reports these per second: GB/s and GFLOP/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public double gbyte, gflop;
    }

    @State(Scope.Benchmark)
    public static class Layer {
        @Param({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"})
        public String type;

        @Param({"gpt2", "llama1b"})
        public String shape;

        @Param({"2"})
        public int threads;

        WeightMatrix[][] copies;
        float[] x, y, xs, ys;
        double gbytePerLayer, gflopPerPrefill;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            WeightType t = WeightType.parse(type);
            int[][] mats = shape.equals("gpt2") ? GPT2 : LLAMA_1B;
            long layerBytes = 0, maxRows = 0, maxCols = 0, weights = 0;
            for (int[] m : mats) {
                layerBytes += m[0] * t.rowBytes(m[1]);
                weights += (long) m[0] * m[1];
                maxRows = Math.max(maxRows, m[0]);
                maxCols = Math.max(maxCols, m[1]);
            }
            int n = (int) Math.max(1, (WORKING_SET + layerBytes - 1) / layerBytes);
            SplittableRandom rng = new SplittableRandom(42);
            copies = new WeightMatrix[n][mats.length];
            for (int c = 0; c < n; c++) {
                for (int i = 0; i < mats.length; i++) {
                    copies[c][i] = randomMatrix(rng, t, mats[i][0], mats[i][1]);
                }
            }
            x = random(rng, (int) maxCols);
            y = new float[(int) maxRows];
            xs = random(rng, PREFILL_ROWS * (int) maxCols);
            ys = new float[PREFILL_ROWS * (int) maxRows];
            gbytePerLayer = layerBytes / 1e9;
            gflopPerPrefill = 2.0 * PREFILL_ROWS * weights / 1e9;
        }

        WeightMatrix[] nextLayer() {
            WeightMatrix[] l = copies[next];
            next = (next + 1) % copies.length;
            return l;
        }
    }

    /** Random bytes in the type's layout, with finite f16 scales and finite f32/f16/bf16 weights. */
    static WeightMatrix randomMatrix(SplittableRandom rng, WeightType t, int rows, int cols) {
        long rowBytes = t.rowBytes(cols);
        MemorySegment s = Arena.ofAuto().allocate(rows * rowBytes, 64);
        ValueLayout.OfShort le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case F32 -> {
                for (long i = 0; i < s.byteSize(); i += 4) {
                    s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (float) rng.nextGaussian() * 0.02f);
                }
            }
            case F16, BF16 -> {
                for (long i = 0; i < s.byteSize(); i += 2) {
                    float v = (float) rng.nextGaussian() * 0.02f;
                    s.set(le16, i, t == WeightType.F16 ? Halves.floatToF16(v) : Halves.floatToBf16(v));
                }
            }
            default -> {
                for (long i = 0; i + 8 <= s.byteSize(); i += 8) {
                    s.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rng.nextLong());
                }
                long[] scaleOffsets = switch (t) {
                    case Q4_K -> new long[] {0, 2};
                    case Q6_K -> new long[] {208};
                    default -> new long[] {0};
                };
                for (long b = 0; b < s.byteSize(); b += t.blockBytes) {
                    for (long o : scaleOffsets) {
                        s.set(le16, b + o, Halves.floatToF16(0.001f));
                    }
                }
            }
        }
        return WeightMatrix.wrap(t, rows, cols, s);
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    @Benchmark
    public float matvec(Layer l, Rates r) {
        float s = 0;
        for (WeightMatrix m : l.nextLayer()) {
            m.matvec(l.x, 0, l.y, 0);
            s += l.y[0];
        }
        r.gbyte += l.gbytePerLayer;
        return s;
    }

    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 2, time = 2)
    public float matmul(Layer l, Rates r) {
        for (WeightMatrix m : l.nextLayer()) {
            m.matmul(PREFILL_ROWS, l.xs, 0, m.cols(), l.ys, 0, m.rows());
        }
        r.gflop += l.gflopPerPrefill;
        return l.ys[0];
    }

    @State(Scope.Benchmark)
    public static class F32Layer {
        @Param({"gpt2", "llama1b"})
        public String shape;

        @Param({"2"})
        public int threads;

        float[][] w;
        int[][] mats;
        float[] xs, ys;
        double gflop;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            mats = shape.equals("gpt2") ? GPT2 : LLAMA_1B;
            SplittableRandom rng = new SplittableRandom(7);
            w = new float[mats.length][];
            int maxCols = 0, maxRows = 0;
            for (int i = 0; i < mats.length; i++) {
                w[i] = random(rng, mats[i][0] * mats[i][1]);
                gflop += 2.0 * PREFILL_ROWS * mats[i][0] * mats[i][1] / 1e9;
                maxRows = Math.max(maxRows, mats[i][0]);
                maxCols = Math.max(maxCols, mats[i][1]);
            }
            xs = random(rng, PREFILL_ROWS * maxCols);
            ys = new float[PREFILL_ROWS * maxRows];
        }
    }

    /** The f32 prefill the quantized matmul is compared with: sgemm Y = X·Wᵀ on the same shapes. */
    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 2, time = 2)
    public float gemmF32(F32Layer l, Rates r) {
        for (int i = 0; i < l.mats.length; i++) {
            int rows = l.mats[i][0], cols = l.mats[i][1];
            Gemm.gemm(false, true, PREFILL_ROWS, rows, cols, l.xs, 0, cols, l.w[i], 0, cols, l.ys, 0, rows, false);
        }
        r.gflop += l.gflop;
        return l.ys[0];
    }

    @State(Scope.Benchmark)
    public static class Stream {
        @Param({"2"})
        public int threads;

        MemorySegment data;

        @Setup(Level.Trial)
        public void setup() {
            Parallel.setThreads(threads);
            data = Arena.ofAuto().allocate(2 * WORKING_SET, 64);
            for (long i = 0; i < data.byteSize(); i += 8) {
                data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, 0x3f8000003f800000L); // 1.0f pairs
            }
        }
    }

    /** The read bound: Σ of 512 MB of floats, split across the threads, 4 independent accumulators each. */
    @Benchmark
    public float stream(Stream st, Rates r) {
        MemorySegment d = st.data;
        int L = Simd.LANES, chunk = 4 * L;
        long floats = d.byteSize() / 4;
        int units = (int) (floats / chunk);
        float[] partial = new float[st.threads];
        Parallel.forRange(units, 1, (u0, u1) -> {
            FloatVector s0 = FloatVector.zero(Simd.F), s1 = s0, s2 = s0, s3 = s0;
            for (long u = u0; u < u1; u++) {
                long o = u * chunk * 4;
                s0 = s0.add(FloatVector.fromMemorySegment(Simd.F, d, o, ByteOrder.LITTLE_ENDIAN));
                s1 = s1.add(FloatVector.fromMemorySegment(Simd.F, d, o + 4L * L, ByteOrder.LITTLE_ENDIAN));
                s2 = s2.add(FloatVector.fromMemorySegment(Simd.F, d, o + 8L * L, ByteOrder.LITTLE_ENDIAN));
                s3 = s3.add(FloatVector.fromMemorySegment(Simd.F, d, o + 12L * L, ByteOrder.LITTLE_ENDIAN));
            }
            partial[(int) ((long) u0 * partial.length / units)] = Simd.sum(s0.add(s1).add(s2).add(s3));
        });
        r.gbyte += d.byteSize() / 1e9;
        return partial[0];
    }

    /** Runs the suite with the short settings above and prints GB/s per format as % of the stream bound. */
    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(QuantBench.class.getName() + "\\.(matvec|matmul|gemmF32|stream)$")
                .build()).run();
        double streamRate = 0;
        var gbps = new TreeMap<String, Double>();
        var gflops = new TreeMap<String, Double>();
        for (RunResult rr : results) {
            String bench = rr.getParams().getBenchmark().replaceAll(".*\\.", "");
            String key = bench + " " + paramOr(rr, "shape") + " " + paramOr(rr, "type");
            var sec = rr.getSecondaryResults();
            Result<?> gb = sec.get("gbyte"), gf = sec.get("gflop");
            if (bench.equals("stream")) {
                streamRate = gb.getScore();
            } else if (bench.equals("matvec")) {
                gbps.put(key, gb.getScore());
            } else {
                gflops.put(key, gf.getScore());
            }
        }
        double stream = streamRate;
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "stream read bound: %.1f GB/s (%s)", stream, Simd.describe()));
        out.add("| matvec | GB/s of weights | % of stream |");
        out.add("| --- | ---: | ---: |");
        gbps.forEach((k, v) -> out.add(String.format(Locale.ROOT, "| %s | %.1f | %.0f%% |", k.substring(7), v, 100 * v / stream)));
        out.add("| matmul, 64 rows | GFLOP/s | |");
        out.add("| --- | ---: | |");
        gflops.forEach((k, v) -> out.add(String.format(Locale.ROOT, "| %s | %.1f | |", k, v)));
        out.forEach(System.out::println);
    }

    /** One kernel thread, best thread CPU time per call: GB/s and GFLOP/s per core, and the same for the stream bound. */
    public static final class CpuTime {
        private CpuTime() {}

        private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

        /** Warms up (≥ 100 calls or 2 s), then the best of ≥ 10 calls or 3 s more, in nanoseconds. */
        static long best(Runnable r) {
            long spent = 0;
            for (int i = 0; i < 100 && spent < 2_000_000_000L; i++) {
                long t = MX.getCurrentThreadCpuTime();
                r.run();
                spent += MX.getCurrentThreadCpuTime() - t;
            }
            long best = Long.MAX_VALUE;
            spent = 0;
            for (int i = 0; i < 10 || spent < 3_000_000_000L && i < 5000; i++) {
                long t = MX.getCurrentThreadCpuTime();
                r.run();
                long dt = MX.getCurrentThreadCpuTime() - t;
                spent += dt;
                best = Math.min(best, dt);
            }
            return best;
        }

        public static void main(String[] args) {
            QuantBench k = new QuantBench();
            Rates rates = new Rates();
            Stream st = new Stream();
            st.threads = 1;
            st.setup();
            double stream = st.data.byteSize() / (double) best(() -> k.stream(st, rates));
            st.data = null;
            List<String> out = new ArrayList<>();
            out.add(String.format(Locale.ROOT, "one core, best thread CPU time per call; stream read bound %.1f GB/s (%s)",
                    stream, Simd.describe()));
            out.add("| shape | type | matvec GB/s | % of stream | matmul (64 rows) GFLOP/s | % of f32 sgemm |");
            out.add("| --- | --- | ---: | ---: | ---: | ---: |");
            for (String shape : new String[] {"gpt2", "llama1b"}) {
                F32Layer f = new F32Layer();
                f.shape = shape;
                f.threads = 1;
                f.setup();
                double sgemm = f.gflop * 1e9 / best(() -> k.gemmF32(f, rates));
                f.w = null;
                for (String type : new String[] {"f32", "f16", "bf16", "q8_0", "q6_k", "q4_k", "q4_0"}) {
                    Layer l = new Layer();
                    l.type = type;
                    l.shape = shape;
                    l.threads = 1;
                    l.setup();
                    double gbps = l.gbytePerLayer * 1e9 / best(() -> k.matvec(l, rates));
                    double gflops = l.gflopPerPrefill * 1e9 / best(() -> k.matmul(l, rates));
                    out.add(String.format(Locale.ROOT, "| %s | %s | %.1f | %.0f%% | %.1f | %.0f%% |", shape, type, gbps,
                            100 * gbps / stream, gflops, 100 * gflops / sgemm));
                    System.out.println(out.getLast());
                    l.copies = null;
                }
                out.add(String.format(Locale.ROOT, "| %s | f32 sgemm (Gemm) | | | %.1f | 100%% |", shape, sgemm));
            }
            System.out.println();
            out.forEach(System.out::println);
        }
    }

    private static String paramOr(RunResult rr, String name) {
        String v = rr.getParams().getParam(name);
        return v == null ? "" : v;
    }
}
