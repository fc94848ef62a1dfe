"""The table of op samples that the rule tests run over: add an op, add a sample here (no test code).

Each sample: a name, a function of tensors, and the inputs as (shape, domain) — the domain keeps
inputs away from kinks and singularities (|x| > 0.1 for abs, x > 0.2 for log, ...), where finite
differences are meaningless.
"""
import numpy as np

import autograd_lite as ag
import autograd_lite.nn.functional as F

REAL, POS, UNIT, AWAY = "real", "pos", "unit", "away"  # any value; > 0.2; in (0.05, 0.95); |x| > 0.2


_W3 = ag.tensor([0.5, 2.0, 1.5], dtype=ag.float64)  # class / pos weights: constants, not differentiated


def _idx(*a):
    return ag.tensor(np.array(a))


_MASK = ag.tensor([[True, False, False], [False, True, True]])  # masks for masked_fill: constants
_MASK_ROW = ag.tensor([False, True, False])


def _mul_into_a_view(x, y):
    """An in-place op on a view of a non-leaf: the base's node becomes CopySlices."""
    b = x * 1.0
    b[1:].mul_(y)
    return b


def _view_after_base_changes(x, y):
    """A view taken before an in-place op on its base: the view is rebased (AsStridedBackward0)."""
    b = x * 1.0
    v = b.t()[0]
    b.mul_(y)
    return v * v


