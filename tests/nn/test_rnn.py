"""RNNCell, LSTMCell, RNN, LSTM: the notes' formulas in plain numpy as reference, gradcheck,
PyTorch's parameter names/shapes/gate order, one matmul per step, and torch as oracle."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.rnn import LSTM, RNN, LSTMCell, RNNCell, lstm_cell, rnn_cell


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def ref_lstm_step(x, h, c, w_ih, w_hh, b):
    """The notes' LSTM, gate order (i, f, g, o) as PyTorch."""
    i, f, g, o = np.split(x @ w_ih.T + h @ w_hh.T + b, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def ref_sequence(m, x, h0, c0=None):
    """Numpy reference of a (uni-directional) RNN/LSTM module over x (T, N, I)."""
    hs, cs = [], []
    for layer in range(m.num_layers):
        p = {k: getattr(m, f"{k}_l{layer}", None) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        w_ih, w_hh = p["weight_ih"].data, p["weight_hh"].data
        b = 0 if p["bias_ih"] is None else p["bias_ih"].data + p["bias_hh"].data
        h, c, out = h0[layer], None if c0 is None else c0[layer], []
        for t in range(x.shape[0]):
            if c0 is None:
                z = x[t] @ w_ih.T + h @ w_hh.T + b
                h = np.tanh(z) if m.nonlinearity == "tanh" else np.maximum(z, 0)
            else:
                h, c = ref_lstm_step(x[t], h, c, w_ih, w_hh, b)
            out.append(h)
        x = np.stack(out)
        hs.append(h)
        cs.append(c)
    return x, np.stack(hs), (None if c0 is None else np.stack(cs))


def graph_gates(out):
    seen, stack, gates = set(), [out.grad_fn], []
    while stack:
        fn = stack.pop()
        if fn is None or isinstance(fn, mg.Tensor) or id(fn) in seen:
            continue
        seen.add(id(fn))
        gates.append(fn)
        stack.extend(fn.parents)
    return gates


def graph_labels(out):
    return [fn.label for fn in graph_gates(out)]


# ***** cells *****

def test_lstm_cell_gradcheck_and_double_backward():
    rng = np.random.default_rng(0)
    x, h, c = (mg.tensor(rng.standard_normal((2, s)), requires_grad=True) for s in (3, 2, 2))
    w_ih, w_hh, b_ih, b_hh = (mg.tensor(rng.standard_normal(s), requires_grad=True)
                              for s in ((8, 3), (8, 2), (8,), (8,)))
    assert mg.gradcheck(lambda *a: lstm_cell(a[0], (a[1], a[2]), *a[3:]), [x, h, c, w_ih, w_hh, b_ih, b_hh])
    assert mg.gradgradcheck(lambda x, h, c, w: lstm_cell(x, (h, c), w, w_hh)[1], [x, h, c, w_ih])


def test_rnn_cell_gradcheck_tanh_and_relu():
    rng = np.random.default_rng(1)
    x, h = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True), mg.tensor(rng.standard_normal((2, 4)))
    w_ih, w_hh, b = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((4, 3), (4, 4), (4,)))
    for act in ("tanh", "relu"):
        assert mg.gradcheck(lambda x, h, w1, w2, b: rnn_cell(x, h, w1, w2, b, None, act), [x, h, w_ih, w_hh, b])


def test_lstm_cell_module_matches_the_notes_formulas():
    mg.manual_seed(0)
    cell = LSTMCell(3, 5).double()
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    h1, c1 = cell(mg.tensor(x), (mg.tensor(h), mg.tensor(c)))
    rh, rc = ref_lstm_step(x, h, c, cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data + cell.bias_hh.data)
    np.testing.assert_allclose(h1.data, rh, atol=1e-12)
    np.testing.assert_allclose(c1.data, rc, atol=1e-12)
    # states default to zeros; an unbatched input gives unbatched states
    h0, c0 = cell(mg.tensor(x[0]))
    rh, rc = ref_lstm_step(x[:1], 0 * h[:1], 0 * c[:1], cell.weight_ih.data, cell.weight_hh.data,
                           cell.bias_ih.data + cell.bias_hh.data)
    assert h0.shape == (5,)
    np.testing.assert_allclose(h0.data, rh[0], atol=1e-12)


