"""The package reads bottom-up: each module imports only what lies below it (see the package docstring).

The one import cycle allowed is the one every tensor library has: Tensor's methods call the ops, and the
ops build Tensors (`tensor` <-> `ops`, and the files inside `ops/`). Imports inside functions count too:
a lazy import that reaches up is still a dependency. Also checked here: no module and no function
grows past the sizes that keep them readable in one sitting.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograd_lite"
CORE = ("dtypes", "sizes", "grad_mode", "devices", "printing", "storage", "graph", "engine", "tensor", "ops",
        "factories")  # below autograd/, func, nn, ...
MAX_FILE_LINES = 950
MAX_FUNCTION_LINES = 70


def _module_name(path):
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name, path, known):
    """The package modules that module `name` imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("autograd_lite"):
                module = node.module[len("autograd_lite") + 1:]
            else:
                continue
            # `from . import forward_ad` depends on the submodule, not on the package that holds it
            subs = [f"{module}.{a.name}".strip(".") for a in node.names]
            targets = [t for t in subs if t in known] or [module]
        elif isinstance(node, ast.Import):
            targets = [a.name[len("autograd_lite") + 1:] for a in node.names if a.name.startswith("autograd_lite.")]
        for t in targets:
            if t and t in known and t != name:
                found.add(t)
    return found


def _graph():
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def _strongly_connected(graph):
    """Tarjan's algorithm, iteratively: the groups of modules that import each other in a circle."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.add(m)
                    if m == node:
                        break
                groups.append(group)
    return groups


def _is_internal(module):
    return module != "" and not module.endswith("viz") and not module.endswith("jacobian_order")


def test_the_only_import_cycle_is_tensor_and_ops():
    graph = _graph()
    graph.pop("", None)  # the package's __init__ gathers the public names from every floor
    for name in ("viz", "jacobian_order"):  # old names kept as aliases of the course modules
        graph.pop(name, None)
    cycles = [g for g in _strongly_connected(graph) if len(g) > 1]
    allowed = {"tensor", "ops"} | {m for m in graph if m.startswith("ops.")}
    assert all(g <= allowed for g in cycles), f"import cycles besides tensor <-> ops: {cycles}"
    assert any("tensor" in g for g in cycles), "the tensor <-> ops cycle is expected (Tensor methods call ops)"


@pytest.mark.parametrize("floor", CORE)
def test_the_core_never_imports_upwards(floor):
    graph = _graph()
    above = ("autograd", "func", "nn", "optim", "linalg", "random", "serialization", "course", "viz",
             "jacobian_order", "utils")
    for module, imported in graph.items():
        if module == floor or module.startswith(floor + "."):
            reaching_up = sorted(m for m in imported if m.split(".")[0] in above)
            assert not reaching_up, f"{module} imports {reaching_up}, which are built on top of it"


def test_the_layers_above_the_core_import_downwards_only():
    """autograd/, func, nn, optim and the course aids may import the core and each other as their order
    allows, but nothing in the core or below them imports them; the course aids are imported by nobody."""
    graph = _graph()
    for module, imported in graph.items():
        if module in ("", "viz", "jacobian_order") or module.startswith("course"):
            continue
        assert not [m for m in imported if m.startswith("course")], f"{module} imports a course aid"
    order = ["dtypes", "sizes", "grad_mode", "devices", "printing", "storage", "graph", "engine", "tensor", "ops",
             "factories", "vectorized_map", "random", "autograd", "func", "compiler", "linalg", "nn", "utils", "optim", "serialization",
             "course"]
    rank = {name: i for i, name in enumerate(order)}
    for module, imported in graph.items():
        top = module.split(".")[0]
        if top not in rank or top in ("tensor", "ops"):
            continue
        for m in imported:
            assert rank.get(m.split(".")[0], -1) <= rank[top], f"{module} imports {m}, which lies above it"


def test_files_and_functions_stay_readable_in_one_sitting():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.name}:{node.name}: {n} lines")
    assert not too_long, too_long
