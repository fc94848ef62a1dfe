r"""`torch.autograd.functional`: Jacobians, Hessians and their products for functions of tensors.

Unlike `autograd_lite.func`, these take the inputs directly (`jacobian(f, x)`, not `jacrev(f)(x)`),
accept a Tensor or a tuple of Tensors, and give results structured like the inputs and outputs:
a Tensor when both are single Tensors, a tuple per input when the inputs are a tuple, a tuple per
output (of tuples per input) when the function returns a tuple.

How each is computed (as PyTorch computes it):

* `vjp`     vᵀJ — one forward pass, one reverse pass.
* `jvp`     J u — the *double-backward trick*: with a dummy w, g(w) = Jᵀw is linear in w, and pulling u
            back through g gives J u. One forward and two reverse passes.
* `jacobian` reverse mode: one forward pass, one reverse pass per output element (rows of J);
            `strategy="forward-mode"`: one forward pass with tangents per input element (columns).
            With `vectorize=True`, `vmap` batches those passes into one.
* `hessian` the Jacobian of the gradient (reverse-over-reverse; `outer_jacobian_strategy="forward-mode"`
            makes it forward-over-reverse).
* `vhp`     vᵀH — a reverse pass through the gradient; `hvp` H v by the double-backward trick
            (for the symmetric Hessians of smooth functions the two agree).

`create_graph=True` records these computations, so their results can be differentiated again;
otherwise results are detached. `strict=True` raises when an output does not depend on an input
instead of returning zeros.
"""
import numpy as np

from .. import grad_mode
from ..ops import stack
from ..factories import zeros_like
from ..tensor import Tensor, _wrap
from . import forward_ad as fwAD
from ..engine import grad as _grad
from ..vectorized_map import vmap

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# -- the helpers of torch.autograd.functional, with its messages ----------------------------------------------------
def _as_tuple(inp, arg_name, fn_name):
    """`(was_a_tuple, tuple_of_tensors)`."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                            f"{where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res, to_unpack):
    """Undo the tuples the user did not give: `to_unpack` is was-a-tuple, or (outputs', inputs')."""
    if isinstance(to_unpack, tuple):
        outputs_tuple, inputs_tuple = to_unpack
        if not inputs_tuple:
            res = tuple(el[0] for el in res)
        return res if outputs_tuple else res[0]
    return res if to_unpack else res[0]


def _preprocess(inputs, create_graph, need_graph):
    """Fresh copies of the inputs to differentiate with respect to (views in the outer graph if create_graph)."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _postprocess(results, create_graph):
    if isinstance(results[0], Tensor):
        return results if create_graph else tuple(r.detach() for r in results)
    return tuple(_postprocess(r, create_graph) for r in results)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


