#!/usr/bin/env python3
"""Run every course notebook in a real browser, the way a student does, and check what it shows.

`make test-browser` runs this. For each notebooks/NN_*.ipynb it:

1. copies the notebook, with its outputs cleared, into a temporary folder served by a fresh JupyterLab
   (127.0.0.1, random free port, random token, fresh settings/workspace/runtime folders, so no old tab
   is restored and no user setting leaks in);
2. opens it in Debian's Chromium, driven headless by Playwright (never a downloaded browser);
3. waits until the server's REST API says the notebook's kernel is connected and idle (a Run All
   clicked before that is silently dropped), then clicks Run > Run All Cells in the menu bar;
4. waits until the kernel is idle again and every code cell has an execution count (no `[*]`);
5. checks the page: no cell shows an error except those tagged `raises-exception`; wherever the
   committed notebook has a graph (SVG) or a plot (PNG), the same cell shows one now; saves a
   screenshot to build/screenshots/;
6. saves the notebook from the browser (Ctrl+S) and checks the saved file: every code cell ran, in
   order, and errors only where intended.

Finally the notebooks saved by the browser are checked with nbval (strict, with
notebooks/sanitize.cfg), which re-runs them in a fresh kernel and compares every output; cells
tagged `nbval-ignore-output` (timings) are not compared.

With --student (make release's course/release/) it also runs each released notebook as a student
first opens it: it must show no solution, hidden test or stored output, run top to bottom without an
error, and every exercise's check must say "not done yet".

With --html/--slides it also serves those builds on 127.0.0.1 and opens every page with all
other network requests blocked: the pages must load, typeset their math with the bundled MathJax,
show every graph and plot, and (slides) start reveal.js. Each deck is then shown slide by slide at
1280x720, as projected: every slide must fit the window (nothing below or right of it, no code
clipped, nothing scrolling), the first must be a title slide; the slide count per deck is printed,
with the slides the deck had to zoom out below 70% (small print, worth splitting), and screenshots
of a few slides per deck (title, first picture, first exercise, densest) go to build/screenshots/,
with the speaker view (S) of the first deck. --builds-only skips the notebook runs (JupyterLab,
nbval): `python .ci/browser_test.py --builds-only --slides build/slides [notebooks...]`.

Cell numbers in messages count from 0, as in the notebook file. Exit status is 0 only if every
check passed. Nothing here downloads anything.
"""

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the notebook helpers above stay importable without playwright
    PlaywrightError = Exception

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}

# JupyterLab settings for the fresh settings folder: attach every cell to the page (the default
# windowing may leave far-away cells out of the DOM, which would hide their prompts and outputs from
# the checks), save only when told to (Ctrl+S), and never ask the internet for news or updates.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

ERROR_MIME = "application/vnd.jupyter.error"
GRAPH_MIMES = ("image/svg+xml",)
PLOT_MIMES = ("image/png", "image/jpeg")


class CheckFailed(Exception):
    """A check on one notebook failed; the message says which and why."""


def log(message):
    print(message, flush=True)


# --------------------------------------------------------------------------------------------
# Notebooks on disk
# --------------------------------------------------------------------------------------------


