"""Benchmarks: autograd_lite against a hand-written numpy floor and, when installed, PyTorch, HIPS autograd
and MyGrad. `make bench` runs this file; `python benchmarks/run.py --help` lists the options.

How the figures are taken (see also workloads.py):

* Every library runs in its own worker process, so that libraries' thread pools (PyTorch's OpenMP,
  numpy's OpenBLAS) never compete inside one process. Peers can live in another interpreter
  (`--peers-python PATH` or the BENCH_PEERS_PYTHON variable); they are never a dependency.
* After a warm-up, samples of each workload are taken round-robin across the libraries (one sample of
  each library, then the next round), so that the machine's speed drifting during the run affects
  every library alike: the ratios in one run are what to compare. A figure is the median sample.
* W6 (a chain of 100,000 steps) runs once per fresh process, for its time and its extra memory (the
  process's peak resident set size minus its size just before the chain).
* Threads: every library runs single-threaded by default (OMP/OpenBLAS/MKL thread counts set to 1 in
  the workers). On a small machine (2 cores here) anything else running makes multi-threaded BLAS
  spin-wait and the figures swing wildly; one thread each keeps the comparison fair and stable, and
  what the engine itself costs (Python per op) does not depend on it. `--threads N` (0: each
  library's default) changes it.
* Clock: with one thread, a sample is the worker's CPU time (`time.process_time`), which on a busy
  machine is far steadier than wall time (time spent waiting for a core is not counted); with more
  threads it is wall time, since CPU time would add up the threads.
* numpy's BLAS: on some machines OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set to work around old
  OpenBLAS builds; they make a current numpy pick a slower kernel than the processor supports. The
  workers run without them by default (as numpy runs on an ordinary machine) and record the kernel
  they got; `--keep-openblas-env` keeps them.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import workloads

PEERS = ("torch", "autograd", "mygrad")
LIBS = ("floor", "autograd_lite", "compiled") + PEERS
LABELS = {"floor": "numpy floor", "autograd_lite": "autograd_lite", "compiled": "autograd_lite compiled", "torch": "PyTorch", "autograd": "HIPS autograd",
          "mygrad": "MyGrad"}

# workload: (the library the target is relative to, the largest ratio autograd_lite may have)
TARGETS = {"W1": ("torch", 0.5), "W2": ("torch", 0.8), "W2t": ("torch", 0.5), "W3": ("floor", 1.05),
           "W4": ("torch", 0.33), "W6": ("torch", 0.5)}
W6_MAX_EXTRA_MB = 150
# autograd_lite.compile (issue 21): at most this many times PyTorch eager and the numpy floor, and compiling
# (the first call: trace, check, generate) costs fewer than this many eager calls
COMPILED_TARGETS = {"torch": 0.5, "floor": 1.5, "compile_calls": 20}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="W1,W2,W2t,W3,W4,W6,jacobian",
                   help="comma-separated subset of W1,W2,W2t,W3,W4,W6,jacobian (default: all)")
    p.add_argument("--samples", type=int, default=15, help="timed samples per library and workload (median taken)")
    p.add_argument("--min-sample-ms", type=float, default=50.0, help="each sample repeats the step for at least this long")
    p.add_argument("--warmup-s", type=float, default=0.3, help="warm-up time per library and workload")
    p.add_argument("--w6-steps", type=int, default=100_000)
    p.add_argument("--w6-repeats", type=int, default=3, help="fresh processes per library for W6 (1 if a run is slow)")
    p.add_argument("--million", action="store_true", help="also check that autograd_lite runs W6 with 1,000,000 steps")
    p.add_argument("--peers-python", default=os.environ.get("BENCH_PEERS_PYTHON"),
                   help="an interpreter with torch / autograd / mygrad installed (default: $BENCH_PEERS_PYTHON)")
    p.add_argument("--no-peers", action="store_true", help="autograd_lite and the floor only")
    p.add_argument("--libs", default=None, help="comma-separated subset of " + ",".join(LIBS))
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/OpenMP threads per library (default 1; 0 leaves each library's default)")
    p.add_argument("--keep-openblas-env", action="store_true", help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    p.add_argument("--out", default=str(HERE / "results"), help="where the JSON and the plot go")
    p.add_argument("--no-plot", action="store_true")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------------
# Where each library runs
# ---------------------------------------------------------------------------------------------------
def child_env(args):
    env = dict(os.environ)
    if not args.keep_openblas_env:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    if args.threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def has_module(python, module, env):
    if python == sys.executable:
        return importlib.util.find_spec(module) is not None
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        return subprocess.run([python, "-c", code], env=env, capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def interpreters(args, env):
    """{library: interpreter path} for the libraries that can run here."""
    found = {"floor": sys.executable, "autograd_lite": sys.executable, "compiled": sys.executable}
    if not args.no_peers:
        for lib in PEERS:
            module = workloads.MODULES[lib]
            for python in filter(None, [sys.executable, args.peers_python]):
                if has_module(python, module, env):
                    found[lib] = python
                    break
    if args.libs:
        wanted = args.libs.split(",")
        found = {lib: py for lib, py in found.items() if lib in wanted}
    return found


class Worker:
    """One library's worker process (workloads.py --worker LIB), spoken to in JSON lines."""

    def __init__(self, lib, python, env):
        self.lib = lib
        self.proc = subprocess.Popen([python, str(HERE / "workloads.py"), "--worker", lib], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))

    def ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"the {self.lib} worker exited (code {self.proc.wait()})"}
        return json.loads(line)

    def close(self):
        try:
            self.ask(op="quit")
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------
def measure_workload(name, workers, args, clock):
    """Set every library up, then take samples round-robin; returns {lib: result dict}."""
    results, active = {}, []
    for w in workers:
        if w.lib == "compiled" and name not in workloads.COMPILED:
            continue
        reply = w.ask(op="setup", workload=name, min_sample_s=args.min_sample_ms / 1e3, warmup_s=args.warmup_s,
                      clock=clock)
        if "error" in reply:
            results[w.lib] = {"error": reply["error"]}
        else:
            results[w.lib] = {"n": reply["n"], "check": reply["check"], "first_s": reply.get("first_s"), "samples": []}
            active.append(w)
    for r in range(args.samples):
        order = active[r % len(active):] + active[:r % len(active)] if active else []
        for w in order:
            time.sleep(0.02)  # let the previous worker's BLAS / OpenMP threads stop spinning
            reply = w.ask(op="sample")
            if "error" in reply:
                results[w.lib] = {"error": reply["error"]}
                active.remove(w)
                continue
            results[w.lib]["samples"].append(reply["seconds"])
    for res in results.values():
        if res.get("samples"):
            res["median_s"] = statistics.median(res["samples"])
    return results


