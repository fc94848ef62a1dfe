"""The Tensor: a numpy array plus what autograd needs to know about it.

A tensor holds its values (`_data`, a numpy array) and four pieces of autograd state:

* `requires_grad` — should operations on it be recorded?
* `grad_fn` — the node of the op that made it (`None` for leaves: tensors the user created). Kept in
  `_grad_fn`; reading `grad_fn` also checks, as PyTorch does, that the tensor is not an output of `split`
  (`chunk`, `unbind`) whose memory was written in place since (see ops/views.py).
* `grad` — for leaves that require grad, where `backward()` accumulates the gradient.
* `_vc` — a version counter, bumped by every in-place change. Nodes remember the version of what they
  saved, so a backward that would use a value modified since raises instead of returning a wrong
  gradient. Tensors sharing memory (`detach()`, views) share the counter.

Arithmetic and methods call the ops in `ops/`; there is no logic about derivatives in this file.
`backward()` calls the engine, which sits below this file (it knows nodes, and uses gradients only
through their methods).
"""
import copy as _copy
import numbers
import warnings
import weakref

import numpy as np

from . import devices as _device
from . import dtypes, engine, grad_mode
from .graph import RemovableHandle, multiple_views_message, output_hook
from .printing import tensor_repr
from .sizes import Size, _dim, _shape, _varargs
from .storage import data_array, deepcopy_array as _deepcopy_array, legacy_values


