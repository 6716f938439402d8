#!/usr/bin/env python3
"""Decode and prefill speed per weight type from one DecodeBench JMH run (JSON), as ratios measured in that run:

    java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar 'DecodeBench.(decode|prefill|sweep)$' \\
        -p model=gpt2 -p threads=2 -p weights=f32,bf16,f16,q8_0,q4_0,q4_k,q6_k -f 1 -wi 2 -i 3 -w 1s -r 1s \\
        -rf json -rff decode.json
    benchmarks/scripts/quant_decode_table.py decode.json

For each type: the weight bytes one token reads, decode tokens/s and its ratio to f32's, the GB/s that is
and its share of the read bound (DecodeBench.sweep: a SIMD sum over the f32 parameters on the same
threads, the best any decode step could do per byte; averaged over the sweep runs of the invocation),
and prefill tokens/s against f32's (the same FLOPs per token, so this is the GFLOP/s ratio too).
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = json.load(open(sys.argv[1]))
    by = {}
    sweeps = []
    for r in runs:
        bench = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        key = (p["model"], p.get("weights", "f32"))
        sec = r.get("secondaryMetrics", {})
        if bench == "sweep":
            sweeps.append((p["model"], sec["gbyte"]["score"]))
        else:
            by.setdefault(key, {})[bench] = r["primaryMetric"]["score"]
            if bench == "decode":
                by[key]["gbyte"] = sec["gbyte"]["score"]
    for model in sorted({m for m, _ in by}):
        bound = [g for m, g in sweeps if m == model]
        bound = sum(bound) / len(bound) if bound else None
        base = by.get((model, "f32"), {})
        print(f"{model}: read bound {bound:.1f} GB/s (DecodeBench.sweep, mean of {len([1 for m, _ in sweeps if m == model])})"
              if bound else f"{model}: no sweep in this run")
        print("| weights | MB read per token | decode tok/s | vs f32 | GB/s | % of read bound | prefill tok/s | vs f32 prefill |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (m, w), v in sorted(by.items(), key=lambda kv: ORDER.index(kv[0][1]) if kv[0][1] in ORDER else 99):
            if m != model:
                continue
            dec, pre = v.get("decode"), v.get("prefill")
            mb = 1e3 * v["gbyte"] / dec if dec else None
            cells = [w, f"{mb:.0f}" if mb else "",
                     f"{dec:.1f}" if dec else "", f"{dec / base['decode']:.2f}x" if dec and base.get("decode") else "",
                     f"{v['gbyte']:.1f}" if dec else "", f"{100 * v['gbyte'] / bound:.0f}%" if dec and bound else "",
                     f"{pre:.0f}" if pre else "", f"{100 * pre / base['prefill']:.0f}%" if pre and base.get("prefill") else ""]
            print("| " + " | ".join(cells) + " |")
        print()


ORDER = ["f32", "bf16", "f16", "q8_0", "q6_k", "q4_k", "q4_0"]

if __name__ == "__main__":
    main()
