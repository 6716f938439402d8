#!/usr/bin/env python3
"""Reference GPT-2 forward in PyTorch, written from Hugging Face's GPT2LMHeadModel (Conv1D weights
[in, out], gelu_new, tied head), with the self-contained safetensors reader/writer of safetensors_file.py.

  make-fixture DIR   writes a tiny random GPT-2 directory laid out as Hugging Face hub checkpoints
                     are (no 'transformer.' prefix, causal-mask buffers 'h.N.attn.bias'), plus
                     expected.json: tokens and the logits this reference computes.
  check DIR          loads a directory jgpt wrote (config.json + model.safetensors) and compares
                     this reference's logits with DIR/jgpt-logits.json written by jgpt.

Needs only torch and numpy (Debian: python3-torch). The committed fixture under
model/src/test/resources/gpt2-tiny was made with: python3 gpt2_reference.py make-fixture DIR
"""
import json, math, sys
import torch
from safetensors_file import read as st_read, write as st_write


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(cfg, w, ids):
    def p(name):
        return w[name] if name in w else w["transformer." + name]
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg.get("layer_norm_epsilon", 1e-5)
    T = len(ids)
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (C,), p(n + ".weight"), p(n + ".bias"), eps)
    x = p("wte.weight")[ids] + p("wpe.weight")[:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(cfg["n_layer"]):
        pre = f"h.{l}."
        a = ln(x, pre + "ln_1")
        qkv = a @ p(pre + "attn.c_attn.weight") + p(pre + "attn.c_attn.bias")
        q, k, v = qkv.split(C, dim=-1)
        heads = lambda t: t.view(T, H, C // H).transpose(0, 1)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ p(pre + "attn.c_proj.weight") + p(pre + "attn.c_proj.bias")
        m = ln(x, pre + "ln_2")
        m = gelu_new(m @ p(pre + "mlp.c_fc.weight") + p(pre + "mlp.c_fc.bias"))
        x = x + m @ p(pre + "mlp.c_proj.weight") + p(pre + "mlp.c_proj.bias")
    x = ln(x, "ln_f")
    return x @ p("wte.weight").T


def make_fixture(d):
    import os
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50, "n_positions": 16,
           "n_ctx": 16, "n_embd": 16, "n_layer": 2, "n_head": 2, "n_inner": None,
           "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1,
           "embd_pdrop": 0.1, "attn_pdrop": 0.1, "tie_word_embeddings": True}
    C, V, P = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    w = {"wte.weight": torch.randn(V, C) * 0.3, "wpe.weight": torch.randn(P, C) * 0.3}
    for l in range(cfg["n_layer"]):
        pre = f"h.{l}."
        w[pre + "ln_1.weight"] = 1 + 0.1 * torch.randn(C)
        w[pre + "ln_1.bias"] = 0.1 * torch.randn(C)
        w[pre + "attn.bias"] = torch.tril(torch.ones(P, P)).view(1, 1, P, P)  # HF's mask buffer
        w[pre + "attn.c_attn.weight"] = 0.3 * torch.randn(C, 3 * C)
        w[pre + "attn.c_attn.bias"] = 0.1 * torch.randn(3 * C)
        w[pre + "attn.c_proj.weight"] = 0.3 * torch.randn(C, C)
        w[pre + "attn.c_proj.bias"] = 0.1 * torch.randn(C)
        w[pre + "ln_2.weight"] = 1 + 0.1 * torch.randn(C)
        w[pre + "ln_2.bias"] = 0.1 * torch.randn(C)
        w[pre + "mlp.c_fc.weight"] = 0.3 * torch.randn(C, 4 * C)
        w[pre + "mlp.c_fc.bias"] = 0.1 * torch.randn(4 * C)
        w[pre + "mlp.c_proj.weight"] = 0.3 * torch.randn(4 * C, C)
        w[pre + "mlp.c_proj.bias"] = 0.1 * torch.randn(C)
    w["ln_f.weight"] = 1 + 0.1 * torch.randn(C)
    w["ln_f.bias"] = 0.1 * torch.randn(C)
    st_write(f"{d}/model.safetensors", w)
    json.dump(cfg, open(f"{d}/config.json", "w"), indent=2)
    ids = torch.randint(0, V, (P,))
    with torch.no_grad():
        logits = forward(cfg, w, ids)
    json.dump({"tokens": ids.tolist(), "logits": [[round(float(v), 7) for v in row] for row in logits]},
              open(f"{d}/expected.json", "w"))


def check(d):
    cfg = json.load(open(f"{d}/config.json"))
    w = st_read(f"{d}/model.safetensors")
    ref = json.load(open(f"{d}/jgpt-logits.json"))
    with torch.no_grad():
        logits = forward(cfg, w, torch.tensor(ref["tokens"]))
    diff = (logits - torch.tensor(ref["logits"])).abs().max().item()
    print(f"max |reference - jgpt| logit difference: {diff:.3e}")
    sys.exit(0 if diff < 1e-4 else 1)


if __name__ == "__main__":
    {"make-fixture": make_fixture, "check": check}[sys.argv[1]](sys.argv[2])
