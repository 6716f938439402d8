package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jgpt.kernel.quant.QuantSimd.F;
import static dev.jgpt.kernel.quant.QuantSimd.L;
import static dev.jgpt.kernel.quant.QuantSimd.SHORT_LE;

/**
 * The two 16-bit float formats, 2 little-endian bytes per weight and no blocks: f16 (IEEE binary16)
 * and bf16 (the top half of a float). They differ only in how 16 bits become a float ({@link Halves}).
 */
final class HalfFormat implements Format {
    static final HalfFormat F16 = new HalfFormat(false), BF16 = new HalfFormat(true);

    private final boolean bf16;

    private HalfFormat(boolean bf16) {
        this.bf16 = bf16;
    }

    private short toHalf(float v) {
        return bf16 ? Halves.floatToBf16(v) : Halves.floatToF16(v);
    }

    private float toFloat(short h) {
        return bf16 ? Halves.bf16ToFloat(h) : Halves.f16ToFloat(h);
    }

    /** L halves at off as L floats. */
    private FloatVector load(MemorySegment s, long off) {
        IntVector h = (IntVector) QuantSimd.shorts(s, off).convertShape(VectorOperators.S2I, QuantSimd.I, 0);
        return bf16 ? h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : f16s(h);
    }

    /**
     * L f16 values (one per int lane) as floats with integer operations (the Vector API has no f16
     * conversion): the 15 bits of exponent and mantissa moved to a float's place are the value times
     * 2⁻¹¹², exactly, for normal and subnormal halves alike, so one multiply by 2¹¹² finishes them; an
     * all-ones exponent (∞, NaN) becomes the float all-ones exponent; the sign bit moves up.
     */
    private static FloatVector f16s(IntVector h) {
        IntVector mag = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector bits = finite.blend(mag.or(0x7f800000), h.and(0x7c00).eq(0x7c00));
        return bits.or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
    }

    @Override
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        for (int i = 0; i < n; i++) {
            dst.set(SHORT_LE, off + 2L * i, toHalf(x[xOff + i]));
        }
    }

    @Override
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = toFloat(src.get(SHORT_LE, off + 2L * i));
        }
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
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;   // two chains, so their latency overlaps
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = load(w, off + 2L * i).fma(QuantSimd.x(x, xOff + i), acc0);
            acc1 = load(w, off + 2L * (i + L)).fma(QuantSimd.x(x, xOff + i + L), acc1);
        }
        if (i + L <= n) {
            acc0 = load(w, off + 2L * i).fma(QuantSimd.x(x, xOff + i), acc0);
            i += L;
        }
        float s = Simd.sum(acc0.add(acc1));
        for (; i < n; i++) {
            s += toFloat(w.get(SHORT_LE, off + 2L * i)) * x[xOff + i];
        }
        return s;
    }
}
