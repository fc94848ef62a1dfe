r"""In which order to multiply a chain of Jacobians: forward, reverse, or a hybrid in between.

For a chain of layers :math:`f = f_k \circ \dots \circ f_1` with widths :math:`n = d_0 \to d_1 \to \dots
\to d_k = m`, the chain rule gives :math:`J = J_k \cdots J_2 J_1`, where :math:`J_i` is the
:math:`d_i \times d_{i-1}` Jacobian of layer i. Matrix multiplication is associative, so every
bracketing gives the same J — but not at the same price: a :math:`(p \times q)(q \times r)` product
costs :math:`pqr` multiply-adds.

* **forward mode** brackets from the input side, :math:`J_k(\cdots(J_3(J_2 J_1)))`: the n columns of
  :math:`J_1` are pushed through the layers. Cost :math:`\sum_{i=2}^{k} d_i\, d_{i-1}\, n`.
* **reverse mode** brackets from the output side, :math:`((J_k J_{k-1}) \cdots) J_1`: the m rows of
  :math:`J_k` are pulled back. Cost :math:`\sum_{i=1}^{k-1} m\, d_i\, d_{i-1}`.
* The cheapest bracketing is the classic *matrix-chain* problem, solved by dynamic programming in
  :math:`O(k^3)`. It can be a **hybrid**: when the narrowest layer is in the middle (wide → narrow →
  wide), reverse mode on the left part and forward mode on the right part, joined at the bottleneck,
  beat both pure modes.

`cheapest_order(widths)` gives the cheapest bracketing and its cost next to the two pure modes;
`chain_jacobian(layers, x, order)` evaluates a chain's Jacobian in a chosen order with the engine's own
`jacfwd` / `jacrev`.

    >>> plan = cheapest_order([100, 1000, 10, 1000, 100])   # wide -> narrow -> wide
    >>> plan.order, plan.mode
    ('((J4 J3) (J2 J1))', 'hybrid')
    >>> plan.cost, plan.forward_cost, plan.reverse_cost
    (2100000, 12000000, 12000000)
"""
from dataclasses import dataclass, field

from .. import grad_mode
from ..func import jacfwd, jacrev

__all__ = ["JacobianOrder", "chain_jacobian", "cheapest_order", "pass_cost"]


@dataclass(frozen=True)
class JacobianOrder:
    """A bracketing of :math:`J_k \\cdots J_1` and what it costs, in multiply-adds."""

    widths: tuple  # d0 = n (inputs), d1, ..., dk = m (outputs)
    order: str  # the bracketing, e.g. "(J3 (J2 J1))"
    cost: int  # of this bracketing
    forward_cost: int  # of J_k(...(J_2 J_1))
    reverse_cost: int  # of ((J_k J_{k-1}) ...) J_1
    tree: object = field(repr=False, default=None)  # the bracketing as nested pairs of layer numbers: (3, (2, 1))

    @property
    def mode(self):
        """'reverse', 'forward' or 'hybrid': which accumulation this order is."""
        if self.order == _text(_reverse_tree(len(self.widths) - 1)):
            return "reverse"
        if self.order == _text(_forward_tree(len(self.widths) - 1)):
            return "forward"
        return "hybrid"


def _forward_tree(k):
    tree = 1
    for i in range(2, k + 1):
        tree = (i, tree)  # J_i (everything to its right)
    return tree


def _reverse_tree(k):
    tree = k
    for i in range(k - 1, 0, -1):
        tree = (tree, i)  # (everything to its left) J_i
    return tree


def _fold(tree, leaf, product):
    """Evaluate a bracketing bottom-up: `leaf(i)` stands for J_i, `product(left, right)` for each pair.

    A post-order walk with an explicit stack (both factors first, then their product), like every walk
    in this package. Used to print a bracketing, to count its cost and to multiply the Jacobians.
    """
    values, stack = [], [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, int):
            values.append(leaf(node))
        elif children_done:
            right = values.pop()
            values.append(product(values.pop(), right))
        else:
            stack += [(node, True), (node[1], False), (node[0], False)]
    return values[0]


def _text(tree):
    """'(J3 (J2 J1))' for (3, (2, 1))."""
    return _fold(tree, lambda i: f"J{i}", lambda left, right: f"({left} {right})")


def _tree_cost(tree, widths):
    """Multiply-adds to evaluate `tree`: a (d_j x d_s)(d_s x d_i) product costs d_j d_s d_i."""

    def product(left, right):  # each factor is (i, j, cost): it maps d_i -> d_j
        (s, j, left_cost), (i, _, right_cost) = left, right
        return i, j, left_cost + right_cost + widths[j] * widths[s] * widths[i]

    return _fold(tree, lambda n: (n - 1, n, 0), product)[2]  # J_n maps d_{n-1} -> d_n


