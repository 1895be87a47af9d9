"""Optimisers: the notes' update formulas worked by hand, PyTorch as oracle, groups, state dicts, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from minigrad.testing import shapes, tensors

SHAPES = [(3, 4), (5,), ()]


def _params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def _grads(steps, seed=1):
    """A fixed gradient sequence, one list of arrays per step."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _grad_fn(x, g):
    """The gradient fed at a step: a fixed draw plus a term in x, so the trajectory feeds back."""
    return g + 0.5 * x


def _run(opt, params, grads):
    """Feed the gradient sequence through ``opt``; the parameter values after each step."""
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = mg.tensor(_grad_fn(p.data, g).astype(p.dtype))
        opt.step()
        out.append([p.data.copy() for p in params])
    return out


# ***** the notes' formulas, written out in numpy *****

def _notes_run(update, steps=6, seed=0):
    """Run a notes-style update ``update(x, dx, cache, t)`` (in place on x and cache) on the same data."""
    xs = [p.data.copy() for p in _params(seed)]
    caches = [{} for _ in xs]
    out = []
    for t, gs in enumerate(_grads(steps), start=1):
        for x, g, c in zip(xs, gs, caches):
            update(x, _grad_fn(x, g), c, t)
        out.append([x.copy() for x in xs])
    return out


def _assert_trajectories(ours, theirs, rtol=1e-12, atol=1e-14):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step + 1}, param {i}")


def test_sgd_worked_numbers_momentum():
    # x = 1, dx = 1 each step, lr = 0.1, mu = 0.9, by hand from v = mu*v - lr*dx; x += v:
    # v = -0.1, -0.19, -0.271  ->  x = 0.9, 0.71, 0.439
    x = mg.tensor([1.0], dtype="float64", requires_grad=True)
    opt = SGD([x], lr=0.1, momentum=0.9)
    seen = []
    for _ in range(3):
        x.grad = mg.tensor([1.0], dtype="float64")
        opt.step()
        seen.append(x.item())
    np.testing.assert_allclose(seen, [0.9, 0.71, 0.439], rtol=1e-12)


def test_sgd_vanilla_matches_notes():
    def update(x, dx, c, t):
        x += -0.1 * dx
    params = _params()
    _assert_trajectories(_run(SGD(params, lr=0.1), params, _grads(6)), _notes_run(update))


def test_sgd_momentum_matches_notes():
    lr, mu = 0.05, 0.9

    def update(x, dx, c, t):
        v = c.get("v", np.zeros_like(x))
        c["v"] = v = mu * v - lr * dx     # integrate velocity
        x += v                            # integrate position
    params = _params()
    _assert_trajectories(_run(SGD(params, lr=lr, momentum=mu), params, _grads(6)), _notes_run(update))


def test_sgd_nesterov_matches_notes():
    lr, mu = 0.05, 0.9

    def update(x, dx, c, t):
        v_prev = c.get("v", np.zeros_like(x))
        c["v"] = v = mu * v_prev - lr * dx
        x += -mu * v_prev + (1 + mu) * v
    params = _params()
    _assert_trajectories(_run(SGD(params, lr=lr, momentum=mu, nesterov=True), params, _grads(6)),
                         _notes_run(update))


def test_adagrad_matches_notes():
    lr, eps = 0.1, 1e-8

    def update(x, dx, c, t):
        c.setdefault("cache", np.zeros_like(x))
        c["cache"] += dx ** 2
        x += -lr * dx / (np.sqrt(c["cache"]) + eps)
    params = _params()
    _assert_trajectories(_run(Adagrad(params, lr=lr, eps=eps), params, _grads(6)), _notes_run(update))


def test_rmsprop_matches_notes():
    lr, decay_rate, eps = 0.01, 0.9, 1e-8

    def update(x, dx, c, t):
        cache = c.get("cache", np.zeros_like(x))
        c["cache"] = cache = decay_rate * cache + (1 - decay_rate) * dx ** 2
        x += -lr * dx / (np.sqrt(cache) + eps)
    params = _params()
    _assert_trajectories(_run(RMSprop(params, lr=lr, alpha=decay_rate, eps=eps), params, _grads(6)),
                         _notes_run(update))


