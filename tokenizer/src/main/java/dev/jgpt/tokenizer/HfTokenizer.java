package dev.jgpt.tokenizer;

import dev.jgpt.common.AtomicFiles;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Any Hugging Face tokenizer.json (GPT-2's byte-level BPE, the ones {@link BpeTrainer} writes,
 * ...), run by DJL's binding of the Rust {@code tokenizers} library. Built with truncation,
 * padding and added special tokens off: DJL would otherwise cut texts at 512 tokens.
 * Files of GPT-2's shape encode in pure Java instead ({@link ByteLevelBpe}: the same ids, many times
 * faster), unless {@code -Djgpt.tokenizer.java=false} asks for the library (to compare the two).
 * For them the library (native code: a third of a second of CPU to build) is built only when first needed:
 * for a character outside ASCII (whose class in GPT-2's pattern the library's Unicode tables decide), a lone
 * surrogate, {@link #decode} or {@link #libraryEncode}; generating from an ASCII prompt never needs it, since
 * byte-level tokens decode through {@link #tokenBytes(int)}. When it is built, the pure-Java encoder is checked
 * against it on a probe text and, should they disagree, the library encodes from then on.
 */
public final class HfTokenizer implements Tokenizer {
    static {
        // DJL contacts a cloud metadata address once per JVM unless told it is offline. It reads
        // the DJL_OFFLINE / OPT_OUT_TRACKING environment variables, else these system properties.
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private final String file;   // where the tokenizer came from, for messages
    private final byte[] json;
    /** The library's tokenizer: building or built since loading, or for GPT-2-shaped files, on first need. */
    private final FutureTask<HuggingFaceTokenizer> library;
    private final int vocabSize;
    private final OptionalInt endOfText;
    private final OptionalInt beginningOfText;
    private final String kind;
    private final boolean byteLevel;
    private final byte[][] tokenBytes;      // per id, for ByteLevel decoders; else null
    /** GPT-2-shaped files: the pure-Java encoder (same ids, tens of times faster); else null. */
    private volatile ByteLevelBpe fast;
    /** Whether the library is built and {@link #fast} was checked against it; under the library's lock, whether that runs. */
    private volatile boolean probed;
    private boolean probing;

    /**
     * Reads what the pure-Java side needs from {@code root}. A file of another shape than GPT-2's needs the library at
     * once: it builds on a thread of its own meanwhile (native code: about half of loading such a file), and this waits
     * for it. A file that jgpt cannot read is reported as the library's rejection, if the library rejects it too.
     */
    private HfTokenizer(String file, byte[] json, JsonNode root) {
        this.file = file;
        this.json = json;
        this.library = new FutureTask<>(() -> HuggingFaceTokenizer.newInstance(new java.io.ByteArrayInputStream(json),
                java.util.Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false")));
        boolean libraryNeeded = true;
        try {
            this.fast = Boolean.parseBoolean(System.getProperty("jgpt.tokenizer.java", "true"))
                    ? ByteLevelBpe.of(root, this::libraryClass) : null;
            libraryNeeded = fast == null || libraryReadsMore(root);
            if (libraryNeeded) {
                Thread.ofPlatform().name("jgpt-tokenizers-library").daemon().start(library);
            }
            JsonNode model = root.path("model");
            this.kind = model.path("type").asText().toLowerCase(Locale.ROOT);
            int maxId = -1;
            Integer eot = null;
            JsonNode vocab = model.path("vocab");
            if (vocab.isArray()) {                      // Unigram: [[piece, score], ...], id = index
                maxId = vocab.size() - 1;
                for (int i = 0; i < vocab.size(); i++) {
                    if ("<|endoftext|>".equals(vocab.get(i).path(0).asText())) {
                        eot = i;
                    }
                }
            } else {                                    // BPE, WordPiece, WordLevel: {token: id}
                for (var it = vocab.fields(); it.hasNext(); ) {
                    var e = it.next();
                    maxId = Math.max(maxId, e.getValue().asInt());
                    if ("<|endoftext|>".equals(e.getKey())) {
                        eot = e.getValue().asInt();
                    }
                }
            }
            for (JsonNode added : root.path("added_tokens")) {
                maxId = Math.max(maxId, added.path("id").asInt());
                if ("<|endoftext|>".equals(added.path("content").asText())) {
                    eot = added.path("id").asInt();
                }
            }
            if (maxId < 0) {
                throw new IllegalArgumentException("corrupt tokenizer file " + file + ": the vocabulary is empty");
            }
            this.endOfText = eot == null ? OptionalInt.empty() : OptionalInt.of(eot);
            this.beginningOfText = beginningOfText(root.path("post_processor"));
            this.tokenBytes = "ByteLevel".equals(root.path("decoder").path("type").asText())
                    ? tokenBytes(vocab, root.path("added_tokens"), maxId + 1) : null;
            boolean addedTokenWithNewline = false;
            for (JsonNode added : root.path("added_tokens")) {
                addedTokenWithNewline |= added.path("content").asText().indexOf('\n') >= 0;
            }
            this.byteLevel = root.path("normalizer").isNull()
                    && "ByteLevel".equals(root.path("pre_tokenizer").path("type").asText())
                    && root.path("pre_tokenizer").path("use_regex").asBoolean(true)
                    && !root.path("pre_tokenizer").path("add_prefix_space").asBoolean(false)
                    && !addedTokenWithNewline;
            this.vocabSize = maxId + 1;
        } catch (RuntimeException | Error e) {
            library.run();   // builds it here unless it is building or built already
            built(library, file).close();   // throws the library's rejection instead, if it rejected the file
            throw e;
        }
        if (libraryNeeded) {
            djl();   // waits for it: its rejection of the file is the error
        }
    }

    /**
     * Whether a file of GPT-2's shape also has parts that only the library reads (a decoder or post-processor other
     * than ByteLevel, truncation, padding): then the library is built at once, as for files of other shapes, so that a
     * file it rejects is rejected on loading.
     */
    private static boolean libraryReadsMore(JsonNode root) {
        JsonNode post = root.path("post_processor");
        return !"ByteLevel".equals(root.path("decoder").path("type").asText())
                || !(post.isNull() || post.isMissingNode() || "ByteLevel".equals(post.path("type").asText()))
                || !(root.path("truncation").isNull() || root.path("truncation").isMissingNode())
                || !(root.path("padding").isNull() || root.path("padding").isMissingNode());
    }

    /**
     * The special token a TemplateProcessing post-processor puts before a single text (Llama's BOS),
     * also inside a Sequence of processors; empty if there is none.
     */
    private static OptionalInt beginningOfText(JsonNode processor) {
        if ("Sequence".equals(processor.path("type").asText())) {
            for (JsonNode p : processor.path("processors")) {
                OptionalInt bos = beginningOfText(p);
                if (bos.isPresent()) {
                    return bos;
                }
            }
            return OptionalInt.empty();
        }
        if (!"TemplateProcessing".equals(processor.path("type").asText())) {
            return OptionalInt.empty();
        }
        JsonNode first = processor.path("single").path(0).path("SpecialToken");
        JsonNode ids = processor.path("special_tokens").path(first.path("id").asText()).path("ids");
        return first.isObject() && ids.size() == 1 && ids.get(0).canConvertToInt()
                ? OptionalInt.of(ids.get(0).asInt()) : OptionalInt.empty();
    }

    /**
     * What the ByteLevel decoder makes of each token: its characters mapped back to bytes, or,
     * for a token with characters outside the byte alphabet (an added token), its UTF-8 bytes.
     */
    private static byte[][] tokenBytes(JsonNode vocab, JsonNode added, int size) {
        byte[][] bytes = new byte[size][];
        if (vocab.isObject()) {
            for (var it = vocab.fields(); it.hasNext(); ) {
                var e = it.next();
                bytes[e.getValue().asInt()] = byteLevelBytes(e.getKey());
            }
        }
        for (JsonNode token : added) {
            bytes[token.path("id").asInt()] = byteLevelBytes(token.path("content").asText());
        }
        return bytes;
    }

    private static byte[] byteLevelBytes(String token) {
        try {
            return ByteLevel.toBytes(token);
        } catch (IllegalArgumentException notByteLevel) {
            return token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * The bytes token {@code id} decodes to, for tokenizers with a ByteLevel decoder (so that a
     * stream of tokens can be decoded byte-exactly); {@code null} for other tokenizers or ids
     * the vocabulary does not define.
     */
    byte[] tokenBytes(int id) {
        return tokenBytes == null || id < 0 || id >= tokenBytes.length ? null : tokenBytes[id];
    }

    /** Loads {@code file} (already parsed as {@code root}) through DJL. */
    static HfTokenizer load(Path file, JsonNode root) throws IOException {
        return fromJson(Files.readAllBytes(file), root, file.toString());
    }

    /**
     * A tokenizer from the bytes of a tokenizer.json (parsed as {@code root}); {@code origin} names it in messages.
     */
    static HfTokenizer fromJson(byte[] json, JsonNode root, String origin) throws IOException {
        return new HfTokenizer(origin, json, root);
    }

    /**
     * The library's tokenizer, built now if it is not yet (on the calling thread; GPT-2-shaped files only). The first
     * time, the pure-Java encoder is checked against it on {@link #PROBE}, and if they disagree the library encodes
     * from then on.
     */
    private HuggingFaceTokenizer djl() {
        if (!probed) {
            synchronized (library) {
                library.run();   // builds it unless it is built or building
                HuggingFaceTokenizer built = built(library, file);
                if (!probed && !probing) {
                    probing = true;   // the probe's encoding asks this for the library's character classes
                    try {
                        ByteLevelBpe encoder = fast;
                        if (encoder != null && !Arrays.equals(encoder.encode(PROBE), libraryEncode(built, PROBE))) {
                            fast = null;
                        }
                    } finally {
                        probing = false;
                    }
                    probed = true;
                }
                return built;
            }
        }
        return built(library, file);
    }

    /** The library's tokenizer once built; its rejection of the file as one IllegalArgumentException naming it. */
    private static HuggingFaceTokenizer built(FutureTask<HuggingFaceTokenizer> library, String origin) {
        try {
            return library.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the tokenizers library loaded " + origin, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error err) {
                throw err;
            }
            if (cause instanceof IOException io) {
                throw new java.io.UncheckedIOException(origin + ": " + io.getMessage(), io);
            }
            throw new IllegalArgumentException("corrupt tokenizer file " + origin + ": the tokenizers library rejects it ("
                    + cause.getMessage() + ")", cause);
        }
    }

    /**
     * Text on which a mistake in the pure-Java encoder would show: contractions, white-space runs, an added
     * token, and letters first assigned in recent Unicode versions (14.0 Vithkuqi, 15.0 Kawi, 15.1 CJK
     * Extension I, 16.0 Garay, 17.0 CJK Extension J), which the library's tables may or may not know.
     */
    private static final String PROBE = probe();

    private static String probe() {
        StringBuilder sb = new StringBuilder("I'm 'll they've  two  spaces\n\n\tand\u00a0more <|endoftext|> x1 ");
        for (int letter : new int[] {0x10570, 0x11F04, 0x2EBF0, 0x10D4A, 0x323B0}) {
            String x = Character.toString(letter);
            sb.append('a').append(x).append(" 1").append(x).append(" !").append(x).append(' ').append(x).append('\n');
        }
        return sb.toString();
    }

    /**
     * How the library's pre-tokenizer classes {@code codePoint} for GPT-2's pattern: whether it joins a
     * letter, a digit or a punctuation mark before it in one word; else it is white space.
     */
    byte libraryClass(int codePoint) {
        String c = Character.toString(codePoint);
        return oneWord("a" + c) ? ByteLevelBpe.LETTER
                : oneWord("1" + c) ? ByteLevelBpe.NUMBER
                : oneWord("!" + c) ? ByteLevelBpe.OTHER
                : ByteLevelBpe.SPACE;
    }

    private boolean oneWord(String text) {
        long[] words = djl().encode(text, false, false).getWordIds();
        return Arrays.stream(words).allMatch(w -> w == words[0]);
    }

    /**
     * Whether encoding runs in pure Java ({@link ByteLevelBpe}) rather than through the library (which builds the
     * library, and so checks the encoder against it, if it is not built yet).
     */
    boolean encodesInJava() {
        djl();
        return fast != null;
    }

    /** Whether the library's tokenizer has been built (it is, once needed). */
    boolean libraryBuilt() {
        return library.isDone();
    }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        ByteLevelBpe encoder = fast;
        int[] ids = encoder != null ? encoder.encode(text) : null;
        // a probe that disagrees, checked when the encoder first needed the library, hands the text to the library
        return ids != null && fast != null ? ids : libraryEncode(text);
    }

    /** The library's ids for {@code text}, whichever encoder {@link #encode} uses (the reference). */
    public int[] libraryEncode(String text) {
        return libraryEncode(djl(), text);
    }

    private static int[] libraryEncode(HuggingFaceTokenizer djl, String text) {
        long[] ids = djl.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            // The library silently skips unknown ids; an id out of range is a caller bug.
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i
                        + " is out of range: the tokenizer has " + vocabSize + " tokens (0.." + (vocabSize - 1) + ")");
            }
            longs[i] = ids[i];
        }
        return djl().decode(longs, false);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt endOfText() {
        return endOfText;
    }

    @Override
    public OptionalInt beginningOfText() {
        return beginningOfText;
    }

    @Override
    public String kind() {
        return kind;
    }

    /**
     * True for GPT-2-style byte-level tokenizers (ByteLevel pre-tokenizer with GPT-2's regex, no
     * normalizer, no added token spanning a line break). Their pieces never cross a line start
     * between two non-blank characters, so a long text can be encoded block by block with the
     * same result ({@link ByteLevel#lastSafeCut}).
     */
    boolean isByteLevel() {
        return byteLevel;
    }

    /** Saves the tokenizer.json it was loaded from, byte for byte. */
    @Override
    public void save(Path tokenizerJson) throws IOException {
        AtomicFiles.write(tokenizerJson, json);
    }

    @Override
    public void close() {
        if (library.isDone()) {
            try {
                library.get().close();
            } catch (InterruptedException | ExecutionException notBuilt) {
                // the library rejected the file (reported then): nothing to close
            }
        }
    }

    @Override
    public String toString() {
        return kind + " tokenizer (" + vocabSize + " tokens) from " + file;
    }
}
