package dev.jgpt.study;

import dev.jgpt.kernel.Vec;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;

import java.util.List;

/**
 * A differentiable loss over parameter tensors, at their current values: what {@link Landscape} and
 * {@link Hessian} probe. For a model it is the mean cross-entropy over fixed batches, so every evaluation
 * sees the same tokens and the surface is a function of the weights alone.
 */
public interface Objective {
    List<Param> parameters();

    /** The loss at the parameters' current values. */
    double loss();

    /** The loss, its gradient written into each parameter's {@code grad()} (replacing what was there). */
    double lossAndGradient();

    /**
     * A model's mean loss over the batches {@code x[i]}, {@code y[i]} (each B×T), dropout off. The gradient is
     * the mean of the batches' gradients, the gradient of the mean loss.
     */
    static Objective of(GPT model, int[][] x, int[][] y, int B, int T) {
        if (x.length == 0 || x.length != y.length) {
            throw new IllegalArgumentException("objective: need one target batch per input batch, got " + x.length
                    + " and " + y.length);
        }
        model.setTraining(false);
        return new Objective() {
            @Override
            public List<Param> parameters() {
                return model.parameters();
            }

            @Override
            public double loss() {
                double s = 0;
                for (int i = 0; i < x.length; i++) {
                    s += model.loss(x[i], y[i], B, T);
                }
                return s / x.length;
            }

            @Override
            public double lossAndGradient() {
                model.zeroGrad();
                double s = 0;
                for (int i = 0; i < x.length; i++) {
                    s += model.lossAndBackward(x[i], y[i], B, T);
                }
                if (x.length > 1) {
                    for (Param p : model.parameters()) {
                        Vec.scale(p.grad(), 1f / x.length, p.size());
                    }
                }
                return s / x.length;
            }
        };
    }
}