def _notes_adam(lr, beta1, beta2, eps, wd_decoupled=0.0):
    def update(x, dx, c, t):
        x *= 1 - lr * wd_decoupled        # AdamW's decoupled decay (0: plain Adam)
        m = c.get("m", np.zeros_like(x))
        v = c.get("v", np.zeros_like(x))
        c["m"] = m = beta1 * m + (1 - beta1) * dx
        mt = m / (1 - beta1 ** t)
        c["v"] = v = beta2 * v + (1 - beta2) * (dx ** 2)
        vt = v / (1 - beta2 ** t)
        x += -lr * mt / (np.sqrt(vt) + eps)
    return update


def test_adam_matches_notes_bias_corrected():
    params = _params()
    _assert_trajectories(_run(Adam(params, lr=0.01), params, _grads(6)),
                         _notes_run(_notes_adam(0.01, 0.9, 0.999, 1e-8)))


def test_adamw_is_decay_then_adam():
    params = _params()
    _assert_trajectories(_run(AdamW(params, lr=0.01, weight_decay=0.1), params, _grads(6)),
                         _notes_run(_notes_adam(0.01, 0.9, 0.999, 1e-8, wd_decoupled=0.1)))


@given(tensors(shape=shapes(max_dims=3), min_value=-5, max_value=5))
def test_adam_first_step_moves_each_weight_by_about_lr(g):
    # with bias correction, mt = dx and vt = dx**2 at t = 1: the step is lr * dx / (|dx| + eps)
    x = mg.zeros(*g.shape, dtype="float64", requires_grad=True)
    x.grad = g
    Adam([x], lr=0.1).step()
    expected = -0.1 * g.data / (np.abs(g.data) + 1e-8)
    np.testing.assert_allclose(x.data, expected, rtol=1e-12, atol=1e-15)


@given(tensors(shape=shapes(max_dims=3)), st.floats(1e-3, 1.0), st.sampled_from([np.float32, np.float64]))
def test_sgd_step_is_x_minus_lr_g_and_keeps_dtype(g, lr, dtype):
    x0 = np.linspace(-1, 1, g.data.size).reshape(g.shape).astype(dtype)
    x = mg.tensor(x0.copy(), requires_grad=True)
    x.grad = g.to(dtype=dtype)
    data = x.data
    SGD([x], lr=lr).step()
    assert x.data is data and x.dtype == dtype          # updated in place
    np.testing.assert_array_equal(x.data, x0 - dtype(lr) * g.data.astype(dtype))


# ***** PyTorch as the oracle *****

