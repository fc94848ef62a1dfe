"""The backward engine: walk the graph from the outputs to the leaves, applying each node's rule once.

`backward()` and `grad()` (below, re-exported by `autograd`) check their arguments, then call
`run_backward`, which works in two phases, one function each:

1. `prepare`: count each node's consumers (the edges pointing at it). With `inputs=` or `grad()`,
   also decide which nodes lead to a wanted gradient: only those run.
2. `walk`: Kahn's algorithm. A node runs when every gradient meant for it has arrived, i.e. when all
   its consumers have run. Running a node means: sum the gradients that arrived, call its reverse rule
   (`node.op.vjp`), free what it saved (unless `retain_graph`), and route each input's gradient to that
   input's node; running a leaf's `AccumulateGrad` node adds into the leaf's `.grad`. Among the nodes
   that are ready, `AccumulateGrad` nodes run first, then the most recently created node: PyTorch's
   order (`kahn_order` yields it, `backward_order` lists it). Any order that respects the counts gives
   the same gradients.

Errors found before the walk starts (a non-scalar output without a gradient, a gradient of the wrong
shape, nothing that requires grad) change nothing. An error in the middle of the walk (a freed graph, a
tensor modified in place) leaves what PyTorch leaves: the leaves reached so far keep their new `.grad`
and the nodes that ran have freed their saved values.

Every walk uses an explicit stack or heap, never recursion: a chain of a million ops is a graph a
million nodes deep, far past Python's recursion limit.

The engine sits below the Tensor: it needs nodes (`graph.py`) and grad modes, and uses gradients only
through their methods (`+`, `sum_to_size`, `to`, `clone`), so `Tensor.backward` can call it directly.
"""
import heapq
import os

import numpy as np

from . import grad_mode
from .grad_mode import anomaly_state
from .graph import AccumulateGrad, gradient_edge


