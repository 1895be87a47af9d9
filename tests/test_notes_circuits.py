"""The worked circuits of the CS231n backprop notes (shared/seeds/000_*.txt), with the notes' numbers."""
import math

import numpy as np
import pytest

import minigrad as mg


def leaves(*values, device="cpu"):
    return [mg.tensor(float(v), dtype="float64", requires_grad=True, device=device) for v in values]


def test_simple_expressions_mul_add_max():
    """f = xy at x=4, y=-3: f=-12, df/dx=-3, df/dy=4; the add gate's gradient is 1; max(4, 2) routes to x."""
    x, y = leaves(4, -3)
    f = x * y
    f.backward()
    assert (f.item(), x.grad.item(), y.grad.item()) == (-12.0, -3.0, 4.0)
    x, y = leaves(4, -3)
    (x + y).backward()
    assert (x.grad.item(), y.grad.item()) == (1.0, 1.0)
    x, y = leaves(4, 2)
    x.maximum(y).backward()
    assert (x.grad.item(), y.grad.item()) == (1.0, 0.0)


def test_compound_expression_x_plus_y_times_z(device):
    """q = x + y = 3, f = q z = -12; backward: dz = q = 3, dq = z = -4, dx = dy = -4."""
    x, y, z = leaves(-2, 5, -4, device=device)
    q = x + y
    q.retain_grad()
    f = q * z
    assert q.item() == 3.0 and f.item() == -12.0
    f.backward()
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)
    assert q.grad.item() == -4.0


class SigmoidGate(mg.Function):
    """The notes' grouped gate: sigma(x), local gradient (1 - sigma) sigma."""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        return 1.0 / (1.0 + self.xp.exp(-x))

    def backward(self, g):
        f = self.output
        return g * (1.0 - f) * f


def notes_neuron_code():
    """The notes' own code for the 2-D sigmoid neuron, run as written."""
    w = [2, -3, -3]
    x = [-1, -2]
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    ddot = (1 - f) * f
    dx = [w[0] * ddot, w[1] * ddot]
    dw = [x[0] * ddot, x[1] * ddot, 1.0 * ddot]
    return f, dx, dw


@pytest.mark.parametrize("sigmoid", ["gates", "grouped_gate", "user_function"])
def test_two_dimensional_sigmoid_neuron(sigmoid):
    """w = [2, -3, -3], x = [-1, -2]: output 0.73, dx = [0.39, -0.59], dw = [-0.20, -0.39, 0.20]."""
    w0, w1, w2 = leaves(2, -3, -3)
    x0, x1 = leaves(-1, -2)
    dot = w0 * x0 + w1 * x1 + w2
    if sigmoid == "gates":                     # the notes' circuit: *-1, exp, +1, 1/x
        f = 1.0 / ((dot * -1.0).exp() + 1.0)
    elif sigmoid == "grouped_gate":
        f = dot.sigmoid()
    else:
        f = SigmoidGate.apply(dot)
    f.backward()
    f_ref, dx_ref, dw_ref = notes_neuron_code()
    assert round(f.item(), 2) == 0.73
    assert [round(g.grad.item(), 2) for g in (x0, x1)] == [0.39, -0.59]
    assert [round(g.grad.item(), 2) for g in (w0, w1, w2)] == [-0.20, -0.39, 0.20]
    assert f.item() == pytest.approx(f_ref, rel=1e-14)
    assert [x0.grad.item(), x1.grad.item()] == pytest.approx(dx_ref, rel=1e-12)
    assert [w0.grad.item(), w1.grad.item(), w2.grad.item()] == pytest.approx(dw_ref, rel=1e-12)


def test_sigmoid_local_gradient_at_one():
    """The sigmoid gate receives 1.0, outputs 0.73; its local gradient is (1 - 0.73) * 0.73 = 0.2."""
    (x,) = leaves(1.0)
    s = x.sigmoid()
    s.backward()
    assert round(s.item(), 2) == 0.73 and round(x.grad.item(), 1) == 0.2


def test_user_sigmoid_gate_gradchecks():
    x = mg.tensor([-3.0, -0.5, 0.0, 0.7, 4.0], dtype="float64", requires_grad=True)
    assert mg.gradcheck(lambda t: SigmoidGate.apply(t), [x])


