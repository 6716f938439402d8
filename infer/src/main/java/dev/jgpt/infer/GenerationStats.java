package dev.jgpt.infer;

/**
 * Counts and timings of one generation.
 *
 * <p>Prefill is the pass over the prompt (matrix-matrix work, one call); its time includes the
 * first token's logits. Decode covers every later step: feeding the previous token
 * (matrix-vector work), sampling and detokenising; with the {@code SLIDE} overflow policy it also
 * includes the re-prefills. Decode tok/s counts generated tokens after the first, since the
 * first comes from the prefill's logits.
 *
 * @param promptTokens    tokens fed as prompt (including a carried-over token in a continued session)
 * @param generatedTokens tokens generated (including an end-of-text token that ended it)
 * @param prefillNanos    time of the prompt pass
 * @param decodeNanos     time of all decode steps
 */
public record GenerationStats(int promptTokens, int generatedTokens, long prefillNanos, long decodeNanos) {

    public double prefillTokensPerSecond() {
        return rate(promptTokens, prefillNanos);
    }

    public double decodeTokensPerSecond() {
        return rate(Math.max(0, generatedTokens - 1), decodeNanos);
    }

    private static double rate(int tokens, long nanos) {
        return tokens == 0 || nanos <= 0 ? 0 : tokens * 1e9 / nanos;
    }

    /** One line, e.g. {@code prompt 12 tok (850.1 tok/s), generated 100 tok (58.3 tok/s)}. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "prompt %d tok (%.1f tok/s), generated %d tok (%.1f tok/s)",
                promptTokens, prefillTokensPerSecond(), generatedTokens, decodeTokensPerSecond());
    }
}