def test_cell_parameters_shapes_init_and_errors():
    mg.manual_seed(1)
    cell = LSTMCell(10, 20)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (80, 10)), ("weight_hh", (80, 20)), ("bias_ih", (80,)), ("bias_hh", (80,))]
    rnn = RNNCell(10, 20, bias=False, nonlinearity="relu")
    assert [(n, p.shape) for n, p in rnn.named_parameters()] == [("weight_ih", (20, 10)), ("weight_hh", (20, 20))]
    assert repr(rnn) == "RNNCell(10, 20, bias=False, nonlinearity='relu')"
    bound = 1 / math.sqrt(20)
    for p in cell.parameters():
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound
    with pytest.raises(ValueError, match=r"LSTMCell\(10, 20\): expected input of shape \(N, 10\).*got \(3, 7\)"):
        cell(mg.zeros(3, 7))
    with pytest.raises(ValueError, match=r"LSTMCell\(10, 20\): expected c of shape \(3, 20\), got \(3, 5\)"):
        cell(mg.zeros(3, 10), (mg.zeros(3, 20), mg.zeros(3, 5)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCell(2, 2, nonlinearity="sigmoid")


# ***** sequence models *****

@st.composite
def seq_cases(draw):
    return dict(T=draw(st.integers(1, 4)), N=draw(st.integers(1, 3)), I=draw(st.integers(1, 3)),
                H=draw(st.integers(1, 3)), layers=draw(st.integers(1, 3)), bias=draw(st.booleans()),
                lstm=draw(st.booleans()), relu=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@given(seq_cases())
def test_rnn_and_lstm_match_the_numpy_reference(case):
    mg.manual_seed(case["seed"])
    if case["lstm"]:
        m = LSTM(case["I"], case["H"], num_layers=case["layers"], bias=case["bias"]).double()
    else:
        m = RNN(case["I"], case["H"], case["layers"], "relu" if case["relu"] else "tanh", bias=case["bias"]).double()
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["T"], case["N"], case["I"]))
    h0 = rng.standard_normal((case["layers"], case["N"], case["H"]))
    c0 = rng.standard_normal(h0.shape) if case["lstm"] else None
    out, state = m(mg.tensor(x), (mg.tensor(h0), mg.tensor(c0)) if case["lstm"] else mg.tensor(h0))
    r_out, r_h, r_c = ref_sequence(m, x, h0, c0)
    assert out.shape == (case["T"], case["N"], case["H"])
    np.testing.assert_allclose(out.data, r_out, atol=1e-12)
    np.testing.assert_allclose((state[0] if case["lstm"] else state).data, r_h, atol=1e-12)
    if case["lstm"]:
        np.testing.assert_allclose(state[1].data, r_c, atol=1e-12)


def test_lstm_gradcheck_inputs_states_and_weights():
    mg.manual_seed(3)
    m = LSTM(2, 2, num_layers=2).double()
    rng = np.random.default_rng(3)
    x, h0, c0 = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 2), (2, 2, 2), (2, 2, 2)))

    def f(x, h0, c0):
        out, (h, c) = m(x, (h0, c0))
        return out, h, c
    assert mg.gradcheck(f, [x, h0, c0])

    names = ["weight_ih_l0", "weight_hh_l1", "bias_hh_l0"]
    weights = [mg.tensor(getattr(m, n).data.copy(), requires_grad=True) for n in names]

    def g(*ws):                       # run the module with the (perturbed) weights put in place
        for n, w in zip(names, ws):
            m._parameters[n] = w
        return m(x.detach())[0]
    assert mg.gradcheck(g, weights)


def test_rnn_gradcheck_bidirectional_batch_first():
    mg.manual_seed(4)
    m = RNN(2, 3, num_layers=2, batch_first=True, bidirectional=True).double()
    x = mg.tensor(np.random.default_rng(4).standard_normal((2, 3, 2)), requires_grad=True)
    assert mg.gradcheck(lambda x: m(x), [x])


