"""The benchmark workloads, written once per library, and the worker that times them.

Each `build_<lib>(workload)` returns `step`, a callable doing one forward + backward (+ SGD update where
the workload has one) and returning `(loss, gradient of the first parameter)`; the first call's values
are compared across libraries so that every library is seen to compute the same thing.

Libraries: "floor" (forward and backward written by hand with numpy: the speed limit for a numpy
engine), "autograd_lite", and the optional peers "torch", "autograd" (HIPS) and "mygrad". This module
imports none of them at the top, so that it runs in any interpreter that has numpy: `run.py` starts one
worker per library (`python workloads.py --worker LIB`), possibly in another interpreter that has the
peers installed, and talks to it through JSON lines on stdin/stdout.
"""
import gc
import json
import math
import os
import sys
import time

import numpy as np

LR = 0.01

# workload: (unit, scale from seconds per step to the unit, description)
WORKLOADS = {
    "W1": ("µs per op", 1e6 / 1000, "1000 elementwise ops (add/mul/tanh) on float64[16], then sum and backward"),
    "W2": ("ms", 1e3, "MLP 784-256-10, tanh, softmax cross-entropy, batch 64, float32, one SGD step"),
    "W2t": ("ms", 1e3, "MLP 16-32-4, tanh, MSE, batch 8, float64, one SGD step"),
    "W3": ("ms", 1e3, "MLP 784-256-10 as W2, batch 4096"),
    "W4": ("µs", 1e6, "the source's graph: x@w+b (5->3), BCE-with-logits mean, backward, float64"),
}
W1_OPS = 1000


# ---------------------------------------------------------------------------------------------------
# Data: the same arrays in every library and interpreter (legacy RandomState streams are stable)
# ---------------------------------------------------------------------------------------------------
def w1_data():
    rng = np.random.RandomState(1)
    x = rng.standard_normal(16)
    a = 0.1 * rng.standard_normal(16)
    b = 1 + 0.1 * rng.standard_normal(16)
    return x, a, b


def mlp_data(workload):
    n_in, n_hidden, n_out, batch, dtype, classes = {
        "W2": (784, 256, 10, 64, np.float32, True),
        "W3": (784, 256, 10, 4096, np.float32, True),
        "W2t": (16, 32, 4, 8, np.float64, False),
    }[workload]
    rng = np.random.RandomState(0)
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w1 = (rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)).astype(dtype)
    b1 = (0.1 * rng.standard_normal(n_hidden)).astype(dtype)
    w2 = (rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)).astype(dtype)
    b2 = (0.1 * rng.standard_normal(n_out)).astype(dtype)
    if classes:
        y = rng.randint(0, n_out, batch).astype(np.int64)
    else:
        y = rng.standard_normal((batch, n_out)).astype(dtype)
    return x, y, [w1, b1, w2, b2]


def w4_data():
    rng = np.random.RandomState(2)
    return np.ones(5), np.zeros(3), rng.standard_normal((5, 3)), rng.standard_normal(3)


W6_FACTOR, W6_SHIFT = 1.0001, 0.0001


