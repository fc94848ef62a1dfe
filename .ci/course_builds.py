#!/usr/bin/env python3
"""Teaching builds of the course: `make html`, `make slides`.

    python .ci/course_builds.py html         build/html/        a static, offline HTML course
    python .ci/course_builds.py slides       build/slides/      reveal.js slides, offline
    python .ci/course_builds.py draft-slides notebooks/NN_x.ipynb   a first draft of a notebook's slides

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

# The slides are laid out for 1280x720 (a projector, or a laptop screen). Code and output wrap
# instead of running off the right edge, pictures are capped in height, and a slide whose content is
# still taller than the screen is zoomed out to fit (down to MIN_ZOOM; `make test-browser` fails a
# slide that does not fit even then, and lists the ones in small print, for the author to split).
SLIDE_WIDTH, SLIDE_HEIGHT, MIN_ZOOM = 1280, 720, 0.55

SLIDES_TEMPLATE = """{%- extends 'index.html.j2' -%}
""" + NO_CDN_BLOCKS + """
{% block html_head_css %}
{{ super() }}
<style>
:root { --jp-content-font-size1: 22px; --jp-ui-font-size1: 20px; --jp-code-font-size: 19px;
        --jp-cell-prompt-width: 0px; }
.reveal { font-size: 100%; }
.reveal .slides section { padding: 0; box-sizing: border-box; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
/* code and output wrap at the slide's edge instead of being clipped */
.reveal pre, .reveal .jp-RenderedText pre, .reveal div.highlight > pre {
  white-space: pre-wrap; overflow-wrap: anywhere; overflow-x: hidden; width: auto; }
.reveal div.jp-OutputArea-output > pre { width: auto; }
.reveal .jp-Cell { padding: 2px 0; }
.reveal .jp-RenderedHTMLCommon table { font-size: 0.8em; }
/* pictures: never wider than the slide, never taller than most of it */
.reveal .jp-OutputArea-output img, .reveal .jp-RenderedMarkdown img {
  max-width: 100%; max-height: 470px; width: auto; height: auto; object-fit: contain; }
.reveal .jp-OutputArea-output svg { max-width: 100%; max-height: 470px; width: auto; height: auto; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }  /* code in headings keeps its case */
.reveal .jp-RenderedHTMLCommon h1 { font-size: 2.1em; margin-top: 0.4em; }
.reveal .jp-RenderedHTMLCommon h2 { font-size: 1.6em; }
.reveal .jp-RenderedHTMLCommon h3 { font-size: 1.3em; }
.reveal .jp-RenderedHTMLCommon { overflow: visible; }
.reveal .solution-label { font-weight: bold; color: #2e7d32; font-size: 24px; margin: 4px 0; }
.reveal .replay div[style*="monospace"] { font-size: 18px; }
/* a backward replay (viz.show_replay's frames): one frame at a time, stepped with the arrow key */
.reveal .replay { display: grid !important; }
.reveal .replay > div { grid-area: 1 / 1; background: white; }
/* the title slide */
.reveal .slides > section:first-child h1 { font-size: 2.4em; margin: 0.6em 0 0.5em; color: #1a4d80; }
/* an exercise: the "try it" slide (its solution is one slide down) */
.reveal h3[id^="Exercise"]::before { content: "Try it \\2014  "; color: #b35900; }
</style>
{% endblock html_head_css %}
{% block codecell %}
{%- if cell.metadata.get('nbgrader', {}).get('solution') -%}
<div class="solution-label">Solution</div>
{%- endif -%}
{{ super() }}
{% endblock codecell %}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true, center: false,
  navigationMode: "linear",  // right arrow and space walk every slide, sub-slides (solutions) included
  transition: "{{ resources.reveal.transition | default('slide', true) }}",
  slideNumber: "{{ resources.reveal.number | default('c/t', true) }}",
  plugins: [RevealNotes],
  width: """ + str(SLIDE_WIDTH) + """, height: """ + str(SLIDE_HEIGHT) + """, margin: 0.03,
});
// A slide taller than the screen is zoomed out to fit it (never below MIN_ZOOM): it never scrolls.
// Pictures give up their height first (down to 200 px), so that code keeps its size.
function fitSlide(section) {
  if (!section || section.querySelector('section')) { return; }
  section.style.zoom = 1;
  const limit = """ + str(SLIDE_HEIGHT) + """;
  const pictures = Array.from(section.querySelectorAll('.jp-OutputArea-output img, .jp-OutputArea-output svg'))
    .filter((p) => !p.closest('.replay > div + div'));
  const over = section.scrollHeight - limit;
  const tall = pictures.reduce((sum, p) => sum + p.getBoundingClientRect().height / Reveal.getScale(), 0);
  if (over > 0 && tall > 0) {
    pictures.forEach((p) => {
      const height = p.getBoundingClientRect().height / Reveal.getScale();
      p.style.maxHeight = Math.max(200, height - over * height / tall) + 'px';
    });
  }
  const needed = section.scrollHeight;
  const zoom = needed > """ + str(SLIDE_HEIGHT) + """ ? Math.max(""" + str(SLIDE_HEIGHT) + """ / needed, """ + str(MIN_ZOOM) + """) : 1;
  section.style.zoom = zoom;
  section.dataset.zoom = zoom.toFixed(2);
  Reveal.layout();
}
function fitCurrentSlide() {
  const section = Reveal.getCurrentSlide();
  if (window.MathJax && MathJax.Hub) {
    MathJax.Hub.Queue(["Rerender", MathJax.Hub, section], () => fitSlide(section));
  } else {
    fitSlide(section);
  }
}
// a backward replay (a column of captioned frames): its frames become fragments, shown one at a time
document.querySelectorAll('.reveal .jp-OutputArea-output > div[style*="flex-direction:column"]').forEach((column) => {
  column.classList.add('replay');
  Array.from(column.children).forEach((frame, i) => { if (i) { frame.classList.add('fragment', 'current-visible'); } });
});
// a diagram (the course's Graphviz and matplotlib SVGs) drawn larger on a slide, up to 440 px high
document.querySelectorAll('.reveal .jp-OutputArea-output svg[viewBox]').forEach((svg) => {
  const height = parseFloat(svg.getAttribute('height')) * ((svg.getAttribute('height') || '').endsWith('pt') ? 4 / 3 : 1);
  if (height > 0) {
    svg.style.height = Math.min(440, 1.6 * height) + 'px';
    svg.style.width = 'auto';
  }
});
document.querySelectorAll('.reveal .jp-OutputArea-output img').forEach((img) => {
  const factor = img.src.startsWith('data:image/svg') ? 1.6 : 1.3;  // a plot (PNG) blurs if grown much
  const grow = () => { if (img.naturalHeight > 0) { img.style.height = Math.min(440, factor * img.naturalHeight) + 'px'; } };
  if (img.complete) { grow(); } else { img.addEventListener('load', grow); }
});
// a model answer of an explain-why question is open on its slide
document.querySelectorAll('.reveal details').forEach((details) => { details.open = true; });
Reveal.on('ready', fitCurrentSlide);
Reveal.on('slidechanged', fitCurrentSlide);
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


# --------------------------------------------------------------------------------------------
# Slides: the slideshow metadata of the notebooks, and a draft of it for notebooks without
# --------------------------------------------------------------------------------------------
#
# A notebook's slides are authored in the notebook, in each cell's metadata.slideshow.slide_type
# (Jupyter's slideshow metadata: slide, subslide, fragment, skip, notes, "-" = continue the slide).
# `python .ci/course_builds.py draft-slides notebooks/NN_x.ipynb` writes a first draft of it (it
# splits long markdown cells into a slide part and a speaker-notes part, at blank lines only, so
# the notebook reads the same); the author then edits it in JupyterLab (Property Inspector, Slide
# Type) or keeps it. A notebook with no slideshow metadata at all gets the same draft at build time
# (its cells split in the deck only); cells left without a slide type get draft_slide_types'.

SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
SLIDE_BUDGET = 22      # about this many lines of text or code fit a 1280x720 slide
PICTURE_LINES = 14     # a graph or plot counts as this many lines (the CSS caps its height)
NOTES_CHARS = 260      # a paragraph longer than this goes to the speaker notes


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def has_slides(nb):
    """Whether the authors set slideshow metadata on any cell of `nb`."""
    return any(slide_type(c) for c in nb.cells)


def is_check(cell):
    """An exercise's graded test cell (locked, with points): on the slides, the solution is enough."""
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(grading.get("grade")) and not grading.get("solution")


def has_picture(cell):
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/svg+xml" in data or "image/png" in data or "image/jpeg" in data or "<svg" in str(data.get("text/html", "")):
            return True
    return False


def _only_imports(source):
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return bool(lines) and all(re.match(r"(import|from)\s|%", ln) for ln in lines)


def markdown_blocks(source):
    """The blocks of a markdown text, split at blank lines outside code fences and $$ math, and after
    a heading line; joining them with blank lines renders the same text."""
    blocks, current, fence, math = [], [], False, False
    for line in source.split("\n"):
        stripped = line.strip()
        if not fence and not math and not stripped:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
        if stripped.startswith("```"):
            fence = not fence
        elif not fence and stripped.count("$$") % 2:
            math = not math
        if not fence and not math and re.match(r"#{1,6}\s", line) and len(current) == 1:
            blocks.append(line)
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _visible(block, previous):
    """Whether a markdown block belongs on the slide (else in the speaker notes)."""
    text = block.strip()
    if re.match(r"#{1,6}\s", text) or text.startswith(("$$", "|", "<img", "<svg", "![", "**You will learn")):
        return True
    if re.match(r"([-*+]|\d+\.)\s", text):  # a list: on the slide when it is the point of its slide
        return previous is None or previous.startswith(("#", "**")) or len(text) <= 2 * NOTES_CHARS
    if text.startswith("```"):
        return text.count("\n") <= 8
    if "BEGIN SOLUTION" in text or "END SOLUTION" in text or "MARK SCHEME" in text:
        return True
    # prose: a short paragraph that opens a cell or follows a heading
    return len(text) <= NOTES_CHARS and (previous is None or previous.startswith("#"))


def split_for_slides(cell):
    """[(source, visible)] for a markdown cell: runs of blocks that go on the slide or in the notes."""
    if cell.get("metadata", {}).get("nbgrader"):  # graded cells keep their source (nbgrader checksums it)
        return [(cell.source, True)]
    if re.match(r"\s*###\s+Exercise", cell.source):  # an exercise is read out whole: the "try it" slide
        return [(cell.source, True)]
    runs, previous = [], None
    for block in markdown_blocks(cell.source):
        visible = _visible(block, previous)
        if re.match(r"#{1,2}\s", block.strip()) and runs and runs[-1][1]:
            runs.append(([block], True))  # a section heading inside a cell starts its own slide
        elif runs and runs[-1][1] == visible:
            runs[-1][0].append(block)
        else:
            runs.append(([block], visible))
        previous = block.strip()
    return [("\n\n".join(blocks), visible) for blocks, visible in runs] or [(cell.source, True)]


def _lines(cell):
    """The height of a cell on a slide, in lines of text (roughly)."""
    if cell.cell_type == "markdown":
        return sum(max(1, -(-len(line) // 95)) for line in cell.source.split("\n"))
    height = len(cell.source.split("\n"))
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if has_picture({"outputs": [output]}):
            height += PICTURE_LINES
        else:
            text = output.get("text") or data.get("text/plain") or "\n".join(output.get("traceback", []))
            height += min(len(str(text).split("\n")), 30)
    return height


def _introduces_code(cells, index):
    """Whether the markdown cell at `index` leads into code (the next cell on a slide is code)."""
    for cell in cells[index + 1:]:
        if cell.cell_type == "markdown" and slide_type(cell) == "notes":
            continue
        return cell.cell_type == "code" and not is_check(cell)
    return False


def draft_slide_types(cells):
    """A slide type per cell: the setup code before the title skipped, the title slide, a slide per
    `#`/`##` heading and a sub-slide per `###`, a picture on its own sub-slide, a new sub-slide when
    text follows code or a slide would run over SLIDE_BUDGET lines, an exercise's solution one slide
    down from it (its graded test cells skipped), long prose (markdown cells marked `notes`) in the
    speaker notes."""
    kinds = []
    in_exercises = False
    # the setup code before the title is skipped (a notebook without a `#` title has no setup cell)
    titled = not any(c.cell_type == "markdown" and re.match(r"\s*#\s", c.source) for c in cells)
    height, has_code, force = 0, False, False

    def start(kind, cell_height, code):
        nonlocal height, has_code, force
        height, has_code, force = cell_height, code, False
        return kind

    for index, cell in enumerate(cells):
        kind = None
        text = cell.source.strip()
        preset = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if cell.cell_type == "markdown" and preset == "notes":
            kind = "notes"
        elif cell.cell_type == "markdown":
            if re.match(r"#\s", text) and not any(k in ("slide", "subslide") for k in kinds):
                titled = True
                kind = start("slide", _lines(cell), False)
            elif re.match(r"#{1,2}\s", text):
                in_exercises = bool(re.match(r"#{1,2}\s+Exercises", text))
                kind = start("slide", _lines(cell), False)
            elif re.match(r"###\s", text) or cell.get("metadata", {}).get("nbgrader", {}).get("solution") or force:
                in_exercises = in_exercises or bool(re.match(r"###\s+Exercise", text))
                kind = start("subslide", _lines(cell), False)
            elif not titled:
                kind = "-"
            elif (has_code and _introduces_code(cells, index)) or height + _lines(cell) > SLIDE_BUDGET:
                kind = start("subslide", _lines(cell), False)
            else:
                height += _lines(cell)
                kind = "-"
        elif not titled or is_check(cell) or not text or (in_exercises and _only_imports(text) and not cell.get("outputs")):
            kind = "skip"
        elif _only_imports(text) and not cell.get("outputs") and re.search(r"course\.checks", text):
            kind = "skip"
        elif is_solution(cell) or force or (has_picture(cell) and (has_code or height > 6)) \
                or (has_code and height + _lines(cell) > SLIDE_BUDGET):
            kind = start("subslide", _lines(cell), True)
            force = has_picture(cell)  # what follows a picture starts a new slide
        else:
            height += _lines(cell)
            has_code = True
            force = has_picture(cell)
            kind = "-"
        kinds.append(kind)
    return kinds


def draft_slides(nb):
    """A copy of `nb` with a draft of slideshow metadata: long markdown cells split into a slide part
    and a notes part (at blank lines: the notebook reads the same), then draft_slide_types. Cells
    already marked `notes` stay notes; every other slide type is drafted afresh."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells, used_ids = [], {c.get("id") for c in nb.cells}
    for cell in nb.cells:
        if slide_type(cell) == "notes":  # notes stay notes (a redraft keeps the author's notes)
            cells.append(cell)
            continue
        parts = split_for_slides(cell) if cell.cell_type == "markdown" else [(cell.source, True)]
        for number, (source, visible) in enumerate(parts):
            part = cell if number == 0 else nbformat.v4.new_markdown_cell(source)
            if number:
                base = f"{cell.get('id', 'cell')}-{number}"
                part["id"] = base if base not in used_ids else f"{base}-{len(used_ids)}"
                used_ids.add(part["id"])
            part.source = source
            part.metadata.pop("slideshow", None)
            if not visible:
                part.metadata["slideshow"] = {"slide_type": "notes"}
            cells.append(part)
    for cell, kind in zip(cells, draft_slide_types(cells)):
        cell.metadata["slideshow"] = {"slide_type": kind}
    nb.cells = cells
    return nb


def slide_types(nb):
    """A copy of `nb` ready for reveal.js: the authors' slideshow metadata; a notebook without any gets
    draft_slides' (its cells split here, the notebook itself is not changed), and cells without a slide
    type in a notebook that has some get draft_slide_types' (long prose to the notes). Speaker notes
    written just before a code cell that starts a slide move onto that slide (they introduce it)."""
    nb = draft_slides(nb) if not has_slides(nb) else nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if slide_type(cell) not in SLIDE_TYPES:
            cell.metadata.pop("slideshow", None)
            if cell.cell_type == "markdown" and not re.match(r"\s*#", cell.source) \
                    and not cell.metadata.get("nbgrader") and len(cell.source) > 2 * NOTES_CHARS:
                cell.metadata["slideshow"] = {"slide_type": "notes"}  # long prose
    drafted = draft_slide_types(nb.cells)
    for cell, kind in zip(nb.cells, drafted):
        if not slide_type(cell):
            cell.metadata["slideshow"] = {"slide_type": kind}
    cells = list(nb.cells)
    index = 0
    while index < len(cells):
        end = index
        while end < len(cells) and slide_type(cells[end]) == "notes":
            end += 1
        if end > index and end < len(cells) and cells[end].cell_type == "code" \
                and slide_type(cells[end]) in ("subslide", "slide"):
            cells[index:end + 1] = [cells[end], *cells[index:end]]
        index = end + 1
    nb.cells = cells
    return nb


MINUTES_PER_SLIDE, MINUTES_PER_EXERCISE = 1.5, 3  # an exercise: set it, then show its solution


def deck_outline(nb):
    """(slides, lecture slides, exercises, minutes) of a deck (`nb` after slide_types): about 1.5 min per
    lecture slide and 3 per exercise (set it, show its solution; time for the class to work it is extra)."""
    slides = lecture = exercises = 0
    in_exercises = False
    visible = [c for c in nb.cells if slide_type(c) not in ("skip", "notes")]
    for number, cell in enumerate(visible):
        text = cell.source.strip() if cell.cell_type == "markdown" else ""
        if re.match(r"#{1,2}\s+Exercises|###\s+Exercise", text):
            in_exercises = True
        elif re.match(r"#{1,2}\s", text):
            in_exercises = False
        exercises += bool(re.match(r"###\s+Exercise", text))
        if number == 0 or slide_type(cell) in ("slide", "subslide"):
            slides += 1
            lecture += not in_exercises
    return slides, lecture, exercises, round(MINUTES_PER_SLIDE * lecture + MINUTES_PER_EXERCISE * exercises)


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


SOLUTION_LINES_ON_A_SLIDE = 30


def shorten_long_solutions(nb, keep=SOLUTION_LINES_ON_A_SLIDE):
    """A copy of `nb` whose solution cells longer than `keep` lines show their first lines and say where the rest
    is: a whole class does not fit a 1280x720 slide, and nobody lectures from one (the notebook has it all)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if is_solution(cell) and len(lines) > keep:
            cell.source = "\n".join(lines[:keep - 2] + ["", f"# ... {len(lines) - keep + 2} more lines: "
                                                            "the whole solution is in the notebook"])
    return nb


def build_slides(source=NOTEBOOKS, out=BUILD / "slides"):
    """reveal.js slides per notebook, with reveal.js and MathJax copied beside them."""
    out = _fresh(Path(out))
    exporter = _exporter("slides", copy_mathjax(out), reveal_url_prefix=fetch_reveal(out), reveal_theme="white")
    pages = []
    for path in course_notebooks(source):
        nb = nbformat.read(path, as_version=4)
        name = f"{path.stem}.slides.html"
        deck = slide_types(for_static_pages(shorten_long_solutions(for_readers(nb))))
        body, _ = exporter.from_notebook_node(deck, resources={"metadata": {"name": title(nb, path.stem).replace("`", "")}})
        (out / name).write_text(body)
        slides, lecture, exercises, minutes = deck_outline(deck)
        print(f"  {name}: {slides} slides ({lecture} lecture, {exercises} exercises), about {minutes} min")
        pages.append((name, title(nb, path.stem), f"{first_sentence(nb)} ({slides} slides, about {minutes} min)"))
    _copy_learner_files(source, out)
    write_index(out, pages, "Automatic differentiation: slides",
                "One deck per notebook. Right arrow or space: the next slide (an exercise's solution comes right "
                "after it); S: the speaker view with the notes; Esc: the overview.")
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
    parser.add_argument("build", choices=["html", "slides", "draft-slides"],
                        help="draft-slides: write a first draft of slideshow metadata into NOTEBOOKs that have none")
    parser.add_argument("notebooks", nargs="*", type=Path, help="(draft-slides) the notebooks to draft")
    parser.add_argument("--source", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, help="output folder (default: build/<build>)")
    parser.add_argument("--force", action="store_true", help="(draft-slides) redraft a notebook that has slides")
    args = parser.parse_intermixed_args(argv)
    if args.build == "draft-slides":
        for path in args.notebooks:
            nb = nbformat.read(path, as_version=4)
            if has_slides(nb) and not args.force:
                print(f"{path}: has slideshow metadata already (--force to redraft it)")
                continue
            drafted = draft_slides(nb)
            nbformat.write(drafted, path)
            kinds = [slide_type(c) for c in drafted.cells]
            print(f"{path}: {len(nb.cells)} cells -> {len(drafted.cells)}; "
                  + ", ".join(f"{kinds.count(k)} {k}" for k in ("slide", "subslide", "notes", "skip")))
        return 0
    if not course_notebooks(args.source):
        print(f"No numbered notebooks in {args.source}: nothing to build.")
        return 0
    out = args.out or BUILD / args.build
    {"html": build_html, "slides": build_slides}[args.build](args.source, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
