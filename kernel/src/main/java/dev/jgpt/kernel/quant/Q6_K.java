package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.ByteVector;
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
 * Q6_K (ggml's block_q6_K): super-blocks of 256 weights in 210 bytes, as 16 sub-blocks of 16 with a
 * signed 8-bit scale s_j each: w = d·s_j·(q − 32), q a 6-bit quant.
 * <pre>
 *   bytes 0-127    ql: low 4 bits of the quants
 *   bytes 128-191  qh: high 2 bits of the quants
 *   bytes 192-207  s_0 … s_15 (int8)
 *   bytes 208-209  d (f16)
 * </pre>
 * Each half h (elements 128h … 128h+127) uses 64 bytes of ql and 32 of qh; for l &lt; 32, with
 * a = ql[64h + l], b = ql[64h + 32 + l], c = qh[32h + l]: element 128h + l is (a &amp; 15) | (c &amp; 3) &lt;&lt; 4,
 * +32 is (b &amp; 15) | (c &gt;&gt; 2 &amp; 3) &lt;&lt; 4, +64 is (a &gt;&gt; 4) | (c &gt;&gt; 4 &amp; 3) &lt;&lt; 4, +96 is
 * (b &gt;&gt; 4) | (c &gt;&gt; 6) &lt;&lt; 4; element e has scale s_{e / 16}.
 *
 * <p>Quantizing follows ggml: each sub-block's scale is the best of 19 grid points around 32 / max
 * (ggml's make_qx_quants, weights x²), the scales are quantized to 8 bits against the largest, and the
 * quants recomputed against the stored scales.
 */
final class Q6_K implements Format {
    static final int BLOCK = 256, BYTES = 210, SUB = 16;
    private static final long QH = 128, SCALES = 192, D = 208;
    /** ggml's GROUP_MAX_EPS: a sub-block (or super-block scale) smaller than this is all zeros. */
    private static final float EPS = 1e-15f;

    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        byte[] q = new byte[BLOCK];
        float[] scales = new float[BLOCK / SUB];
        for (int b = 0; b < n / BLOCK; b++) {
            int base = xOff + b * BLOCK;
            long o = off + (long) b * BYTES;
            float maxScale = 0f, maxAbsScale = 0f;
            for (int j = 0; j < BLOCK / SUB; j++) {
                float scale = fitScale(x, base + SUB * j, q, SUB * j);
                scales[j] = scale;
                if (Math.abs(scale) > maxAbsScale) {
                    maxAbsScale = Math.abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < EPS) {
                dst.asSlice(o, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128f / maxScale;
            QuantSimd.putF16(dst, o + D, 1 / iscale);
            for (int j = 0; j < BLOCK / SUB; j++) {
                dst.set(ValueLayout.JAVA_BYTE, o + SCALES + j, (byte) Math.min(127, QuantSimd.nearestInt(iscale * scales[j])));
            }
            float d = QuantSimd.f16(dst, o + D);
            for (int j = 0; j < BLOCK / SUB; j++) {
                float dj = d * dst.get(ValueLayout.JAVA_BYTE, o + SCALES + j);
                if (dj == 0f) {
                    continue; // ggml keeps the quants of the search
                }
                for (int i = 0; i < SUB; i++) {
                    int l = QuantSimd.nearestInt(x[base + SUB * j + i] / dj);
                    q[SUB * j + i] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            for (int h = 0; h < 2; h++) {
                int e = 128 * h;
                for (int l = 0; l < 32; l++) {
                    int q1 = q[e + l], q2 = q[e + l + 32], q3 = q[e + l + 64], q4 = q[e + l + 96];
                    dst.set(ValueLayout.JAVA_BYTE, o + 64L * h + l, (byte) ((q1 & 0x0f) | (q3 & 0x0f) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, o + 64L * h + 32 + l, (byte) ((q2 & 0x0f) | (q4 & 0x0f) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, o + QH + 32L * h + l,
                            (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
                }
            }
        }
    }

    /**
     * ggml's make_qx_quants for 16 values, nmax = 32, weights x²: quants l ∈ [−32, 31] for
     * x ≈ scale·l, starting from −32 / max (max the value of largest magnitude, with its sign) and
     * trying iscale = −(32 + 0.1·k) / max for k = −9 … 9, keeping the least-squares scale of the best.
     * Writes l + 32 to q[qOff..].
     */
    private static float fitScale(float[] x, int xOff, byte[] q, int qOff) {
        final int nmax = 32;
        float max = QuantSimd.largestMagnitude(x, xOff, SUB);
        if (Math.abs(max) < EPS) {
            java.util.Arrays.fill(q, qOff, qOff + SUB, (byte) 0);
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0f, sumL2 = 0f;
        for (int i = 0; i < SUB; i++) {
            float v = x[xOff + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, QuantSimd.nearestInt(iscale * v)));
            q[qOff + i] = (byte) (l + nmax);
            float w = v * v;
            sumLX += w * v * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0f ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int k = -9; k <= 9; k++) {
            if (k == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * k) / max;
            sumLX = 0f;
            sumL2 = 0f;
            for (int i = 0; i < SUB; i++) {
                float v = x[xOff + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, QuantSimd.nearestInt(iscale * v)));
                float w = v * v;
                sumLX += w * v * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < SUB; i++) {
                    int l = QuantSimd.nearestInt(iscale * x[xOff + i]);
                    q[qOff + i] = (byte) (nmax + Math.max(-nmax, Math.min(nmax - 1, l)));
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o + D);
            for (int h = 0; h < 2; h++) {
                int yb = yOff + b * BLOCK + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int a = QuantSimd.u8(src, o + 64L * h + l), bb = QuantSimd.u8(src, o + 64L * h + 32 + l);
                    int c = QuantSimd.u8(src, o + QH + 32L * h + l);
                    long s = o + SCALES + 8L * h + l / 16;
                    y[yb + l] = d * src.get(ValueLayout.JAVA_BYTE, s) * ((a & 0x0f | (c & 3) << 4) - 32);
                    y[yb + l + 32] = d * src.get(ValueLayout.JAVA_BYTE, s + 2) * ((bb & 0x0f | (c >> 2 & 3) << 4) - 32);
                    y[yb + l + 64] = d * src.get(ValueLayout.JAVA_BYTE, s + 4) * ((a >> 4 | (c >> 4 & 3) << 4) - 32);
                    y[yb + l + 96] = d * src.get(ValueLayout.JAVA_BYTE, s + 6) * ((bb >> 4 | (c >> 6) << 4) - 32);
                }
            }
        }
    }

    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR, LSHL = VectorOperators.LSHL;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;

    /**
     * q − 32 as floats for L consecutive l of one half, part p giving elements l + 32p: the low
     * (p = 0, 1) or high (p = 2, 3) nibbles of {@code low} (ql[l] for even p, ql[l+32] for odd p) with
     * bits 2p, 2p+1 of {@code high} (qh[l]) as bits 4-5.
     */
    static FloatVector quant(ByteVector low, ByteVector high, int part) {
        // In int lanes, a byte each, not in 16-bit lanes: the f16/bf16 kernels use another shape of ShortVector,
        // and two shapes of one element type make the Vector API's shared type profiles bimorphic (see Q4_K's).
        IntVector nibble = QuantSimd.unsigned(low).lanewise(LSHR, 4 * (part >> 1)).and(0x0f);
        IntVector top = QuantSimd.unsigned(high).lanewise(LSHR, 2 * part).and(3).lanewise(LSHL, 4);
        return (FloatVector) nibble.or(top).sub(32).convertShape(I2F, F, 0);
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o + D);
            for (int h = 0; h < 2; h++) {
                int yb = yOff + b * BLOCK + 128 * h;
                for (int c = 0; c < 32; c += L) {
                    ByteVector a = QuantSimd.bytes(src, o + 64L * h + c), bb = QuantSimd.bytes(src, o + 64L * h + 32 + c);
                    ByteVector hi = QuantSimd.bytes(src, o + QH + 32L * h + c);
                    long s = o + SCALES + 8L * h + c / 16;
                    quant(a, hi, 0).mul(d * src.get(ValueLayout.JAVA_BYTE, s)).intoArray(y, yb + c);
                    quant(bb, hi, 1).mul(d * src.get(ValueLayout.JAVA_BYTE, s + 2)).intoArray(y, yb + c + 32);
                    quant(a, hi, 2).mul(d * src.get(ValueLayout.JAVA_BYTE, s + 4)).intoArray(y, yb + c + 64);
                    quant(bb, hi, 3).mul(d * src.get(ValueLayout.JAVA_BYTE, s + 6)).intoArray(y, yb + c + 96);
                }
            }
        }
    }

    /*
     * The dot product. Σ d·s_j·(q − 32)·x = d·(Σ_j s_j·(Σ q·x) − 32·Σ_j s_j·(Σ x)): the quants multiply x as
     * they are (0…63), and the offset takes its share from the 16 sub-block sums of x prepared once per
     * vector x ({@link #prepare}), one multiply by the block's scales.
     *
     * With 16 floats per vector, 64 bytes of ql (half h) are read as 16 ints: lanes 0-7 hold bytes
     * a = ql[64h + l] and lanes 8-15 bytes b = ql[64h + 32 + l], l = 4·(i%8) + k for byte k of lane i;
     * qh[32h + l], the high bits of both, is read into both halves, shifted right by 2 in lanes 8-15 (b
     * uses bits 2-3 and 6-7 where a uses 0-1 and 4-5). Two int vectors then hold every byte's two 6-bit
     * quants (low nibbles with bits 0-1, high nibbles with bits 4-5 of the high byte), and one shift
     * and one mask give byte k's quants as a float vector. prepare lays x out in that lane order (once
     * per vector x, for all rows). Lanes 4m…4m+3 of a half's low (high) quants are sub-block
     * 8h + m (8h + 4 + m): their scales, the block's 16 signed bytes widened to 16 int lanes once, are
     * spread to lanes by int shuffles; converted to floats as they are, they meet the sub-block sums.
     * Float shuffles are avoided: after other code has used them, C2 left them (and every vector
     * operation depending on them) as calls on boxed vectors here.
     * Other vector sizes use the per-element layout below.
     */

    /** The int-lane kernel above: 16 floats per vector. */
    static final boolean LANE_ORDER = L == 16;
    /**
     * Per super-block: its 256 x values in lane order (two halves of 128), then −32·Σx of each of its 16
     * sub-blocks. Not the offset per lane (32 more floats per block): a row's prepared x should stay in L1
     * beside the weights streaming through it, and at 8192 columns (Llama-3.2-1B's ffn_down) 320 floats per
     * block (40 kB) did not: 2048 × 8192 ran at 0.77× the time with 272 (BuildPair, one thread, CPU time).
     */
    private static final int HALF = 128, PREPARED = 2 * HALF + SUB;
    private static final VectorSpecies<Integer> I = QuantSimd.I;
    /** b's high bits are 2 higher than a's: lanes 8-15 shift right by 2. */
    private static final IntVector B_SHIFT = LANE_ORDER ? IntVector.zero(I).addIndex(1).div(8).mul(2) : null;
    /** Lane i of half h's low (high) quants has sub-block 8h + i/4 (8h + 4 + i/4): SCALES_{2h} (SCALES_{2h+1}). */
    private static final VectorShuffle<Integer> SCALES_0 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> i / 4) : null,
            SCALES_1 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> 4 + i / 4) : null,
            SCALES_2 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> 8 + i / 4) : null,
            SCALES_3 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> 12 + i / 4) : null;
    private static final VectorOperators.Conversion<Byte, Integer> B2I = VectorOperators.B2I;
    private static final VectorShuffle<Integer> QH_HALF_0 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> i % 8) : null,
            QH_HALF_1 = LANE_ORDER ? VectorShuffle.fromOp(I, i -> 8 + i % 8) : null;

    private final ThreadLocal<float[]> scratch = new ThreadLocal<>();

    /** Lane-ordered x with −32·Σx per sub-block (16 floats per vector), else nothing. */
    @Override
    public float[] prepare(float[] x, int xOff, int n) {
        if (!LANE_ORDER) {
            return null;
        }
        float[] p = Format.scratch(scratch, n / BLOCK * PREPARED);   // every element written below
        for (int b = 0; b < n / BLOCK; b++) {
            int xb = xOff + b * BLOCK, pb = b * PREPARED;
            for (int h = 0; h < 2; h++) {   // lane i, byte k: element 128h + 32·(i/8) + 64·nibble + 4·(i%8) + k
                Format.laneOrder(x, xb + 128 * h, 32, 64, p, pb + h * HALF);
            }
            Format.blockSums(x, xb, BLOCK, SUB, -32f, p, pb + 2 * HALF);
        }
        return p;
    }

    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        if (!LANE_ORDER) {
            float sum = 0f;
            for (int b = 0; b < n / BLOCK; b++) {
                sum += superBlockDot(w, off + (long) b * BYTES, x, xOff + b * BLOCK);
            }
            return sum;
        }
        return laneOrderDot(w, off, prepared, n);
    }

    /**
     * Per super-block and half: the quants of byte k, low and high, in two chains; then times the scale
     * lanes, onto the scales times the prepared offsets (−32·Σx per sub-block); per super-block times d. Loops, not unrolled
     * copies, keep the compiled body within the JIT's inlining budget; no helper methods of ours carry
     * vectors in it: after other code has run, C2 may keep such a helper as a call (compiled on its own,
     * or its call site profiled as cold), and every vector crossing that call is boxed.
     */
    private static float laneOrderDot(MemorySegment w, long off, float[] p, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        long o = off;
        // the loop counts in prepared floats: with each x index a constant past the loop variable, C2 checks
        // the bounds once before the loop instead of at every load
        for (int pb = 0, end = n / BLOCK * PREPARED; pb < end; pb += PREPARED, o += BYTES) {
            // read first, and not through QuantSimd.f16: C2 stops inlining when the method's graph grows
            // large, and a call left in this loop spills every vector register
            float d = Float.float16ToFloat(w.get(QuantSimd.SHORT_LE, o + D));
            IntVector qh = IntVector.fromMemorySegment(I, w, o + QH, QuantSimd.LE);
            IntVector scales = (IntVector) ByteVector.fromMemorySegment(QuantSimd.B, w, o + SCALES, QuantSimd.LE).convertShape(B2I, I, 0);   // s_0 … s_15, sign-extended
            IntVector high0 = qh.rearrange(QH_HALF_0).lanewise(LSHR, B_SHIFT), high1 = qh.rearrange(QH_HALF_1).lanewise(LSHR, B_SHIFT);
            // the offset: s_j·(−32·Σx) of the 16 sub-blocks, lane j
            FloatVector block0 = ((FloatVector) scales.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, p, pb + 2 * HALF));
            FloatVector block1 = FloatVector.zero(F);
            for (int h = 0; h < 2; h++) {
                int ph = pb + h * HALF;
                IntVector ql = IntVector.fromMemorySegment(I, w, o + 64L * h, QuantSimd.LE);
                IntVector hi = h == 0 ? high0 : high1;
                IntVector lowQuants = ql.and(0x0f0f0f0f).or(hi.lanewise(LSHL, 4).and(0x30303030));
                IntVector highQuants = ql.lanewise(LSHR, 4).and(0x0f0f0f0f).or(hi.and(0x30303030));
                FloatVector low = FloatVector.zero(F), high = low;
                for (int k = 0; k < 4; k++) {
                    // the top byte's bits 6-7 are 0: byte 3 needs no mask
                    IntVector lowBits = lowQuants.lanewise(LSHR, 8 * k), highBits = highQuants.lanewise(LSHR, 8 * k);
                    FloatVector lowK = (FloatVector) (k == 3 ? lowBits : lowBits.and(0x3f)).convertShape(I2F, F, 0);
                    FloatVector highK = (FloatVector) (k == 3 ? highBits : highBits.and(0x3f)).convertShape(I2F, F, 0);
                    low = lowK.fma(FloatVector.fromArray(F, p, ph + 16 * k), low);
                    high = highK.fma(FloatVector.fromArray(F, p, ph + 64 + 16 * k), high);
                }
                // the scales: lane i takes s_{8h + i/4} (low quants) or s_{8h + 4 + i/4} (high)
                IntVector lowScales = scales.rearrange(h == 0 ? SCALES_0 : SCALES_2), highScales = scales.rearrange(h == 0 ? SCALES_1 : SCALES_3);
                block0 = low.fma((FloatVector) lowScales.convertShape(I2F, F, 0), block0);
                block1 = high.fma((FloatVector) highScales.convertShape(I2F, F, 0), block1);
            }
            acc0 = block0.fma(FloatVector.broadcast(F, d), acc0);
            acc1 = block1.fma(FloatVector.broadcast(F, d), acc1);
        }
        // Simd.sum's tree written out (16 lanes): at this once-per-call site C2 may leave a call to it,
        // which takes the vector boxed, one allocation per row
        FloatVector v = acc0.add(acc1);
        v = v.add(v.rearrange(Simd.FOLD_8));
        v = v.add(v.rearrange(Simd.FOLD_4));
        v = v.add(v.rearrange(Simd.FOLD_2));
        v = v.add(v.rearrange(Simd.FOLD_1));
        return v.lane(0);
    }

    /**
     * Other vector sizes. Each vector of L products has one sub-block scale: multiply, then fused
     * multiply-add by d·s_j. One call per super-block returning a float, and one loop body per two
     * quant vectors (parts by variable shifts, not four unrolled copies), keep each compiled body within
     * the JIT's inlining budget: past it, vector operations are left as calls on boxed vectors.
     */
    private static float superBlockDot(MemorySegment w, long o, float[] x, int xb) {
        float d = QuantSimd.f16(w, o + D);
        long s0 = w.get(QuantSimd.LONG_LE, o + SCALES), s1 = w.get(QuantSimd.LONG_LE, o + SCALES + 8);
        // two chains of fused multiply-adds (parts 0, 2 and 1, 3), so their latency overlaps
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int h = 0; h < 2; h++) {
            long sh = h == 0 ? s0 : s1;                        // the 8 scales of this half
            for (int part = 0; part < 4; part += 2) {
                for (int c = 0; c < 32; c += L) {
                    ByteVector high = QuantSimd.bytes(w, o + QH + 32L * h + c);
                    int xe = xb + 128 * h + 32 * part + c;
                    FloatVector q0 = quant(QuantSimd.bytes(w, o + 64L * h + c), high, part);
                    FloatVector q1 = quant(QuantSimd.bytes(w, o + 64L * h + 32 + c), high, part + 1);
                    float scale0 = d * (byte) (sh >>> 8 * (c / 16 + 2 * part));
                    float scale1 = d * (byte) (sh >>> 8 * (c / 16 + 2 * part + 2));
                    acc0 = q0.mul(QuantSimd.x(x, xe)).fma(FloatVector.broadcast(F, scale0), acc0);
                    acc1 = q1.mul(QuantSimd.x(x, xe + 32)).fma(FloatVector.broadcast(F, scale1), acc1);
                }
            }
        }
        return Simd.sum(acc0.add(acc1));
    }
}
