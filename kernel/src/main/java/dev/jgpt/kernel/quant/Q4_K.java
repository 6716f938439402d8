package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.L;

/**
 * Q4_K (ggml's block_q4_K): super-blocks of 256 weights in 144 bytes, as 8 sub-blocks of 32 with a
 * 6-bit scale s_j and a 6-bit minimum m_j each: w = d·s_j·q − dmin·m_j, q a 4-bit quant.
 * <pre>
 *   bytes 0-1     d    (f16)  scale of the sub-block scales
 *   bytes 2-3     dmin (f16)  scale of the sub-block minimums
 *   bytes 4-15    s_j, m_j packed in 12 bytes (below)
 *   bytes 16-143  quants: 4 groups of 32 bytes; group g holds sub-block 2g in its low nibbles and
 *                 sub-block 2g+1 in its high nibbles (element 64g + l and 64g + 32 + l in byte l)
 * </pre>
 * Packing of the scales, with p = bytes 4-15: for j &lt; 4, s_j = p[j] &amp; 63 and m_j = p[j+4] &amp; 63;
 * for j ≥ 4, the low 4 bits of s_j and m_j are the low and high nibble of p[j+4], and their top 2
 * bits are the top 2 bits of p[j−4] (for s_j) and of p[j] (for m_j).
 *
 * <p>Quantizing follows ggml: each sub-block gets the scale and minimum that minimise a weighted
 * squared error over a small search (ggml's make_qkx2_quants, weights |x| + RMS of the sub-block),
 * the 8 scales and minimums are themselves quantized to 6 bits against their maximum, and the quants
 * are recomputed against the stored scales.
 */
final class Q4_K implements Format {
    static final int BLOCK = 256, BYTES = 144, SUB = 32;

    /**
     * The 8 six-bit scales s_0 … s_7, one per byte (s_j in byte j), from the 12 packed bytes at p.
     * With a = bytes 0-7 and b = bytes 8-11: s_0..3 are the low 6 bits of bytes 0-3; s_4..7 are the
     * low nibbles of bytes 8-11 with the top 2 bits of bytes 0-3 above them.
     */
    static long scales(MemorySegment s, long p) {
        return scales(s.get(QuantSimd.LONG_LE, p), s.get(QuantSimd.INT_LE, p + 8) & 0xffffffffL);
    }

    static long scales(long a, long b) {
        return (a & 0x3f3f3f3fL) | ((b & 0x0f0f0f0fL) | (a >>> 2 & 0x30303030L)) << 32;
    }

    /** The 8 six-bit minimums m_0 … m_7 likewise: bytes 4-7's low 6 bits; bytes 8-11's high nibbles under bytes 4-7's top 2 bits. */
    static long mins(MemorySegment s, long p) {
        return mins(s.get(QuantSimd.LONG_LE, p), s.get(QuantSimd.INT_LE, p + 8) & 0xffffffffL);
    }

    static long mins(long a, long b) {
        return (a >>> 32 & 0x3f3f3f3fL) | ((b >>> 4 & 0x0f0f0f0fL) | (a >>> 34 & 0x30303030L)) << 32;
    }

