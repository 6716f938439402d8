package dev.jgpt.model;

import java.util.Arrays;

/**
 * One named parameter tensor and its gradient. Shapes are jgpt's own ([out, in] for linear weights);
 * {@code conv1d} marks weights Hugging Face GPT-2 stores transposed ([in, out]). The gradient is
 * allocated on first use, so a model that only generates text holds its weights once.
 */
public final class Param {
    public final String name;
    public final int[] shape;
    public final float[] data;
    /** True for Hugging Face Conv1D weights, stored [in, out] in GPT-2 checkpoints: transposed on load/save. */
    public final boolean conv1d;
    private float[] grad;

    public Param(String name, boolean conv1d, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        this.conv1d = conv1d;
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + Arrays.toString(shape) + " is too large for one array");
        }
        this.data = new float[(int) n];
    }

    public int size() {
        return data.length;
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
