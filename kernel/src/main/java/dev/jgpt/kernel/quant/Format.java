package dev.jgpt.kernel.quant;

import java.lang.foreign.MemorySegment;

/**
 * One weight format: how a row of weights is stored in blocks, how ggml quantizes and dequantizes it,
 * and the SIMD kernels that read it. A row of n weights (n a multiple of the block size) is n / block
 * blocks laid end to end; offsets are in bytes, little-endian, as in a GGUF file.
 */
interface Format {
    /** Quantizes x[xOff, xOff + n) into dst at off, bit for bit as ggml's {@code quantize_row_*_ref}. */
    void quantize(float[] x, int xOff, int n, MemorySegment dst, long off);

    /** Scalar dequantization, value for value as ggml's {@code dequantize_row_*}. */
    void dequantize(MemorySegment src, long off, float[] y, int yOff, int n);

    /** SIMD dequantization: the same floats as {@link #dequantize}, bit for bit. */
    void decode(MemorySegment src, long off, float[] y, int yOff, int n);

    /**
     * Σ w_i·x_{xOff+i} over one row of n weights, decoded in registers. xSums[k] is the sum of
     * x[xOff + 32k, xOff + 32k + 32): formats whose blocks subtract a minimum or an offset use it (its
     * share of the dot product is then one multiply per block); the others ignore it.
     */
    float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] xSums);

    /** Whether {@link #dot} reads xSums (the caller computes them once per vector x, for every row). */
    default boolean usesXSums() {
        return false;
    }
}
