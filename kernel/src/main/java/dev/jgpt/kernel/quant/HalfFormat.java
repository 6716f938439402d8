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
    private static FloatVector load(boolean bf16, MemorySegment s, long off) {
        return bf16 ? bf16s(halves(s, off)) : f16s(halves(s, off));
    }

    /** L 16-bit values at off, sign-extended to L int lanes. */
    private static IntVector halves(MemorySegment s, long off) {
        return (IntVector) QuantSimd.shorts(s, off).convertShape(VectorOperators.S2I, QuantSimd.I, 0);
    }

    /** L bf16 values (one per int lane) as floats: the top half of each float. */
    private static FloatVector bf16s(IntVector h) {
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * L f16 values (sign-extended, one per int lane) as floats with integer operations (the Vector API
     * has no f16 conversion): the sign and the 15 bits of exponent and mantissa moved to a float's
     * place are the value times 2⁻¹¹², exactly, for normal and subnormal halves alike, so one
     * multiply by 2¹¹² finishes them; an all-ones exponent (∞, NaN) becomes the float all-ones exponent.
     */
    private static FloatVector f16s(IntVector h) {
        IntVector bits = h.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000);
        IntVector finite = bits.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        return finite.blend(bits.or(0x7f800000), h.and(0x7c00).eq(0x7c00)).reinterpretAsFloats();
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
            load(bf16, src, off + 2L * i).intoArray(y, yOff + i);
        }
        dequantize(src, off + 2L * i, y, yOff + i, n - i);
    }

    @Override
    public float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared) {
        // Two chains of fused multiply-adds (so their latency overlaps), taking turns, with one load call
        // site: each inlined copy of the conversion adds JIT nodes, and past the inlining budget (this dot
        // is inlined into the row loop) vector operations are left as calls on boxed vectors.
        // bf16 is loop-invariant: the JIT unswitches the loop, one copy per conversion.
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector next = load(bf16, w, off + 2L * i).fma(QuantSimd.x(x, xOff + i), acc0);
            acc0 = acc1;
            acc1 = next;
        }
        float s = Simd.sum(acc0.add(acc1));
        for (; i < n; i++) {
            s += toFloat(w.get(SHORT_LE, off + 2L * i)) * x[xOff + i];
        }
        return s;
    }
}
