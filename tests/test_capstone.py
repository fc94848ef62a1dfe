"""The capstone's hidden tests (notebook 13) are proven on purpose-made wrong engines.

Each engine of tests/grading/13_capstone_your_own_engine.py is the reference solution with one classic bug.
The notebook's code cells (answer cells with that engine's code in place of the solution, test cells with
their hidden tests) run in one namespace, without nbgrader or a kernel, and the test cells that raise are
the ones nbgrader would give no points: they must be exactly the engine's targeted cells. The reference
must pass every test cell, and the released notebook (solutions stubbed) must fail every one.
Three engines run in the quick `make test`, all of them in `make test-deep` (a few seconds each).
"""
import contextlib
import importlib.util
import io
import runpy
import time
from pathlib import Path

import matplotlib
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "13_capstone_your_own_engine.ipynb"
ENGINES = runpy.run_path(str(ROOT / "tests" / "grading" / "13_capstone_your_own_engine.py"))
_spec = importlib.util.spec_from_file_location("grading", ROOT / ".ci" / "grading.py")
grading = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grading)

SOURCE = nbformat.read(NOTEBOOK, as_version=4)
TEST_CELLS = [grading.nbgrader_meta(c)["grade_id"] for c in SOURCE.cells if grading.is_test(c)]


def failing_test_cells(nb):
    """The grade_ids of the test cells that raise when the notebook's code cells run top to bottom
    (other cells may raise too, as nbgrader runs with allow_errors)."""
    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    failed = set()
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:
                if grading.is_test(cell):
                    failed.add(grading.nbgrader_meta(cell)["grade_id"])
    matplotlib.pyplot.close("all")
    return failed


def test_the_reference_passes_every_test_cell():
    assert failing_test_cells(grading.with_answers(SOURCE, {})) == set()


def test_the_released_notebook_fails_every_test_cell():
    released = grading.with_answers(SOURCE, {c.metadata.nbgrader["grade_id"]: "# YOUR CODE HERE"
                                             for c in SOURCE.cells if grading.is_solution(c) and c.cell_type == "code"})
    assert failing_test_cells(released) == set(TEST_CELLS)


# one engine per stage in the quick run (each run takes a few seconds); all of them in `make test-deep`
QUICK = {"no_accumulation", "broadcast_leading_axes_only", "no_zero_grad"}


@pytest.mark.parametrize("name", [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(ENGINES["WRONG_ENGINES"])])
def test_a_wrong_engine_fails_exactly_its_targeted_test_cells(name):
    replacements, why, targeted = ENGINES["WRONG_ENGINES"][name]
    assert targeted <= set(TEST_CELLS)
    start = time.perf_counter()
    failed = failing_test_cells(grading.with_answers(SOURCE, replacements))
    assert failed == targeted, f"{name} ({why}): fails {sorted(failed)}, expected {sorted(targeted)}"
    assert time.perf_counter() - start < 20


def test_the_demo_mistakes_are_wrong_engines():
    for grade_id, (code, _) in ENGINES["MISTAKES"].items():
        assert any(grade_id in reps and reps[grade_id] == code for reps, _, _ in ENGINES["WRONG_ENGINES"].values())
    answers = {grading.nbgrader_meta(c)["grade_id"] for c in SOURCE.cells if grading.is_solution(c) and c.cell_type == "code"}
    assert set(ENGINES["MISTAKES"]) == answers, "one typical mistake per answer cell"
