package dev.jgpt.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.kernel.RopeTable;
import dev.jgpt.model.FeedForwardKind;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Norm;
import dev.jgpt.model.Position;
import dev.jgpt.model.ResidualLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * config.json in Hugging Face's form for each {@link Family}: GPT2Config's keys (n_embd, n_layer, …) or
 * LlamaConfig's / Qwen2Config's (hidden_size, num_hidden_layers, num_key_value_heads, rope_theta,
 * rope_scaling or the newer rope_parameters, …), plus jgpt's own keys for what Hugging Face has no
 * name for (residual_layout, init, and the norm / position / mlp switches where they differ from the
 * family's block). Keys that would change the math but that jgpt does not implement (sliding-window
 * attention, mixtures of experts, other rope scalings, other activations) are refused, naming the key.
 */
final class ConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigJson() {}

    /** The config described by {@code c}, the parsed contents of {@code file}. */
    static GPTConfig parse(Path file, JsonNode c) throws IOException {
        try {
            String type = c.path("model_type").asText(c.has("n_layer") ? "gpt2" : "");
            return switch (type) {
                case "gpt2" -> gpt2(file, c);
                case "llama" -> llama(file, c, Family.LLAMA);
                case "qwen2" -> llama(file, c, Family.QWEN2);
                default -> throw new IOException(file + ": model_type \"" + type + "\" is not supported (jgpt reads "
                        + "gpt2, llama and qwen2 models: GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM)");
            };
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    private static GPTConfig gpt2(Path file, JsonNode c) throws IOException {
        String act = c.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new IOException(file + ": activation_function " + act + " is not supported (jgpt uses GPT-2's tanh GELU)");
        }
        int embd = intKey(file, c, "n_embd"), heads = intKey(file, c, "n_head");
        GPTConfig base = new GPTConfig(intKey(file, c, "vocab_size"), intKey(file, c, "n_positions"),
                intKey(file, c, "n_layer"), heads, embd, c.path("bias").asBoolean(true),
                (float) c.path("resid_pdrop").asDouble(0.0), (float) c.path("layer_norm_epsilon").asDouble(1e-5),
                ResidualLayout.PRE_LN, InitScheme.GPT2);
        GPTConfig.Builder b = base.toBuilder();
        JsonNode inner = c.get("n_inner");
        if (inner != null && !inner.isNull()) {
            b.intermediateSize(inner.asInt());
        }
        b.nKvHead(c.path("num_key_value_heads").asInt(heads)).headDim(c.path("head_dim").asInt(embd / heads))
                .tiedEmbeddings(c.path("tie_word_embeddings").asBoolean(true));
        return switches(file, c, b, Position.LEARNED);
    }

    private static GPTConfig llama(Path file, JsonNode c, Family family) throws IOException {
        refuse(file, c);
        int hidden = intKey(file, c, "hidden_size"), heads = intKey(file, c, "num_attention_heads");
        boolean attnBias = c.path("attention_bias").asBoolean(false), mlpBias = c.path("mlp_bias").asBoolean(false);
        if (attnBias != mlpBias) {
            throw new IOException(file + ": attention_bias " + attnBias + " with mlp_bias " + mlpBias
                    + " is not supported (jgpt has biases on all projections or on none)");
        }
        GPTConfig.Builder b = GPTConfig.llama(intKey(file, c, "vocab_size"), intKey(file, c, "max_position_embeddings"),
                intKey(file, c, "num_hidden_layers"), heads, c.path("num_key_value_heads").asInt(heads), hidden,
                intKey(file, c, "intermediate_size")).toBuilder()
                .headDim(c.path("head_dim").isNull() ? hidden / heads : c.path("head_dim").asInt(hidden / heads))
                .layerNormEps((float) c.path("rms_norm_eps").asDouble(1e-6))
                .tiedEmbeddings(c.path("tie_word_embeddings").asBoolean(false))
                .bias(attnBias).qkvBias(attnBias || family == Family.QWEN2).family(family);
        rope(file, c, b);
        return switches(file, c, b, Position.ROPE);
    }

    /** rope_theta and rope_scaling, or the newer rope_parameters holding both. */
    private static void rope(Path file, JsonNode c, GPTConfig.Builder b) throws IOException {
        JsonNode params = c.path("rope_parameters");
        JsonNode scaling = params.isObject() ? params : c.path("rope_scaling");
        double theta = params.isObject() && params.has("rope_theta") ? params.path("rope_theta").asDouble()
                : c.path("rope_theta").asDouble(10000.0);
        b.ropeTheta(theta);
        if (!scaling.isObject()) {
            return;
        }
        String type = scaling.path("rope_type").asText(scaling.path("type").asText("default"));
        String where = params.isObject() ? "rope_parameters" : "rope_scaling";
        switch (type) {
            case "default" -> b.ropeScaling(RopeTable.Scaling.NONE);
            case "linear" -> b.ropeScaling(new RopeTable.Scaling.Linear(number(file, scaling, where, "factor")));
            case "llama3" -> b.ropeScaling(new RopeTable.Scaling.Llama3(number(file, scaling, where, "factor"),
                    number(file, scaling, where, "low_freq_factor"), number(file, scaling, where, "high_freq_factor"),
                    (int) number(file, scaling, where, "original_max_position_embeddings")));
            default -> throw new IOException(file + ": " + where + " of type \"" + type + "\" is not supported (jgpt "
                    + "implements default, linear and llama3)");
        }
    }

    /** Keys whose values would change the math in ways jgpt does not implement. */
    private static void refuse(Path file, JsonNode c) throws IOException {
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IOException(file + ": hidden_act \"" + act + "\" is not supported (jgpt's SwiGLU uses silu)");
        }
        if (c.path("use_sliding_window").asBoolean(false)) {
            throw new IOException(file + ": use_sliding_window is true; sliding-window attention is not supported");
        }
        for (String moe : List.of("num_experts", "num_local_experts", "n_routed_experts")) {
            if (c.path(moe).asInt(0) > 0) {
                throw new IOException(file + ": " + moe + " " + c.path(moe).asInt() + ": mixture-of-experts models are not supported");
            }
        }
        if (c.has("partial_rotary_factor") && c.path("partial_rotary_factor").asDouble() != 1.0) {
            throw new IOException(file + ": partial_rotary_factor " + c.path("partial_rotary_factor").asDouble()
                    + " is not supported (jgpt rotates whole heads)");
        }
    }

    /** jgpt's own keys, over the family's defaults. */
    private static GPTConfig switches(Path file, JsonNode c, GPTConfig.Builder b, Position familyPosition) {
        GPTConfig d = b.build();
        b.layout(ResidualLayout.parse(c.path("residual_layout").asText(d.layout().id())))
                .init(InitScheme.parse(c.path("init").asText(d.init().id())))
                .norm(Norm.parse(c.path("norm").asText(d.norm().id())))
                .position(Position.parse(c.path("position").asText(familyPosition.id())))
                .mlp(FeedForwardKind.parse(c.path("mlp").asText(d.mlp().id())));
        if (c.has("dropout")) {
            b.dropout((float) c.path("dropout").asDouble());
        }
        return b.build();
    }

    /** config.json for a model: the family's Hugging Face keys plus jgpt's own. */
    static ObjectNode write(GPTConfig cfg) {
        ObjectNode c = JSON.createObjectNode();
        if (cfg.family() == Family.GPT2) {
            c.put("model_type", "gpt2");
            c.putArray("architectures").add("GPT2LMHeadModel");
            c.put("vocab_size", cfg.vocabSize());
            c.put("n_positions", cfg.blockSize());
            c.put("n_ctx", cfg.blockSize());
            c.put("n_embd", cfg.nEmbd());
            c.put("n_layer", cfg.nLayer());
            c.put("n_head", cfg.nHead());
            if (cfg.intermediateSize() == 4 * cfg.nEmbd()) {
                c.putNull("n_inner");
            } else {
                c.put("n_inner", cfg.intermediateSize());
            }
            c.put("activation_function", "gelu_new");
            c.put("layer_norm_epsilon", cfg.layerNormEps());
            c.put("resid_pdrop", cfg.dropout());
            c.put("embd_pdrop", cfg.dropout());
            c.put("attn_pdrop", 0.0);
            if (cfg.nKvHead() != cfg.nHead()) {
                c.put("num_key_value_heads", cfg.nKvHead());
            }
            if (cfg.headDim() * cfg.nHead() != cfg.nEmbd()) {
                c.put("head_dim", cfg.headDim());
            }
            c.put("bias", cfg.bias());
        } else {
            boolean qwen = cfg.family() == Family.QWEN2;
            c.put("model_type", qwen ? "qwen2" : "llama");
            c.putArray("architectures").add(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
            c.put("vocab_size", cfg.vocabSize());
            c.put("max_position_embeddings", cfg.blockSize());
            c.put("hidden_size", cfg.nEmbd());
            c.put("intermediate_size", cfg.intermediateSize());
            c.put("num_hidden_layers", cfg.nLayer());
            c.put("num_attention_heads", cfg.nHead());
            c.put("num_key_value_heads", cfg.nKvHead());
            c.put("head_dim", cfg.headDim());
            c.put("hidden_act", "silu");
            c.put("rms_norm_eps", cfg.layerNormEps());
            if (!qwen) {
                c.put("attention_bias", cfg.bias());
                c.put("mlp_bias", cfg.bias());
            }
            c.put("dropout", cfg.dropout());
        }
        if (cfg.position() == Position.ROPE) {
            c.put("rope_theta", cfg.ropeTheta());
            switch (cfg.ropeScaling()) {
                case RopeTable.Scaling.None none -> c.putNull("rope_scaling");
                case RopeTable.Scaling.Linear l -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", l.factor());
                case RopeTable.Scaling.Llama3 l -> c.putObject("rope_scaling").put("rope_type", "llama3")
                        .put("factor", l.factor()).put("low_freq_factor", l.lowFreqFactor())
                        .put("high_freq_factor", l.highFreqFactor())
                        .put("original_max_position_embeddings", l.originalMaxPositions());
            }
        }
        c.put("tie_word_embeddings", cfg.tiedEmbeddings());
        c.put("torch_dtype", "float32");
        c.put("residual_layout", cfg.layout().id());
        c.put("init", cfg.init().id());
        c.put("norm", cfg.norm().id());
        c.put("position", cfg.position().id());
        c.put("mlp", cfg.mlp().id());
        return c;
    }

    private static int intKey(Path file, JsonNode c, String key) throws IOException {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IOException(file + ": missing or non-integer \"" + key + "\"");
        }
        return v.asInt();
    }

    private static double number(Path file, JsonNode c, String where, String key) throws IOException {
        JsonNode v = c.get(key);
        if (v == null || !v.isNumber()) {
            throw new IOException(file + ": " + where + " needs a number \"" + key + "\"");
        }
        return v.asDouble();
    }
}
