#!/usr/bin/python3
"""The job most users run first, end to end: `bin/jgpt train --preset baby` against the same recipe in
PyTorch (torch_train.py --train: nanoGPT's model and step), over seeds, each side at its best setting.

For every seed it times the whole command (wall clock, start-up and evaluations included) and scores the
final model over the whole val split in consecutive windows (jgpt: `bin/jgpt eval --model RUN --json`;
PyTorch: the "full val loss" line of torch_train.py), so speed and quality are compared on one job.
PyTorch runs with OMP_WAIT_POLICY=PASSIVE at the better of 1 and N threads, picked by a short timed run of
each (torch_train.py's speed mode) just before; jgpt runs on N threads.

    python3 benchmarks/scripts/whole_run.py [--seeds 1337,1,2] [--threads 2] [--out DIR]

Prints a Markdown table and writes DIR/whole_run.jsonl (one line a run). Needs the build
(`./mvnw -B -ntp -DskipTests package`); it runs benchmarks/scripts/install-peers.sh first (Debian's python3-torch on
OpenBLAS) and refuses to compare against a PyTorch whose BLAS is not OpenBLAS: on Debian's reference libblas3
its matrix products run 6-19x slower (measured here), which would flatter jgpt.
Run it on an otherwise idle machine: wall times are what it compares.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TORCH_PY = "/usr/bin/python3"


def torch_env(threads):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads))
    return env


def run(cmd, env=None, cwd=ROOT):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("whole_run: %s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, (p.stderr or p.stdout)[-2000:]))
    return p.stdout + p.stderr, wall


def torch_blas():
    """PyTorch's BLAS as threadpoolctl sees it (e.g. "OpenBLAS 0.3.21 (Cooperlake)"), or None if not OpenBLAS."""
    probe = ("import torch, json; from threadpoolctl import threadpool_info; "
             "print(json.dumps([p for p in threadpool_info() if p.get('internal_api') == 'openblas']))")
    out, _ = run([TORCH_PY, "-c", probe], env=torch_env(1))
    libs = json.loads(out.strip().splitlines()[-1])
    return "OpenBLAS %s (%s)" % (libs[0].get("version"), libs[0].get("architecture")) if libs else None


def torch_best_threads(threads):
    """The thread count (1 or N) at which torch_train.py's timed steps are fastest."""
    best = None
    for n in sorted({1, threads}):
        out, _ = run([TORCH_PY, os.path.join(HERE, "torch_train.py"), "--threads", str(n), "--steps", "60", "--json"],
                     env=torch_env(n))
        rate = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])["tokens_per_s"]
        if best is None or rate > best[1]:
            best = (n, rate)
    return best[0]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        model = re.search(r"model name\s*:\s*(.*)", info).group(1).strip()
        family = re.search(r"cpu family\s*:\s*(\d+)", info).group(1)
        return "%s (family %s), %d cores" % (model, family, os.cpu_count())
    except (OSError, AttributeError):
        return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1337,1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, help="shorten both runs (a smoke test; the row needs the preset's 2000)")
    ap.add_argument("--out", help="where the runs and whole_run.jsonl go (default: a temporary folder)")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    out = a.out or tempfile.mkdtemp(prefix="jgpt-whole-run-")
    os.makedirs(out, exist_ok=True)
    jgpt = os.path.join(ROOT, "bin", "jgpt")
    if subprocess.run(["bash", os.path.join(HERE, "install-peers.sh")]).returncode != 0:
        sys.exit("whole_run: install-peers.sh failed; PyTorch on OpenBLAS is the peer this comparison needs")
    blas = torch_blas()
    if blas is None:
        sys.exit("whole_run: PyTorch does not use OpenBLAS here (libblas.so.3 points elsewhere: "
                 "`update-alternatives --display libblas.so.3-x86_64-linux-gnu`); the comparison would be unfair")
    tn = torch_best_threads(a.threads)
    rows = []
    for seed in seeds:
        run_dir = os.path.join(out, "jgpt-seed%d" % seed)
        _, wall = run([jgpt, "train", "--preset", "baby", "--seed", str(seed), "--threads", str(a.threads),
                       "--out", run_dir, "--overwrite"] + (["--iters", str(a.iters)] if a.iters else []))
        ev, _ = run([jgpt, "eval", "--model", run_dir, "--json"])
        loss = json.loads([l for l in ev.splitlines() if l.startswith("{")][-1])["loss"]
        rows.append(dict(peer="jgpt", seed=seed, threads=a.threads, wall_s=round(wall, 1), val_loss_whole_split=loss))
        print(json.dumps(rows[-1]), flush=True)
        tout, wall = run([TORCH_PY, os.path.join(HERE, "torch_train.py"), "--train", "--seed", str(seed),
                          "--threads", str(tn)] + (["--iters", str(a.iters)] if a.iters else []), env=torch_env(tn))
        with open(os.path.join(out, "torch-seed%d.log" % seed), "w") as f:
            f.write(tout)
        loss = float(re.search(r"full val loss ([0-9.]+)", tout).group(1))
        rows.append(dict(peer="PyTorch", seed=seed, threads=tn, wall_s=round(wall, 1), val_loss_whole_split=loss))
        print(json.dumps(rows[-1]), flush=True)
    with open(os.path.join(out, "whole_run.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)

    def side(peer, key):
        return [r[key] for r in rows if r["peer"] == peer]

    print("\n`train --preset baby`, whole command, %d seeds (%s), on %s; PyTorch on %s\n"
          % (len(seeds), a.seeds, cpu_name(), blas))
    print("| | threads | wall s (per seed) | mean | val loss, whole split (per seed) | mean |")
    print("| --- | ---: | --- | ---: | --- | ---: |")
    for peer in ("jgpt", "PyTorch"):
        walls, losses = side(peer, "wall_s"), side(peer, "val_loss_whole_split")
        print("| %s | %d | %s | %.1f | %s | %.4f |" % (peer, side(peer, "threads")[0], " / ".join("%.1f" % w for w in walls),
                                                       statistics.mean(walls), " / ".join("%.4f" % l for l in losses),
                                                       statistics.mean(losses)))
    print("\njgpt is %.2f× as fast on the whole job; val loss difference (jgpt − PyTorch) %+.4f"
          % (statistics.mean(side("PyTorch", "wall_s")) / statistics.mean(side("jgpt", "wall_s")),
             statistics.mean(side("jgpt", "val_loss_whole_split")) - statistics.mean(side("PyTorch", "val_loss_whole_split"))))
    print("runs and whole_run.jsonl in %s" % out)


if __name__ == "__main__":
    main()
