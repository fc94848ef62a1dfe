"""`autograd_lite.linalg`: the vector norms of `torch.linalg` (matrix norms other than Frobenius are not here)."""
from .ops import vector_norm

__all__ = ["norm", "vector_norm"]


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """`torch.linalg.norm`: the 2-norm of all the elements by default; a vector norm of order `ord` for a vector
    or along one `dim`; for a matrix (or two dims) only `ord='fro'` (the 2-norm of its elements)."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype)
    if dim is None and A.ndim not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D."
        )
    matrix = A.ndim == 2 if dim is None else not isinstance(dim, int) and len(dim) == 2
    if not matrix:
        if isinstance(ord, str):
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
        return vector_norm(A, ord, dim, keepdim, dtype)
    if ord == "fro":
        return vector_norm(A, 2, (-2, -1) if dim is None else dim, keepdim, dtype)
    raise NotImplementedError(
        f"autograd_lite.linalg.norm: the matrix norm of order {ord!r} is not available (only 'fro'); "
        "linalg.vector_norm gives norms of the elements"
    )
