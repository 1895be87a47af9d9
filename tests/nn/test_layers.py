"""Layers: values and gradients against PyTorch, gradcheck (float64), train/eval behaviour, bad input."""
import inspect
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.testing import shapes, tensors


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def npy(t):
    return t.detach().numpy()


def rng(seed=0):
    return np.random.default_rng(seed)


def copy_params(ours, theirs, torch):
    """Copy a torch module's parameters and buffers into ours (same names)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def assert_grads_match(ours, theirs, rtol=1e-6, atol=1e-8):
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(npy(p.grad), q.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


# ***** Linear *****

def test_linear_matches_torch_values_and_gradients(torch):
    theirs = torch.nn.Linear(4, 3).double()
    ours = nn.Linear(4, 3).double()
    copy_params(ours, theirs, torch)
    x = rng().standard_normal((2, 5, 4))                       # extra leading dims are batch dims
    xt, xo = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    yt, yo = theirs(xt), ours(xo)
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12)
    (yt ** 2).sum().backward()
    (yo ** 2).sum().backward()
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-10)
    assert_grads_match(ours, theirs, rtol=1e-10)


def test_linear_default_init_is_pytorchs():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = npy(lin.weight), npy(lin.bias)
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound                     # U(-bound, bound), not narrower
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # std of U(-a, a) = a / sqrt(3)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_weight_is_column_major_and_keeps_that_layout():
    """nn.Linear lays W (out, in) out column-major, as the NumPy reference's (in, out) W (speed:
    README, Performance). Its gradient arrives in that layout, and an optimizer step and
    load_state_dict write into it with the right values."""
    mg.manual_seed(0)
    lin = nn.Linear(5, 3)
    w = lin.weight
    assert w.shape == (3, 5) and w.data.flags.f_contiguous and not w.data.flags.c_contiguous
    x = mg.randn(4, 5)
    lin(x).sum().backward()
    assert w.grad.data.flags.f_contiguous
    np.testing.assert_allclose(npy(w.grad), np.ones((3, 4)) @ npy(x), rtol=1e-6)   # dW = g^T x
    before = npy(w).copy()
    mg.optim.SGD(lin.parameters(), lr=0.5).step()
    np.testing.assert_allclose(npy(w), before - 0.5 * npy(w.grad), rtol=1e-6)
    state = {k: np.ascontiguousarray(npy(v)) + 1 for k, v in lin.state_dict().items()}
    lin.load_state_dict(state)
    assert w.data.flags.f_contiguous and np.array_equal(npy(w), state["weight"])


def test_linear_wrong_input_names_layer_and_shapes():
    with pytest.raises(mg.ShapeError, match=r"Linear: expected input of shape \(\*, 4\).*got shape \(2, 3\)"):
        nn.Linear(4, 3)(mg.ones(2, 3))
    with pytest.raises(mg.ShapeError, match=r"linear: expected input with last dimension 4.*\(5,\)"):
        F.linear(mg.ones(5), mg.ones(3, 4))


@given(lead=shapes(min_dims=0, max_dims=2, max_side=3), fin=st.integers(1, 4), fout=st.integers(1, 3),
       bias=st.booleans())
def test_linear_gradcheck(lead, fin, fout, bias):
    x = mg.randn(*lead, fin, dtype="float64", requires_grad=True)
    w = mg.randn(fout, fin, dtype="float64", requires_grad=True)
    b = mg.randn(fout, dtype="float64", requires_grad=True)
    if bias:
        assert mg.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])
    else:
        assert mg.gradcheck(lambda x, w: F.linear(x, w), [x, w])


@given(lead=shapes(min_dims=0, max_dims=2, max_side=3), fin=st.integers(1, 4), fout=st.integers(1, 3),
       column_major=st.booleans())
def test_linear_gradgradcheck(lead, fin, fout, column_major):
    """The fused gate's recorded backward is differentiable (double backward, float64)."""
    x = mg.randn(*lead, fin, dtype="float64", requires_grad=True)
    w = mg.randn(fout, fin, dtype="float64", requires_grad=True)
    if column_major:
        w.data = np.asfortranarray(w.data)          # as a transposed (in, out) array would be
    b = mg.randn(fout, dtype="float64", requires_grad=True)
    assert mg.gradgradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])


