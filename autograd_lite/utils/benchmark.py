"""`Timer` and `Measurement`: the part of PyTorch's `torch.utils.benchmark` that its tutorials use.

    t = Timer(stmt="jacrev(f)(x)", globals=globals())
    m = t.timeit(500)           # runs stmt 500 times after one warm-up run
    print(m)                    # the median time per run, in PyTorch's format
    m.times, m.mean, m.median   # seconds per run

A `Measurement` prints as PyTorch's does (statement, time with a unit chosen for its size, how many runs),
so tutorials that print one run unchanged. Unlike PyTorch, there is one timing mode (`time.perf_counter`),
no `blocked_autorange`/`Compare`, and `num_threads` is only reported (numpy's threads are set outside).
"""
import math
import time
import timeit as _timeit

__all__ = ["Timer", "Measurement", "select_unit"]


def select_unit(t):
    """(unit, seconds per unit) that prints `t` seconds as a number of order 1, as PyTorch chooses."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s") if t > 0 else "s"
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


class Measurement:
    """Times of `number_per_run` runs of a statement; `times` are seconds per run."""

    def __init__(self, number_per_run, raw_times, stmt, label=None, sub_label=None, description=None,
                 num_threads=1):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.stmt, self.label, self.sub_label, self.description = stmt, label, sub_label, description
        self.num_threads = num_threads

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self):
        return sum(self.times) / len(self.times)

    @property
    def median(self):
        ordered = sorted(self.times)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    def _summary(self):
        lines = [self.label] if self.label else []
        if self.sub_label or self.description:
            lines.append(": ".join(s for s in (self.sub_label, self.description) if s))
        return "\n".join(lines + [self.stmt])

    def __repr__(self):
        n = len(self.raw_times)
        unit, scale = select_unit(self.median)
        runs = f"{self.number_per_run} runs {'per measurement,' if n > 1 else ','}"
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        return "\n".join([
            object.__repr__(self), self._summary(),
            f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}",
            f"  {n} measurement{'s' if n > 1 else ''}, {runs} {threads}",
        ])


class Timer:
    """Times a statement (a string, run with `globals`), after an optional `setup`, as PyTorch's Timer."""

    def __init__(self, stmt="pass", setup="pass", globals=None, label=None, sub_label=None, description=None,
                 num_threads=1):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self.stmt, self._label = stmt, (label, sub_label, description)
        self.num_threads = num_threads
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=time.perf_counter, globals=dict(globals or {}))

    def timeit(self, number=1000000):
        """Run the statement once to warm up, then `number` times; one Measurement of those runs."""
        self._timer.timeit(number=1)
        total = self._timer.timeit(number=number)
        return Measurement(number, [total], self.stmt, *self._label, num_threads=self.num_threads)