def notes_staged_backprop(x, y):
    """The notes' staged forward and hand-written backward for f = (x + s(y)) / (s(x) + (x + y)^2)
    (with the notes' two typos fixed: `dxpysqr = (1) * dden` and `dxpy = (2 * xpy) * dxpysqr`)."""
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    dnum = invden
    dinvden = num
    dden = (-1.0 / (den ** 2)) * dinvden
    dsigx = (1) * dden
    dxpysqr = (1) * dden
    dxpy = (2 * xpy) * dxpysqr
    dx = (1) * dxpy
    dy = (1) * dxpy
    dx += ((1 - sigx) * sigx) * dsigx
    dx += (1) * dnum
    dsigy = (1) * dnum
    dy += ((1 - sigy) * sigy) * dsigy
    stages = dict(sigy=dsigy, num=dnum, sigx=dsigx, xpy=dxpy, xpysqr=dxpysqr, den=dden, invden=dinvden)
    return f, dx, dy, stages


def test_staged_computation_matches_the_notes_hand_written_backprop(device):
    """x = 3, y = -4: every stage's gradient equals the notes' staged backprop; x and y fork (+=)."""
    x, y = leaves(3, -4, device=device)
    sigy = 1.0 / ((-y).exp() + 1)       # (1)
    num = x + sigy                      # (2)
    sigx = 1.0 / ((-x).exp() + 1)       # (3)
    xpy = x + y                         # (4)
    xpysqr = xpy ** 2                   # (5)
    den = sigx + xpysqr                 # (6)
    invden = 1.0 / den                  # (7)
    f = num * invden                    # (8)
    stages = dict(sigy=sigy, num=num, sigx=sigx, xpy=xpy, xpysqr=xpysqr, den=den, invden=invden)
    for t in stages.values():
        t.retain_grad()
    f.backward()
    f_ref, dx_ref, dy_ref, dstages = notes_staged_backprop(3.0, -4.0)
    assert f.item() == pytest.approx(f_ref, rel=1e-14)
    assert x.grad.item() == pytest.approx(dx_ref, rel=1e-12)
    assert y.grad.item() == pytest.approx(dy_ref, rel=1e-12)
    for name, t in stages.items():
        assert t.grad.item() == pytest.approx(dstages[name], rel=1e-12), name
    assert mg.gradcheck(lambda a, b: (a + b.sigmoid()) / (a.sigmoid() + (a + b) ** 2),
                        [x.detach().requires_grad_(), y.detach().requires_grad_()])


def test_patterns_in_backward_flow_add_routes_max_routes_mul_swaps():
    """The notes' example circuit 2 * (x*y + max(z, w)) at x=3, y=-4, z=2, w=-1: the add gate hands
    2.00 to both inputs, the max gate routes 2.00 to z (w gets 0), the mul gate swaps: dx = -4 * 2 = -8."""
    x, y, z, w = leaves(3, -4, 2, -1)
    xy, m = x * y, z.maximum(w)
    xy.retain_grad()
    m.retain_grad()
    f = (xy + m) * 2.0
    f.backward()
    assert f.item() == -20.0
    assert xy.grad.item() == m.grad.item() == 2.0
    assert (z.grad.item(), w.grad.item()) == (2.0, 0.0)
    assert (x.grad.item(), y.grad.item()) == (-8.0, 6.0)


def test_max_reduction_routes_to_the_winner():
    v = mg.tensor([[1.0, 7.0, 3.0], [9.0, 2.0, 4.0]], requires_grad=True)
    v.max(1).values.sum().backward()
    assert v.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_matrix_multiply_gradient_shapes_and_values(device):
    """W (5, 10), X (10, 3), D = W X; dW = dD X^T has W's shape, dX = W^T dD has X's shape."""
    rng = np.random.default_rng(0)
    Wv, Xv = rng.standard_normal((5, 10)), rng.standard_normal((10, 3))
    dDv = rng.standard_normal((5, 3))
    W = mg.tensor(Wv, requires_grad=True, device=device)
    X = mg.tensor(Xv, requires_grad=True, device=device)
    D = W @ X
    assert D.shape == (5, 3)
    D.backward(mg.tensor(dDv, device=device))
    assert W.grad.shape == (5, 10) and X.grad.shape == (10, 3)
    np.testing.assert_allclose(mg.backend.to_numpy(W.grad.data), dDv.dot(Xv.T), rtol=1e-12)
    np.testing.assert_allclose(mg.backend.to_numpy(X.grad.data), Wv.T.dot(dDv), rtol=1e-12)