# ---------------------------------------------------------------------------------------------------
# The two ways in: backward() accumulates into .grad, grad() returns the gradients
# ---------------------------------------------------------------------------------------------------
def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of `tensors` and accumulate it into the `.grad` of the leaves (or of `inputs`).

    grad_tensors: the vector v of the vector-Jacobian product vᵀJ, one per tensor, **with the shape of the
    tensor** (an output), needed whenever an output is not a scalar.
    retain_graph: keep the saved values so backward can run through this graph again (default: create_graph).
    create_graph: record the backward pass itself, so the gradients can be differentiated again.
    """
    tensors = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    nodes, grads = root_gradients(tensors, grad_tensors)
    if inputs is None:
        run_backward(nodes, grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    for t in inputs:
        if t.grad_fn is not None:
            t.retain_grad()  # as PyTorch: a non-leaf input gets its .grad by retain_grad(), for good
    # only the nodes on the way to an input run, the inputs' own nodes included (a leaf's AccumulateGrad
    # fills its .grad, a non-leaf's node fills its retained .grad, and both are then freed as usual)
    run_backward(nodes, grads, retain_graph, create_graph, targets={gradient_edge(t) for t in inputs})


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple; no `.grad` is changed."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not _is_tensor(t):
            raise TypeError("grad(): inputs must be Tensors")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    nodes, grads = root_gradients(outputs, grad_outputs)
    edges = [gradient_edge(t) for t in inputs]
    if not allow_unused:  # checked before the pass, so that this error, too, leaves the graph as it was
        reachable = count_consumers(nodes)
        for i, edge in enumerate(edges):
            if edge not in reachable:
                raise RuntimeError(_unused_message(i))
    captured = run_backward(nodes, grads, retain_graph, create_graph, targets=set(edges), capture=True)
    result = []
    for i, (t, edge) in enumerate(zip(inputs, edges)):
        g = captured.get(edge)
        if type(g) is list:  # one output of a node with several
            g = g[t._output_nr]
        if g is None:
            if not allow_unused:
                raise RuntimeError(_unused_message(i))
            if materialize_grads:
                g = t.new_zeros(t.shape)
        elif not create_graph:
            tangent = g._tangent
            g = g.detach()
            if tangent is not None:  # as PyTorch: the gradient keeps its forward-mode tangent (forward-over-reverse)
                grad_mode.attach_tangent(g, tangent)
        result.append(g)
    return tuple(result)


def _is_tensor(x):
    return hasattr(type(x), "grad_fn")  # the engine knows tensors by what they have (it sits below Tensor)


def _as_tuple(x):
    if x is None:
        return ()
    if _is_tensor(x):
        return (x,)
    return tuple(x)


def _size(shape):
    return f"autograd_lite.Size({list(shape)})"


def root_gradients(outputs, grad_outputs):
    """Check outputs and their gradients; return (nodes, gradients) to start the engine from."""
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    nodes, grads = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not _is_tensor(out):
            raise TypeError(f"outputs must be Tensors, but element {i} is {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.is_floating_point():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = out.new_ones(out.shape)
        else:
            if not _is_tensor(g):
                g = out.new_tensor(np.asarray(g))
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_size(g.shape)} and output[{i}] has a shape "
                    f"of {_size(out.shape)}."
                )
            if g.dtype is not out.dtype:
                g = g.to(out.dtype)
        node = gradient_edge(out)
        nodes.append(node)
        grads.append(g if node._n_outputs == 1 else at_output(node, out._output_nr, g))
    return nodes, grads


def _unused_message(i):
    return (f"The differentiated Tensor at index {i} appears to not have been used in the graph. Set "
            "allow_unused=True if this is the desired behavior.")


# ---------------------------------------------------------------------------------------------------
# The order: consumers counted, then Kahn's algorithm
# ---------------------------------------------------------------------------------------------------
def count_consumers(roots):
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


def kahn_order(roots, consumers):
    """Yield the nodes reachable from `roots`, each once every node that consumes it has been yielded.

    Among the ready nodes the one with the highest priority comes first: an `AccumulateGrad` node (its
    priority is the largest number there is, as in PyTorch, so a leaf's gradient is stored as soon as it
    is complete), else the most recently created node. Leaves tie; a binary heap then gives them in the
    order its sifting leaves them, and Python's `heapq` sifts exactly as the C++ priority queue of
    PyTorch's engine does, so ties come out in PyTorch's order too.

    The counts in `consumers` are used up. A node's children are released when the caller asks for the
    next node, so the caller may finish with a node (run its rule) before its children become ready.
    """
    ready = [(-node._seq, node) for node in dict.fromkeys(roots) if consumers[node] == 0]
    heapq.heapify(ready)
    push, pop = heapq.heappush, heapq.heappop
    while ready:
        node = pop(ready)[1]
        yield node
        for child in node._next:
            if child is not None:
                left = consumers[child] - 1
                consumers[child] = left
                if left == 0:  # every consumer has run: the child is ready
                    push(ready, (-child._seq, child))


def backward_order(roots):
    """Nodes reachable from `roots` in the order the engine runs them (each after all its consumers)."""
    return list(kahn_order(roots, count_consumers(roots)))


# ---------------------------------------------------------------------------------------------------
# The two phases
# ---------------------------------------------------------------------------------------------------
def run_backward(roots, root_grads, retain_graph, create_graph, targets=None, capture=False, accumulate=True,
                 observer=None):
    """Propagate `root_grads` from the nodes `roots` down the graph.

    targets: when given, only the nodes on the way to one of these nodes run. With `capture` (for
    `autograd.grad`), the gradient arriving at each target is returned, and a target runs only if it is on
    the way to another; without (for `backward(inputs=...)`), the targets run too, and fill their `.grad`.
    accumulate: False to accumulate nothing into the leaves (the backward replay pictures).
    observer: a callable told `(node, grad)` as each node runs (used by the backward replay pictures).
    Returns {target node: gradient} (captured gradients).
    """
    consumers, needed = prepare(roots, targets, capture)
    previous_mode = grad_mode.enabled
    grad_mode.enabled = create_graph  # rules build a graph only when asked to (create_graph=True)
    whole_graph.append(targets is None)
    try:
        return walk(roots, root_grads, consumers, needed, targets if capture else None, accumulate, observer,
                    retain_graph)
    finally:
        whole_graph.pop()
        grad_mode.enabled = previous_mode


# One flag per running pass, innermost last: True when it runs the whole graph (backward() without `inputs`).
# A backward rule that starts a pass of its own (reentrant checkpointing) reads it: PyTorch's
# torch.autograd._is_checkpoint_valid().
whole_graph = []


def prepare(roots, targets, capture=False):
    """Phase 1: count every node's consumers; with `targets`, find the nodes that lead to one.

    Returns (consumers, needed): `needed` is None when every node runs, else the set of nodes that must run:
    those on the way to a target, and the targets themselves unless they are only captured.
    """
    consumers = count_consumers(roots)
    if targets is None:
        return consumers, None
    order = list(kahn_order(roots, dict(consumers)))
    needed = set() if capture else set(targets)
    for node in reversed(order):  # children come later in `order`, so they are decided first
        if any(c in targets or c in needed for c in node._next if c is not None):
            needed.add(node)
    return consumers, needed


def walk(roots, root_grads, consumers, needed, captures, accumulate, observer, retain_graph):
    """Phase 2: run the nodes in Kahn order, each with the sum of the gradients that reached it.

    Running a node, as PyTorch does: its tensors' hooks (`t.register_hook`), `retain_grad()`, its own
    pre-hooks, then its rule (or, for a leaf's `AccumulateGrad`, adding into `.grad` at once), its
    post-hooks, and freeing its saved values right after (unless `retain_graph`). So a backward that fails
    midway has already filled the `.grad` of the leaves it reached and freed the nodes it ran.
    captures: nodes whose incoming gradient is returned (`autograd.grad`); returns {node: gradient}.
    """
    buffers = {}  # node -> the sum of the gradients that have reached it so far (a list, one per output,
    for node, g in zip(roots, root_grads):  # for a node with several outputs)
        buffers[node] = add(buffers[node], g) if node in buffers else g
    check_nan = anomaly_state.enabled and anomaly_state.check_nan
    create_graph = grad_mode.enabled
    captured = {}
    wanted = needed if captures is None or needed is None else needed | captures  # nodes gradients go to
    for node in kahn_order(roots, consumers):
        grad = buffers.pop(node, None)
        if needed is not None:
            runs = node in needed
            if captures is not None and node in captures:
                if not runs:  # a node that will not run has its tensor hooks called once, here
                    grad = tensor_hooks(node, grad, create_graph)
                captured[node] = grad  # a node that runs passes on the gradient as it arrived
            if not runs:
                continue
        if type(node) is AccumulateGrad:  # a leaf: its hooks, then add into its .grad now
            run_leaf(node, grad, accumulate, create_graph, observer)
            continue
        if node._hooked or grad is None:
            grad = hooks_before(node, grad, create_graph)
            if grad is None:  # no gradient reached this node: as in PyTorch, its hooks saw None, and it is freed
                if not retain_graph:
                    node._release()
                continue
        if observer is not None:
            observer(node, grad)
        saved = node._saved
        if saved is not None:  # PyTorch unpacks every saved value when a node runs, used or not: check them
            versions = node._save_versions
            if versions.count(None) != len(versions):  # (numbers and None need no check)
                node.check_saved()
        out = node._out
        if type(out) is tuple and out[1][0] != node._out_version:  # the saved result too
            node.output  # noqa: B018 - reading it raises PyTorch's error
        grads = call_rule(node, grad, check_nan)
        if not retain_graph:
            node._release()
        route(node, grads, buffers, wanted)
    return captured


def hooks_before(node, grad, create_graph):
    """What runs on the gradient arriving at a node before its rule: the hooks of its tensors, retain_grad(),
    the node's pre-hooks. Returns the gradient they leave, or None if the node received none."""
    if grad is None and node._n_outputs != 1:
        grad = [None] * node._n_outputs  # hooks see one (missing) gradient per output
    grad = tensor_hooks(node, grad, create_graph)
    if node._pre_hooks:
        for hook in node._pre_hooks:
            new = hook(grad)
            if new is not None:
                grad = new
    if type(grad) is list and not any(g is not None for g in grad):
        return None
    return grad


def run_leaf(node, grad, accumulate, create_graph, observer):
    """A leaf's AccumulateGrad node: its hooks (the tensor's, then the node's), then `.grad += grad`, then
    its post-hooks."""
    if node._hooked or node.variable._hooks or grad is None:
        grad = hooks_before(node, grad, create_graph)
        if grad is None:
            return
    if observer is not None:
        observer(node, grad)
    if accumulate:
        accumulate_grad(node.variable, grad, create_graph)
    if node._hooks:
        for hook in node._hooks:
            hook((), (grad,))


def tensor_hooks(node, grad, create_graph):
    """What runs first on the gradient arriving at a node: the hooks registered on its tensors
    (`t.register_hook`, or a leaf's own hooks), then `retain_grad()`."""
    hooks = node.variable._hooks if type(node) is AccumulateGrad else node._tensor_hooks
    if hooks:
        for hook in hooks:
            new = hook(grad)
            if new is not None:
                if not (_is_tensor(new) or type(new) is list):  # a list: a node's several outputs
                    raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
                grad = new
    if node._retain is not None and grad is not None:
        if type(grad) is not list:
            retain(node._retain, grad, create_graph)
        else:
            for nr, ref in node._retain.items():
                if grad[nr] is not None:
                    retain(ref, grad[nr], create_graph)
    return grad


def call_rule(node, grad, check_nan=False):
    """The gradients for `node`'s inputs: its op's reverse rule, then the node's hooks."""
    several = type(grad) is list  # one gradient per output (None for an output that received none)
    if not any(node.needs_input_grad):  # no edge to send anything along (an op on a view made under no_grad)
        grads = (None,) * len(node._next)
    else:
        grads = node.op.vjp(node, *grad) if several else node.op.vjp(node, grad)
    if node._hooks:
        grad_outputs = tuple(grad) if several else (grad,)
        for hook in node._hooks:
            new = hook(grads, grad_outputs)
            if new is not None:
                check_hook_result(hook, grads, new)
                grads = new
    if check_nan:
        raise_if_nan(node, grads)
    return grads


def check_hook_result(hook, grads, new):
    """PyTorch's checks on what a node's post-hook returned in place of the gradients of its inputs."""
    if len(new) != len(grads):
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has returned an incorrect number of values "
                           f"(got {len(new)}, but expected {len(grads)})")
    for old, g in zip(grads, new):
        if old is None and g is not None:
            raise RuntimeError("can't replace a None gradient with a non-None value")


