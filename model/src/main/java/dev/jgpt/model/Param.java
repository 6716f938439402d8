package dev.jgpt.model;

import dev.jgpt.kernel.quant.WeightMatrix;

import java.util.Arrays;
import java.util.List;

/**
 * One named parameter tensor and its gradient. Shapes are jgpt's own ([out, in] for linear weights).
 * {@link #stored} says how a checkpoint holds it: usually one tensor of the same name, but Hugging Face
 * GPT-2 stores Conv1D weights transposed ([in, out]), and Llama stores q, k, v (and gate, up) as
 * separate tensors that jgpt packs into one matrix so that one matmul serves them. The gradient is
 * allocated on first use, so a model that only generates text holds its weights once.
 *
 * <p>A matrix can instead stay <em>packed</em> in a storage format (f16, bf16, Q8_0, Q4_K, ...: a GGUF
 * file's tensors, mapped, or weights quantized on load): then {@link #data} is null and
 * {@link #packed()} holds one {@link WeightMatrix} per stored tensor. Packed parameters are for
 * inference only: layers multiply by them with the quant kernels and never widen them to f32.
 */
public final class Param {
    /**
     * One checkpoint tensor holding rows [rowStart, rowStart + rows) of this parameter (all of it for a
     * 1-D one), stored transposed ([in, out]) if {@code transposed}.
     */
    public record Stored(String name, int rowStart, int rows, boolean transposed) {
    }

    public final String name;
    public final int[] shape;
    /** The values, row-major; null when the parameter is {@link #packed()}. */
    public final float[] data;
    /** The checkpoint tensors that hold this parameter, in row order. */
    public final List<Stored> stored;
    private final int size;
    private float[] grad;
    /**
     * True while the gradient is zero but its array still holds old values: {@link #zeroGrad} only sets this, so
     * that the first backward product to write the gradient SETS it instead of adding to zeros written just
     * before (GPT-2's gradients are 500 MB: a pass to write them and one to read them back, from memory).
     */
    private boolean gradZero;
    private List<WeightMatrix> packed;

    /** A parameter stored as one tensor of its own name, transposed if {@code conv1d} (a GPT-2 Conv1D weight). */
    public Param(String name, boolean conv1d, int... shape) {
        this(name, List.of(new Stored(name, 0, shape.length == 0 ? 1 : shape[0], conv1d)), shape);
    }

    /** A parameter stored as the given tensors, each a block of consecutive rows. */
    public Param(String name, List<Stored> stored, int... shape) {
        this(name, stored, false, shape);
    }

