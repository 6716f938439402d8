#!/usr/bin/env python3
"""The table of residual-family.sh's output directory: per layout, over seeds, the baby preset's final val loss,
its step time (wall, from the run's training throughput, and process CPU per step) as a ratio to pre-LN's in the
same seed, and the landscape at init and after training (Hessian λ_max and |λ_min/λ_max|, the 1-D curvature,
the plane's non-convexity, the loss at the line's ends). Writes OUT/table.md and prints it."""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
TOKENS_PER_STEP = 12 * 64


def records(path):
    rec = {}
    for line in path.read_text().splitlines():
        o = json.loads(line)
        rec[o["kind"]] = o
    return rec


def mean_sd(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    m = statistics.mean(xs)
    if len(xs) == 1:
        return f"{m:.3g}"
    sd = statistics.stdev(xs)
    return f"{m:.3g} ± {sd:.2g}" if abs(m) < 100 else f"{m:.0f} ± {sd:.0f}"


runs = {}
for metrics in sorted(out.glob("*-s*/metrics.jsonl")):
    name = metrics.parent.name
    if not (metrics.parent / "cpu_s").exists():
        continue   # still training
    layout, seed = name.rsplit("-s", 1)
    last = [json.loads(l) for l in metrics.read_text().splitlines()][-1]
    cpu = float((metrics.parent / "cpu_s").read_text())
    iters = json.loads((metrics.parent / "train_state" / "state.json").read_text())["config"]["max_iters"]
    r = {"val": last.get("val_loss"), "wall_ms": 1e3 * TOKENS_PER_STEP / last["tokens_per_s"],
         "cpu_ms": 1e3 * cpu / iters if cpu else None}
    for kind in ("land", "init"):
        p = out / f"{kind}-{layout}-s{seed}" / "landscape.jsonl"
        if p.exists():
            x = records(p)
            h = x.get("hessian", {})
            r[kind] = {"lmax": h.get("lambda_max"), "curv": x["line"]["curvature"],
                       "ends": (x["line"]["loss"][0] + x["line"]["loss"][-1]) / 2 - x["model"]["loss"],
                       "nonconvex": x.get("plane", {}).get("non_convexity"),
                       "relstep": statistics.mean(x["steps"]["relative_update"]),
                       "cos": statistics.mean(x["steps"]["update_cosine"]) if x["steps"]["update_cosine"] else None}
    runs.setdefault(layout, {})[seed] = r

order = [l for l in ["pre-ln", "highway", "dense", "unet", "post-ln", "none"] if l in runs] + \
        sorted(l for l in runs if l not in ["pre-ln", "highway", "dense", "unet", "post-ln", "none"])
base = runs.get("pre-ln", {})


def ratio(layout, key):
    xs = [runs[layout][s][key] / base[s][key] for s in runs[layout] if s in base and runs[layout][s].get(key) and base[s].get(key)]
    return mean_sd(xs)


lines = ["| layout | seeds | val loss | step ms (wall) | step time / pre-LN (wall) | CPU ms/step | CPU / pre-LN |",
         "|---|---|---|---|---|---|---|"]
for l in order:
    rs = runs[l].values()
    lines.append(f"| {l} | {len(rs)} | {mean_sd([r['val'] for r in rs])} | {mean_sd([r['wall_ms'] for r in rs])} | "
                 f"{ratio(l, 'wall_ms')} | {mean_sd([r['cpu_ms'] for r in rs])} | {ratio(l, 'cpu_ms')} |")
lines += ["", "| layout | weights | λ_max (power iteration) | d²L/dα² (1-D) | mean loss rise at α = ±1 | plane non-convexity (first seed) | mean ‖Δx‖/‖x‖ | mean cos(Δx_l, Δx_l+1) |",
          "|---|---|---|---|---|---|---|---|"]
for l in order:
    for kind, label in (("init", "init"), ("land", "trained")):
        xs = [r[kind] for r in runs[l].values() if kind in r]
        if xs:
            lines.append(f"| {l} | {label} | {mean_sd([x['lmax'] for x in xs])} | "
                         f"{mean_sd([x['curv'] for x in xs])} | {mean_sd([x['ends'] for x in xs])} | "
                         f"{mean_sd([x['nonconvex'] for x in xs])} | {mean_sd([x['relstep'] for x in xs])} | "
                         f"{mean_sd([x['cos'] for x in xs])} |")
text = "\n".join(lines) + "\n"
(out / "table.md").write_text(text)
print(text)