@pytest.mark.parametrize("order", ["C", "F"])
def test_linear_is_one_gate_and_matches_the_composed_ops(order):
    """x @ W.T + b as one gate: the same values and gradients as the three composed gates, and dW laid
    out as W (C or column-major), so the optimizer's in-place update needs no transposing copy."""
    r = rng(3)
    x0, w0, b0 = r.standard_normal((6, 5)), r.standard_normal((4, 5)), r.standard_normal(4)
    grads = []
    for fused in (True, False):
        x, b = mg.tensor(x0, requires_grad=True), mg.tensor(b0, requires_grad=True)
        w = mg.tensor(w0, requires_grad=True)
        w.data = np.asarray(w0, order=order)
        y = F.linear(x, w, b) if fused else x @ w.T + b
        if fused:
            assert y.grad_fn.label == "Linear" and [t is s for t, s in zip(y.grad_fn.inputs, (x, w, b))] == [True] * 3
        (y * y).sum().backward()
        grads.append((npy(y), npy(x.grad), npy(w.grad), npy(b.grad)))
        if fused:
            assert w.grad.data.flags[order + "_CONTIGUOUS"]
    for ours, composed in zip(*grads):
        np.testing.assert_allclose(ours, composed, rtol=1e-12)


def test_linear_bias_that_broadcasts_and_mixed_dtypes():
    r = rng(4)
    x = mg.tensor(r.standard_normal((2, 3, 5)), requires_grad=True)
    w = mg.tensor(r.standard_normal((4, 5)), requires_grad=True)
    b = mg.tensor(r.standard_normal((3, 1)), requires_grad=True)      # broadcasts against (2, 3, 4)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(npy(b.grad), np.full((3, 1), 2 * 4.0))
    y = F.linear(mg.ones(2, 5, dtype="float32"), mg.ones(4, 5, dtype="float64"))
    assert y.dtype == np.float64 and np.all(npy(y) == 5)


@pytest.mark.parametrize("x_shape,w_shape,b", [
    ((5,), (3, 5), "wider"), ((1, 5), (3, 5), "wider"),       # a bias that broadcasts to more rows than x
    ((4, 3), (0, 3), None), ((4, 0), (3, 0), None), ((0, 3), (2, 3), "numpy"), ((2, 3), (4, 3), 0.5),
])
def test_linear_edge_cases_match_the_composed_ops(x_shape, w_shape, b):
    """Zero-size features or batches, non-Tensor biases, and biases that broadcast further: the same
    values and gradients as x @ W.T + b."""
    r = rng(5)
    x0, w0 = r.standard_normal(x_shape), r.standard_normal(w_shape)
    b0 = {"wider": r.standard_normal((2, w_shape[0])), "numpy": r.standard_normal(w_shape[0])}.get(b, b)
    results = []
    for fused in (True, False):
        x, w = mg.tensor(x0, requires_grad=True), mg.tensor(w0, requires_grad=True)
        bias = mg.tensor(b0, requires_grad=True) if b == "wider" else b0
        y = F.linear(x, w, bias) if fused else (x @ w.T + bias if bias is not None else x @ w.T)
        (y * y).sum().backward()
        results.append([npy(y), npy(x.grad), npy(w.grad)] + ([npy(bias.grad)] if b == "wider" else []))
    for ours, composed in zip(*results):
        np.testing.assert_allclose(ours, composed, rtol=1e-12)


def test_linear_input_changed_in_place_before_backward_is_an_error():
    x = mg.randn(3, 4, dtype="float64", requires_grad=True) * 1.0
    y = F.linear(x, mg.randn(2, 4, dtype="float64", requires_grad=True))
    with mg.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match="input 0 of gate Linear"):
        y.sum().backward()


# ***** Maxout *****

def test_maxout_is_the_max_over_its_linear_pieces():
    m = nn.Maxout(3, 2, pool_size=4).double()
    x = mg.randn(5, 3, dtype="float64")
    z = npy(m.linear(x)).reshape(5, 2, 4)
    np.testing.assert_allclose(npy(m(x)), z.max(-1))
    assert [n for n, _ in m.named_parameters()] == ["linear.weight", "linear.bias"]
    assert m.linear.weight.shape == (8, 3)


