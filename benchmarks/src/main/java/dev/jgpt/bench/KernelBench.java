package dev.jgpt.bench;

import dev.jgpt.kernel.AdamW;
import dev.jgpt.kernel.Attention;
import dev.jgpt.kernel.CrossEntropy;
import dev.jgpt.kernel.Dropout;
import dev.jgpt.kernel.Embedding;
import dev.jgpt.kernel.Gelu;
import dev.jgpt.kernel.GradNorm;
import dev.jgpt.kernel.LayerNorm;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.RmsNorm;
import dev.jgpt.kernel.Rope;
import dev.jgpt.kernel.RopeTable;
import dev.jgpt.kernel.Simd;
import dev.jgpt.kernel.SwiGlu;
import jdk.incubator.vector.FloatVector;
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

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The non-matmul kernels at training shapes, time per call.
 * <ul>
 *   <li>{@code Shape}: "baby" = nanoGPT's CPU run (B12 T64 C128 NH4); "shakespeare" = shakespeare-char
 *       (T256 C384 NH6) at B8 instead of 64 to keep the run short (everything here is linear in B).
 *       Layer norm over B·T rows of C, GELU over B·T·4C (and over inputs 8 times as wide), attention over packed qkv, embedding backward,
 *       residual dropout over B·T·C.</li>
 *   <li>{@code Vocab}: cross-entropy forward+backward over 256 rows at V = 65 (char) and 50257 (GPT-2).</li>
 *   <li>{@code Params}: AdamW and global grad-norm over 10M parameters (≈ shakespeare-char's 10.65M).</li>
 *   <li>{@code Decode}: one inference attention step, C768 NH12, against 1024 cached positions.</li>
 *   <li>{@code Llama}: the Llama-family ops at SmolLM2-135M's training shape (B4 T256, C576, I1536, 9 query
 *       heads and 3 key/value heads of 64): RMSNorm, SwiGLU, RoPE on q and k, grouped-query attention; and
 *       {@code gqaDecode}, Llama-3.2-1B's decode attention (32 query heads, 8 kv heads of 64) against 1024
 *       cached positions.</li>
 *   <li>{@code Stream}: the bandwidth the same threads get in the same run, to read the memory-bound ops
 *       against: {@code streamRead} sums an array, {@code streamCopy} writes b = a·s (4 and 8 bytes per
 *       element), at 4, 16 and 256 MB (in cache, in L3 or not, memory).</li>
 * </ul>
 * Threads default to 2 (this machine); pass {@code -p threads=1} for one core.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar KernelBench -wi 2 -i 3 -f 1
 * </pre>
 *
 * On a shared, loaded machine wall-clock figures are noise; {@link CpuTime} runs the same kernels on one
 * kernel thread and reports the best thread CPU time per call, which other processes barely disturb:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar 'dev.jgpt.bench.KernelBench$CpuTime'
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC"})
public class KernelBench {

    @State(Scope.Benchmark)
    public static class Shape {
        @Param({"baby", "shakespeare"})
        public String shape;

        @Param({"2"})
        public int threads;

