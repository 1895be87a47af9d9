"""The running average of parameters (the notes' cheap ensemble): formula, swapping in, state dicts."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD, ExponentialMovingAverage


def _trajectory(steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(3) for _ in range(steps)]


@given(st.floats(0.0, 1.0), st.integers(1, 8))
def test_update_is_the_exponentially_decaying_sum(decay, steps):
    x = mg.zeros(3, dtype="float64", requires_grad=True)
    ema = ExponentialMovingAverage([x], decay=decay, use_num_updates=False)
    s = x.data.copy()
    for value in _trajectory(steps):
        x.data[...] = value
        ema.update()
        s = decay * s + (1 - decay) * value          # written out as the notes describe it
    np.testing.assert_allclose(ema.shadow_params[0].data, s, rtol=1e-12, atol=1e-15)


def test_worked_numbers_and_warmup():
    x = mg.tensor([0.0], dtype="float64", requires_grad=True)
    ema = ExponentialMovingAverage([x], decay=0.5, use_num_updates=False)
    for value in (4.0, 8.0):
        x.data[...] = value
        ema.update()
    assert ema.shadow_params[0].item() == 0.5 * (0.5 * 0 + 0.5 * 4) + 0.5 * 8      # = 5
    # with use_num_updates the decay at update n is min(decay, (1 + n) / (10 + n)): 2/11 at n = 1
    y = mg.tensor([0.0], dtype="float64", requires_grad=True)
    warm = ExponentialMovingAverage([y], decay=0.999)
    y.data[...] = 11.0
    warm.update()
    np.testing.assert_allclose(warm.shadow_params[0].item(), 11.0 * (1 - 2 / 11), rtol=1e-14)


def test_average_parameters_swaps_in_and_restores_even_on_error():
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    ema = ExponentialMovingAverage([x], decay=0.5, use_num_updates=False)
    data = x.data
    x.data[...] = [3.0, 6.0]
    ema.update()                                     # average = [2, 4]
    with ema.average_parameters():
        np.testing.assert_array_equal(x.data, [2.0, 4.0])
    np.testing.assert_array_equal(x.data, [3.0, 6.0])
    with pytest.raises(ZeroDivisionError):
        with ema.average_parameters():
            1 / 0
    np.testing.assert_array_equal(x.data, [3.0, 6.0])
    assert x.data is data                            # in place: optimisers and views still see it


def test_with_a_module_and_an_optimizer_the_average_smooths_the_noise():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(mg.zeros(4, dtype="float64"))

    net = Net()
    opt = SGD(net.parameters(), lr=0.2)
    ema = ExponentialMovingAverage(net, decay=0.95, use_num_updates=False)
    rng = np.random.default_rng(0)
    target = np.array([1.0, -1.0, 2.0, 0.5])
    for _ in range(300):       # noisy gradients of 0.5 |w - target|^2: w jitters around the target
        net.w.grad = mg.tensor(net.w.data - target + rng.standard_normal(4))
        opt.step()
        ema.update()
    raw = np.abs(net.w.data - target).mean()
    with ema.average_parameters():
        averaged = np.abs(net.w.data - target).mean()
    assert averaged < raw / 2


def test_state_dict_round_trip(tmp_path):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    ema = ExponentialMovingAverage([x], decay=0.9)
    for value in _trajectory(3):
        x.data[...] = value[:2]
        ema.update()
    mg.save(ema.state_dict(), tmp_path / "ema.npz")
    other = ExponentialMovingAverage([x], decay=0.1)
    other.load_state_dict(mg.load(tmp_path / "ema.npz"))
    assert (other.decay, other.num_updates) == (0.9, 3)
    np.testing.assert_array_equal(other.shadow_params[0].data, ema.shadow_params[0].data)
    assert other.shadow_params[0].dtype == np.float32
    with pytest.raises(ValueError, match=r"shadow_params\[0\] has shape \(2,\), the parameter has shape \(3,\)"):
        ExponentialMovingAverage([mg.ones(3, requires_grad=True)]).load_state_dict(ema.state_dict())


def test_errors_are_named():
    with pytest.raises(ValueError, match="decay"):
        ExponentialMovingAverage([mg.ones(1)], decay=1.5)
    with pytest.raises(TypeError, match="parameter 1 is a list"):
        ExponentialMovingAverage([mg.ones(1), [1.0]])
    ema = ExponentialMovingAverage([mg.ones(2)])
    with pytest.raises(RuntimeError, match="store"):
        ema.restore()
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3,\), its average has shape \(2,\)"):
        ema.update([mg.ones(3)])
