"""`Optimizer`: the base class of SGD and Adam, with PyTorch's parameter groups and state.

An optimizer holds a list of *parameter groups*: dicts with the tensors to update (`'params'`) and the
settings for them (`'lr'`, `'momentum'`, ...). `Optimizer(model.parameters(), lr=0.1)` makes one group;
a list of dicts makes several, so different parts of a model can use different settings. Per-parameter
memory (momentum buffers, Adam's moment estimates) lives in `optimizer.state[param]`.

The training loop it serves:

    optimizer.zero_grad()        # forget the last step's gradients (they accumulate otherwise)
    loss = criterion(model(x), y)
    loss.backward()              # fill p.grad for every parameter
    optimizer.step()             # update every p in place, using p.grad

`step()` changes parameters in place and outside autograd (as under `no_grad`): the update is not part of
the model's computation. Subclasses write into the numpy array `p._data` and bump the version counter
`p._vc[0]` (what any in-place op does), so a graph that saved the old value refuses to backward through it.
"""
import collections
import copy
import warnings

import numpy as np

from .. import grad_mode
from ..nn.module import _typename, _zero_grads
from ..tensor import Tensor, _wrap


class _RequiredParameter:
    """Marks a setting with no default (a group must give it)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: subclasses define `step()`. `defaults` holds the settings a group does not override."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def add_param_group(self, param_group):
        """Add a group (a dict with 'params' and optional settings); missing settings come from `defaults`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):  # (name, tensor) pairs from model.named_parameters()
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter: to None by default, or to zeros with set_to_none=False."""
        _zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        raise NotImplementedError

    def _evaluate(self, closure):
        """Run `closure()` (which recomputes the loss and calls backward) with grad mode on; return the loss."""
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    def _params_with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None]

    # -- saving and loading ---------------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{settings..., 'params': [indices]}]}: parameters are
        replaced by their position, so the dict can be loaded into an optimizer over a new model."""
        mapping = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        by_id = {id(p): p for g in self.param_groups for p in g["params"]}
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) and id(k) in by_id else k): v
                        for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load what `state_dict()` returned: settings per group and per-parameter state (copied)."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip((i for g in saved_groups for i in g["params"]), (p for g in groups for p in g["params"])))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                data = value._data
                if key != "step" and param._data.dtype.kind == "f" and data.dtype.kind == "f":
                    data = data.astype(param._data.dtype)
                return _wrap(np.array(data, copy=True))
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            return copy.deepcopy(value)

        state = collections.defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _scalar(value):
    """A learning rate or beta given as a 1-element tensor, as a Python float."""
    return value.item() if isinstance(value, Tensor) else value


def _write(param, new_values):
    """Store the updated values into the parameter in place and bump its version counter."""
    np.copyto(param._data, new_values, casting="same_kind")
    param._vc[0] += 1
