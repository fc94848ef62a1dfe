"""The benchmark workloads compute what they claim: autograd_lite's first step agrees with the numpy
floor written by hand (loss and a gradient), so `make bench` compares like with like. No timing here."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads


def _check(step):
    loss, grad = step()
    return workloads._number(loss), workloads._number(grad)


@pytest.mark.parametrize("name", list(workloads.WORKLOADS))
def test_autograd_lite_and_the_numpy_floor_compute_the_same_step(name):
    lite_loss, lite_grad = _check(workloads.build_autograd_lite(name))
    floor_loss, floor_grad = _check(workloads.build_floor(name))
    rtol = 1e-4 if name in ("W2", "W3") else 1e-9  # float32 workloads sum in a different order
    np.testing.assert_allclose(lite_loss, floor_loss, rtol=rtol)
    np.testing.assert_allclose(lite_grad, floor_grad, rtol=rtol)


def test_the_sgd_step_changes_the_parameters_like_the_floor():
    lite, floor = workloads.build_autograd_lite("W2t"), workloads.build_floor("W2t")
    for _ in range(3):
        lite_loss, _ = _check(lite)
        floor_loss, _ = _check(floor)
    np.testing.assert_allclose(lite_loss, floor_loss, rtol=1e-9)


@pytest.mark.parametrize("lib", ["floor", "autograd_lite"])
def test_the_chain_workload_gives_the_closed_form_value_and_gradient(lib):
    value, grad = workloads.W6[lib](2_000)
    c, d = workloads.W6_FACTOR, workloads.W6_SHIFT
    np.testing.assert_allclose(value, c**2_000 + d * (c**2_000 - 1) / (c - 1), rtol=1e-9)
    np.testing.assert_allclose(grad, c**2_000, rtol=1e-9)


@pytest.mark.parametrize("name", workloads.COMPILED)
def test_the_compiled_steps_compute_what_the_floor_computes(name):
    compiled, floor = workloads.build_compiled(name), workloads.build_floor(name)
    for _ in range(2 if name == "W2t" else 1):  # W2t: the SGD update too
        c_loss, c_grad = _check(compiled)
        f_loss, f_grad = _check(floor)
    np.testing.assert_allclose(c_loss, f_loss, rtol=1e-9)
    np.testing.assert_allclose(c_grad, f_grad, rtol=1e-9)
