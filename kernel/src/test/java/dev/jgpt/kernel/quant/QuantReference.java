package dev.jgpt.kernel.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar references for the weight formats, written per element from the block layouts (each
 * format's class documents them) rather than per block as the kernels are: element c of a row is
 * found by arithmetic on c alone. Dequantized values use ggml's float operations in ggml's order, so
 * they must equal the kernels' decode bit for bit; products accumulate in double.
 */
public final class QuantReference {
    private QuantReference() {}

    private static int u8(MemorySegment s, long o) {
        return s.get(ValueLayout.JAVA_BYTE, o) & 0xff;
    }

    private static int s8(MemorySegment s, long o) {
        return s.get(ValueLayout.JAVA_BYTE, o);
    }

    private static int u16(MemorySegment s, long o) {
        return u8(s, o) | u8(s, o + 1) << 8;
    }

    /** IEEE binary16 from its fields: (−1)^s · 2^(e−15) · (1 + m/1024), subnormal 2^−14 · m/1024. */
    public static float half(int h) {
        int sign = h >>> 15 & 1, e = h >>> 10 & 31, m = h & 1023;
        double v;
        if (e == 0) {
            v = Math.scalb((double) m, -24);
        } else if (e == 31) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            v = Math.scalb(1024.0 + m, e - 25);
        }
        return (float) (sign == 1 ? -v : v);
    }

    /** Weight c of the row stored at off. */
    public static float weight(WeightType t, MemorySegment s, long off, int c) {
        long b = off + (long) (c / t.blockSize) * t.blockBytes;
        int i = c % t.blockSize;
        switch (t) {
            case F32:
                return Float.intBitsToFloat(u16(s, b) | u16(s, b + 2) << 16);
            case F16:
                return half(u16(s, b));
            case BF16:
                return Float.intBitsToFloat(u16(s, b) << 16);
            case Q8_0:
                return s8(s, b + 2 + i) * half(u16(s, b));
            case Q4_0: {
                int q = u8(s, b + 2 + i % 16);
                return ((i < 16 ? q & 15 : q >> 4) - 8) * half(u16(s, b));
            }
            case Q4_K: {
                int j = i / 32;                                    // sub-block
                int q = u8(s, b + 16 + 32 * (i / 64) + i % 32);
                int nibble = i % 64 < 32 ? q & 15 : q >> 4;
                long p = b + 4;
                int sc = j < 4 ? u8(s, p + j) & 63 : (u8(s, p + j + 4) & 15) | (u8(s, p + j - 4) >> 6) << 4;
                int m = j < 4 ? u8(s, p + j + 4) & 63 : (u8(s, p + j + 4) >> 4) | (u8(s, p + j) >> 6) << 4;
                return half(u16(s, b)) * sc * nibble - half(u16(s, b + 2)) * m;
            }
            case Q6_K: {
                int h = i / 128, part = i % 128 / 32, l = i % 32;
                int low = u8(s, b + 64 * h + (part % 2 == 1 ? 32 : 0) + l);
                int nibble = part < 2 ? low & 15 : low >> 4;
                int top = u8(s, b + 128 + 32 * h + l) >> (2 * part) & 3;
                return half(u16(s, b + 208)) * s8(s, b + 192 + i / 16) * ((nibble | top << 4) - 32);
            }
            default:
                throw new AssertionError(t);
        }
    }

    /** The whole matrix [rows × cols], row r at r·rowBytes. */
    public static float[] dequantize(WeightType t, MemorySegment s, int rows, int cols) {
        float[] w = new float[rows * cols];
        long rowBytes = t.rowBytes(cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = weight(t, s, r * rowBytes, c);
            }
        }
        return w;
    }

    /**
     * The share of one weight in the float rounding of a kernel's dot product: |w·x| for most formats;
     * for Q4_K, whose kernel sums d·s·q·x and dmin·m·x separately, |d·s·q·x| + |dmin·m·x|; for Q6_K
     * likewise |d·s·q·x| + |32·d·s·x|.
     */
    public static double magnitude(WeightType t, MemorySegment s, long off, int c, float x) {
        if (t == WeightType.Q6_K) {   // the kernel sums d·s·q·x and subtracts 32·d·s·Σx
            long b = off + (long) (c / 256) * 210;
            double offset = 32.0 * half(u16(s, b + 208)) * s8(s, b + 192 + c % 256 / 16);
            return Math.abs(((double) weight(t, s, off, c) + offset) * x) + Math.abs(offset * x);
        }
        if (t != WeightType.Q4_K) {
            return Math.abs((double) weight(t, s, off, c) * x);
        }
        long b = off + (long) (c / 256) * 144;
        int j = c % 256 / 32;
        long p = b + 4;
        int m = j < 4 ? u8(s, p + j + 4) & 63 : (u8(s, p + j + 4) >> 4) | (u8(s, p + j) >> 6) << 4;
        double min = (double) half(u16(s, b + 2)) * m;
        return Math.abs(((double) weight(t, s, off, c) + min) * x) + Math.abs(min * x);
    }

    /** y = W·x in double. */
    public static double[] matvec(float[] w, int rows, int cols, float[] x, int xOff) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int c = 0; c < cols; c++) {
                acc += (double) w[r * cols + c] * x[xOff + c];
            }
            y[r] = acc;
        }
        return y;
    }
}
