"""minigrad.testing: the strategies draw what they promise, and the gradient assertions catch wrong
backward rules (not only pass right ones)."""
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

import minigrad as mg
from minigrad.testing import (assert_gradients_close, broadcastable_shapes, gradient_property, shapes,
                              tensors, valid_dims)


class FusedSigmoid(mg.Function):
    def forward(self, x): return 1 / (1 + self.xp.exp(-x))
    def backward(self, g):
        y = self.output
        return g * y * (1 - y)


class WrongSigmoid(FusedSigmoid):
    def backward(self, g):                   # planted bug: y(1 + y) instead of y(1 - y)
        y = self.output
        return g * y * (1 + y)


class ScaledMul(mg.Function):
    """a * b * 2, with a planted bug in b's gradient when ``wrong`` is set."""
    wrong = False

    def forward(self, a, b): return a * b * 2.0
    def backward(self, g):
        a, b = self.inputs
        gb = g * a * 2.0
        return g * b * 2.0, (gb * 1.01 if self.wrong else gb)


class WrongScaledMul(ScaledMul):
    wrong = True


class DetachedSin(mg.Function):
    """sin with a correct first derivative computed on raw arrays: its second derivative is lost."""
    def forward(self, x): return self.xp.sin(x)
    def backward(self, g): return g * mg.Tensor(self.xp.cos(self.inputs[0].data))


# ***** strategies *****

@given(shape=shapes(max_dims=3, max_side=4), data=st.data())
def test_tensors_have_the_shape_dtype_and_range_asked_for(shape, data):
    t = data.draw(tensors(shape=shape, dtype=np.float32, min_value=-2, max_value=3, requires_grad=True))
    assert isinstance(t, mg.Tensor) and t.shape == shape and t.dtype == np.float32 and t.requires_grad
    assert np.isfinite(t.data).all() and (t.data >= -2).all() and (t.data <= 3).all()
    i = data.draw(tensors(shape=shape, dtype=np.int64, elements=st.integers(0, 5), requires_grad=True))
    assert i.dtype == np.int64 and not i.requires_grad          # integers never require grad


@given(shps=broadcastable_shapes(3, max_dims=4, max_side=3))
def test_broadcastable_shapes_broadcast(shps):
    assert len(shps) == 3
    out = np.broadcast_shapes(*shps)
    assert all(len(s) <= len(out) for s in shps)


@given(ndim=st.integers(0, 4), data=st.data())
def test_valid_dims_are_valid_for_numpy(ndim, data):
    dim = data.draw(valid_dims(ndim))
    x = np.zeros((2,) * ndim)
    if ndim == 0:
        assert dim is None
    else:
        x.sum(axis=dim)                      # raises for an invalid axis
    assert data.draw(valid_dims(ndim, allow_none=False, allow_tuple=False)) is None or ndim > 0


# ***** assert_gradients_close *****

def test_assert_gradients_close_passes_right_and_fails_wrong_backward():
    x = mg.tensor(np.linspace(-2, 2, 5), requires_grad=True)
    report = assert_gradients_close(FusedSigmoid.apply, x)
    assert report.ok and not report.unreliable
    with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(5,\)\): 5 of 5 element\(s\) wrong"):
        assert_gradients_close(WrongSigmoid.apply, x)


def test_assert_gradients_close_names_the_wrong_input_with_broadcasting():
    a = mg.randn(3, 1, dtype="float64", requires_grad=True)
    b = mg.randn(4, dtype="float64", requires_grad=True)
    assert_gradients_close(ScaledMul.apply, a, b)
    with pytest.raises(AssertionError) as err:
        assert_gradients_close(WrongScaledMul.apply, a, b)
    msg = str(err.value)
    assert "input 1 (shape (4,))" in msg and "input 0" not in msg and "relative error" in msg


def test_elements_whose_step_crosses_a_kink_are_not_failures():
    x = mg.tensor([0.0, 1.0, -1.0], dtype="float64", requires_grad=True)
    report = assert_gradients_close(lambda t: t.relu() + t.abs(), x)    # numeric 0.5 and 0 at x=0
    assert [idx for _, idx, _ in report.unreliable] == [(0,)]
    wrong = mg.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    with pytest.raises(AssertionError, match=r"1 element\(s\) at kinks not judged"):
        assert_gradients_close(lambda t: WrongSigmoid.apply(t.relu()), wrong)   # still fails away from it


