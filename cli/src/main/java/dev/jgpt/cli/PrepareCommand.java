package dev.jgpt.cli;

import dev.jgpt.tokenizer.Corpus;
import dev.jgpt.tokenizer.Prepare;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize a text corpus into DIR/train.bin and DIR/val.bin (nanoGPT format: uint16 "
                + "little-endian ids), with DIR/tokenizer.json and DIR/meta.json. The last --val-fraction "
                + "of the text (by position) is the validation split.")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "FILE",
            description = "Corpus (UTF-8). Default: tiny Shakespeare ($JGPT_DATA_DIR, the cache, or a download).")
    Path data;

    @Option(names = "--tokenizer", defaultValue = Prepare.CHAR, paramLabel = "char|PATH",
            description = "'char' (one token per distinct character of the corpus, sorted), or a tokenizer.json "
                    + "or directory holding one. Default: ${DEFAULT-VALUE}.")
    String tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--val-fraction", defaultValue = "0.1", paramLabel = "F",
            description = "Fraction of the text, at its end, used for validation, in [0, 1). Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        int n = threads.resolve();
        Path corpus = Corpus.resolveTinyShakespeare(Optional.ofNullable(data));
        long start = System.nanoTime();
        Prepare.Result r = Prepare.run(corpus, tokenizer, out, valFraction, n);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("corpus: %s (%,d bytes, %,d characters)%n", corpus, r.bytes(), r.characters());
        System.out.printf("tokenizer: %s, %,d tokens%n", r.tokenizerKind(), r.vocabSize());
        System.out.printf("train.bin: %,d tokens, val.bin: %,d tokens (validation fraction %s, %.2f characters per token)%n",
                r.trainTokens(), r.valTokens(), r.valFraction(),
                (double) r.characters() / Math.max(1, r.trainTokens() + r.valTokens()));
        System.out.printf(Locale.ROOT, "wrote %s/{train.bin, val.bin, tokenizer.json, meta.json} in %.1f s (%.1f MB/s)%n",
                out, seconds, r.bytes() / 1e6 / seconds);
        return 0;
    }
}
