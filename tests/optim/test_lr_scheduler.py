"""Learning-rate schedules: the notes' decays by hand, and PyTorch's schedules as oracle."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.optim import SGD, Adam
from minigrad.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, InverseTimeLR, ReduceLROnPlateau,
                                         StepLR)

LRS = (0.1, 0.02)        # two param groups: a fresh head and "pretrained" layers


def _optimizer(lrs=LRS):
    return SGD([{"params": [mg.ones(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=lrs[0])


def _schedule(sched, epochs, metrics=None):
    """The rates of every group after each epoch (optimizer.step() first, as PyTorch asks)."""
    out = [sched.get_last_lr()]
    for e in range(epochs):
        sched.optimizer.step()
        sched.step() if metrics is None else sched.step(metrics[e])
        out.append(sched.get_last_lr())
    return np.array(out)


# ***** the notes' decays, by hand *****

def test_step_decay_halves_every_5_epochs():
    lrs = _schedule(StepLR(_optimizer(), step_size=5, gamma=0.5), 12)[:, 0]
    np.testing.assert_allclose(lrs, [0.1] * 5 + [0.05] * 5 + [0.025] * 3, rtol=1e-15)


@given(st.floats(0.0, 2.0), st.integers(1, 30))
def test_exponential_decay_is_lr0_exp_minus_kt(k, epochs):
    sched = ExponentialLR(_optimizer(), gamma=math.exp(-k))
    lrs = _schedule(sched, epochs)
    t = np.arange(epochs + 1)[:, None]
    np.testing.assert_allclose(lrs, np.array(LRS) * np.exp(-k * t), rtol=1e-12, atol=1e-300)


@given(st.floats(0.0, 5.0), st.integers(1, 30))
def test_inverse_time_decay_is_lr0_over_1_plus_kt(k, epochs):
    lrs = _schedule(InverseTimeLR(_optimizer(), k=k), epochs)
    t = np.arange(epochs + 1)[:, None]
    np.testing.assert_allclose(lrs, np.array(LRS) / (1 + k * t), rtol=1e-14)


def test_cosine_reaches_eta_min_at_t_max_and_half_way_is_the_mean():
    lrs = _schedule(CosineAnnealingLR(_optimizer(), T_max=10, eta_min=0.001), 10)[:, 0]
    np.testing.assert_allclose([lrs[0], lrs[5], lrs[10]], [0.1, (0.1 + 0.001) / 2, 0.001], rtol=1e-12)
    assert np.all(np.diff(lrs) < 0)


def test_schedule_writes_the_optimizer_rates():
    opt = _optimizer()
    sched = StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.01] == sched.get_last_lr()
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


# ***** PyTorch as the oracle *****

def _torch_schedule(torch, make, epochs, metrics=None):
    params = [torch.zeros(1, requires_grad=True) for _ in LRS]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)], lr=LRS[0])
    sched = make(torch.optim.lr_scheduler, opt)
    out = [sched.get_last_lr()]
    for e in range(epochs):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[e])
        out.append(sched.get_last_lr())
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("name,kwargs,epochs", [
    ("StepLR", dict(step_size=3, gamma=0.3), 20),
    ("ExponentialLR", dict(gamma=0.9), 20),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001), 30),     # past T_max: PyTorch's rises again
    ("CosineAnnealingLR", dict(T_max=5), 12),
])
def test_equal_to_torch(name, kwargs, epochs):
    torch = pytest.importorskip("torch")
    import minigrad.optim.lr_scheduler as ours
    got = _schedule(getattr(ours, name)(_optimizer(), **kwargs), epochs)
    want = _torch_schedule(torch, lambda m, opt: getattr(m, name)(opt, **kwargs), epochs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_inverse_time_equals_torch_lambda_lr():
    torch = pytest.importorskip("torch")
    got = _schedule(InverseTimeLR(_optimizer(), k=0.5), 15)
    want = _torch_schedule(torch, lambda m, opt: m.LambdaLR(opt, lambda t: 1 / (1 + 0.5 * t)), 15)
    np.testing.assert_allclose(got, want, rtol=1e-12)


METRICS = [1.0, 0.9, 0.9, 0.9, 0.95, 0.899, 0.8999, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999,
           0.4, 0.4, 0.4, 0.4, 0.4]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=1, factor=0.5),
    dict(patience=0, factor=0.5, threshold=0.0),        # an equal metric is no improvement
    dict(patience=0, factor=0.5, cooldown=2, min_lr=0.01),
    dict(patience=1, factor=0.5, threshold=0.05, threshold_mode="abs", min_lr=[0.02, 0.004]),
    dict(mode="max", patience=1, factor=0.2),
    dict(mode="max", patience=2, threshold_mode="abs", threshold=0.0, cooldown=1),
])
def test_reduce_on_plateau_equal_to_torch(kwargs):
    torch = pytest.importorskip("torch")
    got = _schedule(ReduceLROnPlateau(_optimizer(), **kwargs), len(METRICS), METRICS)
    want = _torch_schedule(torch, lambda m, opt: m.ReduceLROnPlateau(opt, **kwargs), len(METRICS), METRICS)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert len(set(got[:, 0])) > 1 or kwargs == {}       # the metric sequence does trigger reductions


def test_reduce_on_plateau_by_hand():
    sched = ReduceLROnPlateau(_optimizer(), patience=2, factor=0.5, min_lr=0.03)
    # best=1.0; then three epochs without improvement: the third exceeds patience=2
    lrs = _schedule(sched, 4, [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(lrs[:, 0], [0.1, 0.1, 0.1, 0.1, 0.05])
    np.testing.assert_allclose(lrs[-1, 1], 0.02)      # 0.02 is already below min_lr: left alone
    assert sched.num_bad_epochs == 0
    sched.step(mg.tensor(0.5))                         # a one-element Tensor works as the metric
    assert sched.best == 0.5


# ***** state dicts, resuming, misuse *****

def test_state_dict_round_trip_through_save(tmp_path):
    opt = _optimizer()
    sched = CosineAnnealingLR(opt, T_max=10)
    full = _schedule(sched, 10)

    opt = _optimizer()
    sched = CosineAnnealingLR(opt, T_max=10)
    _schedule(sched, 4)
    mg.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt")
    ckpt = mg.load(tmp_path / "ckpt")
    opt2 = _optimizer()
    sched2 = CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    rest = _schedule(sched2, 6)
    np.testing.assert_array_equal(rest, full[4:])


def test_plateau_state_dict_round_trip(tmp_path):
    sched = ReduceLROnPlateau(_optimizer(), patience=1, factor=0.5)
    _schedule(sched, 5, METRICS)
    mg.save(sched.state_dict(), tmp_path / "s.npz")
    other = ReduceLROnPlateau(_optimizer(), patience=7)
    other.load_state_dict(mg.load(tmp_path / "s.npz"))
    assert other.state_dict() == sched.state_dict()


def test_resume_with_last_epoch_continues_the_schedule():
    full = _schedule(InverseTimeLR(_optimizer(), k=0.3), 9)
    opt = _optimizer()
    _schedule(InverseTimeLR(opt, k=0.3), 4)
    opt2 = _optimizer()
    opt2.load_state_dict(opt.state_dict())                    # brings each group's lr and initial_lr
    rest = _schedule(InverseTimeLR(opt2, k=0.3, last_epoch=4), 4)   # the constructor's step: epoch 5
    np.testing.assert_allclose(rest, full[5:], rtol=1e-12)


def test_resumed_cosine_equal_to_torch():
    # PyTorch's recursive cosine resumed with last_epoch keeps the current rate for the constructor's
    # step, then recurses from there; minigrad reproduces it (state_dict() resumes exactly instead)
    torch = pytest.importorskip("torch")
    opt = _optimizer()
    _schedule(CosineAnnealingLR(opt, T_max=9, eta_min=0.01), 4)
    opt2 = _optimizer()
    opt2.load_state_dict(opt.state_dict())
    got = _schedule(CosineAnnealingLR(opt2, T_max=9, eta_min=0.01, last_epoch=4), 4)

    def resumed(m, topt):
        first = m.CosineAnnealingLR(topt, T_max=9, eta_min=0.01)
        for _ in range(4):
            topt.step()
            first.step()
        return m.CosineAnnealingLR(topt, T_max=9, eta_min=0.01, last_epoch=4)
    want = _torch_schedule(torch, resumed, 4)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_optimizer(), step_size=2, last_epoch=3)


def test_warns_when_stepped_before_the_optimizer():
    sched = StepLR(Adam([mg.ones(1, requires_grad=True)]), step_size=2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    opt = _optimizer()
    sched = StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


@pytest.mark.parametrize("make,err,match", [
    (lambda o: StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: InverseTimeLR(o, k=-1), ValueError, "k must be"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
    (lambda o: ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up'"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda o: StepLR("sgd", step_size=1), TypeError, "not an Optimizer"),
])
def test_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make(_optimizer())


def test_step_with_an_epoch_jumps_by_the_closed_form():
    sched = StepLR(_optimizer(), step_size=3, gamma=0.5)
    sched.optimizer.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    np.testing.assert_allclose(sched.get_last_lr(), np.array(LRS) * 0.5 ** 2)
    assert sched.last_epoch == 7
