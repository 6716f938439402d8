package dev.jgpt.tokenizer;

import dev.jgpt.common.Terminal;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Corpus → token files, as nanoGPT's {@code prepare.py}: the text is split by position (the
 * first {@code 1 - valFraction} of its characters train, the rest validate), each part is
 * encoded, and the output directory receives
 * <ul>
 *   <li>{@code train.bin}, {@code val.bin}: little-endian uint16 token ids ({@link TokenFile});</li>
 *   <li>{@code tokenizer.json}: the tokenizer, so the directory is self-describing;</li>
 *   <li>{@code meta.json}: tokenizer kind and vocabulary size, token and character counts, the
 *       split, and the source file with its sha256.</li>
 * </ul>
 * Outputs are built in a staging directory and renamed into place only when all succeeded
 * ({@code meta.json} last), so a failure leaves no partial files. The corpus is streamed in
 * blocks and need not fit in memory; large ones show a progress bar on stderr (on a terminal).
 */
public final class Prepare {
    public static final String TRAIN = "train.bin";
    public static final String VAL = "val.bin";
    public static final String META = "meta.json";
    /** The {@code tokenizer} argument that builds a char-level vocabulary from the corpus. */
    public static final String CHAR = "char";

    private static final int BLOCK_BYTES = 1 << 22;
    /** Text per parallel task: large enough that a task's overhead does not show. */
    private static final int MIN_CHUNK = 1 << 16;
    private static final long PROGRESS_MIN_BYTES = 32L << 20;

    private Prepare() {
    }

    /** What was written. */
    public record Result(Path outDir, String tokenizerKind, int vocabSize, long bytes, long characters,
                         long trainTokens, long valTokens, double valFraction) {
    }

    /**
     * Prepares {@code text} with {@code tokenizer} ({@code "char"}, or the path of a
     * tokenizer.json or of a directory holding one) into {@code outDir}, on every core.
     */
    public static Result run(Path text, String tokenizer, Path outDir, double valFraction) throws IOException {
        return run(text, tokenizer, outDir, valFraction, Runtime.getRuntime().availableProcessors());
    }

    /** As {@link #run(Path, String, Path, double)}, encoding on {@code threads} threads (the output is the same). */
    public static Result run(Path text, String tokenizer, Path outDir, double valFraction, int threads)
            throws IOException {
        return run(text, tokenizer, outDir, valFraction, BLOCK_BYTES,
                Terminal.stderrIsTerminal() ? PROGRESS_MIN_BYTES : Long.MAX_VALUE, threads);
    }

    static Result run(Path text, String tokenizerSpec, Path outDir, double valFraction, int blockBytes,
                      long progressMinBytes) throws IOException {
        return run(text, tokenizerSpec, outDir, valFraction, blockBytes, progressMinBytes,
                Runtime.getRuntime().availableProcessors());
    }

