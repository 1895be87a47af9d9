"""mg.gradcheck and mg.gradgradcheck: they pass right gradients, catch planted wrong ones with a
message that names the culprit, and report (not fail) finite differences that cross a kink."""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg


class WrongAt(mg.Function):
    """sin(a) * b, whose backward is wrong for ``a`` at one element (the planted bug)."""

    def forward(self, a, b, bad=(0,)):
        self.bad = bad
        return self.xp.sin(a) * b

    def backward(self, g):
        a, b = self.inputs
        ga = g * a.cos() * b
        bump = np.zeros(a.shape)
        bump[self.bad] = 0.5                         # wrong by 0.5 at one element
        return ga + mg.tensor(bump) * g, g * a.sin()


def inputs():
    rng = np.random.default_rng(3)
    a = mg.tensor(rng.uniform(-1, 1, (2, 3)), requires_grad=True)
    b = mg.tensor(rng.uniform(1, 2, (2, 3)), requires_grad=True)
    return a, b


def test_right_gradients_pass():
    a, b = inputs()
    assert mg.gradcheck(lambda x, y: x.sin() * y, [a, b]) is True


def test_planted_wrong_backward_fails_naming_input_index_values_and_error():
    a, b = inputs()
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda x, y: WrongAt.apply(x, y, bad=(1, 2)), [a, b])
    msg = str(info.value)
    assert "input 0" in msg and "index [1, 2]" in msg
    m = re.search(r"analytic (\S+), numerical (\S+), relative error (\S+) ", msg)
    assert m, msg
    analytic, numeric, rel = (float(v.rstrip(",")) for v in m.groups())
    assert analytic != pytest.approx(numeric, rel=1e-3)
    assert rel == pytest.approx(abs(analytic - numeric) / max(abs(analytic), abs(numeric)), rel=1e-2)
    assert "1 element(s) failed" in msg


def test_raise_exception_false_returns_false_and_report_lists_the_failure():
    a, b = inputs()
    assert mg.gradcheck(lambda x, y: WrongAt.apply(x, y, bad=(0, 1)), [a, b], raise_exception=False) is False
    report = mg.check_gradients(lambda x, y: WrongAt.apply(x, y, bad=(0, 1)), [a, b])
    assert not report.ok and [(i, idx) for i, idx, *_ in report.failures] == [(0, (0, 1))]
    i, idx, an, nu, rel = report.failures[0]
    assert an - nu == pytest.approx(0.5 * report_projection(report, idx), rel=1e-4)
    assert rel == pytest.approx(abs(an - nu) / max(abs(an), abs(nu)))


def report_projection(report, idx):
    """The output direction gradcheck used at idx: analytic - numeric = 0.5 * direction there."""
    rng = np.random.default_rng(1234)
    return rng.standard_normal((2, 3))[idx]


