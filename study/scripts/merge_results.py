#!/usr/bin/env python3
"""Merges the results.jsonl of several `jgpt stability` processes into one directory, for `jgpt stability --replot`.

    merge_results.py OUT "GRID DESCRIPTION" IN1 [IN2 ...]

A run is keyed by (layout, depth, lr, warmup, init, LayerDrop rate, seed, steps, clip); a later input replaces an
earlier one with the same key, and when both trained, the script says whether the validation loss repeated bit for
bit (every run is seeded and single-threaded, so it should). A trained run is kept only when its partner at the other
LayerDrop rate is there too, so the two rates compare over the same seeds. OUT/study.json gets the description, the
corpus, the inputs' summed wall seconds and their largest thread count (the header `--replot` prints)."""
import json
import sys
from pathlib import Path

out, grid, inputs = Path(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]]
if not inputs:
    sys.exit("usage: merge_results.py OUT GRID IN1 [IN2 ...]")
KEY = ("layout", "depth", "lr", "warmup", "init", "layerDrop", "seed", "steps", "clip")
runs, seconds, threads, corpus = {}, 0.0, 0, None
for d in inputs:
    for line in (d / "results.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        key = tuple(r["spec"].get(k) for k in KEY)
        if key in runs and runs[key]["spec"]["steps"] > 0:
            a, b = runs[key].get("valLoss"), r.get("valLoss")
            print(f"{d}: replaces {key[0]} L{key[1]} P={key[5]} seed {key[6]}: val {a} → {b}"
                  + (" (bit for bit)" if a == b else " (DIFFERS)"))
        runs[key] = r
    header = d / "study.json"
    if header.exists():
        h = json.loads(header.read_text())
        seconds += h.get("seconds", 0)
        threads = max(threads, h.get("threads", 0))
        corpus = corpus or h.get("corpus")
rates = {k[5] for k in runs}
kept = []
for key, r in runs.items():
    partners = [key[:5] + (p,) + key[6:] for p in rates if p != key[5]]
    if r["spec"]["steps"] == 0 or all(p in runs for p in partners):
        kept.append(r)
    else:
        print(f"drops {key[0]} L{key[1]} P={key[5]} seed {key[6]}: its other LayerDrop rate did not finish")
out.mkdir(parents=True, exist_ok=True)
(out / "results.jsonl").write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in kept))
(out / "study.json").write_text(json.dumps({"grid": grid, "corpus": corpus or "tinyshakespeare.txt",
                                            "seconds": round(seconds), "threads": threads}, indent=2) + "\n")
print(f"{len(kept)} runs into {out / 'results.jsonl'}")
