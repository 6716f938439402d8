package dev.jgpt.model;

/** How the model knows where a token is. */
public enum Position implements Switch {
    /** A learned embedding per position added to the token embedding (GPT-2). */
    LEARNED("learned"),
    /** Rotary embeddings: q and k turned by position-dependent angles in every layer (Su et al. 2021; Llama). */
    ROPE("rope");

    private final String id;

    Position(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    public static Position parse(String s) {
        return Switch.parse(Position.class, "position encoding", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