def test_maxout_generalises_relu():
    # pieces w1 = w, b1 = b and w2 = 0, b2 = 0 give relu(w x + b): the notes' special case
    m = nn.Maxout(3, 1, pool_size=2).double()
    w = rng().standard_normal((1, 3))
    m.linear.load_state_dict({"weight": np.vstack([w, np.zeros((1, 3))]), "bias": np.array([0.5, 0.0])})
    x = rng(1).standard_normal((6, 3))
    np.testing.assert_allclose(npy(m(mg.tensor(x))), np.maximum(x @ w.T + 0.5, 0))


@given(k=st.integers(1, 3), n=st.integers(1, 3))
def test_maxout_gradcheck(k, n):
    m = nn.Maxout(2, 2, pool_size=k).double()
    x = mg.randn(n, 2, dtype="float64", requires_grad=True)
    w = mg.tensor(npy(m.linear.weight), requires_grad=True)
    b = mg.tensor(npy(m.linear.bias), requires_grad=True)
    assert mg.gradcheck(lambda x, w, b: F.linear(x, w, b).reshape(n, 2, k).amax(-1), [x, w, b])
    with pytest.raises(mg.ShapeError, match=r"Maxout: expected input of shape \(\*, 2\), got shape \(3, 5\)"):
        m(mg.ones(3, 5, dtype="float64"))


# ***** activations *****

ACTIVATIONS = [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.7}), ("Sigmoid", {}),
    ("Tanh", {}), ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": 0}), ("Flatten", {}), ("Identity", {}), ("PReLU", {"num_parameters": 3}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
def test_activation_matches_torch(torch, name, kwargs):
    ours = getattr(nn, name)(**kwargs).double()
    theirs = getattr(torch.nn, name)(**kwargs).double()
    if name == "PReLU":
        copy_params(ours, theirs, torch)
        with mg.no_grad():
            ours.weight.copy_(mg.tensor([0.1, -0.3, 0.5], dtype="float64"))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor([0.1, -0.3, 0.5], dtype=torch.float64))
    x = rng().standard_normal((4, 3, 2)) * 4
    xo, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng(1).standard_normal(yt.shape)
    yo.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    if name == "PReLU":
        assert_grads_match(ours, theirs, rtol=1e-10)


@pytest.mark.filterwarnings("ignore::minigrad.KinkWarning")   # hypothesis draws values at the kinks
@pytest.mark.parametrize("fn", [F.relu, lambda x: F.leaky_relu(x, 0.1), lambda x: F.elu(x, 1.3), F.sigmoid,
                                F.tanh, lambda x: F.softplus(x, 1.5), lambda x: F.softmax(x, 0),
                                lambda x: F.log_softmax(x, -1),
                                lambda x: F.prelu(x, mg.tensor([0.25], dtype="float64"))])
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=3), requires_grad=True))
def test_activation_gradcheck(fn, x):
    assert mg.gradcheck(fn, [x])


def test_prelu_slope_gradcheck_and_channel_error():
    x = mg.randn(3, 2, 2, dtype="float64", requires_grad=True)
    w = mg.tensor([0.2, -0.4], dtype="float64", requires_grad=True)
    assert mg.gradcheck(F.prelu, [x, w])
    with pytest.raises(mg.ShapeError, match=r"PReLU: expected input with 2 channels \(dim 1\), got shape \(3, 4\)"):
        nn.PReLU(2)(mg.ones(3, 4))


def test_inplace_relu_changes_the_tensor_and_keeps_gradients():
    x = mg.randn(5, dtype="float64", requires_grad=True)
    h = x * 1.0
    out = nn.ReLU(inplace=True)(h)
    assert out is h and (npy(h) >= 0).all()
    h.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), (npy(x) > 0).astype(float))


# ***** dropout *****