def _check_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError({
                "outputs": f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                           "computed in a differentiable manner from the input when running in strict mode.",
                "grad_inputs": f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.",
                "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with "
                            f"respect to input {i} is independent of the input. This is not allowed in strict mode. "
                            "You should ensure that your function is twice differentiable and that the jacobian "
                            "depends on the inputs (this would be violated by a linear function for example).",
                "hessian": f"The hessian of the user-provided function with respect to input {i} is independent of "
                           "the input. This is not allowed in strict mode. You should ensure that your function is "
                           "thrice differentiable and that the hessian depends on the inputs.",
            }[kind])


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """`autograd.grad` over the outputs that require grad; None for inputs they do not reach."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    used = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not used:
        return (None,) * len(inputs)
    return _grad([o for o, _ in used], inputs, [g for _, g in used], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _call(func, inputs, fn_name, strict):
    outputs = func(*inputs)
    is_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _prepare_v(v, others, is_others_tuple, create_graph, fn_name, none_message):
    if v is None:
        if len(others) != 1 or others[0].numel() != 1:
            raise RuntimeError(none_message)
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _preprocess(v, create_graph, need_graph=False)
    _validate_v(v, others, is_others_tuple)
    return v


_V_NONE_OUTPUT = ("The vector v can only be None if the user-provided function returns a single Tensor with a single "
                  "element.")
_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor with a "
                 "single element.")


# -- products -------------------------------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """`(func_output, vjp)`: the output and vᵀJ (shaped like the inputs). One forward, one reverse pass."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp", _V_NONE_OUTPUT)
    with grad_mode.set_grad_enabled(True if create_graph else grad_mode.is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(result, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """`(func_output, jvp)`: the output and J v (shaped like the outputs), by the double-backward trick."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp", _V_NONE_INPUT)
        is_outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        dummies = tuple(zeros_like(o).requires_grad_() for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)  # Jᵀw, linear in w
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(True if create_graph else grad_mode.is_grad_enabled()):
        grads = _autograd_grad(grad_inputs, dummies, v, create_graph=create_graph)  # d<Jᵀw, v>/dw = J v
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(result, create_graph), is_outputs_tuple))


# -- Jacobian and Hessian -------------------------------------------------------------------------------------------
# (`autograd_lite.func` builds its jacrev / jacfwd from these three helpers too.)
def _standard_basis(t):
    """The standard basis e_0, e_1, ... of the space of `t`, each a tensor of t's shape."""
    eye = np.eye(t._data.size, dtype=t._data.dtype)
    return [_wrap(row.reshape(t._data.shape)) for row in eye]


def _stack_to(pieces, dim, shape, dtype):
    """`stack(pieces, dim)` reshaped to `shape`; zeros of `shape` when there are no pieces (an empty Jacobian)."""
    if not pieces:
        return _wrap(np.zeros(shape, dtype))
    return stack(pieces, dim).reshape(shape)


def _bases(inputs, sizes):
    """For each input, its columns of the identity of width sum(sizes), each row of the input's shape: row k is
    the tangent of that input when input element k (numbered across the inputs) has tangent 1."""
    eye, start, bases = np.eye(sum(sizes)), 0, []
    for x, n in zip(inputs, sizes):
        bases.append(_wrap(eye[:, start:start + n].astype(x._data.dtype).reshape((sum(sizes),) + tuple(x.shape))))
        start += n
    return bases


def _column_blocks(columns, out, inputs, sizes):
    """d out / d x for each input x, from the tangents of `out` for every input element (their leading dim)."""
    columns = columns.movedim(0, -1)  # out.shape + (elements,)
    blocks, start = [], 0
    for x, n in zip(inputs, sizes):
        block, shape = columns.narrow(-1, start, n), tuple(out.shape) + tuple(x.shape)
        blocks.append(block if block.shape == shape else block.reshape(shape))  # (a reshape may copy)
        start += n
    return blocks


def _jacobian_forward(func, inputs, strict, vectorize):
    """Forward mode: one forward pass with tangents per input element; each gives a column of J."""
    if strict:
        raise RuntimeError('autograd_lite.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                           'are not supported together (yet). Please either set `strict=False` or '
                           '`strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                  "implemented for `vectorize=True`.")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    sizes = [x.numel() for x in inputs]
    if not sum(sizes):  # no input elements: one pass without tangents, for the outputs' shapes
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs", "jacobian")
        jac = [[_wrap(np.zeros(tuple(o.shape) + tuple(x.shape), o._data.dtype)) for x in inputs] for o in outputs]
        return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))
    seen = {}

    def push(*directions):  # one forward pass, every input carrying its batch of tangents (the columns' e_k)
        duals = tuple(fwAD.make_dual(x, u) for x, u in zip(inputs, directions))
        seen["is_tuple"], outs = _as_tuple(func(*duals), "outputs", "jacobian")
        unpacked = [fwAD.unpack_dual(o) for o in outs]
        seen["outputs"] = [p for p, _ in unpacked]
        return tuple(t if t is not None else zeros_like(p) for p, t in unpacked)

    with fwAD.dual_level():
        columns = vmap(push)(*_bases(inputs, sizes))
    is_outputs_tuple, outputs = seen["is_tuple"], seen["outputs"]
    jac = [[block.detach() for block in _column_blocks(c, o, inputs, sizes)] for c, o in zip(columns, outputs)]
    return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))  # lists, not tuples, here: as PyTorch


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`; for one Tensor in and out, shape `output.shape + input.shape`.

    `strategy="reverse-mode"` (default): one forward pass, then one reverse pass per output element —
    cheap when there are few outputs. `"forward-mode"` (needs `vectorize=True`, as in PyTorch): one
    forward pass per input element — cheap when there are few inputs. With `vectorize=True` those passes
    are batched by `vmap`: one reverse pass for all rows, or one forward pass for all columns.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has '
                         'more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to '
                         'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('autograd_lite.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, strict, vectorize)
    if strict and vectorize:
        raise RuntimeError("autograd_lite.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                           "supported together. Please either set `strict=False` or `vectorize=False`.")
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        jac = []
        for i, out in enumerate(outputs):
            if vectorize and out.numel():  # every row in one vmapped reverse pass
                jac.append(_rows_by_vmap(out, inputs, create_graph))
                continue
            rows = [[] for _ in inputs]  # rows[j]: e_kᵀ J for the block d out / d inputs[j]
            for e in _standard_basis(out):
                grads = _autograd_grad((out,), inputs, (e,), create_graph=create_graph, retain_graph=True)
                for j, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        g = zeros_like(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                           "This is not allowed in strict mode when create_graph=True.")
                    rows[j].append(g)
            jac.append(tuple(_stack_to(r, 0, out.shape + x.shape, x._data.dtype) for r, x in zip(rows, inputs)))
        jac = _postprocess(tuple(jac), create_graph)
        return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))


def _rows_by_vmap(out, inputs, create_graph):
    """Every block d out / d inputs[j] of the Jacobian from one reverse pass vmapped over the basis vectors e_k."""
    m = out.numel()
    basis = _wrap(np.eye(m, dtype=out._data.dtype).reshape((m,) + tuple(out.shape)))

    def pull(e):
        grads = _autograd_grad((out,), inputs, (e,), create_graph=create_graph, retain_graph=True)
        return tuple(g if g is not None else zeros_like(x) for g, x in zip(grads, inputs))

    rows = vmap(pull)(basis)
    return tuple(r.reshape(tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient. Shape `input.shape + input.shape`;
    for a tuple of inputs, a tuple of tuples (block [i][j] is d²f / d input_i d input_j)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)  # the dual inputs, made leaves of the inner graph
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_output(func, inputs, fn_name, strict):
    is_outputs_tuple, outputs = _call(func, inputs, fn_name, strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return is_outputs_tuple, outputs


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """`(func_output, vhp)`: the output and vᵀH — a reverse pass through the recorded gradient."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "vhp", _V_NONE_INPUT)
        is_outputs_tuple, outputs = _scalar_output(func, inputs, "vhp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with grad_mode.set_grad_enabled(True if create_graph else grad_mode.is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(result, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """`(func_output, hvp)`: the output and H v, by the double-backward trick on the gradient."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "hvp", _V_NONE_INPUT)
        is_outputs_tuple, outputs = _scalar_output(func, inputs, "hvp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        grad_jac = tuple(zeros_like(x).requires_grad_() for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)  # Hᵀw, linear in w
        _check_requires_grad(jac, "hessian", strict)
    with grad_mode.set_grad_enabled(True if create_graph else grad_mode.is_grad_enabled()):
        grads = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(result, create_graph), is_inputs_tuple))
