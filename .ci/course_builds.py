#!/usr/bin/env python3
"""Teaching builds of the course: `make student`, `make instructor`, `make html`, `make slides`.

    python .ci/course_builds.py student      build/student/     exercises without solutions, no outputs
    python .ci/course_builds.py instructor   build/instructor/  solutions and outputs, signed as trusted
    python .ci/course_builds.py html         build/html/        a static, offline HTML course
    python .ci/course_builds.py slides       build/slides/      reveal.js slides, offline

Conventions the notebooks follow (and tests/test_course_builds.py checks in `make test`):

- An exercise is a code cell with a *stub*: a line ending in a `# TODO` comment that binds the answer
  to None, e.g. `answer = None  # TODO: ...`, or a function whose body is `return None  # TODO`.
- Its solution is the next cell tagged `solution`; it binds the same names.
- A self-check cell after it prints "Not done yet" while the answer is None, so a student who skips
  an exercise sees that message and every later cell still runs.

The student build drops the `solution` cells and clears every output; `--check` then runs each
student notebook top to bottom and fails if any cell raises (other than cells tagged
`raises-exception`) or an exercise does not say "Not done yet".

The HTML and slide builds never load anything from the internet: MathJax comes from the
`jupyter-server-mathjax` package (pip), reveal.js from the npm registry (`npm pack`, at build time,
into build/), and the notebook templates' require.js/jQuery/Mermaid CDN scripts are left out.
"""

import argparse
import ast
import html
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
REVEAL_VERSION = "5.2.1"  # dist/reveal.js and plugin/notes/notes.js as nbconvert's reveal template expects
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the one full config jupyter-server-mathjax ships
NOT_DONE = re.compile(r"not done yet", re.IGNORECASE)
# Files of notebooks/ that serve the tests, not the learners.
NOT_FOR_LEARNERS = {"sanitize.cfg"}


# --------------------------------------------------------------------------------------------
# Notebooks and exercises
# --------------------------------------------------------------------------------------------


def course_notebooks(folder=NOTEBOOKS):
    """The numbered notebooks NN_*.ipynb, in course order."""
    return sorted(p for p in Path(folder).glob("[0-9]*.ipynb") if p.is_file())


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def is_solution(cell):
    return "solution" in tags(cell)


def title(nb, fallback):
    """The notebook's first `# ` heading, without the `#`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


def _bound_names(statement):
    """Names a top-level statement binds: assignment targets, def and class names."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    targets = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    names = set()
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.add(node.id)
    return names


def _parse(source):
    """The cell's code as an AST, with IPython magics and shell escapes blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def stub_names(source):
    """Names a stub cell leaves for the student: those bound by the top-level statements that hold a
    `# TODO` line (`answer = None  # TODO`, or `def f(...): return None  # TODO`). Empty if the cell
    is no stub."""
    todo_lines = {n for n, line in enumerate(source.splitlines(), 1) if re.search(r"#\s*TODO\b", line)}
    tree = _parse(source) if todo_lines else None
    if tree is None:
        return set()
    names = set()
    for statement in tree.body:
        if any(statement.lineno <= n <= statement.end_lineno for n in todo_lines):
            names |= _bound_names(statement)
    return names


def bound_names(source):
    """Names a cell binds at module level, also inside `with`/`for`/`if` blocks (not inside a def)."""
    tree = _parse(source)
    names, todo = set(), list(tree.body) if tree is not None else []
    while todo:
        statement = todo.pop()
        names |= _bound_names(statement)
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            names |= _bound_names(ast.Assign(targets=[statement.target]))
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(statement, field, []))
            for item in getattr(statement, "items", []):  # with ... as name
                if item.optional_vars is not None:
                    names |= _bound_names(ast.Assign(targets=[item.optional_vars]))
    return names


def exercises(nb):
    """[(stub cell index, solution cell index or None, names)] in notebook order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_solution(cell):
            if found and found[-1][1] is None:
                found[-1] = (found[-1][0], index, found[-1][2])
            else:
                found.append((None, index, set()))
        else:
            names = stub_names(cell.source)
            if names:
                found.append((index, None, names))
    return found


