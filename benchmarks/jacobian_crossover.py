"""Where forward mode beats reverse mode: full Jacobians of f(x) = tanh(A @ x) by jacrev and jacfwd (W5),
and the Hessian of PyTorch's tutorial function (W5h).

f maps n inputs to m outputs. `jacrev` pulls m rows back (one reverse pass, vmapped over the m basis
vectors), `jacfwd` pushes n columns forward (one forward pass carrying n tangents), so reverse should win
clearly at (n, m) = (1000, 10), forward at (10, 1000), and (300, 300) shows the constant factors. The
"floor" is the Jacobian in closed form, diag(1 - y²) A, written with numpy: no autodiff at all.

W5h: the Hessian of predict(x) = tanh(W x + b) with respect to its 512 inputs x (PyTorch's
"Jacobians, Hessians, hvp, vhp, and more" tutorial, at D = 512): `hessian` and `jacfwd(jacrev)`, a
512 x 512 x 512 result; the floor is its closed form, -2 y (1 - y²) W_ij W_ik.

PyTorch's `torch.func` is timed too when an interpreter with torch is given (`--peers-python PATH` or
the BENCH_PEERS_PYTHON variable).

    python benchmarks/jacobian_crossover.py [--peers-python PATH] [--json FILE]

Every library runs in its own process (`--worker LIB`), on the same float32 arrays, single-threaded by
default (`--threads`): with few cores shared with other work, multi-threaded figures swing by 10x. A
figure is the median of several samples after a warm-up; each sample times enough calls to last at
least 20 ms, in CPU time when single-threaded (as run.py: steadier on a busy machine), else wall time.
`--memory` also measures, with tracemalloc, the extra peak memory of jacrev at (300, 300) for several
`chunk_size`s (autograd_lite only).
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
HESSIAN_D = 512
LIBS = {"autograd_lite": "autograd_lite", "torch": "torch"}  # library: module that must be importable
CLOCK = time.perf_counter  # the worker sets time.process_time when single-threaded


def data(n, m):
    """The same A (m x n) and x (n) in every process (the legacy RandomState stream is stable)."""
    rng = np.random.RandomState(n * 7919 + m)
    a = (rng.standard_normal((m, n)) / np.sqrt(n)).astype(np.float32)
    x = rng.standard_normal(n).astype(np.float32)
    return a, x


def seconds_per_call(fn, samples=9, warmup_s=0.2, min_sample_s=0.02):
    """Median over `samples` of the mean time of one call, after `warmup_s` seconds of calls."""
    clock = CLOCK
    end = clock() + warmup_s
    calls = 0
    while clock() < end or calls < 2:
        fn()
        calls += 1
    start = clock()
    fn()
    once = max(clock() - start, 1e-7)
    repeats = max(1, int(min_sample_s / once))
    times = []
    for _ in range(samples):
        start = clock()
        for _ in range(repeats):
            fn()
        times.append((clock() - start) / repeats)
    return statistics.median(times)


def hessian_data(d):
    """PyTorch's tutorial function's weight (d x d), bias and input, as float32 arrays."""
    rng = np.random.RandomState(d)
    return [rng.standard_normal(shape).astype(np.float32) for shape in ((d, d), (d,), (d,))]


def hessian_closed_form(w, b, x):
    """d² tanh(Wx + b)_i / dx_j dx_k = -2 y_i (1 - y_i²) W_ij W_ik: the floor of W5h."""
    y = np.tanh(w @ x + b)
    return (-2 * y * (1 - y * y))[:, None, None] * w[:, :, None] * w[:, None, :]


def hessian_builders(lib):
    """{"hessian": make(w, b, x) -> callable, "jacfwd(jacrev)": ...}: Hessians of the tutorial's predict."""
    if lib == "floor":
        return {name: lambda w, b, x: (lambda: hessian_closed_form(w, b, x)) for name in ("hessian", "jacfwd(jacrev)")}
    if lib == "autograd_lite":
        import autograd_lite as ag
        from autograd_lite.func import hessian, jacfwd, jacrev
        wrap, functional = ag.tensor, ag.nn.functional
    else:
        import torch
        from torch.func import hessian, jacfwd, jacrev
        wrap, functional = torch.from_numpy, torch.nn.functional

    def make(transform):
        def build(w, b, x):
            w_t, b_t, x_t = wrap(w), wrap(b), wrap(x)
            h = transform(lambda w, b, x: functional.linear(x, w, b).tanh())
            return lambda: h(w_t, b_t, x_t).numpy()
        return build

    return {"hessian": make(lambda f: hessian(f, argnums=2)),
            "jacfwd(jacrev)": make(lambda f: jacfwd(jacrev(f, argnums=2), argnums=2))}


def builders(lib):
    """{"jacrev": make(a, x) -> callable, "jacfwd": ...} for one library; each callable returns a numpy array."""
    if lib == "floor":  # the closed form, diag(1 - y²) A, for both columns
        def closed_form(a, x):
            return lambda: (1 - np.tanh(a @ x) ** 2)[:, None] * a
        return {"jacrev": closed_form, "jacfwd": closed_form}
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


