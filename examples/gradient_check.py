"""The notes' gradient-check walkthrough ("Gradient checks"), run with minigrad.

    python examples/gradient_check.py [--quick]

1. the centered difference is far more accurate than the one-sided one;
2. the relative error |a - n| / max(|a|, |n|) and the notes' scale for reading it;
3. float32 can make a correct gradient look wrong: check in float64;
4. a 2-layer ReLU net with a softmax loss checks out on a few data points;
5. kinks: a finite-difference step that crosses ReLU's kink gives a wrong numerical gradient. A
   plain check reports a failure; minigrad's kink-aware check sees the branch flip and reports the
   element as unreliable (KinkWarning) instead.
"""
import argparse
import warnings

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F


def rel_error(a, n):
    """The notes' relative error, both-zero counting as a match."""
    a, n = np.asarray(a, float), np.asarray(n, float)
    denom = np.maximum(np.abs(a), np.abs(n))
    return np.where(denom == 0, 0.0, np.abs(a - n) / np.where(denom == 0, 1, denom))


def verdict(err):
    """The notes' reading of a relative error."""
    if err > 1e-2:
        return "probably wrong"
    if err > 1e-4:
        return "uncomfortable"
    if err > 1e-7:
        return "ok for objectives with kinks"
    return "happy"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="(the walkthrough is already fast)")
    p.add_argument("--out", default="out", help="unused; accepted like every example")
    p.parse_args(argv)
    results = {}

    print("1. one-sided vs centered differences for f(x) = sin(x) at x = 1 (true f' = cos 1)")
    x0, true = 1.0, np.cos(1.0)
    for h in (1e-2, 1e-4, 1e-6):
        fwd = (np.sin(x0 + h) - np.sin(x0)) / h
        ctr = (np.sin(x0 + h) - np.sin(x0 - h)) / (2 * h)
        print(f"   h={h:.0e}: one-sided error {abs(fwd - true):.1e}, centered error {abs(ctr - true):.1e}")
    results["centered_beats_one_sided"] = bool(abs(ctr - true) < abs(fwd - true))

    print("2./3. relative error of a correct gradient (tanh-softmax loss): float32 vs float64")
    rng = np.random.default_rng(0)
    W0, X0, y0 = rng.normal(size=(4, 3)), rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)

    def smooth_loss(W, X):
        return F.cross_entropy((X @ W).tanh(), mg.tensor(y0))

    for dtype, eps in (("float32", 1e-3), ("float64", 1e-6)):
        W, X = mg.tensor(W0, dtype=dtype, requires_grad=True), mg.tensor(X0, dtype=dtype)
        smooth_loss(W, X).backward()
        num = np.zeros_like(W0)
        for i in np.ndindex(W0.shape):                       # the notes' loop over dimensions
            Wp, Wm = W0.copy(), W0.copy()
            Wp[i] += eps
            Wm[i] -= eps
            fp = smooth_loss(mg.tensor(Wp, dtype=dtype), X).item()
            fm = smooth_loss(mg.tensor(Wm, dtype=dtype), X).item()
            num[i] = (fp - fm) / (2 * eps)
        err = float(rel_error(W.grad.numpy(), num).max())
        results[f"rel_error_{dtype}"] = err
        print(f"   {dtype}: max relative error {err:.1e} ({verdict(err)})")

    print("4. gradcheck of a 2-layer ReLU net + softmax loss on 3 data points (float64)")
    mg.manual_seed(0)
    X = mg.randn(3, 4, dtype="float64")
    y = mg.tensor([0, 2, 1])
    W1, b1 = mg.randn(4, 6, dtype="float64", requires_grad=True), mg.zeros(6, dtype="float64", requires_grad=True)
    W2, b2 = mg.randn(6, 3, dtype="float64", requires_grad=True), mg.zeros(3, dtype="float64", requires_grad=True)

    def net_loss(W1, b1, W2, b2):
        return F.cross_entropy((X @ W1 + b1).relu() @ W2 + b2, y)

    report = mg.check_gradients(net_loss, [W1, b1, W2, b2])
    worst = max(float(rel_error(a, n).max()) for a, n in zip(report.analytic, report.numeric))
    results["net_ok"], results["net_rel_error"] = report.ok, worst
    print(f"   passed: {report.ok}; worst relative error {worst:.1e} ({verdict(worst)})")

    print("5. a step that crosses ReLU's kink: f(x) = sum(relu(x)) at x = [1e-7, 0.5, -0.3], h = 1e-6")
    x = mg.tensor([1e-7, 0.5, -0.3], dtype="float64", requires_grad=True)
    rep = mg.check_gradients(lambda t: t.relu().sum(), [x], eps=1e-6)
    a, n = rep.analytic[0], rep.numeric[0]
    print(f"   analytic {a.round(3).tolist()}, numerical {n.round(3).tolist()} (f scaled by the check's fixed random factor), "
          f"relative error {rel_error(a, n).round(3).tolist()}")
    naive_fails = bool((rel_error(a, n) > 1e-2).any())
    print(f"   a plain check would report {'a FAILURE' if naive_fails else 'success'} at x[0]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        passed = mg.gradcheck(lambda t: t.relu().sum(), [x], eps=1e-6)
    kinks = [str(w.message) for w in caught if issubclass(w.category, mg.KinkWarning)]
    print(f"   kink-aware gradcheck: passed={passed}; unreliable elements {[u[1] for u in rep.unreliable]}")
    for msg in kinks:
        print(f"   KinkWarning: {msg}")
    results.update(naive_fails=naive_fails, kink_flagged=[list(u[1]) for u in rep.unreliable], kink_passed=passed)
    return results


if __name__ == "__main__":
    main()