def test_lstm_step_is_one_matmul_and_the_input_projection_is_hoisted():
    """Per layer: one (T*N, I) @ (I, 4H) multiply for every time step's input, then one
    LSTMScan gate whose forward does one (N, H) @ (H, 4H) multiply per step for all four gates."""
    T, layers = 5, 2
    for N in (2, 7):
        labels = graph_labels(LSTM(3, 4, num_layers=layers)(mg.zeros(T, N, 3))[0])
        assert labels.count("MatMul") == layers
        assert labels.count("LSTMScan") == layers
    from minigrad.nn.rnn import _LSTMScan
    calls = []
    real = np.matmul

    class Spy(_LSTMScan):             # count the multiplies the scan's forward does
        def forward(self, *a, **k):
            np.matmul = lambda *x, **kw: calls.append(x[0].shape) or real(*x, **kw)
            try:
                return super().forward(*a, **k)
            finally:
                np.matmul = real
    h = np.zeros((2, 4))
    Spy.apply(np.zeros((T, 2, 16)), np.zeros((16, 4)), h, h)
    assert calls == [(2, 4)] * T


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_scan_matches_the_composed_cells_and_has_exact_second_derivatives(reverse):
    """The fused LSTMScan gate against the composed LSTM step (lstm_cell's ops) step by step:
    same output, same gradients, and its Tensor-op backward is itself differentiable."""
    from minigrad.nn.rnn import _LSTMScan, _lstm_update
    rng = np.random.default_rng(11)
    T, N, H = 3, 2, 2
    xw, w, h0, c0, b = (mg.tensor(rng.standard_normal(s) * 1.5, requires_grad=True)
                        for s in ((T, N, 4 * H), (4 * H, H), (N, H), (N, H), (4 * H,)))

    def fused(xw, w, h0, c0, b):
        return _LSTMScan.apply(xw, w, h0, c0, b, reverse=reverse)

    def composed(xw, w, h0, c0, b):
        h, c, hs = h0, c0, [None] * T
        for t in (reversed(range(T)) if reverse else range(T)):
            h, c = _lstm_update(xw[t] + h @ w.T + b, c)
            hs[t] = h
        return mg.stack(hs + [c])
    args = [xw, w, h0, c0, b]
    y, ref = fused(*args), composed(*args)
    np.testing.assert_allclose(y.data, ref.data, rtol=1e-12, atol=1e-14)
    weight = mg.tensor(rng.standard_normal(y.shape))
    got = mg.grad((fused(*args) * weight).sum(), args)
    want = mg.grad((composed(*args) * weight).sum(), args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(fused, args)
    assert mg.gradgradcheck(fused, args)
    no_bias = mg.grad((_LSTMScan.apply(*args[:4], reverse=reverse) * weight).sum(), args[:4])
    want = mg.grad((composed(*args[:4], b=0.0) * weight).sum(), args[:4])
    for a, b in zip(no_bias, want):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)


def test_lstm_parameter_names_match_pytorch():
    m = LSTM(10, 20, num_layers=2, bidirectional=True)
    got = [(n, p.shape) for n, p in m.named_parameters()]
    expected = []
    for layer, size in ((0, 10), (1, 40)):
        for sfx in ("", "_reverse"):
            expected += [(f"weight_ih_l{layer}{sfx}", (80, size)), (f"weight_hh_l{layer}{sfx}", (80, 20)),
                         (f"bias_ih_l{layer}{sfx}", (80,)), (f"bias_hh_l{layer}{sfx}", (80,))]
    assert got == expected
    assert repr(m) == "LSTM(10, 20, num_layers=2, bidirectional=True)"


def test_batch_first_unbatched_and_default_states():
    mg.manual_seed(5)
    m = LSTM(3, 4, num_layers=2)
    mb = LSTM(3, 4, num_layers=2, batch_first=True)
    mb.load_state_dict(m.state_dict())
    x = mg.randn(5, 2, 3)
    out, (h, c) = m(x)
    outb, (hb, cb) = mb(x.transpose(0, 1))
    np.testing.assert_allclose(outb.data, out.data.transpose(1, 0, 2), rtol=1e-6)
    np.testing.assert_allclose(hb.data, h.data, rtol=1e-6)
    zeros = mg.zeros(2, 2, 4)
    np.testing.assert_allclose(m(x, (zeros, zeros))[0].data, out.data, rtol=1e-6)
    out1, (h1, c1) = m(x[:, 0])                                   # unbatched (T, I)
    assert out1.shape == (5, 4) and h1.shape == (2, 4)
    np.testing.assert_allclose(out1.data, out.data[:, 0], rtol=1e-5, atol=1e-6)


