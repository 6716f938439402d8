package dev.jgpt.model;

/**
 * Where layer normalisation and the skip connection sit around each sublayer F (attention or MLP), and
 * for {@code dense} and {@code unet} how the stream passes between blocks. The per-sublayer formulas live
 * in {@link ResidualSublayer}, the cross-block wiring in {@link BlockStack}; this enum only names them.
 */
public enum ResidualLayout implements Switch {
    /** x ← LN(x + F(x)); no final LN (Vaswani et al. 2017, original GPT). */
    POST_LN("post-ln", false),
    /** x ← x + F(LN(x)); final LN (GPT-2, Xiong et al. 2020). */
    PRE_LN("pre-ln", true),
    /** x ← x + LN(F(LN(x))); final LN (Sandwich-LN, Ding et al. 2021; Peri-LN, Kim et al. 2025). */
    SANDWICH("sandwich", true),
    /** x ← LN(α·x + F(x)), α = (2N)^¼, β-scaled init; no final LN (DeepNet, Wang et al. 2022). */
    DEEPNORM("deepnorm", false),
    /** x ← x + a·F(x), a learnable and 0 at init; no LN anywhere (ReZero, Bachlechner et al. 2020). */
    REZERO("rezero", false),
    /**
     * x ← (1 − g)⊙x + g⊙F(LN(x)), g = σ(LN(x)·W_g + b_g) per channel, b_g = {@value ResidualSublayer#HIGHWAY_CARRY_BIAS}
     * at init (the carry bias: each sublayer starts close to the identity); final LN (Highway networks,
     * Srivastava et al. 2015).
     */
    HIGHWAY("highway", true),
    /**
     * Pre-LN blocks; after block l the stream is a learned weighted sum of the embedding and every block output
     * so far, weights initialised to pick the last one, so training starts from pre-LN exactly; final LN
     * (DenseFormer's depth-weighted average, Pagliardini et al. 2024).
     */
    DENSE("dense", true),
    /**
     * Pre-LN blocks; block l of the first half's output is added, times a learnable scalar (1 at init), to the
     * input of its mirror L−1−l in the second half; final LN (the U-Net skips of modded-nanogpt, Jordan et al. 2024).
     */
    UNET("unet", true),
    /** x ← F(LN(x)): pre-LN with the skip connection removed, so only the residual differs; final LN. */
    NONE("none", true);

    private final String id;
    private final boolean finalLayerNorm;

    ResidualLayout(String id, boolean finalLayerNorm) {
        this.id = id;
        this.finalLayerNorm = finalLayerNorm;
    }

    /** The name used in config.json and on the command line. */
    @Override
    public String id() {
        return id;
    }

    public boolean hasFinalLayerNorm() {
        return finalLayerNorm;
    }

    /** Whether the stream between blocks is more than the last block's output (see {@link BlockStack}). */
    public boolean crossesBlocks() {
        return this == DENSE || this == UNET;
    }

    public static ResidualLayout parse(String s) {
        return Switch.parse(ResidualLayout.class, "residual layout", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
