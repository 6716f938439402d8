package dev.jgpt.model;

/** A normalisation layer (LayerNorm or RMSNorm) whose backward can also start from a residual's gradient. */
interface NormLayer extends Layer {
    /**
     * din = base + Nᵀ(dout), din's old contents ignored (base may be din): a pre-norm residual's
     * dx = dout + Nᵀ(Fᵀ(dout)) written in the norm's own backward pass, with no copy of dout first.
     */
    void backwardOnto(float[] dout, float[] base, float[] din);
}