CONFIGS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    (SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02, maximize=True)),
    (Adagrad, dict(lr=0.1)),
    (Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-6)),
    (RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    (RMSprop, dict(lr=0.01, centered=True, maximize=True)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    (AdamW, dict(lr=0.01)),
    (AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for cls, kw in CONFIGS]


def _torch_run(torch, cls, kwargs, steps, groups=None):
    params = [torch.tensor(p.data.copy(), requires_grad=True) for p in _params()]
    tcls = getattr(torch.optim, cls.__name__)
    opt = tcls(params if groups is None else groups(params), **kwargs)
    out = []
    for gs in _grads(steps):
        for p, g in zip(params, gs):
            p.grad = torch.tensor(_grad_fn(p.detach().numpy(), g))
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_equal_to_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    params = _params()
    ours = _run(cls(params, **kwargs), params, _grads(8))
    theirs, _ = _torch_run(torch, cls, kwargs, 8)
    _assert_trajectories(ours, theirs, rtol=1e-6, atol=1e-12)


def _rows_for_pieces(piece_bytes, cols):
    """Rows of a float64 (rows, cols) array that spans two and a half update pieces (a short tail)."""
    return 5 * piece_bytes // (2 * 8 * cols) + 1


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_updates_in_cache_sized_pieces_equal_whole_array_updates(cls, kwargs, monkeypatch):
    """Big parameters are updated piece by piece (C- and column-major alike); the trajectory is bit
    for bit the one of whole-array updates."""
    from minigrad.optim import optimizer, optimizers
    rng = np.random.default_rng(7)
    rows = _rows_for_pieces(optimizer._PIECE_BYTES, 300)
    calls = []                                  # the number of update calls of each in_pieces call
    real = optimizers.in_pieces

    def counting(update, *arrays):
        n = []
        real(lambda *a: (n.append(1), update(*a))[1], *arrays)
        calls.append(len(n))
    monkeypatch.setattr(optimizers, "in_pieces", counting)
    start = [rng.standard_normal((300, rows)), np.asfortranarray(rng.standard_normal((rows, 300)))]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(3)]

    def trajectory():
        params = [mg.tensor(a, requires_grad=True) for a in start]
        for p, a in zip(params, start):
            p.data = a.copy(order="K")
        opt = cls(params, **kwargs)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = mg.tensor(g)
                p.grad.data = np.asarray(_grad_fn(p.data, g), order="F" if p.data.flags.f_contiguous and
                                         not p.data.flags.c_contiguous else "C")
            opt.step()
        return [p.data.copy() for p in params]
    pieces = trajectory()
    assert calls and all(n == 3 for n in calls), calls          # 2.5 pieces: two and a tail
    monkeypatch.setattr(optimizer, "_PIECE_BYTES", 1 << 40)     # one piece: the whole array
    whole = trajectory()
    for a, b in zip(pieces, whole):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_state_buffers_keep_the_parameters_layout(cls, kwargs):
    """A column-major parameter (nn.Linear's weight) gets column-major state buffers, after a step
    and after load_state_dict; mixed layouts would send the update down numpy's slow strided path
    instead of cache-sized pieces. EMA's shadow copies keep it too."""
    lin = nn.Linear(6, 4)
    assert lin.weight.data.flags.f_contiguous and not lin.weight.data.flags.c_contiguous
    lin(mg.randn(3, 6)).sum().backward()
    opt = cls(lin.parameters(), **kwargs)
    opt.step()
    resumed = cls(lin.parameters(), **kwargs)
    resumed.load_state_dict(opt.state_dict())
    for o in (opt, resumed):
        for name, buf in o.state[lin.weight].items():
            if isinstance(buf, mg.Tensor):
                assert buf.data.flags.f_contiguous and not buf.data.flags.c_contiguous, name
    np.testing.assert_array_equal(
        *[[b.data for b in o.state[lin.weight].values() if isinstance(b, mg.Tensor)] for o in (opt, resumed)])
    ema = mg.optim.ExponentialMovingAverage(lin.parameters())
    assert ema.shadow_params[0].data.flags.f_contiguous


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_a_gradient_laid_out_unlike_its_parameter_gives_the_same_steps(cls, kwargs, monkeypatch):
    """A C-ordered gradient set by hand on a column-major parameter is copied into the
    parameter's layout once (speed): the trajectory is bit for bit the one of a gradient laid out
    as the parameter, and the update runs in pieces."""
    from minigrad.optim import optimizer, optimizers
    rng = np.random.default_rng(11)
    start = np.asfortranarray(rng.standard_normal((_rows_for_pieces(optimizer._PIECE_BYTES, 300), 300)))
    grads = [rng.standard_normal(start.shape) for _ in range(3)]
    split = []
    real = optimizers.in_pieces
    monkeypatch.setattr(optimizers, "in_pieces", lambda update, *arrays: (
        split.append(all(a.flags.f_contiguous for a in arrays)), real(update, *arrays))[1])

    def trajectory(order):
        p = mg.tensor(start, requires_grad=True)
        p.data = start.copy(order="F")
        opt = cls([p], **kwargs)
        for g in grads:
            p.grad = mg.tensor(g)
            p.grad.data = np.asarray(_grad_fn(p.data, g), order=order)
            opt.step()
        return p.data
    np.testing.assert_array_equal(trajectory("C"), trajectory("F"))
    assert split and all(split)


def test_sgd_momentum_buffer_takes_the_gradients_dtype_as_pytorch():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    x.grad = mg.tensor(np.full(3, 0.1))                          # float64, set by hand
    opt = SGD([x], lr=0.1, momentum=0.9)
    opt.step()
    buf = opt.state[x]["momentum_buffer"]
    assert buf.dtype == np.float64 and np.all(buf.data == 0.1) and x.dtype == np.float32


def test_in_pieces_splits_only_arrays_laid_out_alike():
    from minigrad.optim.optimizer import _PIECE_BYTES, in_pieces
    n = _PIECE_BYTES // 8                                       # float64 elements per piece
    sizes = []

    def update(x, g):
        sizes.append(x.size)
        x += g
    c, f = np.zeros((5, n)), np.asfortranarray(np.zeros((5, n)))
    in_pieces(update, c, np.ones((5, n)))
    assert sizes == [n] * 5 and np.all(c == 1)
    sizes.clear()
    in_pieces(update, f, np.asfortranarray(np.ones((5, n))))
    assert sizes == [n] * 5 and np.all(f == 1)
    sizes.clear()
    in_pieces(update, c, np.asfortranarray(np.ones((5, n))))    # mixed layouts: one call, whole
    in_pieces(update, np.zeros(n), np.ones(n))                    # small: one call
    assert sizes == [5 * n, n] and np.all(c == 2)


@pytest.mark.parametrize("cls,kwargs", CONFIGS[1::3], ids=IDS[1::3])
def test_state_dict_layout_matches_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    params = _params()
    opt = cls(params, **kwargs)
    _run(opt, params, _grads(2))
    _, topt = _torch_run(torch, cls, kwargs, 2)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert list(ours["state"]) == list(theirs["state"])
    for k in theirs["state"]:
        assert set(ours["state"][k]) == set(theirs["state"][k])
        for name, v in theirs["state"][k].items():
            if name == "step":
                assert ours["state"][k][name] == int(v.item())
            else:
                np.testing.assert_allclose(ours["state"][k][name].data, v.numpy(), rtol=1e-6, atol=1e-12)
    for g, tg in zip(ours["param_groups"], theirs["param_groups"]):
        assert g["params"] == tg["params"]
        assert set(g) <= set(tg), set(g) - set(tg)
        assert all(g[k] == tg[k] for k in g)


def test_param_groups_equal_to_torch():
    torch = pytest.importorskip("torch")

    def groups(ps):     # "a smaller rate for pretrained layers"
        return [{"params": ps[:1], "lr": 1e-3}, {"params": ps[1:], "momentum": 0.5}]
    params = _params()
    ours = _run(SGD(groups(params), lr=0.1, momentum=0.9), params, _grads(5))
    theirs, _ = _torch_run(torch, SGD, dict(lr=0.1, momentum=0.9), 5, groups)
    _assert_trajectories(ours, theirs, rtol=1e-6, atol=1e-12)


# ***** parameter groups *****

def test_param_groups_use_their_own_lr():
    a, b = mg.ones(3, requires_grad=True), mg.ones(2, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.01}], lr=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.01]
    a.grad, b.grad = mg.ones(3), mg.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, 0.5)
    np.testing.assert_allclose(b.data, 0.99)


