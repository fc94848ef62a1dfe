"""The reading builds (.ci/course_builds.py): the HTML pages and slides load nothing from the internet, fold
the solutions and leave out how exercises are graded (hidden tests, mark schemes). The builds run in `make
html` and `make slides` and are opened offline in Chromium by `make test-browser`. The student notebooks and
grading are nbgrader's: tests/test_grading.py.
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


def solution(source):
    return new_code_cell(source, metadata={"nbgrader": {"grade": False, "grade_id": "ex1", "locked": False,
                                                        "schema_version": 3, "solution": True}})


def exercise_notebook(*cells):
    return new_notebook(cells=[
        new_code_cell('def check(a):\n    print("Not done yet" if a is None else "ok")'),
        new_markdown_cell("### Exercise 1"),
        *cells,
    ])


GOOD = [
    solution("x = 3\nanswer = None\n### BEGIN SOLUTION\nanswer = 2 * x   # the doubled value\n### END SOLUTION"),
    new_code_cell("check(answer)\n### BEGIN HIDDEN TESTS\nassert answer == 6\n### END HIDDEN TESTS",
                  metadata={"nbgrader": {"grade": True, "grade_id": "ex1_check", "locked": True, "points": 1,
                                         "schema_version": 3, "solution": False}}),
    new_markdown_cell("Why double?\n\n### BEGIN SOLUTION\nBecause x is half.\n### END SOLUTION\n\n"
                      "=== BEGIN MARK SCHEME ===\nSays x is half.\n=== END MARK SCHEME ===",
                      metadata={"nbgrader": {"grade": True, "grade_id": "why", "locked": False, "points": 1,
                                             "schema_version": 3, "solution": True}}),
]


def test_the_course_has_notebooks_to_build():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


def test_readers_see_solutions_but_not_how_they_are_graded():
    nb = exercise_notebook(*GOOD)
    readable = builds.for_readers(nb)
    assert "answer = 2 * x" in readable.cells[2].source
    assert "HIDDEN" not in readable.cells[3].source and "assert answer == 6" not in readable.cells[3].source
    assert readable.cells[3].source == "check(answer)"
    assert "MARK SCHEME" not in readable.cells[4].source and "Says x is half" not in readable.cells[4].source
    assert "<details><summary>A model answer</summary>" in readable.cells[4].source
    assert "assert answer == 6" in nb.cells[3].source  # the input is not changed


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
        assert 'src="reveal.js/dist/reveal.js"' in body and 'src="reveal.js/plugin/notes/notes.js"' in body
        assert '<div class="solution-label">Solution</div>' in body  # the slide below the exercise


def test_slide_types_follow_headings_and_keep_the_authors_choice():
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np"),
        new_markdown_cell("# Title"), new_code_cell("x = 1"), new_markdown_cell("### Exercise"),
        solution("answer = 1"), new_markdown_cell("notes", metadata={"slideshow": {"slide_type": "notes"}}),
    ])
    kinds = [c.metadata["slideshow"]["slide_type"] for c in builds.slide_types(nb).cells]
    assert kinds == ["skip", "slide", "-", "subslide", "subslide", "notes"]
    assert "slideshow" not in nb.cells[0].metadata  # the input is not changed


def picture(source):
    return new_code_cell(source, outputs=[nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})])


def test_a_notebook_without_slide_metadata_gets_a_draft():
    prose = "Long prose. " * 60
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np\n%xmode Minimal"),            # setup: skipped
        new_markdown_cell("# 9. Title\n\n**You will learn**\n\n- a\n- b"),
        new_markdown_cell("## A section\n\nShort."),
        new_code_cell("x = 1"),
        new_markdown_cell(prose),                                       # long prose: speaker notes
        new_code_cell("y = 2"),
        picture("draw()"),                                              # a picture: its own slide
        new_code_cell("z = 3"),                                         # after a picture: a new slide
        new_markdown_cell("## Exercises"),
        new_code_cell("from autograd_lite.course.checks import check"),
        *GOOD,
    ])
    out = builds.slide_types(nb)
    kinds = [builds.slide_type(c) for c in out.cells]
    sources = [c.source[:12] for c in out.cells]
    assert kinds[:2] == ["skip", "slide"]
    assert dict(zip(sources, kinds))["draw()"] == "subslide" and dict(zip(sources, kinds))["z = 3"] == "subslide"
    assert dict(zip(sources, kinds))[prose[:12]] == "notes"
    tail = dict(zip(sources, kinds))
    assert tail["from autogra"] == "skip"                     # the checks' import
    assert tail["x = 3\nanswer"] == "subslide"                 # the solution: one slide down
    assert tail["check(answer"] == "skip"                      # its graded test cell
    assert tail["Why double?\n"] == "subslide"                 # the model answer: one slide down


def test_a_notebook_without_a_title_keeps_its_code_on_the_slides():
    nb = new_notebook(cells=[new_markdown_cell("Some text."), new_code_cell("x = 1"), new_markdown_cell("### Exercise"),
                             solution("answer = 1")])
    assert [builds.slide_type(c) for c in builds.slide_types(nb).cells] == ["-", "-", "subslide", "subslide"]


def test_speaker_notes_move_onto_the_code_slide_they_introduce():
    nb = new_notebook(cells=[
        new_markdown_cell("# T", metadata={"slideshow": {"slide_type": "slide"}}),
        new_markdown_cell("what the code shows", metadata={"slideshow": {"slide_type": "notes"}}),
        new_code_cell("x = 1", metadata={"slideshow": {"slide_type": "subslide"}}),
    ])
    assert [c.source for c in builds.slide_types(nb).cells] == ["# T", "x = 1", "what the code shows"]


def test_drafting_splits_markdown_without_changing_what_it_reads():
    source = ("## A heading\nRight under it, a short line.\n\n" + "A long paragraph of prose. " * 20
              + "\n\n$$\nJ = \\begin{pmatrix} a \\\\\n\n b \\end{pmatrix}\n$$\n\n```python\nx = 1\n\ny = 2\n```\n\n- a list")
    blocks = builds.markdown_blocks(source)
    assert blocks[0] == "## A heading" and any(b.startswith("$$") and b.endswith("$$") for b in blocks)
    assert any(b.startswith("```") and b.endswith("```") for b in blocks)  # fences and math are not cut
    nb = builds.draft_slides(new_notebook(cells=[new_markdown_cell(source, id="md-1")]))
    assert "\n\n".join(c.source for c in nb.cells) == "\n\n".join(blocks)
    kinds = [builds.slide_type(c) for c in nb.cells]
    assert kinds[0] == "slide" and "notes" in kinds
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    again = builds.draft_slides(nb)  # a redraft (draft-slides --force, after the text changed) keeps it
    assert [(c.id, c.source, builds.slide_type(c)) for c in again.cells] == \
        [(c.id, c.source, builds.slide_type(c)) for c in nb.cells]
    graded = new_notebook(cells=[*GOOD])
    assert [c.source for c in builds.draft_slides(graded).cells] == [c.source for c in GOOD]  # never split


def test_deck_outline_counts_slides_and_minutes():
    def cell(source, kind, code=False):
        return (new_code_cell if code else new_markdown_cell)(source, metadata={"slideshow": {"slide_type": kind}})
    deck = new_notebook(cells=[
        cell("import x", "skip", code=True), cell("# T", "slide"), cell("prose", "notes"),
        cell("## A", "slide"), cell("x = 1", "subslide", code=True), cell("## Exercises", "slide"),
        cell("### Exercise 1", "subslide"), cell("answer = 1", "subslide", code=True),
    ])
    assert builds.deck_outline(deck) == (6, 3, 1, round(3 * builds.MINUTES_PER_SLIDE + builds.MINUTES_PER_EXERCISE))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_course_notebook_has_its_slides(path):
    """The decks are authored in the notebooks: a slide type on every cell, a title slide first (the setup
    cell skipped), an exercise's solution one slide down from it."""
    nb = nbformat.read(path, as_version=4)
    kinds = [builds.slide_type(c) for c in nb.cells]
    assert set(kinds) <= builds.SLIDE_TYPES, f"cells without a valid slide type: {kinds}"
    first = next(c for c in nb.cells if builds.slide_type(c) not in ("skip", "notes"))
    assert first.cell_type == "markdown" and first.source.startswith("# "), "the first slide is the title"
    for cell in nb.cells:
        if builds.is_solution(cell):
            assert builds.slide_type(cell) == "subslide", f"a solution one slide down: {cell.source[:60]!r}"


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_figure(path):
    """A picture where the idea is: every notebook shows at least one graph or plot in its stored outputs."""
    nb = nbformat.read(path, as_version=4)
    pictures = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if {"image/png", "image/svg+xml"} & set(o.get("data", {}))
                or "<svg" in str(o.get("data", {}).get("text/html", ""))]
    assert pictures, f"{path.name} has no figure"


def test_a_long_solution_is_shortened_on_its_slide_only():
    long = solution("\n".join(f"line_{i} = {i}" for i in range(40)))
    nb = exercise_notebook(long, new_code_cell("x = 1\n" * 40))
    deck = builds.shorten_long_solutions(nb, keep=10)
    shown = deck.cells[2].source.splitlines()
    assert shown[:8] == [f"line_{i} = {i}" for i in range(8)] and len(shown) == 10
    assert shown[-1] == "# ... 32 more lines: the whole solution is in the notebook"
    assert deck.cells[3].source == nb.cells[3].source        # only solutions are shortened
    assert len(nb.cells[2].source.splitlines()) == 40         # the notebook itself is not changed
