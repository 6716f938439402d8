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
}
