package dev.jgpt.train;

import dev.jgpt.common.TokenSequence;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Corpus;
import dev.jgpt.tokenizer.Prepare;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import dev.jgpt.tokenizer.Utf8File;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The train and validation tokens of a run and the tokenizer that made them. From a text file
 * (encoded in memory, split by position: the first 90% of the characters train, as nanoGPT's
 * prepare.py), from a directory made by {@code jgpt prepare} (memory-mapped token files), or tiny
 * Shakespeare when no data is given.
 */
public final class TrainData implements AutoCloseable {
    /** nanoGPT's split: the last 10% of the characters validate. */
    public static final double VAL_FRACTION = 0.1;

    public final TokenSequence train, val;
    public final Tokenizer tokenizer;
    /** Where the tokens came from (an absolute path, or a label for in-memory data). */
    public final String source;
    private final AutoCloseable[] resources;

    private TrainData(TokenSequence train, TokenSequence val, Tokenizer tokenizer, String source, AutoCloseable... resources) {
        this.train = train;
        this.val = val;
        this.tokenizer = tokenizer;
        this.source = source;
        this.resources = resources;
    }

    /** In-memory data (tests, benchmarks). */
    public static TrainData of(Tokenizer tokenizer, int[] train, int[] val, String source) {
        return new TrainData(TokenSequence.of(train), TokenSequence.of(val), tokenizer, source);
    }

    /**
     * Resolves {@code data} (a text file, a prepared directory, or {@code null} for tiny Shakespeare) with
     * {@code tokenizer} ({@code null} or {@code char} for char-level, or a tokenizer.json path).
     */
    public static TrainData load(String data, String tokenizer) throws IOException {
        Path path = data == null ? Corpus.resolveTinyShakespeare(Optional.empty()) : Path.of(data);
        if (Files.isDirectory(path)) {
            return prepared(path, tokenizer);
        }
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("training data not found: " + path
                    + " (expected a text file or a directory made by jgpt prepare)");
        }
        return text(path, tokenizer);
    }

    private static TrainData prepared(Path dir, String tokenizerSpec) throws IOException {
        if (tokenizerSpec != null) {
            throw new IllegalArgumentException("--tokenizer cannot be used with a prepared data directory (" + dir
                    + "): its tokens were made by its own " + Tokenizers.FILE_NAME);
        }
        for (String name : new String[] {Prepare.TRAIN, Prepare.VAL, Tokenizers.FILE_NAME}) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new IllegalArgumentException("data directory " + dir + " has no " + name
                        + " (make one with: jgpt prepare --data TEXT --out " + dir + ")");
            }
        }
        Tokenizer tok = Tokenizers.load(dir.resolve(Tokenizers.FILE_NAME));
        TokenFile train = TokenFile.open(dir.resolve(Prepare.TRAIN));
        TokenFile val = TokenFile.open(dir.resolve(Prepare.VAL));
        return new TrainData(train, val, tok, dir.toAbsolutePath().normalize().toString(),
                train, val, tok);
    }

    private static TrainData text(Path file, String tokenizerSpec) throws IOException {
        String text = Utf8File.readString(file);   // strict: an error gives the byte offset
        int chars = text.codePointCount(0, text.length());
        if (chars == 0) {
            throw new IllegalArgumentException("training data " + file + " is empty");
        }
        Tokenizer tok = tokenizerSpec == null || tokenizerSpec.equals(Prepare.CHAR)
                ? CharTokenizer.fromText(text) : Tokenizers.load(Path.of(tokenizerSpec));
        int split = text.offsetByCodePoints(0, (int) (chars * (1 - VAL_FRACTION)));
        int[] train = tok.encode(text.substring(0, split));
        int[] val = tok.encode(text.substring(split));
        return new TrainData(TokenSequence.of(train), TokenSequence.of(val), tok, file.toAbsolutePath().normalize().toString(), tok);
    }

    public TrainState.DataInfo info() {
        return new TrainState.DataInfo(source, tokenizer.kind(), tokenizer.vocabSize(), train.size(), val.size());
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing training data " + source + ": " + e.getMessage(), e);
            }
        }
    }
}
