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
     * Σ w_i·x_{xOff+i} over one row of n weights, decoded in registers. {@code prepared} is what
     * {@link #prepare} made of the same x[xOff, xOff + n) (null if it makes nothing).
     */
    float dot(MemorySegment w, long off, float[] x, int xOff, int n, float[] prepared);

    /**
     * What {@link #dot} needs from the vector x[xOff, xOff + n) beyond x itself, computed once per
     * vector for all the rows it meets (the sums of x over blocks, for the formats whose blocks subtract
     * a minimum or an offset: their share of the dot product is then one multiply per block), or null.
     * The array may be longer than needed, and it is this thread's {@link #scratch}: the next prepare of
     * this format on the same thread overwrites it, so use it before then (as one matvec does).
     */
    default float[] prepare(float[] x, int xOff, int n) {
        return null;
    }

    /**
     * This thread's array of at least n floats from {@code perThread}, grown when too short. prepare
     * fills it instead of a new array: a matvec takes microseconds, and a new array on every call walks
     * the young generation through pages the JVM has not touched yet, where each first write is a page
     * fault (measured: q4_K and q6_K matvecs ~35% slower in CPU time until the heap has been cycled once).
     */
    static float[] scratch(ThreadLocal<float[]> perThread, int n) {
        float[] a = perThread.get();
        if (a == null || a.length < n) {
            a = new float[n];
            perThread.set(a);
        }
        return a;
    }

    /**
     * Σ x[xOff + size·k, xOff + size·k + size) for each of the n / size blocks, each times {@code factor}, into
     * dst[dstOff, dstOff + n / size).
     */
    static void blockSums(float[] x, int xOff, int n, int size, float factor, float[] dst, int dstOff) {
        for (int k = 0; k < n / size; k++) {
            float t = 0f;
            for (int i = 0; i < size; i++) {
                t += x[xOff + size * k + i];
            }
            dst[dstOff + k] = factor * t;
        }
    }

    /**
     * One 128-element chunk of x in the K-quant dots' lane order (Q4_K, Q6_K), from x[start...] into p[o, o + 128):
     * for each nibble (low, high) 16 lanes × 4 bytes, lane i byte k at p[o + 64·nibble + 16·k + i] taking
     * x[start + groupStride·(i / 8) + nibbleStride·nibble + 4·(i % 8) + k]. Each format's layout differs only in
     * the two strides.
     */
    static void laneOrder(float[] x, int start, int groupStride, int nibbleStride, float[] p, int o) {
        for (int nibble = 0; nibble < 2; nibble++) {
            for (int i = 0; i < 16; i++) {
                for (int k = 0; k < 4; k++) {
                    p[o + 64 * nibble + 16 * k + i] = x[start + groupStride * (i / 8) + nibbleStride * nibble + 4 * (i % 8) + k];
                }
            }
        }
    }
}
