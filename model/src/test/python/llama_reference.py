#!/usr/bin/env python3
"""Reference Llama and Qwen2 forward in PyTorch, transcribed from Hugging Face transformers'
LlamaForCausalLM (models/llama/modeling_llama.py, modeling_rope_utils.py) and Qwen2ForCausalLM
(models/qwen2/modeling_qwen2.py), with the self-contained safetensors reader/writer of safetensors_file.py.

What is transcribed, op for op, in float32 (HF loaded with torch_dtype=float32):
  - LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) in float32, then weight * x
  - rotary embeddings: inv_freq = 1 / theta^(arange(0, head_dim, 2) / head_dim) (_compute_default_rope_parameters),
    rescaled by rope_scaling type "linear" (inv_freq / factor) or "llama3" (_compute_llama3_parameters);
    cos/sin of cat(freqs, freqs) in float32; q*cos + rotate_half(q)*sin (the two halves of each head)
  - attention: q/k/v projections ([out, in] nn.Linear weights; biases on q/k/v for Qwen2 or attention_bias),
    head_dim from config (it may differ from hidden_size / heads), repeat_kv for grouped-query heads,
    scores * head_dim^-0.5, causal mask, softmax in float32, o_proj
  - MLP: down_proj(silu(gate_proj(x)) * up_proj(x))
  - decoder layer: x + attn(input_layernorm(x)); x + mlp(post_attention_layernorm(x)); final model.norm
  - lm_head, or the token embedding when tie_word_embeddings
The config is read in both forms: rope_theta + rope_scaling, and the newer rope_parameters.

  make-fixtures ROOT  writes tiny random checkpoints laid out as Hugging Face hub directories (see FIXTURES:
                      F32/F16/BF16, single-file and sharded with model.safetensors.index.json, GQA and MQA,
                      tied and untied heads, llama3 and linear rope scaling, an explicit head_dim), each with
                      expected.json: prompt tokens, the greedy continuation (argmax, recomputed from scratch
                      at every step), and the logits this reference computes at every position of both.
  check DIR           loads a directory jgpt wrote (config.json + safetensors) and compares this reference's
                      logits with DIR/jgpt-logits.json written by jgpt; exits 1 if they differ by more than
                      1e-4 relative (max |difference| / max |logit|).

Needs only torch and numpy (Debian: python3-torch python3-numpy). The committed fixtures under
model/src/test/resources/hf-tiny were made with: python3 llama_reference.py make-fixtures DIR
"""
import json, math, os, sys
import torch
from safetensors_file import DTYPES, read as st_read, write as st_write


def load_weights(d):
    """The directory's tensors: model.safetensors, or every shard model.safetensors.index.json names."""
    if os.path.exists(f"{d}/model.safetensors"):
        return st_read(f"{d}/model.safetensors")
    index = json.load(open(f"{d}/model.safetensors.index.json"))
    w = {}
    for shard in sorted(set(index["weight_map"].values())):
        w.update(st_read(f"{d}/{shard}"))
    return w


# ---- the model (HF modeling_llama / modeling_qwen2, float32) ----

