package dev.jgpt.infer;

/**
 * One generated token.
 *
 * @param id    the token id
 * @param text  the text this token releases: usually its own text, but "" while a multi-byte
 *              character is incomplete or while the text might be the start of a stop string
 *              (it is released with a later token, or not at all if it turns out to be one)
 * @param index 0 for the first generated token
 */
public record Token(int id, String text, int index) {
}
