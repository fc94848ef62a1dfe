"""The finite-difference harness that checks op rules, shared by test_ops.py and test_properties.py.

Inputs are lists of numpy arrays, one per argument of `fn` (a function of tensors). Finite differences
are always central and taken in float64 (`EPS`); the rules run on tensors of the dtype asked for.
Each helper returns one thing the checks compare:

    fd_directional   J u by finite differences          jvp              (f(x), J u) by forward mode
    vjp              Jᵀw by reverse mode                 vjp_dot          <Jᵀw, u>, recorded (create_graph)
    vjp_dot_grads    ∇<Jᵀw, u> by double backward        fd_vjp_dot       its derivative along d, numerically
"""
import numpy as np

import autograd_lite as ag
from autograd_lite.autograd import forward_ad as fwAD

EPS = 1e-6  # central differences: truncation error ~EPS², rounding error ~1e-16 / EPS


def leaves(arrays, dtype=np.float64):
    """The arrays as leaf tensors of `dtype` that require grad."""
    return [ag.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


def value_float64(fn, arrays):
    """fn at the arrays, computed in float64 without recording a graph, as a float64 numpy array."""
    with ag.no_grad():
        return np.asarray(fn(*[ag.tensor(a.astype(np.float64)) for a in arrays])._data, dtype=np.float64)


def fd_directional(fn, arrays, directions):
    """J u: the central finite difference of fn at the arrays along the directions u (one per input), in float64."""
    plus = [a + EPS * u for a, u in zip(arrays, directions)]
    minus = [a - EPS * u for a, u in zip(arrays, directions)]
    return (value_float64(fn, plus) - value_float64(fn, minus)) / (2 * EPS)


def random_directions(arrays, rng):
    """One standard-normal array of each input's shape (input directions u, d)."""
    return [rng.standard_normal(a.shape) for a in arrays]


def dot(a, b):
    """<a, b> of two arrays, summed in float64, as a Python float."""
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def vjp(out, inputs, w, create_graph=False):
    """Jᵀw: the gradient of <w, out> with respect to each input, by reverse mode (zeros for an unused input);
    the numpy array w is cast to out's dtype."""
    return ag.autograd.grad(out, inputs, ag.tensor(w.astype(out._data.dtype)), create_graph=create_graph,
                            allow_unused=True, materialize_grads=True)


def jvp(fn, arrays, directions, dtype=np.float64):
    """(f(x), J u) as tensors of `dtype`, by forward mode: fn run on dual tensors whose tangents are the directions."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(ag.tensor(a.astype(dtype)), ag.tensor(u.astype(dtype)))
                 for a, u in zip(arrays, directions)]
        return fwAD.unpack_dual(fn(*duals))


def vjp_dot(fn, arrays, w, u, dtype=np.float64):
    """(leaves, Jᵀw, s) at the arrays in `dtype`, where s = <Jᵀw, u> is a tensor recorded with create_graph=True
    so that it can be differentiated again."""
    xs = leaves(arrays, dtype)
    grads = vjp(fn(*xs), xs, w, create_graph=True)
    return xs, grads, sum((g * ag.tensor(ui.astype(g._data.dtype))).sum() for g, ui in zip(grads, u))


def vjp_dot_grads(s, xs):
    """∇s for s = vjp_dot(...)[2] and its leaves xs, by double backward, as numpy arrays (zeros when s is
    constant: fn is linear in every input)."""
    if isinstance(s, ag.Tensor) and s.requires_grad:
        return [g._data for g in ag.autograd.grad(s, xs, allow_unused=True, materialize_grads=True)]
    return [np.zeros(x.shape) for x in xs]


def fd_vjp_dot(fn, arrays, w, u, d):
    """The central finite difference of s = <Jᵀw, u> (see `vjp_dot`) along the directions d, in float64."""
    plus = vjp_dot(fn, [a + EPS * di for a, di in zip(arrays, d)], w, u)[2]
    minus = vjp_dot(fn, [a - EPS * di for a, di in zip(arrays, d)], w, u)[2]
    return (float(plus) - float(minus)) / (2 * EPS)
