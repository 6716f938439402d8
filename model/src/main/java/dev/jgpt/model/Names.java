package dev.jgpt.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The checkpoint names and tensor layouts of a {@link Family}: the one place that knows GPT-2 calls the
 * first norm of block 3 {@code transformer.h.3.ln_1} and Llama calls it
 * {@code model.layers.3.input_layernorm}, that GPT-2 stores linear weights transposed (Conv1D) with q, k, v
 * in one tensor, and that Llama stores them as separate [out, in] tensors.
 */
final class Names {
    private final boolean gpt2;

    Names(Family family) {
        this.gpt2 = family == Family.GPT2;
    }

    String tokenEmbedding() {
        return gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
    }

    String positionEmbedding() {
        return gpt2 ? "transformer.wpe.weight" : "model.embed_positions.weight";
    }

    String block(int l) {
        return (gpt2 ? "transformer.h." : "model.layers.") + l;
    }

    String attention() {
        return gpt2 ? "attn" : "self_attn";
    }

    String attentionNorm() {
        return gpt2 ? "ln_1" : "input_layernorm";
    }

    String feedForwardNorm() {
        return gpt2 ? "ln_2" : "post_attention_layernorm";
    }

    /** Sandwich's second norm, after the sublayer (no Hugging Face architecture has one). */
    String attentionOutNorm() {
        return gpt2 ? "ln_attn_out" : "attn_out_layernorm";
    }

    String feedForwardOutNorm() {
        return gpt2 ? "ln_mlp_out" : "mlp_out_layernorm";
    }

    String finalNorm() {
        return gpt2 ? "transformer.ln_f" : "model.norm";
    }

    String lmHead() {
        return "lm_head";
    }

    /** q, k and v as one packed [q | k | v] projection (GPT-2: c_attn; Llama: q_proj, k_proj, v_proj). */
    Linear qkv(String prefix, int in, int q, int kv, boolean bias) {
        return gpt2 ? linear(prefix + ".c_attn", in, q + 2 * kv, bias)
                : fused(prefix + ".qkv_proj", in, bias, new String[] {prefix + ".q_proj", prefix + ".k_proj", prefix + ".v_proj"},
                        q, kv, kv);
    }

    Linear attentionOut(String prefix, int in, int out, boolean bias) {
        return linear(prefix + (gpt2 ? ".c_proj" : ".o_proj"), in, out, bias);
    }

    /** The MLP's input projection: [up] for GELU, packed [gate | up] for SwiGLU. */
    Linear feedForwardIn(String prefix, int in, int hidden, boolean gated, boolean bias) {
        if (gpt2) {
            return linear(prefix + ".c_fc", in, gated ? 2 * hidden : hidden, bias);
        }
        return gated ? fused(prefix + ".gate_up_proj", in, bias, new String[] {prefix + ".gate_proj", prefix + ".up_proj"},
                hidden, hidden) : linear(prefix + ".up_proj", in, hidden, bias);
    }

    Linear feedForwardOut(String prefix, int in, int out, boolean bias) {
        return linear(prefix + (gpt2 ? ".c_proj" : ".down_proj"), in, out, bias);
    }

    /** A linear layer stored as one tensor: transposed (Conv1D) in GPT-2, [out, in] otherwise. */
    Linear linear(String name, int in, int out, boolean bias) {
        return new Linear(new Param(name + ".weight", gpt2, out, in),
                bias ? new Param(name + ".bias", false, out) : null, in, out);
    }

    /** A linear layer whose output rows are stored as several [rows_i, in] tensors, in order. */
    private static Linear fused(String name, int in, boolean bias, String[] parts, int... rows) {
        List<Param.Stored> w = new ArrayList<>(), b = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < parts.length; i++) {
            w.add(new Param.Stored(parts[i] + ".weight", start, rows[i], false));
            b.add(new Param.Stored(parts[i] + ".bias", start, rows[i], false));
            start += rows[i];
        }
        return new Linear(new Param(name + ".weight", w, start, in), bias ? new Param(name + ".bias", b, start) : null,
                in, start);
    }
}