def exercise_problems(nb):
    """What is wrong with a notebook's exercises (an empty list when nothing is).

    Every solution cell follows a stub and binds the stub's names; every stub has a solution; the
    notebook can say "Not done yet"; and no untagged cell between a stub and its self-check fills
    the stub in (an untagged solution would end up in the student version).
    """
    problems = []
    for stub, solution, names in exercises(nb):
        if stub is None:
            problems.append(f"cell {solution} is tagged solution but no exercise stub "
                            "(`answer = None  # TODO`) comes before it")
            continue
        if solution is None:
            problems.append(f"the exercise stub in cell {stub} ({', '.join(sorted(names))}) "
                            "has no cell tagged solution after it")
            continue
        missing = names - bound_names(nb.cells[solution].source)
        if missing:
            problems.append(f"the solution in cell {solution} does not set {sorted(missing)}, "
                            f"which the stub in cell {stub} leaves as None")
        # Untagged cells after the solution, up to the next markdown cell (the self-check and
        # whatever belongs to the exercise), must not set the answer themselves.
        for index in range(solution + 1, len(nb.cells)):
            cell = nb.cells[index]
            if cell.cell_type != "code" or is_solution(cell):
                break
            if stub_names(cell.source):
                break
            overwritten = names & bound_names(cell.source)
            if overwritten:
                problems.append(f"cell {index} sets {sorted(overwritten)} after the solution but is "
                                "not tagged solution: the student version would contain the answer")
    if exercises(nb) and not any(
        NOT_DONE.search(c.source) for c in nb.cells if c.cell_type == "code" and not is_solution(c)
    ):
        problems.append('no cell prints "Not done yet" for an exercise left as None')
    return problems


def student_version(nb):
    """A copy of `nb` without solution cells, outputs, execution counts or widget state."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [cell for cell in nb.cells if not is_solution(cell)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("signature", None)
    return nb


def solution_lines(nb):
    """Lines of solution cells that appear in no other cell: what a leak would show."""
    elsewhere = set()
    for cell in nb.cells:
        if not is_solution(cell):
            elsewhere |= {line.strip() for line in cell.source.splitlines()}
    lines = set()
    for cell in nb.cells:
        if is_solution(cell):
            for line in cell.source.splitlines():
                line = line.strip()
                if len(line) >= 12 and not line.startswith("#") and line not in elsewhere:
                    lines.add(line)
    return lines


def leaks(instructor_nb, student_nb):
    """Distinctive solution lines found in the student notebook's code, outputs or metadata.

    Markdown is not searched: prose may name the answer's form on purpose ("then set
    `answer = w.grad`")."""
    parts = [json.dumps(student_nb.metadata)]
    for cell in student_nb.cells:
        if cell.cell_type == "code":
            parts += [cell.source, json.dumps(cell.get("outputs", [])), json.dumps(cell.metadata)]
    text = "\n".join(parts)
    return sorted(line for line in solution_lines(instructor_nb) if line in text or json.dumps(line)[1:-1] in text)


# --------------------------------------------------------------------------------------------
# Student and instructor builds
# --------------------------------------------------------------------------------------------


def _fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _copy_learner_files(source, out):
    """Files beside the notebooks that they may read (data, images), minus test-only files."""
    for path in Path(source).iterdir():
        if path.suffix == ".ipynb" or path.name in NOT_FOR_LEARNERS or path.name.startswith("."):
            continue
        if path.is_dir():
            shutil.copytree(path, out / path.name, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        else:
            shutil.copy2(path, out / path.name)


def build_student(source=NOTEBOOKS, out=BUILD / "student"):
    """Write the student notebooks and a zip of them; fail on exercise problems or leaks."""
    out = _fresh(Path(out))
    problems = []
    for path in course_notebooks(source):
        nb = nbformat.read(path, as_version=4)
        student = student_version(nb)
        problems += [f"{path.name}: {p}" for p in exercise_problems(nb)]
        problems += [f"{path.name}: solution line in the student version: {line}"
                     for line in leaks(nb, student)]
        nbformat.write(student, out / path.name)
    _copy_learner_files(source, out)
    archive = out.parent / f"{out.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                zf.write(path, Path(out.name) / path.relative_to(out))
    if problems:
        raise SystemExit("student build: " + "\n  ".join(["problems found:", *problems]))
    print(f"student notebooks in {out}/ and {archive}")
    return out


def check_student(folder=BUILD / "student", timeout=900):
    """Run each student notebook top to bottom; fail on an unintended error or a missing
    "Not done yet". Returns the number of notebooks checked."""
    from nbclient import NotebookClient

    problems = []
    notebooks = course_notebooks(folder)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        n_exercises = sum(1 for c in nb.cells if c.cell_type == "code" and stub_names(c.source))
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
        ).execute()
        said_not_done = 0
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                if output.output_type == "error" and "raises-exception" not in tags(cell):
                    problems.append(f"{path.name}: cell {index} raises {output.ename}: {output.evalue}")
                text = output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
                said_not_done += len(NOT_DONE.findall(text))
        if said_not_done < n_exercises:
            problems.append(f'{path.name}: {n_exercises} exercises left open but "Not done yet" '
                            f"shown {said_not_done} times")
        print(f"  {path.name}: runs top to bottom; {n_exercises} exercises say \"Not done yet\"")
    if problems:
        raise SystemExit("student check: " + "\n  ".join(["problems found:", *problems]))
    return len(notebooks)


