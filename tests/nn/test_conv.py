"""Conv2d, MaxPool2d and AvgPool2d: the notes' sizes and worked numbers, a loop-by-loop reference
(the notes' V[x, y, k] = sum(X[window] * W_k) + b_k), gradcheck, switches, and torch as oracle."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.conv import AvgPool2d, Conv2d, MaxPool2d, avg_pool2d, conv2d, max_pool2d


# ***** references written the slow, obvious way (loops over output pixels) *****

def ref_conv2d(x, w, b, stride, padding, dilation):
    N, C, H, W = x.shape
    K, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, K, OH, OW))
    for i in range(OH):
        for j in range(OW):
            field = xp[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            out[:, :, i, j] = np.tensordot(field, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b[None, :, None, None])


def ref_pool(x, kernel, stride, padding, reduce, fill):
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    OH, OW = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = reduce(xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out


@st.composite
def conv_cases(draw):
    """Random N, C, H, W, K, kernel, stride, padding, dilation with a kernel that fits."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 7))
    W = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 7))
    return dict(N=draw(st.integers(1, 3)), C=draw(st.integers(1, 3)), K=draw(st.integers(1, 4)), H=H, W=W,
                kernel=(kh, kw), stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                padding=(ph, pw), dilation=(dh, dw), seed=draw(st.integers(0, 2**16)))


@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    tiles = draw(st.booleans())                   # half the cases take the reshape fast path
    stride = (kh, kw) if tiles else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (0, 0) if tiles else (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    H = draw(st.integers(max(1, kh - 2 * padding[0]), 7))
    W = draw(st.integers(max(1, kw - 2 * padding[1]), 7))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W), kernel=(kh, kw),
                stride=stride, padding=padding, seed=draw(st.integers(0, 2**16)))


# ***** conv2d *****

@given(conv_cases())
def test_conv2d_matches_the_loop_reference_and_the_size_formula(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"]))
    w = rng.standard_normal((case["K"], case["C"]) + case["kernel"])
    b = rng.standard_normal(case["K"])
    out = conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), case["stride"], case["padding"], case["dilation"])
    ref = ref_conv2d(x, w, b, case["stride"], case["padding"], case["dilation"])
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = case["kernel"], case["stride"], case["padding"], case["dilation"]
    # the notes' (W - F + 2P)/S + 1, with the dilated kernel's extent as F, floored as PyTorch
    assert out.shape == (case["N"], case["K"], (case["H"] - (dh * (kh - 1) + 1) + 2 * ph) // sh + 1,
                         (case["W"] - (dw * (kw - 1) + 1) + 2 * pw) // sw + 1)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-10)


def test_conv2d_gradcheck_input_weight_bias():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(3), requires_grad=True)
    assert mg.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)), [x, w, b])


def test_conv2d_double_backward():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    # squared, so the second derivative is not identically zero in any input
    assert mg.gradgradcheck(lambda x, w: (conv2d(x, w, stride=2, padding=1) ** 2), [x, w])
    # with a bias, dilation and uneven stride/padding: every second derivative of the three gates
    b = mg.tensor(rng.standard_normal(2), requires_grad=True)
    x2 = mg.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    assert mg.gradgradcheck(lambda x, w, b: conv2d(x, w, b, stride=(1, 2), padding=(2, 1), dilation=(2, 1)) ** 2,
                            [x2, w, b])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_bias_and_weight_gradients_agree_on_every_backward_path(dtype):
    """The bias rides in the multiply (a row of ones in X_col): the first-order backward takes dW and
    db from one multiply, create_graph takes them from gates, a frozen weight leaves db alone. All
    three give db = the upstream gradient summed over (N, OH, OW), and the same dW."""
    rng = np.random.default_rng(5)
    xv, wv, bv = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 2)), rng.standard_normal(4)
    up = rng.standard_normal((3, 4, 3, 6))                    # the output's shape: stride (2, 1), padding 1
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)

    def run(w_grad, create_graph):
        x = mg.tensor(xv.astype(dtype), requires_grad=True)
        w = mg.tensor(wv.astype(dtype), requires_grad=w_grad)
        b = mg.tensor(bv.astype(dtype), requires_grad=True)
        loss = (conv2d(x, w, b, stride=(2, 1), padding=1) * mg.tensor(up.astype(dtype))).sum()
        wrt = [x, w, b] if w_grad else [x, b]
        return [g.detach().numpy() for g in mg.grad(loss, wrt, create_graph=create_graph)]

    first, recorded, frozen = run(True, False), run(True, True), run(False, False)
    np.testing.assert_allclose(first[2], up.sum(axis=(0, 2, 3)), **tol)
    for got in (recorded, [frozen[0], None, frozen[1]]):
        for a, b in zip(first, got):
            if b is not None:
                np.testing.assert_allclose(b, a, **tol)
    # dW against the loop reference: d/dW of sum(up * conv) is sum over outputs of up * field
    eps, w_num = 1e-6, np.zeros_like(wv)
    for idx in np.ndindex(wv.shape):
        d = np.zeros_like(wv)
        d[idx] = eps
        hi = ref_conv2d(xv, wv + d, bv, (2, 1), (1, 1), (1, 1))
        lo = ref_conv2d(xv, wv - d, bv, (2, 1), (1, 1), (1, 1))
        w_num[idx] = ((hi - lo) * up).sum() / (2 * eps)
    np.testing.assert_allclose(first[1], w_num, rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-3)


