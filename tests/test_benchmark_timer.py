"""autograd_lite.utils.benchmark: Timer and Measurement, the part of torch.utils.benchmark tutorials use."""
import re

import pytest

import autograd_lite as torch
from autograd_lite.utils.benchmark import Measurement, Timer, select_unit


def test_timer_runs_the_statement_with_its_globals():
    calls = []
    m = Timer(stmt="f()", globals={"f": lambda: calls.append(1)}).timeit(7)
    assert len(calls) == 8                          # one warm-up run, then 7 timed
    assert m.number_per_run == 7 and len(m.times) == 1 and m.times[0] > 0
    assert m.mean == m.median == m.times[0]


def test_measurement_prints_as_pytorch_does():
    text = repr(Measurement(500, [0.5], "jacrev(f)(x)"))
    lines = text.splitlines()
    assert re.fullmatch(r"<autograd_lite\.utils\.benchmark\.Measurement object at 0x[0-9a-f]+>", lines[0])
    assert lines[1:] == ["jacrev(f)(x)", "  1.00 ms", "  1 measurement, 500 runs , 1 thread"]
    several = repr(Measurement(10, [1e-5, 2e-5, 3e-5], "g()", label="L", num_threads=2)).splitlines()
    assert several[1:] == ["L", "g()", "  Median: 2.00 us", "  3 measurements, 10 runs per measurement, 2 threads"]


@pytest.mark.parametrize("t, unit", [(3e-9, "ns"), (2.5e-6, "us"), (4e-3, "ms"), (2.0, "s"), (999e-6, "us")])
def test_units_are_chosen_for_the_size(t, unit):
    assert select_unit(t)[0] == unit


def test_a_callable_stmt_is_refused_as_in_pytorch():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        Timer(stmt=lambda: None)


def test_reachable_as_torch_utils_benchmark():
    assert torch.utils.benchmark.Timer is Timer
