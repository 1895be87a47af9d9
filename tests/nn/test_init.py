"""Initialisers: PyTorch's formulas, checked through the statistics of large samples."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn import init


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def npy(t):
    return t.detach().numpy()


def test_kaiming_normal_relu_is_the_notes_sqrt_2_over_n():
    mg.manual_seed(0)
    w = nn.Parameter(mg.empty(256, 512))                 # fan_in = 512
    assert init.kaiming_normal_(w, nonlinearity="relu") is w
    assert abs(npy(w).std() - math.sqrt(2.0 / 512)) < 0.01 * math.sqrt(2.0 / 512)
    assert abs(npy(w).mean()) < 0.002
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(npy(w).std() - math.sqrt(2.0 / 256)) < 0.01 * math.sqrt(2.0 / 256)


def test_kaiming_uniform_and_xavier_bounds_and_stds():
    mg.manual_seed(1)
    w = mg.empty(300, 200)
    init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 200)
    assert np.abs(npy(w)).max() <= bound and np.abs(npy(w)).max() > 0.99 * bound
    init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6.0 / 500)
    assert np.abs(npy(w)).max() <= a and np.abs(npy(w)).max() > 0.99 * a
    init.xavier_normal_(w)
    assert abs(npy(w).std() - math.sqrt(2.0 / 500)) < 0.02 * math.sqrt(2.0 / 500)


def test_fans_of_a_conv_weight_include_the_receptive_field():
    mg.manual_seed(2)
    w = mg.empty(64, 16, 5, 5)                           # fan_in = 16 * 25 = 400
    init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(npy(w).std() - math.sqrt(2.0 / 400)) < 0.02 * math.sqrt(2.0 / 400)
    with pytest.raises(ValueError, match=r"shape \(5,\).*at least 2 dimensions"):
        init.xavier_uniform_(mg.empty(5))
    with pytest.raises(ValueError, match="mode 'fan_avg'"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_calculate_gain_matches_torch(torch):
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_constant_fills_work_on_parameters_and_keep_them_leaves():
    p = nn.Parameter(mg.randn(3, 2))
    for fill, value in ((init.zeros_, 0.0), (init.ones_, 1.0), (lambda t: init.constant_(t, 2.5), 2.5)):
        assert fill(p) is p
        assert (npy(p) == value).all() and p.is_leaf and p.requires_grad
    init.uniform_(p, -0.1, 0.1)
    assert np.abs(npy(p)).max() <= 0.1
    init.normal_(p, 5.0, 0.0)
    assert (npy(p) == 5.0).all()


def test_initialisers_are_reproducible_with_manual_seed():
    mg.manual_seed(3)
    a = npy(nn.Linear(5, 4).weight).copy()
    mg.manual_seed(3)
    assert (npy(nn.Linear(5, 4).weight) == a).all()
