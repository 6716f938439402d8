#!/usr/bin/python3
"""PyTorch peer for DecodeBench: a minimal GPT-2 and Llama with a KV cache, random fp32 weights, same protocol.

Models: gpt2 = GPT-2 124M (L12 H12 d768, context 1024, vocab 50257); baby = L4 H4 d128, context 64,
vocab 65. Pre-LN blocks, GELU (tanh) MLP, tied LM head applied to the last position only, as in jgpt.
llama-1b (only when named) = Llama 3.2 1B's shape (16 layers, 32 query and 8 kv heads of 64, 2048 wide,
SwiGLU 8192, 128256 tokens, tied head) with a 1024-position cache: RMSNorm, rotate-half RoPE,
grouped-query attention (the cache holds the 8 kv heads), as DecodeBench -p model=llama-1b; 4.9 GB.
The KV cache is preallocated for the whole context and written in place (no torch.cat per step).

- prefill: a 64-token prompt into an empty cache, one batched forward; reported as prompt tok/s.
- decode: one token per step, fed the previous greedy (argmax) token; the cache holds a prefix of
  min(64, context/4) tokens and decoding runs up to 128 positions past it, then the cache is
  truncated back to the prefix (gpt2: positions 64..191, baby: 16..63); reported as tok/s.

Run with Debian's python (benchmarks/scripts/install-peers.sh), without the machine's OpenBLAS
overrides so OpenBLAS picks its own kernel, with the thread count used for DecodeBench:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/scripts/torch_decode.py --threads 2
    ... torch_decode.py --model gpt2 --threads 1
    OMP_WAIT_POLICY=PASSIVE ... torch_decode.py --model llama-1b --seconds 20
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

CONFIGS = {
    "gpt2": dict(vocab=50257, ctx=1024, layers=12, heads=12, dim=768),
    "baby": dict(vocab=65, ctx=64, layers=4, heads=4, dim=128),
}
LLAMA_CONFIGS = {
    "llama-1b": dict(vocab=128256, ctx=1024, layers=16, heads=32, kv_heads=8, head_dim=64, dim=2048, hidden=8192),
}


class GPT:
    def __init__(self, vocab, ctx, layers, heads, dim, seed=1):
        g = torch.Generator().manual_seed(seed)

        def w(*shape):
            return torch.randn(*shape, generator=g) * 0.02

        self.H, self.C, self.ctx = heads, dim, ctx
        self.wte, self.wpe = w(vocab, dim), w(ctx, dim)
        self.blocks = []
        for _ in range(layers):
            self.blocks.append(dict(
                ln1=(torch.ones(dim), torch.zeros(dim)),
                attn_w=w(3 * dim, dim), attn_b=torch.zeros(3 * dim),
                proj_w=w(dim, dim), proj_b=torch.zeros(dim),
                ln2=(torch.ones(dim), torch.zeros(dim)),
                fc_w=w(4 * dim, dim), fc_b=torch.zeros(4 * dim),
                fc2_w=w(dim, 4 * dim), fc2_b=torch.zeros(dim)))
        self.lnf = (torch.ones(dim), torch.zeros(dim))
        hs = dim // heads
        self.k = torch.zeros(layers, heads, ctx, hs)
        self.v = torch.zeros(layers, heads, ctx, hs)
        self.params = sum(t.numel() for t in [self.wte, self.wpe] + [x for b in self.blocks for v in b.values()
                                                                  for x in (v if isinstance(v, tuple) else (v,))])

    def forward(self, tokens, pos):
        """Runs tokens (1-D) at positions pos.. into the cache; returns the last position's logits."""
        n, C, H = tokens.shape[0], self.C, self.H
        hs = C // H
        x = self.wte[tokens] + self.wpe[pos:pos + n]
        mask = None
        if n > 1:   # causal within the new tokens; every cached position is visible
            mask = torch.ones(n, pos + n, dtype=torch.bool).tril(diagonal=pos).logical_not()
        for l, b in enumerate(self.blocks):
            h = F.layer_norm(x, (C,), *b["ln1"], 1e-5)
            qkv = F.linear(h, b["attn_w"], b["attn_b"])
            q, k, v = qkv.split(C, dim=1)
            q = q.view(n, H, hs).transpose(0, 1)
            self.k[l, :, pos:pos + n] = k.view(n, H, hs).transpose(0, 1)
            self.v[l, :, pos:pos + n] = v.view(n, H, hs).transpose(0, 1)
            keys, values = self.k[l, :, :pos + n], self.v[l, :, :pos + n]
            att = (q @ keys.transpose(1, 2)) * (1.0 / math.sqrt(hs))
            if mask is not None:
                att = att.masked_fill(mask, float("-inf"))
            y = (att.softmax(dim=-1) @ values).transpose(0, 1).reshape(n, C)
            x = x + F.linear(y, b["proj_w"], b["proj_b"])
            h = F.layer_norm(x, (C,), *b["ln2"], 1e-5)
            x = x + F.linear(F.gelu(F.linear(h, b["fc_w"], b["fc_b"]), approximate="tanh"), b["fc2_w"], b["fc2_b"])
        last = F.layer_norm(x[-1], (C,), *self.lnf, 1e-5)
        return self.wte @ last


