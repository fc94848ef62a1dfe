#!/usr/bin/env python3
"""Teaching builds of the course: `make html`, `make slides`.

    python .ci/course_builds.py html         build/html/        a static, offline HTML course
    python .ci/course_builds.py slides       build/slides/      reveal.js slides, offline

The student notebooks and grading are nbgrader's (.ci/grading.py: `make release`, `make lab`, `make
autograde`). The pages built here are for reading: solutions folded, hidden tests and mark schemes left out.

The HTML and slide builds never load anything from the internet: MathJax comes from the
`jupyter-server-mathjax` package (pip), reveal.js from the npm registry (`npm pack`, at build time,
into build/), and the notebook templates' require.js/jQuery/Mermaid CDN scripts are left out.
"""

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
REVEAL_VERSION = "5.2.1"  # dist/reveal.js and plugin/notes/notes.js as nbconvert's reveal template expects
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the one full config jupyter-server-mathjax ships
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
    """An exercise's answer cell (nbgrader's solution cell: the stub and the solution region)."""
    return cell.cell_type == "code" and bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


# What a reader of the HTML pages and slides should not see: how the exercises are graded.
SECRET_REGIONS = re.compile(r"(?ms)^[ \t]*(### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS"
                            r"|=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===)[^\n]*\n?")


MODEL_ANSWER = re.compile(r"(?ms)^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)\n?[ \t]*### END SOLUTION[^\n]*")


def for_readers(nb):
    """A copy of `nb` without hidden tests or mark schemes (solutions stay, folded by the HTML template)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        cell.source = SECRET_REGIONS.sub("", cell.source).rstrip("\n")
        if cell.cell_type == "markdown":  # an explain-why question's model answer
            cell.source = MODEL_ANSWER.sub(r"<details><summary>A model answer</summary>\n\n\1\n\n</details>", cell.source)
    return nb


def title(nb, fallback):
    """The notebook's first `# ` heading, without the `#`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


# --------------------------------------------------------------------------------------------
# Files beside the notebooks
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
{%- if cell.metadata.get('nbgrader', {}).get('solution') -%}
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
            for_static_pages(for_readers(nb)), resources={"metadata": {"name": pages[position][1].replace("`", "")}, "course_nav": nav_bar(pages, position)}
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
        body, _ = exporter.from_notebook_node(slide_types(for_static_pages(for_readers(nb))), resources={"metadata": {"name": title(nb, path.stem).replace("`", "")}})
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
    parser.add_argument("build", choices=["html", "slides"])
    parser.add_argument("--source", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, help="output folder (default: build/<build>)")
    args = parser.parse_args(argv)
    if not course_notebooks(args.source):
        print(f"No numbered notebooks in {args.source}: nothing to build.")
        return 0
    out = args.out or BUILD / args.build
    {"html": build_html, "slides": build_slides}[args.build](args.source, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
