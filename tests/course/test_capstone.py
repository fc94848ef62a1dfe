"""autograd_lite.course.capstone: the capstone's program strategies, comparisons and order figure.

The hidden tests of notebook 9 are built on these; tests/test_capstone.py proves them on wrong engines.
"""
import math

import numpy as np
from hypothesis import given, settings

from autograd_lite.course import capstone


class Value:
    """A tiny correct engine (the notebook's design), to test the machinery with."""

    def __init__(self, data, parents=(), vjp=None, op=""):
        self.data, self.grad, self._parents, self._vjp, self._op = float(data), 0.0, tuple(parents), vjp, op

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._wrap(other)
        return Value(self.data + other.data, (self, other), lambda g: (g, g), "+")

    def __mul__(self, other):
        other = self._wrap(other)
        a, b = self.data, other.data
        return Value(a * b, (self, other), lambda g: (g * b, g * a), "*")

    def __pow__(self, n):
        x = self.data
        return Value(x ** n, (self,), lambda g: (g * n * x ** (n - 1) if n else 0.0,), f"**{n}")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), lambda g: (g * (1 - t * t),), "tanh")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), lambda g: (g * e,), "exp")

    def backward(self):
        order = list(reversed(_order(self)))
        grads = {id(self): 1.0}
        for node in order:
            for p, g in zip(node._parents, node._vjp(grads[id(node)]) if node._parents else ()):
                grads[id(p)] = grads.get(id(p), 0.0) + g
        for node in order:
            if not node._parents:
                node.grad += grads[id(node)]


def _order(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents)
    return order


def _uses(program):
    values, steps = program
    uses = [0] * (len(values) + len(steps))
    for op, *args in steps:
        for i in (args if op in ("add", "mul") else args[:1]):
            uses[i] += 1
    return uses


def test_written_tells_a_stub_from_code():
    def stub():
        """Only a docstring."""
        # YOUR CODE HERE

    def done():
        """Written."""
        return 1

    assert not capstone.written(stub) and capstone.written(done)
    assert capstone.written(Value, "__add__", "tanh") and not capstone.written(Value, "__matmul__")


@settings(max_examples=30)
@given(program=capstone.programs("none"))
def test_programs_without_reuse_use_every_node_at_most_once(program):
    assert max(_uses(program)) <= 1


@settings(max_examples=30)
@given(program=capstone.programs("leaves"))
def test_programs_with_leaf_reuse_use_intermediate_nodes_once(program):
    n = len(program[0])
    assert all(u == 1 for u in _uses(program)[n:-1])
    assert _uses(program)[-1] == 0


@settings(max_examples=30)
@given(program=capstone.programs("any"))
def test_a_right_engine_matches_autograd_lite_on_any_program(program):
    assert capstone.mismatch(program, Value) is None
    assert capstone.mismatch(program, Value, backward_calls=2) is None


def test_a_reused_leaf_needs_accumulation_and_the_message_says_where():
    class Forgetful(Value):            # the buffer keeps the last contribution only
        def __add__(self, other):
            return Forgetful(self.data + other.data, (self, other), lambda g: (g, g), "+")

        def backward(self):
            grads = {id(self): 1.0}
            for node in reversed(_order(self)):
                for p, g in zip(node._parents, node._vjp(grads[id(node)]) if node._parents else ()):
                    grads[id(p)] = g
            for node in _order(self):
                if not node._parents:
                    node.grad += grads[id(node)]

    message = capstone.mismatch(([1.5], [("add", 0, 0)]), Forgetful)
    assert message == "x0 = 1.5; v1 = x0 + x0  (root: v1): leaf gradients [1.0], autograd_lite gives [2.0]"


def test_vjp_mismatch_checks_one_rule_with_its_edge_cases():
    assert capstone.vjp_mismatch(Value, "pow", [0.0], 0) is None
    assert capstone.vjp_mismatch(Value, "mul", [2.0, -3.0]) is None

    class Dividing(Value):
        def __pow__(self, n):
            x, out = self.data, self.data ** n
            return Dividing(out, (self,), lambda g: (g * n * out / x,), "**")

    assert "ZeroDivisionError" in capstone.vjp_mismatch(Dividing, "pow", [0.0], 2)


def test_the_deep_chain_is_deep_and_its_gradient_known():
    root, x, expected = capstone.deep_chain(Value, n=2000)
    with capstone.default_recursion_limit():
        root.backward()
    assert np.isclose(x.grad, expected) and len(capstone._nodes(root)) == 4001


def test_tensor_mismatch_compares_value_and_gradients():
    class Broken:                      # a "tensor" whose sum forgets the gradient's shape
        def __init__(self, data):
            self.data, self.grad = np.asarray(data, dtype=float), None

        def sum(self):
            out = Broken(self.data.sum())
            out.backward = lambda: setattr(self, "grad", np.ones(1))
            return out

    message = capstone.tensor_mismatch(lambda a: a.sum(), [np.ones((2, 3))], Broken, "sum")
    assert "shape" in message


def test_draw_order_numbers_the_nodes_and_marks_a_wrong_order_red():
    x = Value(0.5)
    y = x.tanh()
    root = y.tanh().tanh() + y
    right = capstone.draw_order(root, _order(root), names={id(x): "x"}).source
    assert "red" not in right and "1. x" in right and "5. +" in right
    wrong = capstone.draw_order(root, list(reversed(_order(root)))).source
    assert wrong.count("color=red") == 5
    assert "?. " in capstone.draw_order(root).source


@settings(max_examples=30)
@given(program=capstone.programs("any"))
def test_the_expected_gradients_are_pytorchs_too(program):
    torch = __import__("pytest").importorskip("torch")
    expected = capstone.lite_gradients(program)
    if expected is None:
        return
    root, leaves = capstone.run(program, lambda v: torch.tensor(float(v), dtype=torch.float64, requires_grad=True))
    root.backward()
    assert np.allclose([0.0 if t.grad is None else t.grad.item() for t in leaves], expected, rtol=1e-9, atol=1e-12)
