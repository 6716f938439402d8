import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.S2I;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2I;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;

/**
 * Integer (int8-activation) dot products for Q8_0 and Q4_0 rows against the f32-activation kernels jgpt
 * uses (issue 13): can the Vector API, or C2's auto-vectorizer, do llama.cpp's vec_dot_q4_0_q8_0 faster
 * than dequantizing to f32 in registers? Each kernel is one row of ggml blocks (34 or 18 bytes per 32
 * weights) against x quantized per 32-block to int8 (held widened in a short[]) with one scale per block,
 * as ggml's block_q8_0 activations. Standalone (no jgpt classes):
 *
 * <pre>
 * for k in q8f32 q8f32y q8int q8s2i q8shift q4f32 q4int256 q4int256a q4s2iSub q4int512 q4shift; do
 *   java --add-modules jdk.incubator.vector benchmarks/scripts/IntDotRoutes.java $k 256 768; done   # in L2, one thread
 * java -Dthreads=2 --add-modules jdk.incubator.vector benchmarks/scripts/IntDotRoutes.java q4int256 131072 768  # from DRAM
 * java --add-modules jdk.incubator.vector benchmarks/scripts/IntDotRoutes.java auto 256 768     # C2 auto-vectorized loops
 * </pre>
 * Arguments: kernel (or {@code auto}), rows, cols. One kernel per process: kernels sharing a process share
 * the Vector API's profiles and one can compile worse after another (q4f32 ran at 7.7 or 3.5 GB/s so).
 * Prints GB/s of weight bytes (best of 7 slices); all kernels are first checked to agree on one row.
 *
 * <p>Measured 2026-11-30 on Zen 4 (AMD EPYC, cpu family 25, AVX512_VNNI/BW/VBMI, 2 cores, KVM), JDK 25,
 * under /work/tools/freeze.sh, one process per kernel, two rounds in alternating order (GB/s of weight bytes):
 * <pre>
 *                 L2, 1 thread, 256×768   L2, 1 thread, 64×3072   DRAM, 2 threads, 131072×768
 * q8f32 (jgpt)    15.9 17.1               19.0 21.2               27.5 26.8
 * q8f32y          14.4 14.4
 * q8int           16.4 16.4               18.8 18.8
 * q8s2i           16.4 16.2               20.4 20.4
 * q8shift         16.8 16.8               19.8 19.9               27.7 26.3
 * q4f32 (jgpt)     7.8  7.8                8.7  8.7               14.2-14.9, median 14.35 of 6
 * q4int256         9.8  8.9               10.4 10.5               13.8-16.4, median 15.65 of 6
 * q4int256a        9.2  9.2   (its own window: q4f32 7.9 7.9, q4int256 8.9 8.9)
 * q4s2iSub         8.0  8.0                9.5  9.5
 * q4int512         6.6  6.6                7.4  7.4
 * q4shift          6.8  6.9                7.7  7.7
 * </pre>
 * So: Q8_0 gains nothing; Q4_0 gains 15-25% from the cache (q4int256) and ~9% from DRAM at 2 threads
 * (where GPT-2's 4-bit decode also reads a q6_K head this does not touch). Every kernel here takes ~2 ns
 * (~7 cycles) per 32-weight block, and their compiled loops run 25-37 instructions per block (bounds
 * checks, the f16 scale through a general register, spills, the vector work): the integer forms spend
 * what they save in conversions on emulating the pairwise add. C2 emits no vpmaddwd / vpmaddubsw /
 * vpdpbusd / vpdpwssd from any Vector API form tried (ShortVector mul is vpmullw; pairs are summed by
 * vpslld, vpaddd, vpsrad, or widened by vpmovsxwd). Its SuperWord pass does emit vpmaddwd (MulAddVS2VI)
 * for {@code out[i] = a[2i]*b[2i] + a[2i+1]*b[2i+1]} over short[] into int[] ({@link #autoSOut}), and
 * vpdpwssd for the same with {@code out[i] +=} ({@link #autoSAcc}), but not for the sum as a reduction
 * into one int ({@link #autoS}: scalar movswl/imul), nor over byte[] ({@link #autoBOut}, {@link #autoB}:
 * scalar), and only on plain arrays of shorts: never on ggml's 34- or 18-byte blocks of bytes read from
 * a MemorySegment.
 */