def test_float32_inputs_are_checked_in_float64():
    x = mg.tensor([0.3, -1.2, 2.0], requires_grad=True)         # float32
    seen = []
    assert mg.gradcheck(lambda t: (seen.append(t.dtype), t.exp() * t)[1], [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32 and x.tolist() == pytest.approx([0.3, -1.2, 2.0])   # untouched


def test_both_zero_gradients_pass_and_unused_inputs_count_as_zero():
    x = mg.tensor([-1.0, -2.0], dtype="float64", requires_grad=True)
    y = mg.tensor([1.0], dtype="float64", requires_grad=True)
    assert mg.gradcheck(lambda a, b: a.relu() + 0.0 * a, [x, y])    # y unused: analytic 0 = numeric 0


@pytest.mark.parametrize("name, fn, values", [
    ("ReLU", lambda t: t.relu(), [-1.0, 0.0, 2.0]),
    ("Abs", lambda t: t.abs(), [-1.0, 0.0, 2.0]),
    ("Max", lambda t: t.max(), [3.0, 1.0, 3.0]),
    ("Maximum", lambda t: t.maximum(mg.tensor([0.5, 1.0, 0.0], dtype="float64")), [0.5, 2.0, -1.0]),
    ("Clip", lambda t: t.clamp(-1.0, 1.0), [-1.0, 0.0, 1.0]),
    ("Where", lambda t: t.leaky_relu(0.1), [-1.0, 0.0, 2.0]),
])
def test_kink_crossed_is_reported_not_failed(name, fn, values):
    x = mg.tensor(values, dtype="float64", requires_grad=True)
    with pytest.warns(mg.KinkWarning) as record:
        assert mg.gradcheck(fn, [x])
    msg = str(record[0].message)
    assert name in msg and mg.KINKS[name] in msg
    report = mg.check_gradients(fn, [x])
    assert report.ok and report.unreliable
    kinked = {idx for _, idx, _ in report.unreliable}
    expected = {(i,) for i, v in enumerate(values) if name in ("ReLU", "Abs", "Where") and v == 0.0}
    if name == "Max":
        expected = {(0,), (2,)}
    if name == "Maximum":
        expected = {(0,)}
    if name == "Clip":
        expected = {(0,), (2,)}
    assert kinked == expected


def test_away_from_kinks_no_warning():
    x = mg.tensor([-1.0, 0.5, 2.0], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mg.KinkWarning)
        assert mg.gradcheck(lambda t: t.relu().abs().clamp(-5, 5).max(), [x])


def test_a_kink_does_not_hide_a_wrong_gradient_elsewhere():
    a = mg.tensor([[0.0, 0.5, 0.7], [0.2, 0.3, 0.9]], dtype="float64", requires_grad=True)
    b = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.warns(mg.KinkWarning), pytest.raises(mg.GradcheckError, match=r"input 0 at index \[1, 1\]"):
        mg.gradcheck(lambda x, y: WrongAt.apply(x.relu(), y, bad=(1, 1)), [a, b])


class CubeDetached(mg.Function):
    """x^3 whose backward is right at first order but built from a constant: no second derivative."""

    def forward(self, x):
        return x ** 3

    def backward(self, g):
        x = self.inputs[0]
        return g * mg.tensor(3 * x.data ** 2)        # the planted bug: detached from x


class Cube(mg.Function):
    def forward(self, x):
        return x ** 3

    def backward(self, g):
        x = self.inputs[0]
        return g * x * x * 3.0


def test_gradgradcheck_catches_a_wrong_double_backward():
    x = mg.tensor([0.5, -1.5, 2.0], dtype="float64", requires_grad=True)
    assert mg.gradcheck(lambda t: CubeDetached.apply(t), [x])           # first order is right...
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: CubeDetached.apply(t), [x])         # ...second order is not
    assert mg.gradgradcheck(lambda t: Cube.apply(t), [x])


def test_gradgradcheck_on_a_composed_function_of_two_inputs():
    rng = np.random.default_rng(5)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert mg.gradgradcheck(lambda x, y: (x @ y).tanh().logsumexp(1), [a, w])


def test_gradcheck_with_tuple_output_and_non_float_inputs():
    x = mg.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    idx = mg.tensor([1, 0, 1])
    assert mg.gradcheck(lambda t, i: (t[i] * 2.0, t.exp()), [x, idx])


def test_kink_log_is_per_thread():
    """Gates running in another thread during a gradcheck must not enter its kink log."""
    import threading
    stop = threading.Event()

    def busy():
        y = mg.tensor([0.0, 1.0, -1.0])
        while not stop.is_set():
            (y * float(np.random.randn())).relu()

    import sys
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)            # switch threads often, so the worker runs mid-check
    worker = threading.Thread(target=busy)
    worker.start()
    try:
        x = mg.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
        report = mg.check_gradients(lambda t: (t * t).relu(), [x])
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(interval)
    assert report.unreliable == [] and report.ok


def test_gradcheck_perturbs_inputs_of_any_memory_layout():
    """A column-major (transposed) input is perturbed in place too: a flat view of it would be a copy,
    and the numerical gradient a silent 0."""
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x.data = np.asfortranarray(x.data)
    assert mg.gradcheck(lambda x: (x * x * x[:1]).sum(), [x])
    assert x.data.flags.f_contiguous and np.array_equal(x.data, np.arange(6.0).reshape(2, 3))
