"""Every op of the catalogue (tests/op_catalog.py): forward vs numpy, float32 kept, gradcheck in float64,
gradgradcheck on the smooth ops, values and gradients vs torch; then the Tensor API."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import tensors
from op_catalog import CATALOG, push_away

IDS = [op.name for op in CATALOG]
SMOOTH = [op for op in CATALOG if op.differentiable and op.smooth and op.double_backward]
WITH_TORCH = [op for op in CATALOG if op.torch is not None]


def draw_inputs(data, op):
    """Input arrays (float64) drawn in the op's domain, away from its kinks, and the op's params."""
    shps, params = data.draw(op.cases(), label="shapes, params")
    arrays = []
    for k, (shp, dom) in enumerate(zip(shps, op.domains())):
        a = data.draw(tensors(shape=shp, min_value=dom.lo, max_value=dom.hi), label=f"input {k}").data
        arrays.append(push_away(a, dom.away, dom.gap) if dom.away else a)
    if op.fix is not None:
        arrays = [np.asarray(a, dtype=np.float64) for a in op.fix(arrays, params)]
    return arrays, params


def mg_params(params, device):
    """Arrays inside the params (indices, masks, conditions) as minigrad tensors on ``device``."""
    def conv(v):
        if isinstance(v, np.ndarray):
            return mg.tensor(v, device=device)
        if isinstance(v, tuple):
            return tuple(conv(i) for i in v)
        return v
    return {k: conv(v) for k, v in params.items()}


def torch_params(params):
    import torch

    def conv(v):
        if isinstance(v, np.ndarray):
            return torch.from_numpy(v)
        if isinstance(v, tuple) and any(isinstance(i, np.ndarray) for i in v):
            return tuple(conv(i) for i in v)
        return v
    return {k: conv(v) for k, v in params.items()}


def host(t):
    return mg.backend.to_numpy(t.data)


# ***** the catalogue, row by row *****

@pytest.mark.parametrize("op", CATALOG, ids=IDS)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_op(op, device, data):
    """One draw, three checks: forward vs the numpy reference (float64), float32 in gives float32 out
    and float32 gradients (no silent upcast, Python scalars included), and gradcheck (float64)."""
    arrays, params = draw_inputs(data, op)
    p = mg_params(params, device)

    # forward vs numpy
    out = op.fn(*[mg.tensor(a, device=device) for a in arrays], **p)
    expected = np.asarray(op.ref(*arrays, **params))
    assert out.shape == expected.shape
    assert out.device == device
    np.testing.assert_allclose(host(out), expected, rtol=1e-10, atol=1e-12)

    # float32 stays float32, forward and backward
    xs = [mg.tensor(a.astype(np.float32), requires_grad=op.differentiable, device=device) for a in arrays]
    out = op.fn(*xs, **p)
    if not op.differentiable:
        assert out.dtype.kind == "i" and not out.requires_grad
        return
    assert out.dtype == np.float32, f"{op.name} turned float32 into {out.dtype}"
    np.testing.assert_allclose(host(out), expected, rtol=2e-4, atol=2e-5)
    out.backward(mg.ones_like(out))
    for x in xs:
        assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == x.shape

    # gradcheck in float64
    xs = [mg.tensor(a, requires_grad=True, device=device) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error", mg.KinkWarning)   # values were drawn away from kinks
        assert mg.gradcheck(lambda *ts: op.fn(*ts, **p), xs)


@pytest.mark.parametrize("op", SMOOTH, ids=[op.name for op in SMOOTH])
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_gradgradcheck(op, device, data):
    arrays, params = draw_inputs(data, op)
    xs = [mg.tensor(a, requires_grad=True, device=device) for a in arrays]
    p = mg_params(params, device)
    assert mg.gradgradcheck(lambda *ts: op.fn(*ts, **p), xs)


@pytest.mark.parametrize("op", WITH_TORCH, ids=[op.name for op in WITH_TORCH])
@settings(max_examples=10)
@given(data=st.data())
def test_matches_torch(op, data):
    """Values and gradients (for a random output gradient) equal PyTorch's."""
    torch = pytest.importorskip("torch")
    arrays, params = draw_inputs(data, op)
    need = op.differentiable
    xs = [mg.tensor(a, requires_grad=need) for a in arrays]
    ts = [torch.tensor(a, requires_grad=need) for a in arrays]
    out = op.fn(*xs, **mg_params(params, "cpu"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tout = op.torch(*ts, **torch_params(params))
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not need:
        return
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    for k, (x, t) in enumerate(zip(xs, ts)):
        tg = t.grad.numpy() if t.grad is not None else np.zeros(x.shape)
        np.testing.assert_allclose(x.grad.numpy(), tg, rtol=1e-9, atol=1e-12, err_msg=f"input {k}")


KINK_CASES = {   # exactly at a kink: minigrad's documented choice (mg.KINKS) is PyTorch's
    "relu": (lambda x: x.relu(), "relu", {}, [-1.0, 0.0, 2.0]),
    "abs": (lambda x: x.abs(), "abs", {}, [-1.0, 0.0, 2.0]),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), "leaky_relu", {"negative_slope": 0.1}, [-1.0, 0.0, 2.0]),
    "elu": (lambda x: x.elu(), "elu", {}, [-1.0, 0.0, 2.0]),
    "clamp": (lambda x: x.clamp(-1.0, 1.0), "clamp", {"min": -1.0, "max": 1.0}, [-1.0, 0.0, 1.0, 2.0]),
    "amax": (lambda x: x.amax(), "amax", {}, [3.0, 1.0, 3.0]),
    "amin": (lambda x: x.amin(0), "amin", {"dim": 0}, [[1.0, 2.0], [1.0, 0.0]]),
}


