"""Recurrent layers: the vanilla RNN and the LSTM of the notes, as cells and as multi-layer
sequence models, with PyTorch's parameter names, shapes and gate order (i, f, g, o), so weights
can be copied to and from ``torch.nn.LSTM`` / ``torch.nn.RNN``.

Everything is composed from Tensor ops (matmul, sigmoid, tanh, and ``_unbind`` below), so gradients
and second derivatives come from the gates underneath. The work per step is one matrix multiply for
all (four) gates: the input projection of every time step is one multiply done before the time loop.
"""
import math

import numpy as np

from ..autograd import Function, is_grad_enabled, no_grad
from ..ops import ShapeError
from ..tensor import Tensor, cat, empty, rand, stack, zeros
from ..backend import work_arrays as _scratch
from .module import Module, Parameter


# ***** unbind: a tensor's slices along a dim, their gradients stacked once *****

class _Unbind(Function):
    """The hub of an unbind: its output is a 0-d placeholder on which the ``_UnbindPiece`` gates
    hang; each piece leaves its gradient here, and this gate's backward stacks them into x's."""
    # NOTE: a gate for speed: x[t] per piece costs each piece's backward a zero buffer the size of
    # x (getitem's scatter) plus a full-size add at the fork, O(T^2) memory traffic over T pieces;
    # here the T gradients are stacked once. LSTM(64, 128) on batch 32 (CPU, best of 20): backward
    # 78 -> 54 ms at seq 50 on a quiet machine (~460 -> ~120 ms median on a busy one), and
    # 5.6 s -> 0.5 s at seq 200.
    saves_inputs = ()
    label = "Unbind"

    def forward(self, x, dim=0):
        self.dim, self.piece_shape = dim, x.shape[:dim] + x.shape[dim + 1:]
        self.n, self.grads = x.shape[dim], {}
        return self.xp.zeros((), dtype=x.dtype)

    def backward(self, g):
        grads, self.grads = self.grads, {}       # empty for the next pass (retain_graph)
        zero = None
        pieces = []
        for i in range(self.n):                  # a piece that got no gradient contributes zeros
            gi = grads.get(i)
            if gi is None:
                if zero is None:
                    zero = Tensor._wrap(self.xp.zeros(self.piece_shape, dtype=g.dtype))
                gi = zero
            pieces.append(gi)
        return stack(pieces, dim=self.dim)


class _UnbindPiece(Function):
    """Slice ``index`` of the unbound array along ``dim``; its gradient goes to the hub."""
    saves_inputs = ()
    label = "UnbindPiece"

    def forward(self, token, source=None, dim=0, index=0, hub=None):
        self.hub, self.index = hub, index
        return source[(slice(None),) * dim + (index,)]

    def backward(self, g):
        self.hub.grads[self.index] = g           # a gate runs once per pass: no accumulation here
        return Tensor._wrap(self.xp.zeros((), dtype=g.dtype))     # the placeholder's (nil) gradient


def _unbind(x, dim=0):
    """The slices of ``x`` along ``dim`` (as ``torch.unbind``), differentiable: their gradients
    are stacked into x's gradient once, instead of one full-size scatter per slice."""
    if not (x.requires_grad and is_grad_enabled()):      # nothing to record: plain views
        index = (slice(None),) * dim
        return [Tensor._wrap(x.data[index + (i,)]) for i in range(x.shape[dim])]
    token = _Unbind.apply(x, dim=dim)
    hub = token.grad_fn                          # None when nothing is recorded
    return [_UnbindPiece.apply(token, source=x.data, dim=dim, index=i, hub=hub) for i in range(x.shape[dim])]


# ***** functional forms *****