def route(node, grads, buffers, wanted):
    """Add each input's gradient into the buffer of that input's node, with the input's shape and dtype
    (broadcasting undone by `sum_to_size`: a rule may return a gradient of the output's shape)."""
    metas, nrs = node._inputs_meta, node._next_nr
    for i, child in enumerate(node._next):
        if child is None:
            continue
        g = grads[i]
        if g is None or (wanted is not None and child not in wanted):
            continue
        shape, dtype = metas[i]
        data = g._data
        if data.shape != shape:
            g = g.sum_to_size(shape)
        if data.dtype is not dtype and data.dtype != dtype:
            g = g.to(dtype)
        if nrs is not None and child._n_outputs != 1:  # a node with several outputs: to its output's slot
            g = at_output(child, nrs[i], g)
        old = buffers.get(child)
        buffers[child] = g if old is None else add(old, g)


def at_output(node, nr, g):
    """The gradient `g` of output `nr` of `node` as that node's buffer: a list, None for other outputs."""
    grads = [None] * node._n_outputs
    grads[nr] = g
    return grads


def add(old, new):
    """The sum of two gradients for a node: tensors, or lists of them (one per output, None for none)."""
    if type(old) is not list:
        return old + new
    return [b if a is None else a if b is None else a + b for a, b in zip(old, new)]