public class IntDotRoutes {
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512, F256 = FloatVector.SPECIES_256;
    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128, B256 = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128, S256 = ShortVector.SPECIES_256, S512 = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512, I256 = IntVector.SPECIES_256;
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final VectorShuffle<Float> F8 = VectorShuffle.fromOp(F, i -> i ^ 8), F4 = VectorShuffle.fromOp(F, i -> i ^ 4),
            F2 = VectorShuffle.fromOp(F, i -> i ^ 2), F1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    static final VectorShuffle<Float> G4 = VectorShuffle.fromOp(F256, i -> i ^ 4), G2 = VectorShuffle.fromOp(F256, i -> i ^ 2),
            G1 = VectorShuffle.fromOp(F256, i -> i ^ 1);

    static float f16(MemorySegment s, long o) {
        return Float.float16ToFloat(s.get(SH, o));
    }

    /** A pairwise tree, as jgpt's Simd.sum (an ordered reduceLanes costs ~50 cycles per row). */
    static float sum(FloatVector v) {
        if (v.length() == 16) {
            v = v.add(v.rearrange(F8));
            v = v.add(v.rearrange(F4));
            v = v.add(v.rearrange(F2));
            return v.add(v.rearrange(F1)).lane(0);
        }
        v = v.add(v.rearrange(G4));
        v = v.add(v.rearrange(G2));
        return v.add(v.rearrange(G1)).lane(0);
    }