def _linear(x, w_t, b):
    out = x @ w_t
    return out if b is None else out + b


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One vanilla RNN step (the notes' h_t = tanh(W_hh h_{t-1} + W_xh x_t)):
    ``act(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)`` with ``act`` tanh or relu."""
    z = _linear(input, w_ih.T, b_ih) + _linear(hx, w_hh.T, b_hh)
    return _activation(nonlinearity)(z)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``hx = (h, c)``, weights (4H, I) and (4H, H) holding the gates in PyTorch's
    order (input, forget, cell ("g"), output). Returns ``(h', c')``."""
    h, c = hx
    z = _linear(input, w_ih.T, b_ih) + _linear(h, w_hh.T, b_hh)      # (N, 4H): all four gates at once
    return _lstm_update(z, c)


def _lstm_gates(z, H):
    """The four gate activations (i, f, g, o) of the pre-activations ``z`` (N, 4H)."""
    i = z[..., :H].sigmoid()              # input gate: how much to write
    f = z[..., H:2 * H].sigmoid()         # forget gate: how much of the cell to keep
    g = z[..., 2 * H:3 * H].tanh()        # the candidate values to write
    o = z[..., 3 * H:].sigmoid()          # output gate: how much of the cell to show
    return i, f, g, o


def _lstm_update(z, c):
    """The notes' LSTM update from the pre-activations ``z`` (N, 4H) and the cell ``c`` (N, H)."""
    i, f, g, o = _lstm_gates(z, c.shape[-1])
    c = f * c + i * g                     # the cell-state highway: only * and + along it
    return o * c.tanh(), c


def _lstm_local(a, c_prev, tc, cat):
    """The local gradients of one LSTM step from its activations ``a`` = (i, f, g, o), on Tensors
    (``cat`` joins along the last dim): ``local`` turns (dc, dc, dc, dh) into dz for the four
    gates, and ``dc_dh`` turns dh into dc (through h = o tanh(c)). The forward computes the same
    on arrays in place (in ``_LSTMScan.forward``)."""
    H = tc.shape[-1]
    i, g = a[..., :H], a[..., 2 * H:3 * H]
    d = a * (1.0 - a)                     # sigmoid's y (1 - y), used in the i, f and o slots
    local = cat([g * d[..., :H], c_prev * d[..., H:2 * H], i * (1.0 - g * g), tc * d[..., 3 * H:]])
    return local, a[..., 3 * H:] * (1.0 - tc * tc)


def _gate_vectors(xp, H, dtype):
    """Per-column constants over the four gates (i, f, g, o): ``scale`` (-1, -1, -2, -1), which
    turns the pre-activations into the exponents of one sigmoid pass, and ``is_g`` (0, 0, 1, 0)."""
    is_g = xp.zeros(4 * H, dtype=dtype)
    is_g[2 * H:3 * H] = 1
    return -1.0 - is_g, is_g


def _saved_views(saved, N, H):
    """The (T, N, 4H) local gradients, (T, N, H) forget gates and (T, N, H) dc/dh in ``saved``."""
    T = saved.shape[0]
    return (saved[:, :4 * N * H].reshape(T, N, 4 * H), saved[:, 4 * N * H:5 * N * H].reshape(T, N, H),
            saved[:, 5 * N * H:].reshape(T, N, H))


class _LSTMScan(Function):
    """One LSTM layer in one direction over a whole sequence.

    Inputs: ``xw`` (T, N, 4H), the hoisted input projection; ``w_hh`` (4H, H); ``h0``, ``c0``
    (N, H); optionally the bias ``b`` (4H,). Output (T + 1, N, H): rows 0..T-1 are h at each time
    step (in time order, also when ``reverse``), row T is the final cell state.
    """
    # NOTE: a gate for speed. Composed, each step is ~16 gates forward and as many backward (4
    # slices whose backward scatters into (N, 4H) zero buffers, 3 sigmoids, 2 tanhs, ...); here the
    # forward is the hand-written NumPy recurrence (one (N, H) @ (H, 4H) multiply per step) that
    # also fills in each step's local gradients into preallocated buffers, and the backward is 8
    # array ops per step. The four activations take one sigmoid pass, 1 / (1 + e^-z), with the
    # g columns doubled, and then tanh(z) = 2 sigmoid(2z) - 1 on those: the weights and inputs are
    # scaled by (-1, -1, -2, -1) once per pass, so e^-z needs no negation per step (22 array ops
    # per step instead of 31; README, Performance). A float32 np.tanh over all four gates would be
    # one op but slower than exp (45 vs 22 us on (32, 512) here). 2 sigmoid(2z) - 1 is off by about
    # one rounding unit in absolute terms (more than np.tanh in relative terms when g is near 0);
    # the tests hold it to the composed cells at rtol 1e-12 in float64. (numpy 2.4's float32 tanh is
    # faster than its exp, and 0.5 tanh(z / 2) + 0.5 made the step 2% faster, but it loses relative
    # accuracy in nearly closed gates: a float32 gate at z = -10 off by 2e-4 of itself, 0 from
    # z = -17.3; not kept.) Whole-sequence temporaries come
    # from the work-array pool: each fresh multi-MB array costs page faults (5,200 per step once).
    # With a graph being recorded (double backward) the backward is written in Tensor ops on
    # activations rebuilt from the inputs by the composed ops (``_recompute``), so it is differentiable.
    # every input: the array backward reads only w_hh, but with create_graph _recompute rebuilds
    # the activations from xw, h0, c0 and b too
    saves_inputs = None
    label = "LSTMScan"

    def forward(self, xw, w_hh, h0, c0, b=None, reverse=False):
        xp = self.xp
        T, N, G = xw.shape
        H = G // 4
        self.reverse = reverse
        dt = xw.dtype
        keep = is_grad_enabled() and any(x.requires_grad for x in self.inputs)   # backward will run
        scale, is_g = _gate_vectors(xp, H, dt)
        # the bias added and the columns scaled into exponents (see the note above), for all steps at once
        zx = _scratch.empty(xp, (T, N, G), dt)
        if b is not None:
            xp.add(xw, b, out=zx)
            zx *= scale
        else:
            xp.multiply(xw, scale, out=zx)
        w_t = w_hh.T * scale                                  # (H, 4H), scaled like zx
        a = xp.empty((N, G), dtype=dt)                        # this step's i, f, g, o
        # the big arrays come from the pool of work arrays, reused once nothing holds them: fresh
        # multi-MiB arrays cost a page fault per 4 KiB (see backend.WorkArrayPool)
        out = _scratch.empty(xp, (T + 1, N, H), dt)
        if keep:
            # what backward reads, per step: the local gradients (N, 4H), the forget gate (N, H)
            # and dc/dh (N, H), each block contiguous (NumPy's ops on row-strided slices take 2-4x
            # as long at these sizes); and the h each step started from, contiguous over time for dW
            saved = _scratch.empty(xp, (T, 6 * N * H), dt)
            h_prev = _scratch.empty(xp, (T, N, H), dt)
            local_all, f_all, dc_dh_all = _saved_views(saved, N, H)
            d = xp.empty((N, G), dtype=dt)
        h, c = h0, c0
        # e^-z overflows to inf for z << 0, and 1/inf is the exact 0
        with np.errstate(over="ignore"):
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                xp.matmul(h, w_t, out=a)
                a += zx[t]
                xp.exp(a, out=a)
                a += 1.0
                xp.reciprocal(a, out=a)                           # sigmoid(z); sigmoid(2z) in the g columns
                g = a[:, 2 * H:3 * H]
                g *= 2.0
                g -= 1.0                                          # tanh(z) = 2 sigmoid(2z) - 1
                i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                c_prev = c
                c = f * c_prev
                c += i * g
                tc = xp.tanh(c)
                if keep:
                    h_prev[t] = h
                    f_all[t] = f
                    # local = (g, c_prev, i, tc) * (i', f', 1 - g^2, o'), with y' = y (1 - y) for a
                    # sigmoid y and 1 - g^2 = (1 - g)(1 + g): both are (1 - a)(a + is_g)
                    local = local_all[t]
                    xp.concatenate((g, c_prev, i, tc), axis=1, out=local)
                    xp.subtract(1.0, a, out=d)
                    d *= a + is_g
                    local *= d
                    dc_dh = dc_dh_all[t]                          # o (1 - tanh^2 c)
                    xp.multiply(tc, tc, out=dc_dh)
                    xp.subtract(1.0, dc_dh, out=dc_dh)
                    dc_dh *= o
                h = out[t]
                xp.multiply(o, tc, out=h)
        out[T] = c
        if keep:
            self.saved, self.h_prev = saved, h_prev
        return out

    def _recompute(self):
        """(f, h_prev, local, dc_dh) as Tensors that depend on the inputs (for double backward)."""
        xw, w_hh, h, c = self.inputs[:4]
        b = self.inputs[4] if len(self.inputs) == 5 else None
        T, H = xw.shape[0], w_hh.shape[1]
        steps = _unbind(xw)
        seq = [None] * T
        for t in (range(T - 1, -1, -1) if self.reverse else range(T)):
            z = steps[t] + h @ w_hh.T
            i, f, g, o = _lstm_gates(z if b is None else z + b, H)
            h_prev, c_prev = h, c
            c = f * c + i * g
            tc = c.tanh()
            h = o * tc
            local, dc_dh = _lstm_local(cat([i, f, g, o], dim=1), c_prev, tc, lambda xs: cat(xs, dim=1))
            seq[t] = (f, h_prev, local, dc_dh)
        return [stack(list(col)) for col in zip(*seq)]

    def backward(self, grad):
        if is_grad_enabled():
            return self._backward_recorded(grad)
        # nothing recorded: the same recurrence as _backward_recorded, on arrays, each step's da
        # written straight into one pooled (T, N, 4H) array
        xp = self.xp
        xw, w_hh = self.inputs[:2]
        T, N, G = xw.shape
        H = G // 4
        w, g = w_hh.data, grad.data
        local, f, dc_dh = _saved_views(self.saved, N, H)
        das = _scratch.empty(xp, (T, N, G), g.dtype)
        # NOTE: speed. (dc, dc, dc, dh) copied side by side, then one whole-width product: 5 us a
        # step, where a broadcast product over the i, f, g blocks and a row-strided one over the o
        # block took 15 ((32, 4 x 128) float32; the LSTM step took 0.96-0.97 of the time, paired)
        dcat = xp.empty((N, 4, H), dtype=g.dtype)
        dh, dc = None, g[T]
        for t in (range(T) if self.reverse else range(T - 1, -1, -1)):
            dh = g[t] if dh is None else g[t] + dh
            dc = dc + dh * dc_dh[t]
            dcat[:, :3] = dc[:, None]
            dcat[:, 3] = dh
            da = xp.multiply(local[t], dcat.reshape(N, G), out=das[t])   # (N, 4H): i, f, g, o
            dc = dc * f[t]
            dh = da @ w
        need = self.needs_input_grad
        da = das.reshape(T * N, G)
        # da^T (4H, T*N) @ h (T*N, H) lands in w_hh's layout: no transposing copy
        grads = (das if need[0] else None,
                 da.T @ self.h_prev.reshape(T * N, H) if need[1] else None,
                 dh if need[2] else None, dc if need[3] else None)
        if len(need) == 5:
            grads += (da.sum(0) if need[4] else None,)
        return grads

    def _backward_recorded(self, grad):
        xw, w_hh = self.inputs[:2]
        T, N, G = xw.shape
        H = G // 4
        f, hprev, local, dc_dh = self._recompute()
        gh, local, dc_dh, f = _unbind(grad[:T]), _unbind(local), _unbind(dc_dh), _unbind(f)
        dh, dc = None, grad[T]
        das = [None] * T
        for t in (range(T) if self.reverse else range(T - 1, -1, -1)):
            dh = gh[t] if dh is None else gh[t] + dh
            dc = dc + dh * dc_dh[t]
            das[t] = cat([dc, dc, dc, dh], dim=1) * local[t]                  # (N, 4H): i, f, g, o
            dc = dc * f[t]
            dh = das[t] @ w_hh
        da = cat(das)                                                         # (T*N, 4H), time order
        need = self.needs_input_grad
        grads = (da.reshape(T, N, G) if need[0] else None,
                 da.T @ hprev.reshape(T * N, H) if need[1] else None,
                 dh if need[2] else None, dc if need[3] else None)
        if len(need) == 5:
            grads += (da.sum(0) if need[4] else None,)
        return grads


def _activation(nonlinearity):
    if nonlinearity == "tanh":
        return Tensor.tanh
    if nonlinearity == "relu":
        return Tensor.relu
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}: expected 'tanh' or 'relu'")


