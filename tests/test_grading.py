"""The course as nbgrader assignments (.ci/grading.py): the source notebooks are well-formed nbgrader
notebooks, every answer cell has a typical mistake on record, a release shows no secret, and a student's own
copies are never overwritten. The whole cycle (release, three synthetic students, autograde) runs in
`make grade-demo`, which CI runs.
"""
import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("grading", ROOT / ".ci" / "grading.py")
grading = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grading)

NOTEBOOKS = grading.course_notebooks(ROOT / "notebooks")


def meta(grade_id, solution=False, grade=False, points=None):
    m = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


ANSWER = new_code_cell("x = 3\nanswer_double = None   # twice x\n### BEGIN SOLUTION\nanswer_double = 2 * x\n"
                       "### END SOLUTION", metadata=meta("ex1", solution=True))
TEST = new_code_cell('check("1.1", answer_double, lambda a: a % 2 == 0)\n### BEGIN HIDDEN TESTS\n'
                     "assert answer_double == 6\n### END HIDDEN TESTS", metadata=meta("ex1_check", grade=True, points=2))
WHY = new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause x is three.\n\n"
                        "Rubric: Mentions that x is three.\n### END SOLUTION",
                        metadata=meta("why", solution=True, grade=True, points=1))


def notebook(*cells):
    return new_notebook(cells=[new_code_cell("from autograd_lite.course.checks import check"), *cells])


# --- the course's notebooks --------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_is_a_well_formed_nbgrader_source(path):
    nb = nbformat.read(path, as_version=4)
    assert grading.format_problems(nb) == []
    assert any(grading.is_manual(c) for c in nb.cells), "every notebook has an explain-why question"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_answer_cell_has_a_typical_mistake_on_record(path):
    nb = nbformat.read(path, as_version=4)
    answers = {grading.nbgrader_meta(c)["grade_id"] for c in nb.cells
               if grading.is_solution(c) and c.cell_type == "code"}
    mistakes = grading.load_mistakes(path.stem)
    assert set(mistakes) == answers, f"tests/grading/{path.stem}.py: one typical mistake per answer cell"
    for grade_id in answers:
        assert grading._tests_of(nb, grade_id), f"{grade_id} has no test cell after it"


# --- the rules ---------------------------------------------------------------------------------


def test_a_well_formed_notebook_passes():
    assert grading.format_problems(notebook(ANSWER, TEST, WHY)) == []
    assert grading.points(notebook(ANSWER, TEST, WHY)) == {"ex1_check": 2.0, "why": 1.0}


def test_format_problems_are_found():
    no_points = new_code_cell(TEST.source, metadata=meta("ex1_check", grade=True))
    no_hidden = new_code_cell('check("1.1", answer_double, lambda a: True)', metadata=meta("t", grade=True, points=1))
    no_check = new_code_cell("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS", metadata=meta("u", grade=True, points=1))
    no_region = new_code_cell("answer_double = 6", metadata=meta("ex1", solution=True))
    bare = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    problems = "\n".join(grading.format_problems(notebook(ANSWER, no_points, no_hidden, no_check, no_region, bare)))
    for expected in ["a graded cell with no points", "needs `### BEGIN HIDDEN TESTS`", "should call check(",
                     "needs one `### BEGIN SOLUTION`", "no nbgrader metadata", "unique: ['ex1']"]:
        assert expected in problems
    assert grading.format_problems(notebook(ANSWER)) == ["no autograded test cell"]


def test_a_release_that_shows_a_secret_is_caught():
    source = notebook(ANSWER, TEST, WHY)
    released = notebook(
        new_code_cell("x = 3\nanswer_double = None   # twice x\n# YOUR CODE HERE"),
        new_code_cell('check("1.1", answer_double, lambda a: a % 2 == 0)'),
        new_markdown_cell("Why?\n\nYOUR ANSWER HERE"))
    assert grading.leaks(source, released) == []
    leaky = notebook(*released.cells[1:], new_code_cell("answer_double = 2 * x"),
                     new_code_cell("assert answer_double == 6"), new_markdown_cell("Rubric: Mentions that x is three."))
    assert grading.leaks(source, leaky) == ["secret line: Rubric: Mentions that x is three.",
                                            "secret line: answer_double = 2 * x",
                                            "secret line: assert answer_double == 6"]
    with_output = notebook(*released.cells[1:])
    with_output.cells[1].outputs = [nbformat.v4.new_output("stream", text="correct")]
    assert grading.leaks(source, with_output) == ["cell 1 has stored outputs"]


def test_a_submission_swaps_the_solution_region_keeping_its_indent():
    fn = new_code_cell('def f(t):\n    """Twice t."""\n    ### BEGIN SOLUTION\n    return 2 * t\n    ### END SOLUTION',
                       metadata=meta("ex2", solution=True))
    submitted = grading.with_answers(notebook(ANSWER, fn), {"ex2": "y = t\nreturn y + 1"})
    assert submitted.cells[2].source == 'def f(t):\n    """Twice t."""\n    y = t\n    return y + 1'
    assert submitted.cells[1].source == ANSWER.source  # not named: the reference stays


def test_a_mistake_with_full_points_is_reported():
    nb = notebook(ANSWER, TEST)
    caught = grading._mistake_problems("nb", nb, {"ex1": ("answer_double = 5", "odd")}, {"ex1_check": 0.0})
    missed = grading._mistake_problems("nb", nb, {"ex1": ("answer_double = 8", "even")}, {"ex1_check": 2.0})
    partial = grading._mistake_problems("nb", nb, {"ex1": ("answer_double = 8", "even", 1.0)}, {"ex1_check": 0.0})
    assert caught == []
    assert missed == ["nb: mistake in ex1 (even) gets full points: the hidden tests miss it"]
    assert partial == ["nb: mistake in ex1 (even) scores 0.0, expected 1.0"]


def test_the_workspace_never_overwrites_a_students_notebook(tmp_path):
    course, out = tmp_path / "course", tmp_path / "workspace"
    (course / "release" / "01_a").mkdir(parents=True)
    (course / "release" / "01_a" / "01_a.ipynb").write_text("release 1")
    grading.workspace(course, out)
    (out / "01_a.ipynb").write_text("my answers")
    (course / "release" / "01_a" / "01_a.ipynb").write_text("release 2")
    (course / "release" / "02_b").mkdir()
    (course / "release" / "02_b" / "02_b.ipynb").write_text("new notebook")
    grading.workspace(course, out)
    assert (out / "01_a.ipynb").read_text() == "my answers"
    assert (out / "02_b.ipynb").read_text() == "new notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_output_shows_a_path_of_this_machine(path):
    text = path.read_text()
    for machine_path in {str(ROOT), str(Path.home()), "/tmp/", "site-packages/"}:
        assert machine_path not in text, f"{path.name} shows {machine_path!r} (a traceback? use %xmode Minimal)"