def build_instructor(source=NOTEBOOKS, out=BUILD / "instructor"):
    """Copies of the notebooks with solutions and outputs, signed as trusted for this user's
    Jupyter, so that their stored graphs (SVG) show without re-running them."""
    from nbformat.sign import NotebookNotary

    out = _fresh(Path(out))
    notary = NotebookNotary()
    for path in course_notebooks(source):
        nb = nbformat.read(path, as_version=4)
        notary.sign(nb)
        nbformat.write(nb, out / path.name)
    _copy_learner_files(source, out)
    print(f"instructor notebooks in {out}/ (signed as trusted for this user's Jupyter)")
    return out


# --------------------------------------------------------------------------------------------
# HTML and slides
# --------------------------------------------------------------------------------------------

# Blocks of nbconvert's templates that load scripts from a CDN. The course needs none of them:
# require.js and jQuery serve interactive widgets, Mermaid diagrams the course does not have.
NO_CDN_BLOCKS = r"""
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_jquery -%}{%- endblock html_head_js_jquery -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
// jupyter-server-mathjax ships the STIX-Web fonts only; MathJax would look for TeX fonts first.
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
<style>
/* The hidden MathML copy for screen readers would ask for TeX fonts (\mathbb) that are not shipped. */
.MJX_Assistive_MathML [mathvariant] { font-family: inherit !important; }
</style>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
"""

HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
""" + NO_CDN_BLOCKS + """
{% block extra_css %}
<style>
nav.course { display: flex; justify-content: space-between; gap: 1em; padding: 0.6em 1em;
             font-family: var(--jp-ui-font-family); border-bottom: 1px solid #ddd; }
nav.course.bottom { border-top: 1px solid #ddd; border-bottom: none; }
details.solution > summary { cursor: pointer; font-family: var(--jp-ui-font-family);
                             padding: 0.3em 0 0.3em var(--jp-cell-prompt-width, 64px); color: #555; }
</style>
{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{{ resources.course_nav }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.course_nav | replace('class="course"', 'class="course bottom"') }}
{{ super() }}
{% endblock body_footer %}
{% block codecell %}
{%- if 'solution' in cell.metadata.get('tags', []) -%}
<details class="solution"><summary>Show the solution</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock codecell %}
"""

SLIDES_TEMPLATE = """{%- extends 'index.html.j2' -%}
""" + NO_CDN_BLOCKS + """
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true,
  transition: "{{ resources.reveal.transition | default('slide', true) }}",
  slideNumber: "{{ resources.reveal.number | default('c/t', true) }}",
  plugins: [RevealNotes],
  width: 1100, height: 800,
});
// Slides taller than the screen scroll instead of overflowing.
function scrollTallSlides() {
  const limit = document.querySelector('.reveal').clientHeight * 0.95;
  document.querySelectorAll('.reveal .slides section').forEach((section) => {
    if (section.scrollHeight > limit) {
      section.style.height = '95vh';
      section.style.overflowY = 'auto';
    }
  });
}
Reveal.on('ready', scrollTallSlides);
Reveal.on('slidechanged', (event) => {
  scrollTallSlides();
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Rerender(event.currentSlide); }
});
</script>
{% endblock footer_js %}
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
       line-height: 1.5; color: #222; }}
