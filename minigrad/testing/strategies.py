"""Hypothesis strategies that draw shapes, reduction dims and Tensors."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes (tuples of ints)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=5):
    """A tuple of ``num_shapes`` shapes that broadcast together (sizes of 1 and missing dims included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda b: b.input_shapes)


@st.composite
def valid_dims(draw, ndim, allow_none=True, allow_tuple=True):
    """A reduction ``dim`` for a tensor of ``ndim`` dims: None, an int (maybe negative) or a tuple."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return draw(st.one_of(options)) if options else None


@st.composite
def tensors(draw, shape=None, dtype=np.float64, elements=None, requires_grad=False,
            min_value=-10.0, max_value=10.0, device="cpu"):
    """Tensors with a drawn (or given) shape and finite values in [min_value, max_value].

    ``shape`` may be a tuple or a strategy; ``elements`` a strategy for the values.
    """
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    if elements is None:
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                             width=64 if np.dtype(dtype) == np.float64 else 32)
    data = draw(hnp.arrays(dtype=dtype, shape=shape, elements=elements))
    return Tensor(data, requires_grad=requires_grad and np.dtype(dtype).kind == "f", device=device)