def test_second_order_catches_a_backward_that_is_not_differentiable():
    x = mg.tensor([0.3, -1.2, 2.0], dtype="float64", requires_grad=True)
    assert_gradients_close(DetachedSin.apply, x)                           # first order is right
    assert_gradients_close(lambda t: t.sin(), x, second_order=True)
    with pytest.raises(AssertionError):
        assert_gradients_close(DetachedSin.apply, x, second_order=True)


def test_assert_gradients_close_rejects_non_tensors():
    with pytest.raises(TypeError, match="input 1 is a list"):
        assert_gradients_close(lambda a, b: a, mg.ones(2), [1.0])


# ***** gradient_property *****

@gradient_property(min_value=-5, max_value=5)
def test_fused_sigmoid(x):
    return FusedSigmoid.apply(x)


@gradient_property(max_examples=10)
def test_binary_gate_with_broadcasting(a, b):
    return ScaledMul.apply(a, b)


@gradient_property(shapes=[(2, 3), (3, 2)], max_examples=5)
def test_matmul_with_fixed_shapes(a, b):
    return (a @ b).tanh()


@gradient_property(tensors(shape=(3,), requires_grad=True, min_value=0.5, max_value=2), max_examples=5)
def test_explicit_strategies(x):
    return x.log()


def test_properties_are_plain_zero_argument_tests():
    for t in (test_fused_sigmoid, test_binary_gate_with_broadcasting, test_explicit_strategies):
        assert not inspect.signature(t).parameters and t.__name__.startswith("test_")
    assert test_fused_sigmoid.fn(mg.tensor([0.0])).item() == pytest.approx(0.5)


@pytest.mark.parametrize("gate, arity", [(WrongSigmoid, 1), (WrongScaledMul, 2)])
def test_property_finds_a_planted_wrong_backward(gate, arity):
    args = "x" if arity == 1 else "a, b"
    quick = dict(max_examples=10, database=None, phases=[Phase.generate])     # no shrinking: faster
    prop = gradient_property(**quick)(eval(f"lambda {args}: gate.apply({args})", {"gate": gate}))
    with pytest.raises(mg.GradcheckError, match="analytic and numerical gradients differ"):
        prop()


def test_property_finds_a_bug_only_on_some_shapes():
    class SumWrongOnRows(mg.Function):
        """sum whose backward is wrong only when the input has more than one row."""
        def forward(self, x): return x.sum()
        def backward(self, g):
            x = self.inputs[0]
            scale = 2.0 if x.ndim == 2 and x.shape[0] > 1 else 1.0
            return g * mg.ones_like(x) * scale

    found = []

    @settings(max_examples=30, database=None)
    @given(shape=shapes(min_dims=2, max_dims=2, max_side=3), data=st.data())
    def search(shape, data):
        x = data.draw(tensors(shape=shape, requires_grad=True, min_value=-1, max_value=1))
        try:
            assert_gradients_close(SumWrongOnRows.apply, x)
        except AssertionError:
            found.append(shape)
    search()
    assert found and all(s[0] > 1 for s in found)


def test_property_argument_errors():
    with pytest.raises(ValueError, match="takes 2 tensors but shapes gives 1"):
        gradient_property(shapes=[(2,)])(lambda a, b: a * b)
    with pytest.raises(TypeError, match="takes no tensor arguments"):
        gradient_property()(lambda: mg.ones(1))


def test_readme_example_runs():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    section = text.split("## Property-testing your own gates", 1)
    if len(section) < 2:
        pytest.fail("README.md lacks the section 'Property-testing your own gates'")
    code = re.search(r"```python\n(.*?)```", section[1], re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests
    for t in tests:
        t()


def test_default_inputs_broadcast_and_vary_in_shape():
    seen = []

    @gradient_property(max_examples=15, database=None)
    def prop(a, b):
        seen.append((a.shape, b.shape))
        assert a.dtype == np.float64 and (np.abs(a.data) <= 3 + 1e-3).all()     # (gradcheck nudges by eps)
        return a * b
    prop()
    assert any(sa != sb for sa, sb in seen) and any(len(sa) >= 1 for sa, _ in seen)
    assert all(np.broadcast_shapes(sa, sb) is not None for sa, sb in seen)