def test_notes_numpy_example_V_entries():
    """The notes' X.shape (11, 11, 4), F=5, S=2, P=0: V[0,0,0] = sum(X[:5,:5,:] * W0) + b0, ..."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((11, 11, 4))                     # the notes' (x, y, depth) layout
    W0, W1, b0, b1 = rng.standard_normal((5, 5, 4)), rng.standard_normal((5, 5, 4)), 0.5, -1.5
    x = mg.tensor(X.transpose(2, 0, 1)[None])                # -> NCHW
    w = mg.tensor(np.stack([W0, W1]).transpose(0, 3, 1, 2))  # -> (K, C, kh, kw)
    V = conv2d(x, w, mg.tensor([b0, b1], dtype="float64"), stride=2).data[0].transpose(1, 2, 0)
    assert V.shape == (4, 4, 2)                              # (11 - 5)/2 + 1 = 4
    for (i, j, k), (xs, ys) in {(0, 0, 0): (slice(0, 5), slice(0, 5)), (1, 0, 0): (slice(2, 7), slice(0, 5)),
                                (2, 0, 0): (slice(4, 9), slice(0, 5)), (3, 0, 0): (slice(6, 11), slice(0, 5)),
                                (0, 1, 1): (slice(0, 5), slice(2, 7)), (2, 3, 1): (slice(4, 9), slice(6, 11))}.items():
        Wk, bk = (W0, b0) if k == 0 else (W1, b1)
        assert V[i, j, k] == pytest.approx(np.sum(X[xs, ys, :] * Wk) + bk, rel=1e-12)


def test_notes_sizes_alexnet_and_demo():
    # AlexNet's first layer: [227x227x3], F=11, S=4, P=0, K=96 -> [55x55x96]
    conv = Conv2d(3, 96, kernel_size=11, stride=4)
    assert conv(mg.zeros(1, 3, 227, 227)).shape == (1, 96, 55, 55)
    # with parameter sharing: 96 * 11 * 11 * 3 = 34,848 weights, 34,944 parameters with biases
    assert conv.weight.numel() == 34_848
    assert sum(p.numel() for p in conv.parameters()) == 34_944
    # the demo: W1 = H1 = 5, D1 = 3, K = 2, F = 3, S = 2, P = 1 -> (5 - 3 + 2)/2 + 1 = 3
    assert Conv2d(3, 2, 3, stride=2, padding=1)(mg.zeros(1, 3, 5, 5)).shape == (1, 2, 3, 3)
    # F = 3, P = 1 (P = (F - 1)/2) and F = 5, P = 2 preserve the spatial size at S = 1
    assert Conv2d(3, 4, 3, padding=1)(mg.zeros(2, 3, 8, 6)).shape == (2, 4, 8, 6)
    assert Conv2d(3, 4, 5, padding=2)(mg.zeros(2, 3, 8, 6)).shape == (2, 4, 8, 6)
    # the notes' invalid W=10, F=3, S=2 ((10 - 3)/2 + 1 = 4.5): floored to 4, as PyTorch does
    assert Conv2d(1, 1, 3, stride=2)(mg.zeros(1, 1, 10, 10)).shape == (1, 1, 4, 4)


def test_im2col_layout_and_graph_is_independent_of_batch_and_size():
    """The notes' X_col: (C*F*F) x (OH*OW) per image, and one matrix multiply: the graph of a conv
    has the same few gates whatever N, H and W (no loop over batch or pixels builds gates)."""
    from minigrad.nn.conv import Im2Col
    x = mg.zeros(1, 3, 227, 227)
    cols = Im2Col.apply(x, geom=((11, 11), (4, 4), ((0, 0), (0, 0)), (1, 1)))
    assert cols.shape == (1, 363, 3025)

    def gate_labels(out):
        seen, stack, labels = set(), [out.grad_fn], []
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen or isinstance(fn, mg.Tensor):
                continue
            seen.add(id(fn))
            labels.append(fn.label)
            stack.extend(fn.parents)
        return sorted(labels)

    conv = Conv2d(3, 4, 3, padding=1)
    small = gate_labels(conv(mg.zeros(1, 3, 4, 4, requires_grad=True)))
    big = gate_labels(conv(mg.zeros(8, 3, 16, 12, requires_grad=True)))
    assert small == big == ["Conv2d"]
    # and so does its backward (create_graph records it): the input and weight gradient gates
    for n, h, w in ((1, 4, 4), (8, 16, 12)):
        x = mg.zeros(n, 3, h, w, requires_grad=True)
        gx, gw = mg.grad(conv(x).sum(), [x, conv.weight], create_graph=True)
        assert gate_labels(gx).count("Conv2dGradInput") == 1 and gate_labels(gw).count("Conv2dGradWeight") == 1
        assert len(gate_labels(gx)) <= 4 and len(gate_labels(gw)) <= 4


def test_conv_work_arrays_are_reused_only_when_nothing_holds_them(monkeypatch):
    """The im2col matrices come from a pool (no fresh pages every step); one still saved by a
    gate for backward, or by a retained graph, is never handed out again."""
    from minigrad import backend
    monkeypatch.setattr(backend.WorkArrayPool, "min_bytes", 0)     # pool even these tiny arrays

    def run():
        mg.manual_seed(3)
        conv = Conv2d(2, 3, 3, padding=1)
        x = mg.randn(2, 2, 6, 5, requires_grad=True)
        y1, y2 = conv(x), conv(x * 2.0)                 # two forwards: both columns saved at once
        p1, p2 = max_pool2d(y1, 2), max_pool2d(y2, 2)   # two pool outputs and masks alive at once
        loss = (y1 * y2).sum() + conv(y1[:, :2]).sum() + (p1 * p2).sum()
        loss.backward(retain_graph=True)
        loss.backward()                                 # the retained graph still reads its columns
        return [t.grad.data.copy() for t in (x, conv.weight, conv.bias)]

    pooled = run()
    with monkeypatch.context() as m:
        m.setattr(backend.work_arrays, "empty", lambda xp, shape, dtype: xp.empty(shape, dtype))
        fresh = run()
    for a, b in zip(pooled, fresh):
        np.testing.assert_array_equal(a, b)
    # a train step in a loop finds its work arrays free again: the pool does not grow
    conv, x = Conv2d(2, 3, 3, padding=1), mg.randn(2, 2, 6, 5, requires_grad=True)
    step = lambda: max_pool2d(conv(x).relu(), 2).sum().backward()
    step()
    held = [id(a) for a in backend.work_arrays.arrays]
    for _ in range(3):
        step()
    assert sorted(id(a) for a in backend.work_arrays.arrays) == sorted(held)


def test_conv2d_module_init_names_and_torch_default_bound():
    mg.manual_seed(0)
    conv = Conv2d(4, 8, (3, 2))
    bound = 1 / math.sqrt(4 * 3 * 2)        # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    assert conv.weight.shape == (8, 4, 3, 2) and conv.bias.shape == (8,)
    for p in (conv.weight, conv.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound
    nobias = Conv2d(4, 8, 3, bias=False)
    assert nobias.bias is None and [n for n, _ in nobias.named_parameters()] == ["weight"]
    assert repr(nobias) == "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), bias=False)"


def test_conv2d_unbatched_input_and_backward_of_module():
    mg.manual_seed(1)
    conv = Conv2d(2, 3, 3, padding=1)
    x = mg.randn(2, 5, 5)
    np.testing.assert_allclose(conv(x).data, conv(x.unsqueeze(0)).data[0], rtol=1e-6)
    conv(x.unsqueeze(0)).sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad.shape == (3,)
    np.testing.assert_allclose(conv.bias.grad.data, np.full(3, 25.0))   # d(sum)/d(b_k) = OH*OW


def test_conv2d_errors_name_layer_and_shapes():
    conv = Conv2d(3, 16, kernel_size=3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 16, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input "
                                         r"of shape \(N, 3, H, W\), got \(8, 4, 32, 32\)"):
        conv(mg.zeros(8, 4, 32, 32))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 16.*expected input of shape \(N, 3, H, W\).*got \(32, 32\)"):
        conv(mg.zeros(32, 32))
    with pytest.raises(ValueError, match=r"kernel.*bigger than the padded input \(2x2"):
        conv(mg.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="groups=1"):
        Conv2d(4, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        conv2d(mg.zeros(1, 1, 3, 3), mg.zeros(2, 1, 1, 1), mg.zeros(3))
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        conv2d(mg.zeros(1, 1, 3, 3), mg.zeros(2, 1, 1, 1), padding="same", stride=2)


def test_conv2d_on_device(device):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    X = mg.tensor(x, device=device, requires_grad=True)
    W = mg.tensor(w, device=device, requires_grad=True)
    out = conv2d(X, W, stride=2, padding=1)
    assert out.device == device
    np.testing.assert_allclose(out.cpu().data, ref_conv2d(x, w, None, (2, 2), (1, 1), (1, 1)), atol=1e-10)
    out.sum().backward()
    assert X.grad.device == device and X.grad.shape == X.shape


# ***** max pooling: the switches *****

@given(pool_cases())
def test_max_pool2d_matches_reference_and_routes_gradient_to_the_switch(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.permutation(np.prod(case["shape"])).reshape(case["shape"]).astype(np.float64)   # no ties
    X = mg.tensor(x, requires_grad=True)
    out = max_pool2d(X, case["kernel"], case["stride"], case["padding"])
    np.testing.assert_array_equal(out.data, ref_pool(x, case["kernel"], case["stride"], case["padding"],
                                                      np.max, -np.inf))
    out.sum().backward()
    # each window sends its gradient 1 to its max only: grad[i] counts the windows that i won
    flat_x = x.reshape(x.shape[0] * x.shape[1], -1)                  # one row per (n, c) slice
    expected = np.zeros_like(flat_x)
    for row, winners in enumerate(out.data.reshape(flat_x.shape[0], -1)):
        for value in winners:                                          # values are unique: find the winner
            expected[row, np.nonzero(flat_x[row] == value)[0][0]] += 1
    expected = expected.reshape(x.shape)
    np.testing.assert_array_equal(X.grad.data, expected)
    assert X.grad.data.sum() == out.numel()


def test_max_pool2d_switch_worked_example():
    x = mg.tensor([[[[1., 1., 2., 4.],
                     [5., 6., 7., 8.],
                     [3., 2., 1., 0.],
                     [1., 2., 3., 4.]]]], requires_grad=True)
    out = max_pool2d(x, 2)                       # the notes' 2x2 / stride 2 example
    assert out.tolist() == [[[[6., 8.], [3., 4.]]]]
    out.backward(mg.tensor([[[[10., 20.], [30., 40.]]]]))
    assert x.grad.tolist() == [[[[0., 0., 0., 0.], [0., 10., 0., 20.], [30., 0., 0., 0.], [0., 0., 0., 40.]]]]


def test_max_pool2d_gradcheck_and_double_backward():
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.permutation(30).reshape(1, 2, 3, 5) / 7.0, requires_grad=True)
    assert mg.gradcheck(lambda x: max_pool2d(x, 2, stride=1, padding=1), [x])
    assert mg.gradgradcheck(lambda x: max_pool2d(x, (2, 3), stride=(1, 2)) ** 2, [x])
    assert mg.gradcheck(lambda x: max_pool2d(x, 2), [x])   # tiling fast path (a row/col cropped)


@settings(max_examples=10)
@given(st.sampled_from([(2, 2), (3, 3), (2, 3), (1, 2)]), st.integers(0, 2**16), st.booleans())
def test_max_pool2d_ties_go_to_the_first_element_of_the_window(kernel, seed, tiles):
    # few distinct values (and relu's zeros): most windows tie; the switch is the first maximum in
    # row-major window order, as PyTorch, on the tiling fast path and on the general path alike
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, size=(2, 3, 7, 8)).astype(np.float64)
    stride = kernel if tiles else (1, 1)
    X = mg.tensor(x, requires_grad=True)
    out = max_pool2d(X, kernel, stride)
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    (kh, kw), (sh, sw) = kernel, stride
    expected = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(2, 3, -1)
            first = window.argmax(axis=-1)                     # numpy's argmax: the first maximum
            for n in range(2):
                for c in range(3):
                    di, dj = divmod(first[n, c], kw)
                    expected[n, c, i * sh + di, j * sw + dj] += g[n, c, i, j]
    np.testing.assert_allclose(X.grad.data, expected, rtol=1e-12, atol=1e-12)   # sums in another order


def test_max_pool2d_tiling_nan_and_double_backward():
    # a NaN is the max of its window and takes the window's gradient; of two NaNs the last, as
    # PyTorch's CPU kernel (each NaN replaces the max found so far)
    x = mg.tensor([[[[1., np.nan, 3., 0.], [2., np.nan, 4., 4.]]]], requires_grad=True)
    out = max_pool2d(x, 2)
    assert np.isnan(out.data[0, 0, 0, 0]) and out.data[0, 0, 0, 1] == 4
    out.backward(mg.tensor([[[[10., 20.]]]]))
    assert x.grad.tolist() == [[[[0., 0., 0., 0.], [0., 10., 20., 0.]]]]
    # second order through the tiling fast path, with a cropped row and column (5x7 -> 2x3)
    rng = np.random.default_rng(5)
    y = mg.tensor(rng.permutation(2 * 5 * 7).reshape(1, 2, 5, 7) / 9.0, requires_grad=True)
    assert mg.gradgradcheck(lambda y: max_pool2d(y, 2) ** 2, [y])
    assert mg.gradgradcheck(lambda y: max_pool2d(y, (1, 3)) ** 2, [y])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])      # the bits routed as uint64 and uint32
@pytest.mark.parametrize("kernel,stride", [((2, 2), (2, 2)), ((3, 3), (3, 3)), ((1, 2), (1, 2)), ((2, 2), (1, 1))])
def test_max_pool2d_routes_an_infinite_or_nan_gradient_exactly_as_torch(kernel, stride, dtype):
    """inf and NaN in the incoming gradient reach only each window's switch, the others get 0
    (inf * 0 would be NaN): on the tiling rounds and on the general path."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    out_shape = max_pool2d(mg.tensor(x), kernel, stride).shape
    g = rng.standard_normal(out_shape).astype(dtype)
    g.flat[rng.choice(g.size, 6, replace=False)] = [np.inf, -np.inf, np.nan, np.inf, -np.inf, np.nan]
    X, T = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    max_pool2d(X, kernel, stride).backward(mg.tensor(g))
    torch.nn.functional.max_pool2d(T, kernel, stride).backward(torch.tensor(g))
    # (overlapping windows sum their shares in another order: last-bit differences)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=rtol, atol=0)   # inf and NaN: equal


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([((2, 2), (2, 2), 0), ((3, 3), (1, 1), 1), ((1, 4), (1, 2), 0), ((2, 3), (2, 1), (1, 1))]),
       st.integers(0, 2**16))