    /** Byte j of v, 0…255. */
    static int byteAt(long v, int j) {
        return (int) (v >>> 8 * j) & 0xff;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        byte[] q = new byte[BLOCK];
        byte[] qAux = new byte[SUB];
        float[] weights = new float[SUB];
        float[] mins = new float[BLOCK / SUB];
        float[] scales = new float[BLOCK / SUB];
        byte[] packed = new byte[12];
        for (int b = 0; b < n / BLOCK; b++) {
            int base = xOff + b * BLOCK;
            long o = off + (long) b * BYTES;
            float maxScale = 0f, maxMin = 0f;
            for (int j = 0; j < BLOCK / SUB; j++) {
                int sb = base + SUB * j;
                float sumX2 = 0f;
                for (int l = 0; l < SUB; l++) {
                    sumX2 += x[sb + l] * x[sb + l];
                }
                float avX = (float) Math.sqrt(sumX2 / 32f);
                for (int l = 0; l < SUB; l++) {
                    weights[l] = avX + Math.abs(x[sb + l]);
                }
                scales[j] = fitScaleAndMin(x, sb, weights, q, SUB * j, mins, j, qAux);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            java.util.Arrays.fill(packed, (byte) 0);
            for (int j = 0; j < BLOCK / SUB; j++) {
                // ggml stores nearest_int into a uint8_t before clamping: keep its wrap-around.
                int ls = Math.min(63, QuantSimd.nearestInt(invScale * scales[j]) & 0xff);
                int lm = Math.min(63, QuantSimd.nearestInt(invMin * mins[j]) & 0xff);
                if (j < 4) {
                    packed[j] = (byte) ls;
                    packed[j + 4] = (byte) lm;
                } else {
                    packed[j + 4] = (byte) ((ls & 0x0f) | (lm & 0x0f) << 4);
                    packed[j - 4] |= (byte) ((ls >>> 4) << 6);
                    packed[j] |= (byte) ((lm >>> 4) << 6);
                }
            }
            QuantSimd.putF16(dst, o, maxScale / 63f);
            QuantSimd.putF16(dst, o + 2, maxMin / 63f);
            MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, o + 4, 12);
            float d = QuantSimd.f16(dst, o), dmin = QuantSimd.f16(dst, o + 2);
            long sc = scales(dst, o + 4), mn = mins(dst, o + 4);
            for (int j = 0; j < BLOCK / SUB; j++) {
                float dj = d * byteAt(sc, j);
                if (dj == 0f) {
                    continue; // ggml keeps the quants of the search
                }
                float mj = dmin * byteAt(mn, j);
                for (int l = 0; l < SUB; l++) {
                    int v = QuantSimd.nearestInt((x[base + SUB * j + l] + mj) / dj);
                    q[SUB * j + l] = (byte) Math.max(0, Math.min(15, v));
                }
            }
            for (int g = 0; g < BLOCK / 64; g++) {
                for (int l = 0; l < 32; l++) {
                    dst.set(ValueLayout.JAVA_BYTE, o + 16 + 32L * g + l,
                            (byte) (q[64 * g + l] | q[64 * g + 32 + l] << 4));
                }
            }
        }
    }