def course_notebooks(folder):
    """The numbered notebooks NN_*.ipynb of a folder, in course order."""
    return sorted(p for p in Path(folder).glob("[0-9]*.ipynb") if p.is_file())


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def cleared(nb):
    """A copy of a notebook with every output and execution count removed."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def expected_pictures(nb):
    """{cell index: {"graph", "plot"}} for the cells whose committed outputs hold pictures."""
    expected = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kinds = set()
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(m in data for m in GRAPH_MIMES) or "<svg" in str(data.get("text/html", "")):
                kinds.add("graph")
            if any(m in data for m in PLOT_MIMES):
                kinds.add("plot")
        if kinds:
            expected[index] = kinds
    return expected


def check_saved_notebook(nb):
    """Problems with a notebook saved by the browser after Run All (an empty list if none)."""
    problems = []
    counts = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None:
            if cell.source.strip():
                problems.append(f"cell {index} was not executed")
            continue
        counts.append(cell.execution_count)
        for output in cell.outputs:
            if output.output_type == "error" and "raises-exception" not in tags(cell):
                problems.append(
                    f"cell {index} raised {output.ename}: {output.evalue} "
                    "(only cells tagged raises-exception may)"
                )
    if counts != sorted(counts) or len(set(counts)) != len(counts):
        problems.append(f"cells did not run once each, top to bottom: execution counts {counts}")
    return problems


# --------------------------------------------------------------------------------------------
# The JupyterLab server
# --------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server on 127.0.0.1 with a random port and token and fresh state folders."""

    def __init__(self, root_dir, state_dir, log_path):
        self.root_dir = Path(root_dir)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        state = Path(state_dir)
        settings = state / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(state / "runtime"),
            JUPYTER_CONFIG_DIR=str(state / "config"),
            IPYTHONDIR=str(state / "ipython"),
            MPLCONFIGDIR=str(state / "matplotlib"),
        )
        for key in ("JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)
        self.process = None
        self._log = None

    def start(self, timeout=120):
        command = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to run as root without it
        self._log = open(self.log_path, "w")  # noqa: SIM115 -- the server writes to it until stop()
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.root_dir, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}; see {self.log_path}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s; see {self.log_path}")

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def session_for(self, path):
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == path and session.get("kernel"):
                return session
        return None

    def kernel(self, kernel_id):
        try:
            return self.api("GET", f"/api/kernels/{kernel_id}")
        except urllib.error.HTTPError:
            return None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            try:
                self.api("POST", "/api/shutdown")
                self.process.wait(timeout=20)
            except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGTERM)  # the server's own process group only
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None


# --------------------------------------------------------------------------------------------
# One notebook in the browser
# --------------------------------------------------------------------------------------------

# Per cell, in page order: its prompt text ("[3]:", "[*]:", "[ ]:"), the text of any error it shows,
# and how many SVG and image outputs are visible. JupyterLab renders an error as
# application/vnd.jupyter.stderr text, exactly as it renders a stderr stream, so the page check
# recognises an error by its text; the saved notebook (checked after Ctrl+S) is the authority on
# output types.
CELLS_JS = """
() => {
  // An exception's text, whatever %xmode says: the traceback header, or `SomeError: message` on a
  // line of its own (warnings, also on stderr, end in Warning and do not match).
  const ERROR_TEXT = /Traceback \\(most recent call last\\)|(^|\\n)\\s*([A-Za-z_][\\w.]*(Error|Exception|Exit|Interrupt|StopIteration))(:|\\s*$)/;
  return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'))
  .map((cell) => {
    const code = cell.classList.contains('jp-CodeCell');
    const prompt = code ? (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim() : null;
    const outputs = Array.from(cell.querySelectorAll('.jp-OutputArea-output'));
    // A graph is inline SVG or an <img> of SVG; a plot is any other image (matplotlib's PNG).
    const svgs = cell.querySelectorAll('.jp-OutputArea-output svg, .jp-OutputArea-output img[src^="data:image/svg"]');
    const imgs = cell.querySelectorAll('.jp-OutputArea-output img:not([src^="data:image/svg"])');
    const errors = outputs.filter((o) =>
      o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr' && ERROR_TEXT.test(o.textContent));
    return {
      code,
      prompt,
      errorText: errors.map((o) => o.textContent.slice(0, 400)).join('\\n'),
      svg: Array.from(svgs).filter((e) => e.getBoundingClientRect().width > 0).length,
      img: Array.from(imgs).filter((e) => e.getBoundingClientRect().width > 0 && e.naturalWidth > 0).length,
    };
  });
}
"""


