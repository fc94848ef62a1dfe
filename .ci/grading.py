#!/usr/bin/env python3
"""The course as nbgrader assignments: release, workspace, autograde, feedback, grades, and the grading demo.

    python .ci/grading.py release     course/release/NN_x/NN_x.ipynb (one assignment per notebook) + zip
    python .ci/grading.py workspace   workspace/: a student's own copies of the released notebooks
    python .ci/grading.py autograde   grade course/submitted/<student>/<assignment>/
    python .ci/grading.py feedback    course/feedback/<student>/<assignment>/*.html
    python .ci/grading.py grades      course/grades.csv (nbgrader's gradebook, exported for an LMS)
    python .ci/grading.py demo        three synthetic students per assignment, graded; fails unless the
                                      reference gets full points, the untouched release zero, and each
                                      typical mistake loses points

The notebooks in notebooks/ are nbgrader *source* notebooks (the instructor's copies):

- An exercise's answer cell is an nbgrader solution cell: the lines before `### BEGIN SOLUTION` leave the
  answer as None (`answer_passes = None`, or a function whose docstring is its only body), so that the
  released cell runs and the check below it says "not done yet".
- Its test cell is an nbgrader autograded test cell (with points): a visible `check(...)` that prints a
  verdict and hints, and `### BEGIN HIDDEN TESTS` asserts that decide the grade.
- "Explain why" questions are manually graded markdown cells: a model answer and then the rubric, both inside
  the solution region (nbgrader replaces it with "YOUR ANSWER HERE" in the release; it accepts
  `=== BEGIN MARK SCHEME ===` regions only in "task" cells, which the course does not use).

Everything this writes is under course/ (nbgrader's course directory: source, release, submitted,
autograded, feedback, gradebook.db) and workspace/, which git ignores.
"""

import argparse
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COURSE = ROOT / "course"
WORKSPACE = ROOT / "workspace"
MISTAKES = ROOT / "tests" / "grading"          # typical wrong answers, one file per notebook
NOT_DONE = re.compile(r"not done yet", re.IGNORECASE)
CODE_STUB = "# YOUR CODE HERE"
TEXT_STUB = "YOUR ANSWER HERE"
NBGRADER_CONFIG = f'''\
# Written by .ci/grading.py: nbgrader's settings for the course (this folder is nbgrader's course directory).
c = get_config()  # noqa: F821 - provided by nbgrader
c.CourseDirectory.course_id = "autograd_lite"
c.CourseDirectory.root = __file__.rsplit("/", 1)[0]
# The released answer cell keeps its `answer = None` line and gets a comment, so it still runs.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
c.ClearSolutions.text_stub = {TEXT_STUB!r}
c.Execute.timeout = 900
c.Execute.allow_errors = True
'''


# --------------------------------------------------------------------------------------------
# Reading the source notebooks
# --------------------------------------------------------------------------------------------


def course_notebooks(folder=NOTEBOOKS):
    """The numbered notebooks NN_*.ipynb, in course order."""
    return sorted(p for p in Path(folder).glob("[0-9]*.ipynb") if p.is_file())


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell):
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell):
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def is_manual(cell):
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def points(nb):
    """{grade_id: points} of every graded cell."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c).get("points", 0))
            for c in nb.cells if nbgrader_meta(c).get("grade")}


def _region(source, begin, end):
    """The lines strictly between the `begin` and `end` delimiter lines ([] if there is none)."""
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if begin in line]
    stops = [i for i, line in enumerate(lines) if end in line]
    if len(starts) != 1 or len(stops) != 1 or stops[0] < starts[0]:
        return []
    return lines[starts[0] + 1:stops[0]]


def solution_region(cell):
    return _region(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")


def hidden_tests(cell):
    return _region(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def format_problems(nb):
    """What is wrong with a source notebook's nbgrader cells (an empty list when nothing is)."""
    problems, ids = [], []
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            for delimiter in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
                if delimiter in cell.source:
                    problems.append(f"cell {index} has `### {delimiter}` but no nbgrader metadata")
            continue
        ids.append(meta.get("grade_id"))
        where = f"cell {index} ({meta.get('grade_id')})"
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader metadata without schema_version 3")
        if meta.get("grade") and not meta.get("points"):
            problems.append(f"{where}: a graded cell with no points")
        if is_solution(cell) and cell.cell_type == "code":
            if not solution_region(cell):
                problems.append(f"{where}: an answer cell needs one `### BEGIN SOLUTION` ... `### END SOLUTION`")
        if is_test(cell):
            if not hidden_tests(cell):
                problems.append(f"{where}: a test cell needs `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`")
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            if "check(" not in visible:
                problems.append(f"{where}: a test cell's visible part should call check(...)")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates or None in ids:
        problems.append(f"grade_ids must be present and unique: {duplicates or 'a cell has none'}")
    if not any(is_test(c) for c in nb.cells):
        problems.append("no autograded test cell")
    return problems


