package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

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

    /**
     * q − 32 as floats for L consecutive l of one half, part p giving elements l + 32p: the low
     * (p = 0, 1) or high (p = 2, 3) nibbles of {@code low} (ql[l] for even p, ql[l+32] for odd p) with
     * bits 2p, 2p+1 of {@code high} (qh[l]) as bits 4-5.
     */
    static FloatVector quant(ByteVector low, ByteVector high, int part) {
        // Shifts in 16-bit lanes (x86 has none for bytes); bits crossing into the neighbouring byte
        // land outside the masks. top: bits 2p, 2p+1 of each byte moved to bits 4-5.
        ShortVector nibble = low.reinterpretAsShorts().lanewise(LSHR, 4 * (part >> 1)).and((short) 0x0f0f);
        ShortVector top = high.reinterpretAsShorts().lanewise(LSHR, 2 * part).lanewise(LSHL, 4).and((short) 0x3030);
        return QuantSimd.toFloats(nibble.or(top).reinterpretAsBytes().sub((byte) 32));
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

    /**
     * Each vector of L products has one sub-block scale: multiply, then fused multiply-add by d·s_j.
     * One call per super-block returning a float, and one loop body per two quant vectors (parts by
     * variable shifts, not four unrolled copies), keep each compiled body within the JIT's inlining
     * budget: past it, vector operations are left as calls on boxed vectors, many times slower.
     */
    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        float sum = 0f;
        for (int b = 0; b < n / BLOCK; b++) {
            sum += superBlockDot(w, off + (long) b * BYTES, x, xOff + b * BLOCK);
        }
        return sum;
    }

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
