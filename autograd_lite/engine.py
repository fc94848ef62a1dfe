"""The backward engine: walk the graph from the outputs to the leaves, applying each node's rule once.

A node may only run when every gradient meant for it has arrived — all the nodes that consume its
output have run. So the engine first counts each node's consumers (`_count_consumers`), then runs
nodes whose count has dropped to zero (Kahn's algorithm). Among the nodes that are ready it picks the
most recently created one, which is also PyTorch's order; any order that respects the counts would
give the same gradients.

Both walks use an explicit stack or heap, never recursion: a chain of a million ops is a graph a
million nodes deep, far past Python's recursion limit.

Side effects wait until the walk has succeeded. Leaves' `.grad`, `retain_grad()` results and the
freeing of saved values are applied only after every node has run, so an error in the middle (a freed
graph, a tensor modified in place) leaves every `.grad` and every saved value as it was.
"""
import heapq
import itertools

from . import grad_mode
from .function import AccumulateGrad, _tensor, anomaly_state


def _count_consumers(roots):
    """For every node reachable from `roots`: how many edges point at it (its consumers in the graph)."""
    consumers = {}
    stack = []
    for node in roots:
        if node not in consumers:
            consumers[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        for child in node._next:
            if child is None:
                continue
            if child in consumers:
                consumers[child] += 1
            else:
                consumers[child] = 1
                stack.append(child)
    return consumers


def backward_order(roots, consumers=None):
    """Nodes reachable from `roots` in the order the engine runs them (each after all its consumers).

    consumers: counts from `_count_consumers(roots)` if the caller has them (they are used up).
    """
    if consumers is None:
        consumers = _count_consumers(roots)
    ties = itertools.count()  # equal creation numbers (leaves) run in the order they became ready
    ready = [(-node._seq, next(ties), node) for node in dict.fromkeys(roots) if consumers[node] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)[2]
        order.append(node)
        for child in node._next:
            if child is not None:
                consumers[child] -= 1
                if consumers[child] == 0:
                    heapq.heappush(ready, (-child._seq, next(ties), child))
    return order


def _needed(order, targets):
    """The nodes from which some target can be reached (`needed`), and among them those whose rule must
    run to get there (`expand`): for `autograd.grad`, only these do any work."""
    needed, expand = set(targets), set()
    for node in reversed(order):  # children come later in `order`, so they are decided first
        if any(c in needed for c in node._next if c is not None):
            needed.add(node)
            expand.add(node)
    return needed, expand


def sum_to(grad, shape):
    """Undo broadcasting: sum `grad` over the dimensions that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    if not stretched:  # only dims added in front (a bias broadcast over a batch): one sum gives the shape
        return grad.sum(tuple(range(lead)))
    return grad.sum(tuple(range(lead)) + stretched, keepdim=True).reshape(shape)


def run_backward(roots, root_grads, retain_graph, create_graph, targets=None, accumulate=True, observer=None):
    """Propagate `root_grads` from the nodes `roots` down the graph.

    targets: nodes whose incoming gradient should be returned (for `autograd.grad` and `inputs=`); when
    given, only the nodes that lead to a target run, and nothing is accumulated unless `accumulate`.
    observer: a callable told `(node, grad)` as each node runs (used by the backward replay pictures).
    Returns {target node: gradient}.
    """
    buffers = {}
    for node, g in zip(roots, root_grads):
        buffers[node] = buffers[node] + g if node in buffers else g

    consumers = _count_consumers(roots)
    needed = expand = None
    if targets is not None:
        needed, expand = _needed(backward_order(roots, dict(consumers)), targets)
    ties = itertools.count()  # equal creation numbers (leaves) run in the order they became ready
    ready = [(-node._seq, next(ties), node) for node in buffers if consumers[node] == 0]
    heapq.heapify(ready)
    heappush, heappop = heapq.heappush, heapq.heappop
    check_nan = None
    if anomaly_state.enabled:
        from .autograd.anomaly_mode import check_nan

    captured = {}
    leaf_grads = []  # (AccumulateGrad node, gradient), applied after the walk
    retained = []  # (tensor, gradient) for retain_grad(), applied after the walk
    ran = []  # nodes whose saved values are freed after the walk unless retain_graph
    previous_mode = grad_mode.enabled
    grad_mode.enabled = create_graph  # rules build a graph only when asked to (create_graph=True)
    after = None  # the node to run next when it is the only one ready (a chain): no trip through the heap
    try:
        while True:
            if after is not None:
                node, after = after, None
            elif ready:
                node = heappop(ready)[2]
            else:
                break
            grad = buffers.pop(node, None)
            if grad is not None:
                if node._pre_hooks:
                    for hook in node._pre_hooks:
                        new = hook(grad)
                        if new is not None:
                            grad = new
                if node._retain is not None:
                    retained.append((node._retain, grad))
                if observer is not None:
                    observer(node, grad)
            is_leaf = type(node) is AccumulateGrad
            if targets is not None and node in targets and grad is not None:
                captured[node] = _leaf_hooks(node, grad) if is_leaf else grad
            if is_leaf:
                if grad is not None and accumulate and targets is None:
                    leaf_grads.append((node, grad))
                continue
            grads = None
            if grad is not None and (expand is None or node in expand):
                grads = node.op.vjp(node, grad)
                ran.append(node)
                if node._hooks:
                    for hook in node._hooks:
                        new = hook(grads, (grad,))
                        if new is not None:
                            grads = new
                if check_nan is not None:
                    check_nan(node, grads)
            metas = node._inputs_meta
            for i, child in enumerate(node._next):
                if child is None:
                    continue
                g = grads[i] if grads is not None else None
                if g is not None and (needed is None or child in needed):
                    shape, dtype = metas[i]
                    data = g._data
                    if data.shape != shape:
                        g = sum_to(g, shape)
                    if data.dtype is not dtype and data.dtype != dtype:
                        g = g.to(dtype)
                    old = buffers.get(child)
                    buffers[child] = g if old is None else old + g
                left = consumers[child] - 1
                consumers[child] = left
                if left == 0:  # every consumer has run: the child is ready
                    if after is None and not ready:
                        after = child
                    else:
                        if after is not None:
                            heappush(ready, (-after._seq, next(ties), after))
                            after = None
                        heappush(ready, (-child._seq, next(ties), child))
    finally:
        grad_mode.enabled = previous_mode

    # The walk succeeded: now change state.
    with grad_mode.set_grad_enabled(create_graph):
        for node, g in leaf_grads:
            accumulate_grad(node.variable, _leaf_hooks(node, g), create_graph)
        for ref, g in retained:
            tensor = ref()
            if tensor is not None:
                if not create_graph:
                    g = g.detach().clone()
                tensor._grad = g if tensor._grad is None else tensor._grad + g
    if not retain_graph:
        for node in ran:
            node._release()
    return captured


def _leaf_hooks(node, grad):
    hooks = node.variable._hooks
    if hooks:
        for hook in hooks:
            new = hook(grad)
            if new is not None:
                grad = new
    return grad


def accumulate_grad(variable, grad, create_graph):
    """`variable.grad += grad`, in place when possible (so references to `.grad` see the sum), as PyTorch."""
    old = variable._grad
    if old is None:
        # a copy either way: the engine may hand the same gradient to several leaves (a + b), or a view (t())
        variable._grad = grad.clone() if create_graph else _tensor._wrap(grad._data.astype(variable._data.dtype, copy=True))
    elif create_graph or grad_mode.enabled:
        variable._grad = old + grad
    else:
        old._data += grad._data
        old._vc[0] += 1