# ***** cells *****

def _uniform(shape, bound, device=None, dtype=None):
    """A Parameter drawn from U(-bound, bound) (PyTorch's RNN init with bound = 1/sqrt(hidden_size))."""
    p = Parameter(empty(*shape, device=device, dtype=dtype))
    with no_grad():
        p.uniform_(-bound, bound)
    return p


class _CellBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, bias, device, dtype):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be positive, "
                             f"got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        k, G = 1.0 / math.sqrt(hidden_size), self.gates * hidden_size
        self.weight_ih = _uniform((G, input_size), k, device, dtype)
        self.weight_hh = _uniform((G, hidden_size), k, device, dtype)
        if bias:
            self.bias_ih, self.bias_hh = _uniform((G,), k, device, dtype), _uniform((G,), k, device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _check(self, input, states):
        """Accept (N, I) or an unbatched (I,) input; check it and the states; return batched views."""
        name = f"{type(self).__name__}({self.extra_repr()})"
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(input.shape)}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        N, H = x.shape[0], self.hidden_size
        out = []
        for s, what in states:
            if s is None:
                s = zeros(N, H, dtype=x.dtype, device=x.device)
            else:
                want = (H,) if unbatched else (N, H)
                if tuple(s.shape) != want:
                    raise ShapeError(f"{name}: expected {what} of shape {want}, got {tuple(s.shape)}")
                s = s.unsqueeze(0) if unbatched else s
            out.append(s)
        return x, out, unbatched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s