ol li {{ margin: 0.5em 0; }}
.what {{ color: #555; }}
</style>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [["$", "$"]], processEscapes: true}}, messageStyle: "none",
  "HTML-CSS": {{availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}}}});
</script>
<script src="{mathjax}"></script>
<style>.MJX_Assistive_MathML [mathvariant] {{ font-family: inherit !important; }}</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<ol class="course">
{items}
</ol>
</body>
</html>
"""


def first_sentence(nb):
    """The first sentence of prose after the notebook's title, as plain text (for the index)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for block in re.split(r"\n\s*\n", cell.source):
            block = block.strip()
            if not block or block.startswith(("#", "|", "```", "<", "-", "*", ">", "$$")):
                continue
            text = re.sub(r"\*+", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(block.split())))
            return re.split(r"(?<=[.!?])\s", text)[0]
    return ""


def inline_markdown(text):
    """Markdown text as HTML for the index: escaped, with `code` as <code> ($math$ is left to MathJax)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def write_index(out, pages, heading, intro):
    """index.html linking `pages` [(file name, title, summary)] in order."""
    items = "\n".join(
        f'<li><a href="{html.escape(name)}">{inline_markdown(page_title)}</a>'
        + (f'<br><span class="what">{inline_markdown(summary)}</span>' if summary else "")
        + "</li>"
        for name, page_title, summary in pages
    )
    (out / "index.html").write_text(INDEX_TEMPLATE.format(
        title=html.escape(heading), intro=intro, items=items, mathjax=f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"))


def nav_bar(pages, position):
    """Links to the previous page, the contents and the next page."""
    previous = next_ = "<span></span>"
    if position > 0:
        name, page_title, _ = pages[position - 1]
        previous = f'<a href="{html.escape(name)}">&larr; {inline_markdown(page_title)}</a>'
    if position + 1 < len(pages):
        name, page_title, _ = pages[position + 1]
        next_ = f'<a href="{html.escape(name)}">{inline_markdown(page_title)} &rarr;</a>'
    return f'<nav class="course">{previous}<a href="index.html">Contents</a>{next_}</nav>'


def copy_mathjax(out):
    """MathJax 2 from the jupyter-server-mathjax package into out/mathjax/; its URL for nbconvert."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit(
            "The offline HTML/slides need MathJax from the `jupyter-server-mathjax` package: "
            "run `make html` (it installs it), or `pip install jupyter-server-mathjax`."
        ) from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, out / "mathjax", ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"


def _exporter(kind, mathjax_url, **options):
    import jinja2
    from nbconvert import HTMLExporter, SlidesExporter

    template = {"html": HTML_TEMPLATE, "slides": SLIDES_TEMPLATE}[kind]
    exporter_class = {"html": HTMLExporter, "slides": SlidesExporter}[kind]
    return exporter_class(
        extra_loaders=[jinja2.DictLoader({f"course_{kind}.html.j2": template})],
        template_file=f"course_{kind}.html.j2",
        mathjax_url=mathjax_url,
        embed_images=True,
        **options,
    )


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def for_static_pages(nb):
    """A copy of `nb` whose interactive widgets show their static fallback (the HTML or picture
    each widget output carries): a static page has no kernel to drive a widget."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and set(data) - {WIDGET_VIEW, "text/plain"}:
                del data[WIDGET_VIEW]
    nb.metadata.pop("widgets", None)
    return nb


def build_html(source=NOTEBOOKS, out=BUILD / "html"):
    """One HTML page per notebook (outputs as committed: graphs as inline SVG, plots as embedded
    PNG, solutions folded), an index page, and MathJax, all under `out`."""
    out = _fresh(Path(out))
    exporter = _exporter("html", copy_mathjax(out))
    notebooks = [(p, nbformat.read(p, as_version=4)) for p in course_notebooks(source)]
    pages = [(p.with_suffix(".html").name, title(nb, p.stem), first_sentence(nb)) for p, nb in notebooks]
    for position, (path, nb) in enumerate(notebooks):
        body, _ = exporter.from_notebook_node(
            for_static_pages(nb), resources={"metadata": {"name": pages[position][1].replace("`", "")}, "course_nav": nav_bar(pages, position)}
        )
        (out / pages[position][0]).write_text(body)
    _copy_learner_files(source, out)
    write_index(out, pages, "Automatic differentiation, from the ground up",
                "The course notebooks in order, with their outputs. Each page links to the next.")
    check_offline(out)
    print(f"HTML course in {out}/index.html ({len(pages)} notebooks)")
    return out


def slide_types(nb):
    """A copy of `nb` with reveal.js slide types: `#`/`##` headings start a slide, `###` a
    vertical sub-slide, solutions sit on a sub-slide below their exercise. Types the authors set
    themselves are kept."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.metadata.get("slideshow", {}).get("slide_type"):
            continue
        kind = "-"
        if cell.cell_type == "markdown" and re.match(r"\s*#{1,2}\s", cell.source):
            kind = "slide"
        elif (cell.cell_type == "markdown" and re.match(r"\s*###\s", cell.source)) or is_solution(cell):
            kind = "subslide"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


