"""The teaching builds (.ci/course_builds.py): exercises are well formed and the student version
keeps every exercise stub while no solution leaks into it; the HTML and slides load nothing from
the internet. The builds themselves run in `make student`, `make html`, `make slides`; the HTML and
slides are opened offline in Chromium by `make test-browser`.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course_builds", ROOT / ".ci" / "course_builds.py")
builds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builds)

NOTEBOOKS = builds.course_notebooks(ROOT / "notebooks")
# Notebooks already converted to nbgrader source notebooks are checked by .ci/grading.py (format_problems and
# the grading demo), not by the hand-written student build these tests cover.
OLD_FORMAT = [p for p in NOTEBOOKS
              if not any(c.get("metadata", {}).get("nbgrader") for c in nbformat.read(p, as_version=4).cells)]


def solution(source):
    return new_code_cell(source, metadata={"tags": ["solution"]})


def exercise_notebook(*cells):
    return new_notebook(cells=[
        new_code_cell('def check(a):\n    print("Not done yet" if a is None else "ok")'),
        new_markdown_cell("### Exercise 1"),
        *cells,
    ])


GOOD = [
    new_code_cell("x = 3\nanswer = None  # TODO: 2 * x"),
    solution("answer = 2 * x   # the doubled value"),
    new_code_cell("check(answer)"),
]


# --- the course's notebooks --------------------------------------------------------------------


def test_the_course_has_notebooks_to_build():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", OLD_FORMAT, ids=lambda p: p.stem)
def test_every_exercise_has_a_stub_and_a_tagged_solution(path):
    nb = nbformat.read(path, as_version=4)
    assert builds.exercises(nb), f"{path.name} has no exercise (`answer = None  # TODO` + a solution cell)"
    assert builds.exercise_problems(nb) == []


@pytest.mark.parametrize("path", OLD_FORMAT, ids=lambda p: p.stem)
def test_student_version_keeps_stubs_and_drops_solutions_and_outputs(path):
    nb = nbformat.read(path, as_version=4)
    student = builds.student_version(nb)
    assert [c.source for c in student.cells] == [c.source for c in nb.cells if not builds.is_solution(c)]
    assert not any(builds.is_solution(c) for c in student.cells)
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    stubs = [names for stub, _, names in builds.exercises(nb)]
    assert [names for _, _, names in builds.exercises(student)] == stubs
    assert builds.solution_lines(nb), "solutions should have distinctive lines to look for"
    assert builds.leaks(nb, student) == []


# --- the exercise checks can fail ---------------------------------------------------------------


def test_stub_names():
    assert builds.stub_names("x = 1\nanswer = None  # TODO: fill in") == {"answer"}
    assert builds.stub_names("def f(t):\n    return None  # TODO walk the graph") == {"f"}
    assert builds.stub_names("for i in range(3):\n    pass  # TODO\nanswer = None  # TODO") == {"answer"}
    assert builds.stub_names("answer = 3") == set()
    assert builds.stub_names("%time answer = None  # TODO") == set()  # magics are not parsed


def test_bound_names_look_inside_blocks_but_not_inside_functions():
    source = "with ctx() as c:\n    answer = 1\nfor i, j in x:\n    pass\ndef f():\n    hidden = 2\nif y:\n    k += 1"
    assert builds.bound_names(source) == {"c", "answer", "i", "j", "f", "k"}


def test_a_well_formed_exercise_passes():
    nb = exercise_notebook(*GOOD)
    assert builds.exercise_problems(nb) == []
    assert builds.exercises(nb) == [(2, 3, {"answer"})]


def test_an_untagged_solution_is_caught():
    nb = exercise_notebook(GOOD[0], new_code_cell("answer = 2 * x"), GOOD[2])
    problems = builds.exercise_problems(nb)
    assert len(problems) == 1 and "no cell tagged solution" in problems[0]


def test_a_solution_cell_after_the_self_check_that_is_untagged_is_caught():
    nb = exercise_notebook(*GOOD, new_code_cell("answer = 6\ncheck(answer)"))
    problems = builds.exercise_problems(nb)
    assert len(problems) == 1 and "not tagged solution" in problems[0]


def test_a_solution_without_a_stub_is_caught():
    nb = exercise_notebook(new_code_cell("x = 3"), solution("answer = 2 * x"), GOOD[2])
    assert "no exercise stub" in builds.exercise_problems(nb)[0]


def test_a_solution_that_does_not_fill_the_stub_is_caught():
    nb = exercise_notebook(GOOD[0], solution("result = 2 * x"), GOOD[2])
    assert "does not set ['answer']" in builds.exercise_problems(nb)[0]


def test_a_notebook_that_never_says_not_done_yet_is_caught():
    nb = new_notebook(cells=GOOD)
    assert builds.exercise_problems(nb) == ['no cell prints "Not done yet" for an exercise left as None']


def test_a_leaked_solution_is_found():
    nb = exercise_notebook(*GOOD)
    assert builds.leaks(nb, builds.student_version(nb)) == []
    leaky = builds.student_version(nb)
    leaky.cells[-1].outputs = [nbformat.v4.new_output("stream", text="answer = 2 * x   # the doubled value\n")]
    assert builds.leaks(nb, leaky) == ["answer = 2 * x   # the doubled value"]
    assert builds.leaks(nb, nb) == ["answer = 2 * x   # the doubled value"]


# --- HTML and slides ----------------------------------------------------------------------------


def test_index_links_the_pages_in_order(tmp_path):
    pages = [("01_a.html", "1. A", "First."), ("02_b.html", "2. B <b>", ""), ("03_c.html", "3. C", "")]
    builds.write_index(tmp_path, pages, "Course", "intro")
    text = (tmp_path / "index.html").read_text()
    positions = [text.index(f'href="{name}"') for name, _, _ in pages]
    assert positions == sorted(positions)
    assert "2. B &lt;b&gt;" in text
    assert '<script src="mathjax/MathJax.js' in text and builds.external_loads(text) == []
    nav = builds.nav_bar(pages, 0)
    assert 'href="02_b.html"' in nav and 'href="index.html"' in nav and "03_c" not in nav


def test_first_sentence_skips_headings_and_markup():
    nb = new_notebook(cells=[new_markdown_cell(
        "# 1. Title with `no_grad`\n\nThe **chain rule** of [`no_grad`](https://x.org), twice. More text.")])
    assert builds.first_sentence(nb) == "The chain rule of `no_grad`, twice."
    assert builds.title(nb, "fallback") == "1. Title with `no_grad`"
    assert builds.inline_markdown("`a<b` and $x_1$") == "<code>a&lt;b</code> and $x_1$"


def test_external_loads_are_found_and_links_are_not():
    assert builds.external_loads('<a href="https://pytorch.org/docs">docs</a>') == []
    assert builds.external_loads('<script src="mathjax/MathJax.js"></script>') == []
    assert len(builds.external_loads('<script src="https://cdn.jsdelivr.net/x.js"></script>')) == 1
    assert len(builds.external_loads("<link rel=stylesheet href='//unpkg.com/reveal.css'>")) == 1
    assert len(builds.external_loads("@import url(https://fonts.example/css);")) == 1


@pytest.mark.parametrize("kind", ["html", "slides"])
def test_exported_pages_load_nothing_from_the_internet(kind):
    nb = exercise_notebook(*GOOD, new_markdown_cell("Math: $x^2$, and [a link](https://example.org)."))
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg></svg>"})]
    exporter = builds._exporter(kind, "mathjax/MathJax.js?config=x", **(
        {"reveal_url_prefix": "reveal.js"} if kind == "slides" else {}))
    page = builds.slide_types(nb) if kind == "slides" else nb
    body, _ = exporter.from_notebook_node(page, resources={"course_nav": "<nav></nav>"})
    assert builds.external_loads(body) == []
    assert '<script src="mathjax/MathJax.js?config=x"' in body
    assert "https://example.org" in body
    if kind == "html":
        assert '<details class="solution">' in body
    else:
        assert 'src="reveal.js/dist/reveal.js"' in body


def test_slide_types_follow_headings_and_keep_the_authors_choice():
    nb = new_notebook(cells=[
        new_markdown_cell("# Title"), new_code_cell("x = 1"), new_markdown_cell("### Exercise"),
        solution("answer = 1"), new_markdown_cell("notes", metadata={"slideshow": {"slide_type": "notes"}}),
    ])
    kinds = [c.metadata["slideshow"]["slide_type"] for c in builds.slide_types(nb).cells]
    assert kinds == ["slide", "-", "subslide", "subslide", "notes"]
    assert "slideshow" not in nb.cells[0].metadata  # the input is not changed


def test_static_pages_show_a_widgets_fallback():
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/html": "<b>frames</b>",
              "text/plain": "Replay()"}
    only_widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "d"}, "text/plain": "x"}
    cell = new_code_cell("show()", outputs=[
        nbformat.v4.new_output("display_data", data=widget),
        nbformat.v4.new_output("display_data", data=only_widget),
    ])
    static = builds.for_static_pages(new_notebook(cells=[cell]))
    assert [sorted(o.data) for o in static.cells[0].outputs] == [
        ["text/html", "text/plain"], ["application/vnd.jupyter.widget-view+json", "text/plain"]]


# --- slow: the student notebooks really run -----------------------------------------------------


@pytest.mark.slow
def test_student_notebooks_run_top_to_bottom_and_say_not_done_yet(tmp_path):
    out = builds.build_student(ROOT / "notebooks", tmp_path / "student")
    assert builds.check_student(out) == len(NOTEBOOKS)
