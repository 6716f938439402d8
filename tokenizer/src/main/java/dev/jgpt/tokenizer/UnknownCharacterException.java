package dev.jgpt.tokenizer;

/** A character tokenizer was asked to encode a character outside its vocabulary. */
public final class UnknownCharacterException extends IllegalArgumentException {
    private final int codePoint;
    private final long position;

    UnknownCharacterException(int codePoint, long position, int vocabSize) {
        this(codePoint, position, "character " + position, vocabSize);
    }

    private UnknownCharacterException(int codePoint, long position, String where, int vocabSize) {
        super("character " + Chars.describe(codePoint) + " at " + where
                + " is not in the char tokenizer's vocabulary of " + vocabSize + " characters");
        this.codePoint = codePoint;
        this.position = position;
    }

    /** The same error, located in a file: {@code where} is e.g. "line 3, column 7 of FILE". */
    UnknownCharacterException relocate(long absolutePosition, String where, int vocabSize) {
        return new UnknownCharacterException(codePoint, absolutePosition, where, vocabSize);
    }

    /** The unknown character (code point). */
    public int codePoint() {
        return codePoint;
    }

    /** Index of the character in the encoded text, counted in characters (code points). */
    public long position() {
        return position;
    }
}