def test_max_pool2d_with_nan_windows_picks_the_switch_as_torch(geometry, seed):
    torch = pytest.importorskip("torch")
    kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(2, 2, 6, 8)).astype(np.float64)
    x[rng.random(x.shape) < 0.3] = np.nan                     # windows with one, two or no NaN
    g = rng.standard_normal(max_pool2d(mg.tensor(x), kernel, stride, padding).shape)
    X, T = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, idx = max_pool2d(X, kernel, stride, padding, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(T, kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.int8])
def test_max_pool2d_never_routes_to_padding_when_a_window_max_equals_the_fill(dtype):
    # padding is filled with -inf (the dtype's minimum for integers); a window whose real maximum is
    # that value takes its first element inside the input, as PyTorch's kernel (which starts there)
    torch = pytest.importorskip("torch")
    low = -np.inf if dtype == np.float64 else np.iinfo(dtype).min
    x = np.array([[low, 1, low, low], [2, low, low, 3]], dtype).reshape(1, 1, 2, 4)
    for kernel, stride, padding in (((1, 2), 2, (0, 1)), ((2, 2), 1, 1), ((2, 3), (1, 2), (1, 1))):
        X = mg.tensor(x, requires_grad=dtype == np.float64)
        out, idx = max_pool2d(X, kernel, stride, padding, return_indices=True)
        T = torch.tensor(x, requires_grad=dtype == np.float64)
        tout, tidx = torch.nn.functional.max_pool2d(T, kernel, stride, padding, return_indices=True)
        np.testing.assert_array_equal(idx.data, tidx.numpy())
        if dtype == np.float64:
            out.sum().backward()
            tout.sum().backward()
            np.testing.assert_array_equal(X.grad.data, T.grad.numpy())


