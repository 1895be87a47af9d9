"""Tools for property-testing gradients: hypothesis strategies and gradient assertions.

Needs hypothesis (``pip install minigrad[testing]``).
"""
try:
    import hypothesis  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("minigrad.testing needs hypothesis: pip install minigrad[testing]") from e

from .assertions import assert_gradients_close, gradient_property
from .strategies import broadcastable_shapes, shapes, tensors, valid_dims

__all__ = ["assert_gradients_close", "broadcastable_shapes", "gradient_property", "shapes", "tensors",
           "valid_dims"]
