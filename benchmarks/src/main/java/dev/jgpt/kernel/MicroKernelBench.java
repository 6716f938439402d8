package dev.jgpt.kernel;

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

import java.util.concurrent.TimeUnit;

/**
 * {@link GemmPacked#kernel} alone, four vectors wide ({@code kernel4Rows} for nt, {@code kernel4Columns} for tn and
 * packed; in this package to reach it): one KC × NR micro-panel of packed B against
 * 6-row panels of A, C += each 6 × NR tile, as {@code blockTiles} calls it, with A and C either re-used
 * (43 panels: 258 rows, the A block of a GPT-2 product, in L2) or a fresh panel every call, cycling through
 * arrays beyond L2 (cold: A 55 MB for nt and packed, 9 MB for tn; C 31 MB). Secondary result {@code rate:gflop} is GFLOP/s per thread; {@code -t 2} runs two
 * threads, each on its own data. Compare with the measured FP32 peak ({@code benchmarks/scripts/Limits.java}).
 *
 * <p>Layouts as {@code blockTiles} passes them: {@code nt} A row-major (row stride 768, k stride 1: a forward
 * x·Wᵀ or dy·W), {@code tn} A transposed (row stride 1, k stride 768: a weight gradient dyᵀ·x), {@code packed}
 * a packed panel (row stride 1, k stride MR: the last, partial panel).
 *
 * <p>Zen 4 (family 25), one thread, others paused, 2026-11-30 ({@code -wi 2 -i 3}), FP32 peak 116: warm 112.5 (nt),
 * 113.2 (tn), 114.1 (packed), so the loop itself is at 97–98% of peak; C cold 96–99 (every layout); A cold
 * 73 (nt: six rows read side by side), 104 (tn, from L3), 112.6 (packed: one contiguous stream); both cold
 * 69, 82, 95. On two threads, warm, 205–211 in all (the FMA loop of {@code FmaPeak} sustains 212–222 over
 * 0.5 s rounds there, against its best-of-short-rounds 231).
 *
 * <p>B's micro-panel starts at {@link GemmPacked#bPad}, on a cache line under the fork's
 * {@code -XX:ObjectAlignmentInBytes=64}, as the GEMM packs it in training ({@code bin/jgpt} runs with that flag). Intel
 * Xeon (family 6; FP32 peak 213-222 per core), one thread, 2026-12-03 ({@code -wi 2 -i 3 -w 1 -r 1}, wide errors): warm
 * 194 (nt), 190 (tn), 197-206 (packed), so 87-93% of the peak; C cold 169-185; A cold 146 (nt), 151 (tn), 203
 * (packed); both cold 133-174. With the panel one float past a line ({@code -jvmArgsAppend -Djgpt.gemm.bpad=0}, as this
 * benchmark ran until then: each vector load split over two lines) warm 181, 175, 189.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar MicroKernelBench
 * java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar MicroKernelBench -t 2 -p a=warm -p c=warm
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g",
        "-XX:ObjectAlignmentInBytes=64"})
public class MicroKernelBench {
    /** Row stride of a row-major A (GPT-2's d = 768). */
    static final int LDA = 768;
    /** Panels of A and tiles of C re-used when warm: 258 rows, the A block of a GPT-2 product (256 rows). */
    static final int WARM_PANELS = 43;
    /** Panels cycled through when cold: A's 3000 × 6 rows × 768 floats are 55 MB, C's 3000 tiles 4.6 MB... */
    static final int COLD_A_PANELS = 3000;
    /** ...and 20000 tiles of C (31 MB): beyond this machine's L3 share. */
    static final int COLD_C_TILES = 20000;

    @Param({"nt", "tn", "packed"})
    public String layout;

    @Param({"warm", "cold"})
    public String a;

    @Param({"warm", "cold"})
    public String c;

    private float[] aArr, bp, cArr;
    private int ars, aks, aPanels, cTiles, next, bo;
    private final int kc = GemmPacked.KC;

    /** JMH reports this per second: GFLOP/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        aPanels = a.equals("cold") ? COLD_A_PANELS : WARM_PANELS;
        cTiles = c.equals("cold") ? COLD_C_TILES : WARM_PANELS;
        switch (layout) {
            case "nt" -> {
                ars = LDA;
                aks = 1;
                aArr = new float[aPanels * GemmPacked.MR * LDA];
            }
            case "tn" -> {
                // A(r, k) = a[k·ld + r] with ld = 6·aPanels (an A of all the panels' rows, transposed).
                ars = 1;
                aks = aPanels * GemmPacked.MR;
                aArr = new float[kc * aks];
            }
            case "packed" -> {
                ars = 1;
                aks = GemmPacked.MR;
                aArr = new float[aPanels * GemmPacked.MR * kc];
            }
            default -> throw new IllegalArgumentException(layout);
        }
        for (int i = 0; i < aArr.length; i++) {
            aArr[i] = (i % 7) * 0.01f;
        }
        // The micro-panel where the GEMM packs it: from bPad, on a cache line under the @Fork's alignment.
        bo = GemmPacked.bPad;
        bp = new float[kc * GemmPacked.NR + GemmPacked.PAD_SLACK];
        for (int i = 0; i < bp.length; i++) {
            bp[i] = (i % 5) * 0.01f;
        }
        cArr = new float[cTiles * GemmPacked.MR * GemmPacked.NR];
    }

    private int aOffset(int p) {
        return switch (layout) {
            case "nt" -> p * GemmPacked.MR * LDA;
            case "tn" -> p * GemmPacked.MR;
            default -> p * GemmPacked.MR * kc;
        };
    }

    /** One tile: the next panel of A (cycling) against the B micro-panel, into the next tile of C. */
    @Benchmark
    public float[] tile(Rate rate) {
        int i = next++;
        int p = i % aPanels, t = i % cTiles;
        GemmPacked.kernel(4, kc, aArr, aOffset(p), ars, aks, bp, bo, cArr, t * GemmPacked.MR * GemmPacked.NR,
                GemmPacked.NR, true);
        rate.gflop += 2.0 * GemmPacked.MR * GemmPacked.NR * kc / 1e9;
        return cArr;
    }
}
