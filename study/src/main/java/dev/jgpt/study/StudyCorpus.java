package dev.jgpt.study;

import dev.jgpt.common.TokenSequence;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The study's corpus: a text tokenised per character (tiny Shakespeare by default), split 90/10 into
 * train and validation, with its unigram entropy — the loss of a model that has learned character
 * frequencies and nothing else, the level a "stuck" run sits at.
 */
public final class StudyCorpus {
    public final String name;
    public final int vocabSize;
    public final int[] train;
    public final int[] val;
    /** H(X) of the training split in nats: −Σ p(c) ln p(c) over characters. */
    public final double unigramEntropy;
    /**
     * The validation loss of the unigram model (training-split character frequencies, add-one smoothed):
     * where a run that learned nothing but frequencies ends. Verdicts are measured against it.
     */
    public final double unigramLoss;

    private StudyCorpus(String name, String text) {
        if (text.codePoints().limit(1000).count() < 1000) {
            throw new IllegalArgumentException("stability corpus " + name + " is too short: need at least 1000 characters");
        }
        CharTokenizer tok = CharTokenizer.fromText(text);
        int[] ids = tok.encode(text);
        int split = (int) (ids.length * 0.9);
        this.name = name;
        this.vocabSize = tok.vocabSize();
        this.train = java.util.Arrays.copyOfRange(ids, 0, split);
        this.val = java.util.Arrays.copyOfRange(ids, split, ids.length);
        this.unigramEntropy = Unigram.entropy(TokenSequence.of(train), vocabSize);
        this.unigramLoss = Unigram.crossEntropy(TokenSequence.of(train), TokenSequence.of(val), vocabSize);
    }

    public static StudyCorpus of(String name, String text) {
        return new StudyCorpus(name, text);
    }

    /** Tiny Shakespeare from --data, $JGPT_DATA_DIR, the cache or a download (see {@link Corpus}). */
    public static StudyCorpus load(Optional<Path> data) throws IOException {
        Path file = Corpus.resolveTinyShakespeare(data);
        return new StudyCorpus(file.getFileName().toString(), Files.readString(file));
    }

    /** B random windows of T+1 tokens from {@code split}: inputs into x, next tokens into y. */
    static void sample(int[] split, int B, int T, SplittableRandom rng, int[] x, int[] y) {
        for (int b = 0; b < B; b++) {
            int start = rng.nextInt(split.length - T - 1);
            System.arraycopy(split, start, x, b * T, T);
            System.arraycopy(split, start + 1, y, b * T, T);
        }
    }
}