def wait_until(predicate, timeout, what, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_for_kernel_idle(server, path, timeout):
    """The notebook's kernel as the REST API sees it: a session exists, the page holds a
    websocket connection to the kernel, and the kernel is idle."""

    def ready():
        session = server.session_for(path)
        if session is None:
            return None
        kernel = server.kernel(session["kernel"]["id"])
        if kernel and kernel.get("connections", 0) >= 1 and kernel.get("execution_state") == "idle":
            return session
        return None

    return wait_until(ready, timeout, f"the kernel of {path} to be connected and idle")


def click_menu(page, menu, item):
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-item:visible", has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def code_prompts(page):
    return [c["prompt"] for c in page.evaluate(CELLS_JS) if c["code"]]


def run_notebook(page, server, path, source_nb, screenshot, timeout):
    """Open `path` (relative to the server root), Run All, check the page; return the saved notebook."""
    page.goto(f"{server.url}/lab/tree/{path}?reset&token={server.token}")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    session = wait_for_kernel_idle(server, path, timeout=120)
    kernel_id = session["kernel"]["id"]
    shown = page.evaluate(CELLS_JS)
    n_code = sum(c.cell_type == "code" for c in source_nb.cells)
    if len(shown) != len(source_nb.cells) or sum(c["code"] for c in shown) != n_code:
        raise CheckFailed(f"the page shows {len(shown)} cells ({sum(c['code'] for c in shown)} code), "
                          f"the notebook has {len(source_nb.cells)} ({n_code} code)")

    def started():
        state = (server.kernel(kernel_id) or {}).get("execution_state")
        return state == "busy" or any(p not in ("[ ]:", "") for p in code_prompts(page))

    click_menu(page, "Run", "Run All Cells")
    try:
        wait_until(started, 15, "Run All to start")
    except CheckFailed:
        # Nothing ran: the click was dropped (no cell shows [*] or a count, the kernel stayed idle).
        log("    Run All did not start; clicking it once more")
        click_menu(page, "Run", "Run All Cells")
        wait_until(started, 30, "Run All to start")

    def finished():
        kernel = server.kernel(kernel_id) or {}
        if kernel.get("execution_state") != "idle":
            return False
        # Run All queues every cell at once ([*]); a cell that raised stops the rest, which
        # then go back to [ ] (reported below), so done means: idle and nothing queued.
        return not any("*" in p for p in code_prompts(page))

    # Idle must hold twice in a row: between two cells the kernel is idle for a moment.
    wait_until(lambda: finished() and (time.sleep(1.0) or finished()), timeout, "Run All to finish", 1.0)

    cells = page.evaluate(CELLS_JS)
    problems = []
    not_run = [i for i, c in enumerate(cells) if c["code"] and not re.fullmatch(r"\[\d+\]:", c["prompt"])]
    if not_run:
        problems.append(f"cells {not_run} show no execution count after Run All")
    for index, (cell, shown) in enumerate(zip(source_nb.cells, cells)):
        if shown["errorText"] and "raises-exception" not in tags(cell):
            problems.append(f"cell {index} shows an error:\n{shown['errorText']}")
    for index, kinds in expected_pictures(source_nb).items():
        shown = cells[index]
        if "graph" in kinds and not shown["svg"]:
            problems.append(f"cell {index} should show a graph (SVG) and shows none")
        if "plot" in kinds and not shown["img"]:
            problems.append(f"cell {index} should show a plot (image) and shows none")
    intended = [i for i, c in enumerate(source_nb.cells) if "raises-exception" in tags(c)]
    for index in intended:
        if not cells[index]["errorText"]:
            problems.append(f"cell {index} is tagged raises-exception but shows no error")

    # Screenshot with the first picture in view (or the top of the notebook).
    pictures = page.locator(".jp-OutputArea-output svg, .jp-OutputArea-output img")
    if pictures.count():
        pictures.first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot))

    # Save from the browser, wait for the server's answer to that save, then read what it wrote.
    # (Reading while the server writes would see half a file: the server then "restores" its backup
    # and the save fails. Autosave is off for the same reason.)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
    contents_url = f"/api/contents/{urllib.parse.quote(path)}"
    with page.expect_response(
        lambda r: r.request.method == "PUT" and contents_url in r.url, timeout=60_000
    ) as save:
        page.keyboard.press("Control+s")
    if save.value.status != 200:
        raise CheckFailed(f"Ctrl+S: the server answered the save with HTTP {save.value.status}")
    saved = nbformat.from_dict(server.api("GET", f"/api/contents/{path}?type=notebook")["content"])
    problems += check_saved_notebook(saved)

    server.api("DELETE", f"/api/sessions/{session['id']}")  # shut the kernel down
    if problems:
        raise CheckFailed("\n".join(problems))
    return saved


# --------------------------------------------------------------------------------------------
# The HTML course and the slides, offline
# --------------------------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that drops a connection mid-file (page closed) is not an error of the site."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class StaticServer:
    """Serves a folder on 127.0.0.1 (a random port), as a course website or an LMS would."""

    def __init__(self, folder):
        handler = functools.partial(QuietHandler, directory=str(folder))
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# After MathJax has typeset the page: how many formulas it made and how many failed.
MATHJAX_JS = """
() => new Promise((resolve) => {
  if (!window.MathJax || !MathJax.Hub) { resolve({loaded: false, math: 0, errors: 0}); return; }
  MathJax.Hub.Queue(() => resolve({
    loaded: true,
    math: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length,
    errors: document.querySelectorAll('.MathJax_Error, merror, .merror').length,
  }));
})
"""

