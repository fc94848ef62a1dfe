"""Measurements and pictures for notebooks 9 (memory and checkpointing) and 10 (what a gradient costs).

Not PyTorch's API: the course's teaching aids. Everything here runs on autograd_lite.

Memory (notebook 9)
    tanh_chain               a deep chain of tanh layers, the running example
    peak_extra_memory        peak memory of one call, above what was allocated before it (tracemalloc)
    count_calls              layers that count how often they run (recomputation made visible)
    memory_timeline          memory in use after each layer call and each layer's backward
    binomial_schedule        the fewest layer evaluations with s snapshots (revolve), and where to split
    binomial_checkpointing   forward + backward of a chain by that schedule (treeverse)
    schedule_theory          memory and evaluations that each schedule needs, in theory
    plot_depth, plot_timeline, plot_schedules

Cost (notebook 10)
    fd_errors                error of forward and central differences against the exact derivative
    greedy_colouring         columns that share no row get the same colour (Curtis-Powell-Reid)
    banded_pattern           the sparsity pattern of a banded matrix
    elimination_cost         multiplications to accumulate a DAG's Jacobian in a vertex elimination order
"""
import functools
import itertools
import time
import tracemalloc

import numpy as np
from matplotlib.ticker import NullFormatter

from .. import autograd, enable_grad, no_grad, tanh, tensor
from ..autograd import Function


# ---------------------------------------------------------------------------------------------------
# Notebook 9: memory
# ---------------------------------------------------------------------------------------------------
def tanh_chain(depth, width=64, batch=64, seed=0):
    """`depth` layers h -> tanh(h @ W_i) with float64 weights that require grad, and an input batch.
    Returns (weights, layers, x); each layer is a function of one tensor."""
    rng = np.random.default_rng(seed)
    weights = [tensor(rng.standard_normal((width, width)) / np.sqrt(width), requires_grad=True)
               for _ in range(depth)]
    layers = [_layer(w) for w in weights]
    return weights, layers, tensor(rng.standard_normal((batch, width)))


def _layer(w):
    def layer(h):
        return tanh(h @ w)
    return layer


def run_chain(layers, x):
    """The plain forward pass: the layers one after the other."""
    h = x
    for f in layers:
        h = f(h)
    return h


def peak_extra_memory(step, warmup=True):
    """Peak memory (bytes) allocated by `step()` above what was in use when it started, measured with
    tracemalloc. `warmup` runs it once first, so that buffers it keeps (the weights' .grad) already exist."""
    if warmup:
        step()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def count_calls(layers):
    """Wrap layers so that each call adds 1 to `counter[0]`; returns (wrapped layers, counter)."""
    counter = [0]

    def wrap(f):
        def counted(h):
            counter[0] += 1
            return f(h)
        return counted
    return [wrap(f) for f in layers], counter


class _Probe(Function):
    """Identity whose backward reports to `log`: the point where backward passes this layer's output."""

    @staticmethod
    def forward(ctx, h, log):
        ctx.log = log
        return h.view_as(h)

    @staticmethod
    def backward(ctx, grad):
        ctx.log("backward")
        return grad, None


def memory_timeline(layers, x, run, loss=lambda h: h.sum()):
    """Memory in use (MB above the start) after every layer call and every layer's backward, while
    `run(probed_layers, x)` computes the output and backward runs from `loss(output)`.

    Returns (megabytes, kinds): kinds[i] is "forward" (a layer ran, also when recomputed) or "backward".
    A first run, not traced, allocates the weights' .grad, so that the timeline shows the saved values only."""
    loss(run(layers, x)).backward()
    megabytes, kinds = [], []
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]

    def log(kind):
        megabytes.append((tracemalloc.get_traced_memory()[0] - base) / 1e6)
        kinds.append(kind)

    def probe(f):
        def probed(h):
            out = _Probe.apply(f(h), log)
            log("forward")
            return out
        return probed

    try:
        loss(run([probe(f) for f in layers], x)).backward()
    finally:
        tracemalloc.stop()
    return megabytes, kinds


