package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.L;

/**
 * Q4_0 (ggml's block_q4_0): blocks of 32 weights in 18 bytes, an f16 scale d then 16 bytes of
 * nibbles; byte j holds q_j in its low and q_{j+16} in its high 4 bits, w_j = d·(q_j − 8).
 * d = m / −8 where m is the value of largest magnitude (with its sign), so m itself maps to q = 0;
 * q_j = min(15, trunc(x_j / d + 8.5)).
 */
final class Q4_0 implements Format {
    static final int BLOCK = 32, BYTES = 18;

    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        for (int b = 0; b < n / BLOCK; b++) {
            int base = xOff + b * BLOCK;
            long o = off + (long) b * BYTES;
            float d = QuantSimd.largestMagnitude(x, base, BLOCK) / -8f;
            float id = QuantSimd.putScale(dst, o, d);
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, (byte) (int) (x[base + j] * id + 8.5f));
                int hi = Math.min(15, (byte) (int) (x[base + BLOCK / 2 + j] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = QuantSimd.u8(src, o + 2 + j);
                y[yOff + b * BLOCK + j] = ((q & 0x0f) - 8) * d;
                y[yOff + b * BLOCK + BLOCK / 2 + j] = ((q >>> 4) - 8) * d;
            }
        }
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o);
            int yb = yOff + b * BLOCK;
            for (int c = 0; c < BLOCK / 2; c += L) {
                IntVector q = QuantSimd.unsigned(QuantSimd.bytes(src, o + 2 + c));
                QuantSimd.lowNibbles(q).sub(8f).mul(d).intoArray(y, yb + c);
                QuantSimd.highNibbles(q).sub(8f).mul(d).intoArray(y, yb + BLOCK / 2 + c);
            }
        }
    }

    /**
     * Σ_blocks d·Σ (q − 8)·x: the quants are widened to ints, masked or shifted to 0…15 and lowered by 8 in
     * integer lanes (exact), then per block a vector of products (the first a plain multiply, not an FMA onto
     * zero) and one fused multiply-add by d. No prepared x: the former form summed d·Σ q·x and subtracted
     * 8·d·Σx by a scalar multiply-add per block from prepared block sums of x, a few % slower (Zen 5, one
     * thread, frozen: 15.9 → 15.3 ns per 256 weights in L2). Two accumulators (even and odd blocks) were
     * slower here (18.1).
     */
    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            int xb = xOff + b * BLOCK;
            FloatVector block = FloatVector.zero(F);
            for (int c = 0; c < BLOCK / 2; c += L) {
                IntVector q = QuantSimd.unsigned(QuantSimd.bytes(w, o + 2 + c));
                FloatVector low = (FloatVector) q.and(0x0f).sub(8).convertShape(VectorOperators.I2F, F, 0);
                FloatVector high = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0);
                block = c == 0 ? low.mul(QuantSimd.x(x, xb)) : low.fma(QuantSimd.x(x, xb + c), block);
                block = high.fma(QuantSimd.x(x, xb + BLOCK / 2 + c), block);
            }
            acc = block.fma(FloatVector.broadcast(F, QuantSimd.f16(w, o)), acc);
        }
        return Simd.sum(acc);
    }
}