PICTURES_JS = """
() => ({
  svg: document.querySelectorAll('.jp-OutputArea-output svg, .jp-OutputArea-output img[src^="data:image/svg"]').length,
  img: Array.from(document.querySelectorAll('.jp-OutputArea-output img:not([src^="data:image/svg"])'))
    .filter((i) => i.naturalWidth > 0).length,
  brokenImg: Array.from(document.querySelectorAll('img')).filter((i) => i.complete && i.naturalWidth === 0).length,
})
"""


def has_math(nb):
    return any(c.cell_type == "markdown" and re.search(r"\$[^$\s][^$]*\$", c.source) for c in nb.cells)


def count_pictures(nb):
    graphs = plots = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            graphs += "image/svg+xml" in data or "<svg" in str(data.get("text/html", ""))
            plots += any(m in data for m in PLOT_MIMES)
    return graphs, plots


def open_offline(context, server, page_name):
    """Open one page of `server`; return (page, problems). Any request that leaves the local
    server is blocked and reported: the pages must work without the internet."""
    page = context.new_page()
    problems = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith((server.url, "data:", "about:", "blob:")):
            request_route.continue_()
        else:
            problems.append(f"tried to load {url}")
            request_route.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}")
            if r.url.startswith(server.url) else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.goto(f"{server.url}/{page_name}", wait_until="load")
    return page, problems


def check_site(browser, folder, kind, notebooks, screenshots):
    """Open the index and every page of an HTML or slides build offline; a list of problems."""
    folder = Path(folder)
    expected_pages = [
        Path(p).stem + (".slides.html" if kind == "slides" else ".html") for p in notebooks
    ]
    problems = []
    with StaticServer(folder) as server:
        context = browser.new_context(viewport=VIEWPORT)
        slides_context = browser.new_context(viewport=SLIDES_VIEWPORT)
        page, seen = open_offline(context, server, "index.html")
        links = page.eval_on_selector_all("ol.course a", "links => links.map((a) => a.getAttribute('href'))")
        if [link for link in links if link in expected_pages] != expected_pages:
            problems.append(f"{kind}/index.html links {links}, expected the notebooks in order {expected_pages}")
        page.screenshot(path=str(screenshots / f"{kind}-index.png"))
        problems += [f"{kind}/index.html: {p}" for p in seen]
        page.close()
        for nb_path, name in zip(notebooks, expected_pages):
            nb = nbformat.read(nb_path, as_version=4)
            if not (folder / name).exists():
                problems.append(f"{kind}/{name} is missing")
                continue
            page, seen = open_offline(context, server, name)
            mathjax = page.evaluate(MATHJAX_JS)
            if not mathjax["loaded"]:
                seen.append("MathJax did not load")
            elif has_math(nb) and not mathjax["math"]:
                seen.append("MathJax typeset no formula, yet the notebook has some")
            if mathjax["errors"]:
                seen.append(f"{mathjax['errors']} formulas failed to typeset")
            pictures = page.evaluate(PICTURES_JS)
            graphs, plots = count_pictures(nb)
            if pictures["svg"] < graphs or pictures["img"] < plots or pictures["brokenImg"]:
                seen.append(f"shows {pictures['svg']} graphs and {pictures['img']} plots "
                            f"({pictures['brokenImg']} broken images); the notebook has {graphs} and {plots}")
            if kind == "slides":
                deck = page.evaluate("() => ({ready: Reveal.isReady(), slides: Reveal.getTotalSlides()})")
                if not deck["ready"] or deck["slides"] < 2:
                    seen.append(f"reveal.js is not running the deck: {deck}")
                page.close()
                page, more = open_offline(slides_context, server, name)
                seen += more + check_deck(page, Path(nb_path).stem, screenshots,
                                          speaker_view=nb_path == notebooks[0])
                page.keyboard.press("Home")
                page.wait_for_timeout(300)
            else:
                picture = page.locator(".jp-OutputArea-output svg, .jp-OutputArea-output img")
                if picture.count():
                    picture.first.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / f"{kind}-{Path(nb_path).stem}.png"))
            problems += [f"{kind}/{name}: {p}" for p in seen]
            page.close()
        slides_context.close()
        context.close()
    return problems


