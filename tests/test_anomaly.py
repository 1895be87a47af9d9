"""Debugging aids: detect_anomaly names the gate, its input shapes and the user's line; the common
mistakes of a learner get errors that name both operands and suggest the fix."""
import threading

import numpy as np
import pytest

import minigrad as mg

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy's own divide-by-zero notes


def test_log_of_zero_in_forward_names_gate_shape_and_line():
    x = mg.tensor([0.0, 1.0, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(mg.AnomalyError) as err:
        with mg.detect_anomaly():
            x.log()                                                # the line the error must name
    msg = str(err.value)
    assert "the forward pass of gate Log produced Inf" in msg and "input shapes: (3,)" in msg
    assert "test_anomaly.py" in msg and "x.log()" in msg and "in test_log_of_zero" in msg


def test_nan_in_forward_and_inf_from_overflow():
    x = mg.tensor([-1.0], dtype="float64", requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="gate Sqrt produced NaN"):
        x.sqrt()
    big = mg.tensor([1000.0], dtype="float64")
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="gate Exp produced Inf"):
        big.exp()                                                  # even without requires_grad


def test_sqrt_at_zero_blames_sqrt_backward_not_an_internal_op():
    x = mg.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    with pytest.raises(mg.AnomalyError) as err:
        with mg.detect_anomaly():
            y = x.sqrt().sum()                                     # forward is finite: sqrt(0) = 0
            y.backward()
    msg = str(err.value)
    assert msg.startswith("the backward pass of gate Sqrt produced Inf in its Div step")
    assert "input shapes: (2,)" in msg and "y = x.sqrt().sum()" in msg


def test_custom_gate_whose_backward_returns_nan():
    class BadGate(mg.Function):
        def forward(self, a, b): return a * b
        def backward(self, g):
            nan = mg.Tensor(self.xp.full(g.shape, np.nan))         # planted: NaN for input 1
            return g * self.inputs[1], nan

    a = mg.ones(2, 3, dtype="float64", requires_grad=True)
    b = mg.ones(3, dtype="float64", requires_grad=True)
    with pytest.raises(mg.AnomalyError) as err:
        with mg.detect_anomaly():
            out = BadGate.apply(a, b)
            out.sum().backward()
    msg = str(err.value)
    assert "the backward pass of gate BadGate produced NaN" in msg
    assert "the gradient for input 1, of shape (2, 3)" in msg and "input shapes: (2, 3), (3,)" in msg
    assert "out = BadGate.apply(a, b)" in msg


def test_nan_made_by_an_op_inside_a_custom_backward_names_the_gate_and_the_step():
    class Half(mg.Function):
        def forward(self, x): return x / 2
        def backward(self, g): return g * float("nan")             # planted: a Mul that makes NaN

    x = mg.ones(4, dtype="float64", requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError,
                                            match=r"backward pass of gate Half produced NaN in its Mul step"):
        Half.apply(x).sum().backward()


def test_forward_outside_the_context_says_how_to_find_the_line():
    x = mg.tensor([0.0], dtype="float64", requires_grad=True)
    y = x.sqrt().sum()
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="run it inside too"):
        y.backward()


def test_gate_made_inside_minigrad_points_at_the_users_line():
    x = mg.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    with pytest.raises(mg.AnomalyError) as err:
        with mg.detect_anomaly():
            x.rsqrt()                                              # 1 / sqrt(x), composed in tensor.py
    assert "gate Div produced Inf" in str(err.value) and "x.rsqrt()" in str(err.value)


def test_without_detect_anomaly_nan_flows_silently():
    x = mg.tensor([0.0], dtype="float64", requires_grad=True)
    y = x.sqrt().sum()
    y.backward()
    assert np.isinf(x.grad.numpy()).all()


def test_detect_anomaly_restores_state_and_is_per_thread():
    with mg.detect_anomaly():
        assert mg.autograd._state.anomaly
        seen = []
        t = threading.Thread(target=lambda: seen.append(mg.autograd._state.anomaly))
        t.start()
        t.join()
        assert seen == [False]
        with mg.detect_anomaly(check_nan=False):
            assert not mg.autograd._state.anomaly
        assert mg.autograd._state.anomaly
    assert not mg.autograd._state.anomaly
    assert mg.autograd._state.backward_gate is None


def test_finite_graph_passes_under_detect_anomaly():
    x = mg.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    with mg.detect_anomaly():
        (x.log() * x.sigmoid()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / x.data * (1 / (1 + np.exp(-x.data)))
                               + np.log(x.data) * (s := 1 / (1 + np.exp(-x.data))) * (1 - s))


# ***** the learner's common mistakes *****

def test_backward_twice_suggests_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_matmul_shape_mismatch_names_both_shapes_and_suggests_a_fix():
    a, b = mg.ones(2, 3, requires_grad=True), mg.ones(2, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\).*transpose"):
        a @ b


def test_broadcast_mismatch_names_the_gate_and_both_shapes():
    with pytest.raises(ValueError, match=r"gate Add: the shapes \(2,\) and \(3,\) do not broadcast"):
        mg.ones(2) + mg.ones(3)


def test_mixing_dtypes_promotes_as_pytorch_does():
    out = mg.ones(2) + mg.ones(2, dtype="float64")
    assert out.dtype == np.float64                               # torch: float32 + float64 -> float64
    assert (mg.ones(2) * 0.5).dtype == np.float32                # a Python scalar never upcasts


@pytest.mark.skipif(not mg.cuda_is_available(), reason="needs a GPU")
def test_mixing_devices_names_both_devices():
    with pytest.raises((RuntimeError, TypeError, ValueError), match="cuda"):
        mg.ones(2) + mg.ones(2, device="cuda")


def test_user_code_in_a_folder_named_minigrad_is_still_the_users():
    # a user's script in a checkout called "minigrad" is not minigrad's own package code
    x = mg.tensor([0.0], dtype="float64", requires_grad=True)
    code = compile("x.log()\n", "/home/user/minigrad/examples/train.py", "exec")
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match=r"/home/user/minigrad/examples/train.py:1"):
        exec(code, {"x": x})
