package dev.jgpt.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.Param;
import dev.jgpt.model.Quantize;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.io.gguf.GgufModel;
import dev.jgpt.model.io.gguf.GgufValue;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Hugging Face model directories: {@code config.json} ({@link ConfigJson}) and the weights, in
 * {@code model.safetensors} or sharded with {@code model.safetensors.index.json}, named as the config's
 * {@link Family} names them (GPT-2's Conv1D weights transposed, Llama's q/k/v and gate/up as separate
 * tensors; each parameter's {@link Param#stored} says how). F32, F16 and BF16 tensors load, one at a
 * time straight into the model's arrays. A pre-LN jgpt model with GPT-2's block loads in
 * GPT2LMHeadModel, one with Llama's block in LlamaForCausalLM; real checkpoints of both (and of Qwen2)
 * load here.
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";
    /** The weights of a quantized model directory ({@link #saveQuantized}): a GGUF file, whose tensors keep ggml's blocks. */
    public static final String QUANTIZED_WEIGHTS = "model.gguf";

    /** Buffers Hugging Face stores beside the weights (causal masks, rotary frequencies): not parameters. */
    private static final Pattern IGNORED = Pattern.compile(
            "(transformer\\.)?h\\.\\d+\\.attn\\.(masked_)?bias|.*rotary_emb\\.inv_freq");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelDir() {}

    /**
     * Writes config.json and model.safetensors (F32) into dir (created if needed), each atomically; the
     * weights stream from the model's arrays (no copy of them is made, so a model that fits once saves).
     */
    public static void save(GPT model, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<SafeTensors.Slice> tensors = new ArrayList<>();
        for (Param p : model.parameters()) {
            int rowSize = p.rowSize();
            for (Param.Stored s : p.stored) {
                int[] shape = p.shape.length == 1 ? new int[] {s.rows()}
                        : s.transposed() ? new int[] {rowSize, s.rows()} : new int[] {s.rows(), rowSize};
                tensors.add(new SafeTensors.Slice(s.name(), shape, p.data, s.rowStart() * rowSize, s.transposed()));
            }
        }
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(ConfigJson.write(model.config)));
    }

    /**
     * Writes a quantized model directory: model.gguf with the weights in the types {@link Quantize#typeOf}
     * gives for {@code type} (llama.cpp runs the file as it is; {@code metadata} adds its tokenizer keys),
     * and config.json with a {@code "quantization"} object naming the type and every matrix kept in another
     * (f32 vectors and position tables, the q6_K head of 4-bit types). Only models of llama.cpp's
     * architectures (gpt2, llama, qwen2) can be written so.
     */
    public static void saveQuantized(GPT model, WeightType type, Map<String, GgufValue> metadata, Path dir)
            throws IOException {
        Files.createDirectories(dir);
        GgufModel.Exported done = GgufModel.write(model,
                new GgufModel.ExportOptions(type, dir.toAbsolutePath().normalize().getFileName().toString(), metadata),
                dir.resolve(QUANTIZED_WEIGHTS));
        ObjectNode config = ConfigJson.write(model.config);
        ObjectNode q = config.putObject("quantization");
        q.put("weights", type.ggmlName());
        q.put("file", QUANTIZED_WEIGHTS);
        ObjectNode other = q.putObject("other_types");
        done.types().forEach((name, t) -> {
            if (t.weightType() != type) {
                other.put(name, t.ggmlName);
            }
        });
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(config));
    }

    /** Loads a model directory; every problem is one IOException naming the file and what is wrong. */
    public static GPT load(Path dir) throws IOException {
        GPTConfig cfg = readConfig(dir);
        GPT model = GPT.uninitialized(cfg);
        loadWeights(model, dir);
        return model;
    }

    public static GPTConfig readConfig(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir + ": not a model directory (expected " + CONFIG + " and " + WEIGHTS + ")");
        }
        Path file = dir.resolve(CONFIG);
        JsonNode c;
        try {
            c = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file + ": missing");
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (c == null || !c.isObject()) {
            throw new IOException(file + ": not a JSON object");
        }
        return ConfigJson.parse(file, c);
    }

    /**
     * Fills every parameter of {@code model} from the directory's safetensors file(s), checking names and
     * shapes against the model's config (which may differ from the directory's only in what has no
     * weights, such as dropout).
     */
    public static void loadWeights(GPT model, Path dir) throws IOException {
        Map<String, SafeTensors.Reader> readers = new LinkedHashMap<>();
        try {
            List<Copy> copies = new ArrayList<>();
            for (Placed t : place(model, dir, readers)) {
                copies.add(new Copy(t.reader(), t.entry(), t.param().data, t.stored().rowStart() * t.param().rowSize(),
                        t.stored().transposed()));
            }
            copyAll(copies);
        } finally {
            for (SafeTensors.Reader r : readers.values()) {
                r.close();
            }
        }
    }

    /**
     * Loads a model directory for inference with its matrices used in place: every weight matrix stored in
     * F32, F16 or BF16 stays in a read-only mapping of its safetensors file, packed as a {@link WeightMatrix}
     * of that type (GPT-2's Conv1D weights, stored [in, out], as {@link WeightMatrix#wrapTransposed}); the
     * vectors (norms, biases) and a learned position table are copied into f32 arrays. Nothing of the
     * matrices is copied: the file's pages, already in the page cache after a first run, are shared instead
     * of ~4 bytes per weight of fresh memory faulted in (on a VM whose host reclaims freed pages, seconds).
     * The mapping lives as long as the model does. Checks and errors as {@link #load}. An F16 or BF16
     * Conv1D weight (which would need a transposed half kernel) is copied as {@link #load} copies it.
     */
    public static GPT loadMapped(Path dir) throws IOException {
        return loadMapped(dir, null, note -> { });
    }

    /**
     * {@link #loadMapped(Path)}, with the f32 matrices stored transposed (GPT-2's Conv1D weights) read row-major from
     * a side file in {@code cacheDir} ({@link RowMajorCache}: mapped if valid, else written now, {@code note} told);
     * if none can be written, {@code note} is told why and they are used as stored. No side file if cacheDir is null.
     */
    public static GPT loadMapped(Path dir, Path cacheDir, java.util.function.Consumer<String> note) throws IOException {
        GPTConfig cfg = readConfig(dir);
        Map<String, SafeTensors.Reader> readers = new LinkedHashMap<>();
        try {
            // Which stored tensors are matrices, and of them which are Conv1D's, from a model whose matrices
            // are all packed (so it holds no weights): a first plan over the same files.
            GPT probe = GPT.uninitialized(cfg, name -> true);
            List<Param> embeddings = probe.embeddingParameters();
            String positions = embeddings.size() > 1 ? embeddings.get(1).name : null;
            java.util.Set<String> mappable = new java.util.HashSet<>();
            for (Placed t : place(probe, dir, readers)) {
                String dtype = t.entry().dtype();
                if (t.param().isPacked() && !t.param().name.equals(positions)
                        && (!t.stored().transposed() || dtype.equals("F32"))) {
                    mappable.add(t.stored().name());
                }
            }
            GPT model = GPT.uninitialized(cfg, mappable::contains);
            List<Placed> placed = place(model, dir, readers);
            Map<String, MemorySegment> rowMajor = cacheDir == null ? Map.of() : rowMajor(placed, cacheDir, note);
            List<Copy> copies = new ArrayList<>();
            Map<Param, List<WeightMatrix>> packed = new LinkedHashMap<>();
            for (Placed t : placed) {
                Param p = t.param();
                Param.Stored s = t.stored();
                if (!p.isPacked()) {
                    copies.add(new Copy(t.reader(), t.entry(), p.data, s.rowStart() * p.rowSize(), s.transposed()));
                    continue;
                }
                MemorySegment bytes = t.reader().mapped(t.entry());
                WeightType type = weightType(t.entry());
                if (s.transposed() && type != WeightType.F32) {
                    throw new IOException(t.reader().file() + ": tensor " + s.name() + " is " + t.entry().dtype()
                            + " and stored transposed, and shares a parameter with mapped tensors");
                }
                MemorySegment rows = rowMajor.get(s.name());
                packed.computeIfAbsent(p, k -> new ArrayList<>()).add(rows != null
                        ? WeightMatrix.wrap(WeightType.F32, s.rows(), p.rowSize(), rows)
                        : s.transposed() ? WeightMatrix.wrapTransposed(s.rows(), p.rowSize(), bytes)
                        : WeightMatrix.wrap(type, s.rows(), p.rowSize(), bytes));
            }
            packed.forEach(Param::pack);
            copyAll(copies);
            return model;
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        } finally {
            for (SafeTensors.Reader r : readers.values()) {
                r.close();
            }
        }
    }

    /** The side file's W of every f32 tensor stored transposed, by name; none (and a note why) if it cannot be had. */
    private static Map<String, MemorySegment> rowMajor(List<Placed> placed, Path cacheDir,
                                                       java.util.function.Consumer<String> note) throws IOException {
        List<RowMajorCache.Source> sources = new ArrayList<>();
        for (Placed t : placed) {
            if (t.param().isPacked() && t.stored().transposed() && t.entry().dtype().equals("F32")) {
                sources.add(new RowMajorCache.Source(t.stored().name(), t.stored().rows(), t.param().rowSize(),
                        t.reader().mapped(t.entry()), t.reader().file(), t.entry().begin(), t.entry().end()));
            }
        }
        if (sources.isEmpty()) {
            return Map.of();
        }
        try {
            return RowMajorCache.rowMajor(cacheDir, sources, note);
        } catch (IOException | java.io.UncheckedIOException e) {
            note.accept("no row-major side file (" + e.getMessage() + "); the transposed matrices are used as stored");
            return Map.of();
        }
    }

    /** The types {@link #loadMapped} keeps the directory's matrices (its 2-D tensors) in, from the files' headers. */
    public static java.util.Set<WeightType> matrixTypes(Path dir) throws IOException {
        java.util.Set<WeightType> types = java.util.EnumSet.noneOf(WeightType.class);
        for (Path f : weightFiles(dir)) {
            try (SafeTensors.Reader r = SafeTensors.Reader.open(f)) {
                for (SafeTensors.Entry e : r.entries().values()) {
                    if (e.shape().length == 2) {
                        types.add(weightType(e));
                    }
                }
            }
        }
        return types;
    }

    private static WeightType weightType(SafeTensors.Entry e) {
        return switch (e.dtype()) {
            case "F32" -> WeightType.F32;
            case "F16" -> WeightType.F16;
            default -> WeightType.BF16;
        };
    }

    /** One stored tensor of a parameter and where it is: its file's reader and header entry. */
    private record Placed(Param param, Param.Stored stored, SafeTensors.Reader reader, SafeTensors.Entry entry) {
    }

    /**
     * Where each stored tensor of every parameter of {@code model} is, in parameter order, checking names and
     * shapes against the model's config; files are opened into {@code readers} (by path, each once).
     */
    private static List<Placed> place(GPT model, Path dir, Map<String, SafeTensors.Reader> readers) throws IOException {
        GPTConfig cfg = model.config;
        Map<String, SafeTensors.Entry> entries = new LinkedHashMap<>();
        Map<String, SafeTensors.Reader> owner = new HashMap<>();
        for (Path f : weightFiles(dir)) {
            SafeTensors.Reader r = readers.get(f.toString());
            if (r == null) {
                r = SafeTensors.Reader.open(f);
                readers.put(f.toString(), r);
            }
            for (SafeTensors.Entry e : r.entries().values()) {
                if (IGNORED.matcher(e.name()).matches() || cfg.tiedEmbeddings() && e.name().equals("lm_head.weight")) {
                    continue;
                }
                // GPT-2 hub files may lack the "transformer." prefix.
                String name = cfg.family() == Family.GPT2 && !e.name().startsWith("transformer.")
                        && !e.name().startsWith("lm_head.") ? "transformer." + e.name() : e.name();
                entries.put(name, e);
                owner.put(name, r);
            }
        }
        List<Placed> placed = new ArrayList<>();
        for (Param p : model.parameters()) {
            int rowSize = p.rowSize();
            for (Param.Stored s : p.stored) {
                SafeTensors.Entry e = entries.remove(s.name());
                int[] want = p.shape.length == 1 ? new int[] {s.rows()}
                        : s.transposed() ? new int[] {rowSize, s.rows()} : new int[] {s.rows(), rowSize};
                if (e == null) {
                    throw new IOException(dir + ": missing tensor " + s.name() + " " + Arrays.toString(want)
                            + " required by " + CONFIG + " (" + cfg.family() + ", " + cfg.layout() + ", "
                            + cfg.nLayer() + " layers)");
                }
                SafeTensors.Reader r = owner.get(s.name());
                if (!Arrays.equals(e.shape(), want)) {
                    throw new IOException(r.file() + ": tensor " + e.name() + " has shape " + Arrays.toString(e.shape())
                            + " but " + CONFIG + " needs " + Arrays.toString(want));
                }
                placed.add(new Placed(p, s, r, e));
            }
        }
        if (!entries.isEmpty()) {
            throw new IOException(dir + ": unexpected tensors " + entries.keySet() + " for a " + cfg.family() + " "
                    + cfg.layout() + " model (does " + CONFIG + " describe these weights?)");
        }
        return placed;
    }

    /** One checkpoint tensor's values into a parameter's array at {@code offset}, transposed if stored so. */
    private record Copy(SafeTensors.Reader reader, SafeTensors.Entry entry, float[] dst, int offset, boolean transposed) {
        void run() {
            if (transposed) {
                reader.readTransposedInto(entry, dst, offset);
            } else {
                reader.readInto(entry, dst, offset);
            }
        }
    }

    /**
     * Runs the copies on the kernel threads, largest first from a shared queue: loading is bound by the
     * kernel's copies out of the page cache and GPT-2's transpositions, which the cores take in parallel.
     */
    private static void copyAll(List<Copy> copies) throws IOException {
        List<Copy> queue = new ArrayList<>(copies);
        queue.sort(Comparator.comparingLong((Copy c) -> c.entry().elements()).reversed());
        AtomicInteger next = new AtomicInteger();
        try {
            Parallel.forRange(Math.min(Parallel.threads(), queue.size()), 1, (s, e) -> {
                for (int i; (i = next.getAndIncrement()) < queue.size(); ) {
                    queue.get(i).run();
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** model.safetensors, or the shards model.safetensors.index.json names (each once, in order). */
    private static Iterable<Path> weightFiles(Path dir) throws IOException {
        Path single = dir.resolve(WEIGHTS), index = dir.resolve(WEIGHTS_INDEX);
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        if (!Files.isRegularFile(index)) {
            throw new NoSuchFileException(single + ": missing (a model directory needs " + CONFIG + " and " + WEIGHTS
                    + " or " + WEIGHTS_INDEX + ")");
        }
        JsonNode map;
        try {
            map = JSON.readTree(Files.readString(index)).path("weight_map");
        } catch (JsonProcessingException e) {
            throw new IOException(index + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new IOException(index + ": no \"weight_map\" of tensor names to files");
        }
        java.util.LinkedHashSet<Path> files = new java.util.LinkedHashSet<>();
        for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
            String f = it.next().asText();
            Path p = dir.resolve(f).normalize();
            if (!p.startsWith(dir.normalize()) || f.isEmpty()) {
                throw new IOException(index + ": shard \"" + f + "\" is not a file in " + dir);
            }
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p + ": missing shard named in " + index.getFileName());
            }
            files.add(p);
        }
        return files;
    }

    /** [rows × cols] → [cols × rows]. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