class RNNCell(_CellBase):
    """One step of an Elman RNN (``torch.nn.RNNCell``): h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
    (or relu). Weights (hidden, input) and (hidden, hidden), init U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        _activation(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._check(input, [(hx, "hx")])
        h = rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)
        return h[0] if unbatched else h

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTMCell(_CellBase):
    """One LSTM step (``torch.nn.LSTMCell``): ``forward(x, (h, c)) -> (h', c')``. Weights (4*hidden,
    input) and (4*hidden, hidden) in gate order (i, f, g, o), init U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        h, c = hx if hx is not None else (None, None)
        x, (h, c), unbatched = self._check(input, [(h, "h"), (c, "c")])
        h, c = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h[0], c[0]) if unbatched else (h, c)


# ***** multi-layer sequence models *****

class _RNNBase(Module):
    gates = 1
    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, got "
                             f"{input_size}, {hidden_size} and {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bool(bidirectional)
        D, G, k = 2 if bidirectional else 1, self.gates * hidden_size, 1.0 / math.sqrt(hidden_size)
        # registered in PyTorch's order, so parameters() and state_dict() line up with torch's
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:D]:
                size = input_size if layer == 0 else D * hidden_size
                setattr(self, f"weight_ih_l{layer}{suffix}", _uniform((G, size), k, device, dtype))
                setattr(self, f"weight_hh_l{layer}{suffix}", _uniform((G, hidden_size), k, device, dtype))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", _uniform((G,), k, device, dtype))
                    setattr(self, f"bias_hh_l{layer}{suffix}", _uniform((G,), k, device, dtype))

    def _name(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def _layer_params(self, layer, suffix):
        get = lambda kind: getattr(self, f"{kind}_l{layer}{suffix}", None)     # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_input(self, input):
        """(T, N, I) ((N, T, I) with batch_first) or unbatched (T, I) -> (T, N, I), unbatched."""
        layout = "(N, T, {})" if self.batch_first else "(T, N, {})"
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{self._name()}: expected input of shape {layout.format(self.input_size)} "
                             f"or unbatched (T, {self.input_size}), got {tuple(input.shape)}")
        if input.ndim == 2:
            return input.unsqueeze(1), True
        return (input.transpose(0, 1) if self.batch_first else input), False

    def _check_state(self, s, N, unbatched, what, x):
        LD = self.num_layers * (2 if self.bidirectional else 1)
        if s is None:
            return zeros(LD, N, self.hidden_size, dtype=x.dtype, device=x.device)
        want = (LD, self.hidden_size) if unbatched else (LD, N, self.hidden_size)
        if tuple(s.shape) != want:
            raise ShapeError(f"{self._name()}: expected {what} of shape {want} (num_layers * "
                             f"num_directions, {'' if unbatched else 'N, '}hidden_size), got {tuple(s.shape)}")
        return s.unsqueeze(1) if unbatched else s

    def _run(self, x, states):
        """Run every layer and direction over x (T, N, I); ``states`` is a list of (L*D, N, H)
        initial states (h, or h and c). Returns the last layer's output and the final states."""
        T, N, _ = x.shape
        D = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:D]):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, suffix)
                b = None if b_ih is None else b_ih + b_hh
                init = [s[layer * D + d] for s in states]
                out, last = self._layer(x, w_ih, w_hh, b, init, reverse=d == 1)
                outs.append(out)
                for f, s in zip(finals, last):
                    f.append(s)
            x = outs[0] if D == 1 else cat(outs, dim=2)                    # (T, N, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                # inverted dropout: scale the kept units at train time, so eval is the identity
                keep = (rand(*x.shape, device=x.device).data >= self.dropout).astype(x.dtype)
                scale = 1.0 / (1.0 - self.dropout) if self.dropout < 1.0 else 0.0
                x = x * Tensor._wrap(keep * scale)
        return x, [stack(f) for f in finals]

    def _layer(self, x, w_ih, w_hh, b, init, reverse):
        """One layer in one direction over x (T, N, I): (outputs (T, N, H), final states)."""
        T, N, I = x.shape
        # the input projection of every time step at once: one (T*N, I) @ (I, G*H) multiply
        xw = _linear(x.reshape(T * N, I), w_ih.T, b).reshape(T, N, -1)
        return self._scan(xw, w_hh.T, init, reverse)

    def _scan(self, xw, w_hh_t, init, reverse):
        # NOTE: a Python loop over time only (the recurrence is sequential); each step is one
        # matrix multiply of the hidden state with all gates' weights
        # (slices of xw via _unbind: the backward stacks their gradients once, O(T) not O(T^2))
        steps = _unbind(xw)
        state, outs = init, []
        for x_t in (steps[::-1] if reverse else steps):
            z = x_t + state[0] @ w_hh_t
            state = self._step(z, state)
            outs.append(state[0])
        if reverse:
            outs.reverse()
        return stack(outs), state


