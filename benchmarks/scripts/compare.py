#!/usr/bin/python3
"""jgpt side by side with PyTorch-CPU (OpenBLAS), llm.c and the machine's limits, in one run.

Everything runs on this machine, one program at a time (never two at once), with the same thread count:

  jgpt     JMH (benchmarks/target/benchmarks.jar): GemmBench (sgemm 1024³ and the GPT shapes), TrainBench
           (one `jgpt train` step: baby, shakespeare-char), ModelBench (forward+backward, GPT-2 124M B4 T64),
           KernelBench.adamW (to add the optimizer to the GPT-2 step), DecodeBench (KV-cache decode and
           64-token prefill: GPT-2 124M, baby).
  PyTorch  benchmarks/scripts/torch_sgemm.py, torch_train.py, torch_decode.py with Debian's python3-torch
           on libopenblas0-pthread (installed by install-peers.sh if missing), run WITHOUT the machine's
           OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE overrides so OpenBLAS picks its own kernel (recorded).
  llm.c    with --llmc PATH (a local checkout of karpathy/llm.c): `make train_gpt2`, a random-weight GPT-2
           124M checkpoint and token files written by llmc_checkpoint.py, B=4 T=64, OMP_NUM_THREADS=N;
           the median of its per-step "took X ms" (the first step, which allocates, is dropped).
  llama.cpp with --llama-cpp PATH (a folder where node-llama-cpp is installed: its prebuilt CPU build of llama.cpp)
           and --gguf FILE (repeatable): llamacpp_decode.mjs --model FILE against jgpt's GgufDecode.java FILE, the
           same GGUF file on the same threads under one protocol (64-token prefill; greedy decode at positions
           64..191, the median rate of 16-token chunks).
  bounds   FP32 peak (--peak-per-core GFLOP/s × threads) and memory bandwidth (--bandwidth GB/s).

Each of --runs rounds runs every program once, in turn; the figures are the medians over the rounds.
Ratios are speed ratios: > 1 means jgpt is faster (jgpt/peer for rates, peer/jgpt for times).
The CPU time other processes took while each program ran is recorded: figures taken on a busy machine
are labelled as such.

    benchmarks/scripts/compare.sh [--threads N] [--runs K] [--llmc PATH] [--llama-cpp PATH --gguf FILE...]
                                  [--quick] [--out DIR]
"""
import argparse
import datetime
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH_JAR = os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar")
CLI_JAR = os.path.join(ROOT, "cli", "target", "jgpt.jar")
PY = "/usr/bin/python3"   # Debian's python: the one python3-torch installs into

# sgemm: the square reference and the shapes the two GPTs run (see GemmBench for what each one is).
GEMM_SHAPES = [
    "NN_1024x1024x1024",
    "NT_768x128x384", "NT_768x128x512", "NT_768x512x128", "NN_768x512x128", "TN_512x768x128",
    "NT_256x768x2304", "NT_256x768x768", "NT_256x768x3072", "NT_256x3072x768", "NT_256x768x50257",
    "NN_256x3072x768", "TN_3072x256x768",
    "NT_1x768x2304", "NT_1x768x50257",
]
PRESETS = ["baby", "shakespeare-char"]
DECODE_MODELS = ["gpt2", "baby"]
JMH_INCLUDES = [
    r"dev\.jgpt\.bench\.GemmBench\.gemm$", r"dev\.jgpt\.bench\.TrainBench\.step$",
    r"dev\.jgpt\.bench\.ModelBench\.forwardBackward$", r"dev\.jgpt\.bench\.KernelBench\.adamW$",
    r"dev\.jgpt\.bench\.DecodeBench\.(decode|prefill)$",
]
GPT2_PARAMS = 124_439_808      # jgpt's GPT-2 124M (unpadded vocabulary, 1024 positions)
ADAMW_BENCH_PARAMS = 10_000_000  # KernelBench.Params.n
TARGETS = {   # from the issues: speed ratios (> 1 = jgpt faster) or fractions of a bound
    "sgemm_vs_openblas": 0.9, "sgemm_vs_peak": 0.7, "train_baby_vs_torch": 2.0,
    "gpt2_step_vs_llmc": 1.0, "decode_vs_torch": 1.5, "decode_vs_bandwidth": 0.8,
    "shakespeare_tokens_per_s": 1600.0,
}


