package dev.jgpt.model;

/** The feed-forward sublayer's form. */
public enum FeedForwardKind implements Switch {
    /** W₂·GELU(W₁x), GELU in its tanh form (GPT-2). */
    GELU("gelu"),
    /** W_down·(SiLU(W_gate x) ⊙ W_up x) (Shazeer 2020; Llama). */
    SWIGLU("swiglu");

    private final String id;

    FeedForwardKind(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    public static FeedForwardKind parse(String s) {
        return Switch.parse(FeedForwardKind.class, "mlp", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