    /** jgpt's Q8_0 dot (f32 activations): 16 bytes → 16 floats (vpmovsxbd, vcvtdq2ps), fma; two accumulators. */
    static float q8f32(MemorySegment w, long off, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        for (int xb = 0; xb < n; xb += 32, o += 34) {
            FloatVector block = ((FloatVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            block = ((FloatVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).convertShape(B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), block);
            FloatVector next = block.fma(FloatVector.broadcast(F, f16(w, o)), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /** 32 bytes → 32 shorts (vpmovsxbw zmm), vpmullw by x, pairs summed to 16 ints as (p + (p << 16)) >> 16, one convert and fma. */
    static float q8int(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 34, b++) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B256, w, o + 2, LE).convertShape(B2S, S512, 0);
            IntVector p = q.mul(ShortVector.fromArray(S512, xq, xb)).reinterpretAsInts();
            IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /** Two 16-byte halves → shorts (ymm), times x, added in shorts (|sum| ≤ 2·127·127 fits), widened to 16 ints (vpmovsxwd). */
    static float q8s2i(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 34, b++) {
            ShortVector a = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0);
            ShortVector c = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).convertShape(B2S, S256, 0);
            ShortVector p = a.mul(ShortVector.fromArray(S256, xq, xb)).add(c.mul(ShortVector.fromArray(S256, xq, xb + 16)));
            IntVector s = (IntVector) p.convertShape(S2I, I, 0);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /**
     * No widening shuffle: the 32 bytes read as 16 shorts, even bytes (v << 8) >> 8 and odd v >> 8 (in-lane shifts),
     * times x laid out per block as 16 even then 16 odd, each product's pairs to 8 ints, 256-bit convert and fma.
     */
    static float q8shift(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F256), other = FloatVector.zero(F256);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 34, b++) {
            ShortVector v = ShortVector.fromMemorySegment(S256, w, o + 2, LE);
            ShortVector even = v.lanewise(LSHL, 8).lanewise(ASHR, 8), odd = v.lanewise(ASHR, 8);
            // four products can pass 2^15 (4·128·127): each vector's pairs are summed to ints on their own
            IntVector pe = even.mul(ShortVector.fromArray(S256, xq, xb)).reinterpretAsInts();
            IntVector po = odd.mul(ShortVector.fromArray(S256, xq, xb + 16)).reinterpretAsInts();
            IntVector s = pe.add(pe.lanewise(LSHL, 16)).lanewise(ASHR, 16).add(po.add(po.lanewise(LSHL, 16)).lanewise(ASHR, 16));
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /** jgpt's Q4_0 dot (f32 activations): 16 bytes → 16 ints, mask and shift, −8, two converts, mul and fma, fma by d. */
    static float q4f32(MemorySegment w, long off, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        long o = off;
        for (int xb = 0; xb < n; xb += 32, o += 18) {
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(ZERO_EXTEND_B2I, I, 0);
            FloatVector low = (FloatVector) q.and(0x0f).sub(8).convertShape(I2F, F, 0);
            FloatVector high = (FloatVector) q.lanewise(LSHR, 4).sub(8).convertShape(I2F, F, 0);
            FloatVector block = low.mul(FloatVector.fromArray(F, x, xb));
            block = high.fma(FloatVector.fromArray(F, x, xb + 16), block);
            acc = block.fma(FloatVector.broadcast(F, f16(w, o)), acc);
        }
        return sum(acc);
    }

    /** 16 bytes → 16 shorts (ymm), nibbles −8, two vpmullw, added, pairs to 8 ints by shifts, 256-bit convert and fma. */
    static float q4int256(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F256), other = FloatVector.zero(F256);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 18, b++) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(ZERO_EXTEND_B2S, S256, 0);
            ShortVector lo = q.and((short) 0x0f).sub((short) 8), hi = q.lanewise(LSHR, 4).sub((short) 8);
            IntVector p = lo.mul(ShortVector.fromArray(S256, xq, xb)).add(hi.mul(ShortVector.fromArray(S256, xq, xb + 16))).reinterpretAsInts();
            IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /** q4int256 with one accumulator: no register swaps in the loop (C2 unrolls neither form). */
    static float q4int256a(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F256);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 18, b++) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(ZERO_EXTEND_B2S, S256, 0);
            ShortVector lo = q.and((short) 0x0f).sub((short) 8), hi = q.lanewise(LSHR, 4).sub((short) 8);
            IntVector p = lo.mul(ShortVector.fromArray(S256, xq, xb)).add(hi.mul(ShortVector.fromArray(S256, xq, xb + 16))).reinterpretAsInts();
            IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
            acc = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, f16(w, o) * xd[b]), acc);
        }
        return sum(acc);
    }

    /** As q4int256 but the 16 shorts widened to 16 ints (vpmovsxwd zmm), 512-bit convert and fma. */
    static float q4s2iSub(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 18, b++) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(ZERO_EXTEND_B2S, S256, 0);
            ShortVector p = q.and((short) 0x0f).sub((short) 8).mul(ShortVector.fromArray(S256, xq, xb))
                    .add(q.lanewise(LSHR, 4).sub((short) 8).mul(ShortVector.fromArray(S256, xq, xb + 16)));
            IntVector s = (IntVector) p.convertShape(S2I, I, 0);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    static final ShortVector SHIFTS = ShortVector.fromArray(S512, shifts(), 0);
    static final VectorShuffle<Short> DUP = VectorShuffle.fromOp(S512, i -> i % 16);

    static short[] shifts() {
        short[] s = new short[32];
        for (int i = 16; i < 32; i++) {
            s[i] = 4;
        }
        return s;
    }

    /** 512-bit: 16 bytes zero-extended into lanes 0..15, copied to 16..31 (vpermw), per-lane shift 0 or 4, mask, one vpmullw. */
    static float q4int512(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 18, b++) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B256, w, o + 2, LE).convertShape(ZERO_EXTEND_B2S, S512, 0);
            q = q.rearrange(DUP).lanewise(LSHR, SHIFTS).and((short) 0x0f).sub((short) 8);
            IntVector p = q.mul(ShortVector.fromArray(S512, xq, xb)).reinterpretAsInts();
            IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    /** No widening: the 16 bytes as 8 shorts (xmm), four nibble vectors by shifts and masks, x laid out to match. */
    static float q4shift(MemorySegment w, long off, short[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F256), other = FloatVector.zero(F256);
        long o = off;
        for (int xb = 0, b = 0; xb < n; xb += 32, o += 18, b++) {
            ShortVector v = ShortVector.fromMemorySegment(S128, w, o + 2, LE);
            ShortVector n0 = v.and((short) 0xf).sub((short) 8), n1 = v.lanewise(LSHR, 4).and((short) 0xf).sub((short) 8);
            ShortVector n2 = v.lanewise(LSHR, 8).and((short) 0xf).sub((short) 8), n3 = v.lanewise(LSHR, 12).sub((short) 8);
            ShortVector p = n0.mul(ShortVector.fromArray(S128, xq, xb)).add(n1.mul(ShortVector.fromArray(S128, xq, xb + 8)))
                    .add(n2.mul(ShortVector.fromArray(S128, xq, xb + 16))).add(n3.mul(ShortVector.fromArray(S128, xq, xb + 24)));
            IntVector s = (IntVector) p.convertShape(S2I, I256, 0);
            FloatVector next = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, f16(w, o) * xd[b]), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }


    static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;

    /** q8f32 on 256-bit vectors, 8 bytes → 8 floats per step: Zen 4 splits 512-bit operations in two, yet this is slower. */
    static float q8f32y(MemorySegment w, long off, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F256), other = FloatVector.zero(F256);
        long o = off;
        for (int xb = 0; xb < n; xb += 32, o += 34) {
            FloatVector block = ((FloatVector) ByteVector.fromMemorySegment(B64, w, o + 2, LE).convertShape(B2F, F256, 0)).mul(FloatVector.fromArray(F256, x, xb));
            for (int c = 8; c < 32; c += 8) {
                block = ((FloatVector) ByteVector.fromMemorySegment(B64, w, o + 2 + c, LE).convertShape(B2F, F256, 0)).fma(FloatVector.fromArray(F256, x, xb + c), block);
            }
            FloatVector next = block.fma(FloatVector.broadcast(F256, f16(w, o)), other);
            other = acc;
            acc = next;
        }
        return sum(acc.add(other));
    }

    // C2 SuperWord candidates (plain arrays, one row of n weights)
    static int autoS(short[] a, short[] b, int n) {
        int s = 0;
        for (int i = 0; i < n / 2; i++) {
            s += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
        return s;
    }

    static void autoSOut(short[] a, short[] b, int[] out, int n) {
        for (int i = 0; i < n / 2; i++) {
            out[i] = a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
    }

    static void autoSAcc(short[] a, short[] b, int[] out, int n) {
        for (int i = 0; i < n / 2; i++) {
            out[i] += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
    }

    static void autoBOut(byte[] a, byte[] b, int[] out, int n) {
        for (int i = 0; i < n / 2; i++) {
            out[i] = a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
    }

    static int autoB(byte[] a, byte[] b, int n) {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    interface Row {
        float dot(int r);
    }

    static final int THREADS = Integer.getInteger("threads", 1);

    /** Rows split into one contiguous range per thread (as WeightMatrix.matvec); GB/s of bytes, best of 7 slices. */
    static void time(String name, long bytes, int rows, Row k) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(THREADS);
        List<Runnable> parts = new ArrayList<>();
        float[] sink = new float[THREADS];
        for (int t = 0; t < THREADS; t++) {
            int r0 = rows * t / THREADS, r1 = rows * (t + 1) / THREADS, tt = t;
            parts.add(() -> {
                float s = 0;
                for (int r = r0; r < r1; r++) {
                    s += k.dot(r);
                }
                sink[tt] += s;
            });
        }
        Runnable pass = THREADS == 1 ? parts.get(0) : () -> {
            try {
                List<Future<?>> f = new ArrayList<>();
                for (Runnable p : parts) {
                    f.add(ex.submit(p));
                }
                for (Future<?> x : f) {
                    x.get();
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
        for (long t0 = System.nanoTime(); System.nanoTime() - t0 < 2_000_000_000L; ) {
            pass.run();
        }
        double best = 0;
        for (int rep = 0; rep < 7; rep++) {
            long t = System.nanoTime();
            int it = 0;
            while (System.nanoTime() - t < 250_000_000L) {
                pass.run();
                it++;
            }
            best = Math.max(best, (double) bytes * it / (System.nanoTime() - t));
        }
        ex.shutdown();
        System.out.printf("%-9s %6.1f GB/s of weight bytes, %d×%d, %d thread(s), best of 7 (%s)%n", name, best,
                rows, bytes / rows, THREADS, sink[0] == 12345f ? "!" : "");
    }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "q4int256";
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 256, n = args.length > 2 ? Integer.parseInt(args[2]) : 768;
        if (n % 32 != 0) {
            throw new IllegalArgumentException("cols must be a multiple of 32");
        }
        SplittableRandom rng = new SplittableRandom(1);
        long b8 = (long) rows * n / 32 * 34, b4 = (long) rows * n / 32 * 18;
        // +32: q4int512 reads 32 bytes from a block's nibbles
        MemorySegment w8 = Arena.global().allocate(b8, 64), w4 = Arena.global().allocate(b4 + 32, 64);
        for (long i = 0; i < b8; i += 8) {
            w8.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rng.nextLong());
        }
        for (long i = 0; i < b4 + 32; i += 8) {
            w4.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rng.nextLong());
        }
        for (long b = 0; b < b8; b += 34) {
            w8.set(SH, b, Float.floatToFloat16(0.001f));
        }
        for (long b = 0; b < b4; b += 18) {
            w4.set(SH, b, Float.floatToFloat16(0.001f));
        }
        // x: int8 values xq with one scale 1/128 (exact), so every kernel sums the same products
        float[] x = new float[n], xd = new float[n / 32];
        short[] xs = new short[n], xe = new short[n], xn = new short[n];
        for (int i = 0; i < n; i++) {
            xs[i] = (short) (rng.nextInt(255) - 127);
            x[i] = xs[i] / 128f;
        }
        java.util.Arrays.fill(xd, 1 / 128f);
        for (int b = 0; b < n / 32; b++) {
            for (int k = 0; k < 16; k++) {      // q8shift: per block the 16 even then the 16 odd
                xe[b * 32 + k] = xs[b * 32 + 2 * k];
                xe[b * 32 + 16 + k] = xs[b * 32 + 2 * k + 1];
            }
            for (int k = 0; k < 8; k++) {       // q4shift: short k of the nibbles holds q_2k, q_2k+16, q_2k+1, q_2k+17
                xn[b * 32 + k] = xs[b * 32 + 2 * k];
                xn[b * 32 + 8 + k] = xs[b * 32 + 16 + 2 * k];
                xn[b * 32 + 16 + k] = xs[b * 32 + 2 * k + 1];
                xn[b * 32 + 24 + k] = xs[b * 32 + 17 + 2 * k];
            }
        }
        Map<String, Object[]> kernels = new LinkedHashMap<>();
        kernels.put("q8f32", new Object[] {b8, (Row) r -> q8f32(w8, (long) r * n / 32 * 34, x, n)});
        kernels.put("q8f32y", new Object[] {b8, (Row) r -> q8f32y(w8, (long) r * n / 32 * 34, x, n)});
        kernels.put("q8int", new Object[] {b8, (Row) r -> q8int(w8, (long) r * n / 32 * 34, xs, xd, n)});
        kernels.put("q8s2i", new Object[] {b8, (Row) r -> q8s2i(w8, (long) r * n / 32 * 34, xs, xd, n)});
        kernels.put("q8shift", new Object[] {b8, (Row) r -> q8shift(w8, (long) r * n / 32 * 34, xe, xd, n)});
        kernels.put("q4f32", new Object[] {b4, (Row) r -> q4f32(w4, (long) r * n / 32 * 18, x, n)});
        kernels.put("q4int256", new Object[] {b4, (Row) r -> q4int256(w4, (long) r * n / 32 * 18, xs, xd, n)});
        kernels.put("q4int256a", new Object[] {b4, (Row) r -> q4int256a(w4, (long) r * n / 32 * 18, xs, xd, n)});
        kernels.put("q4s2iSub", new Object[] {b4, (Row) r -> q4s2iSub(w4, (long) r * n / 32 * 18, xs, xd, n)});
        kernels.put("q4int512", new Object[] {b4, (Row) r -> q4int512(w4, (long) r * n / 32 * 18, xs, xd, n)});
        kernels.put("q4shift", new Object[] {b4, (Row) r -> q4shift(w4, (long) r * n / 32 * 18, xn, xd, n)});
        for (var e : kernels.entrySet()) {     // each format's kernels agree on row 0 (same products, other orders)
            float ref = ((Row) kernels.get(e.getKey().startsWith("q8") ? "q8f32" : "q4f32")[1]).dot(0);
            float got = ((Row) e.getValue()[1]).dot(0);
            if (Math.abs(got - ref) > 1e-4f * Math.max(1f, Math.abs(ref))) {
                throw new AssertionError(e.getKey() + " gives " + got + ", the f32 kernel " + ref);
            }
        }
        if (which.equals("auto")) {
            short[] a = new short[n];
            byte[] ab = new byte[n], xb = new byte[n];
            int[] out = new int[n / 2];
            for (int i = 0; i < n; i++) {
                ab[i] = (byte) rng.nextInt();
                a[i] = ab[i];
                xb[i] = (byte) xs[i];
            }
            // bytes counted as one per weight (int8), though autoS/autoSOut read them widened to shorts
            time("autoS", (long) rows * n, rows, r -> autoS(a, xs, n));
            time("autoSOut", (long) rows * n, rows, r -> {
                autoSOut(a, xs, out, n);
                return out[3];
            });
            time("autoSAcc", (long) rows * n, rows, r -> {
                autoSAcc(a, xs, out, n);
                return out[3];
            });
            time("autoBOut", (long) rows * n, rows, r -> {
                autoBOut(ab, xb, out, n);
                return out[3];
            });
            time("autoB", (long) rows * n, rows, r -> autoB(ab, xb, n));
            return;
        }
        Object[] k = kernels.get(which);
        if (k == null) {
            throw new IllegalArgumentException("kernels: " + kernels.keySet() + " or auto");
        }
        time(which, (Long) k[0], rows, (Row) k[1]);
    }
}
