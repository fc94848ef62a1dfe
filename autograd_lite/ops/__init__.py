"""Every op of autograd_lite, one family per file; each op class sits beside the function that picks it.

    op.py           the op contract (forward / vjp / jvp) and Op.apply, which runs an op and records its node
    shape.py        views: transpose, permute, movedim, view/reshape, (un)squeeze, expand; repeat; sum_to undoes
                    broadcasting
    elementwise.py  exp, log, sqrt, abs, sign/sgn, round/floor/ceil/trunc/frac, tanh, sigmoid, relu, leaky_relu,
                    gelu, erf, softplus, sin, cos, clamp, where; tanh's, sigmoid's, relu's and leaky_relu's rules
                    as ops of their own
    copies.py       to, clone, fill_, copy_, and `inplace`, which every in-place method goes through
    arithmetic.py   + - * / // % **, neg, reciprocal, maximum, minimum
    reduction.py    sum, mean, prod, max/min, var/std, logsumexp, vector norms
    linalg.py       mm, mv, dot, bmm, addmm, matmul, outer
    indexing.py     cat, stack, hstack, vstack, x[index], narrow, select, x[index] = v, masked_fill, diag
    nn.py           softmax, log_softmax and the losses of nn.functional
    multi_output.py ops with several outputs, one node for all: split / chunk, unbind, var_mean, std_mean
    views.py        in-place ops and views: a view's positions in its base, AsStrided, CopySlices
    batching.py     vmap's side of the ops: BatchedTensor, and how an op runs on a batch (each op's `batch` rule,
                    or a loop over the examples)

`OPS` lists every op class, so that a test can check that each one has samples in the rule-check table.
"""
from .op import MultiOutputOp, Op, OpNode, push_tangent, record_node, run_forward_rule, unpack_saved  # noqa: F401
from .shape import (  # noqa: F401, A004
    Expand, Permute, Repeat, ReshapeAlias, Squeeze, SqueezeDim, SqueezeInplace, T, Transpose, UnsafeView, Unsqueeze,
    View, expand, flatten, movedim, permute, repeat, reshape, squeeze, sum_to, t, transpose, unsqueeze, view,
)
from .elementwise import (  # noqa: F401, A004
    Abs, Ceil, Clamp, Cos, Erf, Exp, Expm1, Floor, Frac, Gelu, LeakyRelu, LeakyReluBackward, LeakyReluInplace, Log,
    Log1p, Relu, Round, RoundDecimals, Sgn, Sigmoid, SigmoidBackward, Sign, Sin, Softplus, Sqrt, Tanh, TanhBackward,
    ThresholdBackward, Trunc, Where, abs, ceil, clamp, cos, erf, exp, expm1, floor, frac, log, log1p, relu, round, sgn,
    sigmoid, sign, sin, sqrt, tanh, trunc, where,
)
from .copies import (  # noqa: F401, A004
    Alias, Clone, Copy, Fill, FillTensor, ToCopy, Zero, copy_from, fill, inplace,
)
from .arithmetic import (  # noqa: F401, A004
    Add, Div, FloorDivide, FloorQuotient, Maximum, Minimum, Mul, Neg, Pow, PowTensor, RPow, Reciprocal, Remainder,
    RemainderOfNumber, RemainderScalar, Rsub, Sub, add, div, floor_divide, maximum, minimum, mul, neg, pow,
    remainder, sub, times_alpha,
)
from .reduction import (  # noqa: F401, A004
    Amax, Argmax, Argmin, LinalgVectorNorm, Logsumexp, MaxDim, Mean, MeanDim, Min, MinDim, Prod, ProdDim, Std, Sum,
    SumDim, Var, all, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var, vector_norm,
)
from .linalg import (  # noqa: F401, A004
    Addmm, Bmm, Dot, Mm, Mv, dot, matmul, mm, outer,
)
from .indexing import (  # noqa: F401, A004
    Cat, DiagEmbed, Diagonal, Index, IndexAdd, MaskedFill, MaskedFillTensor, Select, SetItem, Slice, SliceUnsqueeze,
    Stack, cat, diag, getitem, hstack, masked_fill, masked_fill_, narrow, select, setitem, stack, vstack,
)
from .nn import (  # noqa: F401, A004
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, LogSoftmax, MseLoss, NllLoss, Softmax, _reduce,
)
from .views import AsStrided, AsStridedScatter, CopySlices  # noqa: F401
from .multi_output import (  # noqa: F401
    Split, SplitWithSizes, StdMean, Unbind, VarMean, chunk, split, std_mean, unbind, var_mean,
)

OPS = (  # every op class, family by family
    T, Transpose, Permute, View, ReshapeAlias, UnsafeView, Unsqueeze, Squeeze, SqueezeDim, SqueezeInplace, Expand,
    Repeat,
    Exp, Expm1, Log, Log1p, Sqrt, Abs, Sign, Sgn, Round, RoundDecimals, Floor, Ceil, Trunc, Frac, Tanh, TanhBackward,
    Sigmoid, SigmoidBackward, Relu, ThresholdBackward, LeakyRelu, LeakyReluInplace, LeakyReluBackward, Erf, Gelu,
    Softplus, Sin, Cos, Clamp, Where,
    ToCopy, Clone, Alias, Fill, Zero, Copy, FillTensor,
    Add, Sub, Rsub, Mul, Div, Remainder, FloorQuotient, RemainderScalar, FloorDivide, RemainderOfNumber, Maximum,
    Minimum, Neg, Reciprocal, Pow, PowTensor, RPow,
    Sum, SumDim, Mean, MeanDim, Prod, ProdDim, Amax, Min, Argmax, Argmin, MaxDim, MinDim, Var, Std, Logsumexp,
    LinalgVectorNorm,
    Mm, Mv, Dot, Bmm, Addmm,
    Cat, Stack, Index, Select, Slice, SliceUnsqueeze, IndexAdd, SetItem, MaskedFill, MaskedFillTensor, DiagEmbed,
    Diagonal,
    BinaryCrossEntropyWithLogits, BinaryCrossEntropy, MseLoss, LogSoftmax, Softmax, NllLoss,
    Split, SplitWithSizes, Unbind, VarMean, StdMean,
    AsStrided, AsStridedScatter, CopySlices,
)