def test_max_pool2d_kink_is_reported_not_failed():
    x = mg.tensor([[[[1.0, 1.0], [0.0, 0.0]]]], requires_grad=True)   # a tie at the max
    with pytest.warns(mg.KinkWarning, match="MaxPool2d"):
        assert mg.gradcheck(lambda x: max_pool2d(x, 2), [x])


def test_pool_errors():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*expected input of shape \(N, C, H, W\).*got \(4, 4\)"):
        MaxPool2d(2)(mg.zeros(4, 4))
    with pytest.raises(ValueError, match="at most half the kernel size"):
        MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="bigger than the padded input"):
        avg_pool2d(mg.zeros(1, 1, 2, 2), 3)


# ***** average pooling *****

@given(pool_cases(), st.booleans())
def test_avg_pool2d_matches_reference(case, include_pad):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])
    out = avg_pool2d(mg.tensor(x), case["kernel"], case["stride"], case["padding"], count_include_pad=include_pad)
    total = ref_pool(x, case["kernel"], case["stride"], case["padding"], np.sum, 0.0)
    count = ref_pool(np.ones_like(x), case["kernel"], case["stride"], case["padding"], np.sum, 0.0)
    np.testing.assert_allclose(out.data, total / (np.prod(case["kernel"]) if include_pad else count), atol=1e-12)