    /**
     * ggml's make_qkx2_quants for 32 values and 4-bit quants: fits x ≈ scale·q + min (min ≤ 0) with
     * weights w, trying 21 grid steps around 15 / (max − min) and solving the weighted least squares
     * for scale and min at each; keeps the best. Writes the quants to q[qOff..], −min to mins[j].
     */
    private static float fitScaleAndMin(float[] x, int xOff, float[] w, byte[] q, int qOff, float[] mins, int j,
                                        byte[] qAux) {
        final int nmax = 15;
        float min = x[xOff], max = x[xOff];
        float sumW = w[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < SUB; i++) {
            float v = x[xOff + i];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            sumW += w[i];
            sumX += w[i] * v;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            java.util.Arrays.fill(q, qOff, qOff + SUB, (byte) 0);
            mins[j] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0f;
        for (int i = 0; i < SUB; i++) {
            int l = Math.max(0, Math.min(nmax, QuantSimd.nearestInt(iscale * (x[xOff + i] - min))));
            q[qOff + i] = (byte) l;
            float diff = scale * l + min - x[xOff + i];
            bestError += w[i] * (diff * diff);
        }
        for (int step = 0; step <= 20; step++) {
            iscale = (-1f + 0.1f * step + nmax) / (max - min);
            float sumL = 0f, sumL2 = 0f, sumXL = 0f;
            for (int i = 0; i < SUB; i++) {
                int l = Math.max(0, Math.min(nmax, QuantSimd.nearestInt(iscale * (x[xOff + i] - min))));
                qAux[i] = (byte) l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[xOff + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0f;
                for (int i = 0; i < SUB; i++) {
                    float diff = thisScale * qAux[i] + thisMin - x[xOff + i];
                    error += w[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(qAux, 0, q, qOff, SUB);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[j] = -min;
        return scale;
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o), dmin = QuantSimd.f16(src, o + 2);
            long sc = scales(src, o + 4), mn = mins(src, o + 4);
            for (int g = 0; g < BLOCK / 64; g++) {
                float d0 = d * byteAt(sc, 2 * g), m0 = dmin * byteAt(mn, 2 * g);
                float d1 = d * byteAt(sc, 2 * g + 1), m1 = dmin * byteAt(mn, 2 * g + 1);
                int yb = yOff + b * BLOCK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = QuantSimd.u8(src, o + 16 + 32L * g + l);
                    y[yb + l] = d0 * (q & 0x0f) - m0;
                    y[yb + 32 + l] = d1 * (q >>> 4) - m1;
                }
            }
        }
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o), dmin = QuantSimd.f16(src, o + 2);
            long sc = scales(src, o + 4), mn = mins(src, o + 4);
            for (int g = 0; g < BLOCK / 64; g++) {
                float d0 = d * byteAt(sc, 2 * g), m0 = dmin * byteAt(mn, 2 * g);
                float d1 = d * byteAt(sc, 2 * g + 1), m1 = dmin * byteAt(mn, 2 * g + 1);
                int yb = yOff + b * BLOCK + 64 * g;
                for (int c = 0; c < 32; c += L) {
                    IntVector q = QuantSimd.unsigned(QuantSimd.bytes(src, o + 16 + 32L * g + c));
                    QuantSimd.lowNibbles(q).mul(d0).sub(m0).intoArray(y, yb + c);
                    QuantSimd.highNibbles(q).mul(d1).sub(m1).intoArray(y, yb + 32 + c);
                }
            }
        }
    }

    /*
     * The dot product. Σ (d·s_j·q − dmin·m_j)·x = Σ_j d·s_j·(Σ q·x) − Σ_j dmin·m_j·(Σ x): the quants
     * multiply x as they are (0…15), and the minimums take their share from sums of x computed once
     * per vector x ({@link #prepare}).
     *
     * With 16 floats per vector the quants are read 64 bytes at a time as 16 ints: lane i holds bytes
     * 4i…4i+3, and one shift and one and-or (one vpternlogd) put one nibble of each lane's k-th byte in bits
     * 19-22 under the exponent of 1.0: the float f = 1 + q/16, with no int-to-float conversion. Then
     * q = 16·f − 16, and Σ d·s_j·q·x = 16·d·s_j·Σ f·x − 16·d·s_j·Σx: the scales' lanes meet −Σx too. The
     * rounding error grows by at most 2× (f·x summed, then scaled by 16), far inside the tests' bound. Measured
     * against shift, mask and convert (Zen 4, one thread, BuildPair, CPU time): 0.90-0.92× the time at 768 × 3072,
     * 2048 × 2048 and 8192 × 2048, 0.98-1.01× at 768 × 768, 3072 × 768 and 2048 × 8192. The x loads weigh as much on
     * Zen 4: a zmm load from L1 takes ~2 cycles there (measured), and lane-ordered x is 17 loads per super-block.
     * Those 16 quants are not 16 consecutive weights, so prepare also lays x out in that lane order
     * (once per vector x, for all rows): then every x vector is one load. A 64-byte chunk c holds
     * sub-blocks 4c, 4c+1 in lanes 0-7 and 4c+2, 4c+3 in lanes 8-15 (low, high nibbles). The block's 8
     * scales and 8 minimums are unpacked from their 12 bytes with a few 4-lane int operations, then widened
     * and converted once to 16 float lanes (s_0…s_7, m_0…m_7): times (16·d, dmin), scales and minimums meet the
     * 8 sub-block sums of x (prepared twice, −Σx) in one multiply-add; the scales times 16·d, int shuffles
     * of their bits spread the scales to the chunks' lanes. Float shuffles are avoided: after other code
     * has used them, C2 left them (and every vector operation depending on them) as calls on boxed vectors here.
     * Other vector sizes read 16 bytes at a time in order.
     */

    /** The int-lane kernel above: 16 floats per vector. */
    static final boolean LANE_ORDER = L == 16;
    /** Per super-block: 256 x values in lane order (two chunks of 128), then −Σx of each sub-block, twice (for the scales' and the minimums' lanes). */
    private static final int PREPARED = 256 + 16;
    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR, LSHL = VectorOperators.LSHL;
    /** Bits 19-22 (the top of a float's mantissa) and the bits of 1.0f: a nibble there reads as 1 + q/16. */
    private static final int NIBBLE = 0x00780000, ONE = 0x3f800000;
    private static final jdk.incubator.vector.VectorMask<Float> HIGH_LANES =
            LANE_ORDER ? jdk.incubator.vector.VectorMask.fromLong(F, 0xff00L) : null;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    /**
     * The block's first 16 bytes, ints 0-3 of a 16-int load (d and dmin, then the 12 packed bytes a0 = bytes 4-7,
     * a1 = 8-11, b = 12-15), give (s_0…s_7, m_0…m_7) as in {@link #scales} and {@link #mins}: lane j is byte j % 4 of
     * (a0, b, a1, b >>> 4)[j / 4] under masks 63, 15, 63, 15, or'd with (·, a0, ·, a1)[j / 4] >>> 2 under 0, 48, 0, 48.
     * In the 16-int species, not a 4-int one: IntVector's scalar-argument methods (and(int), lanewise(op, int), and
     * the shift-count mask inside lanewise(shift, vector)) keep one type profile for every caller, so 4-int vectors
     * here and 16-int ones in the loop below made it bimorphic; C2 then compiled both classes' paths and boxed the
     * vectors where they met, and decode ran 5-8× slower in most runs with bin/jgpt's JIT flags and in some without
     * (Zen 4, `jgpt generate --weights q4_k` on GPT-2: 10-20 against 63-126 tok/s). One vector class per element type
     * keeps every profile monomorphic.
     */
    private static final VectorShuffle<Integer> LOW_BITS = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, j -> new int[] {1, 3, 2, 3}[j / 4]) : null,
            TOP_BITS = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, j -> new int[] {0, 1, 0, 2}[j / 4]) : null;
    private static final IntVector LOW_SHIFTS = lanes(j -> new int[] {0, 0, 0, 4}[j / 4] + 8 * (j % 4)),
            LOW_MASKS = lanes(j -> new int[] {63, 15, 63, 15}[j / 4]),
            TOP_SHIFTS = lanes(j -> 2 + 8 * (j % 4)),
            TOP_MASKS = lanes(j -> new int[] {0, 48, 0, 48}[j / 4]);
    /** Chunk c's scale lanes from (s_0…s_7, m_0…m_7): low nibbles s_{4c + 2·(i / 8)}, high nibbles s_{4c + 1 + 2·(i / 8)}. */
    private static final VectorShuffle<Integer> LOW_SCALES_0 = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, i -> 2 * (i / 8)) : null,
            HIGH_SCALES_0 = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, i -> 1 + 2 * (i / 8)) : null,
            LOW_SCALES_1 = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, i -> 4 + 2 * (i / 8)) : null,
            HIGH_SCALES_1 = LANE_ORDER ? VectorShuffle.fromOp(QuantSimd.I, i -> 5 + 2 * (i / 8)) : null;

    /** The 16-int vector of f(j) for lane j (null where the lane-order kernel is not used). */
    private static IntVector lanes(java.util.function.IntUnaryOperator f) {
        return LANE_ORDER ? IntVector.fromArray(QuantSimd.I, java.util.stream.IntStream.range(0, L).map(f).toArray(), 0) : null;
    }

    private final ThreadLocal<float[]> scratch = new ThreadLocal<>();

    /** Lane-ordered x with −Σx per sub-block (16 floats per vector), or the sums of x per sub-block. */
    @Override
    public float[] prepare(float[] x, int xOff, int n) {
        if (!LANE_ORDER) {
            float[] sums = Format.scratch(scratch, n / SUB);
            Format.blockSums(x, xOff, n, SUB, 1f, sums, 0);
            return sums;
        }
        float[] p = Format.scratch(scratch, n / BLOCK * PREPARED);
        for (int b = 0; b < n / BLOCK; b++) {
            int xb = xOff + b * BLOCK, pb = b * PREPARED;
            for (int c = 0; c < 2; c++) {   // lane i, byte k: 64-element group 2c + i/8, nibble's 32, byte 4·(i%8) + k
                Format.laneOrder(x, xb + 128 * c, 64, 32, p, pb + 128 * c);
            }
            Format.blockSums(x, xb, BLOCK, SUB, -1f, p, pb + 256);
            System.arraycopy(p, pb + 256, p, pb + 256 + 8, 8);
        }
        return p;
    }

    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        return LANE_ORDER ? laneOrderDot(w, off, prepared, n) : inOrderDot(w, off, x, xOff, n, prepared);
    }

    /**
     * Per super-block and chunk: the quants of byte k, low and high nibbles, in two chains, times the
     * scale lanes (16·d included); the scale and minimum lanes times the prepared −Σx lanes. Per block that
     * is one conversion of the scales and minimums (the scalar unpacking and the per-chunk conversions it
     * replaces took ~7% of the time). Loops, not unrolled copies, keep the compiled body within the JIT's
     * inlining budget; no helper methods of ours carry vectors in it (see {@link Q6_K}'s: such a call may
     * stay a call on boxed vectors).
     */
    private static float laneOrderDot(MemorySegment w, long off, float[] p, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, accMin = acc0;
        long o = off;
        // the loop counts in prepared floats: with each x index a constant past the loop variable, C2 checks
        // the bounds once before the loop instead of at every load
        for (int pb = 0, end = n / BLOCK * PREPARED; pb < end; pb += PREPARED, o += BYTES) {
            // d and dmin not through QuantSimd.f16: C2 stops inlining when the method's graph grows large,
            // and a call left in this loop spills every vector register
            // 64 bytes from the block's start: the 16-byte head and quants of the same 144-byte block
            IntVector head = IntVector.fromMemorySegment(QuantSimd.I, w, o, QuantSimd.LE);
            int halves = head.lane(0);
            float d = Float.float16ToFloat((short) halves), dmin = Float.float16ToFloat((short) (halves >>> 16));
            FloatVector scalesMins = (FloatVector) head.rearrange(LOW_BITS).lanewise(LSHR, LOW_SHIFTS).and(LOW_MASKS)
                    .or(head.rearrange(TOP_BITS).lanewise(LSHR, TOP_SHIFTS).and(TOP_MASKS)).convertShape(I2F, F, 0);
            // lanes 0-7: 16·d·s_j, lanes 8-15: dmin·m_j; both meet −Σx of their sub-block
            FloatVector scaled = scalesMins.mul(FloatVector.broadcast(F, 16f * d).blend(dmin, HIGH_LANES));
            accMin = scaled.fma(FloatVector.fromArray(F, p, pb + 256), accMin);
            IntVector scaleBits = scaled.reinterpretAsInts();   // 16·d·s_j in lanes 0-7
            for (int c = 0; c < 2; c++) {
                int pc = pb + 128 * c;
                IntVector q = IntVector.fromMemorySegment(QuantSimd.I, w, o + 16 + 64L * c, QuantSimd.LE);
                FloatVector low = FloatVector.zero(F), high = low;
                for (int k = 0; k < 4; k++) {
                    // nibble q of byte k moved to bits 19-22 under the exponent of 1.0: the float 1 + q/16
                    IntVector lowBits = k == 3 ? q.lanewise(LSHR, 5) : q.lanewise(LSHL, 19 - 8 * k);
                    IntVector highBits = k >= 2 ? q.lanewise(LSHR, 8 * k - 15) : q.lanewise(LSHL, 15 - 8 * k);
                    FloatVector lowK = lowBits.and(NIBBLE).or(ONE).reinterpretAsFloats();
                    FloatVector highK = highBits.and(NIBBLE).or(ONE).reinterpretAsFloats();
                    low = lowK.fma(FloatVector.fromArray(F, p, pc + 16 * k), low);
                    high = highK.fma(FloatVector.fromArray(F, p, pc + 64 + 16 * k), high);
                }
                acc0 = low.fma(scaleBits.rearrange(c == 0 ? LOW_SCALES_0 : LOW_SCALES_1).reinterpretAsFloats(), acc0);
                acc1 = high.fma(scaleBits.rearrange(c == 0 ? HIGH_SCALES_0 : HIGH_SCALES_1).reinterpretAsFloats(), acc1);
            }
        }
        // Simd.sum's tree written out (16 lanes): at this once-per-call site C2 may leave a call to it,
        // which takes the vector boxed, one allocation per row
        FloatVector v = acc0.add(acc1).add(accMin);
        v = v.add(v.rearrange(Simd.FOLD_8));
        v = v.add(v.rearrange(Simd.FOLD_4));
        v = v.add(v.rearrange(Simd.FOLD_2));
        v = v.add(v.rearrange(Simd.FOLD_1));
        return v.lane(0);
    }

    /** Other vector sizes: 16 quant bytes at a time, in order; xSums are the sums of x per sub-block. */
    private static float inOrderDot(MemorySegment w, long off, float[] x, int xOff, int n, float[] xSums) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;   // two chains: even and odd sub-blocks
        float minSum = 0f;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            int xb = xOff + b * BLOCK, sb = b * (BLOCK / SUB);
            float d = QuantSimd.f16(w, o), dmin = QuantSimd.f16(w, o + 2);
            long sc = scales(w, o + 4), mn = mins(w, o + 4);
            float blockMins = 0f;
            for (int g = 0; g < BLOCK / 64; g++) {
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                for (int c = 0; c < 32; c += L) {
                    IntVector q = QuantSimd.unsigned(QuantSimd.bytes(w, o + 16 + 32L * g + c));
                    s0 = QuantSimd.lowNibbles(q).fma(QuantSimd.x(x, xb + 64 * g + c), s0);
                    s1 = QuantSimd.highNibbles(q).fma(QuantSimd.x(x, xb + 64 * g + 32 + c), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, d * byteAt(sc, 2 * g)), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, d * byteAt(sc, 2 * g + 1)), acc1);
                blockMins += byteAt(mn, 2 * g) * xSums[sb + 2 * g] + byteAt(mn, 2 * g + 1) * xSums[sb + 2 * g + 1];
            }
            minSum += dmin * blockMins;
        }
        return Simd.sum(acc0.add(acc1)) - minSum;
    }
}