# ---------------------------------------------------------------------------------------------------
# The floor: forward and backward by hand, as someone writing numpy for this one model would
# ---------------------------------------------------------------------------------------------------
def build_floor(workload):
    if workload == "W1":
        x, a, b = w1_data()

        def step():
            outputs = []  # tanh outputs, which the backward pass needs
            y = x
            for _ in range(W1_OPS // 3):
                y = np.tanh((y + a) * b)
                outputs.append(y)
            y = y + a
            loss = y.sum()
            g = np.ones_like(y)
            for t in reversed(outputs):
                g = g * (1 - t * t)
                g = g * b
            return loss, g

        return step

    if workload in ("W2", "W3", "W2t"):
        x, y, params = mlp_data(workload)
        w1, b1, w2, b2 = params
        batch = x.shape[0]
        rows = np.arange(batch)

        def step():
            h = np.tanh(x @ w1 + b1)
            z = h @ w2 + b2
            if workload == "W2t":  # mean squared error
                diff = z - y
                loss = np.mean(diff * diff)
                dz = diff * (2 / diff.size)
            else:  # softmax cross-entropy
                shifted = z - z.max(1, keepdims=True)
                e = np.exp(shifted)
                s = e.sum(1, keepdims=True)
                loss = np.mean(np.log(s[:, 0]) - shifted[rows, y])
                dz = e / s
                dz[rows, y] -= 1
                dz /= batch
            gw2, gb2 = h.T @ dz, dz.sum(0)
            dh = dz @ w2.T
            dh *= 1 - h * h
            gw1, gb1 = x.T @ dh, dh.sum(0)
            for p, g in zip(params, (gw1, gb1, gw2, gb2)):
                p -= LR * g
            return loss, gw1

        return step

    if workload == "W4":
        x, y, w, b = w4_data()

        def step():
            z = x @ w + b
            loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
            dz = (1 / (1 + np.exp(-z)) - y) / z.size
            gw = np.outer(x, dz)  # (and b's gradient is dz itself)
            return loss, gw

        return step
    raise KeyError(workload)


def w6_floor(n):
    x = np.array(1.0)
    y = x
    for _ in range(n):  # nothing to save: d(y*c + d)/dy = c whatever y is
        y = y * W6_FACTOR + W6_SHIFT
    g = np.array(1.0)
    for _ in range(n):
        g = g * W6_FACTOR
    return float(y), float(g)


# ---------------------------------------------------------------------------------------------------
# autograd_lite and PyTorch: the same code, with `torch` bound to either module
# ---------------------------------------------------------------------------------------------------
def build_torchlike(torch, workload):
    F = torch.nn.functional
    if workload == "W1":
        x, a, b = (torch.from_numpy(v.copy()) for v in w1_data())
        x.requires_grad_(True)

        def step():
            y = x
            for _ in range(W1_OPS // 3):
                y = torch.tanh((y + a) * b)
            y = y + a
            loss = y.sum()
            loss.backward()
            g, x.grad = x.grad, None
            return loss, g

        return step

    if workload in ("W2", "W3", "W2t"):
        x, y, params = mlp_data(workload)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        params = [torch.from_numpy(p.copy()).requires_grad_(True) for p in params]
        w1, b1, w2, b2 = params

        def step():
            h = torch.tanh(x @ w1 + b1)
            z = h @ w2 + b2
            loss = F.mse_loss(z, y) if workload == "W2t" else F.cross_entropy(z, y)
            loss.backward()
            g = w1.grad
            with torch.no_grad():
                for p in params:
                    p -= LR * p.grad
                    p.grad = None
            return loss, g

        return step

    if workload == "W4":
        x, y, w, b = (torch.from_numpy(v.copy()) for v in w4_data())
        w.requires_grad_(True)
        b.requires_grad_(True)

        def step():
            z = torch.matmul(x, w) + b
            loss = F.binary_cross_entropy_with_logits(z, y)
            loss.backward()
            g, w.grad, b.grad = w.grad, None, None
            return loss, g

        return step
    raise KeyError(workload)


def w6_torchlike(torch, n):
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * W6_FACTOR + W6_SHIFT
    y.backward()
    return y.item(), x.grad.item()


def build_autograd_lite(workload):
    import autograd_lite

    return build_torchlike(autograd_lite, workload)


def build_torch(workload):
    import torch

    return build_torchlike(torch, workload)


# ---------------------------------------------------------------------------------------------------
# autograd_lite compiled: the step written functionally, `autograd_lite.compile` of its gradient
# ---------------------------------------------------------------------------------------------------
COMPILED = ("W1", "W2t", "W4")  # the workloads with a compiled variant


def compiled_step(workload):
    """(compiled step function, its arguments, the eager function it compiles): for `build_compiled` and for
    timing the compilation against eager calls."""
    import autograd_lite as torch
    from autograd_lite import func

    F = torch.nn.functional
    if workload == "W1":
        x, a, b = (torch.from_numpy(v.copy()) for v in w1_data())

        def loss(x, a, b):
            y = x
            for _ in range(W1_OPS // 3):
                y = torch.tanh((y + a) * b)
            return (y + a).sum()

        return func.grad_and_value(loss), (x, a, b)

    if workload == "W2t":
        x, y, params = mlp_data(workload)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        params = tuple(torch.from_numpy(p.copy()) for p in params)

        def loss(params, x, y):
            w1, b1, w2, b2 = params
            h = torch.tanh(x @ w1 + b1)
            return F.mse_loss(h @ w2 + b2, y)

        grad = func.grad_and_value(loss)

        def train_step(params, x, y):  # one SGD step, functionally: the new parameters are returned
            g, value = grad(params, x, y)
            return tuple(p - LR * gp for p, gp in zip(params, g)), value, g[0]

        return train_step, (params, x, y)

    if workload == "W4":
        x, y, w, b = (torch.from_numpy(v.copy()) for v in w4_data())

        def loss(w, b, x, y):
            return F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)

        return func.grad_and_value(loss, argnums=(0, 1)), (w, b, x, y)
    raise KeyError(f"{workload} has no compiled variant (those are {', '.join(COMPILED)})")


def build_compiled(workload):
    import autograd_lite

    fn, args = compiled_step(workload)
    step_fn = autograd_lite.compile(fn)
    if workload == "W2t":
        state = list(args)

        def step():
            params, loss, g = step_fn(*state)
            state[0] = params
            return loss, g

        return step

    def step():
        g, loss = step_fn(*args)
        return loss, g[0] if isinstance(g, tuple) else g

    return step


def _first_call(workload, clock=time.perf_counter):
    """Seconds of a fresh compiled step's first call: tracing, checking, generating the code."""
    step = build_compiled(workload)
    start = clock()
    step()
    return clock() - start


def compile_cost(workload, repeats=3):
    """Seconds to compile (the first call: trace, check, generate) and seconds per eager call of the same
    function: the issue asks compile < 20 eager calls."""
    import autograd_lite

    fn, args = compiled_step(workload)
    fn(*args)
    start = time.perf_counter()
    for _ in range(repeats):
        fn(*args)
    eager = (time.perf_counter() - start) / repeats
    costs = []
    for _ in range(repeats):
        start = time.perf_counter()
        autograd_lite.compile(fn)(*args)
        costs.append(time.perf_counter() - start)
    return min(costs), eager


# ---------------------------------------------------------------------------------------------------
# HIPS autograd: functional (value_and_grad of a loss function of the parameters)
# ---------------------------------------------------------------------------------------------------
def build_autograd(workload):
    import autograd.numpy as anp
    from autograd import value_and_grad

    if workload == "W1":
        x, a, b = w1_data()

        def f(x):
            y = x
            for _ in range(W1_OPS // 3):
                y = anp.tanh((y + a) * b)
            return anp.sum(y + a)

        vg = value_and_grad(f)
        return lambda: vg(x)

    if workload in ("W2", "W3", "W2t"):
        x, y, params = mlp_data(workload)
        rows = np.arange(x.shape[0])

        def loss_fn(params):
            w1, b1, w2, b2 = params
            h = anp.tanh(anp.dot(x, w1) + b1)
            z = anp.dot(h, w2) + b2
            if workload == "W2t":
                return anp.mean((z - y) ** 2)
            m = anp.max(z, axis=1, keepdims=True)
            logp = z - (m + anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True)))
            return -anp.mean(logp[rows, y])

        vg = value_and_grad(loss_fn)

        def step():
            loss, grads = vg(params)
            for p, g in zip(params, grads):
                p -= LR * g
            return loss, grads[0]

        return step

    if workload == "W4":
        x, y, w, b = w4_data()

        def loss_fn(w, b):
            z = anp.dot(x, w) + b
            return anp.mean(anp.maximum(z, 0) - z * y + anp.log1p(anp.exp(-anp.abs(z))))

        vg = value_and_grad(loss_fn)
        return lambda: vg(w, b)
    raise KeyError(workload)


def w6_autograd(n):
    from autograd import value_and_grad

    def f(x):
        y = x
        for _ in range(n):
            y = y * W6_FACTOR + W6_SHIFT
        return y

    return value_and_grad(f)(1.0)


# ---------------------------------------------------------------------------------------------------
# MyGrad
# ---------------------------------------------------------------------------------------------------
def build_mygrad(workload):
    import mygrad as mg
    from mygrad.nnet.losses import softmax_crossentropy

    if workload == "W1":
        x, a, b = w1_data()
        x = mg.tensor(x)

        def step():
            y = x
            for _ in range(W1_OPS // 3):
                y = mg.tanh((y + a) * b)
            loss = mg.sum(y + a)
            loss.backward()
            return loss, x.grad

        return step

    if workload in ("W2", "W3", "W2t"):
        x, y, params = mlp_data(workload)
        params = [mg.tensor(p) for p in params]
        w1, b1, w2, b2 = params

        def step():
            h = mg.tanh(mg.matmul(x, w1) + b1)
            z = mg.matmul(h, w2) + b2
            loss = mg.mean((z - y) ** 2) if workload == "W2t" else softmax_crossentropy(z, y)
            loss.backward()
            g = w1.grad
            for p in params:
                p.data -= LR * p.grad
            return loss, g

        return step

    if workload == "W4":
        x, y, w, b = w4_data()
        w, b = mg.tensor(w), mg.tensor(b)

        def step():
            z = mg.matmul(x, w) + b
            loss = mg.mean(mg.maximum(z, 0) - z * y + mg.log1p(mg.exp(-mg.abs(z))))
            loss.backward()
            return loss, w.grad

        return step
    raise KeyError(workload)


def w6_mygrad(n):
    import mygrad as mg

    x = mg.tensor(1.0)
    y = x
    for _ in range(n):
        y = y * W6_FACTOR + W6_SHIFT
    y.backward()
    return y.item(), float(x.grad)


BUILDERS = {"floor": build_floor, "autograd_lite": build_autograd_lite, "compiled": build_compiled, "torch": build_torch,
            "autograd": build_autograd, "mygrad": build_mygrad}
W6 = {"floor": w6_floor, "autograd_lite": lambda n: w6_torchlike(__import__("autograd_lite"), n),
      "torch": lambda n: w6_torchlike(__import__("torch"), n), "autograd": w6_autograd, "mygrad": w6_mygrad}
MODULES = {"floor": "numpy", "autograd_lite": "autograd_lite", "compiled": "autograd_lite", "torch": "torch", "autograd": "autograd",
           "mygrad": "mygrad"}


# ---------------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------------
def _number(value):
    """A float from whatever a library returns (tensor, 0-d array, box, Python number)."""
    for attr in ("detach",):
        if hasattr(value, attr):
            value = value.detach()
    if hasattr(value, "numpy"):
        value = value.numpy()
    if hasattr(value, "data") and not isinstance(value, np.ndarray):
        value = value.data
    return float(np.sum(np.asarray(value, dtype=np.float64)))


def environment(lib):
    """Versions and the BLAS kernel, as seen from this worker."""
    info = {"python": sys.version.split()[0], "numpy": np.__version__}
    module = MODULES[lib]
    if module != "numpy":
        info[module] = getattr(sys.modules.get(module) or __import__(module), "__version__", None)
        if info[module] is None:
            from importlib.metadata import version

            info[module] = version(module)
    if lib == "torch":
        import torch

        info["torch_threads"] = torch.get_num_threads()
    try:
        import threadpoolctl

        info["blas"] = [{k: p.get(k) for k in ("internal_api", "architecture", "num_threads")}
                        for p in threadpoolctl.threadpool_info()]
    except ImportError:
        info["blas"] = None
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE")
    return info


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def calibrate(step, min_sample_s, warmup_s, clock=time.perf_counter):
    """Warm up for `warmup_s` (at least 3 calls); return how many calls make one sample of `min_sample_s`."""
    start = clock()
    calls = 0
    while calls < 3 or clock() - start < warmup_s:
        step()
        calls += 1
    per_call = (clock() - start) / calls
    return max(1, math.ceil(min_sample_s / per_call))


def sample(step, n, clock=time.perf_counter):
    """Seconds per call of `step`, over `n` calls."""
    start = clock()
    for _ in range(n):
        step()
    return (clock() - start) / n


def serve(lib):
    """Answer JSON-line requests from run.py: setup a workload, take a sample, report the environment."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol
    step = n = None
    clock = time.perf_counter
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "env":
                reply = environment(lib)
            elif request["op"] == "setup":
                clock = CLOCKS[request["clock"]]
                step = BUILDERS[lib](request["workload"])
                start = clock()  # the samples' clock (CPU time when single-threaded), so that the two compare
                loss, grad = step()  # for "compiled", the first call traces and generates the code
                first_s = clock() - start
                if lib == "compiled":  # the cost of compiling: the best of three fresh compilations
                    first_s = min(first_s, *[_first_call(request["workload"], clock) for _ in range(2)])
                check = [_number(loss), _number(grad)]
                n = calibrate(step, request["min_sample_s"], request["warmup_s"], clock)
                gc.collect()
                reply = {"n": n, "check": check, "first_s": first_s}
            elif request["op"] == "sample":
                reply = {"seconds": sample(step, n, clock)}
            elif request["op"] == "quit":
                return
            else:
                raise ValueError(request["op"])
        except Exception as e:  # noqa: BLE001 (reported to run.py, which shows the library as failed here)
            reply = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")


def rss_mb():
    """The resident set size now, in MB (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


def peak_rss_mb():
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def w6(lib, n, clock="wall"):
    """Time the chain of `n` steps in this fresh process; extra memory = peak RSS - RSS before it."""
    run, clock = W6[lib], CLOCKS[clock]
    run(1000)  # imports and first-call caches
    gc.collect()
    before = rss_mb()
    if before is None:
        before = peak_rss_mb()
    start = clock()
    value, grad = run(n)
    seconds = clock() - start
    extra = peak_rss_mb() - before
    expected_value = W6_FACTOR ** n * (1 + W6_SHIFT / (W6_FACTOR - 1)) - W6_SHIFT / (W6_FACTOR - 1)
    ok = math.isclose(value, expected_value, rel_tol=1e-6) and math.isclose(grad, W6_FACTOR ** n, rel_tol=1e-6)
    return {"seconds": seconds, "extra_mb": extra, "check": [value, grad], "ok": ok}


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        serve(sys.argv[2])
    elif sys.argv[1] == "--w6":
        print(json.dumps(w6(sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])))
    else:
        sys.exit("usage: workloads.py --worker LIB | --w6 LIB STEPS [cpu|wall]")
