#!/usr/bin/python3
"""PyTorch (OpenBLAS) sgemm peer for GemmBench: same shape strings, same GFLOP/s definition.

Shapes are LAYOUT_MxKxN: C[M x N] = op(A)[M x K] . op(B)[K x N], LAYOUT = op(A)op(B), T = transposed.
A transposed operand is stored transposed and passed as a .t() view, so BLAS sees the same
transpose flags jgpt's gemm does (no copies). Each figure is 2*M*N*K / median time of one call.

Run with Debian's python (install with benchmarks/scripts/install-peers.sh), without the machine's
OpenBLAS overrides so OpenBLAS picks its own kernel:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/scripts/torch_sgemm.py
    ... torch_sgemm.py NN_1024x1024x1024 --threads 2     # selected shapes / thread counts
"""
import argparse
import json
import os
import statistics
import time

import torch

SHAPES = [
    "NN_256x256x256", "NN_1024x1024x1024", "NT_1024x1024x1024",
    "NT_768x128x384", "NT_768x128x128", "NT_768x128x512", "NT_768x512x128", "NT_768x128x65",
    "NN_768x512x128", "TN_512x768x128",
    "NT_256x768x2304", "NT_256x768x768", "NT_256x768x3072", "NT_256x3072x768", "NT_256x768x50257",
    "NN_256x3072x768", "TN_3072x256x768",
    "NT_1x768x2304", "NT_1x768x50257",
]


def operands(shape):
    layout, dims = shape.split("_")
    m, k, n = (int(d) for d in dims.split("x"))
    g = torch.Generator().manual_seed(42)
    # Stored as jgpt stores them (row-major, transposed when the layout says T); .t() is a view.
    a = torch.rand(k, m, generator=g).t() if layout[0] == "T" else torch.rand(m, k, generator=g)
    b = torch.rand(n, k, generator=g).t() if layout[1] == "T" else torch.rand(k, n, generator=g)
    c = torch.empty(m, n)
    return m, k, n, a, b, c


def time_shape(shape, samples, min_sample_s):
    m, k, n, a, b, c = operands(shape)
    flop = 2.0 * m * n * k
    for _ in range(3):
        torch.mm(a, b, out=c)
    # Calls per sample so that each sample is long enough for the clock.
    t0 = time.perf_counter()
    torch.mm(a, b, out=c)
    one = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(min_sample_s / one))
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        times.append((time.perf_counter() - t0) / reps)
    med = statistics.median(times)
    gbyte = 4.0 * (m * k + k * n + m * n) / 1e9
    return flop / med / 1e9, gbyte / med, med, flop / min(times) / 1e9


def describe_blas():
    lines = []
    try:
        from threadpoolctl import threadpool_info
        for p in threadpool_info():
            if p.get("internal_api") == "openblas":
                lines.append("OpenBLAS %s, kernel (architecture) %s, threading %s, %s" % (
                    p.get("version"), p.get("architecture"), p.get("threading_layer"), p.get("filepath")))
    except ImportError:
        lines.append("threadpoolctl not installed; torch config:\n" + torch.__config__.show())
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shapes", nargs="*", default=SHAPES)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--samples", type=int, default=7)
    ap.add_argument("--min-sample-s", type=float, default=0.2)
    ap.add_argument("--json", action="store_true", help="JSON lines instead of the table (for compare.py)")
    args = ap.parse_args()

    env = {k: os.environ.get(k, "(unset)") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if args.json:
        print(json.dumps({"torch": torch.__version__, "env": env, "blas": describe_blas()}))
    else:
        print("torch %s; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s" % (
            torch.__version__, env["OPENBLAS_CORETYPE"], env["OPENBLAS_L2_SIZE"]))
        for line in describe_blas():
            print(line)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None

    if not args.json:
        # GFLOP/s and GB/s from the median sample; "best" from the fastest (useful on a shared machine).
        print("%-22s %7s %10s %9s %12s %10s" % ("shape", "threads", "GFLOP/s", "GB/s", "median ms", "best"))
    for t in args.threads:
        # torch.set_num_threads sets OpenMP (torch's own ops); OpenBLAS has its own pool.
        torch.set_num_threads(t)
        limiter = threadpool_limits(limits=t, user_api="blas") if threadpool_limits else None
        for s in args.shapes:
            gflops, gbs, med, best = time_shape(s, args.samples, args.min_sample_s)
            if args.json:
                print(json.dumps({"shape": s, "threads": t, "gflops": gflops, "gbps": gbs, "median_ms": med * 1e3,
                                  "best_gflops": best}), flush=True)
            else:
                print("%-22s %7d %10.1f %9.2f %12.4f %10.1f" % (s, t, gflops, gbs, med * 1e3, best), flush=True)
        if limiter is not None:
            limiter.restore_original_limits()


if __name__ == "__main__":
    main()