    static Result run(Path text, String tokenizerSpec, Path outDir, double valFraction, int blockBytes,
                      long progressMinBytes, int threads) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + valFraction);
        }
        if (!Files.isRegularFile(text)) {
            throw new IllegalArgumentException("corpus not found: " + text);
        }
        // Pass 1: check the encoding, count characters, collect the alphabet, hash the file.
        Scan scan = scan(text, blockBytes);
        if (scan.characters == 0) {
            throw new IllegalArgumentException("corpus " + text + " is empty: nothing to prepare");
        }
        try (Tokenizer tokenizer = CHAR.equals(tokenizerSpec)
                ? CharTokenizer.ofCharacters(scan.alphabet.stream().toArray())
                : Tokenizers.load(Path.of(tokenizerSpec))) {
            if (tokenizer.vocabSize() > TokenFile.MAX_ID + 1) {
                throw new IllegalArgumentException("vocabulary of " + tokenizer.vocabSize()
                        + " tokens does not fit in uint16 token files (at most 65,536 tokens, ids 0..65535)");
            }
            long trainChars = (long) (scan.characters * (1 - valFraction));   // as nanoGPT: int(n * 0.9)
            boolean created = IoErrors.createFolder("--out", outDir);
            Path staging = staging(outDir, created);
            try {
                long[] tokens = encode(text, tokenizer, trainChars, staging, blockBytes,
                        scan.bytes >= progressMinBytes ? scan.bytes : -1, threads);
                if (tokens[0] == 0) {
                    throw new IllegalArgumentException("corpus " + text + " is too small: the training split is empty");
                }
                if (valFraction > 0 && tokens[1] == 0) {
                    throw new IllegalArgumentException("corpus " + text + " is too small: a validation fraction of "
                            + valFraction + " of " + scan.characters + " characters leaves no validation tokens");
                }
                tokenizer.save(staging.resolve(Tokenizers.FILE_NAME));
                Result result = new Result(outDir, tokenizer.kind(), tokenizer.vocabSize(), scan.bytes,
                        scan.characters, tokens[0], tokens[1], valFraction);
                ObjectNode meta = meta(result, tokenizer, text, scan, trainChars);
                Files.writeString(staging.resolve(META), Json.MAPPER.writeValueAsString(meta) + "\n");
                for (String name : new String[] {TRAIN, VAL, Tokenizers.FILE_NAME, META}) {
                    AtomicFiles.move(staging.resolve(name), outDir.resolve(name));
                }
                return result;
            } catch (IOException | RuntimeException | Error e) {
                if (created) {
                    AtomicFiles.deleteTreeQuietly(outDir);
                }
                throw e;
            } finally {
                AtomicFiles.deleteTreeQuietly(staging);
            }
        }
    }

    /** A staging folder in {@code outDir}, or one line saying why there can be none. */
    private static Path staging(Path outDir, boolean created) {
        try {
            return Files.createTempDirectory(outDir, ".prepare-");
        } catch (IOException e) {
            if (created) {
                AtomicFiles.deleteTreeQuietly(outDir);
            }
            throw new IllegalArgumentException("--out " + outDir + " cannot be written: " + IoErrors.reason(e)
                    + "; name a folder you can write to", e);
        }
    }

    private record Scan(long bytes, long characters, BitSet alphabet, String sha256) {
    }

    private static Scan scan(Path text, int blockBytes) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        BitSet alphabet = new BitSet();
        long characters = 0;
        StringBuilder block = new StringBuilder();
        long bytes;
        try (Utf8File in = new Utf8File(text, blockBytes).digest(sha)) {
            while (in.readBlock(block)) {
                for (int i = 0; i < block.length(); ) {
                    int cp = block.codePointAt(i);
                    alphabet.set(cp);
                    characters++;
                    i += Character.charCount(cp);
                }
                block.setLength(0);
            }
            bytes = in.bytesRead();
        }
        return new Scan(bytes, characters, alphabet, HexFormat.of().formatHex(sha.digest()));
    }

    /** Pass 2: encodes the two parts into staging/train.bin and val.bin; returns their token counts. */
    private static long[] encode(Path text, Tokenizer tokenizer, long trainChars, Path staging, int blockBytes,
                                 long progressMax, int threads) throws IOException {
        try (ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads, Prepare::daemon) : null;
             Utf8File in = new Utf8File(text, blockBytes);
             TokenFile.Writer train = new TokenFile.Writer(staging.resolve(TRAIN));
             TokenFile.Writer val = new TokenFile.Writer(staging.resolve(VAL));
             ProgressBar progress = progressMax < 0 ? null : new ProgressBarBuilder()
                     .setTaskName("prepare " + text.getFileName())
                     .setInitialMax(progressMax)
                     .setUnit(" MiB", 1 << 20)
                     .showSpeed()
                     .setUpdateIntervalMillis(500)
                     .setConsumer(new ConsoleProgressBarConsumer(System.err))
                     .build()) {
            Encoder encoder = new Encoder(tokenizer, text, train, val, trainChars, pool, threads);
            StringBuilder pending = new StringBuilder();
            while (in.readBlock(pending)) {
                encoder.drain(pending, false);
                if (progress != null) {
                    progress.stepTo(in.bytesRead());
                }
            }
            encoder.drain(pending, true);
            return new long[] {train.count(), val.count()};
        }
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "jgpt-prepare");
        t.setDaemon(true);
        return t;
    }

    /**
     * Feeds text to the tokenizer in pieces whose encodings concatenate to that of the whole; a long
     * piece is cut again, at such places, into chunks encoded in parallel and written in order.
     */
    private static final class Encoder {
        private final Tokenizer tokenizer;
        private final Path text;
        private final TokenFile.Writer train, val;
        private final long trainChars;
        private final ExecutorService pool;   // null: encode on the calling thread
        private final int threads;
        private long done;              // characters encoded so far
        private long line = 1, column = 1;
        private boolean inVal;

        Encoder(Tokenizer tokenizer, Path text, TokenFile.Writer train, TokenFile.Writer val, long trainChars,
                ExecutorService pool, int threads) {
            this.tokenizer = tokenizer;
            this.text = text;
            this.train = train;
            this.val = val;
            this.trainChars = trainChars;
            this.pool = pool;
            this.threads = threads;
        }

        void drain(StringBuilder pending, boolean end) throws IOException {
            if (!inVal) {
                long left = trainChars - done;
                if (left <= pending.length() && left <= pending.codePointCount(0, pending.length())) {
                    // The split falls in this block: the training part ends here, as a whole text.
                    int at = pending.offsetByCodePoints(0, (int) left);
                    emit(pending, at, train);
                    inVal = true;
                }
            }
            int cut = end ? pending.length() : safeCut(pending);
            if (cut > 0) {
                emit(pending, cut, inVal ? val : train);
            }
        }

        private int safeCut(CharSequence s) {
            if (tokenizer instanceof CharTokenizer) {
                int n = s.length();
                return n > 0 && Character.isHighSurrogate(s.charAt(n - 1)) ? n - 1 : n;
            }
            if (tokenizer instanceof HfTokenizer hf && hf.isByteLevel()) {
                return ByteLevel.lastSafeCut(s);
            }
            return 0;   // unknown pre-tokenization: encode each part in one piece
        }

        private void emit(StringBuilder pending, int end, TokenFile.Writer out) throws IOException {
            String piece = pending.substring(0, end);
            pending.delete(0, end);
            for (int[] ids : encode(piece)) {
                out.write(ids);
            }
            for (int i = 0; i < piece.length(); ) {
                int cp = piece.codePointAt(i);
                i += Character.charCount(cp);
                done++;
                if (cp == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
        }

        /** The ids of {@code piece}, in parallel chunks where it can be cut safely. */
        private List<int[]> encode(String piece) {
            List<String> chunks = chunks(piece);
            if (chunks.size() == 1) {
                return List.of(encodeLocated(piece));
            }
            List<Future<int[]>> parts = new ArrayList<>();
            for (String chunk : chunks) {
                parts.add(pool.submit(() -> tokenizer.encode(chunk)));
            }
            List<int[]> ids = new ArrayList<>(parts.size());
            try {
                for (Future<int[]> part : parts) {
                    ids.add(part.get());
                }
            } catch (ExecutionException e) {
                parts.forEach(p -> p.cancel(false));
                if (e.getCause() instanceof UnknownCharacterException) {
                    return List.of(encodeLocated(piece));   // again in one piece, to locate the character
                }
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while encoding " + text, e);
            }
            return ids;
        }

        private int[] encodeLocated(String piece) {
            try {
                return tokenizer.encode(piece);
            } catch (UnknownCharacterException e) {
                throw locate(e, piece);
            }
        }

        /** {@code piece} in about 4 chunks per thread, each cut where {@link #safeCut} allows. */
        private List<String> chunks(String piece) {
            int n = piece.length();
            if (pool == null || n < 2 * MIN_CHUNK) {
                return List.of(piece);
            }
            int target = Math.max(MIN_CHUNK, n / (4 * threads));
            List<String> chunks = new ArrayList<>();
            int start = 0;
            while (n - start >= 2 * target) {
                int cut = safeCut(piece.subSequence(start, start + target));
                if (cut <= 0) {
                    break;   // no safe place in reach: the rest goes in one chunk
                }
                chunks.add(piece.substring(start, start + cut));
                start += cut;
            }
            chunks.add(piece.substring(start));
            return chunks;
        }

        private UnknownCharacterException locate(UnknownCharacterException e, String piece) {
            long l = line, c = column;
            int i = 0;
            for (long k = 0; k < e.position(); k++) {
                int cp = piece.codePointAt(i);
                i += Character.charCount(cp);
                if (cp == '\n') {
                    l++;
                    c = 1;
                } else {
                    c++;
                }
            }
            return e.relocate(done + e.position(), "line " + l + ", column " + c + " of " + text,
                    tokenizer.vocabSize());
        }
    }

    private static ObjectNode meta(Result r, Tokenizer tokenizer, Path text, Scan scan, long trainChars) {
        ObjectNode meta = Json.MAPPER.createObjectNode();
        meta.put("format", "nanoGPT token files: raw uint16 little-endian token ids");
        meta.put("dtype", "uint16");
        meta.put("byte_order", "little");
        meta.put("vocab_size", r.vocabSize());
        ObjectNode tok = meta.putObject("tokenizer");
        tok.put("file", Tokenizers.FILE_NAME);
        tok.put("kind", r.tokenizerKind());
        tok.put("vocab_size", r.vocabSize());
        if (tokenizer.endOfText().isPresent()) {
            tok.put("end_of_text", tokenizer.endOfText().getAsInt());
        } else {
            tok.putNull("end_of_text");
        }
        ObjectNode source = meta.putObject("source");
        source.put("path", text.toAbsolutePath().normalize().toString());
        source.put("bytes", scan.bytes);
        source.put("characters", scan.characters);
        source.put("sha256", scan.sha256);
        ObjectNode split = meta.putObject("split");
        split.put("by", "position");
        split.put("val_fraction", r.valFraction());
        split.put("train_characters", trainChars);
        split.put("val_characters", scan.characters - trainChars);
        meta.putObject("train").put("file", TRAIN).put("tokens", r.trainTokens());
        meta.putObject("val").put("file", VAL).put("tokens", r.valTokens());
        return meta;
    }
}