# --------------------------------------------------------------------------------------------
# nbgrader, run in the course directory
# --------------------------------------------------------------------------------------------


def nbgrader(*args, course=COURSE, quiet=False):
    """Run `nbgrader <args>` in the course directory (its nbgrader_config.py applies)."""
    command = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` (its database migrations) from PATH: put this Python's scripts first.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    result = subprocess.run(command, cwd=course, capture_output=quiet, text=True, env=env)
    if result.returncode:
        if quiet:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"`nbgrader {' '.join(args)}` failed (exit status {result.returncode})")


def prepare(course=COURSE, source=NOTEBOOKS):
    """The course directory with nbgrader's config and one source assignment per notebook."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    names = []
    for path in course_notebooks(source):
        folder = course / "source" / path.stem
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(path, folder / path.name)
        names.append(path.stem)
    return names


def release(course=COURSE, source=NOTEBOOKS, quiet=True, only=None):
    """course/release/<assignment>/ for every notebook, checked for leaks, and a zip for students."""
    names = [n for n in prepare(course, source) if not only or n in only]
    for name in names:
        nbgrader("generate_assignment", name, "--force", course=course, quiet=quiet)
    problems = []
    for name in names:
        src = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        rel = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        problems += [f"{name}: {p}" for p in leaks(src, rel)]
    if problems:
        raise SystemExit("release: " + "\n  ".join(["the released notebooks give away:", *problems]))
    archive = course / "autograd_lite_course.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((course / "release").rglob("*.ipynb")):
            zf.write(path, Path("autograd_lite_course") / path.name)
    print(f"released {len(names)} assignments to {course.name}/release/; for students: {course.name}/{archive.name}")
    return names


def leaks(source_nb, released_nb):
    """What a released notebook shows that it should not: solution or hidden-test lines, mark schemes,
    stored outputs."""
    secret = set()
    visible = {line.strip() for c in released_nb.cells for line in c.source.splitlines()}
    for cell in source_nb.cells:
        lines = solution_region(cell) + hidden_tests(cell)
        lines += _region(cell.source, "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")
        secret |= {line.strip() for line in lines if len(line.strip()) >= 8 and not line.strip().startswith("#")}
    shown = secret & visible
    # a line that also appears outside the secret regions of the source is no secret (e.g. `return order`)
    public = set()
    for cell in source_nb.cells:
        text = cell.source
        for begin, end in [("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
                           ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")]:
            text = re.sub(re.escape(begin) + r".*?" + re.escape(end), "", text, flags=re.S)
        public |= {line.strip() for line in text.splitlines()}
    found = [f"secret line: {line}" for line in sorted(shown - public)]
    found += [f"cell {i} has stored outputs" for i, c in enumerate(released_nb.cells)
              if c.cell_type == "code" and (c.outputs or c.execution_count)]
    return found


def workspace(course=COURSE, out=WORKSPACE):
    """Copy released notebooks the student does not have yet into workspace/; never overwrite one."""
    out.mkdir(exist_ok=True)
    fresh, kept = [], []
    for path in sorted((course / "release").glob("*/*.ipynb")):
        target = out / path.name
        if target.exists():
            kept.append(target.name)
        else:
            shutil.copy2(path, target)
            fresh.append(target.name)
    if fresh:
        print(f"{out.name}/: new notebooks {', '.join(fresh)}")
    if kept:
        print(f"{out.name}/: kept your own copies of {len(kept)} notebooks (delete one to get a fresh copy)")
    return out


# --------------------------------------------------------------------------------------------
# The grading demo: three synthetic students
# --------------------------------------------------------------------------------------------


def load_mistakes(name, folder=MISTAKES):
    """{answer grade_id: (wrong code for the solution region, what the mistake reveals)} for a notebook."""
    path = folder / f"{name}.py"
    return runpy.run_path(str(path))["MISTAKES"] if path.exists() else {}


def with_answers(source_nb, replacements):
    """The source notebook with each solution region in `replacements` swapped for other code, and the
    hidden tests and outputs removed (what a student submits, as nbgrader would see it)."""
    nb = nbformat.from_dict(json.loads(json.dumps(source_nb)))
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution(cell) and grade_id in replacements:
            code = replacements[grade_id]
            cell.source = re.sub(r"(?ms)^([ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*",
                                 lambda m: "\n".join(m.group(1) + line for line in code.strip("\n").splitlines()),
                                 cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def submit(course, student, name, nb):
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def scores(course, student, name):
    """{grade_id: points} that autograde gave the student's notebook."""
    path = course / "autograded" / student / name / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    result = {}
    for cell in nb.cells:
        if not is_test(cell):
            continue
        failed = any(o.output_type == "error" for o in cell.get("outputs", []))
        result[nbgrader_meta(cell)["grade_id"]] = 0.0 if failed else float(nbgrader_meta(cell)["points"])
    return result


def demo(course=ROOT / "build" / "grade-demo", source=NOTEBOOKS, only=None):
    """Release, submit three students per assignment, autograde, print the table; fail on a wrong grade."""
    shutil.rmtree(course, ignore_errors=True)
    names = release(course, source, only=only)
    problems = []
    for name in names:
        src = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        mistakes = load_mistakes(name)
        submit(course, "reference", name, with_answers(src, {}))
        submit(course, "untouched", name, nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4))
        submit(course, "typical_mistakes", name, with_answers(src, {k: v[0] for k, v in mistakes.items()}))
        unknown = set(mistakes) - {nbgrader_meta(c).get("grade_id") for c in src.cells if is_solution(c)}
        problems += [f"{name}: tests/grading/{name}.py names no answer cell {sorted(unknown)}"] if unknown else []
    for name in names:
        nbgrader("autograde", name, "--force", course=course, quiet=True)
    rows = []
    for name in names:
        src = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        auto = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in src.cells if is_test(c)}
        manual = sum(float(nbgrader_meta(c)["points"]) for c in src.cells if is_manual(c))
        got = {s: scores(course, s, name) for s in ("reference", "untouched", "typical_mistakes")}
        total = sum(auto.values())
        rows.append((name, total, manual, *(sum(got[s].values()) for s in got)))
        if got["reference"] != auto:
            lost = sorted(k for k in auto if got["reference"].get(k) != auto[k])
            problems.append(f"{name}: the reference solutions lose points in {lost}")
        if any(got["untouched"].values()):
            problems.append(f"{name}: the untouched release gets points in "
                            f"{sorted(k for k, v in got['untouched'].items() if v)}")
        problems += _mistake_problems(name, src, load_mistakes(name), got["typical_mistakes"])
        if not sum(got["typical_mistakes"].values()) < total:
            problems.append(f"{name}: typical mistakes get full points ({total})")
        problems += [f"{name}: {p}" for p in untouched_problems(course, name)]
    _print_table(rows)
    if problems:
        raise SystemExit("grade demo: " + "\n  ".join(["problems found:", *problems]))
    print("grade demo: every assignment grades as it should")


def untouched_problems(course, name):
    """The untouched release, as autograded: every check says "not done yet", and no cell but a test
    cell (whose hidden asserts fail) or one tagged raises-exception shows an error."""
    nb = nbformat.read(course / "autograded" / "untouched" / name / f"{name}.ipynb", as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        if is_test(cell) and not NOT_DONE.search(text):
            problems.append(f"untouched: test cell {index} does not say \"not done yet\"")
        errors = [o for o in outputs if o.output_type == "error"]
        if errors and not is_test(cell) and "raises-exception" not in cell.metadata.get("tags", []):
            problems.append(f"untouched: cell {index} raises {errors[0].ename}: {errors[0].evalue}")
    return problems


def _tests_of(src, answer_id):
    """The test cells between an answer cell and the next answer cell: the ones that grade it."""
    ids, inside = [], False
    for cell in src.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution(cell) and cell.cell_type == "code":
            inside = grade_id == answer_id
        elif inside and is_test(cell):
            ids.append(grade_id)
    return ids


def _mistake_problems(name, src, mistakes, got):
    problems = []
    for answer_id, (_, why, *expected) in mistakes.items():
        tests = _tests_of(src, answer_id)
        full = sum(float(nbgrader_meta(c)["points"]) for c in src.cells if nbgrader_meta(c).get("grade_id") in tests)
        scored = sum(got.get(t, 0.0) for t in tests)
        if expected and scored != expected[0]:
            problems.append(f"{name}: mistake in {answer_id} ({why}) scores {scored}, expected {expected[0]}")
        elif scored >= full:
            problems.append(f"{name}: mistake in {answer_id} ({why}) gets full points: the hidden tests miss it")
    return problems


def _print_table(rows):
    header = ("assignment", "auto pts", "manual", "reference", "untouched", "typical mistakes")
    widths = [max(len(header[0]), *(len(r[0]) for r in rows)), *(len(h) for h in header[1:])]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        cells = [row[0]] + [f"{v:g}" for v in row[1:]]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["release", "workspace", "autograde", "feedback", "grades", "demo"])
    parser.add_argument("--only", nargs="*", help="demo: only these assignments (notebook stems)")
    args = parser.parse_args(argv)
    if args.what == "release":
        release()
    elif args.what == "workspace":
        if not (COURSE / "release").exists():
            release()
        workspace()
    elif args.what == "autograde":
        prepare()
        nbgrader("autograde", "*")
    elif args.what == "feedback":
        nbgrader("generate_feedback", "*")
    elif args.what == "grades":
        nbgrader("export", "--to", str(COURSE / "grades.csv"))
        print(f"grades in {COURSE.name}/grades.csv")
    else:
        demo(only=args.only)


if __name__ == "__main__":
    main()