def test_add_param_group_takes_defaults_and_rejects_duplicates():
    a, b = mg.ones(3, requires_grad=True), mg.ones(2, requires_grad=True)
    opt = Adam([a], lr=0.1, betas=(0.5, 0.6))
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.5, 0.6) and opt.param_groups[1]["lr"] == 0.2
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="param group 2.*lr=-1"):
        opt.add_param_group({"params": [mg.ones(1, requires_grad=True)], "lr": -1})


def test_parameters_without_grad_are_left_alone():
    a, b = mg.ones(3, requires_grad=True), mg.ones(2, requires_grad=True)
    opt = Adam([a, b], lr=0.1)
    a.grad = mg.ones(3)
    opt.step()
    np.testing.assert_array_equal(b.data, 1.0)
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_zero_grad():
    a = mg.ones(3, requires_grad=True)
    opt = SGD([a], lr=0.1)
    (a * 2).sum().backward()
    grad, data = a.grad, a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and a.grad.data is data and np.all(a.grad.data == 0)
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    a = mg.tensor([3.0], dtype="float64", requires_grad=True)
    opt = SGD([a], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss
    with mg.no_grad():          # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0 and a.item() == 3.0 - 0.25 * 6.0


def test_step_bumps_the_version_so_a_stale_graph_cannot_backprop():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([a], lr=0.1)
    (a * a).sum().backward()
    stale = (a * a).sum()          # saved a's value before the step
    opt.step()
    with pytest.raises(RuntimeError):
        stale.backward()


def test_training_a_module_with_named_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(mg.tensor([[1.0, -2.0]], dtype="float64"))
            self.b = nn.Parameter(mg.tensor([0.5], dtype="float64"))

        def forward(self, x):
            return (x * self.w).sum(-1) + self.b

    net = Net()
    opt = SGD(net.named_parameters(), lr=0.1, momentum=0.9, nesterov=True)
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    x, y = mg.tensor([[1.0, 1.0], [2.0, 0.0]], dtype="float64"), mg.tensor([1.0, -1.0], dtype="float64")
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-6 < losses[0]
    assert isinstance(net.w, nn.Parameter) and net.w.dtype == np.float64


# ***** state dicts *****

STATEFUL = [CONFIGS[1], CONFIGS[3], CONFIGS[5], CONFIGS[7], CONFIGS[10], CONFIGS[12]]


@pytest.mark.parametrize("cls,kwargs", STATEFUL, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(STATEFUL)])
def test_checkpoint_resume_is_identical_to_an_uninterrupted_run(cls, kwargs, tmp_path):
    grads = _grads(10)
    params = _params()
    full = _run(cls(params, **kwargs), params, grads)

    params = _params()
    opt = cls(params, **kwargs)
    _run(opt, params, grads[:5])
    path = tmp_path / "ckpt.npz"
    mg.save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, path)

    ckpt = mg.load(path)
    fresh = [mg.tensor(t.data, requires_grad=True) for t in ckpt["params"]]
    opt2 = cls(fresh, **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    rest = _run(opt2, fresh, grads[5:])
    for a, b in zip(full[5:], rest):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_load_state_dict_copies_and_casts():
    a = mg.ones(3, requires_grad=True)                      # float32
    opt = SGD([a], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": np.arange(3.0)}},  # float64 array
          "param_groups": [{"lr": 0.2, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                            "nesterov": False, "maximize": False, "params": [0]}]}
    opt.load_state_dict(sd)
    buf = opt.state[a]["momentum_buffer"]
    assert buf.dtype == np.float32 and opt.param_groups[0]["lr"] == 0.2
    assert opt.param_groups[0]["params"][0] is a
    buf.data += 1
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], [0.0, 1.0, 2.0])


