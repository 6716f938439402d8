package dev.jgpt.model;

import java.util.Arrays;
import java.util.List;

/**
 * One named parameter tensor and its gradient. Shapes are jgpt's own ([out, in] for linear weights).
 * {@link #stored} says how a checkpoint holds it: usually one tensor of the same name, but Hugging Face
 * GPT-2 stores Conv1D weights transposed ([in, out]), and Llama stores q, k, v (and gate, up) as
 * separate tensors that jgpt packs into one matrix so that one matmul serves them. The gradient is
 * allocated on first use, so a model that only generates text holds its weights once.
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
    public final float[] data;
    /** The checkpoint tensors that hold this parameter, in row order. */
    public final List<Stored> stored;
    private float[] grad;

    /** A parameter stored as one tensor of its own name, transposed if {@code conv1d} (a GPT-2 Conv1D weight). */
    public Param(String name, boolean conv1d, int... shape) {
        this(name, List.of(new Stored(name, 0, shape.length == 0 ? 1 : shape[0], conv1d)), shape);
    }

    /** A parameter stored as the given tensors, each a block of consecutive rows. */
    public Param(String name, List<Stored> stored, int... shape) {
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
        this.data = new float[(int) n];
    }

    public int size() {
        return data.length;
    }

    /** Elements per row (1 for a 1-D parameter). */
    public int rowSize() {
        return shape.length <= 1 ? 1 : data.length / shape[0];
    }

    /** The gradient, accumulated by backward passes (allocated, zero, on first use). */
    public float[] grad() {
        if (grad == null) {
            grad = new float[data.length];
        }
        return grad;
    }

    /** nanoGPT's rule: every parameter of two or more dimensions decays (weights, embeddings); 1-D ones do not. */
    public boolean decays() {
        return shape.length >= 2;
    }

    public void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