def worker(lib, cases, samples, threads, memory=False):
    """Time every case in this process: {"n,m": {"jacrev": ms, "jacfwd": ms, "jacrev_max_error": ...}, "hessian":
    {"hessian": ms, "jacfwd(jacrev)": ms, ...}} (and, with `memory`, jacrev's extra peak MB per chunk_size)."""
    global CLOCK
    out = {"threads": threads}
    if threads == 1:
        CLOCK = time.process_time
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
    w, b, x = hessian_data(HESSIAN_D)
    expected, row = hessian_closed_form(w, b, x), {}
    for name, build in hessian_builders(lib).items():
        call = build(w, b, x)
        row[name + "_max_error"] = float(np.max(np.abs(call() - expected)))
        row[name] = seconds_per_call(call, samples=3, warmup_s=0, min_sample_s=0) * 1e3
    out["hessian"] = row
    if memory and lib == "autograd_lite":
        out["memory"] = chunk_memory()
    return out


def chunk_memory(n=300, m=300, chunk_sizes=(None, 150, 75, 37)):
    """jacrev's peak memory beyond what existed before the call (MB, tracemalloc), for several chunk_sizes."""
    import tracemalloc

    import autograd_lite as ag
    from autograd_lite.func import jacrev

    a, x = data(n, m)
    a_t, x_t = ag.tensor(a), ag.tensor(x)
    result = {}
    for chunk_size in chunk_sizes:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        jacrev(lambda v: ag.tanh(a_t @ v), chunk_size=chunk_size)(x_t)
        result[str(chunk_size)] = (tracemalloc.get_traced_memory()[1] - base) / 1e6
        tracemalloc.stop()
    result["jacobian_mb"] = n * m * 4 / 1e6
    return result


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
           "--threads", str(args.threads)] + (["--memory"] if args.memory else [])
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
    libs = [lib for lib in results if isinstance(results[lib], dict) and "error" not in results[lib]]
    head = f"{'(n, m)':>12} | " + " | ".join(f"{lib + ' ' + mode:>22}" for lib in libs for mode in ("jacrev", "jacfwd"))
    lines = [head, "-" * len(head)]
    for n, m in CASES:
        cells = []
        for lib in libs:
            row = results[lib][f"{n},{m}"]
            for mode in ("jacrev", "jacfwd"):
                cells.append(f"{row[mode]:>19.3f} ms")
        lines.append(f"{f'({n}, {m})':>12} | " + " | ".join(cells) + ratios(results, f"{n},{m}", ("jacrev", "jacfwd")))
    lines.append(f"Hessian of tanh(W x + b) over {HESSIAN_D} inputs (W5h; ms per Hessian):")
    for mode in ("hessian", "jacfwd(jacrev)"):
        cells = [f"{lib} {results[lib]['hessian'][mode]:.0f} ms" for lib in libs]
        lines.append(f"{mode:>16}: " + ", ".join(cells) + ratios(results, "hessian", (mode,)))
    memory = results.get("autograd_lite", {}).get("memory")
    if memory:
        sizes = ", ".join(f"chunk_size={k}: {v:.2f} MB" for k, v in memory.items() if k != "jacobian_mb")
        lines.append(f"jacrev at (300, 300), extra peak memory (tracemalloc; the Jacobian is "
                     f"{memory['jacobian_mb']:.2f} MB): {sizes}")
    return "\n".join(lines)


def ratios(results, key, modes):
    """autograd_lite's time over PyTorch's and over the floor's, for each mode."""
    lite = results.get("autograd_lite", {})
    if "error" in lite or key not in lite:
        return ""
    parts = []
    for mode in modes:
        for peer in ("torch", "floor"):
            peer_row = results.get(peer, {}).get(key) if isinstance(results.get(peer), dict) else None
            if peer_row and mode in peer_row:
                parts.append(f"{mode} {lite[key][mode] / peer_row[mode]:.2f}x {peer}")
    return "   lite: " + ", ".join(parts) if parts else ""


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
    p.add_argument("--memory", action="store_true", help="also measure jacrev's extra peak memory per chunk_size")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, CASES, args.samples, args.threads, args.memory)))
        return None

    results = {"autograd_lite": run_worker("autograd_lite", sys.executable, args),
               "floor": run_worker("floor", sys.executable, args)}
    for python in filter(None, [sys.executable, args.peers_python]):
        if has_module(python, "torch"):
            results["torch"] = run_worker("torch", python, args)
            break
    for lib, res in results.items():
        if "error" in res:
            print(f"{lib}: failed: {res['error']}")
    threads = f"{args.threads} thread{'s' if args.threads > 1 else ''}" if args.threads else "default threads"
    print(f"W5: full Jacobian of tanh(A @ x), A is m x n, float32 (median ms per Jacobian, {threads}; "
          "floor: closed form)")
    print(table(results))
    results["cases"] = [list(c) for c in CASES]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