def log(msg):
    print("[compare %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------------------------------------------
# running things, and measuring how busy the machine was meanwhile

def cpu_busy_ticks():
    """Busy CPU time of the whole machine so far, in clock ticks (from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle


class Phase:
    """Times one program and works out how much CPU everything else on the machine used meanwhile."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.time()
        self.busy0 = cpu_busy_ticks()
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.own0 = r.ru_utime + r.ru_stime
        self.load0 = os.getloadavg()[0]
        return self

    def __exit__(self, *exc):
        wall = max(time.time() - self.t0, 1e-6)
        hz = os.sysconf("SC_CLK_TCK")
        busy = (cpu_busy_ticks() - self.busy0) / hz
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = r.ru_utime + r.ru_stime - self.own0
        ncpu = os.cpu_count() or 1
        self.record = {"phase": self.name, "wall_s": round(wall, 1), "load1_at_start": round(self.load0, 2),
                       "own_cpu_s": round(own, 1),
                       "other_cpu_frac": round(max(0.0, busy - own) / (wall * ncpu), 3)}
        return False


BUSY = 0.10   # a program ran "under load" when others took more than this share of all CPUs meanwhile


def others_busy(seconds=3.0):
    """Share of all CPUs that other processes use right now (we are idle while sampling)."""
    b0, t0 = cpu_busy_ticks(), time.time()
    time.sleep(seconds)
    return (cpu_busy_ticks() - b0) / os.sysconf("SC_CLK_TCK") / ((time.time() - t0) * (os.cpu_count() or 1))


def jmh_lock_free():
    """True unless another JMH run holds /tmp/jmh.lock (JMH takes it with a POSIX record lock)."""
    try:
        with open(os.path.join(tempfile.gettempdir(), "jmh.lock"), "a") as f:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(f, fcntl.LOCK_UN)
        return True
    except OSError:
        return False


def wait_until_idle(max_wait, threshold=BUSY):
    """Waits up to max_wait seconds for the other processes (and other JMH runs) to leave the CPUs idle."""
    deadline = time.time() + max_wait
    busy = others_busy()
    while (busy > threshold or not jmh_lock_free()) and time.time() < deadline:
        log("others use %.0f%% of the CPUs%s: waiting" % (100 * busy, "" if jmh_lock_free() else " (a JMH run)"))
        time.sleep(20)
        busy = others_busy()
    return busy


def torch_env():
    """The environment for PyTorch: without the machine's OpenBLAS overrides (OpenBLAS picks its kernel), and
    with libgomp's threads sleeping when idle (OMP_WAIT_POLICY=PASSIVE): spinning ones take the cores from the
    threads doing the work on a small or shared machine, which is PyTorch's best setting there."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def lower_is_better(key):
    return key.endswith("_ms") or key.endswith("ms_per_step")


def best_of_threads(fn, threads):
    """Runs a PyTorch peer fn(t) on 1 and on `threads` threads and keeps, figure by figure, the better run
    (a training step's ms goes with its tokens/s), noting its thread count under "_threads/KEY"."""
    runs = [(t,) + tuple(fn(t)) for t in sorted({1, threads})]
    merged = {}
    for _, m, _ in runs:
        for k, v in m.items():
            merged.setdefault(k, v)   # metadata and constants (parameters, FLOPs per token) as first seen
    for k in list(merged):
        if k.startswith("_") or k.endswith("/params") or k.endswith("flops_per_token") \
                or not isinstance(merged[k], (int, float)):
            continue
        lead = k.replace("ms_per_step", "tokens_per_s")
        cands = [(t, m) for t, m, _ in runs if k in m and lead in m]
        if lead != k:
            t, m = max(cands, key=lambda c: c[1][lead])
        elif lower_is_better(k):
            t, m = min(cands, key=lambda c: c[1][k])
        else:
            t, m = max(cands, key=lambda c: c[1][k])
        merged[k] = m[k]
        merged["_threads/" + k] = t
    errors = [e for _, _, e in runs if e]
    return merged, ("; ".join(errors) if errors else None)


def run(cmd, logfile, env=None, cwd=None, timeout=7200):
    """Runs cmd to completion with output to logfile; returns (exit code, output)."""
    with open(logfile, "w") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        try:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd, timeout=timeout)
            code = p.returncode
        except subprocess.TimeoutExpired:
            code = -1
            f.write("\n[compare] timed out after %d s\n" % timeout)
    with open(logfile) as f:
        return code, f.read()


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


# ---------------------------------------------------------------------------------------------------
# the programs

def find_java():
    """A JDK 22+ as bin/jgpt finds it."""
    p = subprocess.run(["bash", "-c", 'source "$1/bin/find-java.sh" >/dev/null && echo "$JAVA_HOME"', "_", ROOT],
                       capture_output=True, text=True)
    home = p.stdout.strip()
    if p.returncode != 0 or not home:
        sys.exit("compare: no JDK 22+ found (set JAVA_HOME): " + p.stderr.strip())
    return os.path.join(home, "bin", "java")


def jmh(java, jar, threads, quick, json_out, logfile):
    cmd = [java, "--add-modules", "jdk.incubator.vector", "-jar", jar] + JMH_INCLUDES + [
        "-p", "threads=%d" % threads, "-p", "shape=" + ",".join(GEMM_SHAPES), "-f", "1",
        "-rf", "json", "-rff", json_out]
    if quick:
        cmd += ["-wi", "1", "-i", "2", "-w", "1s", "-r", "1s"]
    for _ in range(120):
        code, out = run(cmd, logfile, timeout=4 * 3600)
        # JMH holds /tmp/jmh.lock while it runs: someone else is benchmarking, so wait rather than overlap.
        if "Unable to acquire the JMH lock" not in out:
            break
        log("another JMH run holds its lock: waiting 30 s")
        time.sleep(30)
    if code != 0 or not os.path.exists(json_out):
        return None, "JMH failed (exit %d), see %s" % (code, logfile)
    with open(json_out) as f:
        return json.load(f), None


def jmh_round(java, jar, threads, quick, raw, r):
    res, err = jmh(java, jar, threads, quick, os.path.join(raw, "jmh-r%d.json" % r), os.path.join(raw, "jmh-r%d.log" % r))
    return (parse_jmh(res) if res else {}), err


def limits(java, jar, threads, logfile):
    """FP32 FMA peak and memory read bandwidth, measured (benchmarks/scripts/Limits.java)."""
    code, out = run([java, "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-cp", jar,
                     os.path.join(HERE, "Limits.java"), str(threads)], logfile)
    lines = [d for d in json_lines(out) if "peak_gflops" in d]
    if code != 0 or not lines:
        return {}, "Limits.java failed (exit %d), see %s" % (code, logfile)
    return lines[-1], None


def parse_jmh(results, adamw_params=GPT2_PARAMS):
    """JMH JSON -> flat metrics (rates per second unless the key says otherwise)."""
    m = {}
    for r in results:
        name = r["benchmark"].rsplit(".", 2)
        bench, method = name[-2], name[-1]
        p = r.get("params", {})
        score = r["primaryMetric"]["score"]
        sec = {k: v["score"] for k, v in r.get("secondaryMetrics", {}).items()}
        if bench == "GemmBench":
            m["gemm/%s/gflops" % p["shape"]] = sec.get("gflop")
        elif bench == "TrainBench":
            m["train/%s/tokens_per_s" % p["preset"]] = sec.get("tokens")
            if sec.get("tokens"):
                m["train/%s/flops_per_token" % p["preset"]] = sec["gflop"] * 1e9 / sec["tokens"]
        elif bench == "ModelBench":
            m["fwdbwd/%s/step_ms" % p["model"]] = 1000.0 / score
            m["fwdbwd/%s/tokens_per_s" % p["model"]] = sec.get("tokens")
            if sec.get("tokens"):
                m["fwdbwd/%s/flops_per_token" % p["model"]] = sec["gflop"] * 1e9 / sec["tokens"]
        elif bench == "KernelBench" and method == "adamW":
            unit = r["primaryMetric"]["scoreUnit"]   # us/op by the class's annotation
            scale = {"us/op": 1e-3, "ms/op": 1.0, "ns/op": 1e-6, "s/op": 1e3}.get(unit)
            if scale:
                m["adamw/10M/ms"] = score * scale
        elif bench == "DecodeBench":
            m["%s/%s/tok_per_s" % (method, p["model"])] = score
        m.setdefault("_jvm", "%s %s (JDK %s)" % (r.get("vmName"), r.get("vmVersion"), r.get("jdkVersion")))
    # The GPT-2 124M training step: forward+backward (ModelBench) + AdamW over all parameters
    # (KernelBench.adamW is memory-bound and linear in the parameter count).
    if "fwdbwd/gpt2-124M/step_ms" in m and "adamw/10M/ms" in m:
        m["gpt2step/adamw_ms"] = m["adamw/10M/ms"] * adamw_params / ADAMW_BENCH_PARAMS
        m["gpt2step/step_ms"] = m["fwdbwd/gpt2-124M/step_ms"] + m["gpt2step/adamw_ms"]
    return m


def torch_sgemm(threads, quick, logfile):
    cmd = [PY, os.path.join(HERE, "torch_sgemm.py")] + GEMM_SHAPES + ["--threads", str(threads), "--json"]
    if quick:
        cmd += ["--samples", "3", "--min-sample-s", "0.05"]
    code, out = run(cmd, logfile, env=torch_env())
    lines = json_lines(out)
    if code != 0 or not lines:
        return {}, "torch_sgemm.py failed (exit %d), see %s" % (code, logfile)
    m = {}
    for d in lines:
        if "blas" in d:
            m["_blas"] = "; ".join(b.rsplit(", /", 1)[0] for b in d["blas"]) or "unknown"   # without the .so path
            m["_torch"] = d.get("torch")
        elif "shape" in d:
            m["gemm/%s/gflops" % d["shape"]] = d["gflops"]
    return m, None


def torch_train(threads, preset, quick, logfile):
    steps, warm = {"baby": (100, 10), "shakespeare-char": (3, 1)}[preset]   # a shakespeare-char step takes seconds
    if quick:
        steps, warm = {"baby": (20, 3), "shakespeare-char": (2, 1)}[preset]
    cmd = [PY, os.path.join(HERE, "torch_train.py"), "--preset", preset, "--threads", str(threads),
           "--steps", str(steps), "--warmup-steps", str(warm), "--json"]
    code, out = run(cmd, logfile, env=torch_env())
    lines = [d for d in json_lines(out) if "tokens_per_s" in d]
    if code != 0 or not lines:
        return {}, "torch_train.py --preset %s failed (exit %d), see %s" % (preset, code, logfile)
    d = lines[-1]
    return {"train/%s/tokens_per_s" % preset: d["tokens_per_s"], "train/%s/ms_per_step" % preset: d["ms_per_step"],
            "train/%s/flops_per_token" % preset: d["flops_per_token"]}, None


def torch_decode(threads, quick, logfile):
    cmd = [PY, os.path.join(HERE, "torch_decode.py"), "--threads", str(threads), "--json",
           "--seconds", "2" if quick else "10"]
    code, out = run(cmd, logfile, env=torch_env())
    lines = [d for d in json_lines(out) if "decode_tok_s" in d]
    if code != 0 or not lines:
        return {}, "torch_decode.py failed (exit %d), see %s" % (code, logfile)
    m = {}
    for d in lines:
        m["decode/%s/tok_per_s" % d["model"]] = d["decode_tok_s"]
        m["prefill/%s/tok_per_s" % d["model"]] = d["prefill_tok_s"]
        m["decode/%s/params" % d["model"]] = d["params"]
    return m, None


GGUF_DECODE = re.compile(r"([\d.]+) MB per token, prefill\(64\) ([\d.]+) tok/s, decode ([\d.]+) tok/s")


def jgpt_gguf(java, jar, gguf, threads, seconds, logfile):
    """jgpt on a GGUF file: GgufDecode.java (wall clock, llamacpp_decode.mjs's protocol)."""
    code, out = run([java, "--add-modules", "jdk.incubator.vector", "-cp", jar, os.path.join(HERE, "GgufDecode.java"),
                     gguf, str(threads), str(seconds)], logfile)
    m = GGUF_DECODE.search(out)
    if code != 0 or not m:
        return {}, "GgufDecode.java %s failed (exit %d), see %s" % (gguf, code, logfile)
    name = os.path.basename(gguf)
    return {"gguf/%s/mb_per_token" % name: float(m.group(1)), "gguf/%s/prefill_tok_s" % name: float(m.group(2)),
            "gguf/%s/decode_tok_s" % name: float(m.group(3))}, None


def llamacpp_gguf(nlc, gguf, threads, seconds, logfile):
    """llama.cpp on the same GGUF file, through node-llama-cpp installed in the folder nlc."""
    code, out = run(["node", os.path.join(HERE, "llamacpp_decode.mjs"), "--nlc", nlc, "--model", gguf,
                     "--threads", str(threads), "--seconds", str(seconds), "--json"], logfile)
    lines = [d for d in json_lines(out) if "decode_tok_s" in d]
    if code != 0 or not lines:
        return {}, "llamacpp_decode.mjs --model %s failed (exit %d), see %s" % (gguf, code, logfile)
    d, name = lines[-1], os.path.basename(gguf)
    return {"gguf/%s/prefill_tok_s" % name: d["prefill_tok_s"], "gguf/%s/decode_tok_s" % name: d["decode_tok_s"],
            "_system_info": d.get("system_info")}, None


def node_llama_cpp_version(nlc):
    """The version of node-llama-cpp installed in nlc, or None when it is not installed there."""
    try:
        with open(os.path.join(nlc, "node_modules", "node-llama-cpp", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


class LlmC:
    """llm.c's CPU trainer from a local checkout: built once, run in a directory of generated inputs."""

    STEP = re.compile(r"step (\d+): train loss ([-+\d.eE]+|nan|inf) \(took ([\d.]+) ms\)")

    def __init__(self, checkout, raw):
        self.checkout, self.raw, self.rundir, self.binary, self.error, self.build = checkout, raw, None, None, None, {}

    def prepare(self):
        if not os.path.isfile(os.path.join(self.checkout, "train_gpt2.c")):
            self.error = "no train_gpt2.c in %s" % self.checkout
            return False
        code, out = run(["make", "train_gpt2"], os.path.join(self.raw, "llmc-build.log"), cwd=self.checkout)
        self.binary = os.path.join(self.checkout, "train_gpt2")
        if code != 0 or not os.path.isfile(self.binary):
            self.error = "make train_gpt2 failed (exit %d), see raw/llmc-build.log" % code
            return False
        self.build = {"openmp": "OpenMP found" in out and "✗ OpenMP not found" not in out,
                      "command": next((l.strip() for l in out.splitlines() if "train_gpt2.c" in l and "-o" in l), "")}
        git = subprocess.run(["git", "-C", self.checkout, "rev-parse", "HEAD"], capture_output=True, text=True)
        if git.returncode == 0:
            self.build["commit"] = git.stdout.strip()
        else:   # not a git checkout: identify the source by its hash
            with open(os.path.join(self.checkout, "train_gpt2.c"), "rb") as f:
                self.build["commit"] = "sha256 " + hashlib.sha256(f.read()).hexdigest()[:12] + " (not a git checkout)"
        self.rundir = tempfile.mkdtemp(prefix="jgpt-llmc-")
        sys.path.insert(0, HERE)
        import llmc_checkpoint
        log("llm.c: writing a random GPT-2 124M checkpoint and token files to " + self.rundir)
        self.build["parameters"] = llmc_checkpoint.write_run_dir(self.rundir)
        return True

    def run(self, threads, steps, logfile):
        """Runs until `steps` training steps have printed their time, then stops the trainer."""
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        times, losses = [], []
        with open(logfile, "w") as f:
            # printf to a pipe is block-buffered: line-buffer it (stdbuf) so the steps arrive as they finish.
            cmd = (["stdbuf", "-oL"] if shutil.which("stdbuf") else []) + [self.binary]
            p = subprocess.Popen(cmd, cwd=self.rundir, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
            deadline = time.time() + 3600
            try:
                for line in p.stdout:
                    f.write(line)
                    mt = self.STEP.search(line)
                    if mt:
                        losses.append(mt.group(2))
                        times.append(float(mt.group(3)))
                        if len(times) >= steps:
                            break
                    if time.time() > deadline:
                        break
            finally:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)   # its own session: only the trainer we started
                p.wait()
        if len(times) < 2:
            return {}, "llm.c printed %d step times (exit %s), see %s" % (len(times), p.returncode, logfile)
        return {"llmc/step_ms": statistics.median(times[1:]), "llmc/steps_timed": len(times) - 1,
                "llmc/first_loss": losses[0]}, None

    def close(self):
        if self.rundir:
            shutil.rmtree(self.rundir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# the table

def med(rounds, key):
    vals = [r[key] for r in rounds if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def first(rounds, key):
    return next((r[key] for r in rounds if r.get(key) is not None), None)


def fmt(v, digits=None):
    if v is None:
        return "—"
    if digits is None:
        digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    return "{:,.{}f}".format(v, digits)


def fmt_ratio(ratio, of_bound):
    """Speed ratios as 1.23×, fractions of a bound as 45%."""
    if ratio is None:
        return "—"
    return "%.0f%%" % (100 * ratio) if of_bound else "%.2f×" % ratio


def verdict(ratio, target):
    if ratio is None or target is None:
        return ""
    if ratio >= target:
        return "met"
    return "missed (%.0f%% short)" % (100 * (1 - ratio / target))


def build_rows(jg, pt, lc, threads, peak, bw, llmc_note, cpp=None, ggufs=(), cpp_name="llama.cpp"):
    """Rows: (what, unit, jgpt, peer name, peer value, ratio, target text, verdict)."""
    rows = []

    def add(what, unit, j, peer, p, ratio, target=None, target_text=None):
        rows.append({"what": what, "unit": unit, "jgpt": j, "peer": peer, "peer_value": p, "ratio": ratio,
                     "of_bound": "bound" in peer or "peak" in peer,
                     "target": target_text or (("≥ %.2g×" % target) if target else ""),
                     "verdict": verdict(ratio, target)})

    def rate_ratio(a, b):
        return a / b if a and b else None

    def torch(key, name="PyTorch"):
        """The peer's name with the thread count its figure was best at."""
        n = pt.get("_threads/" + key)
        return "%s, %d thread%s" % (name, n, "s" if n > 1 else "") if n else name

    g_j, g_t = jg.get("gemm/NN_1024x1024x1024/gflops"), pt.get("gemm/NN_1024x1024x1024/gflops")
    add("sgemm NN 1024³", "GFLOP/s", g_j, torch("gemm/NN_1024x1024x1024/gflops", "OpenBLAS (PyTorch)"), g_t,
        rate_ratio(g_j, g_t), TARGETS["sgemm_vs_openblas"])
    add("sgemm NN 1024³", "GFLOP/s", g_j, "FP32 peak", peak, rate_ratio(g_j, peak), TARGETS["sgemm_vs_peak"],
        "≥ 70% of peak")

    for preset in PRESETS:
        tj, tt = jg.get("train/%s/tokens_per_s" % preset), pt.get("train/%s/tokens_per_s" % preset)
        fpt = jg.get("train/%s/flops_per_token" % preset) or pt.get("train/%s/flops_per_token" % preset)
        target = TARGETS["train_baby_vs_torch"] if preset == "baby" else None
        add("train step, %s" % preset, "tokens/s", tj, torch("train/%s/tokens_per_s" % preset), tt,
            rate_ratio(tj, tt), target)
        bound = peak * 1e9 / fpt if fpt else None
        if preset == "shakespeare-char":
            t = TARGETS["shakespeare_tokens_per_s"]
            add("train step, %s" % preset, "tokens/s", tj, "FP32 bound (MFU)", bound, rate_ratio(tj, bound),
                t / bound if bound else None, "≥ 1,600 tokens/s")
        else:
            add("train step, %s" % preset, "tokens/s", tj, "FP32 bound (MFU)", bound, rate_ratio(tj, bound))

    sj = jg.get("gpt2step/step_ms")
    fpt = jg.get("fwdbwd/gpt2-124M/flops_per_token")
    bound_ms = 1000.0 * fpt * 256 / (peak * 1e9) if fpt else None
    add("train step, GPT-2 124M B4 T64", "ms", sj, "llm.c" + llmc_note, lc.get("llmc/step_ms"),
        (lc["llmc/step_ms"] / sj) if sj and lc.get("llmc/step_ms") else None, TARGETS["gpt2_step_vs_llmc"])
    add("train step, GPT-2 124M B4 T64", "ms", sj, "FP32 bound (MFU)", bound_ms,
        (bound_ms / sj) if sj and bound_ms else None)

    for model in DECODE_MODELS:
        dj, dt = jg.get("decode/%s/tok_per_s" % model), pt.get("decode/%s/tok_per_s" % model)
        label = "GPT-2 124M" if model == "gpt2" else "baby"
        add("decode (KV cache), %s" % label, "tok/s", dj, torch("decode/%s/tok_per_s" % model), dt, rate_ratio(dj, dt),
            TARGETS["decode_vs_torch"])
        if model == "gpt2":
            params = pt.get("decode/gpt2/params") or GPT2_PARAMS
            bound = bw * 1e9 / (4.0 * params)
            add("decode (KV cache), %s" % label, "tok/s", dj, "bandwidth bound", bound, rate_ratio(dj, bound),
                TARGETS["decode_vs_bandwidth"], "≥ 80% of bound")
    for model in DECODE_MODELS:
        pj, ptt = jg.get("prefill/%s/tok_per_s" % model), pt.get("prefill/%s/tok_per_s" % model)
        label = "GPT-2 124M" if model == "gpt2" else "baby"
        add("prefill 64 tokens, %s" % label, "tok/s", pj, torch("prefill/%s/tok_per_s" % model), ptt,
            rate_ratio(pj, ptt))
    for gguf in ggufs:   # the same GGUF file in jgpt and in llama.cpp
        name = os.path.basename(gguf)
        for what, key in (("decode (KV cache)", "decode_tok_s"), ("prefill 64 tokens", "prefill_tok_s")):
            k = "gguf/%s/%s" % (name, key)
            add("%s, %s" % (what, name), "tok/s", jg.get(k), "%s, %d thread%s" % (cpp_name, threads, "s" if threads > 1 else ""),
                (cpp or {}).get(k), rate_ratio(jg.get(k), (cpp or {}).get(k)))
    return rows


def markdown(rows, gemm_rows, meta):
    out = ["# jgpt side by side", ""]
    out.append("Measured %s on %s (%d cores), %s; %d thread%s; median of %d round%s%s." % (
        meta["date"], meta["cpu"], meta["cores"], meta["jvm"], meta["threads"], "s" if meta["threads"] > 1 else "",
        meta["runs"], "s" if meta["runs"] > 1 else "", " (--quick: short smoke-test settings)" if meta["quick"] else ""))
    out.append("PyTorch %s with %s (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for it, OMP_WAIT_POLICY=PASSIVE; "
               "every PyTorch figure is the better of 1 and %d threads, the row says which). llm.c: %s." % (
        meta.get("torch") or "?", meta.get("blas") or "OpenBLAS (kernel unknown)", meta["threads"], meta["llmc"]))
    out.append("Bounds: FP32 peak %.0f GFLOP/s on %d thread%s (%s), memory read bandwidth %.1f GB/s (%s)." % (
        meta["peak"], meta["threads"], "s" if meta["threads"] > 1 else "",
        "measured: FMA loop, benchmarks/scripts/Limits.java" if meta["bounds_measured"] else "given",
        meta["bandwidth"], "measured: streaming sum of 1 GiB" if meta["bandwidth_measured"] else "given"))
    if meta["busy"]:
        out.append("")
        out.append("**Measured under load**: other processes used %.0f%% of the CPUs on average while these ran "
                   "(1-min load average up to %.1f); treat the figures as lower bounds." % (
                       100 * meta["other_cpu_frac"], meta["max_load"]))
    out += ["", "Ratio = speed ratio, **> 1× means jgpt is faster** (jgpt/peer for rates, peer/jgpt for times); "
                "against a bound (FP32 peak, memory bandwidth) it is the % of the bound jgpt reaches.", ""]
    out.append("| benchmark | unit | jgpt | against | its value | ratio | target | |")
    out.append("| --- | --- | ---: | --- | ---: | ---: | --- | --- |")
    for r in rows:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["what"], r["unit"], fmt(r["jgpt"]), r["peer"], fmt(r["peer_value"]),
            fmt_ratio(r["ratio"], r["of_bound"]), r["target"], r["verdict"]))
    out += ["", "sgemm at the models' shapes (GFLOP/s; `LAYOUT_MxKxN`, see GemmBench):", "",
            "| shape | jgpt | OpenBLAS | its threads | jgpt/OpenBLAS |", "| --- | ---: | ---: | ---: | ---: |"]
    for s, j, t, n in gemm_rows:
        out.append("| %s | %s | %s | %s | %s |" % (s, fmt(j), fmt(t), n or "", fmt(j / t, 2) + "×" if j and t else "—"))
    out += ["", "Notes:",
            "- GPT-2 124M train step for jgpt = forward+backward (ModelBench) + AdamW over its %s parameters "
            "(KernelBench.adamW, scaled linearly from 10M); llm.c's step is forward, zero-grad, backward and "
            "AdamW on its own data loader, median of its printed step times without the first." % format(GPT2_PARAMS, ","),
            "- Training tokens/s: TrainBench (a full `jgpt train` step: micro-batches, clipping, AdamW) vs "
            "torch_train.py (nanoGPT's step); MFU by nanoGPT's 6N + 12·L·d·T FLOPs per token.",
            "- Decode: single stream with a KV cache, random fp32 weights (DecodeBench vs torch_decode.py, same "
            "positions); the bandwidth bound reads every weight once per token.",
            ] + (["- GGUF rows: the same file decoded by jgpt (GgufDecode.java) and by %s through llamacpp_decode.mjs, wall "
                  "clock, one protocol; llama.cpp's build reports %s. Node-llama-cpp costs some milliseconds per "
                  "evaluation call, which for a small model is a large part of each token: read these as jgpt against "
                  "llama.cpp driven from Node, not against llama-bench." % (meta["llama_cpp"], meta.get("llama_cpp_cpu") or "?")]
                 if meta.get("llama_cpp") else []) + [
            "", "Reproduce: `%s`" % meta["command"]]
    if meta.get("errors"):
        out += ["", "Problems:"] + ["- " + e for e in meta["errors"]]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------------

def machine(java):
    cpu, family = "unknown CPU", None
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("CPU family:"):
                family = line.split(":", 1)[1].strip()
    except OSError:
        pass
    if family:
        cpu += " (family %s%s)" % (family, {"25": ", Zen 3/4", "26": ", Zen 5"}.get(family, "") if "AMD" in cpu else "")
    ver = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "java": ver[0] if ver else java,
            "git": git.stdout.strip() + (" (with uncommitted changes)" if dirty else ""),
            "kernel": os.uname().release}


def wait_for_quiet(max_load, minutes):
    """Waits (up to `minutes`) until the 1-minute load average drops below max_load."""
    deadline = time.time() + 60 * minutes
    while True:
        load = os.getloadavg()[0]
        if load < max_load:
            log("load %.2f < %.2f: starting" % (load, max_load))
            return True
        if time.time() >= deadline:
            log("load still %.2f after %d min: measuring anyway (the table will say so)" % (load, minutes))
            return False
        log("load %.2f >= %.2f: waiting" % (load, max_load))
        time.sleep(60)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every program (default: all cores)")
    ap.add_argument("--runs", type=int, help="rounds; the figures are medians over them (default 3, --quick 1)")
    ap.add_argument("--llmc", metavar="PATH", help="a local checkout of karpathy/llm.c to build and time")
    ap.add_argument("--llmc-steps", type=int, help="llm.c steps per round (default 11, --quick 3; the first is dropped)")
    ap.add_argument("--llama-cpp", metavar="PATH", help="a folder with node-llama-cpp installed (npm i node-llama-cpp): "
                    "time its llama.cpp against jgpt on the --gguf files")
    ap.add_argument("--gguf", metavar="FILE", action="append", default=[],
                    help="a GGUF file for the llama.cpp rows (repeatable; with --llama-cpp)")
    ap.add_argument("--quick", action="store_true", help="smoke test: short JMH iterations, 1 round")
    ap.add_argument("--out", help="output directory (default benchmarks/results/<date>)")
    ap.add_argument("--update-latest", action="store_true", help="also copy the table to benchmarks/results/latest.{md,json}")
    ap.add_argument("--peak-per-core", type=float, help="FP32 GFLOP/s per core (default: measured by Limits.java)")
    ap.add_argument("--bandwidth", type=float, help="memory bandwidth, GB/s (default: measured by Limits.java)")
    ap.add_argument("--idle-wait", type=float, default=600, help="longest wait (s) before each program for the "
                    "other processes to leave the CPUs idle (default 600)")
    ap.add_argument("--retries", type=int, default=1, help="re-runs of a program that ran while others used the CPUs")
    ap.add_argument("--budget-minutes", type=float, default=90, help="after this long, no more waiting or re-runs "
                    "(default 90)")
    ap.add_argument("--wait-for-load", type=float, metavar="L", help="first wait until the 1-min load average is below L")
    ap.add_argument("--wait-minutes", type=float, default=40, help="longest wait for --wait-for-load (default 40)")
    ap.add_argument("--skip-install", action="store_true", help="do not run install-peers.sh")
    a = ap.parse_args()
    # A plain kill (SIGTERM) still runs the clean-up in `finally` (temporary jar copy, llm.c run dir).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("compare: terminated"))
    runs = a.runs or (1 if a.quick else 3)
    llmc_steps = a.llmc_steps or (3 if a.quick else 11)
    command = "benchmarks/scripts/compare.sh " + " ".join(sys.argv[1:])

    missing = [p for p in (BENCH_JAR, CLI_JAR) if not os.path.isfile(p)]
    if missing:
        sys.exit("compare: %s not found. Build first (from %s): ./mvnw -B -ntp -DskipTests package" % (
            " and ".join(os.path.relpath(p, ROOT) for p in missing), ROOT))
    if a.llmc and not os.path.isdir(a.llmc):
        sys.exit("compare: --llmc %s is not a directory (a local checkout of karpathy/llm.c)" % a.llmc)
    nlc_version = None
    if a.llama_cpp or a.gguf:
        nlc_version = node_llama_cpp_version(a.llama_cpp or "")
        if not a.llama_cpp or not a.gguf:
            sys.exit("compare: --llama-cpp PATH and --gguf FILE go together (llama.cpp and jgpt on the same file)")
        if not nlc_version:
            sys.exit("compare: --llama-cpp %s: no node_modules/node-llama-cpp/package.json there "
                     "(install it: mkdir -p DIR && cd DIR && npm i node-llama-cpp@3.21.1)" % a.llama_cpp)
        for g in a.gguf:
            if not os.path.isfile(g):
                sys.exit("compare: --gguf %s: no such file" % g)
        if not shutil.which("node"):
            sys.exit("compare: --llama-cpp needs node on the PATH")
        a.gguf = [os.path.abspath(g) for g in a.gguf]
    java = find_java()
    if not a.skip_install:
        code = subprocess.run(["bash", os.path.join(HERE, "install-peers.sh")]).returncode
        if code != 0:
            sys.exit("compare: install-peers.sh failed (exit %d); PyTorch is needed for the comparison" % code)

    date = datetime.datetime.now().strftime("%Y-%m-%d")
    out = os.path.abspath(a.out or os.path.join(ROOT, "benchmarks", "results", date))
    raw = os.path.join(out, "raw")
    os.makedirs(raw, exist_ok=True)
    quiet = wait_for_quiet(a.wait_for_load, a.wait_minutes) if a.wait_for_load else None

    # Other work in this checkout may rebuild the jar while we measure: run a private copy.
    work = tempfile.mkdtemp(prefix="jgpt-compare-")
    jar = os.path.join(work, "benchmarks.jar")
    shutil.copy2(BENCH_JAR, jar)
    llmc = LlmC(os.path.abspath(a.llmc), raw) if a.llmc else None
    errors, phases, rounds_j, rounds_t, rounds_l, rounds_m, rounds_c = [], [], [], [], [], [], []
    try:
        if llmc and not llmc.prepare():
            errors.append("llm.c: " + llmc.error)
            llmc = None
        budget_end = time.time() + 60 * a.budget_minutes
        for r in range(runs):
            def measure(name, fn):
                """Runs one program when the machine is quiet; again if others took CPU meanwhile."""
                best = None
                for attempt in range(1 + a.retries):
                    if attempt and time.time() > budget_end:
                        break   # out of time for re-runs: keep what we have (the table says it was busy)
                    wait_until_idle(max(0.0, min(a.idle_wait, budget_end - time.time())))
                    log("round %d of %d: %s%s" % (r + 1, runs, name, " (again: the machine was busy)" if attempt else ""))
                    with Phase("%s round %d" % (name, r + 1)) as ph:
                        m, err = fn()
                    ph.record["attempt"] = attempt + 1
                    phases.append(ph.record)
                    if best is None or ph.record["other_cpu_frac"] < best[2]["other_cpu_frac"]:
                        best = (m, err, ph.record)
                    if ph.record["other_cpu_frac"] <= BUSY or err:
                        break
                best[2]["kept"] = True
                if best[1]:
                    errors.append(best[1])
                return best[0]

            rounds_j.append(measure("jgpt (JMH)", lambda: jmh_round(java, jar, a.threads, a.quick, raw, r)))
            c = {}
            for gi, g in enumerate(a.gguf):   # jgpt and llama.cpp in turn, file by file (--gguf comes with --llama-cpp)
                secs = 2 if a.quick else 10
                rounds_j[-1].update(measure("jgpt %s" % os.path.basename(g), lambda: jgpt_gguf(
                    java, jar, g, a.threads, secs, os.path.join(raw, "gguf-jgpt-%d-r%d.log" % (gi, r)))))
                c.update(measure("llama.cpp %s" % os.path.basename(g), lambda: llamacpp_gguf(
                    a.llama_cpp, g, a.threads, secs, os.path.join(raw, "gguf-llamacpp-%d-r%d.log" % (gi, r)))))
            rounds_c.append(c)
            t = {}
            # Every PyTorch figure is the better of 1 and N threads (on a 2-core machine, one thread often wins).
            t.update(measure("PyTorch sgemm", lambda: best_of_threads(lambda n: torch_sgemm(
                n, a.quick, os.path.join(raw, "torch-sgemm-%dt-r%d.log" % (n, r))), a.threads)))
            for preset in PRESETS:
                t.update(measure("PyTorch train %s" % preset, lambda p=preset: best_of_threads(lambda n: torch_train(
                    n, p, a.quick, os.path.join(raw, "torch-train-%s-%dt-r%d.log" % (p, n, r))), a.threads)))
            t.update(measure("PyTorch decode", lambda: best_of_threads(lambda n: torch_decode(
                n, a.quick, os.path.join(raw, "torch-decode-%dt-r%d.log" % (n, r))), a.threads)))
            rounds_t.append(t)
            if llmc:
                rounds_l.append(measure("llm.c (%d steps)" % llmc_steps,
                                        lambda: llmc.run(a.threads, llmc_steps, os.path.join(raw, "llmc-r%d.log" % r))))
            rounds_m.append(measure("machine limits (Limits.java)", lambda: limits(java, jar, a.threads, os.path.join(raw, "limits-r%d.log" % r))))
    finally:
        if llmc:
            llmc.close()
        shutil.rmtree(work, ignore_errors=True)

    keys_j = sorted({k for r in rounds_j for k in r if not k.startswith("_")})
    keys_t = sorted({k for r in rounds_t for k in r if not k.startswith("_")})
    jg = {k: med(rounds_j, k) for k in keys_j}
    pt = {k: med(rounds_t, k) for k in keys_t}
    # The thread count each PyTorch figure was best at (the most frequent over the rounds).
    for k in keys_t:
        ts = [r["_threads/" + k] for r in rounds_t if "_threads/" + k in r]
        if ts:
            pt["_threads/" + k] = max(sorted(set(ts)), key=ts.count)
    lc = {"llmc/step_ms": med(rounds_l, "llmc/step_ms")} if rounds_l else {}
    cpp = {k: med(rounds_c, k) for k in sorted({k for r in rounds_c for k in r if not k.startswith("_")})}
    cpp_name = "llama.cpp (node-llama-cpp %s)" % nlc_version if a.llama_cpp else None
    # Bounds: the best the machine showed (Limits.java, max over rounds: load only lowers it) unless given.
    m_peak = max((m["peak_gflops"] for m in rounds_m if m.get("peak_gflops")), default=None)
    m_bw = max((m["read_gbps"] for m in rounds_m if m.get("read_gbps")), default=None)
    peak = a.peak_per_core * a.threads if a.peak_per_core else (m_peak or 116.0 * a.threads)
    bandwidth = a.bandwidth or m_bw or 30.0
    if a.llmc is None:
        llmc_note, llmc_meta = " (not supplied)", "not supplied (--llmc PATH to a local checkout)"
    elif llmc is None:
        llmc_note, llmc_meta = " (failed)", "failed: " + "; ".join(e for e in errors if e.startswith("llm.c"))
    else:
        b = llmc.build
        llmc_note = ""
        llmc_meta = "train_gpt2.c at %s, %s, OMP_NUM_THREADS=%d, %d timed steps per round" % (
            b.get("commit"), "OpenMP" if b.get("openmp") else "NO OpenMP", a.threads, llmc_steps - 1)
    rows = build_rows(jg, pt, lc, a.threads, peak, bandwidth, llmc_note, cpp, a.gguf, cpp_name)
    gemm_rows = [(s, jg.get("gemm/%s/gflops" % s), pt.get("gemm/%s/gflops" % s), pt.get("_threads/gemm/%s/gflops" % s))
                 for s in GEMM_SHAPES]
    measured = [p for p in phases if p.get("kept") and p["wall_s"] > 5]
    other = statistics.mean(p["other_cpu_frac"] for p in measured) if measured else 0.0
    max_load = max((p["load1_at_start"] for p in phases), default=0.0)
    mach = machine(java)
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "cpu": mach["cpu"], "cores": mach["cores"],
            "jvm": first(rounds_j, "_jvm") or mach["java"], "threads": a.threads, "runs": runs, "quick": a.quick,
            "torch": first(rounds_t, "_torch"), "blas": first(rounds_t, "_blas"), "llmc": llmc_meta,
            "peak": peak, "bandwidth": bandwidth, "bounds_measured": not a.peak_per_core and m_peak is not None,
            "bandwidth_measured": not a.bandwidth and m_bw is not None, "limits": rounds_m, "other_cpu_frac": other,
            "max_load": max_load, "busy": other > BUSY or quiet is False, "command": command, "errors": errors,
            "git": mach["git"], "linux": mach["kernel"], "llama_cpp": cpp_name,
            "llama_cpp_cpu": first(rounds_c, "_system_info")}
    md = markdown(rows, gemm_rows, meta)
    doc = {"meta": meta, "rows": rows,
           "gemm": [{"shape": s, "jgpt_gflops": j, "openblas_gflops": t, "openblas_threads": n} for s, j, t, n in gemm_rows],
           "medians": {"jgpt": jg, "torch": pt, "llmc": lc, "llama.cpp": cpp}, "llmc_build": llmc.build if llmc else None,
           "rounds": {"jgpt": rounds_j, "torch": rounds_t, "llmc": rounds_l, "limits": rounds_m, "llama.cpp": rounds_c},
           "phases": phases}
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out, "compare.json"), "w") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    if a.update_latest:
        res = os.path.join(ROOT, "benchmarks", "results")
        shutil.copy2(os.path.join(out, "compare.md"), os.path.join(res, "latest.md"))
        shutil.copy2(os.path.join(out, "compare.json"), os.path.join(res, "latest.json"))
    print()
    print(md)
    log("written: %s/compare.md and compare.json (raw logs in %s)" % (out, raw))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
