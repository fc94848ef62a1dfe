"""Tensor printing, ported from PyTorch's `torch/_tensor_str.py` so that our tensors print exactly as
PyTorch's do: `tensor([[4., 2.], ...])`, four decimals, scientific notation when the magnitudes
differ by more than 1000x, summarised with `...` past 1000 elements.
"""
import math

import numpy as np


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """As `torch.set_printoptions`."""
    if profile is not None:
        defaults = {"default": (4, 1000, 3), "short": (2, 1000, 2), "full": (4, math.inf, 3)}[profile]
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems = defaults
        PRINT_OPTS.linewidth = 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and one notation for every element, so columns line up."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size == 0:
                return
            absolute = np.abs(finite)
            lo, hi = absolute.min(), absolute.max()
            self.int_mode = bool(np.all(finite == np.ceil(finite)))
            if PRINT_OPTS.sci_mode is None:  # scientific when magnitudes span more than 1000x, or are huge or tiny
                self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
            else:  # forced, before the widths are measured (measured for the other notation, they came out too wide)
                self.sci_mode = PRINT_OPTS.sci_mode
            if self.sci_mode:
                texts = [f"{v:.{p}e}" for v in finite.tolist()]
            elif self.int_mode:
                texts = [f"{v:.0f}." for v in finite.tolist()]  # "3." : the point says it is a float
            else:
                texts = [f"{v:.{p}f}" for v in finite.tolist()]
            self.max_width = max(self.max_width, *map(len, texts))

    def format(self, value):
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _vector_str(values, indent, summarize, fmt):
    element_length = fmt.max_width + 2
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    if summarize and values.shape[0] > 2 * e:
        data = [fmt.format(v) for v in values[:e].tolist()] + [" ..."] + [fmt.format(v) for v in values[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(values, indent, summarize, fmt):
    """Nested brackets, one recursion level per dimension: the depth is the ndim, never a graph's size."""
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = values.shape[0]
    if summarize and n > 2 * e:
        slices = [_tensor_str_with_formatter(values[i], indent + 1, summarize, fmt) for i in range(e)]
        slices += ["..."]
        slices += [_tensor_str_with_formatter(values[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        slices = [_tensor_str_with_formatter(values[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized(values):
    """Only the elements that will be shown, so the formatter's width ignores the hidden ones."""
    e = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        return np.concatenate((values[:e], values[-e:])) if values.shape[0] > 2 * e else values
    rows = range(values.shape[0])
    if values.shape[0] > 2 * e:
        rows = list(range(e)) + list(range(values.shape[0] - e, values.shape[0]))
    return np.stack([_summarized(values[i]) for i in rows])


def array_str(values, indent):
    """The bracketed body of a tensor's repr."""
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTS.threshold
    if values.dtype == np.float16:
        values = values.astype(np.float32)
    fmt = _Formatter(_summarized(values) if summarize else values)
    return _tensor_str_with_formatter(values, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(values, dtype, default_dtypes, grad_fn_name=None, requires_grad=False, tangent_repr=None,
                prefix="tensor("):
    """`tensor(...)` as PyTorch prints it, from the numpy values and the tensor's metadata."""
    indent = len(prefix)
    suffixes = []
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append("size=" + str(tuple(values.shape)))
        if dtype is not default_dtypes[0]:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if dtype not in default_dtypes:
            suffixes.append(f"dtype={dtype!r}")
        body = array_str(values, indent)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent_repr is not None:
        suffixes.append(f"tangent={tangent_repr}")
    return _add_suffixes(prefix + body, suffixes, indent)