def test_dropout_preserves_the_mean_and_drops_a_fraction_p():
    mg.manual_seed(0)
    x = mg.ones(200, 500)
    y = npy(nn.Dropout(0.3)(x))
    assert abs((y == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)  # survivors are scaled: inverted dropout
    assert abs(y.mean() - 1.0) < 0.01


def test_dropout_is_the_identity_in_eval_and_with_p_zero():
    x = mg.randn(4, 5)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not npy(nn.Dropout(1.0)(x)).any()


def test_dropout_gradient_is_the_scaled_mask_and_seeded():
    x = mg.randn(10, 10, dtype="float64", requires_grad=True)
    mg.manual_seed(7)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = npy(y) != 0
    np.testing.assert_allclose(npy(x.grad), mask / 0.6)
    mg.manual_seed(7)
    np.testing.assert_array_equal(npy(F.dropout(x, 0.4)), npy(y))   # same seed, same mask
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


@given(p=st.floats(0.0, 0.9), shape=shapes(min_dims=1, max_dims=3))
def test_dropout_values_are_zero_or_scaled_input(p, shape):
    x = mg.randn(*shape, dtype="float64")
    y = npy(F.dropout(x, p))
    kept = y != 0
    np.testing.assert_allclose(y[kept], npy(x)[kept] / (1 - p))


# ***** batch norm *****

@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 2, 3))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_matches_torch_in_train_and_eval(torch, cls, shape, momentum):
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    ours = getattr(nn, cls)(3, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        theirs.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    copy_params(ours, theirs, torch)
    for step in range(3):                                  # training steps move the running averages
        x = rng(step).standard_normal(shape) * 3 + 1
        xo, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
        g = rng(10 + step).standard_normal(shape)
        ours.zero_grad(), theirs.zero_grad()
        yo.backward(mg.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        assert_grads_match(ours, theirs, rtol=1e-9)
    for name, buf in theirs.named_buffers():
        np.testing.assert_allclose(npy(getattr(ours, name)), buf.numpy(), rtol=1e-10, err_msg=name)
    ours.eval(), theirs.eval()
    x = rng(99).standard_normal(shape)
    xo, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-9)
    assert int(ours.num_batches_tracked.item()) == 3       # eval does not count


@pytest.mark.parametrize("kwargs", [{"affine": False}, {"track_running_stats": False}, {"bias": False}])
def test_batchnorm_options_match_torch(torch, kwargs):
    theirs = torch.nn.BatchNorm1d(2, **kwargs).double()
    ours = nn.BatchNorm1d(2, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = rng().standard_normal((5, 2)) * 2
        xo, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
        (yo * yo).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batchnorm_train_normalises_each_channel_and_eval_uses_running_stats():
    bn = nn.BatchNorm2d(3).double()
    x = mg.tensor(rng().standard_normal((8, 3, 4, 4)) * 5 + 2)
    y = npy(bn(x))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)         # biased var normalises
    xs = npy(x)
    n = xs.size // 3
    np.testing.assert_allclose(npy(bn.running_mean), 0.1 * xs.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(npy(bn.running_var), 0.9 + 0.1 * xs.var(axis=(0, 2, 3)) * n / (n - 1))  # unbiased
    bn.eval()
    one = mg.tensor(xs[:1])                             # a single example works in eval
    expected = (xs[:1] - npy(bn.running_mean).reshape(1, 3, 1, 1)) / np.sqrt(
        npy(bn.running_var).reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(npy(bn(one)), expected, rtol=1e-10)
    before = npy(bn.running_mean).copy()
    bn(x)
    np.testing.assert_array_equal(npy(bn.running_mean), before)             # eval never updates


@given(shape=st.sampled_from([(3, 2), (2, 2, 3), (2, 2, 2, 2), (4, 1)]), affine=st.booleans())
def test_batchnorm_gradcheck_and_double_backward(shape, affine):
    C = shape[1]
    x = mg.tensor(rng().standard_normal(shape) * 2, requires_grad=True)
    w = mg.tensor(rng(1).standard_normal(C), requires_grad=True)
    b = mg.tensor(rng(2).standard_normal(C), requires_grad=True)
    if affine:
        def fn(x, w, b): return F.batch_norm(x, None, None, w, b, training=True)
        inputs = [x, w, b]
    else:
        def fn(x): return F.batch_norm(x, None, None, training=True)
        inputs = [x]
    assert mg.gradcheck(fn, inputs, atol=1e-6)
    assert mg.gradgradcheck(fn, inputs, atol=1e-5)


def test_fused_batchnorm_equals_the_composed_formula():
    x = mg.tensor(rng().standard_normal((5, 3)), requires_grad=True)
    w = mg.tensor(rng(1).standard_normal(3), requires_grad=True)
    mean = x.mean(0, keepdim=True)
    composed = (x - mean) / (x.var(0, unbiased=False, keepdim=True) + 1e-5).sqrt() * w
    gx_c, gw_c = mg.grad((composed ** 3).sum(), [x, w])
    fused = F.batch_norm(x, None, None, w, None, training=True)
    np.testing.assert_allclose(npy(fused), npy(composed), rtol=1e-12)
    gx_f, gw_f = mg.grad((fused ** 3).sum(), [x, w])
    np.testing.assert_allclose(npy(gx_f), npy(gx_c), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(npy(gw_f), npy(gw_c), rtol=1e-10)


def test_batchnorm_bad_input_names_layer_and_shapes():
    with pytest.raises(mg.ShapeError, match=r"BatchNorm1d: expected input of shape \(N, 3\) or \(N, 3, L\) "
                                            r"with 3 channels \(num_features\), got shape \(4, 5\)"):
        nn.BatchNorm1d(3)(mg.ones(4, 5))
    with pytest.raises(mg.ShapeError, match=r"BatchNorm2d: expected input of shape \(N, 3, H, W\), got shape \(4, 3\)"):
        nn.BatchNorm2d(3)(mg.ones(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.ones(1, 3))


# ***** embedding *****

def test_embedding_matches_torch_with_repeats_and_padding(torch):
    theirs = torch.nn.Embedding(6, 3, padding_idx=2).double()
    ours = nn.Embedding(6, 3, padding_idx=2).double()
    assert not npy(ours.weight)[2].any()                    # the padding row starts at zero
    copy_params(ours, theirs, torch)
    idx = np.array([[0, 2, 5], [5, 5, 1]])
    yo, yt = ours(mg.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(npy(yo), yt.detach().numpy())
    g = rng().standard_normal((2, 3, 3))
    yo.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(npy(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-12)
    assert npy(ours.weight.grad)[5].any() and not npy(ours.weight.grad)[2].any()


def test_embedding_gradcheck_and_errors():
    w = mg.randn(4, 2, dtype="float64", requires_grad=True)
    idx = mg.tensor([3, 0, 3, 1])
    assert mg.gradcheck(lambda w: F.embedding(idx, w), [w])           # repeated index 3 accumulates
    # padding_idx deliberately blocks its row's gradient (PyTorch's semantics), so only the rest is checked
    report = mg.check_gradients(lambda w: F.embedding(idx, w, padding_idx=1), [w])
    assert {f[1][0] for f in report.failures} == {1}
    with pytest.raises(IndexError, match=r"embedding: index 4 is out of range for 4 embeddings"):
        nn.Embedding(4, 2)(mg.tensor([0, 4]))
    with pytest.raises(TypeError, match="integer tensor of indices"):
        nn.Embedding(4, 2)(mg.tensor([0.0, 1.0]))


def test_one_hot():
    out = F.one_hot(mg.tensor([2, 0, 1]), 4)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[[2, 0, 1]])
    assert F.one_hot(mg.tensor([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(IndexError, match="class 5 is out of range for 3 classes"):
        F.one_hot(mg.tensor([0, 5]), 3)


# ***** the notes' sanity check: overfit a tiny data set *****

def test_small_mlp_overfits_twenty_examples_to_zero_loss():
    mg.manual_seed(0)
    r = rng(3)
    X = mg.tensor(r.standard_normal((20, 10)))
    y = mg.tensor(r.integers(0, 3, 20))
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 3))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(300):                               # plain SGD, written inline
        loss = loss_fn(model(X), y)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert abs(first - math.log(3)) < 0.3                # starts near chance: ln(3)
    assert loss.item() < 0.01
    assert (npy(model(X)).argmax(1) == y.numpy()).all()


def test_a_model_trains_on_every_device(device):
    mg.manual_seed(0)
    emb = nn.Embedding(7, 4, padding_idx=0).to(device)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3)).to(device)
    idx = mg.tensor([1, 2, 0, 6, 3], device=device)
    y = mg.tensor([0, 2, 1, 1, 0], device=device)
    losses = []
    for _ in range(5):
        loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(emb(idx)), y) + \
            nn.MultiMarginLoss()(model(emb(idx)), y)
        model.zero_grad(), emb.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(list(model.parameters()) + [emb.weight], 1.0)
        with mg.no_grad():
            for p in list(model.parameters()) + [emb.weight]:
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert model[0].weight.device == device and model[1].running_mean.device == device
    assert losses[-1] < losses[0]
    model.eval()
    assert model(emb(idx)).device == device


# ***** PyTorch's signatures: a model ports by changing the import *****

# torch arguments minigrad leaves out on purpose: deprecated (size_average, reduce), CUDA/kernel
# switches (foreach, fused, capturable, differentiable), per-call generators, sparse embeddings,
# LSTM projections; device/dtype are accepted where torch has them, as keywords.
_NOT_PORTED = {"size_average", "reduce", "foreach", "fused", "capturable", "differentiable", "generator",
               "proj_size", "device", "dtype", "_stacklevel"}
_EMBEDDING_EXTRAS = {"_weight", "_freeze", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"}


def _signature(f, skip):
    try:
        params = [p for p in inspect.signature(f).parameters.values() if p.name != "self"]
    except (TypeError, ValueError):        # a builtin without a signature
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    positional = [(p.name, p.default) for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.name not in skip]
    return positional, {p.name for p in params}


def test_arguments_names_order_and_defaults_match_torch(torch):
    import minigrad.nn.init as init
    import minigrad.nn.utils as utils
    import minigrad.optim as optim
    from minigrad.optim import lr_scheduler
    pairs = [(getattr(nn, n).__init__, getattr(torch.nn, n).__init__) for n in dir(nn)
             if isinstance(getattr(nn, n), type) and hasattr(torch.nn, n)]
    pairs += [(getattr(F, n), getattr(torch.nn.functional, n)) for n in dir(F)
              if inspect.isfunction(getattr(F, n)) and not n.startswith("_") and hasattr(torch.nn.functional, n)]
    pairs += [(getattr(init, n), getattr(torch.nn.init, n)) for n in dir(init)
              if inspect.isfunction(getattr(init, n)) and not n.startswith("_") and hasattr(torch.nn.init, n)]
    pairs += [(getattr(optim, n).__init__, getattr(torch.optim, n).__init__)
              for n in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")]
    pairs += [(getattr(lr_scheduler, n).__init__, getattr(torch.optim.lr_scheduler, n).__init__)
              for n in ("StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau")]
    pairs += [(getattr(utils, n), getattr(torch.nn.utils, n))
              for n in ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters")]
    checked = 0
    for ours, theirs in pairs:
        extras = _EMBEDDING_EXTRAS if "mbedding" in ours.__qualname__ else set()
        a, b = _signature(ours, {"device", "dtype"}), _signature(theirs, _NOT_PORTED | extras)
        if a is None or b is None:
            continue
        (pos, names), (tpos, tnames) = a, b
        where = ours.__qualname__
        assert pos == tpos[:len(pos)], f"{where}: positional arguments {pos} differ from torch's {tpos}"
        assert names - {"device", "dtype"} <= tnames, f"{where}: arguments {names - tnames} are not torch's"
        checked += 1
    assert checked > 50


def test_softmax_without_dim_warns_and_picks_pytorchs_implicit_dim():
    x = mg.tensor(rng(3).standard_normal((2, 3, 4)))
    for module, fn in ((nn.Softmax(), F.softmax), (nn.LogSoftmax(), F.log_softmax)):
        with pytest.warns(UserWarning, match="Implicit dimension choice.*dim=0"):
            y = module(x)                                    # 3-D: PyTorch's legacy rule picks dim 0
        np.testing.assert_allclose(y.data, fn(x, 0).data)
        with pytest.warns(UserWarning, match="dim=1"):
            assert np.allclose(fn(x[0]).data, fn(x[0], 1).data)   # 2-D: dim 1