# --------------------------------------------------------------------------------------------
# The slides, one by one, as projected
# --------------------------------------------------------------------------------------------

SLIDES_VIEWPORT = {"width": 1280, "height": 720}
SMALL_PRINT = 0.7  # a slide zoomed out further than this is listed (readable, but dense)

# Every slide of the deck as [h, v] (reveal.js's indices), with transitions off.
DECK_JS = """
() => {
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const slides = [];
  Reveal.getHorizontalSlides().forEach((slide, h) => {
    const stack = slide.querySelectorAll(':scope > section');
    if (stack.length) { stack.forEach((_, v) => slides.push([h, v])); } else { slides.push([h, 0]); }
  });
  return slides;
}
"""

# Go to a slide and wait until MathJax has typeset it and the deck's fit script has run.
GOTO_JS = """
([h, v]) => new Promise((resolve) => {
  Reveal.slide(h, v);
  const done = () => requestAnimationFrame(() => requestAnimationFrame(resolve));
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(done); } else { done(); }
})
"""

# What the current slide shows: whether its content fits the window (nothing below or right of
# it, no clipped code, nothing scrolling), what it holds, and how far the deck zoomed it out.
SLIDE_JS = """
() => {
  const slide = Reveal.getCurrentSlide();
  const W = window.innerWidth, H = window.innerHeight;
  let bottom = 0, right = 0, top = H, left = W;
  for (const e of slide.querySelectorAll('*')) {
    if (e.closest('aside.notes')) { continue; }
    // MathJax's inner spans (struts) reach past the formula's box: measure the formula, not them
    const formula = e.parentElement && e.parentElement.closest('.MathJax, .MathJax_Display, .MJX_Assistive_MathML');
    if (formula || e.classList.contains('MJX_Assistive_MathML')) { continue; }
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) { continue; }
    bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
    top = Math.min(top, r.top); left = Math.min(left, r.left);
  }
  const clipped = Array.from(slide.querySelectorAll('pre, .jp-OutputArea-output, .jp-InputArea'))
    .filter((e) => e.scrollWidth > e.clientWidth + 2).length;
  const scrolls = [slide, ...slide.querySelectorAll('*')].filter((e) =>
    /(auto|scroll)/.test(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight + 2).length;
  return {
    bottom, right, top, left, W, H, clipped, scrolls,
    zoom: parseFloat(slide.dataset.zoom || '1'),
    h1: slide.querySelectorAll('h1').length,
    code: slide.querySelectorAll('.jp-CodeCell').length,
    pictures: slide.querySelectorAll('.jp-OutputArea-output svg, .jp-OutputArea-output img').length,
    exercise: slide.querySelectorAll('h3[id^="Exercise"]').length,
    notes: slide.querySelectorAll('aside.notes').length,
    heading: (slide.querySelector('h1, h2, h3')?.textContent || '').replace(/\u00b6/g, '').trim().slice(0, 60),
  };
}
"""