    /**
     * A parameter whose values are kept packed if {@code packed} (no f32 array: {@link #pack} supplies
     * its matrices before use), as f32 otherwise. Only matrices ([rows, cols]) can be packed.
     */
    Param(String name, List<Stored> stored, boolean packed, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        this.stored = List.copyOf(stored);
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + Arrays.toString(shape) + " is too large for one array");
        }
        int rows = 0;
        for (Stored s : this.stored) {
            if (s.rowStart != rows) {
                throw new IllegalArgumentException(name + ": stored parts must cover its rows in order, " + s.name
                        + " starts at row " + s.rowStart + ", not " + rows);
            }
            rows += s.rows;
        }
        if (rows != (shape.length == 0 ? 1 : shape[0])) {
            throw new IllegalArgumentException(name + ": stored parts cover " + rows + " rows of " + Arrays.toString(shape));
        }
        if (packed && shape.length != 2) {
            throw new IllegalArgumentException(name + ": only matrices can be packed, not " + Arrays.toString(shape));
        }
        this.size = (int) n;
        this.data = packed ? null : new float[size];
    }

    public int size() {
        return size;
    }

    /** Elements per row (1 for a 1-D parameter). */
    public int rowSize() {
        return shape.length <= 1 ? 1 : size / shape[0];
    }

    /** True if the values are held as {@link WeightMatrix}es in a storage format instead of {@link #data}. */
    public boolean isPacked() {
        return data == null;
    }

    /** The packed matrices, one per {@link #stored} tensor and of its rows; null if the parameter is f32. */
    public List<WeightMatrix> packed() {
        return packed;
    }

    /** Supplies the matrices of a packed parameter: one per stored tensor, [rows of that part × rowSize]. */
    public void pack(List<WeightMatrix> parts) {
        if (!isPacked()) {
            throw new IllegalStateException(name + " holds f32 values, it cannot be packed");
        }
        if (parts.size() != stored.size()) {
            throw new IllegalArgumentException(name + ": " + parts.size() + " matrices for " + stored.size() + " stored tensors");
        }
        for (int i = 0; i < parts.size(); i++) {
            WeightMatrix m = parts.get(i);
            if (m.rows() != stored.get(i).rows() || m.cols() != rowSize()) {
                throw new IllegalArgumentException(name + ": " + stored.get(i).name() + " must be [" + stored.get(i).rows()
                        + " × " + rowSize() + "], got " + m);
            }
        }
        packed = List.copyOf(parts);
    }

    /** Copies row r of a matrix (packed or not) into y[yOff, yOff + rowSize), as f32. */
    public void copyRow(int r, float[] y, int yOff) {
        int cols = rowSize();
        if (!isPacked()) {
            System.arraycopy(data, r * cols, y, yOff, cols);
            return;
        }
        List<WeightMatrix> parts = requirePacked();
        for (int i = 0; i < parts.size(); i++) {
            Stored s = stored.get(i);
            if (r >= s.rowStart && r < s.rowStart + s.rows) {
                parts.get(i).dequantizeRow(r - s.rowStart, y, yOff);
                return;
            }
        }
        throw new IllegalArgumentException(name + ": row " + r + " of " + shape[0]);
    }

    /**
     * Rows yRow.. of y [· × out] = rows xRow.. of x [· × in] times Wᵀ, n rows, with W this packed
     * [out × in] matrix: each stored part fills its own output columns, its weights decoded in registers.
     */
    void packedMatmul(float[] y, int yRow, float[] x, int xRow, int n) {
        int out = shape[0], in = shape[1];
        List<WeightMatrix> parts = requirePacked();
        if (n == 1 && parts.size() > 1) {   // decode: the parts' rows (stored in order) in one pass of the threads
            WeightMatrix.matvec(parts, x, xRow * in, y, yRow * out);
            return;
        }
        for (int i = 0; i < parts.size(); i++) {
            parts.get(i).matmul(n, x, xRow * in, in, y, yRow * out + stored.get(i).rowStart, out);
        }
    }

    /**
     * {@link #packedMatmul} of n rows one at a time: each row's output the floats a product of that row alone gives,
     * in one pass over the weights where the matrix allows it ({@link WeightMatrix#matvecRows}).
     */
    void packedRows(float[] y, int yRow, float[] x, int xRow, int n) {
        List<WeightMatrix> parts = requirePacked();
        if (parts.size() > 1) {
            for (int r = 0; r < n; r++) {
                packedMatmul(y, yRow + r, x, xRow + r, 1);
            }
            return;
        }
        int out = shape[0], in = shape[1];
        parts.getFirst().matvecRows(n, x, xRow * in, in, y, yRow * out, out);
    }

    /** The packed matrices; an exception naming the parameter if they were never supplied. */
    List<WeightMatrix> requirePacked() {
        if (packed == null) {
            throw new IllegalStateException(name + " is packed but its matrices were never loaded");
        }
        return packed;
    }

    /**
     * The gradient, accumulated by backward passes (allocated, zero, on first use). A gradient left zero by
     * {@link #zeroGrad} is written as zeros here first, so that every reader and every adding writer sees it.
     */
    public float[] grad() {
        if (isPacked()) {
            throw new IllegalStateException(name + " is packed in a storage format: packed weights are for inference, not training");
        }
        if (grad == null) {
            grad = new float[size];
        } else if (gradZero) {
            Arrays.fill(grad, 0f);
        }
        gradZero = false;
        return grad;
    }

    /**
     * True if the gradient is zero and not yet written since {@link #zeroGrad} (or never allocated): a backward that
     * writes every element may then SET it through {@link #gradToSet} instead of adding to it.
     */
    boolean gradIsZero() {
        return grad == null || gradZero;
    }

    /**
     * The gradient's array for a backward that writes every element of it: SETS it if {@link #gradIsZero} was true
     * (the array may hold stale values then), adds to it otherwise. The gradient counts as written after.
     */
    float[] gradToSet() {
        if (grad == null) {
            return grad();
        }
        gradZero = false;
        return grad;
    }

    /** nanoGPT's rule: every parameter of two or more dimensions decays (weights, embeddings); 1-D ones do not. */
    public boolean decays() {
        return shape.length >= 2;
    }

    /** Makes the gradient zero, lazily: see {@link #gradZero}. */
    public void zeroGrad() {
        if (grad != null) {
            gradZero = true;
        }
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (packed != null ? " " + packed.getFirst().type().ggmlName() : "");
    }
}
