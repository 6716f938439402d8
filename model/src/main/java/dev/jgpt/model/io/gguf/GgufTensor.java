package dev.jgpt.model.io.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, type, dimensions and bytes (a slice of the mapped file).
 *
 * <p><b>Dimensions.</b> ggml lists them innermost first: {@code dims[0]} is the number of elements
 * of a row (contiguous in memory), {@code dims[1]} the number of rows, and so on. The row-major
 * (PyTorch, NumPy) shape is the reverse, {@link #shape()}: a ggml tensor with dims [768, 2304] is a
 * [2304 × 768] row-major matrix, e.g. a Linear layer's weight W [out × in] with y = W·x. For matrices
 * {@link #rows()} = dims[1]·dims[2]·… and {@link #cols()} = dims[0].
 *
 * @param offset the absolute position of the data in the file
 */
public record GgufTensor(String name, GgmlType type, long[] dims, long offset, MemorySegment data) {
    public GgufTensor {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** The row-major shape: dims reversed. */
    public long[] shape() {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = dims[dims.length - 1 - i];
        }
        return s;
    }

    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    public long cols() {
        return dims.length == 0 ? 1 : dims[0];
    }

    public long rows() {
        return cols() == 0 ? 0 : elements() / cols();
    }

    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && name.equals(t.name) && type == t.type && Arrays.equals(dims, t.dims)
                && offset == t.offset && data.byteSize() == t.data.byteSize();
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