SAMPLES = [
    # name, fn, [(shape, domain), ...]
    ("add", lambda x, y: x + y, [((2, 3), REAL), ((2, 3), REAL)]),
    ("add_broadcast", lambda x, y: x + y, [((2, 3), REAL), ((3,), REAL)]),
    ("add_broadcast_both", lambda x, y: x + y, [((2, 1), REAL), ((1, 3), REAL)]),
    ("add_scalar", lambda x: x + 1.5, [((3,), REAL)]),
    ("radd_scalar", lambda x: 2.0 + x, [((3,), REAL)]),
    ("sub", lambda x, y: x - y, [((4, 1, 3), REAL), ((2, 1), REAL)]),
    ("rsub", lambda x: 1.0 - x, [((2, 2), REAL)]),
    ("mul", lambda x, y: x * y, [((2, 3), REAL), ((2, 3), REAL)]),
    ("mul_broadcast", lambda x, y: x * y, [((4, 1, 3), REAL), ((2, 1), REAL)]),
    ("mul_0d", lambda x, y: x * y, [((2, 3), REAL), ((), REAL)]),
    ("div", lambda x, y: x / y, [((2, 3), REAL), ((2, 3), AWAY)]),
    ("div_broadcast", lambda x, y: x / y, [((3,), REAL), ((2, 1), AWAY)]),
    ("rdiv", lambda x: 2.0 / x, [((3,), AWAY)]),
    ("maximum", lambda x, y: ag.maximum(x, y), [((2, 3), REAL), ((2, 3), REAL)]),
    ("minimum_broadcast", lambda x, y: ag.min(x, y), [((2, 3), REAL), ((3,), REAL)]),
    ("remainder", lambda x, y: x % y, [((2, 3), REAL), ((2, 3), AWAY)]),
    ("remainder_scalar", lambda x: x % 1.5, [((2, 3), REAL)]),
    ("neg", lambda x: -x, [((2, 3), REAL)]),
    ("reciprocal", lambda x: x.reciprocal(), [((3,), AWAY)]),
    ("pow_scalar", lambda x: x**3, [((2, 3), REAL)]),
    ("pow_fraction", lambda x: x**2.5, [((4,), POS)]),
    ("pow_tensor", lambda x, y: x**y, [((2, 3), POS), ((2, 3), REAL)]),
    ("pow_tensor_broadcast", lambda x, y: x**y, [((2, 3), POS), ((3,), REAL)]),
    ("rpow", lambda x: 2.0**x, [((3,), REAL)]),
    ("exp", lambda x: x.exp(), [((2, 3), REAL)]),
    ("expm1", lambda x: x.expm1(), [((2, 3), REAL)]),
    ("log", lambda x: x.log(), [((2, 3), POS)]),
    ("log1p", lambda x: ag.log1p(x - 0.9), [((2, 3), POS)]),
    ("sqrt", lambda x: x.sqrt(), [((2, 3), POS)]),
    ("abs", lambda x: x.abs(), [((2, 3), AWAY)]),
    ("sign", lambda x: x.sign(), [((2, 3), AWAY)]),
    ("sgn", lambda x: ag.sgn(x), [((2, 3), AWAY)]),
    ("round", lambda x: ag.round(x), [((2, 3), REAL)]),
    ("round_decimals", lambda x: ag.round(x, decimals=1), [((2, 3), REAL)]),
    ("floor", lambda x: ag.floor(x), [((2, 3), REAL)]),
    ("ceil", lambda x: ag.ceil(x), [((2, 3), REAL)]),
    ("trunc", lambda x: ag.trunc(x), [((2, 3), REAL)]),
    ("frac", lambda x: ag.frac(x), [((2, 3), REAL)]),
    ("tanh", lambda x: x.tanh(), [((2, 3), REAL)]),
    ("sigmoid", lambda x: x.sigmoid(), [((2, 3), REAL)]),
    ("tanh_backward", lambda g, z: ag.ops.TanhBackward.apply(g, z), [((2, 3), REAL), ((2, 3), UNIT)]),
    ("sigmoid_backward", lambda g, z: ag.ops.SigmoidBackward.apply(g, z), [((2, 3), REAL), ((2, 3), UNIT)]),
    ("relu", lambda x: x.relu(), [((2, 3), AWAY)]),
    ("threshold_backward", lambda g, x: ag.ops.ThresholdBackward.apply(g, x, threshold=0.0),
     [((2, 3), REAL), ((2, 3), AWAY)]),
    ("leaky_relu_backward", lambda g, x: ag.ops.LeakyReluBackward.apply(g, x, negative_slope=0.2),
     [((2, 3), REAL), ((2, 3), AWAY)]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [((2, 3), AWAY)]),
    ("leaky_relu_inplace", lambda x: F.leaky_relu(x * 1.0, inplace=True), [((2, 3), AWAY)]),
    ("erf", lambda x: x.erf(), [((2, 3), REAL)]),
    ("gelu", lambda x: F.gelu(x), [((2, 3), REAL)]),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [((2, 3), REAL)]),
    ("sin", lambda x: x.sin(), [((5,), REAL)]),
    ("cos", lambda x: x.cos(), [((5,), REAL)]),
    ("clamp", lambda x: x.clamp(-0.5, 0.5), [((2, 3), AWAY)]),
    ("clamp_min", lambda x: x.clamp(min=0.0), [((2, 3), AWAY)]),
    ("softplus", lambda x: F.softplus(x), [((2, 3), REAL)]),
    ("softplus_beta_threshold", lambda x: F.softplus(x * 4, beta=2.0, threshold=5.0), [((2, 3), REAL)]),  # both sides
    ("exp_inplace", lambda x: (x * 1.0).exp_(), [((2, 3), REAL)]),
    ("tanh_inplace", lambda x: (x * 1.0).tanh_(), [((2, 3), REAL)]),
    ("sigmoid_inplace", lambda x: (x * 1.0).sigmoid_(), [((2, 3), REAL)]),
    ("relu_inplace", lambda x: ag.relu_(x * 1.0), [((2, 3), AWAY)]),
    ("clamp_inplace", lambda x: (x * 1.0).clamp_(-0.5, 0.5), [((2, 3), AWAY)]),
    ("where", lambda x, y: ag.where(x > 0, x, y), [((2, 3), AWAY), ((2, 3), REAL)]),
    ("where_broadcast", lambda x, y: ag.where(x > 0, x * 2, y), [((2, 3), AWAY), ((3,), REAL)]),
    ("clone", lambda x: x.clone(), [((2, 3), REAL)]),
    ("to_copy", lambda x: ag.ops.ToCopy.apply(x, dtype=np.dtype(np.float64)), [((2, 3), REAL)]),  # x.to(dtype)
    ("alias", lambda x: ag.ops.Alias.apply(x), [((2, 3), REAL)]),  # what make_dual returns
    ("mm", lambda x, y: x @ y, [((2, 3), REAL), ((3, 4), REAL)]),
    ("mv", lambda a, v: a @ v, [((2, 3), REAL), ((3,), REAL)]),
    ("dot", lambda x, y: ag.matmul(x, y), [((3,), REAL), ((3,), REAL)]),
    ("vec_mat", lambda x, w: ag.matmul(x, w), [((5,), REAL), ((5, 3), REAL)]),
    ("batched_mat", lambda x, y: x @ y, [((2, 2, 3), REAL), ((3, 4), REAL)]),
    ("batched_batched", lambda x, y: x @ y, [((2, 2, 3), REAL), ((2, 3, 4), REAL)]),
    ("batched_broadcast", lambda x, y: x @ y, [((2, 1, 2, 3), REAL), ((3, 3, 2), REAL)]),
    ("batched_vec", lambda x, y: x @ y, [((2, 2, 3), REAL), ((3,), REAL)]),
    ("vec_batched", lambda x, y: x @ y, [((3,), REAL), ((2, 3, 4), REAL)]),
    ("linear_bias", lambda x, w, b: F.linear(x, w, b), [((4, 3), REAL), ((2, 3), REAL), ((2,), REAL)]),
    ("linear_nobias_1d", lambda x, w: F.linear(x, w), [((3,), REAL), ((2, 3), REAL)]),
    ("t", lambda x: x.t(), [((2, 3), REAL)]),
    ("T", lambda x: x.T, [((2, 3), REAL)]),  # (PyTorch warns for other ndims; permute reverses them)
    ("transpose", lambda x: x.transpose(0, 2), [((2, 3, 4), REAL)]),
    ("permute", lambda x: x.permute(2, 0, 1), [((2, 3, 4), REAL)]),
    ("reshape", lambda x: x.reshape(3, -1), [((2, 3, 2), REAL)]),
    ("reshape_noncontiguous", lambda x: x.t().reshape(-1), [((2, 3), REAL)]),
    ("reshape_alias", lambda x: x[:, ::2].reshape(2, 1, 2), [((2, 4), REAL)]),
    ("view", lambda x: x.view(6), [((2, 3), REAL)]),
    ("flatten", lambda x: x.flatten(1), [((2, 3, 2), REAL)]),
    ("unsqueeze", lambda x: x.unsqueeze(1), [((2, 3), REAL)]),
    ("squeeze", lambda x: x.squeeze(), [((2, 1, 3, 1), REAL)]),
    ("squeeze_dim", lambda x: x.squeeze(1), [((2, 1, 3), REAL)]),
    ("expand", lambda x: x.expand(4, 2, 3), [((2, 1), REAL)]),
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), [((2, 3, 4), REAL)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [((2, 1), REAL)]),
    ("sum", lambda x: x.sum(), [((2, 3), REAL)]),
    ("sum_dim", lambda x: x.sum(1), [((2, 3, 4), REAL)]),
    ("sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True), [((2, 3, 4), REAL)]),
    ("prod", lambda x: x.prod(), [((2, 3), REAL)]),
    ("prod_dim", lambda x: x.prod(1), [((2, 3, 2), REAL)]),
    ("prod_dim_keepdim", lambda x: ag.prod(x, -2, keepdim=True), [((3, 2), REAL)]),
    ("logsumexp", lambda x: x.logsumexp(1), [((2, 3), REAL)]),
    ("logsumexp_dims_keepdim", lambda x: ag.logsumexp(x, (0, 2), keepdim=True), [((2, 3, 2), REAL)]),
    ("mean", lambda x: x.mean(), [((2, 3), REAL)]),
    ("mean_dim", lambda x: x.mean(-1), [((2, 3), REAL)]),
    ("mean_keepdim", lambda x: x.mean(0, keepdim=True), [((2, 3), REAL)]),
    ("max", lambda x: x.max(), [((2, 3), REAL)]),
    ("min", lambda x: x.min(), [((2, 3), REAL)]),
    ("max_dim", lambda x: x.max(1).values, [((2, 3), REAL)]),
    ("min_dim_keepdim", lambda x: x.min(0, keepdim=True)[0], [((2, 3), REAL)]),
    ("var", lambda x: x.var(), [((2, 3), REAL)]),
    ("var_dim_biased", lambda x: x.var(1, unbiased=False, keepdim=True), [((2, 3), REAL)]),
    ("std", lambda x: x.std(), [((2, 3), REAL)]),
    ("std_dim_correction0", lambda x: ag.std(x, 1, correction=0), [((2, 3), REAL)]),
    ("norm", lambda x: x.norm(), [((2, 3), REAL)]),
    ("norm_dim_keepdim", lambda x: x.norm(dim=1, keepdim=True), [((2, 3), REAL)]),
    ("norm_p1", lambda x: ag.norm(x, 1), [((2, 3), AWAY)]),
    ("norm_p1_5", lambda x: ag.linalg.vector_norm(x, 1.5, dim=0), [((2, 3), AWAY)]),
    ("norm_p3", lambda x: ag.linalg.norm(x, 3, dim=-1), [((2, 3), AWAY)]),
    ("norm_inf", lambda x: x.norm(float("inf"), dim=0), [((2, 3), REAL)]),
    ("cat", lambda x, y: ag.cat([x, y], 1), [((2, 3), REAL), ((2, 2), REAL)]),
    ("stack", lambda x, y: ag.stack([x, y], 1), [((2, 3), REAL), ((2, 3), REAL)]),
    ("fill_with_a_tensor", lambda x, v: (x * 1.0).fill_(v.sum()) * x, [((2, 3), REAL), ((2,), REAL)]),
    ("inplace_on_view", _mul_into_a_view, [((3, 2), REAL), ((2, 2), REAL)]),
    ("view_rebased_after_inplace", _view_after_base_changes, [((2, 3), REAL), ((2, 3), REAL)]),
    ("as_strided_scatter", lambda x: ag.ops.AsStridedScatter.apply(x, positions=(np.array([[0, 2], [1, 1]]),),
                                                                   base_shape=(3,)), [((2, 2), REAL)]),
    ("as_strided", lambda x: ag.ops.AsStrided.apply(x, positions=np.array([[5, 0], [3, 3]])), [((2, 3), REAL)]),
    # ops with several outputs (one node): every output used, or only some (the others get no gradient)
    ("split_one_output", lambda x: x.split(2)[1], [((5, 3), REAL)]),
    ("split_sizes_all", lambda x: ag.cat(x.split([1, 2], 1)[::-1], 1) * x, [((2, 3), REAL)]),
    ("chunk_product", lambda x: ag.mul(*x.chunk(2, 1)), [((2, 4), REAL)]),
    ("unbind", lambda x: ag.mul(*x.unbind(1)[::2]), [((2, 3), REAL)]),
    ("var_mean", lambda x: ag.mul(*ag.var_mean(x, 1)), [((3, 4), REAL)]),
    ("var_mean_mean_only", lambda x: ag.var_mean(x, keepdim=True)[1] * x, [((2, 3), REAL)]),
    ("std_mean", lambda x: ag.std_mean(x, 0, correction=0)[0] + ag.std_mean(x, 0)[1] ** 2, [((3, 2), REAL)]),
    ("hstack", lambda x, y: ag.hstack([x, y]), [((2, 3), REAL), ((2, 2), REAL)]),
    ("hstack_vector_number", lambda x, y: ag.hstack([x, y]), [((3,), REAL), ((), REAL)]),
    ("vstack", lambda x, y: ag.vstack([x, y]), [((3,), REAL), ((2, 3), REAL)]),
    ("outer", lambda x, y: ag.outer(x, y), [((3,), REAL), ((2,), REAL)]),
    ("diag_embed", lambda v: ag.diag(v, 1), [((3,), REAL)]),
    ("diagonal", lambda x: x.diag(-1), [((3, 2), REAL)]),
    ("index_int", lambda x: x[1], [((3, 2), REAL)]),
    ("index_slice", lambda x: x[:, 1:], [((3, 3), REAL)]),
    ("index_none", lambda x: x[None, 1:], [((3,), REAL)]),
    ("index_slice_then_none", lambda x: x[1:, None], [((3, 2), REAL)]),
    ("narrow", lambda x: x.narrow(1, -3, 2), [((2, 4), REAL)]),
    ("select", lambda x: ag.select(x, -1, 1), [((2, 3), REAL)]),
    ("index_array_repeats", lambda x: x[_idx(0, 0, 2)], [((3, 2), REAL)]),
    ("index_mask", lambda x: x[ag.tensor([[True, False], [False, True], [True, True]])], [((3, 2), REAL)]),
    ("index_add_repeats", lambda g: ag.ops.IndexAdd.apply(g, index=np.array([0, 0, 2]), shape=(3, 2)),
     [((3, 2), REAL)]),  # the rule of x[idx]: scatters g back into zeros, repeated rows accumulating
    ("setitem", lambda x, v: _setitem(x, v), [((3, 2), REAL), ((2,), REAL)]),
    ("masked_fill", lambda x: x.masked_fill(_MASK, 0.5), [((2, 3), REAL)]),
    ("masked_fill_broadcast", lambda x: ag.masked_fill(x, _MASK_ROW, -1.0), [((2, 3), REAL)]),  # the mask broadcasts
    ("masked_fill_tensor", lambda x, v: x.masked_fill(_MASK, v), [((2, 3), REAL), ((), REAL)]),
    ("masked_fill_inplace", lambda x, v: (x * 1.0).masked_fill_(_MASK_ROW, v), [((2, 3), REAL), ((), REAL)]),
    ("inplace_add", lambda x, y: (x * 1.0).add_(y), [((2, 3), REAL), ((3,), REAL)]),
    ("inplace_mul", lambda x, y: (x * 1.0).mul_(y), [((2, 3), REAL), ((2, 3), REAL)]),
    ("fill", lambda x: (x * 1.0).fill_(1.5), [((2, 3), REAL)]),
    ("zero", lambda x: (x * 1.0).zero_(), [((2, 3), REAL)]),
    ("fill_tensor", lambda x, v: (x * 1.0).fill_(v), [((2, 3), REAL), ((), REAL)]),
    ("copy_broadcast", lambda x, y: (x * 1.0).copy_(y), [((2, 3), REAL), ((3,), REAL)]),
    ("bce_logits_mean", lambda z, y: F.binary_cross_entropy_with_logits(z, y), [((3,), REAL), ((3,), UNIT)]),
    ("bce_logits_sum_weight", lambda z, y: F.binary_cross_entropy_with_logits(z, y, _W3, reduction="sum"),
     [((2, 3), REAL), ((2, 3), UNIT)]),
    ("bce_logits_pos_weight", lambda z, y: F.binary_cross_entropy_with_logits(z, y, pos_weight=_W3, reduction="none"),
     [((2, 3), REAL), ((2, 3), UNIT)]),
    ("bce", lambda x, y: F.binary_cross_entropy(x, y), [((4,), UNIT), ((4,), UNIT)]),
    ("mse", lambda x, y: F.mse_loss(x, y), [((2, 3), REAL), ((2, 3), REAL)]),
    ("mse_sum", lambda x, y: F.mse_loss(x, y, reduction="sum"), [((2, 3), REAL), ((2, 3), REAL)]),
    ("softmax", lambda x: F.softmax(x, dim=1), [((2, 4), REAL)]),
    ("log_softmax", lambda x: F.log_softmax(x, dim=0), [((3, 2), REAL)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, _idx(1, 0, 3)), [((3, 4), REAL)]),
    ("cross_entropy_none", lambda x: F.cross_entropy(x, _idx(2, 2), reduction="none"), [((2, 3), REAL)]),
    ("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p), [((2, 3), REAL), ((2, 3), UNIT)]),
    ("nll_weight", lambda x: F.nll_loss(x, _idx(0, 2, 2), weight=_W3), [((3, 3), REAL)]),
]


# How the property tests (tests/test_properties.py) may vary each sample's shapes; a sample not listed
# keeps the shapes written above (its values are still random). "+" kinds never make a dimension empty,
# for ops that PyTorch refuses on empty input or that give NaN there (mean, max). The std samples keep their
# shapes: over two elements std is |x1 - x2| / c, whose second derivative is 0 only after a cancellation
# that rounding spoils.
SAME, SAME_NONEMPTY = "same", "same+"  # every input takes one random shape (0-d, empty, size-one dims)
BROADCAST = "broadcast"  # inputs take random shapes that broadcast together
BROADCAST_INTO_FIRST = "broadcast_into_first"  # the first input has the broadcast shape (in-place ops)
RENAME, RENAME_NONEMPTY = "rename", "rename+"  # each size other than 1 in the sample is a symbol that takes
#   a random size, equal sizes staying equal: matmul's inner dimensions keep matching, dims keep their roles
SHAPES = {
    **dict.fromkeys(["add", "add_broadcast", "add_broadcast_both", "sub", "mul", "mul_broadcast", "mul_0d", "div",
                     "div_broadcast", "pow_tensor", "pow_tensor_broadcast", "where", "where_broadcast", "maximum",
                     "minimum_broadcast", "remainder"], BROADCAST),
    **dict.fromkeys(["add_scalar", "radd_scalar", "rsub", "rdiv", "neg", "reciprocal", "pow_scalar", "pow_fraction",
                     "rpow", "exp", "expm1", "log", "log1p", "sqrt", "abs", "tanh", "sigmoid", "tanh_backward",
                     "sigmoid_backward", "relu", "leaky_relu", "leaky_relu_inplace", "erf", "gelu", "gelu_tanh", "sin",
                     "cos", "clamp", "clamp_min", "clone", "sum", "inplace_mul", "mse_sum", "norm", "norm_p1",
                     "remainder_scalar", "to_copy", "alias", "fill", "zero", "softplus", "softplus_beta_threshold",
                     "exp_inplace", "tanh_inplace", "sigmoid_inplace", "relu_inplace", "clamp_inplace", "prod"], SAME),
    **dict.fromkeys(["mean", "max", "min", "mse", "bce", "bce_logits_mean"], SAME_NONEMPTY),
    **dict.fromkeys(["inplace_add", "copy_broadcast"], BROADCAST_INTO_FIRST),
    **dict.fromkeys(["mm", "mv", "dot", "vec_mat", "batched_mat", "batched_batched", "batched_broadcast",
                     "batched_vec", "vec_batched", "linear_bias", "linear_nobias_1d", "t", "T", "transpose",
                     "permute", "reshape_noncontiguous", "flatten", "unsqueeze", "squeeze", "squeeze_dim", "sum_dim",
                     "sum_dims_keepdim", "cat", "stack", "index_slice", "index_none", "index_slice_then_none",
                     "softmax", "log_softmax", "diag_embed", "diagonal", "outer", "movedim", "repeat", "prod_dim",
                     "prod_dim_keepdim", "hstack", "vstack"],
                    RENAME),
    **dict.fromkeys(["mean_dim", "mean_keepdim", "max_dim", "min_dim_keepdim", "cross_entropy_probs",
                     "norm_dim_keepdim", "norm_p1_5", "norm_p3", "norm_inf", "var_dim_biased", "logsumexp",
                     "logsumexp_dims_keepdim"],
                    RENAME_NONEMPTY),
}

def _setitem(x, v):
    y = x.clone()
    y[0] = v
    return y


def sample_inputs(spec, rng, dtype=np.float64):
    """Random inputs inside each argument's domain."""
    arrays = []
    for shape, domain in spec:
        a = rng.standard_normal(shape)
        if domain == POS:
            a = 0.2 + np.abs(a)
        elif domain == UNIT:
            a = rng.uniform(0.05, 0.95, shape)
        elif domain == AWAY:
            a = np.sign(a) * (0.2 + np.abs(a))
            a = np.where(a == 0, 0.5, a)
        arrays.append(np.asarray(a, dtype=dtype))
    return arrays