def run_w6(lib, python, steps, repeats, env, clock):
    runs = []
    for _ in range(repeats):
        try:
            proc = subprocess.run([python, str(HERE / "workloads.py"), "--w6", lib, str(steps), clock], env=env,
                                  cwd=str(ROOT), capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            return {"error": "timed out after 600 s"}
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            return {"error": tail[0]}
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        if runs[-1]["seconds"] > 8:  # slow libraries are measured once, to keep `make bench` short
            break
    return {"runs": runs, "median_s": statistics.median(r["seconds"] for r in runs),
            "extra_mb": statistics.median(r["extra_mb"] for r in runs), "ok": all(r["ok"] for r in runs),
            "check": runs[0]["check"]}


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": platform.platform(),
            "python": platform.python_version()}


# ---------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------
def fmt(value):
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2g}"


def check_mismatch(results):
    """Libraries whose first-step loss differs from the floor's (a different computation, not a timing)."""
    ref = results.get("floor", {}).get("check")
    bad = []
    if ref:
        for lib, res in results.items():
            c = res.get("check")
            if c and abs(c[0] - ref[0]) > 1e-3 * max(1.0, abs(ref[0])):
                bad.append(lib)
    return bad


def table(report, libs):
    peers = [lib for lib in PEERS if lib in libs]
    head = ["workload", "unit", "numpy floor", "autograd_lite"] + [LABELS[p] for p in peers]
    head += ["lite / floor"] + [f"lite / {LABELS[p]}" for p in peers] + ["target", "met"]
    rows = []
    for name, entry in report["workloads"].items():
        unit, scale, _ = workloads.WORKLOADS[name]
        res = entry["results"]
        value = {lib: res[lib]["median_s"] * scale if "median_s" in res.get(lib, {}) else None for lib in libs}
        rows.append(_row(name, unit, value, peers, entry, lambda v: fmt(v)))
    if "W6" in report:
        res = report["W6"]["results"]
        value = {lib: res[lib].get("median_s") if lib in res else None for lib in libs}
        mem = {lib: res[lib].get("extra_mb") if lib in res else None for lib in libs}
        show = {lib: (f"{fmt(value[lib])} (+{mem[lib]:.0f} MB)" if value[lib] is not None else "–") for lib in libs}
        rows.append(_row(f"W6 ({report['W6']['steps']:,} steps)", "s (extra memory)", value, peers, report["W6"],
                         None, show))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    compiled = compiled_table(report)
    return "\n".join(lines) + ("\n\n" + compiled if compiled else "")


