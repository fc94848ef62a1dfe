"""`Module`: the base class of every layer and model, with PyTorch's bookkeeping.

A module is a Python object that *registers* what it owns when you assign it as an attribute:

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()                     # creates the registries: call it first
            self.hidden = nn.Linear(2, 16)         # a Module     -> self._modules["hidden"]
            self.scale = nn.Parameter(torch.ones(1))  # a Parameter -> self._parameters["scale"]

        def forward(self, x):                      # model(x) calls this
            return self.scale * self.hidden(x).tanh()

`__setattr__` does the sorting (Parameters, Modules and buffers into their dictionaries, everything
else into the ordinary `__dict__`), and `__getattr__` finds them again. From the registries come
`parameters()` (what an optimizer updates), `named_parameters()`, `children()`, `modules()`,
`state_dict()` (name -> tensor, to save and restore) and the nested `repr`.

Walks over the tree of submodules are iterative (an explicit stack), like the graph walks in the engine.
"""
import collections
import itertools

import numpy as np

from .. import dtypes, grad_mode
from ..tensor import Tensor, _wrap
from .parameter import Parameter


def _typename(obj):
    """`torch.typename`: 'autograd_lite.FloatTensor' for tensors, 'int', 'numpy.ndarray', ... otherwise."""
    if isinstance(obj, Tensor):
        return dtypes.legacy_type_name(obj._data.dtype)
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "") or ""
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    return first + "\n" + "\n".join((" " * spaces) + line if line.strip() else "" for line in lines)