def test_avg_pool2d_gradcheck_both_paths():
    x = mg.tensor(np.random.default_rng(5).standard_normal((1, 2, 5, 4)), requires_grad=True)
    assert mg.gradcheck(lambda x: avg_pool2d(x, 2), [x])
    assert mg.gradcheck(lambda x: avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False), [x])
    assert mg.gradgradcheck(lambda x: avg_pool2d(x, (2, 3), stride=1) ** 2, [x])


def test_pool_modules_and_unbatched():
    x = mg.randn(3, 6, 6)
    assert MaxPool2d(2)(x).shape == (3, 3, 3) and AvgPool2d(3, stride=1, padding=1)(x).shape == (3, 6, 6)
    # the notes: 2x2 pooling at stride 2 discards 75% of the activations ([224x224x64] -> [112x112x64])
    assert MaxPool2d(2, 2)(mg.zeros(1, 64, 224, 224)).shape == (1, 64, 112, 112)
    assert repr(MaxPool2d(3, 2)) == "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"


# ***** torch as oracle (optional) *****

def _backward_both_and_compare(torch, out, tout, ours, theirs, rng, atol):
    """Backpropagate one random output gradient through both graphs; values and input gradients must agree."""
    g = rng.standard_normal(tuple(tout.shape))
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=atol)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), atol=atol)


@pytest.mark.parametrize("kernel, padding, dilation", [
    ((3, 3), (1, 1), (1, 1)),        # the benchmark's case: rows and images share one padding
    ((2, 4), "same", (1, 1)),        # uneven padding: (0, 1) rows and (1, 2) columns
    ((3, 2), (3, 4), (1, 1)),        # padding wider than the kernel: the output outgrows H + pad
    ((3, 3), (2, 0), (2, 2)),        # dilated
    ((1, 1), (0, 2), (1, 1)),
])
def test_stride_one_input_gradient_on_the_shared_padding_grid_matches_torch(kernel, padding, dilation):
    # the stride-1 input gradient adds shifted rows on a canvas whose rows and images share their
    # padding; every layout of padding and output size must still add each tap at its own pixel
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 2, 5, 6)), rng.standard_normal((4, 2) + kernel)
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    out = conv2d(*ours, padding=padding, dilation=dilation)
    tout = torch.nn.functional.conv2d(*theirs, padding=padding, dilation=dilation)
    _backward_both_and_compare(torch, out, tout, ours, theirs, rng, atol=1e-10)


@settings(max_examples=15)
@given(conv_cases(), pool_cases())
def test_against_torch(conv_case, pool_case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(conv_case["seed"])
    c = conv_case
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]))
    w, b = rng.standard_normal((c["K"], c["C"]) + c["kernel"]), rng.standard_normal(c["K"])
    kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, tout = conv2d(*ours, **kw), F.conv2d(*theirs, **kw)
    _backward_both_and_compare(torch, out, tout, ours, theirs, rng, atol=1e-10)

    p = pool_case
    x = np.random.default_rng(p["seed"]).standard_normal(p["shape"])
    for ours_f, torch_f in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        X, tX = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = ours_f(X, p["kernel"], p["stride"], p["padding"])
        tout = torch_f(tX, p["kernel"], p["stride"], p["padding"])
        _backward_both_and_compare(torch, out, tout, [X], [tX], np.random.default_rng(0), atol=1e-12)


@settings(max_examples=15)
@given(st.integers(1, 3), st.sampled_from([(3, 3), (2, 2), (3, 2), (1, 3)]), st.integers(1, 2),
       st.sampled_from([(2, 2), (3, 3), (2, 1), (3, 2)]), st.integers(0, 2**16))