def cheapest_order(widths):
    """The cheapest bracketing of the Jacobian chain for layer widths `[n, d1, ..., m]`.

    Dynamic programme over segments: best[i][j] is the cheapest way to form :math:`J_j \\cdots J_{i+1}`
    (a :math:`d_j \\times d_i` matrix), and the last product splits it at some s:
    best[i][j] = min_s best[i][s] + best[s][j] + d_j d_s d_i. Where a pure mode is as cheap as the
    optimum, that mode is returned (reverse first).
    """
    widths = tuple(int(d) for d in widths)
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least an input and an output width, all positive; got {list(widths)}")
    k = len(widths) - 1
    best = {(i, i + 1): (0, i + 1) for i in range(k)}  # (cost, tree) for J_{i+1} alone
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length
            options = []
            for s in range(i + 1, j):
                (left_cost, left), (right_cost, right) = best[(s, j)], best[(i, s)]
                options.append((left_cost + right_cost + widths[j] * widths[s] * widths[i], (left, right)))
            best[(i, j)] = min(options, key=lambda option: option[0])
    cost, tree = best[(0, k)]
    forward_cost, reverse_cost = _tree_cost(_forward_tree(k), widths), _tree_cost(_reverse_tree(k), widths)
    if reverse_cost <= cost:
        tree = _reverse_tree(k)
    elif forward_cost <= cost:
        tree = _forward_tree(k)
    return JacobianOrder(widths, _text(tree), cost, forward_cost, reverse_cost, tree)


def chain_jacobian(layers, x, order=None):
    """The Jacobian of `layers[-1](...layers[0](x))` at `x`, multiplied in the given order.

    order: None (the cheapest, from `cheapest_order`), "forward", "reverse", or a `JacobianOrder`.
    Each layer's own Jacobian :math:`J_i` is taken at the point where the chain reaches it, by `jacrev`
    if the layer narrows (one reverse pass per output) or `jacfwd` if it widens (one forward pass per
    input); the :math:`J_i` are then multiplied in the chosen bracketing. Every order gives the same
    result, with shape `output.shape + x.shape`.
    """
    points = [x]
    with grad_mode.no_grad():
        for layer in layers:
            points.append(layer(points[-1]))
    widths = [p.numel() for p in points]
    k = len(layers)
    if isinstance(order, JacobianOrder):
        if tuple(order.widths) != tuple(widths):
            raise ValueError(f"this order is for widths {list(order.widths)}, but the chain has widths {widths}")
        tree = order.tree
    elif order is None:
        tree = cheapest_order(widths).tree
    elif order in ("forward", "reverse"):
        tree = _forward_tree(k) if order == "forward" else _reverse_tree(k)
    else:
        raise ValueError(f'order must be None, "forward", "reverse" or a JacobianOrder, got {order!r}')

    local = []  # J_i as a d_i x d_{i-1} matrix
    for layer, point, d_in, d_out in zip(layers, points, widths, widths[1:]):
        transform = jacrev if d_out < d_in else jacfwd
        local.append(transform(layer)(point).reshape(d_out, d_in))

    jacobian = _fold(tree, lambda i: local[i - 1], lambda left, right: left @ right)
    return jacobian.reshape(points[-1].shape + x.shape)


def pass_cost(widths, split=None):
    """Multiply-adds of the full Jacobian by automatic differentiation, counted in passes.

    `cheapest_order` counts dense matrix products with each layer's Jacobian J_i taken as given. AD never
    forms J_i: a JVP or VJP applies each layer to one vector, about d_i d_{i-1} multiply-adds per layer
    (a linear layer's matrix-vector product). So one pass through layers a..b costs
    :math:`\\sum_{i=a}^{b} d_i d_{i-1}`, and:

    * forward mode (split=0): n JVPs through every layer;
    * reverse mode (split=k): m VJPs through every layer;
    * a split at layer s (0 < s < k): d_s VJPs through layers 1..s (the rows of J_s...J_1), d_s JVPs through
      layers s+1..k (the columns of J_k...J_{s+1}), and one (m x d_s)(d_s x n) product to join them.

    split=None gives the cheapest split. Returns (cost, split).
    """
    widths = tuple(int(d) for d in widths)
    k = len(widths) - 1

    def through(a, b):  # one pass through layers a..b
        return sum(widths[i] * widths[i - 1] for i in range(a, b + 1))

    def cost(s):
        if s == 0:
            return widths[0] * through(1, k)
        if s == k:
            return widths[k] * through(1, k)
        return widths[s] * through(1, s) + widths[s] * through(s + 1, k) + widths[k] * widths[s] * widths[0]

    if split is not None:
        return cost(split), split
    return min((cost(s), s) for s in range(k + 1))