@pytest.mark.parametrize("name", sorted(KINK_CASES))
def test_gradient_at_kink_matches_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    fn, tname, kw, values = KINK_CASES[name]
    tfn = getattr(torch, tname, None) or getattr(F, tname)
    x = mg.tensor(values, dtype="float64", requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(x).sum().backward()
    tfn(t, **kw).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_of_nan_and_infinities_matches_torch(dtype):
    """relu keeps a NaN (max with 0 propagates it) and passes its gradient (PyTorch blocks only where
    the output is <= 0, and NaN <= 0 is false)."""
    torch = pytest.importorskip("torch")
    values = [float("nan"), -float("inf"), float("inf"), -0.0, 0.0, -2.0, 3.0]
    x = mg.tensor(values, dtype=dtype, requires_grad=True)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    y, ty = x.relu(), torch.relu(t)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.backward(mg.ones(len(values), dtype=dtype))
    ty.backward(torch.ones(len(values), dtype=getattr(torch, dtype)))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def _bits(a):
    """An array's bits, to compare values, NaN payloads and signs of zero exactly."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_blocks_an_infinite_or_nan_gradient_with_plus_zero_as_torch(dtype, create_graph):
    """relu's backward is a select: an inf or NaN upstream gradient is blocked (inf * 0 would be
    NaN), and a blocked negative gradient gives +0, not -0, as PyTorch's threshold_backward; the same
    on the recorded pass (create_graph)."""
    torch = pytest.importorskip("torch")
    values = [-1.0, 0.0, 2.0, -3.0, 4.0, -0.5, 0.5]
    grads = [np.inf, np.nan, np.inf, -1.0, -np.inf, -np.inf, np.nan]
    x = mg.tensor(values, dtype=dtype, requires_grad=True)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    x.relu().backward(mg.tensor(grads, dtype=dtype), create_graph=create_graph)
    torch.relu(t).backward(torch.tensor(grads, dtype=getattr(torch, dtype)))
    np.testing.assert_array_equal(_bits(x.grad.detach().numpy()), _bits(t.grad.numpy()))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128])
@pytest.mark.parametrize("layout", ["C", "T"])
def test_the_gradient_mask_is_an_exact_select_for_every_float_dtype_and_layout(dtype, layout):
    """ops._masked (ReLU's backward): kept values bit for bit, +0 at blocked places, whatever the
    dtype (bits as unsigned integers, or a select where no unsigned type is that wide) and layout."""
    from minigrad.ops import _masked
    g = np.array([[np.inf, -np.inf, np.nan], [-1.5, -0.0, 2.0]], dtype=dtype)
    mask = np.array([[False, True, False], [False, False, True]])
    if layout == "T":
        g, mask = g.T, mask.T
    out = _masked(g, mask)
    expected = np.where(mask, g, np.zeros((), dtype))
    assert out.dtype == g.dtype and out.shape == g.shape
    np.testing.assert_array_equal(out, expected)
    assert not np.signbit(out.real[~mask]).any()                       # +0, never -0
    assert np.signbit(out.real[mask]).tolist() == np.signbit(g.real[mask]).tolist()


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 4), extra=st.integers(0, 300), layout=st.sampled_from(["C", "T", "strided"]),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_relu_of_large_arrays_in_any_layout_is_maximum_with_zero(rows, extra, layout, dtype, seed):
    """Big arrays take relu's row-wise path (whole rows of a cached zero row, then a tail): values
    equal maximum(x, 0) with NaN kept, the gradient passes where x > 0 or x is NaN, for a C-ordered,
    a transposed and a strided input."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((128, rows * 128 + extra + 1)).astype(dtype)
    base.flat[rng.integers(0, base.size, 40)] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], 40)
    a = {"C": base, "T": base.T, "strided": base[:, ::2]}[layout]
    leaf = mg.tensor(base, requires_grad=True)
    x = {"C": leaf, "T": leaf.T, "strided": leaf[:, ::2]}[layout]       # views keep the layout
    assert x.data.flags.c_contiguous == (layout == "C")
    x.retain_grad()
    y = x.relu()
    np.testing.assert_array_equal(y.detach().numpy(), np.maximum(a, 0))
    g = rng.standard_normal(a.shape).astype(dtype)
    y.backward(mg.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a > 0, g, 0) + np.where(np.isnan(a), g, 0))