class Llama:
    """Llama's block with a KV cache of the kv heads; the LM head is tied to the token embedding."""

    def __init__(self, vocab, ctx, layers, heads, kv_heads, head_dim, dim, hidden, theta=500000.0, seed=1):
        g = torch.Generator().manual_seed(seed)

        def w(*shape):
            return torch.randn(*shape, generator=g) * 0.02

        self.H, self.KV, self.D, self.C = heads, kv_heads, head_dim, dim
        self.wte = w(vocab, dim)
        self.blocks = [dict(norm1=torch.ones(dim), qkv_w=w((heads + 2 * kv_heads) * head_dim, dim),
                            o_w=w(dim, heads * head_dim), norm2=torch.ones(dim),
                            gate_up_w=w(2 * hidden, dim), down_w=w(dim, hidden)) for _ in range(layers)]
        self.norm = torch.ones(dim)
        inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        angles = torch.outer(torch.arange(ctx, dtype=torch.float32), inv_freq).repeat(1, 2)
        self.cos, self.sin = angles.cos(), angles.sin()
        self.k = torch.zeros(layers, kv_heads, ctx, head_dim)
        self.v = torch.zeros(layers, kv_heads, ctx, head_dim)
        self.params = self.wte.numel() + self.norm.numel() + sum(t.numel() for b in self.blocks for t in b.values())

    @staticmethod
    def rms_norm(x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight

    def rope(self, x, pos):
        """x: [heads, n, head_dim] at positions pos..; rotates the two halves of each head (HF's convention)."""
        n, half = x.shape[1], self.D // 2
        cos, sin = self.cos[pos:pos + n], self.sin[pos:pos + n]
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    def forward(self, tokens, pos):
        """Runs tokens (1-D) at positions pos.. into the cache; returns the last position's logits."""
        n, H, KV, D = tokens.shape[0], self.H, self.KV, self.D
        x = self.wte[tokens]
        mask = None
        if n > 1:
            mask = torch.ones(n, pos + n, dtype=torch.bool).tril(diagonal=pos).logical_not()
        for l, b in enumerate(self.blocks):
            qkv = F.linear(self.rms_norm(x, b["norm1"]), b["qkv_w"])
            q, k, v = qkv.split([H * D, KV * D, KV * D], dim=1)
            q = self.rope(q.view(n, H, D).transpose(0, 1), pos)
            self.k[l, :, pos:pos + n] = self.rope(k.view(n, KV, D).transpose(0, 1), pos)
            self.v[l, :, pos:pos + n] = v.view(n, KV, D).transpose(0, 1)
            # each kv head serves H / KV query heads: group the queries instead of copying the cache
            q = q.reshape(KV, H // KV * n, D)
            keys, values = self.k[l, :, :pos + n], self.v[l, :, :pos + n]
            att = (q @ keys.transpose(1, 2)) * (1.0 / math.sqrt(D))
            if mask is not None:
                att = att.view(KV, H // KV, n, pos + n).masked_fill(mask, float("-inf")).view(KV, H // KV * n, pos + n)
            y = (att.softmax(dim=-1) @ values).view(H, n, D).transpose(0, 1).reshape(n, H * D)
            x = x + F.linear(y, b["o_w"])
            gate, up = F.linear(self.rms_norm(x, b["norm2"]), b["gate_up_w"]).chunk(2, dim=1)
            x = x + F.linear(F.silu(gate) * up, b["down_w"])
        return self.wte @ self.rms_norm(x[-1], self.norm)


def bench(name, threads, seconds, as_json=False):
    torch.set_num_threads(threads)
    cfg = CONFIGS.get(name) or LLAMA_CONFIGS[name]
    m = GPT(**cfg) if name in CONFIGS else Llama(**cfg)
    g = torch.Generator().manual_seed(7)
    prompt_tokens = torch.randint(cfg["vocab"], (64,), generator=g)
    prefix = min(64, cfg["ctx"] // 4)
    end = min(cfg["ctx"], prefix + 128)

    def prefill_once():
        return m.forward(prompt_tokens, 0)

    for _ in range(3):
        prefill_once()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        t0 = time.perf_counter()
        prefill_once()
        samples.append(64 / (time.perf_counter() - t0))
    prefill = statistics.median(samples)

    nxt = int(m.forward(prompt_tokens[:prefix], 0).argmax())
    pos = prefix

    def decode_steps(count):
        nonlocal nxt, pos
        for _ in range(count):
            if pos == end:
                pos = prefix
            nxt = int(m.forward(torch.tensor([nxt]), pos).argmax())
            pos += 1

    decode_steps(end - prefix)   # warm-up: one full pass over the positions
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        t0 = time.perf_counter()
        decode_steps(16)
        samples.append(16 / (time.perf_counter() - t0))
    decode = statistics.median(samples)
    gbyte = 4.0 * m.params / 1e9
    if as_json:
        print(json.dumps({"torch": torch.__version__, "model": name, "threads": threads, "params": m.params,
                          "prefill_tok_s": prefill, "decode_tok_s": decode, "decode_gbps": decode * gbyte,
                          "positions": [prefix, end - 1]}), flush=True)
        return
    print(f"torch {torch.__version__} {name:5s} threads {threads}: {m.params / 1e6:6.1f}M params, "
          f"prefill(64) {prefill:9.1f} tok/s, decode {decode:8.1f} tok/s ({decode * gbyte:5.1f} GB/s of weights), "
          f"decode positions {prefix}..{end - 1}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=list(CONFIGS) + list(LLAMA_CONFIGS) + ["all"], default="all",
                    help="all = gpt2 and baby")
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--seconds", type=float, default=10.0, help="time per measurement (prefill and decode)")
    ap.add_argument("--json", action="store_true", help="one JSON line per result (for compare.py)")
    args = ap.parse_args()
    with torch.inference_mode():
        for t in args.threads:
            for name in (CONFIGS if args.model == "all" else [args.model]):
                bench(name, t, args.seconds, args.json)


if __name__ == "__main__":
    main()