@functools.lru_cache(maxsize=32)
def binomial_schedule(n, snapshots):
    """Dynamic programming for the binomial (revolve) schedule of a chain of `n` steps.

    evaluations[s][k]: the fewest step evaluations (taped or not) that reverse a chain of k steps, holding
    its input plus at most s more snapshots at a time; split[s][k]: how many steps to advance before
    storing the next snapshot. Reversing one step costs one evaluation; with no snapshot left, every step
    is reached again from the input (k (k + 1) / 2 evaluations). The tables are cached (read-only)."""
    big = np.iinfo(np.int64).max // 4
    cost = np.full((snapshots + 1, n + 1), big, dtype=np.int64)
    split = np.zeros((snapshots + 1, n + 1), dtype=np.int64)
    ks = np.arange(n + 1)
    cost[0] = ks * (ks + 1) // 2
    split[0] = np.maximum(ks - 1, 0)
    for s in range(1, snapshots + 1):
        cost[s, :2] = ks[:2]
        for k in range(2, n + 1):
            m = np.arange(1, k)
            total = m + cost[s - 1, k - m] + cost[s, m]
            best = int(np.argmin(total))
            cost[s, k], split[s, k] = total[best], m[best]
    cost.flags.writeable = split.flags.writeable = False
    return cost, split


def binomial_checkpointing(layers, x, snapshots, loss=lambda h: h.sum()):
    """Gradients of `loss(run_chain(layers, x))` into the weights' .grad (and x.grad), holding at most
    `snapshots` layer outputs besides x and one layer's saved values: the binomial schedule (treeverse).
    Returns the loss value (a float)."""
    steps = list(layers) + [loss]
    _, split = binomial_schedule(len(steps), snapshots)
    value = []

    def reverse(start, end, h_start, grad_box, s):
        # grad_box: a one-item list holding the gradient at `end`, popped where it is used, so that no
        # frame of the recursion keeps a gradient alive (each would cost one more layer output)
        if end - start == 1:
            with enable_grad():
                h = h_start.detach().requires_grad_(True)
                out = steps[start](h)
                if end == len(steps):
                    value.append(out.item())
                out.backward(grad_box.pop())
            return h.grad
        m = int(split[s, end - start])
        with no_grad():
            h_m = h_start
            for i in range(start, start + m):
                h_m = steps[i](h_m)
        box = [reverse(start + m, end, h_m, grad_box, max(s - 1, 0))]
        del h_m
        return reverse(start, start + m, h_start, box, s)

    grad_x = reverse(0, len(steps), x.detach(), [tensor(1.0, dtype=x.dtype)], snapshots)
    if x.requires_grad:
        autograd.backward(x, grad_x)
    return value[0]


def schedule_theory(n, schedule, k=None):
    """(memory in layer outputs held at the peak, layer evaluations / n) in theory, for a chain of n layers
    of which each saves one layer output (a tanh chain: tanh saves its output, the next product the same).

    schedule: "none"; "segments" (checkpoint_sequential with k segments; "every k-th layer" is n // k
    segments, "sqrt(N)" is k = sqrt(n)); "binomial" (k snapshots)."""
    if schedule == "none":
        return n, 1.0
    if schedule == "segments":
        size = n // k
        last = n - size * (k - 1)
        return (k - 1) + max(size, last), (n + size * (k - 1)) / n
    if schedule == "binomial":
        cost, _ = binomial_schedule(n + 1, max(k, 32))  # one cached table serves every k <= 32; the loss is
        # one more step, as binomial_checkpointing runs it
        return k + 2, (int(cost[k, n + 1]) - 1) / n
    raise ValueError(f"unknown schedule {schedule!r}")