class Tensor:
    __slots__ = ("_data", "_requires_grad", "_grad", "_grad_fn", "_output_nr", "_vc", "_base", "_views",
                 "_split_version", "_accumulator", "_hooks", "_retains_grad", "_tangent", "_tangent_base",
                 "__weakref__")

    __array_ufunc__ = None  # numpy defers to us: `np_array * tensor` calls Tensor.__rmul__

    def __init__(self, *args, device=None):
        """PyTorch's legacy constructor: `Tensor(2, 3)` is a float tensor of that size (zeros here, where PyTorch
        leaves the memory uninitialized), `Tensor([2, 3])` holds those values as floats, `Tensor(t)` shares t's."""
        _device.check(device)
        _init(self, *legacy_values(args, dtypes.get_default_dtype().np, False, Tensor))

    # -- autograd state ---------------------------------------------------------------------------------
    @property
    def requires_grad(self):  # as in PyTorch, also True for a no_grad view of a tensor that requires grad
        base = self._base
        return self._requires_grad or (base is not None and base._requires_grad and self._grad_fn is None)

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad_(flag)

    @requires_grad.deleter
    def requires_grad(self):
        raise RuntimeError("requires_grad must be a bool")

    @property
    def grad_fn(self):
        """The node of the op that made this tensor (None for a leaf). PyTorch refuses to give it for an output
        of split / chunk / unbind (or a view of one) whose memory was written in place since it was made."""
        node = self._grad_fn
        made_at = self._split_version
        if made_at is not None and made_at != self._vc[0] and (node is not None or self._base._requires_grad):
            raise RuntimeError(multiple_views_message(self, indirect=True))
        return node

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf. Returns the tensor itself."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        """How many in-place changes this tensor's memory has seen (read-only; shared with views and detach())."""
        return self._vc[0]

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                "Tensor by mistake, make sure you access the leaf Tensor instead.",
                UserWarning, stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype is not self.dtype:  # PyTorch names the two dtypes in two styles here
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{dtypes.cpp_type_name(value._data.dtype)}' to a "
                    f"tensor with grad_dtype '{dtypes.scalar_type_name(self._data.dtype)}'. The gradient must match "
                    "the tensor's grad_dtype (defaults to the tensor's dtype)."
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        """`del x.grad` sets it to None, as in PyTorch."""
        self._grad = None

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor too (a no-op on leaves, which keep it anyway)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            node = self.grad_fn
            node._hooked = True
            if node._n_outputs == 1:
                node._retain = weakref.ref(self)
            else:  # one of several outputs of its node: retained by output number
                node._retain = {**(node._retain or {}), self._output_nr: weakref.ref(self)}

    @property
    def output_nr(self):
        """Which output of `grad_fn` this tensor is (0 unless the op has several: `split`, `unbind`)."""
        return self._output_nr or 0

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """`hook(grad)` is called with this tensor's gradient during backward; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node._tensor_hooks is None:
                node._tensor_hooks, node._hooked = [], True
            if node._n_outputs > 1:  # the node gets a list of gradients: the hook sees this output's only
                hook = output_hook(hook, self._output_nr)
            node._tensor_hooks.append(hook)
            return RemovableHandle(node._tensor_hooks, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see `autograd.backward`)."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """The same values (shared memory, shared version counter), cut from the graph."""
        return _wrap(self._data, self._vc)

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The values as a tensor outside autograd: changes through it are not tracked (prefer detach())."""
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @data.deleter
    def data(self):
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    # -- copying and pickling ---------------------------------------------------------------------------
    def __reduce_ex__(self, protocol):
        """Pickling (and `copy.copy`) keeps the values, the dtype and requires_grad, not `.grad` nor the graph:
        a non-leaf comes back as a leaf, as in PyTorch."""
        return (_rebuild_tensor, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        """A leaf with its values, requires_grad and `.grad` copied. Views copied together keep sharing memory."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the "
                "moment.  If you were attempting to deepcopy a module, this may be because of a "
                "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) not in memo:
            new = _rebuild_tensor(_deepcopy_array(self._data, memo), self._requires_grad)
            new._grad = _copy.deepcopy(self._grad, memo)
            memo[id(self)] = new
        return memo[id(self)]

    # -- metadata ---------------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def device(self):
        return _device.CPU

    is_cuda = False

    def get_device(self):
        return -1

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def data_ptr(self):
        """The address of the tensor's first element (tensors sharing memory there share it)."""
        return self._data.__array_interface__["data"][0]

    def element_size(self):
        return self._data.itemsize

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # -- conversion -------------------------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The values as a numpy array sharing memory with the tensor (under no_grad too when it requires grad)."""
        if self._requires_grad and grad_mode.enabled and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def tolist(self):
        return self._data.tolist()

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._data.item())

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._data.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            which = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {which} is ambiguous")
        return bool(self._data)

    def to(self, *args, **kwargs):
        """`t.to(float64)`, `t.to('cpu')`, `t.to(device, dtype)`, `t.to(other)` (other's dtype), and the same as
        keywords; `copy=True` always copies. A device other than the CPU raises what CPU-only PyTorch raises."""
        args, where, dtype = list(args), kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if args and isinstance(args[0], Tensor):
            dtype = args.pop(0).dtype
        elif args and isinstance(args[0], (str, int, _device.device)) and not isinstance(args[0], bool):
            where = args.pop(0)
        if args and not isinstance(args[0], bool):
            dtype = args.pop(0)
        if len(args) == 2:  # non_blocking, copy
            copy = args[1]
        _device.check(where)
        copy = copy or (where is not None and _device.device(where).index is not None)  # 'cpu:0' copies, as in PyTorch
        new = self._data.dtype if dtype is None else dtypes.to_numpy_dtype(dtype)
        if new == self._data.dtype and not copy:
            return self
        return _ops.ToCopy.apply(self, dtype=new)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _device.check("cuda")

    def type(self, dtype=None):
        if dtype is None:
            return dtypes.legacy_type_name(self._data.dtype)
        return self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def type_as(self, other):
        return self.to(other.dtype)

    def contiguous(self, memory_format=None):  # a copy when not contiguous (CloneBackward0), as PyTorch: not a view
        return self if self._data.flags.c_contiguous else _ops.Clone.apply(self)

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    # -- printing ---------------------------------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None):
        default = (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool)
        try:
            name = self.grad_fn.name() if self.grad_fn is not None else None
        except RuntimeError:  # a split output written since: PyTorch prints it so too
            name = "Invalid"
        tangent = None
        if self._tangent is not None:
            tangent = repr(self._tangent)
        return tensor_repr(self._data, self.dtype, default, name, self._requires_grad, tangent,
                           prefix=type(self)._repr_prefix)

    _repr_prefix = "tensor("

    def __format__(self, spec):
        if self._data.ndim == 0:  # f"{loss:.3f}" and f"{loss}" format the number, as PyTorch does
            return self._data.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    __hash__ = object.__hash__

    # -- arithmetic (each line calls one op; derivatives live in ops.py) --------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(_operand(other, self), self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        other = _number_or_tensor(other, self)
        return _ops.Rsub.apply(self, other) if isinstance(other, Tensor) else _ops.Rsub.apply(self, c=other)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(self, other)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.mul(_ops.Reciprocal.apply(self), _number_or_tensor(other, self))

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(_number_or_tensor(base, self), self)

    def __matmul__(self, other):
        return _ops.matmul(self, _operand(other, self))

    def __rmatmul__(self, other):
        return _ops.matmul(_operand(other, self), self)

    def __abs__(self):
        return _ops.Abs.apply(self)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # comparisons give bool tensors and are not differentiable
    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __and__(self, other):
        return _compare(np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and, self, other)

    def __or__(self, other):
        return _compare(np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or, self, other)

    def __invert__(self):
        return _wrap(~self._data)

    def logical_not(self):
        return _wrap(np.logical_not(self._data))

    def isfinite(self):
        return _wrap(np.isfinite(self._data))

    def isnan(self):  # x != x: true exactly at a NaN, written as a comparison so that compile traces it
        return _compare(np.not_equal, self, self)

    def equal(self, other):
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self._data, _operand(other, self)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))

    # -- named methods ----------------------------------------------------------------------------------
    def add(self, other, *, alpha=1):
        return _ops.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def neg(self):
        return _ops.Neg.apply(self)

    def reciprocal(self):
        return _ops.Reciprocal.apply(self)

    def square(self):
        return _ops.pow(self, 2)

    def matmul(self, other):
        return _ops.matmul(self, _operand(other, self))

    def mm(self, other):
        return _ops.mm(self, other)

    def dot(self, other):
        return _ops.dot(self, other)

    def exp(self):
        return _ops.Exp.apply(self)

    def expm1(self):
        return _ops.Expm1.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def log1p(self):
        return _ops.Log1p.apply(self)

    def erf(self):
        return _ops.Erf.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def sign(self):
        return _ops.Sign.apply(self)

    def sgn(self):
        return _ops.Sgn.apply(self)

    def tanh(self):
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    def relu(self):
        return _ops.Relu.apply(self)

    def sin(self):
        return _ops.Sin.apply(self)

    def cos(self):
        return _ops.Cos.apply(self)

    def clamp(self, min=None, max=None):  # noqa: A002 (PyTorch's names)
        return _ops.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        return _ops.clamp(self, min, None)

    def clamp_max(self, max):  # noqa: A002
        return _ops.clamp(self, None, max)

    def sum(self, dim=None, keepdim=False, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return _ops.mean(self, dim, keepdim, dtype)

    def prod(self, dim=None, keepdim=False, dtype=None):
        return _ops.prod(self, dim, keepdim, dtype)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def split(self, split_size, dim=0):
        return _ops.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _ops.norm(self, p, dim, keepdim, dtype)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def softmax(self, dim):
        return _ops.Softmax.apply(self, dim=_dim(dim, self._data.ndim))

    def log_softmax(self, dim):
        return _ops.LogSoftmax.apply(self, dim=_dim(dim, self._data.ndim))

    def t(self):
        return _ops.t(self)

    @property
    def T(self):
        """All dims reversed. PyTorch deprecates this for tensors that are not matrices, and says so."""
        n = self._data.ndim
        if n == 0:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
                          UserWarning, stacklevel=2)
        elif n != 2:
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
                "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
                "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                UserWarning, stacklevel=2,
            )
        return _ops.permute(self, tuple(range(n - 1, -1, -1)))

    @property
    def mT(self):
        if self._data.ndim == 1:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
        return _ops.transpose(self, -2, -1)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _ops.permute(self, _varargs(dims))

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    moveaxis = movedim

    def repeat(self, *repeats):
        return _ops.repeat(self, _varargs(repeats))

    def reshape(self, *shape):
        return _ops.reshape(self, _varargs(shape, "reshape"))

    def view(self, *shape):
        return _ops.view(self, _varargs(shape, "view"))

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def expand(self, *sizes):
        return _ops.expand(self, _varargs(sizes, "expand"))

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def sum_to_size(self, *size):
        """Sum this tensor down to `size`, undoing broadcasting (what the engine does to every gradient)."""
        size = _varargs(size)
        shape = self._data.shape
        lead = len(shape) - len(size)
        if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
            raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
        return _ops.sum_to(self, size)

    def outer(self, vec2):
        return _ops.outer(self, vec2)

    def diag(self, diagonal=0):
        return _ops.diag(self, diagonal)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def select(self, dim, index):
        return _ops.select(self, dim, index)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def __setitem__(self, index, value):
        _ops.setitem(self, index, value)

    def clone(self):
        return _ops.Clone.apply(self)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    # -- in-place (each records the out-of-place op, then writes the result into this tensor) ----------
    def add_(self, other, *, alpha=1):
        return _ops.inplace(self, _ops.add, _ops.times_alpha(self, other, alpha), reads=other)

    def sub_(self, other, *, alpha=1):
        return _ops.inplace(self, _ops.sub, _ops.times_alpha(self, other, alpha), reads=other)

    def mul_(self, other):
        return _ops.inplace(self, _ops.mul, other)

    def div_(self, other):
        return _ops.inplace(self, _ops.div, other)

    def copy_(self, src):
        return _ops.inplace(self, _ops.copy_from, src)

    def fill_(self, value):
        return _ops.inplace(self, _ops.fill, value)

    def zero_(self):
        return _ops.inplace(self, _ops.fill, 0)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return _ops.inplace(self, lambda x, _: _ops.clamp(x, min, max), None)

    def masked_fill_(self, mask, value):
        return _ops.masked_fill_(self, mask, value)

    def exp_(self):  # recorded as exp is: ExpBackward0, as in PyTorch (and TanhBackward0, ... below)
        return _ops.inplace(self, lambda x, _: _ops.exp(x), None)

    def tanh_(self):
        return _ops.inplace(self, lambda x, _: _ops.tanh(x), None)

    def sigmoid_(self):
        return _ops.inplace(self, lambda x, _: _ops.sigmoid(x), None)

    def relu_(self):
        return _ops.inplace(self, lambda x, _: _ops.relu(x), None)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_shape(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_shape(size), 1, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_shape(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        """A new tensor of `size` with this tensor's dtype (unless `dtype` is given)."""
        _device.check(device)
        arr = np.full(_shape((size,)), fill_value, self._data.dtype if dtype is None else dtypes.to_numpy_dtype(dtype))
        return _new(arr, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        dtype = dtype if dtype is not None else self.dtype
        return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------------
# construction helpers used by every op (kept tiny: they run once per op result)
# ---------------------------------------------------------------------------------------------------
def _init(t, arr, vc):
    t._data = arr
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = None  # an int only for one of the outputs of a node with several (see output_nr)
    t._vc = vc if vc is not None else [0]
    t._base = None
    t._views = None  # weak references to the views of this tensor made with grad on (ops/views.py)
    t._split_version = None  # for an output of split (or a view of one) made with grad on: its version then
    t._accumulator = None
    t._hooks = None
    t._retains_grad = False
    t._tangent = None
    t._tangent_base = None  # forward mode: True, or the dual tensor, when not its base's tangent (ops/views.py)


def _rebuild_tensor(data, requires_grad):
    """What unpickling calls (module-level, so that pickle can find it by name). The copy is at version 1, as
    PyTorch's copies are: its rebuild writes the values in once."""
    t = _wrap(data, [1])
    t._requires_grad = requires_grad
    return t


def _wrap(arr, vc=None):
    """A tensor around an existing array (no copy). `vc` shares a version counter (views, detach)."""
    # `_init`'s lines, repeated rather than called: every op result is made here.
    t = Tensor.__new__(Tensor)
    t._data = arr
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = None  # an int only for one of the outputs of a node with several (see output_nr)
    t._vc = vc if vc is not None else [0]
    t._base = None
    t._views = None
    t._split_version = None
    t._accumulator = None
    t._hooks = None
    t._retains_grad = False
    t._tangent = None
    t._tangent_base = None
    return t


def _number_or_tensor(value, like):
    """Python numbers stay numbers (so float32 tensors stay float32); everything else becomes a tensor."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float or type(value) is int:  # the usual numbers, before the (slow) abstract-class check
        return value
    if isinstance(value, (bool, numbers.Number)):
        return value.item() if isinstance(value, np.generic) else value
    return tensor(value) if not isinstance(value, np.ndarray) else _wrap(value)


_operand = _number_or_tensor


def _compare(ufunc, a, b):
    b = _operand(b, a)
    b = b._data if isinstance(b, Tensor) else b
    try:
        return _wrap(np.asarray(ufunc(a._data, b)))
    except ValueError:  # shapes that do not broadcast: PyTorch's RuntimeError and message
        raise RuntimeError(_ops.op._broadcast_message([a._data, np.asarray(b)])) from None


# ---------------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------------
def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data` (float data becomes float32, integers int64)."""
    _device.check(device)
    return _new(data_array(data, dtype, Tensor), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with a numpy array (or tensor) when the dtype already matches."""
    _device.check(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_numpy_dtype(dtype) == data.dtype):
        dtypes.from_numpy_dtype(data.dtype)
        return _wrap(data)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with a numpy array (keeps its dtype)."""
    dtypes.from_numpy_dtype(array.dtype)
    return _wrap(array)


def _new(arr, requires_grad):
    t = _wrap(arr)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _float(dtype):
    return dtypes.to_numpy_dtype(dtype) if dtype is not None else dtypes._default_float.np


# The one import cycle of the package, and the one every tensor library has: Tensor's methods call the
# ops, and the ops build Tensors. It closes here, at the end, once `Tensor` and the helpers the ops import
# from this module exist.
from . import ops as _ops  # noqa: E402

# round, floor, ceil, trunc (steps: zero gradients) and frac: `x.floor()` is `torch.floor(x)`, `x.floor_()` writes it
for _name in ("round", "floor", "ceil", "trunc", "frac"):
    setattr(Tensor, _name, getattr(_ops, _name))
    setattr(Tensor, _name + "_", lambda self, _op=getattr(_ops, _name), **options: _ops.inplace(
        self, lambda x, _: _op(x, **options), None))