def test_maximum_tie_splits_like_torch():
    torch = pytest.importorskip("torch")
    a, b = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([1.0, 5.0, 0.0], requires_grad=True)
    ta, tb = (torch.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 5.0, 0.0], requires_grad=True))
    a.maximum(b).sum().backward()
    torch.maximum(ta, tb).sum().backward()
    assert a.grad.tolist() == ta.grad.tolist() == [0.5, 0.0, 1.0]
    assert b.grad.tolist() == tb.grad.tolist() == [0.5, 1.0, 0.0]


# ***** numerics *****

@pytest.mark.parametrize("scale", [1e3, 1e5, 1e30])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_stable_for_huge_inputs(scale, dtype):
    v = np.array([[1.0, 2.0, 3.0], [-3.0, 0.0, -1.0]]) * scale
    x = mg.tensor(v, dtype=dtype, requires_grad=True)
    s, ls, lse = x.softmax(1), x.log_softmax(1), x.logsumexp(1)
    for t in (s, ls, lse):
        assert np.isfinite(t.numpy() if not t.requires_grad else t.detach().numpy()).all()
        assert t.dtype == np.dtype(dtype)
    np.testing.assert_allclose(s.detach().numpy(), np_softmax_ref(v.astype(dtype)), rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(lse.detach().numpy(), v.max(1), rtol=1e-5)
    (ls[:, 0].sum() + lse.sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()


def np_softmax_ref(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_sigmoid_saturates_without_overflow():
    x = mg.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow RuntimeWarning
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, np.exp(-100.0), 0.5, 1.0, 1.0], atol=1e-30)
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_logsumexp_of_all_minus_inf_row():
    x = mg.tensor([[-np.inf, -np.inf], [0.0, 0.0]])
    np.testing.assert_allclose(x.logsumexp(1).numpy(), [-np.inf, np.log(2.0)])


def test_argmax_over_flattened_tensor_and_no_gradient():
    x = mg.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    i = x.argmax()
    assert i.item() == 2 and i.dtype == np.int64 and not i.requires_grad
    assert x.argmax(1, keepdim=True).tolist() == [[1], [0]]
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]


def test_comparisons_carry_no_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for c in (x > 1, x >= 1, x < 1, x <= 1, x == 1, x != 1):
        assert c.dtype == np.bool_ and not c.requires_grad and c.grad_fn is None


def test_getitem_repeated_indices_accumulate(device):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    x[mg.tensor([0, 0, 2, 0], device=device)].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, device=device)
    (y[[1, 1]] * mg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)).sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0], [4.0, 6.0]]


def test_getitem_mask_selects_and_routes_gradient(device):
    x = mg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True, device=device)
    sel = x[x > 0]
    assert sel.tolist() == [1.0, 4.0]
    (sel * 2.0).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_pad_and_where_forms():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    p = mg.pad(x, (1, 2), value=-1.0)
    assert p.tolist() == [[-1.0, 1.0, 2.0, -1.0, -1.0]]
    w = mg.where(x > 1.5, x, 0.0)
    assert w.tolist() == [[0.0, 2.0]]
    (p.sum() + w.sum()).backward()
    assert x.grad.tolist() == [[1.0, 2.0]]


