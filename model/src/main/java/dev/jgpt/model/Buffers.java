package dev.jgpt.model;

/** Activation buffers grow to the largest batch seen and are reused after that. */
final class Buffers {
    private Buffers() {}

    static float[] ensure(float[] buf, long n) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("activation buffer of " + n + " floats is too large; use a smaller batch or context");
        }
        return buf != null && buf.length >= n ? buf : new float[(int) n];
    }

    /** Like {@link #ensure} and zero-filled over the first n elements (for gradients that accumulate). */
    static float[] zeroed(float[] buf, long n) {
        float[] b = ensure(buf, n);
        dev.jgpt.kernel.Vec.zero(b, (int) n);
        return b;
    }
}
