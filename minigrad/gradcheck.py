"""Numerical gradient checking (the notes' "Gradient checks"), aware of kinks.

Centered differences in float64, the relative error |a - n| / max(|a|, |n|), and one thing other
libraries lack: while computing f(x + h) and f(x - h), every gate with a kink (relu, abs, max,
clip, where) logs which branch each element took. Where the two logs differ, the step crossed a
kink and the numerical gradient means nothing there: such elements are reported as unreliable
(with the gate's documented gradient at its kink, from ``ops.KINKS``) instead of failing the check.
"""
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import autograd, backend
from .ops import KINKS
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numerical one."""


class KinkWarning(UserWarning):
    """Some finite-difference steps crossed a kink; those elements were not judged."""


@dataclass
class GradcheckReport:
    """What ``check_gradients`` found: per checked input, the analytic and numerical gradients,
    the elements that failed, and the elements whose finite difference crossed a kink."""
    analytic: list
    numeric: list
    failures: list = field(default_factory=list)     # (input, index, analytic, numeric, rel_err)
    unreliable: list = field(default_factory=list)   # (input, index, gate labels)

    @property
    def ok(self):
        return not self.failures


def _as_list(inputs):
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _to_float64(inputs):
    xs = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            t = Tensor(x.data.astype(np.float64), requires_grad=False)
            t.requires_grad = x.requires_grad
            t.name = x.name
            xs.append(t)
        else:
            xs.append(x)
    return xs


def _scalarise(out, projections):
    """Reduce the function's output(s) to one number along fixed random directions."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor) or o.dtype.kind != "f":
            continue
        if i not in projections:
            rng = np.random.default_rng(1234 + i)
            projections[i] = Tensor(backend.to_device(rng.standard_normal(o.shape), o.device))
        term = (o * projections[i].to(dtype=o.dtype)).sum()
        total = term if total is None else total + term
    if total is None:
        raise TypeError("gradcheck: the function returned no floating-point Tensor")
    return total


def _same_branches(log_a, log_b):
    if len(log_a) != len(log_b):
        return False, sorted({g for g, _ in log_a} | {g for g, _ in log_b})
    crossed = [ga for (ga, a), (gb, b) in zip(log_a, log_b)
               if ga != gb or a.shape != b.shape or not np.array_equal(a, b)]
    return not crossed, sorted(set(crossed))


def check_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare analytic and numerical gradients of ``fn(*inputs)``; return a ``GradcheckReport``.

    Inputs that require grad are checked (all floating-point ones when none does); they are copied
    to float64 first. A non-scalar output is reduced along a fixed random direction.
    """
    inputs = _to_float64(_as_list(inputs))
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.dtype.kind == "f"]
        for i in checked:
            inputs[i].requires_grad = True
    projections = {}

    # the analytic gradient
    loss = _scalarise(fn(*inputs), projections)
    if loss.requires_grad:
        grads = autograd.grad(loss, [inputs[i] for i in checked], allow_unused=True)
    else:
        grads = [None] * len(checked)
    analytic = [backend.to_numpy(g.data) if g is not None else np.zeros(inputs[i].shape)
                for g, i in zip(grads, checked)]

    # the numerical gradient, logging the branch every kinked gate took on either side
    def evaluate():
        log = autograd._state.kink_log = []      # per thread: other threads' gates stay out
        try:
            with autograd.no_grad():
                value = float(_scalarise(fn(*inputs), projections).item())
            return value, log
        finally:
            autograd._state.kink_log = None

    report = GradcheckReport(analytic=analytic, numeric=[])
    for slot, i in enumerate(checked):
        x = inputs[i]
        data = x.data                      # written element by element: x itself is perturbed,
        numeric = np.zeros(x.shape)        # whatever its memory layout (a flat view would copy a transpose)
        for k in range(data.size):
            index = np.unravel_index(k, x.shape) if x.ndim else ()
            orig = data[index].item()
            data[index] = orig + eps
            f_plus, log_plus = evaluate()
            data[index] = orig - eps
            f_minus, log_minus = evaluate()
            data[index] = orig
            numeric[index] = (f_plus - f_minus) / (2 * eps)
            same, gates = _same_branches(log_plus, log_minus)
            if not same:
                report.unreliable.append((i, tuple(int(j) for j in index), gates))
                continue
            a, n = analytic[slot][index], numeric[index]
            abs_err = abs(a - n)
            denom = max(abs(a), abs(n))
            rel = 0.0 if denom == 0 else abs_err / denom
            if not (abs_err <= atol or rel <= rtol):
                report.failures.append((i, tuple(int(j) for j in index), float(a), float(n), rel))
        report.numeric.append(numeric)
    return report


def _describe_unreliable(report):
    gates = sorted({g for _, _, gs in report.unreliable for g in gs})
    where = ", ".join(f"input {i}{list(idx)}" for i, idx, _ in report.unreliable[:8])
    more = f" and {len(report.unreliable) - 8} more" if len(report.unreliable) > 8 else ""
    rules = "; ".join(f"{g}: {KINKS.get(g, 'no documented rule')}" for g in gates)
    return (f"{len(report.unreliable)} element(s) not judged: the finite-difference step crossed a "
            f"kink of {', '.join(gates)} at {where}{more}. At a kink, {rules}.")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check ``fn``'s analytic gradients against centered differences in float64.

    An element passes when |a - n| <= atol or |a - n| / max(|a|, |n|) <= rtol (both zero passes).
    On failure raises ``GradcheckError`` naming the input, the worst element's index, both values
    and the relative error (or returns False with ``raise_exception=False``). Elements whose step
    crossed a kink are not judged; a ``KinkWarning`` lists them. Returns True on success.
    """
    report = check_gradients(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if report.unreliable:
        warnings.warn(_describe_unreliable(report), KinkWarning, stacklevel=2)
    if report.failures:
        i, index, a, n, rel = max(report.failures, key=lambda f: f[4])
        msg = (f"gradcheck failed for input {i} at index {list(index)}: analytic {a:.8g}, numerical "
               f"{n:.8g}, relative error {rel:.3g} (rtol {rtol}, atol {atol}); "
               f"{len(report.failures)} element(s) failed")
        if raise_exception:
            raise GradcheckError(msg)
        return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: gradcheck applied to the (create_graph) gradient of ``fn``."""
    inputs = _to_float64(_as_list(inputs))
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.dtype.kind == "f"]
        for i in checked:
            inputs[i].requires_grad = True
    projections, directions = {}, {}

    def first_derivative(*xs):
        with autograd.enable_grad():      # gradcheck evaluates f(x +- h) under no_grad
            return _projected_gradient(xs)

    def _projected_gradient(xs):
        loss = _scalarise(fn(*xs), projections)
        wrt = [xs[i] for i in checked]
        if not loss.requires_grad:
            return Tensor(np.zeros(()))
        grads = autograd.grad(loss, wrt, create_graph=True, allow_unused=True)
        total = None
        for k, g in enumerate(grads):
            if g is None:
                continue
            if k not in directions:
                directions[k] = Tensor(np.random.default_rng(99 + k).standard_normal(g.shape))
            term = (g * directions[k]).sum()
            total = term if total is None else total + term
        return total if total is not None else Tensor(np.zeros(()))

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