def test_channel_major_chain_against_torch(n, kernel, dilation, pool, seed):
    """Conv and pool outputs are channel-major views; a chain conv-relu-pool-conv-relu-pool-linear
    (each gate reading the layout the last one left, 'same' padding uneven for even kernels, both
    the stride-1 row-shift col2im and tiling pools with a cropped edge) matches torch, values and
    gradients of every input."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2, 13, 12))
    w1, b1 = rng.standard_normal((3, 2) + kernel), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((4, 3) + kernel), rng.standard_normal(4)
    kw = dict(padding="same", dilation=dilation)

    def net(lib_conv, lib_pool, x, w1, b1, w2, b2):
        h = lib_pool(lib_conv(x, w1, b1, **kw).relu(), pool)
        h = lib_pool(lib_conv(h, w2, b2, **kw).relu(), pool)
        return h.reshape(n, -1) * 1.5

    ours = [mg.tensor(a, requires_grad=True) for a in (x, w1, b1, w2, b2)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2, b2)]
    first = conv2d(ours[0], ours[1], ours[2], **kw)
    assert first.data.transpose(1, 0, 2, 3).flags.c_contiguous        # channel-major, as designed
    out = net(conv2d, max_pool2d, *ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                # torch: 'same' with an even kernel copies
        tout = net(F.conv2d, F.max_pool2d, *theirs)
    _backward_both_and_compare(torch, out, tout, ours, theirs, rng, atol=1e-10)


def test_conv2d_module_weights_exchange_with_torch():
    torch = pytest.importorskip("torch")
    mg.manual_seed(2)
    ours = Conv2d(3, 5, 3, stride=2, padding=1)
    theirs = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(dict(ours.named_parameters())[name].data))
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 7)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).data, expected, rtol=1e-5, atol=1e-5)


# ***** ceil_mode and return_indices *****

def test_ceil_mode_partial_windows_and_indices_worked_example():
    x = mg.tensor(np.arange(25.0).reshape(1, 1, 5, 5), requires_grad=True)
    out, idx = max_pool2d(x, 2, ceil_mode=True, return_indices=True)    # 5x5 -> 3x3, not 2x2
    assert out.tolist() == [[[[6., 8., 9.], [16., 18., 19.], [21., 23., 24.]]]]
    assert idx.tolist() == [[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]] and idx.dtype == np.int64
    out.sum().backward()
    assert x.grad.data.sum() == 9 and x.grad.data[0, 0, 4, 4] == 1
    # the edge windows divide by the pixels they cover (2, and 1 at the corner)
    avg = avg_pool2d(x, 2, ceil_mode=True)
    assert avg.data[0, 0, 0, 2] == (4 + 9) / 2 and avg.data[0, 0, 2, 2] == 24
    assert max_pool2d(x, 2).shape == (1, 1, 2, 2)                         # floor, the default
    # PyTorch's positional order: AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad)
    assert AvgPool2d(2, 2, 0, True)(x).shape == (1, 1, 3, 3)


@settings(max_examples=15)
@given(pool_cases(), st.booleans(), st.booleans())
def test_ceil_mode_and_indices_match_torch(case, ceil_mode, include_pad):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(case["seed"]).permutation(np.prod(case["shape"])).reshape(case["shape"]) / 3.0
    args = (case["kernel"], case["stride"], case["padding"])
    X, tX = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out, idx), (tout, tidx) = (max_pool2d(X, *args, ceil_mode=ceil_mode, return_indices=True),
                                F.max_pool2d(tX, *args, ceil_mode=ceil_mode, return_indices=True))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    a = avg_pool2d(X, *args, ceil_mode=ceil_mode, count_include_pad=include_pad)
    ta = F.avg_pool2d(tX, *args, ceil_mode=ceil_mode, count_include_pad=include_pad)
    np.testing.assert_allclose(a.data, ta.detach().numpy(), atol=1e-12)
    (out.sum() + (a * a).sum()).backward()
    (tout.sum() + (ta * ta).sum()).backward()
    np.testing.assert_allclose(X.grad.data, tX.grad.numpy(), atol=1e-12)


def test_max_pool2d_output_never_aliases_its_input():
    x = mg.tensor(np.arange(8.0).reshape(1, 1, 2, 4))
    for kernel in (1, (1, 2), (2, 1)):
        out = max_pool2d(x, kernel)
        out.data[...] = -1.0
        assert x.data.min() == 0.0, kernel


# ***** relu then max pooling: ReLU's mask applied at the pooled size *****

def _relu_pool(x, case, observe=None, inplace=False):
    """x -> x*1.5 -> relu -> max_pool2d; ``observe(y)`` may hook the ReLU output."""
    X = mg.tensor(x, requires_grad=True)
    z = X * 1.5
    y = mg.nn.ReLU(inplace=True)(z) if inplace else z.relu()
    if observe is not None:
        observe(y)
    return X, y, max_pool2d(y, case["kernel"], case["stride"], case["padding"])


@settings(max_examples=40, deadline=None)
@given(pool_cases(), st.sampled_from(["plain", "zeros", "nan", "inf_grad"]), st.sampled_from([np.float64, np.float32]))
def test_relu_then_max_pool_gives_the_unfused_gradient(case, kind, dtype):
    """The pool multiplies the pooled gradient by (out != 0), which is ReLU's mask at each switch,
    and ReLU passes that gradient on without its full-size pass. A no-op hook on the ReLU output
    turns this off: both must give the same gradient (NaN where NaN; a zero the routing sent to a
    blocked element may keep its -0 here), with all-zero windows (ties), NaN inputs and inf/NaN
    gradients."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"]).astype(dtype)
    if kind == "zeros":
        x[rng.random(x.shape) < 0.6] = -1.0                       # whole windows of relu zeros
    if kind == "nan":
        x[rng.random(x.shape) < 0.2] = np.nan
    grads = []
    for observe in (None, lambda y: y.register_hook(lambda g: None)):
        X, y, out = _relu_pool(x, case, observe)
        g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        if kind == "inf_grad":
            g.flat[::3] = np.inf
            g.flat[1::5] = np.nan
        with np.errstate(invalid="ignore"):
            out.backward(mg.tensor(g))
        grads.append(X.grad.data)
    np.testing.assert_array_equal(grads[0], grads[1])        # NaN where NaN; +0 and -0 compare equal
    assert grads[0].dtype == dtype


