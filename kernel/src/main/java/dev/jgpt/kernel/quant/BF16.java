package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.L;
import static dev.jgpt.kernel.quant.QuantSimd.SHORT_LE;

/** bf16: the top half of a float, 2 little-endian bytes per weight, no blocks. */
final class BF16 implements Format {
    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        for (int i = 0; i < n; i++) {
            dst.set(SHORT_LE, off + 2L * i, Halves.floatToBf16(x[xOff + i]));
        }
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = Halves.bf16ToFloat(src.get(SHORT_LE, off + 2L * i));
        }
    }

    static FloatVector load(MemorySegment s, long off) {
        IntVector h = (IntVector) QuantSimd.shorts(s, off).convertShape(VectorOperators.S2I, QuantSimd.I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    public void decode(MemorySegment src, long off, float[] y, int yOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            load(src, off + 2L * i).intoArray(y, yOff + i);
        }
        dequantize(src, off + 2L * i, y, yOff + i, n - i);
    }

    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] xSums) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            acc = load(w, off + 2L * i).fma(QuantSimd.x(x, xOff + i), acc);
        }
        float s = Simd.sum(acc);
        for (; i < n; i++) {
            s += Halves.bf16ToFloat(w.get(SHORT_LE, off + 2L * i)) * x[xOff + i];
        }
        return s;
    }
}
