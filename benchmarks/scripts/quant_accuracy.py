#!/usr/bin/env python3
"""Perplexity of a model with its weights in each type jgpt computes with, against f32 (jgpt eval --weights):

    benchmarks/scripts/quant_accuracy.py --model RUN_DIR [--data VAL.bin] [--out quant_accuracy.json]

Prints a Markdown table (type, bytes of weights read per token, loss, perplexity, increase over f32) and
writes the figures as JSON. Each row quantizes the f32 directory on load exactly as `jgpt export --type`
or `jgpt quantize --to` would (the file gives the same loss).
"""
import argparse
import json
import math
import os
import subprocess
import sys

TYPES = ["f32", "f16", "bf16", "q8_0", "q6_k", "q4_k", "q4_0"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", help="a .bin or text file (default: the run's recorded validation split)")
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--jgpt", default=os.path.join(os.path.dirname(__file__), "..", "..", "bin", "jgpt"))
    ap.add_argument("--out")
    a = ap.parse_args()
    rows = []
    for t in a.types.split(","):
        args = [a.jgpt, "eval", "--model", a.model, "--json"] + (["--data", a.data] if a.data else []) \
            + ([] if t == "f32" else ["--weights", t])
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{' '.join(args)}: {r.stderr.strip()}")
        rows.append({"type": t, **json.loads(r.stdout)})
        print(f"{t}: {rows[-1]['loss']:.4f}", file=sys.stderr)
    base = next(r for r in rows if r["type"] == "f32")
    print(f"model {a.model}, data {a.data or 'its validation split'} ({base['tokens']} tokens)\n")
    print("| weights | loss (nats) | perplexity | vs f32 |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        ppl, ppl0 = math.exp(r["loss"]), math.exp(base["loss"])
        r["perplexity"] = ppl
        r["increase"] = ppl / ppl0 - 1
        print(f"| {r['type']} | {r['loss']:.4f} | {ppl:.3f} | {100 * r['increase']:+.2f}% |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"model": a.model, "data": a.data, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
