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
        return tail(dev.jgpt.kernel.Simd.sum(acc), w, off, x, xOff, i, n);
    }

    /**
     * y[yOff + j] = {@link #dot} of the row at off + j·stride, for the eight rows j &lt; 8, read side by side with
     * their FMA chains sharing each load of x ({@link dev.jgpt.kernel.MatvecRows}): each the same chain as dot's,
     * so the same bits.
     */
    static void dot8(MemorySegment w, long off, long stride, float[] x, int xOff, int n, float[] y, int yOff) {
        long o0 = off, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride, o4 = o3 + stride, o5 = o4 + stride,
                o6 = o5 + stride, o7 = o6 + stride;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int end = F.loopBound(n);
        for (int i = 0; i < end; i += L) {
            FloatVector xi = QuantSimd.x(x, xOff + i);
            long b = 4L * i;
            a0 = FloatVector.fromMemorySegment(F, w, o0 + b, LE).fma(xi, a0);
            a1 = FloatVector.fromMemorySegment(F, w, o1 + b, LE).fma(xi, a1);
            a2 = FloatVector.fromMemorySegment(F, w, o2 + b, LE).fma(xi, a2);
            a3 = FloatVector.fromMemorySegment(F, w, o3 + b, LE).fma(xi, a3);
            a4 = FloatVector.fromMemorySegment(F, w, o4 + b, LE).fma(xi, a4);
            a5 = FloatVector.fromMemorySegment(F, w, o5 + b, LE).fma(xi, a5);
            a6 = FloatVector.fromMemorySegment(F, w, o6 + b, LE).fma(xi, a6);
            a7 = FloatVector.fromMemorySegment(F, w, o7 + b, LE).fma(xi, a7);
        }
        y[yOff] = tail(dev.jgpt.kernel.Simd.sum(a0), w, o0, x, xOff, end, n);
        y[yOff + 1] = tail(dev.jgpt.kernel.Simd.sum(a1), w, o1, x, xOff, end, n);
        y[yOff + 2] = tail(dev.jgpt.kernel.Simd.sum(a2), w, o2, x, xOff, end, n);
        y[yOff + 3] = tail(dev.jgpt.kernel.Simd.sum(a3), w, o3, x, xOff, end, n);
        y[yOff + 4] = tail(dev.jgpt.kernel.Simd.sum(a4), w, o4, x, xOff, end, n);
        y[yOff + 5] = tail(dev.jgpt.kernel.Simd.sum(a5), w, o5, x, xOff, end, n);
        y[yOff + 6] = tail(dev.jgpt.kernel.Simd.sum(a6), w, o6, x, xOff, end, n);
        y[yOff + 7] = tail(dev.jgpt.kernel.Simd.sum(a7), w, o7, x, xOff, end, n);
    }

    /** s plus the scalar products of weights [from, n) of the row at off. */
    private static float tail(float s, MemorySegment w, long off, float[] x, int xOff, int from, int n) {
        for (int i = from; i < n; i++) {
            s += w.get(FLOAT_LE, off + 4L * i) * x[xOff + i];
        }
        return s;
    }
}
