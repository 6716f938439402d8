package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.L;

/**
 * Q8_0 (ggml's block_q8_0): blocks of 32 weights in 34 bytes, an f16 scale d then 32 signed bytes q;
 * w_j = d·q_j. d = max|x| / 127 and q_j = round(x_j / d), ties away from zero.
 */
final class Q8_0 implements Format {
    static final int BLOCK = 32, BYTES = 34;

    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        for (int b = 0; b < n / BLOCK; b++) {
            int base = xOff + b * BLOCK;
            long o = off + (long) b * BYTES;
            float d = Math.abs(QuantSimd.largestMagnitude(x, base, BLOCK)) / 127f;
            float id = QuantSimd.putScale(dst, o, d);
            for (int j = 0; j < BLOCK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) QuantSimd.roundHalfAway(x[base + j] * id));
            }
        }
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o);
            for (int j = 0; j < BLOCK; j++) {
                y[yOff + b * BLOCK + j] = src.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
            }
        }
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = off + (long) b * BYTES;
            float d = QuantSimd.f16(src, o);
            for (int c = 0; c < BLOCK; c += L) {
                QuantSimd.toFloats(QuantSimd.bytes(src, o + 2 + c)).mul(d).intoArray(y, yOff + b * BLOCK + c);
            }
        }
    }

    /**
     * Per block Σ q_j·x_j in a vector, then one fused multiply-add by d into one of two accumulators, even and
     * odd blocks in turn, so that a block's multiply-add need not wait for the previous block's. Measured (Zen 5,
     * 2 cores, frozen): Llama-3.2-1B Q8_0 decode, 2 threads, median of 3 runs 11.9 → 16.8 tok/s (llama.cpp
     * 17.1), although the kernel alone on one thread in L2 gained nothing clear. Kept small on purpose: a
     * 396-byte form (two blocks per step plus an odd tail) was not inlined into WeightMatrix's row loop and ran
     * slower; converting the row's f16 scales in a pre-pass was slower too.
     */
    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        FloatVector acc = FloatVector.zero(F), other = FloatVector.zero(F);
        long o = off;
        // the loop steps x's index and the weight offset together: indexed by a multiple of a block count, C2
        // compiled every load's bounds check into the loop
        for (int xb = xOff, end = xOff + n; xb < end; xb += BLOCK, o += BYTES) {
            // the first product a plain multiply, not an FMA onto zero
            FloatVector block = QuantSimd.toFloats(QuantSimd.bytes(w, o + 2)).mul(QuantSimd.x(x, xb));
            for (int c = L; c < BLOCK; c += L) {
                block = QuantSimd.toFloats(QuantSimd.bytes(w, o + 2 + c)).fma(QuantSimd.x(x, xb + c), block);
            }
            // C2 unrolls the loop by two: the swap costs nothing
            FloatVector next = block.fma(FloatVector.broadcast(F, QuantSimd.f16(w, o)), other);
            other = acc;
            acc = next;
        }
        return Simd.sum(acc.add(other));
    }
}
