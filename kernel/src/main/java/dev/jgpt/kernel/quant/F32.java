package dev.jgpt.kernel.quant;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.FLOAT_LE;
import static dev.jgpt.kernel.quant.QuantSimd.L;
import static dev.jgpt.kernel.quant.QuantSimd.LE;

/** f32: 4 little-endian bytes per weight, no blocks. */
final class F32 implements Format {
    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        MemorySegment.copy(x, xOff, dst, FLOAT_LE, off, n);
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        MemorySegment.copy(src, FLOAT_LE, off, y, yOff, n);
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        dequantize(src, off, y, yOff, n);
    }

    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            acc = FloatVector.fromMemorySegment(F, w, off + 4L * i, LE).fma(QuantSimd.x(x, xOff + i), acc);
        }
        float s = dev.jgpt.kernel.Simd.sum(acc);
        for (; i < n; i++) {
            s += w.get(FLOAT_LE, off + 4L * i) * x[xOff + i];
        }
        return s;
    }

    /**
     * The dots of the four rows at o0..o3 with x into y[yi..yi + 4), each the same float as {@link #dot} gives
     * (the same lane-wise chain, sum and tail): four independent chains of fused multiply-adds hide their
     * latency, and each x vector is loaded once for the four.
     */
    static void dot4(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] y, int yi) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector xv = QuantSimd.x(x, xOff + i);
            long b = 4L * i;
            a0 = FloatVector.fromMemorySegment(F, w, o0 + b, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, o1 + b, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, o2 + b, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, o3 + b, LE).fma(xv, a3);
        }
        float s0 = dev.jgpt.kernel.Simd.sum(a0), s1 = dev.jgpt.kernel.Simd.sum(a1);
        float s2 = dev.jgpt.kernel.Simd.sum(a2), s3 = dev.jgpt.kernel.Simd.sum(a3);
        for (; i < n; i++) {
            float xi = x[xOff + i];
            long b = 4L * i;
            s0 += w.get(FLOAT_LE, o0 + b) * xi;
            s1 += w.get(FLOAT_LE, o1 + b) * xi;
            s2 += w.get(FLOAT_LE, o2 + b) * xi;
            s3 += w.get(FLOAT_LE, o3 + b) * xi;
        }
        y[yi] = s0;
        y[yi + 1] = s1;
        y[yi + 2] = s2;
        y[yi + 3] = s3;
    }
}
