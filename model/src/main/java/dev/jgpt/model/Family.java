package dev.jgpt.model;

/**
 * Whose checkpoint layout a model uses: parameter names, tensor shapes and config.json keys. The
 * switches (norm, position, mlp, …) are free in every family; a model whose switches are those of the
 * family's reference block loads in Hugging Face transformers as that architecture.
 */
public enum Family implements Switch {
    /** GPT2LMHeadModel: transformer.h.N.attn.c_attn (packed q/k/v, Conv1D [in, out]), ln_1, mlp.c_fc, ... */
    GPT2("gpt2"),
    /** LlamaForCausalLM: model.layers.N.self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj, input_layernorm, ... */
    LLAMA("llama"),
    /** Qwen2ForCausalLM: Llama's names, with biases on q, k and v only. */
    QWEN2("qwen2");

    private final String id;

    Family(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }

    public static Family parse(String s) {
        return Switch.parse(Family.class, "model family", s);
    }

    @Override
    public String toString() {
        return id;
    }
}
