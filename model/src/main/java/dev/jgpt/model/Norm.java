package dev.jgpt.model;

/** Which normalisation the residual layout's norms are. */
public enum Norm implements Switch {
    /** (x − μ)/√(σ² + ε)·γ + β (Ba et al. 2016; GPT-2). */
    LAYERNORM("layernorm"),
    /** x/√(mean(x²) + ε)·γ, no centring, no bias (Zhang &amp; Sennrich 2019; Llama). */
    RMSNORM("rmsnorm");

    private final String id;

    Norm(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    public static Norm parse(String s) {
        return Switch.parse(Norm.class, "norm", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
