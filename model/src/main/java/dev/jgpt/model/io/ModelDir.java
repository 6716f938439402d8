package dev.jgpt.model.io;

import dev.jgpt.common.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Hugging Face-style model directories: {@code config.json} (GPT2Config keys plus jgpt's
 * {@code residual_layout}, {@code init} and {@code bias}) and {@code model.safetensors} with GPT-2's
 * tensor names. Conv1D weights are stored [in, out] as GPT-2 does; the LM head is tied and not stored.
 * A pre-LN jgpt model with bias is therefore a GPT2LMHeadModel checkpoint, and real GPT-2
 * checkpoints (with or without the {@code transformer.} prefix) load here.
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String TOKENIZER = "tokenizer.json";

    /** Buffers Hugging Face stores beside the weights (causal masks) and the tied head: not parameters. */
    private static final Pattern IGNORED = Pattern.compile("(transformer\\.)?h\\.\\d+\\.attn\\.(masked_)?bias|lm_head\\.weight");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelDir() {}

    /** Writes config.json and model.safetensors into dir (created if needed), each atomically. */
    public static void save(GPT model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        for (Param p : model.parameters()) {
            tensors.put(p.name, p.conv1d
                    ? new SafeTensors.Tensor(p.name, new int[] {p.shape[1], p.shape[0]}, transpose(p.data, p.shape[0], p.shape[1]))
                    : new SafeTensors.Tensor(p.name, p.shape, p.data));
        }
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(configJson(model.config)));
    }

    /** Loads a model directory; every problem is one IOException naming the file and what is wrong. */
    public static GPT load(Path dir) throws IOException {
        GPTConfig cfg = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new NoSuchFileException(weights.toString(), null, "missing (a model directory needs " + CONFIG + " and " + WEIGHTS + ")");
        }
        Map<String, SafeTensors.Tensor> tensors = SafeTensors.read(weights);
        Map<String, SafeTensors.Tensor> byName = new LinkedHashMap<>();
        for (SafeTensors.Tensor t : tensors.values()) {
            if (IGNORED.matcher(t.name()).matches()) {
                continue;
            }
            String name = t.name().startsWith("transformer.") ? t.name() : "transformer." + t.name();
            byName.put(name, t);
        }
        GPT model = GPT.uninitialized(cfg);
        for (Param p : model.parameters()) {
            SafeTensors.Tensor t = byName.remove(p.name);
            if (t == null) {
                throw new IOException(weights + ": missing tensor " + p.name + " " + Arrays.toString(stored(p))
                        + " required by " + CONFIG + " (" + cfg.layout() + ", " + cfg.nLayer() + " layers)");
            }
            if (!Arrays.equals(t.shape(), stored(p))) {
                throw new IOException(weights + ": tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                        + " but " + CONFIG + " needs " + Arrays.toString(stored(p)));
            }
            float[] data = p.conv1d ? transpose(t.data(), p.shape[1], p.shape[0]) : t.data();
            System.arraycopy(data, 0, p.data, 0, p.size());
        }
        if (!byName.isEmpty()) {
            throw new IOException(weights + ": unexpected tensors " + byName.keySet() + " for a "
                    + cfg.layout() + " model (does " + CONFIG + " name the right residual_layout?)");
        }
        return model;
    }

    public static GPTConfig readConfig(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a model directory (expected " + CONFIG + " and " + WEIGHTS + ")");
        }
        Path file = dir.resolve(CONFIG);
        JsonNode c;
        try {
            c = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "missing");
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (c == null || !c.isObject()) {
            throw new IOException(file + ": not a JSON object");
        }
        String act = c.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new IOException(file + ": activation_function " + act + " is not supported (jgpt uses GPT-2's tanh GELU)");
        }
        JsonNode inner = c.get("n_inner");
        int embd = intKey(file, c, "n_embd");
        if (inner != null && !inner.isNull() && inner.asInt() != 4 * embd) {
            throw new IOException(file + ": n_inner " + inner.asInt() + " is not supported (jgpt's MLP is 4 × n_embd)");
        }
        try {
            return new GPTConfig(intKey(file, c, "vocab_size"), intKey(file, c, "n_positions"), intKey(file, c, "n_layer"),
                    intKey(file, c, "n_head"), embd, c.path("bias").asBoolean(true),
                    (float) c.path("resid_pdrop").asDouble(0.0), (float) c.path("layer_norm_epsilon").asDouble(1e-5),
                    ResidualLayout.parse(c.path("residual_layout").asText("pre-ln")),
                    InitScheme.parse(c.path("init").asText("gpt2")));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    static ObjectNode configJson(GPTConfig cfg) {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "gpt2");
        c.putArray("architectures").add("GPT2LMHeadModel");
        c.put("vocab_size", cfg.vocabSize());
        c.put("n_positions", cfg.blockSize());
        c.put("n_ctx", cfg.blockSize());
        c.put("n_embd", cfg.nEmbd());
        c.put("n_layer", cfg.nLayer());
        c.put("n_head", cfg.nHead());
        c.putNull("n_inner");
        c.put("activation_function", "gelu_new");
        c.put("layer_norm_epsilon", cfg.layerNormEps());
        c.put("resid_pdrop", cfg.dropout());
        c.put("embd_pdrop", cfg.dropout());
        c.put("attn_pdrop", 0.0);
        c.put("tie_word_embeddings", true);
        c.put("torch_dtype", "float32");
        c.put("residual_layout", cfg.layout().id());
        c.put("init", cfg.init().id());
        c.put("bias", cfg.bias());
        return c;
    }

    private static int intKey(Path file, JsonNode c, String key) throws IOException {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IOException(file + ": missing or non-integer \"" + key + "\"");
        }
        return v.asInt();
    }

    private static int[] stored(Param p) {
        return p.conv1d ? new int[] {p.shape[1], p.shape[0]} : p.shape;
    }

    /** [rows × cols] → [cols × rows]. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
