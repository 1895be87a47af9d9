"""Gradient clipping, penalties and parameter vectors."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn import utils


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def npy(t):
    return t.detach().numpy()


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(mg.zeros(*g.shape, dtype="float64"))
        p.grad = mg.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    r = np.random.default_rng(0)
    grads = [r.standard_normal((3, 4)), r.standard_normal(5)]
    ours = _params_with_grads(grads)
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    total_o = utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total_o.item() == pytest.approx(total_t.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(npy(p.grad), t.grad.numpy(), rtol=1e-12)


@given(scale=st.floats(0.01, 100.0), max_norm=st.floats(0.1, 10.0))
def test_clipped_norm_is_at_most_max_norm_and_direction_is_kept(scale, max_norm):
    grads = [np.random.default_rng(1).standard_normal((4, 3)) * scale]
    params = _params_with_grads(grads)
    total = utils.clip_grad_norm_(params, max_norm).item()
    assert total == pytest.approx(np.linalg.norm(grads[0]), rel=1e-9)
    after = np.linalg.norm(npy(params[0].grad))
    assert after <= max_norm * (1 + 1e-9) and after == pytest.approx(min(total, max_norm), rel=1e-5)
    np.testing.assert_allclose(npy(params[0].grad) * total / after, grads[0], rtol=1e-9)


def test_clip_grad_value_and_nonfinite_error():
    params = _params_with_grads([np.array([-3.0, 0.5, 2.0])])
    utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(npy(params[0].grad), [-1.0, 0.5, 1.0])
    bad = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="total norm.*inf"):
        utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert utils.clip_grad_norm_([nn.Parameter(mg.ones(2))], 1.0).item() == 0.0   # no grads yet


def test_penalties_are_differentiable_with_the_notes_gradients():
    w1 = nn.Parameter(mg.tensor([[1.0, -2.0], [0.5, 0.0]], dtype="float64"))
    w2 = nn.Parameter(mg.tensor([3.0], dtype="float64"))
    l2 = utils.l2_penalty([w1, w2], strength=0.1)
    assert l2.item() == pytest.approx(0.5 * 0.1 * (1 + 4 + 0.25 + 9))
    l2.backward()
    np.testing.assert_allclose(npy(w1.grad), 0.1 * npy(w1))          # d(0.5 lambda w^2)/dw = lambda w
    w1.grad = None
    l1 = utils.l1_penalty([w1], strength=2.0)
    assert l1.item() == pytest.approx(2.0 * 3.5)
    l1.backward()
    np.testing.assert_allclose(npy(w1.grad), 2.0 * np.sign(npy(w1)))
    assert mg.gradcheck(lambda a, b: utils.l2_penalty([a, b], 0.3), [mg.randn(2, 2, dtype="float64"),
                                                                       mg.randn(3, dtype="float64")])
    with pytest.raises(ValueError, match="no parameters"):
        utils.l2_penalty([])


def test_parameters_to_vector_round_trip():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 2 + 2 + 2 + 1,)
    utils.vector_to_parameters(vec * 0.0 + mg.arange(11).float(), model.parameters())
    np.testing.assert_array_equal(npy(model[0].weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(npy(model[1].bias), [10])
    with pytest.raises(ValueError, match="11 elements, got shape"):
        utils.vector_to_parameters(mg.zeros(3), model.parameters())
