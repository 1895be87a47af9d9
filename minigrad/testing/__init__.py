"""Tools for property-testing gradients: hypothesis strategies and gradient assertions.

Needs hypothesis (``pip install minigrad[testing]``).
"""
try:
    import hypothesis  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("minigrad.testing needs hypothesis: pip install minigrad[testing]") from e

from .strategies import broadcastable_shapes, shapes, tensors, valid_dims

__all__ = ["broadcastable_shapes", "shapes", "tensors", "valid_dims"]
