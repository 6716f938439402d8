#!/usr/bin/env python3
"""Data-parallel training on Spark: step time, scaling efficiency and bytes per step, measured at 1 and 2
workers (one core each, Spark local[N] on this machine) for --sync step and --sync diloco, then projected
to GPT-2 124M on 8-64 machines with a stated communication model.

Build first (./mvnw -B -ntp -DskipTests package), then:
    benchmarks/scripts/spark_scaling.py                 # baby preset, 60 steps per run, 3 rounds of 5 runs
    benchmarks/scripts/spark_scaling.py --steps 30 --out /tmp/spark-scaling.json
Every figure comes from `bin/jgpt train` itself: its "speed:" line (tokens/s over the training steps only,
evaluation and startup excluded) and its "communication:" line (bytes between driver and workers: the weight
broadcasts counted once per worker, and the task results as Spark measured them).
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JGPT = os.path.join(ROOT, "bin", "jgpt")
SPEED = re.compile(r"speed: ([\d,]+) tokens/s in ([\d.]+) s of training")
COMM = re.compile(r"communication: ([\d.]+) MB per step")


def train(args, data, out, extra):
    cmd = [JGPT, "train", "--preset", "baby", "--data", data, "--iters", str(args.steps),
           "--eval-interval", str(args.steps), "--eval-iters", "1", "--samples", "0", "--threads", "1",
           "--out", out, "--overwrite"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: " + " ".join(cmd) + "\n" + p.stdout + p.stderr)
    speed = SPEED.search(p.stdout)
    comm = COMM.search(p.stdout)
    tps = float(speed.group(1).replace(",", ""))
    return {"command": " ".join(cmd[1:]), "tokens_per_s": tps, "train_s": float(speed.group(2)),
            "mb_per_step": float(comm.group(1)) if comm else 0.0}


def projection(params, bandwidths_gbit, compute_s, machines, sync_every, eval_interval=250):
    """Seconds of communication per step on N machines, and the speedup over one machine.

    Model (fp32, 4 bytes a parameter; S = 4P bytes, bw in bytes/s; C = compute seconds per worker step):
      sync step: broadcast of the weights, each worker downloading S (Spark's torrent broadcast spreads the
        driver's upload, so a download is the bound): S/bw; then treeAggregate of depth 2: the N gradients go
        to s = max(ceil(sqrt N), 2) reducers (each receiving N/s of them) and their s sums to the driver,
        (N/s + s)·S/bw; below N = s + ceil(N/s) there is no middle level and the driver receives all N.
        t_step(N) = C + S/bw·(1 + N/s + s).
      diloco: the same exchange once per round of H steps, plus, every evaluation interval E (each checkpoint),
        the inner AdamW states (2S per worker) collected to the driver and broadcast back as the new lineage
        root, N·2S each way through the driver's link (full duplex): t_step(N) = C + S/bw·(1 + N/s + s)/H
        + N·2S/bw/E.
      speedup(N) = N·C / t_step(N), efficiency = speedup / N. Compute and communication do not overlap.
    """
    rows = []
    S = 4 * params
    for gbit in bandwidths_gbit:
        bw = gbit * 1e9 / 8
        for n in machines:
            s = max(math.ceil(math.sqrt(n)), 2)
            hops = (n / s + s) if n > s + math.ceil(n / s) else n
            comm = S / bw * (1 + hops)
            states = n * 2 * S / bw / eval_interval
            for mode, per_step in (("step", comm), ("diloco H=%d" % sync_every, comm / sync_every + states)):
                t = compute_s + per_step
                rows.append({"gbit_s": gbit, "machines": n, "mode": mode, "comm_s_per_step": per_step,
                             "step_s": t, "speedup": n * compute_s / t, "efficiency": compute_s / t})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60, help="optimizer steps per run (a multiple of --sync-every)")
    ap.add_argument("--sync-every", type=int, default=10, help="DiLoCo's H for the measured runs")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each configuration, interleaved; the median counts")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "spark_scaling.json"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt"),
                    help="the text to prepare (default: tiny Shakespeare in ../shared/data)")
    ap.add_argument("--compute-s", type=float, default=2.0,
                    help="projection: compute seconds per worker step for GPT-2 124M (default 2: 8 x 1024 tokens at "
                         "~3 TFLOP/s, a 32-core machine)")
    ap.add_argument("--projection-h", type=int, default=50, help="projection: DiLoCo's H")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "shk")
        prep = [JGPT, "prepare", "--tokenizer", "char", "--out", data, "--data", args.corpus]
        subprocess.run(prep, check=True, capture_output=True)
        configs = {"single process": []}
        for mode, extra in (("step", []), ("diloco", ["--sync", "diloco", "--sync-every", str(args.sync_every)])):
            for w in (1, 2):
                configs["%s, %d worker%s" % (mode, w, "s" if w > 1 else "")] = [
                    "--spark", "local[%d]" % w, "--workers", str(w)] + extra
        # Rounds interleave the configurations, so that a change in the machine's load falls on all of them
        # alike; each figure is the median over the rounds.
        rounds = {name: [] for name in configs}
        load = [os.getloadavg()[0]]
        for k in range(args.rounds):
            for name, extra in configs.items():
                r = train(args, data, os.path.join(tmp, "r"), extra)
                rounds[name].append(r)
                print("round %d/%d, %s: %.0f tokens/s, %.2f MB per step" % (
                    k + 1, args.rounds, name, r["tokens_per_s"], r["mb_per_step"]), file=sys.stderr, flush=True)
            load.append(os.getloadavg()[0])
        runs = {}
        for name, rs in rounds.items():
            tps = sorted(r["tokens_per_s"] for r in rs)
            runs[name] = dict(rs[-1], tokens_per_s=tps[len(tps) // 2], rounds=[r["tokens_per_s"] for r in rs])

    tokens_per_worker_step = 12 * 64
    print("measured (baby preset, batch 12 x 64 per worker, %d steps, one core per worker, median of %d round(s); "
          "1-minute load average %s):" % (args.steps, args.rounds, " -> ".join("%.1f" % x for x in load)))
    print("| run | step time | tokens/s | scaling efficiency | MB per step |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in runs.items():
        workers = 2 if "2 workers" in name else 1
        r["step_s"] = workers * tokens_per_worker_step / r["tokens_per_s"]
        one = runs.get(name.replace("2 workers", "1 worker"))
        r["efficiency"] = r["tokens_per_s"] / (2 * one["tokens_per_s"]) if workers == 2 else None
        print("| %s | %.0f ms | %.0f | %s | %.2f |" % (name, 1000 * r["step_s"], r["tokens_per_s"],
              "%.0f%%" % (100 * r["efficiency"]) if r["efficiency"] else "-", r["mb_per_step"]))

    rows = projection(124.44e6, [1, 10, 25], args.compute_s, [1, 8, 16, 32, 64], args.projection_h)
    print("\nprojected, GPT-2 124M (P = 124.4M, 498 MB of fp32 weights), %.1f s of compute per worker step:" % args.compute_s)
    print("| network | machines | sync step: comm/step, speedup | DiLoCo H=%d: comm/step, speedup |" % args.projection_h)
    print("| --- | --- | --- | --- |")
    for gbit in (1, 10, 25):
        for n in (1, 8, 16, 32, 64):
            a = next(r for r in rows if r["gbit_s"] == gbit and r["machines"] == n and r["mode"] == "step")
            b = next(r for r in rows if r["gbit_s"] == gbit and r["machines"] == n and r["mode"] != "step")
            print("| %d Gbit/s | %d | %.1f s, %.1fx (%.0f%%) | %.2f s, %.1fx (%.0f%%) |" % (
                gbit, n, a["comm_s_per_step"], a["speedup"], 100 * a["efficiency"],
                b["comm_s_per_step"], b["speedup"], 100 * b["efficiency"]))
    with open(args.out, "w") as f:
        json.dump({"measured": runs, "projection": rows, "steps": args.steps, "sync_every": args.sync_every,
                   "rounds": args.rounds, "load_average": load, "compute_s": args.compute_s}, f, indent=2)
    print("\nwrote " + args.out)


if __name__ == "__main__":
    main()
