package dev.jgpt.model;

import dev.jgpt.kernel.Vec;

import java.util.ArrayList;
import java.util.List;

/**
 * A differentiable map over the rows of a {@link Batch}. {@code forward} returns a buffer the layer
 * owns (valid until its next forward); {@code backward} (training batches only) ACCUMULATES into
 * {@code din} the gradient with respect to the last forward's input, and into its parameters' grad
 * ({@code backwardSet} SETS din instead).
 * {@code parameters} lists the layer's own parameters and its sublayers', in a fixed order: the order
 * of the checkpoint, the optimiser state and the parameter count.
 */
public interface Layer {
    float[] forward(float[] in, Batch batch);

    void backward(float[] dout, float[] din);

    /**
     * out = residual + forward(in) over the output's first {@code n} elements (out: a buffer of the caller's,
     * returned), as a residual connection adds a sublayer's output to its input. The default adds in a pass
     * after the forward; a layer that ends in a matrix product adds the residual to each finished tile of
     * it (one pass and one fork-join less). The same sums either way (a + b = b + a exactly).
     */
    default float[] forwardPlus(float[] in, Batch batch, float[] residual, float[] out, int n) {
        Vec.add(out, residual, forward(in, batch), n);
        return out;
    }

    /**
     * {@link #backward}, but din's first {@code n} elements (the input's rows × width) are SET to the
     * gradient, whatever they held. The default zeroes them and accumulates; a layer whose gradient starts
     * with a matrix product writes it directly (one pass over din and one fork-join less).
     */
    default void backwardSet(float[] dout, float[] din, int n) {
        Vec.zero(din, n);
        backward(dout, din);
    }

    List<Param> parameters();

    /** The parameters of the given parts in order: each a {@link Param}, a {@link Layer}, or null (absent). */
    static List<Param> parametersOf(Object... parts) {
        List<Param> ps = new ArrayList<>();
        for (Object part : parts) {
            if (part instanceof Param p) {
                ps.add(p);
            } else if (part instanceof Layer l) {
                ps.addAll(l.parameters());
            } else if (part != null) {
                throw new IllegalArgumentException("not a parameter or a layer: " + part);
            }
        }
        return List.copyOf(ps);
    }
}
