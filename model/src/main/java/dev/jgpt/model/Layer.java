package dev.jgpt.model;

/**
 * A differentiable map over a batch of B·T rows. {@code forward} returns a buffer the layer owns
 * (valid until its next forward); {@code backward} ACCUMULATES into {@code din} the gradient with
 * respect to the last forward's input, and into its parameters' {@code grad}.
 */
public interface Layer {
    float[] forward(float[] in, int B, int T);

    void backward(float[] dout, float[] din);
}