def check_deck(page, stem, screenshots, speaker_view=False):
    """Open every slide of a deck at 1280x720: each fits the window (no vertical scroll, no code running
    off the right edge), the first is a title slide; screenshots of a few. Prints the deck's counts."""
    problems = []
    slides = page.evaluate(DECK_JS)
    shown = []
    for h, v in slides:
        page.evaluate(GOTO_JS, [h, v])
        info = page.evaluate(SLIDE_JS)
        shown.append(info)
        where = f"slide {h + 1}.{v + 1} ({info['heading'] or 'no heading'})"
        if info["bottom"] > info["H"] + 1 or info["top"] < -1:
            problems.append(f"{where} is taller than {info['W']}x{info['H']}: content from y={info['top']:.0f} "
                            f"to y={info['bottom']:.0f} at zoom {info['zoom']}")
        if info["right"] > info["W"] + 1 or info["left"] < -1 or info["clipped"]:
            problems.append(f"{where} is wider than the window: content from x={info['left']:.0f} to "
                            f"x={info['right']:.0f}, {info['clipped']} clipped code/output blocks")
        if info["scrolls"]:
            problems.append(f"{where} scrolls")
    first = shown[0] if shown else {}
    if not first.get("h1") or first.get("code"):
        problems.append(f"the first slide is not a title slide (a `#` heading, no code): {first}")
    # A few for a person to look at: the title, the first picture, the first exercise, the densest.
    picks = {0: "title"}
    for label, test in (("picture", lambda i: i["pictures"]), ("exercise", lambda i: i["exercise"])):
        index = next((n for n, i in enumerate(shown) if test(i)), None)
        if index is not None:
            picks.setdefault(index, label)
    if shown:
        densest = min(range(len(shown)), key=lambda n: shown[n]["zoom"])
        picks.setdefault(densest, "densest")
    for index, label in sorted(picks.items()):
        page.evaluate(GOTO_JS, slides[index])
        page.screenshot(path=str(screenshots / f"slides-{stem}-{index + 1:02d}-{label}.png"))
    small = [f"{h + 1}.{v + 1}" for (h, v), i in zip(slides, shown) if i["zoom"] < SMALL_PRINT]
    log(f"    deck {stem}: {len(slides)} slides ({sum(1 for _, v in slides if v == 0)} sections), "
        f"{sum(1 for i in shown if i['notes'])} with speaker notes, {sum(1 for i in shown if i['exercise'])} exercises"
        + (f"; small print (zoomed below {SMALL_PRINT}) on {', '.join(small)}" if small else ""))
    if speaker_view:
        problems += check_speaker_view(page, stem, screenshots)
    return problems