@settings(max_examples=10)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_matmul_gradient_is_the_notes_transpose_rule(n, k, m):
    """dW = dD X^T and dX = W^T dD (the notes' dimension analysis)."""
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    W, X, dD = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal((n, m))
    w, x = mg.tensor(W, requires_grad=True), mg.tensor(X, requires_grad=True)
    (w @ x).backward(mg.tensor(dD))
    np.testing.assert_allclose(w.grad.numpy(), dD @ X.T, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), W.T @ dD, rtol=1e-12)


# ***** the Tensor API *****

def test_creation_functions(device):
    assert mg.tensor([1.0, 2.0], device=device).dtype == np.float32      # float32 by default
    assert mg.tensor(1.5).shape == () and mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([1.0], dtype="float64").dtype == np.float64
    assert mg.tensor(np.zeros(2)).dtype == np.float64                     # numpy arrays keep their dtype
    assert mg.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert mg.zeros((2, 3)).shape == (2, 3) and mg.ones(4, device=device).tolist() == [1.0] * 4
    f = mg.full((2,), 7.0, device=device)
    assert f.tolist() == [7.0, 7.0] and f.dtype == np.float32
    assert mg.arange(4, device=device).tolist() == [0, 1, 2, 3] and mg.arange(4).dtype == np.int64
    assert mg.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5] and mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert mg.eye(2, device=device).tolist() == [[1.0, 0.0], [0.0, 1.0]] and mg.eye(2, 3).shape == (2, 3)
    for make in (mg.randn, mg.rand):
        r = make(3, 4, device=device)
        assert r.shape == (3, 4) and r.dtype == np.float32 and r.device == device
    assert 0.0 <= float(mg.rand(100).numpy().min()) and float(mg.rand(100).numpy().max()) < 1.0
    base = mg.randn(2, 3, dtype="float64", device=device)
    for like, v in ((mg.zeros_like, 0.0), (mg.ones_like, 1.0)):
        t = like(base)
        assert t.shape == base.shape and t.dtype == np.float64 and t.device == device
        assert (host(t) == v).all()
    r = mg.randn(3, requires_grad=True)
    assert r.requires_grad and r.is_leaf and r.grad is None and r.grad_fn is None


def test_manual_seed_reproducibility():
    mg.manual_seed(123)
    a, b = mg.randn(5), mg.rand(2, 2)
    mg.manual_seed(123)
    assert mg.randn(5).equal(a) and mg.rand(2, 2).equal(b)
    mg.manual_seed(124)
    assert not mg.randn(5).equal(a)


def test_tensor_copies_its_data():
    arr = np.ones(3)
    t = mg.tensor(arr)
    t2 = mg.tensor(t)
    arr[0] = 5.0
    assert t.tolist() == [1.0, 1.0, 1.0]          # mg.tensor copies, as torch.tensor (from_numpy shares)
    t.data[1] = 9.0
    assert t2.tolist() == [1.0, 1.0, 1.0]
    shared = mg.from_numpy(arr)
    arr[1] = 4.0
    assert shared.tolist() == [5.0, 4.0, 1.0]


def test_python_scalars_and_numpy_scalars_keep_float32():
    x = mg.randn(3)
    for y in (x * 0.5, 0.5 * x, x / 3, x + 1, x - True, x ** 2, 2 ** x, x * np.float64(0.5),
              np.float64(2.0) * x, x / np.sqrt(2.0), x.maximum(0.0), mg.where(x > 0, x, 0.0)):
        assert y.dtype == np.float32, y
    i = mg.tensor([1, 2])
    assert (i * 2).dtype == np.int64 and (i * 0.5).dtype == np.float32 and (i / 2).dtype == np.float32
    assert (i * x[:2]).dtype == np.float32 and (x[:2] + i).dtype == np.float32   # int with float32: float32
    assert (i * mg.tensor([1.0], dtype="float64")).dtype == np.float64


def test_numpy_arrays_mix_into_expressions():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x + np.ones(2, dtype=np.float32)   # ndarray op Tensor
    assert isinstance(y, mg.Tensor) and y.tolist() == [4.0, 9.0]
    (x @ np.array([1.0, -1.0], dtype=np.float32)).backward()
    assert x.grad.tolist() == [1.0, -1.0]


