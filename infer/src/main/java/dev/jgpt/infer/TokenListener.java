package dev.jgpt.infer;

/** Receives tokens as they are generated (for streaming them out). */
@FunctionalInterface
public interface TokenListener {
    /** Called once per generated token, in order, before the next one is computed. */
    void onToken(Token token);

    /** A listener that ignores tokens. */
    TokenListener NONE = t -> { };
}