        int B, T, C, NH, V;
        float[] x, out, mean, rstd, gamma, beta, dout, dx, dgamma, dbeta, mask;
        long drawn;
        float[] h, g, dh, dg;
        /** h spread 8 times as wide, as a trained model's pre-activations can be: about 1 in 10 below −10. */
        float[] hWide;
        float[] qkv, att, y, dy, dqkv;
        float[] dwte, dwpe;
        int[] tokens;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            switch (shape) {
                case "baby" -> { B = 12; T = 64; C = 128; NH = 4; V = 65; }
                case "shakespeare" -> { B = 8; T = 256; C = 384; NH = 6; V = 65; }
                default -> throw new IllegalArgumentException("unknown shape " + shape);
            }
            SplittableRandom r = new SplittableRandom(1);
            int rows = B * T;
            x = rand(r, rows * C);
            out = new float[rows * C];
            mask = new float[rows * C];
            mean = new float[rows];
            rstd = new float[rows];
            gamma = rand(r, C);
            beta = rand(r, C);
            dout = rand(r, rows * C);
            dx = new float[rows * C];
            dgamma = new float[C];
            dbeta = new float[C];
            h = rand(r, rows * 4 * C);
            hWide = new float[h.length];
            for (int i = 0; i < h.length; i++) {
                hWide[i] = 8 * h[i];
            }
            g = new float[rows * 4 * C];
            dg = rand(r, rows * 4 * C);
            dh = new float[rows * 4 * C];
            qkv = rand(r, rows * 3 * C);
            att = new float[B * NH * T * T];
            y = new float[rows * C];
            dy = rand(r, rows * C);
            dqkv = new float[rows * 3 * C];
            dwte = new float[V * C];
            dwpe = new float[T * C];
            tokens = new int[rows];
            for (int i = 0; i < rows; i++) {
                tokens[i] = r.nextInt(V);
            }
            LayerNorm.forward(out, mean, rstd, x, gamma, beta, rows, C, 1e-5f);
            Attention.forward(y, att, qkv, B, T, C, NH);
        }
    }

    @State(Scope.Benchmark)
    public static class Vocab {
        @Param({"65", "50257"})
        public int V;

        @Param({"2"})
        public int threads;

        final int rows = 256;
        float[] logits, losses;
        int[] targets;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            SplittableRandom r = new SplittableRandom(2);
            logits = rand(r, rows * V);
            losses = new float[rows];
            targets = new int[rows];
            for (int i = 0; i < rows; i++) {
                targets[i] = r.nextInt(V);
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Params {
        @Param({"2"})
        public int threads;

        final int n = 10_000_000;
        float[] p, grad, m, v;
        int step;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            SplittableRandom r = new SplittableRandom(3);
            p = rand(r, n);
            grad = rand(r, n);
            m = new float[n];
            v = new float[n];
        }
    }

    @State(Scope.Benchmark)
    public static class Decode {
        @Param({"2"})
        public int threads;

        final int C = 768, NH = 12, pos = 1023;   // GPT-2 width, the last position of a 1024 context
        float[] q, kc, vc, out, att;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            SplittableRandom r = new SplittableRandom(4);
            q = rand(r, C);
            kc = rand(r, (pos + 1) * C);
            vc = rand(r, (pos + 1) * C);
            out = new float[C];
            att = new float[NH * (pos + 1)];
        }
    }

    @State(Scope.Benchmark)
    public static class Llama {
        @Param({"2"})
        public int threads;

        final int B = 4, T = 256, C = 576, I = 1536, rows = B * T;
        final Attention.Heads heads = new Attention.Heads(9, 3, 64);
        final Attention.Heads decodeHeads = new Attention.Heads(32, 8, 64);
        final int decodePos = 1023;
        float[] x, w, rstd, y, dy, dx, dw;
        float[] gu, h, dh, dgu;
        float[] qkv, att, out, dout, dqkv;
        int[] positions;
        RopeTable table;
        float[] dq, kc, vc, dOut, dAtt;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            SplittableRandom r = new SplittableRandom(5);
            x = rand(r, rows * C);
            w = rand(r, C);
            rstd = new float[rows];
            y = new float[rows * C];
            dy = rand(r, rows * C);
            dx = new float[rows * C];
            dw = new float[C];
            gu = rand(r, rows * 2 * I);
            h = new float[rows * I];
            dh = rand(r, rows * I);
            dgu = new float[rows * 2 * I];
            qkv = rand(r, rows * heads.rowWidth());
            att = new float[B * heads.n() * T * T];
            out = new float[rows * heads.qWidth()];
            dout = rand(r, rows * heads.qWidth());
            dqkv = new float[qkv.length];
            positions = Rope.sequencePositions(B, T, 0);
            table = new RopeTable(64, 100000, RopeTable.Scaling.NONE, 8192);
            dq = rand(r, decodeHeads.qWidth());
            kc = rand(r, (decodePos + 1) * decodeHeads.kvWidth());
            vc = rand(r, (decodePos + 1) * decodeHeads.kvWidth());
            dOut = new float[decodeHeads.qWidth()];
            dAtt = new float[decodeHeads.n() * (decodePos + 1)];
            RmsNorm.forward(y, rstd, x, w, rows, C, 1e-5f);
            Attention.forward(out, att, qkv, B, T, heads);
        }
    }

    @State(Scope.Benchmark)
    public static class Stream {
        @Param({"4", "16", "256"})
        public int megabytes;

        @Param({"2"})
        public int threads;

        float[] a, b;

        @Setup
        public void setup() {
            Parallel.setThreads(threads);
            a = rand(new SplittableRandom(6), megabytes << 18);
            b = new float[a.length];
        }
    }

    /** Best single-thread CPU time per call of every benchmark above (see the class note). */
    public static final class CpuTime {
        private CpuTime() {}

        public static void main(String[] args) {
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            KernelBench k = new KernelBench();
            java.util.Map<String, Runnable> runs = new java.util.LinkedHashMap<>();
            for (String shape : new String[] {"baby", "shakespeare"}) {
                Shape s = new Shape();
                s.shape = shape;
                s.threads = 1;
                s.setup();
                runs.put("layerNormForward " + shape, () -> k.layerNormForward(s));
                runs.put("layerNormBackward " + shape, () -> k.layerNormBackward(s));
                runs.put("geluForward " + shape, () -> k.geluForward(s));
                runs.put("geluBackward " + shape, () -> k.geluBackward(s));
                runs.put("geluForwardWide " + shape, () -> k.geluForwardWide(s));
                runs.put("attentionForward " + shape, () -> k.attentionForward(s));
                runs.put("attentionBackward " + shape, () -> k.attentionBackward(s));
                runs.put("embeddingBackward " + shape, () -> k.embeddingBackward(s));
                runs.put("dropoutForward " + shape, () -> k.dropoutForward(s));
            }
            for (int v : new int[] {65, 50257}) {
                Vocab c = new Vocab();
                c.V = v;
                c.threads = 1;
                c.setup();
                runs.put("crossEntropy V=" + v, () -> k.crossEntropy(c));
            }
            Params a = new Params();
            a.threads = 1;
            a.setup();
            runs.put("adamW 10M", () -> k.adamW(a));
            runs.put("gradNorm 10M", () -> k.gradNorm(a));
            Decode d = new Decode();
            d.threads = 1;
            d.setup();
            runs.put("decodeStep", () -> k.decodeStep(d));
            System.out.println(dev.jgpt.kernel.Simd.describe());
            for (var e : runs.entrySet()) {
                // Warm up to C2 (≥ 300 calls or 2 s), then keep the best of ≥ 20 calls or 2 s more.
                long best = Long.MAX_VALUE, spent = 0;
                for (int i = 0; i < 300 && spent < 2_000_000_000L; i++) {
                    long t = mx.getCurrentThreadCpuTime();
                    e.getValue().run();
                    spent += mx.getCurrentThreadCpuTime() - t;
                }
                spent = 0;
                for (int i = 0; i < 20 || spent < 2_000_000_000L && i < 2000; i++) {
                    long t = mx.getCurrentThreadCpuTime();
                    e.getValue().run();
                    long dt = mx.getCurrentThreadCpuTime() - t;
                    spent += dt;
                    best = Math.min(best, dt);
                }
                System.out.printf("%-32s %10.1f us%n", e.getKey(), best / 1e3);
            }
        }
    }

    static float[] rand(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Benchmark
    public float layerNormForward(Shape s) {
        LayerNorm.forward(s.out, s.mean, s.rstd, s.x, s.gamma, s.beta, s.B * s.T, s.C, 1e-5f);
        return s.out[0];
    }

    @Benchmark
    public float layerNormBackward(Shape s) {
        LayerNorm.backward(s.dx, s.dgamma, s.dbeta, s.dout, s.x, s.gamma, s.mean, s.rstd, s.B * s.T, s.C);
        return s.dx[0];
    }

    @Benchmark
    public float geluForward(Shape s) {
        Gelu.forward(s.g, s.h, s.h.length);
        return s.g[0];
    }

    @Benchmark
    public float geluBackward(Shape s) {
        Gelu.backward(s.dh, s.h, s.dg, s.h.length);
        return s.dh[0];
    }

    /**
     * GELU of inputs as wide as a trained model's: where e^(−2|u|) is below the float range (inputs under about −10)
     * it must not pass through a subnormal, which on Intel costs a microcode assist per instruction (Simd.exp).
     */
    @Benchmark
    public float geluForwardWide(Shape s) {
        Gelu.forward(s.g, s.hWide, s.hWide.length);
        return s.g[0];
    }

    @Benchmark
    public float attentionForward(Shape s) {
        Attention.forward(s.y, s.att, s.qkv, s.B, s.T, s.C, s.NH);
        return s.y[0];
    }

    @Benchmark
    public float attentionBackward(Shape s) {
        Attention.backward(s.dqkv, s.dy, s.qkv, s.att, s.B, s.T, s.C, s.NH);
        return s.dqkv[0];
    }

    @Benchmark
    public float embeddingBackward(Shape s) {
        Embedding.backward(s.dwte, s.dwpe, s.dout, s.tokens, s.B, s.T, s.C);
        return s.dwte[0];
    }

    /** Residual dropout at shakespeare-char's rate (0.2) over B·T·C: the mask drawn, then applied. */
    @Benchmark
    public float dropoutForward(Shape s) {
        int n = s.B * s.T * s.C;
        Dropout.forward(s.out, s.mask, s.x, n, 0.2f, 1337L, s.drawn);
        s.drawn += n;
        return s.out[0];
    }

    /** Forward + backward (the logits become gradients; the next call reuses them, same cost). */
    @Benchmark
    public int crossEntropy(Vocab c) {
        return CrossEntropy.forwardBackward(c.logits, c.targets, c.losses, c.rows, c.V, 1f / c.rows);
    }

    @Benchmark
    public float adamW(Params a) {
        AdamW.update(a.p, a.grad, a.m, a.v, a.n, 1e-3f, 0.9f, 0.99f, 1e-8f, 0.1f, ++a.step % 1000 + 1);
        return a.p[0];
    }

    /** One token of inference attention against a full 1024-position KV cache (reads 6 MB of cache). */
    @Benchmark
    public float decodeStep(Decode d) {
        Attention.decodeStep(d.out, d.q, d.kc, d.vc, d.pos, d.C, d.NH, d.att);
        return d.out[0];
    }

    /** RMSNorm over 1024 rows of 576: reads x, writes y (8 bytes per element). */
    @Benchmark
    public float rmsNormForward(Llama l) {
        RmsNorm.forward(l.y, l.rstd, l.x, l.w, l.rows, l.C, 1e-5f);
        return l.y[0];
    }

    /** Reads x, dout and dx, writes dx (16 bytes per element). */
    @Benchmark
    public float rmsNormBackward(Llama l) {
        RmsNorm.backward(l.dx, l.dw, l.dy, l.x, l.w, l.rstd, l.rows, l.C);
        return l.dx[0];
    }

    /** SwiGLU over 1024 rows of I = 1536: reads [gate | up], writes h (12 bytes per output element). */
    @Benchmark
    public float swigluForward(Llama l) {
        SwiGlu.forward(l.h, l.gu, l.rows, l.I);
        return l.h[0];
    }

    /** Reads [gate | up], dout and dGateUp, writes dGateUp (28 bytes per output element). */
    @Benchmark
    public float swigluBackward(Llama l) {
        SwiGlu.backward(l.dgu, l.dh, l.gu, l.rows, l.I);
        return l.dgu[0];
    }

    /** RoPE on the 9 + 3 q and k heads of 1024 packed rows, in place (8 bytes per rotated element). */
    @Benchmark
    public float ropeForward(Llama l) {
        Rope.forward(l.qkv, 0, l.heads.rowWidth(), l.rows, l.heads.n() + l.heads.nKv(), l.positions, l.table);
        return l.qkv[0];
    }

    @Benchmark
    public float ropeBackward(Llama l) {
        Rope.backward(l.qkv, 0, l.heads.rowWidth(), l.rows, l.heads.n() + l.heads.nKv(), l.positions, l.table);
        return l.qkv[0];
    }

    /** Grouped-query attention, B4 T256, 9 query and 3 kv heads of 64 (causal: 2·B·n·T²·hd FLOPs). */
    @Benchmark
    public float gqaForward(Llama l) {
        Attention.forward(l.out, l.att, l.qkv, l.B, l.T, l.heads);
        return l.out[0];
    }

    /** 4·B·n·T²·hd FLOPs (causal half of dP, dQ, dK, dV). */
    @Benchmark
    public float gqaBackward(Llama l) {
        Attention.backward(l.dqkv, l.dout, l.qkv, l.att, l.B, l.T, l.heads);
        return l.dqkv[0];
    }

    /** Llama-3.2-1B decode attention at position 1023: reads 2 MB of keys and 2 MB of values. */
    @Benchmark
    public float gqaDecode(Llama l) {
        Attention.decode(l.dOut, 0, l.dq, 0, 0, l.kc, l.vc, 0, l.decodePos, 1, l.decodeHeads, l.dAtt);
        return l.dOut[0];
    }

    /** Σ a over the array, split across the kernel threads: 4 bytes read per element. */
    @Benchmark
    public double streamRead(Stream s) {
        int vectors = s.a.length / Simd.LANES;
        double[] partial = new double[Parallel.threads()];
        Parallel.forRange(vectors, 1 << 12, (v0, v1) -> {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int v = v0; v < v1; v++) {
                acc = acc.add(FloatVector.fromArray(Simd.F, s.a, v * Simd.LANES));
            }
            partial[(int) ((long) v0 * partial.length / vectors)] = Simd.sum(acc);
        });
        double t = 0;
        for (double p : partial) {
            t += p;
        }
        return t;
    }

    /** b = a·s over the array, split across the kernel threads: 8 bytes moved per element. */
    @Benchmark
    public float streamCopy(Stream s) {
        Parallel.forRange(s.a.length / Simd.LANES, 1 << 12, (v0, v1) -> {
            for (int v = v0; v < v1; v++) {
                FloatVector.fromArray(Simd.F, s.a, v * Simd.LANES).mul(1.0001f).intoArray(s.b, v * Simd.LANES);
            }
        });
        return s.b[0];
    }

    @Benchmark
    public double gradNorm(Params a) {
        return GradNorm.globalNorm(List.of(a.grad));
    }
}