def test_bidirectional_is_a_forward_and_a_time_reversed_pass():
    mg.manual_seed(7)
    bi = LSTM(3, 4, bidirectional=True).double()
    fwd, bwd = LSTM(3, 4).double(), LSTM(3, 4).double()
    sd = bi.state_dict()
    fwd.load_state_dict({k: v for k, v in sd.items() if not k.endswith("_reverse")})
    bwd.load_state_dict({k[:-len("_reverse")]: v for k, v in sd.items() if k.endswith("_reverse")})
    x = np.random.default_rng(7).standard_normal((5, 2, 3))
    out, (h, c) = bi(mg.tensor(x))
    out_f, (h_f, _) = fwd(mg.tensor(x))
    out_b, (h_b, _) = bwd(mg.tensor(x[::-1].copy()))
    np.testing.assert_allclose(out.data, np.concatenate([out_f.data, out_b.data[::-1]], axis=2), atol=1e-12)
    np.testing.assert_allclose(h.data, np.concatenate([h_f.data, h_b.data]), atol=1e-12)


def test_dropout_between_layers_train_vs_eval():
    mg.manual_seed(6)
    m = RNN(3, 8, num_layers=2, dropout=0.5)
    plain = RNN(3, 8, num_layers=2)
    plain.load_state_dict(m.state_dict())
    x = mg.randn(4, 2, 3)
    a, b = m(x)[0].data, m(x)[0].data
    assert not np.allclose(a, b)                                  # training: random masks
    m.eval()
    np.testing.assert_allclose(m(x)[0].data, plain(x)[0].data)    # eval: no dropout
    m.train()
    m.dropout = 1.0                                                # every unit between layers dropped:
    h_first_layer = plain(x)[1].data[0]                            # layer 2 sees zeros; layer 1 is untouched
    np.testing.assert_allclose(m(x)[1].data[0], h_first_layer)


def test_sequence_errors_name_layer_and_shapes():
    m = LSTM(10, 20, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM\(10, 20, num_layers=2\): expected input of shape \(T, N, 10\).*got \(5, 3, 7\)"):
        m(mg.zeros(5, 3, 7))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3, 20\).*got \(1, 3, 20\)"):
        m(mg.zeros(5, 3, 10), (mg.zeros(1, 3, 20), mg.zeros(2, 3, 20)))
    with pytest.raises(ValueError, match=r"RNN\(10, 20, batch_first=True\): expected input of shape \(N, T, 10\)"):
        RNN(10, 20, batch_first=True)(mg.zeros(5, 3, 7))
    with pytest.raises(ValueError, match="dropout"):
        LSTM(2, 2, dropout=1.5)


# ***** torch as oracle (optional) *****

@settings(max_examples=10)
@given(seq_cases(), st.booleans(), st.booleans())
def test_against_torch_with_copied_weights(case, batch_first, bidirectional):
    torch = pytest.importorskip("torch")
    kw = dict(num_layers=case["layers"], bias=case["bias"], batch_first=batch_first, bidirectional=bidirectional)
    if case["lstm"]:
        ours, theirs = LSTM(case["I"], case["H"], **kw).double(), torch.nn.LSTM(case["I"], case["H"], **kw).double()
    else:
        act = "relu" if case["relu"] else "tanh"
        ours = RNN(case["I"], case["H"], nonlinearity=act, **kw).double()
        theirs = torch.nn.RNN(case["I"], case["H"], nonlinearity=act, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})   # same names
    rng = np.random.default_rng(case["seed"])
    D = 2 if bidirectional else 1
    x = rng.standard_normal((case["N"], case["T"], case["I"]) if batch_first else (case["T"], case["N"], case["I"]))
    h0 = rng.standard_normal((case["layers"] * D, case["N"], case["H"]))
    c0 = rng.standard_normal(h0.shape)
    X, H0, C0 = (mg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    tX, tH0, tC0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if case["lstm"]:
        out, (h, c) = ours(X, (H0, C0))
        tout, (th, tc) = theirs(tX, (tH0, tC0))
        loss, tloss = out.sum() + (h * c).sum(), tout.sum() + (th * tc).sum()
    else:
        out, h = ours(X, H0)
        tout, th = theirs(tX, tH0)
        loss, tloss = out.sum() + (h * h).sum(), tout.sum() + (th * th).sum()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h.data, th.detach().numpy(), atol=1e-12)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(X.grad.data, tX.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(H0.grad.data, tH0.grad.numpy(), atol=1e-10)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.data, p.grad.numpy(), atol=1e-10)


# ***** unbind: the slices of the hoisted input projection, with one stacked backward *****