def retain(ref, grad, create_graph):
    """Fill `.grad` of a tensor that asked for it with `retain_grad()` (if it still exists)."""
    tensor = ref()
    if tensor is not None:
        if tensor._grad is None:  # a copy, as PyTorch's (CloneBackward0 under create_graph)
            tensor._grad = grad.clone() if create_graph else grad.detach().clone()
        else:
            tensor._grad = tensor._grad + (grad if create_graph else grad.detach())


def accumulate_grad(variable, grad, create_graph):
    """`variable.grad += grad`, in place when possible (so references to `.grad` see the sum), as PyTorch."""
    old = variable._grad
    if old is None:
        # a copy either way: the engine may hand the same gradient to several leaves (a + b), or a view (t())
        variable._grad = grad.clone() if create_graph else grad.detach().clone()
    elif create_graph or grad_mode.enabled:
        variable._grad = old + grad
    else:
        old._data += grad._data
        old._vc[0] += 1


# ---------------------------------------------------------------------------------------------------
# Anomaly detection's check (switched on by autograd.detect_anomaly)
# ---------------------------------------------------------------------------------------------------
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def forward_trace(node):
    """Where `node`'s op was called: the stack recorded when it was made, ending at the last frame of the
    user's code (the frames inside autograd_lite, such as `Tensor.__matmul__` -> `matmul` -> `mm`, are
    dropped from the end)."""
    frames = list(node._trace or ())
    while frames and frames[-1].startswith(f'  File "{_PACKAGE}'):
        frames.pop()
    return "".join(frames) if frames else "  (created before anomaly detection was enabled)\n"


def raise_if_nan(node, grads):
    """Raise if the rule of `node` returned NaN, with the forward traceback of where `node` was made."""
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind == "f" and np.isnan(g._data).any():
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                f"{forward_trace(node)}"
            )
