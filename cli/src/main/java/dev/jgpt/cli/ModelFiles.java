package dev.jgpt.cli;

import dev.jgpt.infer.GenerationConfig;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Quantize;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.model.io.gguf.GgufFile;
import dev.jgpt.model.io.gguf.GgufModel;
import dev.jgpt.model.io.gguf.GgufValue;
import dev.jgpt.tokenizer.GgmlVocab;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.TokenizerConfig;
import dev.jgpt.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * What {@code --model} names: a model directory (config.json, safetensors, tokenizer.json), a quantized
 * one (model.gguf instead of safetensors, {@code jgpt quantize}), or a GGUF file (its weights kept in
 * their stored types over the file's mapping, its tokenizer from the {@code tokenizer.ggml.*} keys).
 * A directory's tokenizer loads on a thread of its own while the weights load: the two do not depend on each
 * other, and the tokenizer (its JSON, the tokenizers library) is a good part of the time to the first token.
 * Close it when done: a GGUF model's weights are the mapped file.
 */
final class ModelFiles implements AutoCloseable {
    private final GPT gpt;
    private final Path source;
    private final GgufFile gguf;
    /** A directory's tokenizer, loading since {@link #load} began; null for a GGUF file. */
    private final FutureTask<Tokenizer> tokenizerLoad;
    private boolean tokenizerTaken;
    /** Touching the pages of a directory's matrices used in place, since they were mapped; null otherwise. */
    private final Thread pagesIn;

    private ModelFiles(GPT gpt, Path source, GgufFile gguf, FutureTask<Tokenizer> tokenizerLoad) {
        this(gpt, source, gguf, tokenizerLoad, null);
    }

    private ModelFiles(GPT gpt, Path source, GgufFile gguf, FutureTask<Tokenizer> tokenizerLoad, Thread pagesIn) {
        this.gpt = gpt;
        this.source = source;
        this.gguf = gguf;
        this.tokenizerLoad = tokenizerLoad;
        this.pagesIn = pagesIn;
    }

    GPT gpt() {
        return gpt;
    }

    /**
     * Starts touching the pages of the model's mapped matrices on a thread of its own, and returns it: the first touch
     * of each page of a mapping is a page fault (on the VMs measured, 0.3-1 s for GPT-2's 500 MB, most of it waiting,
     * not computing), which the first forward would otherwise take one page at a time, on its critical path.
     */
    private static Thread loadPages(GPT gpt) {
        return Thread.ofPlatform().name("jgpt-page-in").daemon().start(() -> {
            for (var p : gpt.parameters()) {
                if (p.isPacked()) {
                    p.packed().forEach(dev.jgpt.kernel.quant.WeightMatrix::loadPages);
                }
            }
            StartupTrace.mark("pages loaded");
        });
    }

    /** Waits until the pages of a directory's matrices used in place have been touched (nothing to wait for otherwise). */
    void awaitPages() throws InterruptedException {
        if (pagesIn != null) {
            pagesIn.join();
        }
    }

    /** Parses a --weights value (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k); null stays null. */
    static WeightType weightType(String option, String value) {
        if (value == null) {
            return null;
        }
        try {
            return WeightType.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    static boolean isGguf(Path model) {
        return model.getFileName() != null && model.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf");
    }

    /** Whether {@code model} loads as f32 weights: a directory of safetensors that {@code weights} does not quantize. */
    static boolean hasF32Weights(Path model, WeightType weights) {
        return !isGguf(model) && (weights == null || weights == WeightType.F32)
                && (Files.isRegularFile(model.resolve(ModelDir.WEIGHTS)) || Files.isRegularFile(model.resolve(ModelDir.WEIGHTS_INDEX)));
    }

    /**
     * Whether {@code generate} uses {@code model}'s matrices in place ({@link ModelDir#loadMapped}): a directory of
     * safetensors with no {@code --weights} conversion asked, unless {@code -Djgpt.mapweights=false}.
     */
    static boolean mapsWeights(Path model, WeightType weights) {
        return weights == null && hasF32Weights(model, null)
                && Boolean.parseBoolean(System.getProperty("jgpt.mapweights", "true"));
    }

    /** The environment variable and system property (which wins) that move the weight cache, or turn it off ("off"). */
    static final String WEIGHT_CACHE_ENV = "JGPT_WEIGHT_CACHE", WEIGHT_CACHE_PROPERTY = "jgpt.weightcache";

    /**
     * Where {@link ModelDir#loadMapped(Path, Path, java.util.function.Consumer)} keeps GPT-2's Conv1D weights
     * row-major ({@code weights} in jgpt's cache folder unless moved), or null if turned off.
     */
    static Path weightCache(Map<String, String> env) {
        String set = System.getProperty(WEIGHT_CACHE_PROPERTY, env.get(WEIGHT_CACHE_ENV));
        if (set == null || set.isBlank()) {
            return dev.jgpt.tokenizer.Corpus.defaultCacheDir(env).resolve("weights");
        }
        return set.equalsIgnoreCase("off") || set.equalsIgnoreCase("false") ? null : Path.of(set);
    }

    static ModelFiles load(Path model) throws IOException {
        return load(model, null);
    }

    static ModelFiles load(Path model, WeightType weights) throws IOException {
        return load(model, weights, false);
    }

    /**
     * Loads the model; with {@code weights} (a directory only) its matrices are quantized on load to that
     * type and packed ({@link Quantize#packed}: llama-quantize's choices), the f32 copy dropped. With
     * {@code inPlace} (and no {@code weights}) a directory's matrices stay in its mapped safetensors
     * ({@link ModelDir#loadMapped}): inference only, and a batch of sequences then reads them once per
     * sequence, so only {@code generate} asks for it.
     */
    static ModelFiles load(Path model, WeightType weights, boolean inPlace) throws IOException {
        FutureTask<Tokenizer> tokenizer = null;
        if (Files.isDirectory(model)) {
            tokenizer = new FutureTask<>(() -> {
                Tokenizer loaded = Tokenizers.load(model);
                StartupTrace.mark("tokenizer loaded");
                return loaded;
            });
            Thread.ofPlatform().name("jgpt-tokenizer-load").daemon().start(tokenizer);
        }
        try {
            return load(model, weights, inPlace, tokenizer);
        } catch (IOException | RuntimeException | Error e) {
            closeWhenLoaded(tokenizer);
            throw e;
        }
    }

    private static ModelFiles load(Path model, WeightType weights, boolean inPlace, FutureTask<Tokenizer> tokenizer)
            throws IOException {
        Path quantized = model.resolve(ModelDir.QUANTIZED_WEIGHTS);
        if (!isGguf(model) && Files.isRegularFile(quantized) && !Files.exists(model.resolve(ModelDir.WEIGHTS))) {
            if (weights != null) {
                throw new IllegalArgumentException("--weights quantizes an f32 model on load; " + model
                        + " is already quantized (" + quantized.getFileName() + ")");
            }
            ModelFiles inside = load(quantized, null, false, null);
            return new ModelFiles(inside.gpt, model, inside.gguf, tokenizer);
        }
        if (!isGguf(model)) {
            if (inPlace && weights == null) {
                GPT gpt = ModelDir.loadMapped(model, weightCache(System.getenv()),
                        line -> System.err.println("jgpt: " + line));
                StartupTrace.mark("weights mapped");
                return new ModelFiles(gpt, model, null, tokenizer, loadPages(gpt));
            }
            GPT gpt = ModelDir.load(model);
            StartupTrace.mark("weights loaded");
            return new ModelFiles(weights == null || weights == WeightType.F32 ? gpt : Quantize.packed(gpt, weights), model,
                    null, tokenizer);
        }
        if (weights != null) {
            throw new IllegalArgumentException("--weights quantizes a model directory on load; " + model
                    + " is a GGUF file, whose weights keep the types they are stored in");
        }
        if (!Files.isRegularFile(model)) {
            throw new java.nio.file.NoSuchFileException(model + ": no such GGUF file");
        }
        GgufFile f = GgufFile.open(model);
        try {
            return new ModelFiles(GgufModel.load(f), model, f, null);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * The model's tokenizer (the caller closes it): its directory's tokenizer.json, or the one the GGUF
     * metadata describes.
     */
    Tokenizer tokenizer() throws IOException {
        if (tokenizerLoad != null && !tokenizerTaken) {
            tokenizerTaken = true;
            return loaded(tokenizerLoad);
        }
        if (gguf == null || Files.isDirectory(source)) {
            return Tokenizers.load(source);
        }
        GgmlVocab vocab = readVocab(gguf);
        return Tokenizers.fromJson(vocab.toTokenizerJson(), gguf.file() + " (tokenizer.ggml.*)");
    }

    /** llama.cpp's key for the chat template (what tokenizer_config.json's chat_template is in a directory). */
    static final String CHAT_TEMPLATE = "tokenizer.chat_template";
    /** The names of a file's other templates, each under {@code tokenizer.chat_template.NAME}. */
    static final String CHAT_TEMPLATE_NAMES = "tokenizer.chat_templates";

    /**
     * The chat template and special tokens of {@code --model}, read without loading the weights: a
     * directory's tokenizer_config.json (and chat_template.jinja), or a GGUF file's
     * {@code tokenizer.chat_template} keys with its bos and eos tokens' text.
     *
     * @throws IllegalArgumentException naming the file, if a key has the wrong type
     */
    static TokenizerConfig tokenizerConfig(Path model) throws IOException {
        if (!isGguf(model)) {
            return TokenizerConfig.load(model);
        }
        try (GgufFile f = GgufFile.open(model)) {
            return tokenizerConfig(f);
        }
    }

    /** What a GGUF file says about chat, as a directory's tokenizer_config.json says it. */
    static TokenizerConfig tokenizerConfig(GgufFile f) {
        try {
            Map<String, String> templates = new LinkedHashMap<>();
            GgufValue template = f.metadata().get(CHAT_TEMPLATE);
            if (template != null) {
                templates.put(TokenizerConfig.DEFAULT_TEMPLATE, template.asString());
            }
            GgufValue names = f.metadata().get(CHAT_TEMPLATE_NAMES);
            for (String name : names != null ? names.asStrings() : new String[0]) {
                GgufValue named = f.metadata().get(CHAT_TEMPLATE + "." + name);
                if (named == null) {
                    throw new IllegalArgumentException(CHAT_TEMPLATE_NAMES + " names '" + name + "' but the file has no "
                            + CHAT_TEMPLATE + "." + name);
                }
                templates.putIfAbsent(name, named.asString());
            }
            Map<String, String> special = new LinkedHashMap<>();
            GgufValue tokens = f.metadata().get("tokenizer.ggml.tokens");
            if (tokens != null) {
                String[] text = tokens.asStrings();
                String[][] keys = {{"bos_token", "bos"}, {"eos_token", "eos"}, {"unk_token", "unknown"}, {"pad_token", "padding"}};
                for (String[] key : keys) {
                    int id = id(f, "tokenizer.ggml." + key[1] + "_token_id");
                    if (id >= 0 && id < text.length) {
                        special.put(key[0], text[id]);
                    }
                }
            }
            GgufValue addBos = f.metadata().get("tokenizer.ggml.add_bos_token");
            return new TokenizerConfig(f.file(), templates, special,
                    addBos == null ? Optional.empty() : Optional.of(addBos.asBoolean()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f.file() + ": " + e.getMessage(), e);
        }
    }

    /** The chat templates of a directory as llama.cpp's converter writes them into a GGUF file. */
    static Map<String, GgufValue> chatTemplateMetadata(TokenizerConfig config) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        List<String> others = new ArrayList<>();
        config.chatTemplate().ifPresent(t -> m.put(CHAT_TEMPLATE, GgufValue.string(t)));
        config.chatTemplates().forEach((name, t) -> {
            if (!name.equals(TokenizerConfig.DEFAULT_TEMPLATE)) {
                others.add(name);
                m.put(CHAT_TEMPLATE + "." + name, GgufValue.string(t));
            }
        });
        if (!others.isEmpty()) {
            m.put(CHAT_TEMPLATE_NAMES, GgufValue.strings(others.toArray(String[]::new)));
        }
        return m;
    }

    /**
     * The generation defaults of {@code --model}: a directory's generation_config.json, or for a GGUF
     * file its end-of-generation ids (llama.cpp's {@code eos}, {@code eot} and {@code eom} token ids).
     */
    static GenerationConfig generationConfig(Path model) throws IOException {
        if (!isGguf(model)) {
            return GenerationConfig.load(model);
        }
        try (GgufFile f = GgufFile.open(model)) {
            List<Integer> ends = new ArrayList<>();
            for (String key : new String[] {"eos", "eot", "eom"}) {
                int id = id(f, "tokenizer.ggml." + key + "_token_id");
                if (id >= 0 && !ends.contains(id)) {
                    ends.add(id);
                }
            }
            return new GenerationConfig(model, ends, OptionalInt.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), OptionalInt.empty(), Optional.empty());
        } catch (IllegalArgumentException e) {
            throw new IOException(model + ": " + e.getMessage(), e);
        }
    }

    /** llama.cpp's tokenizer keys as a vocabulary; the byte-level BPE model {@code gpt2} is required. */
    static GgmlVocab readVocab(GgufFile f) throws IOException {
        try {
            String model = f.require("tokenizer.ggml.model").asString();
            if (!model.equals("gpt2")) {
                throw new IllegalArgumentException("tokenizer.ggml.model is '" + model + "'; jgpt reads byte-level BPE "
                        + "tokenizers ('gpt2'), not SentencePiece ('llama') or others");
            }
            String[] tokens = f.require("tokenizer.ggml.tokens").asStrings();
            GgufValue types = f.metadata().get("tokenizer.ggml.token_type");
            int[] t = types != null ? types.asInts() : filled(tokens.length, GgmlVocab.NORMAL);
            GgufValue merges = f.metadata().get("tokenizer.ggml.merges");
            GgufValue pre = f.metadata().get("tokenizer.ggml.pre");
            GgufValue addBos = f.metadata().get("tokenizer.ggml.add_bos_token");
            return new GgmlVocab(tokens, t, merges != null ? merges.asStrings() : new String[0],
                    pre != null ? pre.asString() : "gpt-2", id(f, "tokenizer.ggml.bos_token_id"),
                    id(f, "tokenizer.ggml.eos_token_id"), addBos != null && addBos.asBoolean());
        } catch (IllegalArgumentException e) {
            throw new IOException(f.file() + ": " + e.getMessage());
        }
    }

    /** The tokenizer keys llama.cpp reads, for a file jgpt writes. */
    static Map<String, GgufValue> vocabMetadata(GgmlVocab v) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string(v.pre()));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(v.tokens()));
        m.put("tokenizer.ggml.token_type", GgufValue.int32s(v.types()));
        m.put("tokenizer.ggml.merges", GgufValue.strings(v.merges()));
        if (v.bos() >= 0) {
            m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(v.bos()));
        }
        if (v.eos() >= 0) {
            m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(v.eos()));
        }
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(v.addBos()));
        return m;
    }

    private static int id(GgufFile f, String key) {
        GgufValue v = f.metadata().get(key);
        return v == null ? -1 : v.asInt();
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, value);
        return a;
    }

    /** The tokenizer the task loaded, or the exception it threw. */
    private static Tokenizer loaded(FutureTask<Tokenizer> load) throws IOException {
        try {
            return load.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while loading the tokenizer");
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException r -> throw r;
                case Error err -> throw err;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    /** Closes the tokenizer a task loads once it has, unless it failed (then there is nothing to close). */
    private static void closeWhenLoaded(FutureTask<Tokenizer> load) {
        if (load != null) {
            try {
                loaded(load).close();
            } catch (IOException | RuntimeException | Error ignored) {
                // nothing was loaded, or closing failed: nothing more to release
            }
        }
    }

    @Override
    public void close() {
        if (!tokenizerTaken) {
            closeWhenLoaded(tokenizerLoad);
        }
        if (gguf != null) {
            gguf.close();
        }
    }
}
