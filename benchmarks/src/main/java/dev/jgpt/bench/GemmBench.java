package dev.jgpt.bench;

import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * sgemm throughput in GFLOP/s, at the shapes the models use.
 *
 * <p><b>Reading the output.</b> Each run prints a secondary result {@code gemm:gflop} whose score,
 * shown in "ops/s", is <b>GFLOP/s</b> (each call adds 2·M·N·K / 1e9 to the counter), and
 * {@code gemm:gbyte}, which is <b>GB/s</b> of compulsory traffic (A, B and C once, 4 bytes each):
 * the figure to read for the memory-bound matrix-vector shapes (M = 1). The primary score is calls/s.
 *
 * <p><b>Shapes</b> are {@code LAYOUT_MxKxN}: C[M×N] = op(A)[M×K]·op(B)[K×N], LAYOUT = op(A)op(B) with
 * T = transposed. A PyTorch Linear with {@code rows} inputs, {@code in → out} features, is
 * forward {@code NT_rows x in x out} (x·Wᵀ), input gradient {@code NN_rows x out x in} (dY·W) and
 * weight gradient {@code TN_out x rows x in} (dYᵀ·X). Rows are B·T: 768 for the baby model
 * (d = 128, B 12, T 64), 256 for GPT-2 124M (d = 768, B 4, T 64). benchmarks/scripts/torch_sgemm.py
 * times PyTorch (OpenBLAS) at the same shape strings.
 *
 * <p><b>Ceilings.</b> The development machine (AMD EPYC family 26, Zen 5, full-width AVX-512) ran a
 * 12-accumulator Vector API FMA loop at 255–259 GFLOP/s per core, twice the Zen 4 figure of
 * 116 (2 × 512-bit FMA per cycle). The matrix-vector shapes are bound by memory instead: the
 * 1×768→50257 weight (154 MB) streams from DRAM; 1×768→2304 (7 MB) fits in L3.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar GemmBench -wi 3 -i 5 -f 1
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar GemmBench -p shape=NN_1024x1024x1024
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Objects on 64-byte boundaries, as bin/jgpt trains: the GEMM then packs B on cache lines (GemmPacked.ALIGNED_PAD).
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC",
        "-XX:ObjectAlignmentInBytes=64"})
public class GemmBench {

    @Param({
            // square references
            "NN_256x256x256", "NN_1024x1024x1024", "NT_1024x1024x1024",
            // baby (d=128, 768 rows): qkv, attn proj, fc, fc proj, LM head; backward of fc
            "NT_768x128x384", "NT_768x128x128", "NT_768x128x512", "NT_768x512x128", "NT_768x128x65",
            "NN_768x512x128", "TN_512x768x128",
            // GPT-2 124M (d=768, 256 rows): qkv, attn proj, fc, fc proj, LM head; backward of fc
            "NT_256x768x2304", "NT_256x768x768", "NT_256x768x3072", "NT_256x3072x768", "NT_256x768x50257",
            "NN_256x3072x768", "TN_3072x256x768",
            // decode: one token through qkv and the LM head (memory-bound, read gemm:gbyte)
            "NT_1x768x2304", "NT_1x768x50257"
    })
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private boolean transA, transB;
    private int m, n, k;
    private float[] a, b, c;
    private double gflopPerCall, gbytePerCall;

    /** JMH reports these per second: GFLOP/s and GB/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gflop;
        public double gbyte;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
            gbyte = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = shape.split("_");
        String[] dims = parts[1].split("x");
        transA = parts[0].charAt(0) == 'T';
        transB = parts[0].charAt(1) == 'T';
        m = Integer.parseInt(dims[0]);
        k = Integer.parseInt(dims[1]);
        n = Integer.parseInt(dims[2]);
        SplittableRandom rnd = new SplittableRandom(42);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        gflopPerCall = 2.0 * m * n * k / 1e9;
        gbytePerCall = 4.0 * ((double) m * k + (double) k * n + (double) m * n) / 1e9;
        Parallel.setThreads(threads);
        System.out.println("# " + Simd.describe() + ", shape " + shape);
    }

    @Benchmark
    public float[] gemm(Rate rate) {
        // Row-major with tight leading dimensions: lda = cols of A as stored, etc.
        Gemm.gemm(transA, transB, m, n, k, a, 0, transA ? m : k, b, 0, transB ? k : n, c, 0, n, false);
        rate.gflop += gflopPerCall;
        rate.gbyte += gbytePerCall;
        return c;
    }
}
