"""Stable in class: nothing in the package (or in the notebooks) touches the network.

Two checks: no module of the package imports a networking library, and a fresh interpreter whose
sockets all raise can import everything and run a small workload (training steps, forward mode,
Jacobians, a graph picture).
"""
import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograd_lite"
NETWORK_MODULES = {"socket", "ssl", "urllib", "http", "requests", "httpx", "aiohttp", "urllib3", "ftplib",
                   "smtplib", "telnetlib", "xmlrpc", "webbrowser", "websocket", "websockets", "pip"}


def _imported_modules(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_a_networking_library(path):
    found = {name for name in _imported_modules(path.read_text()) if name.split(".")[0] in NETWORK_MODULES}
    assert not found, f"{path.relative_to(ROOT)} imports {sorted(found)}"


NOTEBOOK_NETWORK = re.compile(r"^\s*(?:import|from)\s+(?:" + "|".join(sorted(NETWORK_MODULES)) + r")\b"
                              r"|urlopen|urlretrieve|requests\.get|^\s*[!%]\s*(?:pip|conda|wget|curl)\b", re.MULTILINE)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_notebook_cell_reaches_the_network(path):
    cells = json.loads(path.read_text())["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            match = NOTEBOOK_NETWORK.search(source)
            assert match is None, f"{path.name} cell {i}: {match.group(0).strip()!r}"


WORKLOAD = textwrap.dedent("""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    class RefusedSocket(socket.socket):  # a class still, so that modules subclassing it (ssl) import
        def __init__(self, *args, **kwargs):
            refuse()

    socket.socket = RefusedSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    socket.socketpair = refuse

    import autograd_lite as torch
    import autograd_lite.nn as nn
    import autograd_lite.nn.functional as F
    import autograd_lite.optim as optim
    from autograd_lite import func, viz
    from autograd_lite.autograd import forward_ad as fwAD, functional

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(16, 2), torch.rand(16, 1)
    for _ in range(5):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    with fwAD.dual_level():
        d = fwAD.make_dual(torch.ones(3), torch.ones(3))
        assert fwAD.unpack_dual(d.sin()).tangent is not None
    assert functional.jacobian(lambda v: v.exp(), torch.ones(3)).shape == (3, 3)
    assert func.grad(lambda v: (v * v).sum())(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
    w = torch.ones(2, requires_grad=True)
    graph = viz.draw_graph((w * 2).sum(), params=dict(w=w))
    assert "digraph" in graph.source
    print("ok")
""")


def test_a_workload_runs_with_every_socket_refused():
    result = subprocess.run([sys.executable, "-c", WORKLOAD], capture_output=True, text=True, timeout=120, check=False,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