def test_unbind_values_gradients_and_second_derivatives():
    from minigrad.nn.rnn import _unbind
    rng = np.random.default_rng(8)
    for dim, shape in ((0, (3, 2, 2)), (1, (2, 4, 3))):
        x = mg.tensor(rng.standard_normal(shape), requires_grad=True)
        pieces = _unbind(x, dim)
        assert len(pieces) == shape[dim]
        for i, p in enumerate(pieces):
            np.testing.assert_array_equal(p.data, np.take(x.data, i, axis=dim))

        def f(x):                         # pieces used unevenly, one not at all (its gradient is 0)
            p = _unbind(x, dim)
            return (p[0] * p[1]).sin() + p[0].exp() * 2.0
        assert mg.gradcheck(f, [x])
        assert mg.gradgradcheck(f, [x])


def test_unbind_unused_pieces_get_zero_and_a_retained_graph_accumulates():
    from minigrad.nn.rnn import _unbind
    x = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    pieces = _unbind(x)
    y1, y2 = (pieces[0] * 3.0).sum(), (pieces[1] + pieces[2]).sum()
    y1.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [[3, 3], [0, 0], [0, 0]])
    y1.backward(retain_graph=True)        # a retained graph accumulates
    np.testing.assert_array_equal(x.grad.data, [[6, 6], [0, 0], [0, 0]])
    x.grad = None
    y2.backward()                         # the hub starts each pass empty: nothing stale from y1's
    np.testing.assert_array_equal(x.grad.data, [[0, 0], [1, 1], [1, 1]])
    with mg.no_grad():
        assert [p.requires_grad for p in _unbind(x)] == [False] * 3


def test_rnn_graph_takes_no_per_step_getitem_of_the_projection():
    """Slicing the (T, N, H) projection per step with getitem makes every step's backward
    scatter into a full-size zero buffer (O(T^2) memory traffic); the slices come from one unbind."""
    T, layers = 6, 2
    out, _ = RNN(3, 4, num_layers=layers, bidirectional=True)(mg.zeros(T, 2, 3))
    gates = graph_gates(out)
    assert [g.label for g in gates].count("Unbind") == 2 * layers           # one per layer and direction
    assert [g.label for g in gates].count("UnbindPiece") == 2 * layers * T
    assert "Getitem" not in [g.label for g in gates]


@pytest.mark.parametrize("make", [lambda **kw: LSTM(3, 4, num_layers=2, **kw), lambda **kw: RNN(3, 4, **kw),
                                  lambda **kw: LSTMCell(3, 4, **kw), lambda **kw: RNNCell(3, 4, **kw)])
def test_device_and_dtype_arguments(make, device):
    m = make(device=device, dtype="float64")
    assert {(p.device, p.dtype) for p in m.parameters()} == {(device, np.dtype("float64"))}


def test_lstm_pooled_buffers_are_never_shared_by_live_outputs_or_gradients():
    """The scan's output, saved values and stacked gradient come from a pool of work arrays (big
    enough here to be pooled): outputs alive at once, and their gradients, stay independent."""
    mg.manual_seed(6)
    m = LSTM(3, 128)
    rng = np.random.default_rng(6)
    x1, x2 = (mg.tensor(rng.standard_normal((20, 32, 3)).astype(np.float32), requires_grad=True) for _ in range(2))
    y1 = m(x1)[0]
    before = y1.data.copy()
    y2 = m(x2)[0]
    np.testing.assert_array_equal(y1.data, before)
    assert not np.array_equal(y1.data, y2.data)
    y1.sum().backward()
    g1 = x1.grad.data.copy()
    (y2 * 2.0).sum().backward()
    np.testing.assert_array_equal(x1.grad.data, g1)
    x1.grad = None
    m(x1)[0].sum().backward()                       # the same graph again: the same gradient
    np.testing.assert_allclose(x1.grad.data, g1, rtol=1e-6)


def test_lstm_scan_version_checks_every_input_it_may_read_again():
    """With create_graph the scan's backward rebuilds the activations from xw, h0, c0 and b: an
    in-place change to any of them after the forward is an error, not a silently different gradient."""
    from minigrad.nn.rnn import _LSTMScan
    rng = np.random.default_rng(12)
    T, N, H = 2, 2, 3
    for i in range(5):
        args = [mg.tensor(rng.standard_normal(s), requires_grad=True)
                for s in ((T, N, 4 * H), (4 * H, H), (N, H), (N, H), (4 * H,))]
        y = _LSTMScan.apply(*args)
        with mg.no_grad():
            args[i].mul_(3.0)
        with pytest.raises(RuntimeError, match=f"input {i} of gate LSTMScan"):
            mg.grad(y.sum(), args, create_graph=True)