def _zero_grads(params, set_to_none):
    """`zero_grad` of a Module or an Optimizer: each `.grad` becomes None, or (set_to_none=False) zeros in place,
    first cut from any graph that `backward(create_graph=True)` gave it."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            if p.grad.grad_fn is not None:
                p.grad.detach_()
            else:
                p.grad.requires_grad_(False)
            p.grad.zero_()


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: keys it expected but did not find, and keys it did not expect."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Module:
    """Base class for all layers and models: subclass it, call `super().__init__()`, define `forward`."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration -----------------------------------------------------------------------------------
    def _check_new_name(self, kind, name, registry):
        """PyTorch's checks of a name given to register_parameter / register_buffer (`kind`)."""
        if registry not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a Parameter (or None) under `name`; `module.name` then returns it."""
        self._check_new_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(autograd_lite.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in the "
                "forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is part of the module's state but is not trained (a running mean, a loss's
        class weights). Persistent buffers are saved in `state_dict()`."""
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(autograd_lite Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under `name` (what `self.name = module` does)."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        def remove_from(*dicts_or_sets):
            for d in dicts_or_sets:
                if name in d:
                    if isinstance(d, dict):
                        del d[name]
                    else:
                        d.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(autograd_lite.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = self.__dict__.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                    "(autograd_lite.nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = self.__dict__.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(autograd_lite Tensor or None expected)")
                    buffers[name] = value
                else:
                    object.__setattr__(self, name, value)

    def __getattr__(self, name):  # only called when normal attribute lookup fails
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(type(self))) | set(self.__dict__) | set(self._parameters) | set(self._modules)
        keys |= set(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    # -- walking the tree ---------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every submodule, depth first: '' first, then '0', '0.fc', ..."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            if remove_duplicate:
                memo.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for the direct submodules only."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for key, value in get_members(module):
                if value is None or id(value) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + key, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """('hidden.weight', Parameter), ...: every parameter once, named by where it is registered."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module and its submodules (each once): what an optimizer is given."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """`model.get_submodule('0.linear')`: the submodule at a dotted path."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")  # noqa: TRY004  (PyTorch raises AttributeError)
        return mod

    def get_parameter(self, target):
        module_path, _, param_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")  # noqa: TRY004  (PyTorch raises AttributeError)
        return param

    def apply(self, fn):
        """Call `fn(m)` on every submodule and then on the module itself (children first), as in
        `model.apply(init_weights)`. Returns self."""
        order, stack = [], [self]
        while stack:  # reversed pre-order with children pushed in order = children before parents
            module = stack.pop()
            order.append(module)
            stack.extend(m for m in module._modules.values() if m is not None)
        for module in reversed(order):
            fn(module)
        return self

    # -- modes and gradients ------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and all submodules (matters for layers such as Dropout)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004  (PyTorch raises ValueError)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """`train(False)`. It does not turn off gradient recording: use `no_grad()` for that."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turn gradient recording on or off for every parameter (e.g. to freeze a part of a model)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the parameters' gradients before the next backward (they would accumulate otherwise).

        By default `.grad` becomes None (PyTorch 2's default); `set_to_none=False` fills it with zeros.
        """
        _zero_grads(self.parameters(), set_to_none)

    # -- dtype conversion ---------------------------------------------------------------------------------
    def _apply_to_floating(self, np_dtype):
        """Convert every floating-point parameter, its gradient and buffer to `np_dtype`, in place: the
        Parameter objects stay the same (so an optimizer built before still holds them)."""
        for module in self.modules():
            for tensors in (module._parameters, module._buffers):
                for t in tensors.values():
                    if t is None or t._data.dtype.kind != "f" or t._data.dtype == np_dtype:
                        continue
                    t._data = t._data.astype(np_dtype)
                    if t._grad is not None:
                        t._grad = _wrap(t._grad._data.astype(np_dtype))
        return self

    def to(self, *args, **kwargs):
        """`model.to(autograd_lite.float64)` converts floating-point parameters and buffers in place.
        Devices other than 'cpu' are not available."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for arg in args:
            if isinstance(arg, dtypes.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) or arg is not None:
                device = arg
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"autograd_lite runs on the CPU only; got device '{device}'")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}")
        return self._apply_to_floating(dtype.np)

    def float(self):
        return self._apply_to_floating(np.dtype(np.float32))

    def double(self):
        return self._apply_to_floating(np.dtype(np.float64))

    def half(self):
        return self._apply_to_floating(np.dtype(np.float16))

    def cpu(self):
        return self

    # -- saving and loading ---------------------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An ordered dict {'0.weight': tensor, '0.bias': tensor, ...} of parameters and persistent buffers.

        The tensors are detached but share memory with the model (save a copy if you train further).
        """
        if destination is None:
            destination = collections.OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dot = module_prefix + "." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    destination[dot + name] = param if keep_vars else param.detach()
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers_set:
                    destination[dot + name] = buf if keep_vars else buf.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of `state_dict` into this module's parameters and buffers (in place).

        With `strict=True` (the default), keys must match `self.state_dict()` exactly; a mismatch
        raises PyTorch's "Error(s) in loading state_dict" listing missing and unexpected keys.
        Returns `(missing_keys, unexpected_keys)`.
        """
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            prefix = module_prefix + "." if module_prefix else ""
            # keys are always collected (and returned); only strict=True turns them into an error
            module._load_from_state_dict(state_dict, prefix, True, assign, missing_keys, unexpected_keys,
                                         error_msgs)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    def _load_from_state_dict(self, state_dict, prefix, strict, assign, missing_keys, unexpected_keys, error_msgs):
        persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent_buffers.items())
                       if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not isinstance(input_param, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected autograd_lite.Tensor or '
                                  f"Tensor-like object from checkpoint but received {type(input_param)}")
                continue
            if param.ndim == 0 and input_param.ndim == 1 and input_param.shape[0] == 1:
                input_param = input_param[0]
            if input_param.shape != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {input_param.shape} from "
                                  f"checkpoint, the shape in current model is {param.shape}.")
                continue
            try:
                with grad_mode.no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            setattr(self, name, Parameter(input_param, requires_grad=param.requires_grad))
                        else:
                            setattr(self, name, input_param)
                    else:
                        param.copy_(input_param)
            except Exception as ex:  # noqa: BLE001  reported together with the other problems, as PyTorch does
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are {param.size()} '
                    f"and whose dimensions in the checkpoint are {input_param.size()}, an exception occurred : "
                    f"{ex.args}."
                )
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    # -- printing ------------------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside the parentheses of the repr, e.g. 'in_features=2, out_features=16, bias=True'."""
        return ""

    def __repr__(self):
        extra_lines = self.extra_repr().split("\n") if self.extra_repr() else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main_str = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main_str += extra_lines[0]
            else:
                main_str += "\n  " + "\n  ".join(lines) + "\n"
        return main_str + ")"
