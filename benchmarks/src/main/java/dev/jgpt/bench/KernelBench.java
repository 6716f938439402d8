package dev.jgpt.bench;

import dev.jgpt.kernel.AdamW;
import dev.jgpt.kernel.Attention;
import dev.jgpt.kernel.CrossEntropy;
import dev.jgpt.kernel.Embedding;
import dev.jgpt.kernel.Gelu;
import dev.jgpt.kernel.GradNorm;
import dev.jgpt.kernel.LayerNorm;
import dev.jgpt.kernel.Parallel;
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
 *       Layer norm over B·T rows of C, GELU over B·T·4C, attention over packed qkv, embedding backward.</li>
 *   <li>{@code Vocab}: cross-entropy forward+backward over 256 rows at V = 65 (char) and 50257 (GPT-2).</li>
 *   <li>{@code Params}: AdamW and global grad-norm over 10M parameters (≈ shakespeare-char's 10.65M).</li>
 *   <li>{@code Decode}: one inference attention step, C768 NH12, against 1024 cached positions.</li>
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
        float[] x, out, mean, rstd, gamma, beta, dout, dx, dgamma, dbeta;
        float[] h, g, dh, dg;
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
            mean = new float[rows];
            rstd = new float[rows];
            gamma = rand(r, C);
            beta = rand(r, C);
            dout = rand(r, rows * C);
            dx = new float[rows * C];
            dgamma = new float[C];
            dbeta = new float[C];
            h = rand(r, rows * 4 * C);
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
                runs.put("attentionForward " + shape, () -> k.attentionForward(s));
                runs.put("attentionBackward " + shape, () -> k.attentionBackward(s));
                runs.put("embeddingBackward " + shape, () -> k.embeddingBackward(s));
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

    @Benchmark
    public double gradNorm(Params a) {
        return GradNorm.globalNorm(List.of(a.grad));
    }
}
