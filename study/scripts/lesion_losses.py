#!/usr/bin/env python3
"""The validation losses behind the lesion study's relative damage, from its lesion.jsonl: per layout and depth, the
intact loss, the median single-block deletion and the mean loss with k = L/2 blocks deleted, P = 0 beside LayerDrop
P = 0.2 (mean over the seeds that trained, with their count). Prints a markdown table.

    lesion_losses.py DIR/lesion.jsonl"""
import json
import statistics
import sys
from collections import defaultdict

cells = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["verdict"] == "trained":
        cells[(r["layout"], r["depth"], r["layerDrop"])].append(r["lesion"])
rates = sorted({p for _, _, p in cells})
order = ["pre-ln", "post-ln", "sandwich", "deepnorm", "rezero", "highway", "dense", "unet", "none"]
order += sorted({l for l, _, _ in cells} - set(order))
both = " / ".join(f"{p:g}" for p in rates)
print(f"| layout | L | intact loss P={both} | median single deletion P={both} | mean loss at k = L/2, P={both} | seeds |")
print("|---|---|---|---|---|---|")


def fmt(v):
    return "–" if v is None else f"{v:.2f}"


for layout in order:
    for depth in sorted({d for _, d, _ in cells}):
        row = []
        for p in rates:
            ls = cells.get((layout, depth, p))
            if not ls:
                row.append((None, None, None, 0))
                continue
            row.append((statistics.mean(x["loss"] for x in ls),
                        statistics.median(v for x in ls for v in x["single"]),
                        statistics.mean(statistics.mean(x["byK"][depth // 2]["losses"]) for x in ls), len(ls)))
        if any(n for *_, n in row):
            print(f"| {layout} | {depth} | " + " | ".join(" / ".join(fmt(c[i]) for c in row) for i in range(3))
                  + " | " + " / ".join(str(c[3]) for c in row) + " |")

# Per seed: the damage, (lesioned − intact) / (unigram − intact), of the median single deletion and its mean over
# k = 1..L−1 (the report's LayerDrop figure), so a reader sees whether a claim holds in every seed, not only on average.
print()
print("| layout | L | seed | median single-deletion damage P=" + both + " | mean damage over k = 1..L−1, P=" + both + " |")
print("|---|---|---|---|---|")
runs = defaultdict(dict)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["verdict"] == "trained":
        runs[(r["layout"], r["depth"], r["spec"]["seed"])][r["layerDrop"]] = r["lesion"]


def damage(x, loss):
    return (loss - x["loss"]) / (x["reference"] - x["loss"])


def pct(v):
    return "–" if v is None else f"{100 * v:.0f}%"


for layout in order:
    for (l, depth, seed), by_rate in sorted(runs.items(), key=lambda e: (e[0][1], e[0][2])):
        if l != layout:
            continue
        single = [statistics.median(damage(x, v) for v in x["single"]) if x else None for x in map(by_rate.get, rates)]
        mean_k = [statistics.mean(damage(x, v) for k in x["byK"][1:depth] for v in k["losses"]) if x else None
                  for x in map(by_rate.get, rates)]
        print(f"| {layout} | {depth} | {seed} | " + " / ".join(map(pct, single)) + " | " + " / ".join(map(pct, mean_k)) + " |")
