"""The source notebook's code cells, run unchanged with `torch` bound to autograd_lite.

The cells and their recorded outputs are read from a verbatim copy of the source
(tests/data/autograd_tutorial_cells.txt). Printed output must match the recording, with memory
addresses masked; random values (w and b) are checked against the gradient derived by hand instead.
"""
import contextlib
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_lite

SOURCE = Path(__file__).parent / "data" / "autograd_tutorial_cells.txt"


def source_cells():
    """[(code, recorded_output)] for each cell: the output is the text after the cell's last blank line."""
    blocks = re.split(r"^In \[[^\]]*\]:\n", SOURCE.read_text(), flags=re.M)[1:]
    cells = []
    for block in blocks:
        block = block.rstrip("\n")
        code, _, tail = block.rpartition("\n\n")
        if all(line.startswith("#") for line in tail.splitlines()):
            code, tail = block, ""
        cells.append((code.strip("\n"), tail.strip("\n")))
    return cells


def mask(text):
    return re.sub(r"0x[0-9a-f]+", "0xADDRESS", text)


@pytest.fixture
def torch_is_autograd_lite(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", autograd_lite)


def run(code, namespace):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<source cell>", "exec"), namespace)
    return out.getvalue().rstrip("\n")


def test_source_has_the_cells_we_expect():
    cells = source_cells()
    assert len(cells) == 5
    assert cells[1][1].startswith("Gradient function for z:")
    assert cells[4][1].startswith("First call")


def test_every_cell_runs_unchanged_and_prints_what_pytorch_printed(torch_is_autograd_lite):
    intro, graph, backward, no_grad, jacobian = source_cells()
    ns = {}
    assert run(intro[0], ns) == ""

    # Computational graph: the grad_fn reprs, addresses aside
    assert mask(run(graph[0], ns)) == mask(graph[1])

    # Backward: the first run prints w.grad and b.grad, which equal the gradient derived by hand
    printed = run(backward[0], ns)
    x, y, w, b = (ns[k].detach().numpy().astype(np.float64) for k in "xywb")
    z = x @ w + b
    dz = (1 / (1 + np.exp(-z)) - y) / 3  # d mean(BCE(sigmoid(z), y)) / dz
    np.testing.assert_allclose(ns["w"].grad.numpy(), np.outer(x, dz), rtol=1e-5)
    np.testing.assert_allclose(ns["b"].grad.numpy(), dz, rtol=1e-5)
    assert printed == f"{ns['w'].grad}\n{ns['b'].grad}"
    # ... and running the cell again raises exactly the recorded error
    kind, message = backward[1].split(": ", 1)
    before = ns["w"].grad.numpy().copy()
    with pytest.raises(RuntimeError) as err:
        run(backward[0], ns)
    assert kind == "RuntimeError" and str(err.value) == message
    np.testing.assert_array_equal(ns["w"].grad.numpy(), before)  # the failed call changed nothing

    # no_grad / detach: True, False, False
    assert run(no_grad[0], ns) == no_grad[1] == "True\nFalse\nFalse"

    # Jacobian-vector products: the three matrices, character for character
    assert run(jacobian[0], ns) == jacobian[1]


def test_repr_of_the_loss_names_the_pytorch_node(torch_is_autograd_lite):
    ns = {}
    cells = source_cells()
    run(cells[1][0], ns)
    assert re.fullmatch(r"tensor\(\d\.\d{4}, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>\)", repr(ns["loss"]))
    names = [fn.name() if fn is not None else None for fn, _ in ns["z"].grad_fn.next_functions]
    assert names == ["SqueezeBackward4", "torch::autograd::AccumulateGrad"]  # PyTorch's names