def compiled_table(report):
    """autograd_lite.compile beside eager, PyTorch and the floor (same run), with issue 21's targets."""
    head = ["workload", "unit", "numpy floor", "autograd_lite", "compiled", "PyTorch", "compiled / floor",
            "compiled / PyTorch", "eager / compiled", "compile (eager calls)", "target", "met"]
    rows = []
    for name, entry in report["workloads"].items():
        res = entry["results"]
        if "median_s" not in res.get("compiled", {}):
            continue
        unit, scale, _ = workloads.WORKLOADS[name]
        t = {lib: res[lib]["median_s"] if "median_s" in res.get(lib, {}) else None for lib in LIBS}
        first, eager = res["compiled"].get("first_s"), t["autograd_lite"]
        calls = first / eager if first and eager else None

        def ratio(a, b, t=t):
            return f"{t[a] / t[b]:.2f}×" if t[a] and t[b] else "–"

        met = [t["compiled"] <= COMPILED_TARGETS["floor"] * t["floor"] if t["floor"] else None,
               t["compiled"] <= COMPILED_TARGETS["torch"] * t["torch"] if t["torch"] else None,
               calls < COMPILED_TARGETS["compile_calls"] if calls else None]
        text = (f"≤ {COMPILED_TARGETS['torch']}× PyTorch, ≤ {COMPILED_TARGETS['floor']}× floor, "
                f"compile < {COMPILED_TARGETS['compile_calls']} calls")
        verdict = "n/a" if None in met else "yes" if all(met) else "NO"
        rows.append([name, unit] + [fmt(t[lib] * scale) if t[lib] else "–" for lib in ("floor", "autograd_lite", "compiled", "torch")]
                    + [ratio("compiled", "floor"), ratio("compiled", "torch"), ratio("autograd_lite", "compiled"),
                       f"{calls:.1f}" if calls else "–", text, verdict])
        entry["compiled_target"] = {"text": text, "met": met, "compile_calls": calls}
    if not rows:
        return ""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _row(name, unit, value, peers, entry, show_fn, shown=None):
    shown = shown or {lib: show_fn(v) for lib, v in value.items()}
    lite = value.get("autograd_lite")

    def ratio(lib):
        other = value.get(lib)
        return f"{lite / other:.2f}×" if lite is not None and other else "–"

    target = entry.get("target")
    cells = [name, unit, shown.get("floor", "–"), shown.get("autograd_lite", "–")] + [shown.get(p, "–") for p in peers]
    cells += [ratio("floor")] + [ratio(p) for p in peers]
    if target:
        cells += [target["text"], {True: "yes", False: "NO", None: "n/a"}[target["met"]]]
    else:
        cells += ["", ""]
    if entry.get("mismatch"):
        cells[0] += " (result mismatch: " + ", ".join(entry["mismatch"]) + ")"
    return cells


def judge(name, values, extra_mb=None):
    """Whether autograd_lite meets the issue's target for this workload (None when the peer is missing)."""
    peer, limit = TARGETS[name]
    text = f"≤ {limit}× {LABELS[peer]}"
    lite, other = values.get("autograd_lite"), values.get(peer)
    met = None if lite is None or other is None else lite <= limit * other
    if name == "W6":
        text += f", ≤ +{W6_MAX_EXTRA_MB} MB"
        if extra_mb is not None:
            met = (met is not False) and extra_mb <= W6_MAX_EXTRA_MB if met is not None else None
    return {"text": text, "met": met, "ratio": (lite / other) if lite is not None and other else None}


