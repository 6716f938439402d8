package dev.jgpt.model;

/**
 * Where layer normalisation and the skip connection sit around each sublayer F (attention or MLP).
 * The formulas live in {@link ResidualSublayer}; this enum only names them.
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

    public static ResidualLayout parse(String s) {
        return Switch.parse(ResidualLayout.class, "residual layout", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