@settings(max_examples=25, deadline=None)
@given(pool_cases(), st.booleans(), st.booleans())
def test_relu_then_max_pool_matches_torch(case, zeros, inplace):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"])
    if zeros:
        x[rng.random(x.shape) < 0.6] = -1.0
    X, y, out = _relu_pool(x, case, inplace=inplace)
    T = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.max_pool2d(torch.relu(T * 1.5), case["kernel"], case["stride"], case["padding"])
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12, atol=0)


def _conv_relu_pool_conv(x, w1, b1, w2, lib):
    """conv -> relu -> max_pool2d(2) -> conv, in minigrad or torch."""
    if lib is mg:
        return conv2d(max_pool2d(conv2d(x, w1, b1, padding=1).relu(), 2), w2, padding=1)
    F = lib.nn.functional
    return F.conv2d(F.max_pool2d(lib.relu(F.conv2d(x, w1, b1, padding=1)), 2), w2, padding=1)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.sampled_from([(4, 4), (6, 8), (5, 7)]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_conv_relu_pool_conv_matches_torch(n, c_in, c_mid, hw, zeros, seed):
    """The notes' conv-relu-pool block between two convs: values and every gradient against torch."""
    torch = pytest.importorskip("torch")
    _check_conv_relu_pool_conv(torch, (n, c_in) + hw, c_mid, zeros, seed)


@pytest.mark.parametrize("zeros", [False, True])
def test_conv_relu_pool_conv_in_the_channel_major_layout_matches_torch(zeros):
    """At a convnet's sizes the conv's output, and so ReLU's and the pool's, is channel-major (work
    arrays), so the pool's switches and ReLU's pooled mask are too, while the gradient arriving at the
    pool is a view of the next conv's padded grid: the fused backward must line the three up."""
    torch = pytest.importorskip("torch")
    _check_conv_relu_pool_conv(torch, (5, 2, 32, 40), 8, zeros, 3, channel_major=True)


def _check_conv_relu_pool_conv(torch, shape, c_mid, zeros, seed, channel_major=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w1, b1 = rng.standard_normal((c_mid, shape[1], 3, 3)), rng.standard_normal(c_mid)
    w2 = rng.standard_normal((2, c_mid, 3, 3))
    if zeros:
        b1 -= 3.0                                                   # many relu zeros: pooled ties
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]
    out = _conv_relu_pool_conv(*ours, mg)
    if channel_major:                                               # the layout this test is about
        pool = out.grad_fn.inputs[0].grad_fn
        assert pool.switches.swapped and pool._passes is not None
    tout = _conv_relu_pool_conv(*theirs, torch)
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_relu_then_max_pool_skips_relu_full_size_pass_unless_its_gradient_is_observed(monkeypatch):
    """The fused backward runs no full-size mask multiply; a hook, retain_grad, mg.grad of the
    ReLU output or a recorded backward (create_graph) see dL/dy unmasked, as torch's, so there the
    pool routes the plain gradient and ReLU applies its mask."""
    torch = pytest.importorskip("torch")
    from minigrad import ops
    calls = []
    real = ops._masked
    monkeypatch.setattr(ops, "_masked", lambda g, mask: calls.append(g.shape) or real(g, mask))
    case = dict(kernel=(2, 2), stride=(2, 2), padding=(0, 0))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 6))
    x[0, 0, :2, :2] = -1.0                                          # a window of relu zeros: a tie
    c = np.random.default_rng(1).standard_normal((2, 3, 2, 3))     # dL/dout is c + 2 out: not 0 at the tie

    def loss(out):
        return (out * (mg.tensor(c) if isinstance(out, mg.Tensor) else torch.tensor(c)) + out * out).sum()

    T = torch.tensor(x, requires_grad=True)
    ty = torch.relu(T * 1.5)
    ty.retain_grad()
    tout = torch.nn.functional.max_pool2d(ty, 2)
    loss(tout).backward()

    X, y, out = _relu_pool(x, case)
    loss(out).backward()
    assert calls == []                                              # fused: no full-size pass
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12)

    seen = []
    X, y, out = _relu_pool(x, case, observe=lambda y: y.register_hook(seen.append))
    loss(out).backward()
    assert calls == [x.shape]
    np.testing.assert_allclose(seen[0].data, ty.grad.numpy(), rtol=1e-12)     # unmasked: the tie's 0s
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12)

    X, y, out = _relu_pool(x, case, observe=lambda y: y.retain_grad())
    loss(out).backward()
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12)

    X, y, out = _relu_pool(x, case)
    gy, gx = mg.grad(loss(out), [y, X])
    np.testing.assert_allclose(gy.data, ty.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.data, T.grad.numpy(), rtol=1e-12)

    X, y, out = _relu_pool(x, case)
    loss(out).backward(create_graph=True)                           # recorded: the plain path
    gx = X.grad
    X.grad = None
    T2 = torch.tensor(x, requires_grad=True)
    (tgx,) = torch.autograd.grad(loss(torch.nn.functional.max_pool2d(torch.relu(T2 * 1.5), 2)), [T2],
                                 create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-12)
    (gx * gx).sum().backward()                                      # second order
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(X.grad.data, T2.grad.numpy(), rtol=1e-12)