def plot(report, libs, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = list(report["workloads"]) + (["W6"] if "W6" in report else [])
    shown = [lib for lib in libs if lib != "floor"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(1, len(shown))
    for i, lib in enumerate(shown):
        heights = []
        for name in names:
            res = report["W6"]["results"] if name == "W6" else report["workloads"][name]["results"]
            ref = "torch" if name == "W6" else "floor"  # W6 has no meaningful floor: relative to PyTorch
            a, b = res.get(lib, {}).get("median_s"), res.get(ref, {}).get("median_s")
            heights.append(a / b if a and b else 0)
        ax.bar([j + i * width for j in range(len(names))], heights, width, label=LABELS[lib])
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks([j + width * (len(shown) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels([n + ("\n(÷ PyTorch)" if n == "W6" else "") for n in names])
    ax.set_ylabel("time ÷ hand-written numpy (log scale; lower is faster)")
    ax.set_title("autograd_lite and peers, relative to the numpy floor (same run)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    wanted = args.workloads.split(",")
    env = child_env(args)
    where = interpreters(args, env)
    libs = [lib for lib in LIBS if lib in where]
    missing = [LABELS[p] for p in PEERS if p not in where]
    print(f"libraries: {', '.join(LABELS[lib] for lib in libs)}"
          + (f"  (not installed, skipped: {', '.join(missing)})" if missing else ""), flush=True)

    clock = "cpu" if args.threads == 1 else "wall"
    started = time.perf_counter()
    report = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "settings": {k: v for k, v in vars(args).items() if k not in ("out",)}, "workloads": {}}
    workers = [Worker(lib, where[lib], env) for lib in libs]
    try:
        report["environments"] = {w.lib: w.ask(op="env") for w in workers}
        for name in workloads.WORKLOADS:
            if name not in wanted:
                continue
            print(f"{name}: {workloads.WORKLOADS[name][2]} ...", flush=True)
            results = measure_workload(name, workers, args, clock)
            for lib, res in results.items():
                if "error" in res:
                    print(f"  {LABELS[lib]} failed: {res['error']}", flush=True)
            values = {lib: r.get("median_s") for lib, r in results.items()}
            report["workloads"][name] = {"unit": workloads.WORKLOADS[name][0], "results": results,
                                         "target": judge(name, values), "mismatch": check_mismatch(results)}
    finally:
        for w in workers:
            w.close()

    if "W6" in wanted:
        print(f"W6: chain x = x*{workloads.W6_FACTOR} + {workloads.W6_SHIFT}, {args.w6_steps:,} steps, then backward "
              "(fresh process per run) ...", flush=True)
        results = {}
        for lib in [lib for lib in libs if lib in workloads.W6]:  # (no compiled variant of W6)
            results[lib] = run_w6(lib, where[lib], args.w6_steps, args.w6_repeats, env, clock)
            if "error" in results[lib]:
                print(f"  {LABELS[lib]} failed: {results[lib]['error']}", flush=True)
        values = {lib: r.get("median_s") for lib, r in results.items()}
        lite_mb = results.get("autograd_lite", {}).get("extra_mb")
        report["W6"] = {"steps": args.w6_steps, "results": results, "target": judge("W6", values, lite_mb),
                        "mismatch": [lib for lib, r in results.items() if r.get("ok") is False]}
    if args.million:
        print("W6 with 1,000,000 steps (autograd_lite) ...", flush=True)
        report["W6_million"] = run_w6("autograd_lite", where["autograd_lite"], 1_000_000, 1, env, clock)
    if "jacobian" in wanted:
        report["jacobian"] = jacobian_crossover(args)

    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    text = table(report, libs)
    print()
    print(text)
    print(machine_line(report))
    if "W6_million" in report:
        m = report["W6_million"]
        print("W6 with 1,000,000 steps (autograd_lite): " + (
            f"{m['median_s']:.1f} s, +{m['extra_mb']:.0f} MB, result {'correct' if m['ok'] else 'WRONG'}"
            if "error" not in m else f"failed: {m['error']}"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report["table"] = text
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (out / f"bench-{stamp}.json", out / "latest.json"):
        path.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nsaved {out / 'latest.json'} (and bench-{stamp}.json)")
    if not args.no_plot:
        png = plot(report, libs, out / "bench.png")
        if png:
            print(f"saved {png}")
    print(f"took {report['elapsed_s']:.0f} s")
    return report


def machine_line(report):
    m = report["machine"]
    envs = report.get("environments", {})
    blas = next((e["blas"] for e in [envs.get("floor")] + list(envs.values()) if e and e.get("blas")), None)
    blas = [b for b in blas or () if b.get("internal_api") in ("openblas", "mkl", "blis")]
    kernel = (", ".join(f"{b['internal_api']} {b['architecture']}" for b in blas) + " kernel, as seen by a worker with "
              "threadpoolctl") if blas else "kernel not known (no threadpoolctl)"
    threads = report["settings"].get("threads")
    kernel += f"; {threads} thread{'s' if threads != 1 else ''} per library" if threads else "; default threads"
    versions = []
    for lib, info in report.get("environments", {}).items():
        mod = workloads.MODULES[lib]
        if mod in info and mod != "numpy":
            versions.append(f"{mod} {info[mod]}")
    np_version = (report.get("environments", {}).get("floor") or {}).get("numpy", "?")
    return (f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, numpy {np_version} "
            f"(BLAS: {kernel}); {'; '.join(versions)}")


def jacobian_crossover(args):
    """The forward-mode issue's Jacobian crossover benchmark, when benchmarks/jacobian_crossover.py exists."""
    if not (HERE / "jacobian_crossover.py").exists():
        return None
    print("\nJacobian crossover (jacobian_crossover.py) ...", flush=True)
    argv = ["--memory"]
    if args.peers_python and not args.no_peers:
        argv += ["--peers-python", args.peers_python]
    if args.keep_openblas_env:
        argv += ["--keep-openblas-env"]
    try:
        import jacobian_crossover

        return jacobian_crossover.main(argv)
    except Exception as e:  # noqa: BLE001 (a failing extra benchmark should not lose the table above)
        print(f"  failed: {type(e).__name__}: {e}")
        return {"error": f"{type(e).__name__}: {e}"}


if __name__ == "__main__":
    main()
