package dev.jgpt.kernel.quant;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The weight formats jgpt computes with, with ggml's type ids and block geometry: a row of n weights
 * is n / {@link #blockSize} blocks of {@link #blockBytes} bytes, laid out as llama.cpp lays them out
 * (see each format's class for the bytes of a block).
 */
public enum WeightType {
    F32(0, 1, 4, new F32()),
    F16(1, 1, 2, HalfFormat.F16),
    BF16(30, 1, 2, HalfFormat.BF16),
    Q8_0(8, 32, 34, new Q8_0()),
    Q4_0(2, 32, 18, new Q4_0()),
    Q4_K(12, 256, 144, new Q4_K()),
    Q6_K(14, 256, 210, new Q6_K());

    /** ggml's enum ggml_type value, as stored in GGUF tensor infos. */
    public final int ggmlType;
    /** Weights per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;
    final Format format;

    WeightType(int ggmlType, int blockSize, int blockBytes, Format format) {
        this.ggmlType = ggmlType;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.format = format;
    }

    /** ggml's name for the type: f32, f16, bf16, q8_0, q4_0, q4_K, q6_K. */
    public String ggmlName() {
        String n = name().toLowerCase(Locale.ROOT);
        return n.endsWith("_k") ? n.substring(0, n.length() - 1) + "K" : n;
    }

    public double bitsPerWeight() {
        return 8.0 * blockBytes / blockSize;
    }

    /** Bytes of one row of {@code cols} weights; cols must be a positive multiple of the block size. */
    public long rowBytes(int cols) {
        if (cols <= 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException(ggmlName() + ": a row of " + cols
                    + " weights is not a positive multiple of the block size " + blockSize);
        }
        return (long) cols / blockSize * blockBytes;
    }

    /** The type with this ggml id, or null if jgpt has no kernels for it. */
    public static WeightType ofGgmlType(int id) {
        for (WeightType t : values()) {
            if (t.ggmlType == id) {
                return t;
            }
        }
        return null;
    }

    /** Parses a name as written on the command line (q8_0, Q4_K, bf16, ...), case-insensitively. */
    public static WeightType parse(String name) {
        for (WeightType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown weight type '" + name + "' (known: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
    }

    /**
     * Quantizes n values (a multiple of the block size) of x into dst at off, bit for bit as ggml's
     * reference quantizer ({@code quantize_row_*_ref}, what llama-quantize uses without an importance
     * matrix). Values must be finite.
     */
    public void quantize(float[] x, int xOff, int n, MemorySegment dst, long off) {
        rowBytes(n);
        format.quantize(x, xOff, n, dst, off);
    }

    /** Dequantizes n weights stored at off into y, with the same float results as ggml's dequantize_row_*. */
    public void dequantize(MemorySegment src, long off, float[] y, int yOff, int n) {
        rowBytes(n);
        if (QuantSimd.VECTOR) {
            format.decode(src, off, y, yOff, n);
        } else {
            format.dequantize(src, off, y, yOff, n);
        }
    }
}