def rope_config(cfg):
    """(theta, scaling dict or None) from rope_theta/rope_scaling or the newer rope_parameters."""
    params = cfg.get("rope_parameters")
    if params is not None:
        return params.get("rope_theta", cfg.get("rope_theta", 10000.0)), params
    return cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling")


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inverse_frequencies(cfg):
    """_compute_default_rope_parameters, then _compute_linear_scaling_rope_parameters or _compute_llama3_parameters."""
    theta, scaling = rope_config(cfg)
    dim = head_dim_of(cfg)
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    kind = None if scaling is None else scaling.get("rope_type", scaling.get("type", "default"))
    if kind in (None, "default"):
        return inv_freq
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low_freq_factor = scaling["low_freq_factor"]
        high_freq_factor = scaling["high_freq_factor"]
        old_context_len = scaling["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    raise ValueError(f"rope scaling {kind} is not transcribed here")


def rotary_cos_sin(cfg, T):
    """LlamaRotaryEmbedding.forward for positions 0..T-1: [T, head_dim] each (attention_scaling is 1 for these types)."""
    inv_freq = inverse_frequencies(cfg)
    position_ids = torch.arange(T).float()
    freqs = (inv_freq[:, None].float() @ position_ids[None, :]).transpose(0, 1)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms_norm(x, weight, eps):
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def repeat_kv(x, n_rep):
    """[kv_heads, T, d] -> [kv_heads * n_rep, T, d], each kv head repeated for its group of query heads."""
    kv, T, d = x.shape
    return x[:, None, :, :].expand(kv, n_rep, T, d).reshape(kv * n_rep, T, d)


def forward(cfg, w, ids):
    """Logits [T, vocab] of LlamaForCausalLM / Qwen2ForCausalLM for one sequence of token ids."""
    qwen2 = cfg["model_type"] == "qwen2"
    H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    D, eps = head_dim_of(cfg), cfg["rms_norm_eps"]
    qkv_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = not qwen2 and cfg.get("attention_bias", False)
    mlp_bias = not qwen2 and cfg.get("mlp_bias", False)
    T = len(ids)

    def linear(x, name, bias):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if bias else y

    cos, sin = rotary_cos_sin(cfg, T)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."
        h = rms_norm(x, w[pre + "input_layernorm.weight"], eps)
        q = linear(h, pre + "self_attn.q_proj", qkv_bias).view(T, H, D).transpose(0, 1)
        k = linear(h, pre + "self_attn.k_proj", qkv_bias).view(T, KV, D).transpose(0, 1)
        v = linear(h, pre + "self_attn.v_proj", qkv_bias).view(T, KV, D).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
        scores = (q @ k.transpose(-1, -2)) * D ** -0.5
        probs = scores.masked_fill(~mask, float("-inf")).softmax(-1, dtype=torch.float32)
        y = (probs @ v).transpose(0, 1).reshape(T, H * D)
        x = x + linear(y, pre + "self_attn.o_proj", o_bias)
        h = rms_norm(x, w[pre + "post_attention_layernorm.weight"], eps)
        gate = linear(h, pre + "mlp.gate_proj", mlp_bias)
        up = linear(h, pre + "mlp.up_proj", mlp_bias)
        x = x + linear(torch.nn.functional.silu(gate) * up, pre + "mlp.down_proj", mlp_bias)
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def greedy(cfg, w, prompt, n):
    """n argmax tokens after the prompt; returns them and the smallest top-1/top-2 logit gap seen."""
    ids, gap = list(prompt), float("inf")
    for _ in range(n):
        last = forward(cfg, w, torch.tensor(ids))[-1]
        top = torch.topk(last, 2).values
        gap = min(gap, float(top[0] - top[1]))
        ids.append(int(last.argmax()))
    return ids[len(prompt):], gap


# ---- fixtures ----

# Each fixture: config.json as the hub has it for that architecture, how the weights are stored, and what
# it exercises. Sizes are tiny (vocab 48, hidden 24, 2 layers) so all of them together stay ~200 KB.
FIXTURES = {
    # Llama 3.x style: GQA (4 heads, 2 kv heads), head_dim 8 set explicitly (hidden/heads would be 6),
    # an untied head, llama3 rope scaling with a band of each kind (kept, interpolated, divided), F32, one file.
    "llama-gqa-f32": dict(dtype="F32", shards=1, config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 48, "hidden_size": 24,
        "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "hidden_act": "silu", "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 64}, "attention_bias": False,
        "attention_dropout": 0.0, "mlp_bias": False, "tie_word_embeddings": False, "bos_token_id": 1,
        "eos_token_id": 2, "initializer_range": 0.02, "pretraining_tp": 1, "use_cache": True,
        "torch_dtype": "float32", "transformers_version": "4.45.0"}),
    # Llama 3.2 1B / SmolLM style: a tied head, BF16 in three shards with an index, multi-query attention
    # (one kv head), the newer rope_parameters form with linear scaling.
    "llama-mqa-bf16-sharded": dict(dtype="BF16", shards=3, config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 48, "hidden_size": 24,
        "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
        "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 500000.0},
        "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True, "bos_token_id": 1,
        "eos_token_id": [2, 3], "torch_dtype": "bfloat16", "transformers_version": "5.0.0"}),
    # TinyLlama / Llama 2 style: F16, full multi-head attention (kv heads = heads), rope_theta only, an
    # untied head, and the rotary inv_freq buffers older exports stored beside the weights.
    "llama-mha-f16-invfreq": dict(dtype="F16", shards=1, inv_freq=True, config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 48, "hidden_size": 24,
        "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
        "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "rope_scaling": None, "tie_word_embeddings": False, "torch_dtype": "float16",
        "transformers_version": "4.31.0"}),
    # Qwen2.5 0.5B style: biases on q, k and v only, GQA, a tied head, rope_theta 1e6, the sliding-window
    # keys present but off, BF16 in two shards.
    "qwen2-gqa-bf16-sharded": dict(dtype="BF16", shards=2, config={
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 48, "hidden_size": 24,
        "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "hidden_act": "silu", "max_position_embeddings": 128, "max_window_layers": 2, "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0, "rope_scaling": None, "sliding_window": 128, "use_sliding_window": False,
        "attention_dropout": 0.0, "tie_word_embeddings": True, "bos_token_id": 0, "eos_token_id": 2,
        "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": True}),
}
PROMPT_LENGTH, NEW_TOKENS = 12, 12


