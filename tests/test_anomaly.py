"""Debugging aids: detect_anomaly names the gate, its input shapes and the user's line; the common
mistakes of a learner get errors that name both operands and suggest the fix."""
import re
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


def test_float_into_an_integer_tensor_in_place_names_both_dtypes():
    counts = mg.tensor([1, 2, 3])
    for op in (lambda: counts.add_(mg.tensor([0.5, 0.5, 0.5])), lambda: counts.mul_(0.5),
               lambda: counts.div_(mg.tensor(2))):
        with pytest.raises(RuntimeError, match=r"(?s)dtype int64.*float32.*\.float\(\)"):
            op()
    assert counts.tolist() == [1, 2, 3]                          # untouched, not truncated
    counts.add_(mg.tensor([1, 1, 1]))
    counts.zero_()                                               # filling casts, as in PyTorch
    assert counts.dtype == np.int64 and counts.tolist() == [0, 0, 0]


def test_in_place_result_keeps_the_tensors_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)                # float32
    h = x * 2.0
    h.add_(mg.tensor([0.5, 0.5], dtype="float64"))               # torch keeps h float32
    h.mul_(mg.tensor([3.0, 3.0], dtype="float64"))
    assert h.dtype == np.float32 and h.tolist() == [7.5, 13.5]
    h.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [6.0, 6.0]
    with mg.no_grad():
        x.copy_(mg.tensor([4.0, 5.0], dtype="float64"))
    assert x.dtype == np.float32 and x.tolist() == [4.0, 5.0]


class _FakeGpuArray(np.ndarray):
    """Stands in for a CuPy array on a machine without a GPU: mixing it with a NumPy array in
    arithmetic raises TypeError, as CuPy does."""
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(type(x) is np.ndarray for x in inputs):
            raise TypeError("Unsupported type <class 'numpy.ndarray'>")
        inputs = [x.view(np.ndarray) if isinstance(x, _FakeGpuArray) else x for x in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs).view(_FakeGpuArray)


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: b * a, lambda a, b: a @ b.reshape(2, 1)],
                         ids=["add", "mul", "matmul"])
def test_mixing_devices_names_both_operands_and_the_fix(op, monkeypatch):
    from minigrad import backend
    monkeypatch.setattr(backend, "_cupy_ndarray", _FakeGpuArray)   # device_of(fake) is now "cuda"
    a = mg.ones(3, 2, requires_grad=True)
    b = mg.Tensor._wrap(np.ones((1, 2), dtype=np.float32).view(_FakeGpuArray))
    assert (a.device, b.device) == ("cpu", "cuda")
    with pytest.raises(RuntimeError) as err:
        op(a, b)
    msg = str(err.value)
    assert re.search(r"input 0 on (cpu|cuda), input 1 on (cpu|cuda)", msg) and "cpu" in msg and "cuda" in msg
    assert "one device" in msg and ".to(" in msg                   # the fix


@pytest.mark.skipif(not mg.cuda_is_available(), reason="needs a GPU (CuPy)")
def test_mixing_real_devices_names_both_devices():
    with pytest.raises(RuntimeError, match=r"input 0 on cpu, input 1 on cuda.*\.to\("):
        mg.ones(2) + mg.ones(2, device="cuda")


def test_user_code_in_a_folder_named_minigrad_is_still_the_users():
    # a user's script in a checkout called "minigrad" is not minigrad's own package code
    x = mg.tensor([0.0], dtype="float64", requires_grad=True)
    code = compile("x.log()\n", "/home/user/minigrad/examples/train.py", "exec")
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match=r"/home/user/minigrad/examples/train.py:1"):
        exec(code, {"x": x})