def fetch_reveal(out, cache=BUILD / "vendor"):
    """reveal.js from the npm registry (`npm pack`, cached in build/vendor/) into out/reveal.js/."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"reveal.js-{REVEAL_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("make slides needs npm (Node.js) to fetch reveal.js from the npm registry.")
        subprocess.run([npm, "pack", f"reveal.js@{REVEAL_VERSION}", "--silent", "--pack-destination", str(cache)],
                       check=True, stdout=subprocess.DEVNULL)
    target = out / "reveal.js"
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and m.name.startswith(("package/dist/", "package/plugin/", "package/LICENSE"))]
        for member in members:
            path = target / member.name[len("package/"):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tar.extractfile(member).read())
    return "reveal.js"


def build_slides(source=NOTEBOOKS, out=BUILD / "slides"):
    """reveal.js slides per notebook, with reveal.js and MathJax copied beside them."""
    out = _fresh(Path(out))
    exporter = _exporter("slides", copy_mathjax(out), reveal_url_prefix=fetch_reveal(out), reveal_theme="white")
    pages = []
    for path in course_notebooks(source):
        nb = nbformat.read(path, as_version=4)
        name = f"{path.stem}.slides.html"
        body, _ = exporter.from_notebook_node(slide_types(for_static_pages(nb)), resources={"metadata": {"name": title(nb, path.stem).replace("`", "")}})
        (out / name).write_text(body)
        pages.append((name, title(nb, path.stem), first_sentence(nb)))
    _copy_learner_files(source, out)
    write_index(out, pages, "Automatic differentiation: slides",
                "One deck per notebook. Arrow keys move; down shows an exercise's solution; S opens speaker notes.")
    check_offline(out)
    print(f"slides in {out}/index.html ({len(pages)} decks)")
    return out


# Anything a page would fetch from the network: a script, style sheet, image, font or frame.
EXTERNAL_LOAD = re.compile(
    r"""(?:<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc|<link\b[^>]*\bhref)\s*=\s*["']?(?:https?:)?//"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|\bimport\s*\(?\s*["'](?:https?:)?//""",
    re.IGNORECASE,
)


def external_loads(text):
    """The places in an HTML page that would load something from the network."""
    return [text[max(m.start() - 40, 0):m.end() + 60].replace("\n", " ") for m in EXTERNAL_LOAD.finditer(text)]


def check_offline(out):
    """Fail if a page of `out` loads anything from the network (links to read elsewhere are fine)."""
    problems = []
    for page in sorted(Path(out).glob("*.html")):
        problems += [f"{page.name}: {snippet}" for snippet in external_loads(page.read_text())]
    if problems:
        raise SystemExit("pages that would load from the network:\n  " + "\n  ".join(problems))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", choices=["student", "instructor", "html", "slides"])
    parser.add_argument("--source", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, help="output folder (default: build/<build>)")
    parser.add_argument("--check", action="store_true",
                        help="student: also run every student notebook top to bottom and check it")
    args = parser.parse_args(argv)
    if not course_notebooks(args.source):
        print(f"No numbered notebooks in {args.source}: nothing to build.")
        return 0
    out = args.out or BUILD / args.build
    builder = {"student": build_student, "instructor": build_instructor, "html": build_html,
               "slides": build_slides}[args.build]
    builder(args.source, out)
    if args.build == "student" and args.check:
        print("running the student notebooks top to bottom:")
        check_student(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
