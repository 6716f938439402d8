package dev.jgpt.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The checkpoint names and tensor layouts of a {@link Family}: the one place that knows GPT-2 calls the
 * first norm of block 3 {@code transformer.h.3.ln_1} and Llama calls it
 * {@code model.layers.3.input_layernorm}, that GPT-2 stores linear weights transposed (Conv1D) with q, k, v
 * in one tensor, and that Llama stores them as separate [out, in] tensors.
 */
final class Names {
    private final boolean gpt2;
    /** Which matrices stay packed in a storage format instead of f32 arrays: those with a stored tensor it names. */
    private final Predicate<String> packed;

    Names(Family family) {
        this(family, name -> false);
    }

    Names(Family family, Predicate<String> packed) {
        this.gpt2 = family == Family.GPT2;
        this.packed = packed;
    }

    /** A [rows × cols] matrix stored as one tensor of its own name (transposed if {@code transposed}). */
    Param matrix(String name, boolean transposed, int rows, int cols) {
        return matrix(name, List.of(new Param.Stored(name, 0, rows, transposed)), rows, cols);
    }

    private Param matrix(String name, List<Param.Stored> stored, int rows, int cols) {
        return new Param(name, stored, stored.stream().anyMatch(s -> packed.test(s.name())), rows, cols);
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

    /** ReZero's residual weight a of the attention sublayer (no Hugging Face architecture has one). */
    String attentionAlpha() {
        return "attn_alpha";
    }

    String feedForwardAlpha() {
        return "mlp_alpha";
    }

    /** Highway's gate projection of the attention sublayer, g = σ(LN(x)·W_g + b_g). */
    String attentionGate() {
        return gpt2 ? "attn_gate" : "self_attn_gate";
    }

    String feedForwardGate() {
        return "mlp_gate";
    }

    /** DenseFormer's depth-weighted average after block l: weights over the embedding and blocks 0..l. */
    String denseWeights(int l) {
        return (gpt2 ? "transformer.dwa." : "model.dwa.") + l + ".weight";
    }

    /** The U-Net layout's long-skip weights, one per skip (modded-nanogpt's skip_weights). */
    String skipWeights() {
        return gpt2 ? "transformer.skip_weights" : "model.skip_weights";
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
        return new Linear(matrix(name + ".weight", gpt2, out, in),
                bias ? new Param(name + ".bias", false, out) : null, in, out);
    }

    /** A linear layer whose output rows are stored as several [rows_i, in] tensors, in order. */
    private Linear fused(String name, int in, boolean bias, String[] parts, int... rows) {
        List<Param.Stored> w = new ArrayList<>(), b = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < parts.length; i++) {
            w.add(new Param.Stored(parts[i] + ".weight", start, rows[i], false));
            b.add(new Param.Stored(parts[i] + ".bias", start, rows[i], false));
            start += rows[i];
        }
        return new Linear(matrix(name + ".weight", w, start, in), bias ? new Param(name + ".bias", b, start) : null,
                in, start);
    }
}
