#!/usr/bin/python3
"""PyTorch peer for TrainBench and `jgpt train`: nanoGPT's model and training step at the same config.

The model is nanoGPT's model.py as jgpt builds it: token + position embeddings, pre-LN blocks of causal
self-attention and a 4x GELU (tanh) MLP, biases on, final LN, LM head tied to the token embedding,
GPT-2 init (std 0.02, residual projections 0.02/sqrt(2L)). A step is nanoGPT's train.py step: forward,
backward, clip_grad_norm_(1.0), AdamW (weight decay only on >= 2-D tensors, betas (0.9, 0.99)), on
random windows of the data. Torch 1.13 has no fused attention: attention is nanoGPT's "slow" path.

Modes:
- default: speed. Times --steps training steps after --warmup-steps and prints tokens/s, ms/step,
  GFLOP/s by nanoGPT's count (6N + 12*L*d*T per token) and MFU against --peak-gflops.
- --train: a full run with the preset's schedule (warmup + cosine to min-lr), evaluating train and
  val loss every --eval-interval steps over --eval-iters random batches (nanoGPT's protocol), then the
  loss over the whole val split in consecutive windows (as `jgpt eval`, no sampling noise).
  --no-bias --gelu none gives nanoGPT's exact defaults (no biases, erf GELU).

On a busy machine libgomp's spin-waiting can make 2-thread steps 10x slower (one spinning thread
waits for a descheduled one at every parallel region); OMP_WAIT_POLICY=PASSIVE avoids that.

Run with Debian's python (benchmarks/scripts/install-peers.sh), without the machine's OpenBLAS
overrides so OpenBLAS picks its own kernel, with the thread count used for TrainBench:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/scripts/torch_train.py --threads 2
    ... torch_train.py --preset shakespeare-char --steps 5 --warmup-steps 1
    ... torch_train.py --train            # the baby run, 2000 steps, for its val loss and wall time
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    # name: layers, heads, width, context, batch, iters, dropout, eval_iters
    "baby": dict(layers=4, heads=4, dim=128, ctx=64, batch=12, iters=2000, dropout=0.0, eval_iters=20),
    "shakespeare-char": dict(layers=6, heads=6, dim=384, ctx=256, batch=64, iters=5000, dropout=0.2, eval_iters=200),
}


class Block(nn.Module):
    def __init__(self, dim, heads, ctx, dropout, bias=True, gelu="tanh"):
        super().__init__()
        self.heads, self.gelu = heads, gelu
        self.ln_1 = nn.LayerNorm(dim) if bias else NoBiasLayerNorm(dim)
        self.c_attn = nn.Linear(dim, 3 * dim, bias=bias)
        self.c_proj = nn.Linear(dim, dim, bias=bias)
        self.ln_2 = nn.LayerNorm(dim) if bias else NoBiasLayerNorm(dim)
        self.c_fc = nn.Linear(dim, 4 * dim, bias=bias)
        self.mlp_proj = nn.Linear(4 * dim, dim, bias=bias)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))

    def attn(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.drop(self.c_proj(y))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.drop(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate=self.gelu)))


class NoBiasLayerNorm(nn.Module):
    """nanoGPT's LayerNorm with bias=False (its train.py default)."""

    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class GPT(nn.Module):
    def __init__(self, vocab, layers, heads, dim, ctx, dropout, bias=True, gelu="tanh"):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(ctx, dim)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList(Block(dim, heads, ctx, dropout, bias, gelu) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim) if bias else NoBiasLayerNorm(dim)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(T)))
        for b in self.h:
            x = b(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def flops_per_token(model, cfg):
    n = sum(p.numel() for p in model.parameters()) - model.wpe.weight.numel()
    return 6 * n + 12 * cfg["layers"] * cfg["dim"] * cfg["ctx"]


def lr_at(it, lr, min_lr, warmup, decay):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it >= decay:
        return min_lr
    ratio = (it - warmup) / (decay - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="baby", choices=PRESETS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="timed steps (speed mode)")
    ap.add_argument("--warmup-steps", type=int, default=10, help="untimed steps first (speed mode)")
    ap.add_argument("--train", action="store_true", help="full run with schedule and evaluation")
    ap.add_argument("--iters", type=int, help="override the preset's iterations (--train)")
    ap.add_argument("--eval-interval", type=int, default=250)
    ap.add_argument("--eval-iters", type=int, help="override the preset's evaluation batches")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/tinyshakespeare.txt"))
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--peak-gflops", type=float, default=232.0)
    ap.add_argument("--json", action="store_true", help="speed mode: one JSON line instead of text (for compare.py)")
    ap.add_argument("--no-bias", action="store_true", help="nanoGPT's default: no biases in Linear and LayerNorm")
    ap.add_argument("--gelu", default="tanh", choices=["tanh", "none"], help="GELU approximation ('none' = exact erf, nanoGPT's)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = PRESETS[a.preset]
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    splits = {"train": data[:n], "val": data[n:]}
    B, T = cfg["batch"], cfg["ctx"]

    def batch(split):
        d = splits[split]
        ix = torch.randint(len(d) - T, (B,))
        return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

    model = GPT(len(chars), cfg["layers"], cfg["heads"], cfg["dim"], cfg["ctx"], cfg["dropout"], not a.no_bias, a.gelu)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    fpt = flops_per_token(model, cfg)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {a.preset}: L{cfg['layers']} H{cfg['heads']} "
          f"d{cfg['dim']} T{T} B{B}, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{fpt / 1e6:.2f} MFLOP/token")

    def step(lr):
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch("train")
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    if not a.train:
        model.train()
        for _ in range(a.warmup_steps):
            step(1e-4)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step(1e-4)
        dt = time.perf_counter() - t0
        tps = a.steps * B * T / dt
        if a.json:
            print(json.dumps({"torch": torch.__version__, "preset": a.preset, "threads": torch.get_num_threads(),
                              "steps": a.steps, "ms_per_step": 1000 * dt / a.steps, "tokens_per_s": tps,
                              "gflops": tps * fpt / 1e9, "flops_per_token": fpt}), flush=True)
            return
        print(f"train step: {1000 * dt / a.steps:.2f} ms/step, {tps:,.0f} tokens/s, {tps * fpt / 1e9:.1f} GFLOP/s, "
              f"MFU {100 * tps * fpt / (a.peak_gflops * 1e9):.1f}% of {a.peak_gflops:.0f} GFLOP/s")
        return

    iters = a.iters or cfg["iters"]
    eval_iters = a.eval_iters or cfg["eval_iters"]

    @torch.no_grad()
    def evaluate():
        model.eval()
        out = {}
        for split in ("train", "val"):
            out[split] = sum(model(*batch(split)).item() for _ in range(eval_iters)) / eval_iters
        model.train()
        return out

    t0 = time.perf_counter()
    train_time = 0.0
    for it in range(iters + 1):
        if it % a.eval_interval == 0 or it == iters:
            losses = evaluate()
            print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}, "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        if it == iters:
            break
        s = time.perf_counter()
        step(lr_at(it, 1e-3, 1e-4, 100, iters))
        train_time += time.perf_counter() - s
    tps = iters * B * T / train_time
    print(f"done: val loss {losses['val']:.4f}; {train_time:.1f} s training, {time.perf_counter() - t0:.1f} s wall, "
          f"{tps:,.0f} tokens/s, MFU {100 * tps * fpt / (a.peak_gflops * 1e9):.1f}%")
    # The whole val split in consecutive windows of the context, as `jgpt eval` scores it: no sampling noise.
    model.eval()
    val = splits["val"]
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(val) - 1, T * B):
            xs, ys = [], []
            for w in range(s, min(s + T * B, len(val) - 1), T):
                n = min(T, len(val) - 1 - w)
                if n == T:
                    xs.append(val[w:w + T])
                    ys.append(val[w + 1:w + 1 + T])
                else:  # the last, shorter window on its own
                    loss = model(val[w:w + n].unsqueeze(0), val[w + 1:w + 1 + n].unsqueeze(0))
                    total, count = total + loss.item() * n, count + n
            if xs:
                loss = model(torch.stack(xs), torch.stack(ys))
                total, count = total + loss.item() * len(xs) * T, count + len(xs) * T
    print(f"full val loss {total / count:.4f} over {count:,} tokens")


if __name__ == "__main__":
    main()
