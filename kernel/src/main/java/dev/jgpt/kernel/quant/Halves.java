package dev.jgpt.kernel.quant;

/**
 * The two 16-bit float formats of weight files, converted exactly as ggml converts them (so a value
 * written here has the bits llama.cpp would write).
 *
 * <p>IEEE binary16 (f16: 1 sign, 5 exponent, 10 mantissa bits) rounds to nearest, ties to even, with
 * subnormals and overflow to ±∞; a NaN becomes the quiet NaN 0x7E00 with its sign (ggml's rule; the
 * JDK's conversion would keep payload bits). bfloat16 (bf16: the top 16 bits of a float) rounds to
 * nearest even on the 16 dropped bits; a NaN keeps its top bits and is made quiet.
 */
public final class Halves {
    private Halves() {}

    public static short floatToF16(float f) {
        if (Float.isNaN(f)) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7E00);
        }
        return Float.floatToFloat16(f);
    }

    public static float f16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        // Adding 0x7fff plus the lowest kept bit carries into the kept bits exactly when the dropped
        // half is above one half, or exactly one half with an odd kept part: round to nearest even.
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }
}
