package dev.jgpt.cli;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;
import dev.jgpt.tokenizer.BpeTrainer;
import dev.jgpt.tokenizer.Corpus;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import dev.jgpt.tokenizer.Utf8File;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer, or encode and decode with any tokenizer.json.",
        subcommands = {
                TokenizerCommand.Train.class,
                TokenizerCommand.Encode.class,
                TokenizerCommand.Decode.class,
                TokenizerCommand.Info.class,
        })
final class TokenizerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing subcommand: train, encode, decode or info");
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train a GPT-2-style byte-level BPE on a UTF-8 text and write DIR/tokenizer.json "
                    + "(a standard Hugging Face tokenizer; ids 0-255 are bytes, <|endoftext|> is the last id).")
    static final class Train implements Callable<Integer> {
        @Option(names = "--data", paramLabel = "FILE",
                description = "Training text (UTF-8). Default: tiny Shakespeare ($JGPT_DATA_DIR, the cache, or a download).")
        Path data;

        @Option(names = "--vocab-size", required = true, paramLabel = "N",
                description = "Tokens in the vocabulary, 257..65536 (256 bytes + merges + <|endoftext|>).")
        int vocabSize;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for tokenizer.json.")
        Path out;

        @Override
        public Integer call() throws IOException {
            if (vocabSize > TokenFile.MAX_ID + 1) {
                throw new IllegalArgumentException("vocab size " + vocabSize
                        + " is too large: jgpt's uint16 token files hold at most 65,536 tokens");
            }
            Path corpus = Corpus.resolveTinyShakespeare(Optional.ofNullable(data));
            boolean created = IoErrors.createFolder("--out", out);   // before training, which takes a while
            long start = System.nanoTime();
            BpeTrainer.Result r;
            try {
                r = BpeTrainer.train(corpus, vocabSize);
            } catch (IOException | RuntimeException e) {
                if (created) {
                    AtomicFiles.deleteTreeQuietly(out);
                }
                throw e;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Path file = out.resolve(Tokenizers.FILE_NAME);
            r.save(file);
            // Check the file with the library that will run it: it loads and round-trips a sample.
            try (Tokenizer t = Tokenizers.load(file)) {
                String sample = sample(corpus);
                if (!t.decode(t.encode(sample)).equals(sample)) {
                    throw new IllegalStateException("the trained tokenizer does not round-trip " + corpus
                            + " (a bug: please report it)");
                }
            }
            System.out.printf("trained byte-level BPE on %s in %.1f s: %,d bytes, %,d words (%,d distinct)%n",
                    corpus, seconds, r.bytes(), r.words(), r.distinctWords());
            System.out.printf("vocabulary: %,d tokens (256 bytes + %,d merged + <|endoftext|> = %d)%s%n",
                    r.vocabSize(), r.vocabSize() - 257, r.endOfText(),
                    r.vocabSize() < vocabSize ? "; stopped early: no pair of tokens left to merge" : "");
            System.out.printf("the training text is %,d tokens: %.2f bytes per token%n",
                    r.tokens(), (double) r.bytes() / Math.max(1, r.tokens()));
            System.out.println("wrote " + file);
            return 0;
        }

        private static String sample(Path corpus) throws IOException {
            try (Utf8File in = new Utf8File(corpus, 1 << 18)) {
                StringBuilder sb = new StringBuilder();
                in.readBlock(sb);
                return sb.toString();
            }
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = "Print the token ids of a text (argument, --file, or standard input), space-separated.")
    static final class Encode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "PATH",
                description = "tokenizer.json, or a directory holding one.")
        Path tokenizer;

        @Option(names = "--file", paramLabel = "FILE", description = "Encode this UTF-8 file.")
        Path file;

        @Parameters(arity = "0..1", paramLabel = "TEXT", description = "Text to encode.")
        String text;

        @Override
        public Integer call() throws IOException {
            if (text != null && file != null) {
                throw new IllegalArgumentException("give the text either as an argument or with --file, not both");
            }
            String input = text != null ? text
                    : file != null ? Utf8File.readString(file)
                    : Utf8File.decode(System.in.readAllBytes(), "standard input");
            try (Tokenizer t = Tokenizers.load(tokenizer)) {
                StringBuilder sb = new StringBuilder();
                for (int id : t.encode(input)) {
                    sb.append(sb.isEmpty() ? "" : " ").append(id);
                }
                System.out.println(sb);
            }
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Print the text of token ids (arguments or standard input; separated by spaces or commas).")
    static final class Decode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "PATH",
                description = "tokenizer.json, or a directory holding one.")
        Path tokenizer;

        @Parameters(paramLabel = "ID", description = "Token ids.")
        List<String> ids;

        @Override
        public Integer call() throws IOException {
            String input = ids != null && !ids.isEmpty() ? String.join(" ", ids)
                    : new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            String[] parts = input.strip().isEmpty() ? new String[0] : input.strip().split("[\\s,\\[\\]]+");
            int[] tokens = java.util.Arrays.stream(parts).filter(s -> !s.isEmpty()).mapToInt(s -> {
                try {
                    return Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a token id: '" + s + "'");
                }
            }).toArray();
            try (Tokenizer t = Tokenizers.load(tokenizer)) {
                System.out.print(t.decode(tokens));
                System.out.flush();
            }
            return 0;
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Show a tokenizer's kind and vocabulary.")
    static final class Info implements Callable<Integer> {
        @Parameters(paramLabel = "PATH", description = "tokenizer.json, or a directory holding one.")
        Path tokenizer;

        @Override
        public Integer call() throws IOException {
            try (Tokenizer t = Tokenizers.load(tokenizer)) {
                System.out.printf("kind: %s%nvocab size: %d%nend of text: %s%n", t.kind(), t.vocabSize(),
                        t.endOfText().isPresent() ? String.valueOf(t.endOfText().getAsInt()) : "none");
            }
            return 0;
        }
    }
}