def random_weights(cfg, gen, inv_freq):
    """Weights in HF's names and [out, in] shapes, scaled so activations stay O(1) and the logits spread out."""
    C, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    H, KV, D = cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"], head_dim_of(cfg)
    qwen2 = cfg["model_type"] == "qwen2"
    r = lambda *shape, s: s * torch.randn(*shape, generator=gen)
    w = {"model.embed_tokens.weight": r(V, C, s=1.0)}
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."
        w[pre + "input_layernorm.weight"] = 1 + r(C, s=0.1)
        w[pre + "self_attn.q_proj.weight"] = r(H * D, C, s=C ** -0.5)
        w[pre + "self_attn.k_proj.weight"] = r(KV * D, C, s=C ** -0.5)
        w[pre + "self_attn.v_proj.weight"] = r(KV * D, C, s=C ** -0.5)
        if qwen2:
            for p in "qkv":
                w[pre + f"self_attn.{p}_proj.bias"] = r(w[pre + f"self_attn.{p}_proj.weight"].shape[0], s=0.3)
        w[pre + "self_attn.o_proj.weight"] = r(C, H * D, s=3 * (H * D) ** -0.5)
        if inv_freq:
            w[pre + "self_attn.rotary_emb.inv_freq"] = inverse_frequencies(cfg)
        w[pre + "post_attention_layernorm.weight"] = 1 + r(C, s=0.1)
        w[pre + "mlp.gate_proj.weight"] = r(I, C, s=C ** -0.5)
        w[pre + "mlp.up_proj.weight"] = r(I, C, s=C ** -0.5)
        w[pre + "mlp.down_proj.weight"] = r(C, I, s=3 * I ** -0.5)
    w["model.norm.weight"] = 1 + r(C, s=0.1)
    if not cfg.get("tie_word_embeddings", False):
        w["lm_head.weight"] = r(V, C, s=2 * C ** -0.5)
    return w


def write_checkpoint(d, cfg, stored, shards):
    """model.safetensors, or `shards` files model-0000i-of-0000n.safetensors and model.safetensors.index.json
    (weight_map and metadata.total_size, as save_pretrained writes them); layers split across files."""
    os.makedirs(d, exist_ok=True)
    json.dump(cfg, open(f"{d}/config.json", "w"), indent=2)
    if shards == 1:
        st_write(f"{d}/model.safetensors", stored)
        return
    names = sorted(stored, key=lambda n: (int(n.split(".")[2]) if n.startswith("model.layers.") else -1, n))
    files = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
    per = math.ceil(len(names) / shards)
    weight_map = {n: files[i // per] for i, n in enumerate(names)}
    for f in files:
        st_write(f"{d}/{f}", {n: stored[n] for n in names if weight_map[n] == f})
    total = sum(t.numel() * t.element_size() for t in stored.values())
    json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
              open(f"{d}/model.safetensors.index.json", "w"), indent=2)


def make_fixtures(root):
    for i, (name, spec) in enumerate(FIXTURES.items()):
        cfg, d = spec["config"], f"{root}/{name}"
        gen = torch.Generator().manual_seed(1234 + i)
        w = random_weights(cfg, gen, spec.get("inv_freq", False))
        dtype = DTYPES[spec["dtype"]][0]
        # inv_freq buffers stay float32, as HF kept them; weights are rounded to the checkpoint's dtype,
        # and the reference computes with exactly those rounded values (widened to float32).
        stored = {n: t if n.endswith("inv_freq") else t.to(dtype) for n, t in w.items()}
        write_checkpoint(d, cfg, stored, spec["shards"])
        w = load_weights(d)
        prompt = torch.randint(0, cfg["vocab_size"], (PROMPT_LENGTH,), generator=gen)
        with torch.no_grad():
            continuation, gap = greedy(cfg, w, prompt.tolist(), NEW_TOKENS)
            # Logits at every position of prompt + continuation: what a KV-cache decode must reproduce step by step.
            logits = forward(cfg, w, torch.tensor(prompt.tolist() + continuation))
        # A tie would make the greedy tokens depend on rounding, not on the model: refuse near-ties.
        assert gap > 1e-2, f"{name}: top-2 logit gap {gap} too small for a stable greedy check"
        json.dump({"tokens": prompt.tolist(), "greedy": continuation,
                   "logits": [[round(float(v), 6) for v in row] for row in logits]},
                  open(f"{d}/expected.json", "w"))
        size = sum(os.path.getsize(f"{d}/{f}") for f in os.listdir(d))
        print(f"{d}: {size} bytes, greedy {continuation}, smallest top-2 gap {gap:.3f}")


def check(d):
    cfg = json.load(open(f"{d}/config.json"))
    w = load_weights(d)
    ref = json.load(open(f"{d}/jgpt-logits.json"))
    with torch.no_grad():
        logits = forward(cfg, w, torch.tensor(ref["tokens"]))
    jgpt = torch.tensor(ref["logits"])
    diff = (logits - jgpt).abs().max().item()
    relative = diff / logits.abs().max().item()
    print(f"{d}: {cfg['architectures'][0]}, {len(ref['tokens'])} tokens: max |reference - jgpt| logit "
          f"difference {diff:.3e} ({relative:.3e} of the largest logit)")
    if "greedy" in ref:
        with torch.no_grad():
            tokens, _ = greedy(cfg, w, ref["tokens"], len(ref["greedy"]))
        print(f"greedy continuation: reference {tokens}, jgpt {ref['greedy']}")
        if tokens != ref["greedy"]:
            sys.exit(1)
    sys.exit(0 if relative < 1e-4 else 1)


if __name__ == "__main__":
    commands = {"make-fixtures": make_fixtures, "check": check}
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2])
