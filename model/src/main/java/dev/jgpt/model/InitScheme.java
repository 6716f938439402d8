package dev.jgpt.model;

/** How weights are drawn at initialisation; recorded in config.json because it decides stability at small scale. */
public enum InitScheme implements Switch {
    /** N(0, 0.02) everywhere; residual output projections N(0, 0.02/√(2L)) (GPT-2). */
    GPT2("gpt2"),
    /** Xavier/Glorot normal, std = √(2/(fan_in + fan_out)), per projection; embeddings N(0, 0.02). */
    XAVIER("xavier");

    private final String id;

    InitScheme(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    public static InitScheme parse(String s) {
        return Switch.parse(InitScheme.class, "init scheme", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