def test_load_state_dict_mismatches_are_named():
    a, b = mg.ones(3, requires_grad=True), mg.ones(2, requires_grad=True)
    src = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = mg.ones(3), mg.ones(2)
    src.step()
    sd = src.state_dict()
    with pytest.raises(ValueError, match="1 parameter groups, the optimizer has 2"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 2 parameters, the optimizer's has 1"):
        SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 has shape \(2,\).*shape \(4,\)"):
        SGD([a, mg.ones(4, requires_grad=True)], lr=0.1).load_state_dict(sd)


# ***** bad input *****

@pytest.mark.parametrize("make,match", [
    (lambda p: SGD(p, lr=-0.1), "learning rate"),
    (lambda p: SGD(p, momentum=-0.5), "momentum"),
    (lambda p: SGD(p, weight_decay=-1), "weight_decay"),
    (lambda p: SGD(p, nesterov=True), "Nesterov"),
    (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: Adagrad(p, lr_decay=-1), "lr_decay"),
    (lambda p: Adagrad(p, eps=-1), "eps"),
    (lambda p: RMSprop(p, alpha=-0.1), "alpha"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), "index 0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), "index 1"),
    (lambda p: AdamW(p, eps=-1e-8), "eps"),
    (lambda p: Adam([], lr=0.1), "empty parameter list"),
])
def test_invalid_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make([mg.ones(2, requires_grad=True)])


def test_bad_params():
    a = mg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors.*param 1 of group 0 is a ndarray"):
        SGD([a, np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        SGD({a}, lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(a, lr=0.1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        SGD([a, a], lr=0.1)
    assert any("more than once" in str(x.message) for x in w)
    opt = SGD([a], lr=0.1)
    a.grad = mg.ones(3)
    with pytest.raises(ValueError, match=r"param 0 of group 0 has shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()


def test_repr_lists_groups():
    opt = Adam([mg.ones(1, requires_grad=True)], lr=0.5)
    text = repr(opt)
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text


@pytest.mark.parametrize("cls,kwargs", [CONFIGS[2], CONFIGS[7], CONFIGS[10]], ids=["SGD", "RMSprop", "Adam"])
def test_same_trajectory_on_every_device(cls, kwargs, device, tmp_path):
    grads = _grads(4)
    params = _params()
    cpu = _run(cls(params, **kwargs), params, grads)
    params = [p.detach().to(device).requires_grad_() for p in _params()]
    opt = cls(params, **kwargs)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = mg.tensor(_grad_fn(mg.backend.to_numpy(p.data), g), device=device)
        opt.step()
        out.append([mg.backend.to_numpy(p.data).copy() for p in params])
    _assert_trajectories(out, cpu, rtol=1e-10, atol=1e-12)
    assert all(s.device == device for st in opt.state.values() for s in st.values() if isinstance(s, mg.Tensor))
    mg.save(opt.state_dict(), tmp_path / "opt.npz")
    opt.load_state_dict(mg.load(tmp_path / "opt.npz", map_location="cpu"))      # cast back to the params' device
    assert all(s.device == device for st in opt.state.values() for s in st.values() if isinstance(s, mg.Tensor))
