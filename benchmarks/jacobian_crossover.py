"""Where forward mode beats reverse mode: full Jacobians of f(x) = tanh(A @ x) by jacrev and jacfwd.

f maps n inputs to m outputs. `jacrev` runs one forward pass and m reverse passes (one per row),
`jacfwd` n forward passes (one per column), so reverse should win clearly at (n, m) = (1000, 10),
forward at (10, 1000), and (300, 300) shows the constant factors. PyTorch's `torch.func` is timed too
when an interpreter with torch is given (`--peers-python PATH` or the BENCH_PEERS_PYTHON variable).

    python benchmarks/jacobian_crossover.py [--peers-python PATH] [--json FILE]

Every library runs in its own process (`--worker LIB`), on the same float32 arrays, single-threaded by
default (`--threads`): with few cores shared with other work, multi-threaded figures swing by 10x. A
figure is the median of several samples after a warm-up; each sample times enough calls to last at
least 20 ms.
`main()` returns the results as a dict, so benchmarks/run.py can import this file and include them.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CASES = [(1000, 10), (10, 1000), (300, 300)]  # (n inputs, m outputs)
LIBS = {"autograd_lite": "autograd_lite", "torch": "torch"}  # library: module that must be importable


def data(n, m):
    """The same A (m x n) and x (n) in every process (the legacy RandomState stream is stable)."""
    rng = np.random.RandomState(n * 7919 + m)
    a = (rng.standard_normal((m, n)) / np.sqrt(n)).astype(np.float32)
    x = rng.standard_normal(n).astype(np.float32)
    return a, x


def seconds_per_call(fn, samples=9, warmup_s=0.2, min_sample_s=0.02):
    """Median over `samples` of the mean time of one call, after `warmup_s` seconds of calls."""
    end = time.perf_counter() + warmup_s
    calls = 0
    while time.perf_counter() < end or calls < 2:
        fn()
        calls += 1
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    repeats = max(1, int(min_sample_s / once))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        times.append((time.perf_counter() - start) / repeats)
    return statistics.median(times)


def builders(lib):
    """{"jacrev": make(a, x) -> callable, "jacfwd": ...} for one library; each callable returns a numpy array."""
    if lib == "autograd_lite":
        import autograd_lite as ag
        from autograd_lite.func import jacfwd, jacrev

        def make(transform):
            def build(a, x):
                a_t, x_t = ag.tensor(a), ag.tensor(x)
                jac = transform(lambda v: ag.tanh(a_t @ v))
                return lambda: jac(x_t).numpy()
            return build

        return {"jacrev": make(jacrev), "jacfwd": make(jacfwd)}
    if lib == "torch":
        import torch
        from torch.func import jacfwd, jacrev

        def make(transform):
            def build(a, x):
                a_t, x_t = torch.from_numpy(a), torch.from_numpy(x)
                jac = transform(lambda v: torch.tanh(a_t @ v))
                return lambda: jac(x_t).numpy()
            return build

        return {"jacrev": make(jacrev), "jacfwd": make(jacfwd)}
    raise ValueError(f"unknown library {lib!r}")


def worker(lib, cases, samples, threads):
    """Time every case in this process: {"n,m": {"jacrev": ms, "jacfwd": ms, "check": |J| sum}}."""
    out = {"threads": threads}
    if lib == "torch" and threads:
        import torch

        torch.set_num_threads(threads)
    for n, m in cases:
        a, x = data(n, m)
        row = {}
        for name, build in builders(lib).items():
            call = build(a, x)
            jac = call()
            expected = (1 - np.tanh(a @ x) ** 2)[:, None] * a  # d tanh(Ax)/dx = diag(1 - y²) A
            row[name] = seconds_per_call(call, samples) * 1e3
            row[name + "_max_error"] = float(np.max(np.abs(jac - expected)))
        out[f"{n},{m}"] = row
    return out


def run_worker(lib, python, args):
    env = dict(os.environ)
    if not args.keep_openblas_env:  # as run.py: let numpy pick the kernel it would pick on an ordinary machine
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    cmd = [python, str(Path(__file__).resolve()), "--worker", lib, "--samples", str(args.samples),
           "--threads", str(args.threads)]
    proc = subprocess.run(cmd, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def has_module(python, module):
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=120, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def table(results):
    libs = [lib for lib in results if "error" not in results[lib]]
    head = f"{'(n, m)':>12} | " + " | ".join(f"{lib + ' ' + mode:>22}" for lib in libs for mode in ("jacrev", "jacfwd"))
    lines = [head, "-" * len(head)]
    for n, m in CASES:
        cells = []
        for lib in libs:
            row = results[lib][f"{n},{m}"]
            for mode in ("jacrev", "jacfwd"):
                cells.append(f"{row[mode]:>19.3f} ms")
        winner = {lib: "rev" if results[lib][f"{n},{m}"]["jacrev"] < results[lib][f"{n},{m}"]["jacfwd"] else "fwd"
                  for lib in libs}
        lines.append(f"{f'({n}, {m})':>12} | " + " | ".join(cells) + "   faster: " +
                     ", ".join(f"{lib} {w}" for lib, w in winner.items()))
    return "\n".join(lines)


def main(argv=()):
    """Run the benchmark, print a table, return {"autograd_lite": {...}, "torch": {...}, "cases": [...]}."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--peers-python", default=os.environ.get("BENCH_PEERS_PYTHON"),
                   help="an interpreter with torch installed (default: $BENCH_PEERS_PYTHON)")
    p.add_argument("--samples", type=int, default=9)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS / PyTorch threads per worker (default 1: stable figures on a shared machine; 0 = default)")
    p.add_argument("--keep-openblas-env", action="store_true", help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, CASES, args.samples, args.threads)))
        return None

    results = {"autograd_lite": run_worker("autograd_lite", sys.executable, args)}
    for python in filter(None, [sys.executable, args.peers_python]):
        if has_module(python, "torch"):
            results["torch"] = run_worker("torch", python, args)
            break
    for lib, res in results.items():
        if "error" in res:
            print(f"{lib}: failed: {res['error']}")
    threads = f"{args.threads} thread{'s' if args.threads > 1 else ''}" if args.threads else "default threads"
    print(f"Full Jacobian of tanh(A @ x), A is m x n, float32 (median ms per Jacobian, {threads})")
    print(table(results))
    results["cases"] = [list(c) for c in CASES]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
