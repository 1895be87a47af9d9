"""Bad input gets a clear error that names what was wrong, never a silent wrong answer."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import shapes


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b, lambda a, b: a ** b, lambda a, b: a.maximum(b),
                                lambda a, b: mg.where(a > 0, a, b)],
                         ids=["add", "sub", "mul", "div", "pow", "maximum", "where"])
def test_shapes_that_do_not_broadcast_name_both_shapes(op, device):
    a, b = mg.ones(2, 3, device=device), mg.ones(4, device=device)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)"):
        op(a, b)


@settings(max_examples=15)
@given(shapes(min_dims=1, max_dims=3, max_side=4), shapes(min_dims=1, max_dims=3, max_side=4))
def test_any_non_broadcasting_pair_is_a_shape_error(sa, sb):
    a, b = mg.ones(sa), mg.ones(sb)
    if _broadcasts(sa, sb):
        assert (a * b).shape == np.broadcast_shapes(sa, sb)
    else:
        with pytest.raises(mg.ShapeError) as info:
            a * b
        assert str(sa) in str(info.value) and str(sb) in str(info.value)


def test_shape_error_is_catchable_as_runtime_error_like_torch():
    with pytest.raises(RuntimeError):
        mg.ones(2) + mg.ones(3)


def test_backward_on_non_scalar_without_gradient():
    y = mg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 3\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        y.backward(mg.ones(3))


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.ones(2) * 2).sum().backward()
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_requires_grad_on_a_non_float_tensor(dtype):
    with pytest.raises(RuntimeError, match=f"floating-point.*{dtype}"):
        mg.tensor([1, 0], dtype=dtype, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.tensor([1, 0], dtype=dtype).requires_grad_()


def test_matmul_with_mismatched_inner_sizes_names_both_shapes():
    for sa, sb in (((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (2, 4)), ((5,), (4, 5))):
        with pytest.raises(mg.ShapeError, match=re.escape(str(sa)) + ".*" + re.escape(str(sb))):
            mg.ones(sa) @ mg.ones(sb)
    with pytest.raises(mg.ShapeError, match=r"\(\).*\(3,\)"):
        mg.tensor(2.0) @ mg.ones(3)


def test_index_out_of_range_names_the_shape():
    x = mg.ones(2, 3, requires_grad=True)
    for index in (5, (0, 3), (slice(None), -4)):
        with pytest.raises(IndexError, match=r"\(2, 3\)"):
            x[index]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[mg.tensor([0, 2])]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[mg.tensor([True, False, True])]                # a mask of the wrong length


def test_reshape_expand_permute_cat_stack_errors_name_the_shapes():
    x = mg.ones(2, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\)"):
        x.expand(4, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\)"):
        x.permute(0, 0)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(2, 4\)|\(2, 4\).*\(2, 3\)"):
        mg.cat([x, mg.ones(2, 4)], dim=0)
    with pytest.raises(mg.ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        mg.stack([x, mg.ones(3, 2)])
    with pytest.raises(IndexError, match="dimension 2 is out of range"):
        x.sum(2)


def test_item_of_many_elements_and_bool_of_a_vector():
    x = mg.ones(3)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x > 0)


def test_unknown_dtype_and_device():
    with pytest.raises(TypeError, match="float33"):
        mg.zeros(2, dtype="float33")
    with pytest.raises(ValueError, match="tpu"):
        mg.zeros(2, device="tpu")


@pytest.mark.skipif(mg.cuda_is_available(), reason="a GPU is present: the error path cannot be reached")
@pytest.mark.parametrize("make", [lambda: mg.zeros(2, device="cuda"), lambda: mg.tensor([1.0], device="cuda"),
                                  lambda: mg.randn(2, device="cuda:0"), lambda: mg.ones(2).cuda(),
                                  lambda: mg.ones(2).to("cuda")])
def test_cuda_without_cupy_names_cupy_and_the_extra(make):
    with pytest.raises(RuntimeError, match=r"(?s)CuPy.*minigrad\[cuda\]"):
        make()


def test_mixing_devices_error_path_names_both_devices(monkeypatch):
    """Without a GPU: one input's array claims to live on 'cuda' and the op fails, as cupy would."""
    a, b = mg.ones(2), mg.ones(3)                 # (2,) and (3,) make the forward raise
    real = mg.backend.device_of
    monkeypatch.setattr(mg.backend, "device_of", lambda arr: "cuda" if arr is b.data else real(arr))
    with pytest.raises(RuntimeError, match=r"gate Add: .*one device.*input 0 on cpu, input 1 on cuda"):
        a + b


@pytest.mark.skipif(not mg.cuda_is_available(), reason="needs a GPU and cupy")
def test_mixing_devices_names_both_devices():
    with pytest.raises((RuntimeError, TypeError, ValueError), match=r"(?s)cpu.*cuda|cuda.*cpu"):
        mg.ones(2) + mg.ones(2, device="cuda")


def test_where_names_the_condition_shape_when_it_does_not_broadcast():
    with pytest.raises(mg.ShapeError, match=r"\(3,\).*\(2,\)"):
        mg.where(mg.ones(3) > 0, mg.ones(2), 1.0)
    with pytest.raises(mg.ShapeError, match=r"\(2, 2\).*\(3,\).*\(2, 1\)"):
        mg.where(mg.ones(2, 2) > 0, mg.ones(3), mg.ones(2, 1))
