package dev.jgpt.infer;

/**
 * What a generation produced.
 *
 * @param tokens the generated token ids (an end-of-text token that ended it included)
 * @param text   the generated text, without a matched stop string or the end-of-text token
 * @param reason why it ended
 * @param stats  counts and timings
 */
public record GenerationResult(int[] tokens, String text, StopReason reason, GenerationStats stats) {
}
