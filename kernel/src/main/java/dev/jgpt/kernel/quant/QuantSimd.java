package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector shapes and scalar helpers shared by the formats. The in-register kernels turn L bytes (or L
 * 16-bit values) into one vector of L floats, so they need L = 8 or 16 floats per vector (AVX2,
 * AVX-512, 256/512-bit SVE): L bytes must form a vector of their own (at least 64 bits) and divide a
 * 16-byte group of packed quants. Other shapes ({@link #VECTOR} false) decode blocks with the scalar
 * dequantizer and use plain float dot products.
 */
final class QuantSimd {
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = Simd.LANES;
    static final boolean VECTOR = L == 8 || L == 16;
    /** L bytes, L shorts: the packed sources of one float vector. */
    static final VectorSpecies<Byte> B = VECTOR ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    static final VectorSpecies<Short> S = VECTOR ? VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L)) : null;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private QuantSimd() {}

    static ByteVector bytes(MemorySegment s, long off) {
        return ByteVector.fromMemorySegment(B, s, off, LE);
    }

    static ShortVector shorts(MemorySegment s, long off) {
        return ShortVector.fromMemorySegment(S, s, off, LE);
    }

    /** L signed bytes as L floats. */
    static FloatVector toFloats(ByteVector q) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
    }

    /** L bytes as L ints 0…255 (one zero-extending widen: the nibbles then need one mask or one shift each). */
    static IntVector unsigned(ByteVector q) {
        return (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    /** The low 4 bits of each byte of q (as {@link #unsigned} ints), as floats 0…15. */
    static FloatVector lowNibbles(IntVector q) {
        return (FloatVector) q.and(0x0f).convertShape(VectorOperators.I2F, F, 0);
    }

    /** The high 4 bits of each byte of q (as {@link #unsigned} ints), as floats 0…15. */
    static FloatVector highNibbles(IntVector q) {
        return (FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.I2F, F, 0);
    }

    /**
     * The value of largest magnitude among x[from, from + n), with its sign (the first such in a tie;
     * 0 if all are 0): what ggml's quantizers scale a block by.
     */
    static float largestMagnitude(float[] x, int from, int n) {
        float max = 0f, amax = 0f;
        for (int i = from; i < from + n; i++) {
            if (Math.abs(x[i]) > amax) {
                amax = Math.abs(x[i]);
                max = x[i];
            }
        }
        return max;
    }

    static FloatVector x(float[] x, int i) {
        return FloatVector.fromArray(F, x, i);
    }

    static float f16(MemorySegment s, long off) {
        return Halves.f16ToFloat(s.get(SHORT_LE, off));
    }

    static void putF16(MemorySegment s, long off, float v) {
        s.set(SHORT_LE, off, Halves.floatToF16(v));
    }

    /**
     * Stores a block's scale d as f16 at off and returns what ggml's Q8_0 and Q4_0 quantizers multiply
     * by: 1 / d (of the f32 d, not the stored f16), or 0 for an all-zero block.
     */
    static float putScale(MemorySegment s, long off, float d) {
        putF16(s, off, d);
        return d != 0f ? 1f / d : 0f;
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xff;
    }

    /**
     * ggml's nearest_int: adding 1.5·2²³ leaves round(v) (ties to even) in the low mantissa bits,
     * valid for |v| ≤ 2²² − 1; outside that range it gives what ggml's gives, so files still match.
     */
    static int nearestInt(float v) {
        return (Float.floatToRawIntBits(v + 12582912f) & 0x007fffff) - 0x00400000;
    }

    /** C's roundf: to nearest, ties away from zero (exact in double for any float). */
    static int roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }
}