def test_relu_output_used_twice_or_backpropagated_twice():
    """A ReLU output that feeds the pool and another gate gets the sum of both gradients, masked
    once, whichever reaches it first; retain_graph runs the fused pass twice."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 2, 4, 4))
    c = np.random.default_rng(3).standard_normal(x.shape)
    for order in range(2):
        X = mg.tensor(x, requires_grad=True)
        T = torch.tensor(x, requires_grad=True)
        y, ty = (X * 1.5).relu(), torch.relu(T * 1.5)
        terms = [max_pool2d(y, 2).sum() * 3.0, (y * mg.tensor(c)).sum()]    # c also where y is 0
        loss = terms[order] + terms[1 - order]
        loss.backward(retain_graph=True)
        loss.backward()
        tloss = torch.nn.functional.max_pool2d(ty, 2).sum() * 3.0 + (ty * torch.tensor(c)).sum()
        tloss.backward(retain_graph=True)
        tloss.backward()
        np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12)


def test_relu_output_changed_in_place_after_pooling_keeps_the_forward_values_gradient():
    """ReLU's mask and the pool's switches are taken in forward: changing y in place afterwards,
    recorded or under no_grad, leaves the gradient of the value that was pooled."""
    x = np.array([[[[1.0, -2.0], [0.5, 3.0]]]])
    for recorded in (True, False):
        X = mg.tensor(x, requires_grad=True)
        y = (X * 1.0).relu()
        out = max_pool2d(y, 2)
        with mg.set_grad_enabled(recorded):
            y.mul_(-1.0)
        out.sum().backward()
        np.testing.assert_array_equal(X.grad.data, [[[[0.0, 0.0], [0.0, 1.0]]]])


def test_relu_then_max_pool_holds_no_buffer_after_a_refused_second_backward():
    # the second backward reaches the pool, then stops at the freed ReLU gate: the pool must not
    # leave the routed gradient on it
    X = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)), requires_grad=True)
    y = (X * 1.0).relu()
    z = max_pool2d(y, 2)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.sum().backward()
    assert y.grad_fn.premasked is None


def test_relu_then_max_pool_with_arrays_that_take_no_weak_reference(monkeypatch):
    # an array type without weak references (the pool cannot hand it to ReLU): ReLU masks the
    # already-masked gradient again, which changes nothing
    torch = pytest.importorskip("torch")
    import weakref

    from minigrad.nn import conv

    def no_weakref(a, *rest):
        if isinstance(a, np.ndarray):
            raise TypeError("cannot create weak reference")
        return weakref.ref(a, *rest)
    monkeypatch.setattr(conv, "weakref", type("NoWeakref", (), {"ref": staticmethod(no_weakref)}))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    x[0, 0, :2, :2] = -1.0
    c = np.random.default_rng(1).standard_normal((2, 3, 2, 2))
    X, T = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (max_pool2d((X * 1.5).relu(), 2) * mg.tensor(c)).sum().backward()
    (torch.nn.functional.max_pool2d(torch.relu(T * 1.5), 2) * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(X.grad.data, T.grad.numpy(), rtol=1e-12)


# ***** the weight gradient's product in pieces of a long inner dimension *****

@pytest.mark.parametrize("R, L, K", [(28, 5280, 16), (4, 300001, 4), (10, 3000, 64), (64, 5000, 8), (28, 2047, 16),
                                     (32, 8192, 8), (1, 8, 1)])
def test_long_sum_product_equals_one_product(R, L, K, monkeypatch):
    from minigrad.nn import conv as C
    rng = np.random.default_rng(R * L + K)
    a, b = rng.standard_normal((R, L)).astype(np.float32), rng.standard_normal((L, K)).astype(np.float32)
    expected = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    calls, matmul = [], np.matmul
    monkeypatch.setattr(np, "matmul", lambda *args, **kw: calls.append(1) or matmul(*args, **kw))
    got = C._long_sum_product(np, a, b)
    piece = 1 << ((C._SMALL_PRODUCT // (R * K)).bit_length() - 1)
    pieces = -(-L // piece) if R <= 32 and piece >= 2048 and L >= 2 * piece else 1
    assert (R, L, K) not in [(28, 5280, 16), (4, 300001, 4), (32, 8192, 8)] or pieces > 2   # in pieces here
    assert len(calls) == pieces
    assert got.shape == (R, K) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3 * math.sqrt(L))


def test_long_sum_product_is_one_product_off_numpy_float32(monkeypatch):
    """float64 and other array modules (CuPy) take the plain product."""
    from minigrad.nn import conv as C
    a, b = np.ones((28, 8192)), np.ones((8192, 16))
    calls, matmul = [], np.matmul
    monkeypatch.setattr(np, "matmul", lambda *args, **kw: calls.append(1) or matmul(*args, **kw))
    assert (C._long_sum_product(np, a, b) == 8192).all() and len(calls) == 1

    plain = matmul

    class OtherModule:                   # an array module that is not numpy, as CuPy
        matmul = staticmethod(plain)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    assert (C._long_sum_product(OtherModule, a32, b32) == 8192).all() and len(calls) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_first_conv_weight_gradient_in_pieces_matches_torch(dtype):
    """3 -> 16 channels over 5 x 32 x 33 pixels: the weight gradient's product (28 x 16 from 5,280
    pixels) runs in pieces of 2,048 and a remainder; weight and bias gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 32, 33)).astype(dtype)
    w = rng.standard_normal((16, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(16).astype(dtype)
    g = rng.standard_normal((5, 16, 32, 33)).astype(dtype)
    W, B = mg.tensor(w, requires_grad=True), mg.tensor(b, requires_grad=True)
    (conv2d(mg.tensor(x), W, B, padding=1) * mg.tensor(g)).sum().backward()
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.nn.functional.conv2d(torch.tensor(x), tw, tb, padding=1) * torch.tensor(g)).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == "float32" else dict(rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), **tol)
    np.testing.assert_allclose(B.grad.numpy(), tb.grad.numpy(), **tol)
