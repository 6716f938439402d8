package dev.jgpt.model;

/** A feed-forward sublayer: an input projection into the hidden width, a nonlinearity, an output projection. */
public interface FeedForward extends Layer {
    /** W¹: into the hidden width (packed [gate | up] for a gated unit). */
    Linear in();

    /** W²: back to the residual width (the matrix of Xiong et al.'s Theorem 1). */
    Linear out();

    static FeedForward of(GPTConfig cfg, String prefix, Names names, RunContext ctx) {
        return cfg.mlp() == FeedForwardKind.SWIGLU ? new SwiGluMlp(prefix, cfg, names, ctx) : new Mlp(prefix, cfg, names, ctx);
    }
}