def best_time(fn, repeat=3):
    """Best of `repeat` runs of fn(), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def plot_depth(ax, depths, reverse_mb, forward_mb):
    ax.plot(depths, reverse_mb, "o-", label="reverse mode: forward + backward")
    ax.plot(depths, forward_mb, "s-", label="forward mode: one JVP")
    ax.set_xlabel("depth (tanh layers)")
    ax.set_ylabel("peak extra memory (MB)")
    ax.legend()
    ax.set_title("The tape grows with depth; forward mode's memory does not")


def plot_timeline(ax, runs):
    """runs: {label: (megabytes, kinds)} from memory_timeline."""
    for label, (mb, kinds) in runs.items():
        ax.plot(range(len(mb)), mb, label=label)
    ax.set_xlabel("event (a layer ran forward, or backward passed it)")
    ax.set_ylabel("memory in use (MB)")
    ax.legend()


SCHEDULE_STYLE = {"none": ("o", "no checkpointing"), "every 4th": ("^", "every 4th layer"),
                  "sqrt(N)": ("s", "sqrt(N) segments"), "binomial s=4": ("D", "binomial, 4 snapshots"),
                  "binomial s=8": ("P", "binomial, 8 snapshots")}


def plot_schedules(ax, n, measured, theory, binomial_curve):
    """One chain length n: theory (open markers, the binomial schedule's curve over s) and measurements
    (filled markers). measured/theory: {schedule name: (memory in layer outputs, evaluations / n)}."""
    ax.plot(*zip(*binomial_curve), ":", color="grey", label="binomial, s = 1, 2, ... (theory)")
    for i, (name, (mem, evals)) in enumerate(theory.items()):
        marker, label = SCHEDULE_STYLE[name]
        ax.plot(mem, evals, marker, mfc="none", color=f"C{i}", markersize=10)
        if name in measured:
            ax.plot(*measured[name], marker, color=f"C{i}", label=label)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("peak memory (layer outputs)")
    ax.set_ylabel("layer evaluations / N")
    ax.set_title(f"N = {n}")


# ---------------------------------------------------------------------------------------------------
# Notebook 10: what a gradient costs
# ---------------------------------------------------------------------------------------------------
def fd_errors(f, df, x, steps):
    """|forward difference - f'(x)| and |central difference - f'(x)| for each step h (numpy floats)."""
    steps = np.asarray(steps, dtype=np.float64)
    exact = df(x)
    forward = np.abs((f(x + steps) - f(x)) / steps - exact)
    central = np.abs((f(x + steps) - f(x - steps)) / (2 * steps) - exact)
    return forward, central


def banded_pattern(n, lower=1, upper=1):
    """Boolean n x n pattern of a banded matrix: entry (i, j) may be non-zero when -lower <= j - i <= upper."""
    i, j = np.indices((n, n))
    return (j - i >= -lower) & (j - i <= upper)


def greedy_colouring(pattern):
    """Colour the columns of a sparsity pattern (rows x columns, booleans) so that two columns with a
    non-zero in the same row get different colours; greedily, column by column, the smallest colour free.
    Columns of one colour can be summed into one seed vector: one Jacobian-vector product per colour."""
    pattern = np.asarray(pattern, dtype=bool)
    colours = np.full(pattern.shape[1], -1, dtype=np.int64)
    for j in range(pattern.shape[1]):
        rows = pattern[:, j]
        taken = {int(c) for c in colours[np.flatnonzero(pattern[rows].any(axis=0))] if c >= 0}
        colours[j] = next(c for c in itertools.count() if c not in taken)
    return colours


def elimination_cost(edges, order):
    """Multiplications needed to accumulate the Jacobian of a linearized DAG by eliminating its
    intermediate vertices in `order` (vertex elimination, Griewank & Walther ch. 9).

    edges: {(u, v): partial derivative} with u -> v. Eliminating vertex k replaces every path i -> k -> j by
    an edge i -> j (adding to it if it exists): one multiplication per (predecessor, successor) pair.
    Returns (multiplications, the remaining edges: the Jacobian's entries from inputs to outputs)."""
    edges = dict(edges)
    mults = 0
    for k in order:
        preds = [u for (u, v) in edges if v == k]
        succs = [v for (u, v) in edges if u == k]
        for i in preds:
            for j in succs:
                mults += 1
                edges[(i, j)] = edges.get((i, j), 0.0) + edges[(i, k)] * edges[(k, j)]
        for i in preds:
            del edges[(i, k)]
        for j in succs:
            del edges[(k, j)]
    return mults, edges


def plot_fd_errors(ax, steps, forward, central, eps=np.finfo(np.float64).eps):
    ax.loglog(steps, forward, "o-", markersize=3, label="forward difference (f(x+h) - f(x)) / h")
    ax.loglog(steps, central, "s-", markersize=3, label="central difference (f(x+h) - f(x-h)) / 2h")
    ax.loglog(steps, steps / 2, ":", color="grey", label="truncation ~ h, h² (slopes 1 and 2)")
    ax.loglog(steps, steps ** 2 / 6, ":", color="grey")
    ax.loglog(steps, eps / steps, "--", color="black", label="rounding ~ eps / h")
    ax.set_ylim(1e-17, 1e1)
    ax.set_xlabel("step h")
    ax.set_ylabel("|error|")
    ax.legend(fontsize=8)


def symbolic_swell(depth, width=2):
    """Operation counts for a small tanh network of `depth` layers (`width` units, symbolic weights), with
    sympy: (f as an expression tree, df/dw as a tree, df/dw with common subexpressions shared, f shared).
    The derivative is taken with respect to the first layer's first weight."""
    import sympy as sp  # the course extra; the package itself needs numpy only

    x = sp.symbols(f"x0:{width}")
    h, first = list(x), None
    for layer in range(depth):
        w = sp.Matrix(width, width, lambda i, j, layer=layer: sp.Symbol(f"w{layer}_{i}{j}"))
        first = w[0, 0] if first is None else first
        h = [sp.tanh(sum(w[i, j] * h[j] for j in range(width))) for i in range(width)]
    f = sum(h)
    df = sp.diff(f, first)

    def shared(expr):
        definitions, (reduced,) = sp.cse(expr)
        return sum(sp.count_ops(e) for _, e in definitions) + sp.count_ops(reduced)
    return sp.count_ops(f), sp.count_ops(df), shared(df), shared(f)


def gradient_cost_ratio(f, args, repeat=7):
    """(time of f, time of f and its gradient, their ratio): the times are the best of `repeat` runs; the
    ratio is the median of the ratios of runs made back to back, which a busy moment of the machine
    (slowing one run of a pair) moves less than it moves either best time. `f(*args)` is a scalar tensor;
    the gradient is taken with respect to every arg by backward()."""
    def value_only():
        with no_grad():
            f(*args)

    def value_and_gradient():
        for a in args:
            a.grad = None
        f(*args).backward()

    value_only(), value_and_gradient()  # warm up
    pairs = [(best_time(value_only, 1), best_time(value_and_gradient, 1)) for _ in range(repeat)]
    t_f, t_both = min(p[0] for p in pairs), min(p[1] for p in pairs)
    return t_f, t_both, float(np.median([both / alone for alone, both in pairs]))


def plot_colouring(ax, pattern, colours, title):
    """The sparsity pattern, each non-zero coloured by the colour of its column."""
    image = np.where(pattern, np.asarray(colours)[None, :] + 1, 0).astype(float)
    image[image == 0] = np.nan
    ax.imshow(image, cmap="tab20", vmin=1, vmax=20, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel("column (input)")
    ax.set_ylabel("row (output)")


def random_dag(n_inputs, n_intermediate, n_outputs, seed=1, p=0.5):
    """A linearized DAG: {(u, v): partial derivative}, and the lists of input, intermediate and output
    vertices. Each intermediate vertex depends on earlier vertices (each with probability p); each
    output on some of the last three intermediates."""
    rng = np.random.default_rng(seed)
    inputs = [f"x{i}" for i in range(n_inputs)]
    mids = [f"v{i}" for i in range(n_intermediate)]
    outputs = [f"y{i}" for i in range(n_outputs)]
    earlier, edges = list(inputs), {}
    for v in mids:
        preds = [u for u in earlier if rng.random() < p] or [earlier[int(rng.integers(len(earlier)))]]
        for u in preds:
            edges[(u, v)] = float(rng.standard_normal())
        earlier.append(v)
    for y in outputs:
        for u in [u for u in mids[-3:] if rng.random() < 0.7] or [mids[-1]]:
            edges[(u, y)] = float(rng.standard_normal())
    return edges, inputs, mids, outputs


def draw_dag(ax, edges, inputs, mids, outputs):
    """Vertices in columns by their depth (longest path from an input), edges as arrows."""
    depth = {u: 0 for u in inputs}
    for v in mids:
        depth[v] = 1 + max(depth[u] for (u, w) in edges if w == v)
    last = max(depth[v] for v in mids) + 1
    for y in outputs:
        depth[y] = last
    columns = {}
    for v in inputs + mids + outputs:
        columns.setdefault(depth[v], []).append(v)
    where = {v: (d, i - (len(vs) - 1) / 2) for d, vs in columns.items() for i, v in enumerate(vs)}
    for (u, v) in edges:
        ax.annotate("", xy=where[v], xytext=where[u],
                    arrowprops=dict(arrowstyle="->", color="grey", shrinkA=11, shrinkB=11, lw=0.8))
    for v, (px, py) in where.items():
        colour = "#9ecae1" if v in inputs else "#fdae6b" if v in outputs else "#e5e5e5"
        ax.scatter([px], [py], s=500, color=colour, edgecolors="black", zorder=3)
        ax.text(px, py, v, ha="center", va="center", fontsize=9, zorder=4)
    ax.margins(0.08, 0.15)
    ax.set_axis_off()