def check_speaker_view(page, stem, screenshots):
    """S opens reveal.js's speaker view (the notes plugin, loaded from the build) in a new window."""
    page.evaluate(GOTO_JS, [0, 0])
    try:
        with page.context.expect_page(timeout=10_000) as popup:
            page.keyboard.press("s")
        view = popup.value
        view.wait_for_selector(".speaker-controls-notes", state="attached", timeout=10_000)
        view.wait_for_timeout(1500)
        view.screenshot(path=str(screenshots / f"slides-{stem}-speaker-view.png"))
        view.close()
    except PlaywrightError as error:
        return [f"pressing S did not open the speaker view: {error}"]
    return []


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to check (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--notebook-dir", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", CHROMIUM))
    parser.add_argument("--timeout", type=float, default=900, help="seconds for one notebook's Run All")
    parser.add_argument("--no-nbval", action="store_true", help="skip the nbval check of the saved files")
    parser.add_argument("--student", type=Path,
                        help="also run the released notebooks of this nbgrader release folder (make release) "
                             "as a student opens them: untouched, every exercise must say \"not done yet\"")
    parser.add_argument("--html", type=Path, help="also open this HTML build (make html) offline")
    parser.add_argument("--slides", type=Path, help="also open this slides build (make slides) offline, "
                        "every slide at 1280x720")
    parser.add_argument("--builds-only", action="store_true",
                        help="only open the --html/--slides builds: do not run the notebooks in JupyterLab")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or course_notebooks(args.notebook_dir)
    if not notebooks:
        log(f"No numbered notebooks in {args.notebook_dir}: nothing to check.")
        return 0
    if not Path(args.chromium).exists():
        log(f"Chromium not found at {args.chromium}. Install Debian's (`apt-get install chromium`) "
            "or pass --chromium PATH. Playwright's own browser download is not used.")
        return 2

    from playwright.sync_api import sync_playwright

    screenshots = args.build_dir / "screenshots"
    saved_dir = args.build_dir / "browser"
    for folder in (screenshots, saved_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    temp = Path(tempfile.mkdtemp(prefix="autograd-lite-browser-"))
    served = temp / "notebooks"
    # Serve a copy of the notebook folder (data files the notebooks read come along) with every
    # notebook's outputs cleared: the student starts from a blank notebook.
    shutil.copytree(args.notebook_dir, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for extra in notebooks:
        if not (served / Path(extra).name).exists():
            shutil.copy(extra, served / Path(extra).name)
    for nb_path in notebooks:
        target = served / Path(nb_path).name
        nbformat.write(cleared(nbformat.read(nb_path, as_version=4)), target)
    released = sorted(args.student.glob("*/*.ipynb")) if args.student else []
    if released:
        (served / "student").mkdir()
        for path in released:
            shutil.copy(path, served / "student" / path.name)

    server = LabServer(served, temp / "state", saved_dir / "jupyterlab.log")
    results = {}
    nbval_status = 0
    try:
        if not args.builds_only:
            server.start()
            log(f"JupyterLab at {server.url}, log in {server.log_path}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page_errors = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            for nb_path in [] if args.builds_only else notebooks:
                name = Path(nb_path).name
                results[name] = check_one(page, server, nb_path, screenshots, saved_dir, args.timeout)
            for nb_path in [] if args.builds_only else released:
                name = f"student/{nb_path.name}"
                results[name] = check_one(page, server, nb_path, screenshots, saved_dir, args.timeout,
                                          served_as=name, extra_checks=student_problems)
            for kind, folder in (("html", args.html), ("slides", args.slides)):
                if folder is None:
                    continue
                started = time.monotonic()
                problems = check_site(browser, folder, kind, notebooks, screenshots)
                results[f"{kind} build"] = "\n".join(problems) or None
                log(f"  {kind} build ({folder}) offline: {'FAILED' if problems else 'ok'} "
                    f"in {time.monotonic() - started:.1f} s")
                for problem in problems:
                    log(f"    {problem}")
            browser.close()
        if page_errors:
            log("JavaScript errors seen on the page (not failures by themselves):")
            for error in page_errors[:10]:
                log(f"  {error}")
        server.stop()

        failed = [name for name, problem in results.items() if problem]
        log(f"screenshots in {screenshots}")
        log(f"browser: {len(results) - len(failed)} passed, {len(failed)} failed")

        # nbval re-runs each saved notebook in a fresh kernel and compares every output. It runs
        # on the served copies, so that files the notebooks read sit beside them as in notebooks/.
        saved_files = [served / Path(p).name for p in notebooks
                       if Path(p).name in results and results[Path(p).name] is None]  # not student/
        if saved_files and not args.no_nbval:
            sanitize = args.notebook_dir / "sanitize.cfg"
            if not sanitize.exists():
                sanitize = ROOT / "notebooks" / "sanitize.cfg"
            command = [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "--nbval", "--nbval-sanitize-with", str(sanitize), *map(str, saved_files),
            ]
            log("nbval (strict) on the notebooks saved by the browser:")
            nbval_status = subprocess.call(command, cwd=served)
    finally:
        server.stop()
        shutil.rmtree(temp, ignore_errors=True)
    return 1 if any(results.values()) or nbval_status else 0


def student_problems(released_nb, saved_nb):
    """A released notebook as a student first sees it and after Run All: no solution, hidden test or stored
    output, and every exercise's check says "not done yet"."""
    problems = []
    for index, (before, after) in enumerate(zip(released_nb.cells, saved_nb.cells)):
        for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
            if secret in before.source:
                problems.append(f"cell {index} shows its {secret.split()[-1].lower()}")
        if before.cell_type == "code" and before.outputs:
            problems.append(f"cell {index} opened with stored outputs")
        grading = before.metadata.get("nbgrader", {})
        if before.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            text = "".join(o.get("text", "") for o in after.get("outputs", []))
            if "not done yet" not in text.lower():
                problems.append(f"cell {index}, an exercise's check, does not say \"not done yet\": {text[:200]!r}")
    return problems


def check_one(page, server, nb_path, screenshots, saved_dir, timeout, served_as=None, extra_checks=None):
    """Run one notebook in the page; None if every check passed, else what failed."""
    name = served_as or Path(nb_path).name
    started = time.monotonic()
    log(f"  {name}: Run All in Chromium ...")
    problem = None
    try:
        source_nb = nbformat.read(nb_path, as_version=4)
        shot = screenshots / f"{name.replace('/', '_').removesuffix('.ipynb')}.png"
        saved = run_notebook(page, server, name, source_nb, shot, timeout)
        if extra_checks and extra_checks(source_nb, saved):
            raise CheckFailed("\n".join(extra_checks(source_nb, saved)))
        (saved_dir / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(saved, saved_dir / name)
    except CheckFailed as error:
        problem = str(error)
    except Exception as error:  # noqa: BLE001 -- one notebook's failure must not hide the others'
        problem = f"{type(error).__name__}: {error}"
    if problem:
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=str(screenshots / f"{name.replace('/', '_').removesuffix('.ipynb')}.FAILED.png"))
    log(f"  {name}: {'ok' if problem is None else 'FAILED'} in {time.monotonic() - started:.1f} s")
    if problem:
        log("    " + problem.replace("\n", "\n    "))
    return problem


if __name__ == "__main__":
    sys.exit(main())