def test_item_tolist_numpy_detach():
    x = mg.tensor([[1.5, 2.0]], requires_grad=True)
    assert x[0, 1].item() == 2.0 and isinstance(x.sum().item(), float)
    assert x.tolist() == [[1.5, 2.0]]
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        x.item()
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and isinstance(d.numpy(), np.ndarray)
    d.data[0, 0] = 7.0                                            # shares memory, like torch
    assert x.tolist()[0][0] == 7.0
    y = (x * 2).detach()
    assert y.is_leaf and not y.requires_grad


def test_requires_grad_and_is_leaf():
    x = mg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)
    assert not (mg.tensor([1.0]) * 2).requires_grad


def test_to_cpu_float_double_are_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.grad_fn is not None
    assert x.float() is x and x.cpu() is x and x.to("cpu") is x
    assert x.to(dtype="float64").dtype == np.float64 and x.to("float64").dtype == np.float64
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 4.0]


def test_T_reverses_all_dims():
    x = mg.randn(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and mg.randn(5).T.shape == (5,)
    np.testing.assert_array_equal(x.T.numpy(), x.numpy().T)


def test_zero_dim_tensors_reduce_over_dim_0_like_torch():
    torch = pytest.importorskip("torch")
    x, t = mg.tensor(3.0, dtype="float64", requires_grad=True), torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    outs = [x.sum(0), x.amax(-1), x.softmax(0), x.log_softmax(-1), x.logsumexp(0), x.mean(0)]
    touts = [t.sum(0), t.amax(-1), t.softmax(0), t.log_softmax(-1), t.logsumexp(0), t.mean(0)]
    for o, to in zip(outs, touts):
        assert o.shape == tuple(to.shape) and o.item() == pytest.approx(to.item())
    sum(outs).backward()
    sum(touts).backward()
    assert x.grad.item() == pytest.approx(t.grad.item())


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_power_edge_cases_like_torch():
    torch = pytest.importorskip("torch")
    for p in (0, 0.5, 2, -1):
        x = mg.tensor([0.0, 2.0], dtype="float64", requires_grad=True)
        t = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
        (x ** p).sum().backward()
        (t ** p).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14)   # inf and 0 included
    assert (mg.tensor([1, 4]) ** 0.5).dtype == np.float32 and (mg.tensor([1, 4]) ** 2).dtype == np.int64


# ***** review additions: PyTorch's argument forms *****

def test_to_accepts_device_and_dtype_together_and_another_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for y in (x.to("cpu", "float64"), x.to("cpu", dtype=mg.float64), x.to(mg.float64),
              x.to(mg.zeros(1, dtype="float64"))):      # .to(other): other's dtype and device
        assert y.dtype == np.float64 and y.device == "cpu" and y.grad_fn is not None
    assert x.to(mg.zeros(1)) is x


def test_reductions_take_numpy_integer_dims():
    x = mg.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    values, indices = x.max(np.int64(1))
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]
    assert x.min(dim=np.int32(0)).values.tolist() == [1.0, 2.0, 3.0]
    assert x.sum(np.int64(0)).tolist() == [5.0, 7.0, 9.0] and x.softmax(np.int64(-1)).shape == (2, 3)


def test_full_infers_its_dtype_from_the_fill_value_like_torch():
    torch = pytest.importorskip("torch")
    for value in (3, 2.5, True):
        assert str(mg.full((2,), value).dtype) == str(torch.full((2,), value).dtype).replace("torch.", "")
    assert mg.full((2,), 3, dtype="float64").dtype == np.float64
    from minigrad import nn
    assert nn.PReLU(init=1).weight.dtype == np.float32             # a layer filling with an int stays float


@pytest.mark.parametrize("op", [op for op in CATALOG if op.differentiable and not op.double_backward],
                         ids=[op.name for op in CATALOG if op.differentiable and not op.double_backward])
@settings(max_examples=3, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_backward_of_linear_ops_is_differentiable(op, data):
    """A linear op's second derivative is zero, but its backward must still be recorded: squaring
    the output makes the gradient that flows into the op depend on the input."""
    arrays, params = draw_inputs(data, op)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    p = mg_params(params, "cpu")
    assert mg.gradgradcheck(lambda *ts: op.fn(*ts, **p) ** 2, xs)