class RNN(_RNNBase):
    """A multi-layer Elman RNN (``torch.nn.RNN``) with tanh or relu.

    ``forward(input, h0=None) -> (output, h_n)``: input (T, N, input_size) ((N, T, input_size)
    with ``batch_first``, or unbatched (T, input_size)); output (T, N, D*hidden_size) of the last
    layer at every step; h_n (num_layers*D, N, hidden_size). Parameters ``weight_ih_l{k}``
    (hidden, input), ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (``_reverse`` for the
    backward direction when ``bidirectional``), as PyTorch. ``dropout`` applies between layers.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, device=None, dtype=None):
        self._act = _activation(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def _step(self, z, state):
        return (self._act(z),)

    def forward(self, input, hx=None):
        x, unbatched = self._check_input(input)
        h0 = self._check_state(hx, x.shape[1], unbatched, "h0", x)
        out, (h_n,) = self._run(x, [h0])
        return _unlayout(self, out, unbatched), (h_n[:, 0] if unbatched else h_n)

    def extra_repr(self):
        return _extra_repr(self) + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(_RNNBase):
    """A multi-layer LSTM (``torch.nn.LSTM``), gate order (i, f, g, o).

    ``forward(input, (h0, c0)=None) -> (output, (h_n, c_n))`` with the shapes of ``RNN``.
    Parameters as PyTorch: ``weight_ih_l{k}`` (4*hidden, input), ``weight_hh_l{k}``
    (4*hidden, hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (4*hidden,), so a state dict
    exchanges with ``torch.nn.LSTM``. Init U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """
    gates = 4

    def _step(self, z, state):
        return _lstm_update(z, state[1])

    def _layer(self, x, w_ih, w_hh, b, init, reverse):
        # one gate for the whole recurrence (see _LSTMScan), which adds the bias into its pooled
        # copy of the projection
        T, N, I = x.shape
        xw = (x.reshape(T * N, I) @ w_ih.T).reshape(T, N, -1)
        y = _LSTMScan.apply(xw, w_hh, init[0], init[1], *(() if b is None else (b,)), reverse=reverse)
        return y[:T], (y[0 if reverse else T - 1], y[T])

    def forward(self, input, hx=None):
        x, unbatched = self._check_input(input)
        h0, c0 = hx if hx is not None else (None, None)
        h0 = self._check_state(h0, x.shape[1], unbatched, "h0", x)
        c0 = self._check_state(c0, x.shape[1], unbatched, "c0", x)
        out, (h_n, c_n) = self._run(x, [h0, c0])
        if unbatched:
            h_n, c_n = h_n[:, 0], c_n[:, 0]
        return _unlayout(self, out, unbatched), (h_n, c_n)

    def extra_repr(self):
        return _extra_repr(self)


def _unlayout(m, out, unbatched):
    if unbatched:
        return out[:, 0]
    return out.transpose(0, 1) if m.batch_first else out


def _extra_repr(m):
    s = f"{m.input_size}, {m.hidden_size}"
    if m.num_layers != 1:
        s += f", num_layers={m.num_layers}"
    if not m.bias:
        s += ", bias=False"
    if m.batch_first:
        s += ", batch_first=True"
    if m.dropout:
        s += f", dropout={m.dropout}"
    if m.bidirectional:
        s += ", bidirectional=True"
    return s
