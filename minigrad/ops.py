"""The primitive gates: each one's forward (on xp arrays) beside its local gradient (on Tensors).

Every other operation is composed from these in tensor.py. Gates never broadcast their gradients
back: the engine sums each input's gradient to the input's shape in one place (autograd._unbroadcast).
"""
import numpy as np

from . import backend
from .backend import work_arrays as _work
from .autograd import Function, _as_tensors, record_kink


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit an operation (catchable as ValueError or, as in PyTorch, RuntimeError)."""


# The gradient each gate with a kink uses exactly at its kink. gradcheck reports crossed kinks with
# these words, and the docs print this table: one source for both.
KINKS = {
    "ReLU": "relu'(0) = 0 (the gradient is routed only where x > 0), as in PyTorch",
    "Abs": "abs'(0) = 0 (sign(0) = 0), as in PyTorch",
    "Maximum": "max(a, b) with a == b sends half the gradient to each input, as in PyTorch",
    "Max": "a reduction max (or min) with ties splits the gradient evenly among the tied winners",
    "Softplus": "softplus switches to the identity where beta * x > threshold (a small jump, as in "
                "PyTorch); at the switch the gradient is sigmoid(beta * x)",
    "Clip": "clip(x, lo, hi) passes the gradient at x == lo and x == hi (gradient 1 on the bounds)",
    "Where": "where(cond, a, b) routes the gradient by cond; conditions built from comparisons "
             "(leaky_relu, elu, hardtanh, ...) switch branch where the comparison flips",
    "Getitem": "indexing with a mask computed from the data selects different elements across the kink",
}


# ***** unary ops *****

class Neg(Function):
    """-x; local gradient -1."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs = ()
    def forward(self, x): return -x
    def backward(self, g): return -self.operands(g)[0]


class Exp(Function):
    """e^x; local gradient e^x, read from the saved output."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs, saves_output = (), True
    def forward(self, x): return self.xp.exp(x)
    def backward(self, g):
        g, y = self.operands(g, self.output)
        return g * y                                                    # d/dx e^x = e^x


class Log(Function):
    """ln x; local gradient 1/x."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    def forward(self, x): return self.xp.log(x)
    def backward(self, g):
        g, x = self.operands(g, self.inputs[0])
        return g / x                                                    # 1/x


class Sqrt(Function):
    """sqrt(x); local gradient 1 / (2 sqrt(x)), read from the saved output."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs, saves_output = (), True
    def forward(self, x): return self.xp.sqrt(x)
    def backward(self, g):
        g, y = self.operands(g, self.output)
        return g / (y * 2.0)                                            # 1 / (2 sqrt(x))


class Sin(Function):
    """sin x; local gradient cos x."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    def forward(self, x): return self.xp.sin(x)
    def backward(self, g): return g * self.inputs[0].cos()


class Cos(Function):
    """cos x; local gradient -sin x."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    def forward(self, x): return self.xp.cos(x)
    def backward(self, g): return -g * self.inputs[0].sin()


def _tanh_grad(g, y):
    """g * (1 - y^2), tanh's local gradient applied to g, on arrays."""
    return g * (1 - y * y)


class Tanh(Function):
    """tanh x; local gradient 1 - tanh^2 x (applied by TanhGrad)."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs, saves_output = (), True
    def forward(self, x): return self.xp.tanh(x)
    def backward(self, g):
        g, y = self.operands(g, self.output)
        return _tanh_grad(g, y) if backend.is_array(g) else TanhGrad.apply(g, y)     # g * (1 - tanh^2)


class TanhGrad(Function):
    """``g * (1 - y^2)``: tanh's local gradient applied to ``g``, given its output ``y``."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    # NOTE: fused for speed: one gate instead of three (y*y, 1 - ., g * .) in every backward through
    # tanh; its own backward keeps second derivatives exact (as Chainer's TanhGrad).
    def forward(self, g, y): return _tanh_grad(g, y)
    def backward(self, gg):
        g, y = self.inputs
        return (gg * (1.0 - y * y) if self.needs_input_grad[0] else None,
                gg * g * y * -2.0 if self.needs_input_grad[1] else None)  # d/dy g(1 - y^2) = -2gy


class Sigmoid(Function):
    """1 / (1 + e^-x), without overflow; local gradient y (1 - y) of its output y."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    # NOTE: a gate of its own, not 1/(1+exp(-x)): exp(-x) overflows for x << 0, and the notes'
    # "grouped gate" has the simple local gradient y(1 - y).
    saves_inputs, saves_output = (), True

    def forward(self, x):
        xp = self.xp
        e = xp.exp(-xp.abs(x))                     # never overflows
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def backward(self, g):
        g, y = self.operands(g, self.output)
        return g * y * (1.0 - y)


class ReLU(Function):
    """max(x, 0); the gate passes the gradient where x > 0 and blocks it elsewhere (relu'(0) = 0)."""
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs = ()
    premasked = None             # a weak reference to an array its consumer masked already

    def forward(self, x):
        xp = self.xp
        # NOTE: large arrays come from backend.work_arrays and keep x's layout (speed: no page faults
        # on fresh memory). The mask stays bool: these passes are bound by memory traffic, and a bool
        # mask is a quarter of a float one (backward's multiply casts it on the fly).
        y = _max_with_zero(xp, x, _work.empty_like(xp, x))              # max keeps a NaN, as torch
        # y != 0 is x > 0, or x NaN: PyTorch passes the gradient there too (it blocks where x <= 0)
        self.mask = passes = xp.not_equal(y, 0, out=_work.empty_like(xp, x, bool))
        record_kink("ReLU", passes)
        return y

    def backward(self, g):                                              # the gate passes or blocks
        (g,) = self.operands(g)
        if self.premasked is not None:
            # NOTE: a max pool after this gate multiplied its pooled gradient by this mask at each
            # switch (MaxPool2dGate.backward): g is that array, unless the engine added another
            # gradient into a new one, which still needs the mask (applying it twice is harmless)
            done, self.premasked = self.premasked() is g, None
            if done:
                return g
        return _masked(g, self.mask) if backend.is_array(g) else _MaskGrad.apply(g, mask=self.mask)


# NOTE: speed. numpy's maximum against a scalar (a stride-0 operand) runs a plain loop, ~2.5x slower
# than its SIMD loop for two contiguous operands, which it also takes when the second operand is
# one contiguous row broadcast down the rows. So big arrays are viewed as rows of _ZERO_ROW elements
# in memory order and compared with a cached row of zeros (64 KiB in float32: it stays in cache).
_ZERO_ROW = 16384
_zero_rows = {}


def _max_with_zero(xp, x, out):
    """``maximum(x, 0)`` written into ``out`` (laid out like ``x``), NaN kept."""
    n = x.size
    if xp is not np or n < _ZERO_ROW or x.strides != out.strides:
        return xp.maximum(x, 0, out=out)
    order = sorted(range(x.ndim), key=lambda i: -x.strides[i])      # the axes as laid out in memory
    flat_x, flat_out = x.transpose(order), out.transpose(order)
    if not flat_x.flags.c_contiguous:
        return xp.maximum(x, 0, out=out)
    flat_x, flat_out = flat_x.reshape(-1), flat_out.reshape(-1)     # views: both C-contiguous
    zeros = _zero_rows.get(x.dtype)
    if zeros is None:
        zeros = _zero_rows[x.dtype] = xp.zeros(_ZERO_ROW, x.dtype)
        zeros.flags.writeable = False
    bulk = n - n % _ZERO_ROW
    xp.maximum(flat_x[:bulk].reshape(-1, _ZERO_ROW), zeros, out=flat_out[:bulk].reshape(-1, _ZERO_ROW))
    if bulk < n:
        xp.maximum(flat_x[bulk:], 0, out=flat_out[bulk:])
    return out


def _masked(g, mask):
    """``g`` where the bool ``mask`` is True and +0 elsewhere, exactly (an inf or NaN in ``g`` is
    blocked too, as PyTorch's select), on arrays, written into a work array when the dtype allows."""
    xp = backend.get_array_module(g)
    if xp.result_type(g, mask) != g.dtype:
        return g * mask
    if g.dtype.kind not in "fc" or mask.dtype != bool:
        return xp.multiply(g, mask, out=_work.empty_like(xp, g))
    if g.dtype.itemsize not in (2, 4, 8):      # complex128, long double: no unsigned type that wide
        return xp.where(mask, g, xp.zeros((), g.dtype))
    # NOTE: g * mask would give NaN for inf * 0, and -0 for a negative g; on the bits read as
    # unsigned integers, * 1 keeps every value and * 0 gives +0, at the speed of the float product
    # (14 us on 64k float32 either way)
    bits = np.dtype(f"u{g.dtype.itemsize}")
    out = _work.empty_like(xp, g)
    xp.multiply(g.view(bits), mask, out=out.view(bits))
    return out


class _MaskGrad(Function):
    """``g * mask`` for a constant 0/1 ``mask`` (relu's backward), written into a work array."""
    saves_inputs = ()

    def forward(self, g, mask=None):
        self.mask = mask
        return _masked(g, mask)

    def backward(self, gg): return _MaskGrad.apply(gg, mask=self.mask)   # linear in g


class Abs(Function):
    """|x|; local gradient sign(x) (abs'(0) = 0)."""
    saves_inputs = ()

    def forward(self, x):
        self.sign = self.xp.sign(x)
        record_kink("Abs", self.sign)
        return self.xp.abs(x)

    def backward(self, g): return g * self.sign


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, the identity above ``threshold``; local gradient sigmoid(beta x)."""
    # NOTE: a gate, not relu(x) + log(1 + exp(-|x|)): that composition's subgradients at 0 give 0
    # where the true derivative is sigmoid(0) = 0.5.
    def forward(self, x, beta=1.0, threshold=20.0):
        self.beta = beta
        xp, bx = self.xp, x * beta
        self.linear = bx > threshold               # the linear branch has gradient 1, as in PyTorch
        record_kink("Softplus", self.linear)
        return xp.where(self.linear, x, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    def backward(self, g):
        from .tensor import where
        return g * where(self.linear, 1.0, (self.inputs[0] * self.beta).sigmoid())


class Clip(Function):
    """x limited to [lo, hi]; the gradient passes inside and on the bounds, and stops outside."""
    saves_inputs = ()

    def forward(self, x, lo=None, hi=None):
        xp = self.xp
        inside = xp.ones(x.shape, dtype=bool)
        side = xp.zeros(x.shape, dtype=np.int8)
        if lo is not None:
            inside &= x >= lo
            side -= x < lo
        if hi is not None:
            inside &= x <= hi
            side += x > hi
        self.inside = inside
        record_kink("Clip", side)
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g): return g * self.inside


class Cast(Function):
    """x in another dtype; the gradient is cast back to the input's dtype."""
    saves_inputs = ()

    def forward(self, x, dtype=None):
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, g): return g.to(dtype=self.src)


class ToDevice(Function):
    """x copied to another device; the gradient is copied back."""
    saves_inputs = ()

    def forward(self, x, device="cpu"):
        self.src = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, g): return g.to(self.src)


class Clone(Function):
    """A copy of x; the gradient passes unchanged."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    saves_inputs = ()
    def forward(self, x): return x.copy()
    def backward(self, g): return g


# ***** binary ops *****

class Add(Function):
    """a + b; the add gate hands the gradient to both inputs unchanged."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs = ()
    def forward(self, a, b): return a + b
    def backward(self, g):
        return (g if self.needs_input_grad[0] else None,
                g if self.needs_input_grad[1] else None)


class Sub(Function):
    """a - b; the gradient goes to a unchanged and to b negated."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs = ()
    def forward(self, a, b): return a - b
    def backward(self, g):
        return (g if self.needs_input_grad[0] else None,
                -self.operands(g)[0] if self.needs_input_grad[1] else None)


class Mul(Function):
    """a * b; the mul gate swaps its inputs: da = g b, db = g a."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    reads_inputs_for = {0: (1,), 1: (0,)}
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    def forward(self, a, b): return a * b
    def backward(self, g):
        g, a, b = self.operands(g, *self.inputs)                       # the mul gate swaps its inputs
        return (g * b if self.needs_input_grad[0] else None,
                g * a if self.needs_input_grad[1] else None)


class Div(Function):
    """a / b; local gradients 1/b and -a/b^2."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    reads_inputs_for = {0: (1,), 1: (0, 1)}
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    def forward(self, a, b): return a / b
    def backward(self, g):
        g, a, b = self.operands(g, *self.inputs)
        ga = g / b if self.needs_input_grad[0] else None
        gb = -(g * a) / (b * b) if self.needs_input_grad[1] else None  # d(a/b)/db = -a/b^2
        return ga, gb


class PowScalar(Function):
    """x ** p for a Python number p; local gradient p x^(p-1)."""
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs = (0,)

    def forward(self, x, p=2.0):
        self.p = p
        return x ** p

    def backward(self, g):
        (g, x), p = self.operands(g, self.inputs[0]), self.p
        if p == 0:
            return g * 0.0                                              # not 0 * x^-1 (NaN at x = 0)
        if p == 2:
            return g * x * 2.0
        return g * (x ** (p - 1)) * p                                   # p x^(p-1)


class Pow(Function):
    """a ** b for tensors; local gradients b a^(b-1) and a^b ln a."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    def forward(self, a, b): return a ** b
    def backward(self, g):
        a, b = self.inputs
        ga = g * b * a ** (b - 1.0) if self.needs_input_grad[0] else None
        gb = g * (a ** b) * a.log() if self.needs_input_grad[1] else None  # d(a^b)/db = a^b ln a
        return ga, gb


class Maximum(Function):
    """The elementwise max gate: the gradient goes to the winner; a tie splits it in half."""
    saves_inputs = ()

    def forward(self, a, b):
        xp = self.xp
        self.share_a = (a > b) + 0.5 * (a == b)   # the max gate routes the gradient to the winner
        record_kink("Maximum", xp.sign(a - b))
        return xp.maximum(a, b)

    def backward(self, g):
        ga = g * self.share_a.astype(g.dtype) if self.needs_input_grad[0] else None
        gb = g * (1.0 - self.share_a).astype(g.dtype) if self.needs_input_grad[1] else None
        return ga, gb


class Where(Function):
    """where(cond, a, b); the gradient is routed to a where cond holds and to b elsewhere."""
    saves_inputs = ()

    def forward(self, a, b, cond=None):
        self.cond = cond
        record_kink("Where", cond)
        return self.xp.where(cond, a, b)

    def backward(self, g):
        from .tensor import where
        zero = 0.0
        return (where(self.cond, g, zero) if self.needs_input_grad[0] else None,
                where(self.cond, zero, g) if self.needs_input_grad[1] else None)


# ***** reduce ops *****

def _norm_dims(dim, ndim):
    """dim (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dimension {d} is out of range for a tensor of {ndim} dimensions")
        if ndim:                     # a 0-d tensor's dim 0 / -1 reduces over nothing, as in PyTorch
            out.append(d % ndim)
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    """The sum over ``dim``; the gradient is copied back to every summed element."""
    saves_inputs = ()

    def forward(self, x, dim=None, keepdim=False):
        self.axes = _norm_dims(dim, x.ndim)
        self.in_shape = x.shape
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, g):
        # a 0-d gradient (a full sum) or a kept-dims one broadcasts as it is: no reshape gate
        kept = _kept_shape(self.in_shape, self.axes)
        return Expand.apply(g if g.ndim == 0 or g.shape == kept else g.reshape(kept), shape=self.in_shape)


class Max(Function):
    """The max over ``dim`` (keeping dims); the gradient goes to the winners, ties share it evenly."""
    saves_inputs = ()

    def forward(self, x, dim=None, keepdim=False):
        if x.size == 0:
            raise ShapeError(f"max of an empty tensor of shape {x.shape}: the result is undefined")
        self.axes = _norm_dims(dim, x.ndim)
        self.in_shape = x.shape
        m = x.max(axis=self.axes, keepdims=True)
        winners = x == m
        record_kink("Max", winners)
        self.share = winners / winners.sum(axis=self.axes, keepdims=True)   # ties split evenly
        self.share = self.share.astype(x.dtype, copy=False)
        return m if keepdim else m.reshape(tuple(s for i, s in enumerate(x.shape) if i not in self.axes))

    def backward(self, g):
        return g.reshape(_kept_shape(self.in_shape, self.axes)) * self.share


# ***** movement ops *****

class Reshape(Function):
    """The same values in a new shape; the gradient is reshaped back."""
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    saves_inputs, makes_view = (), True

    def forward(self, x, shape=None):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                             f"into shape {tuple(shape)}") from None

    def backward(self, g): return self.operands(g)[0].reshape(self.in_shape)


class Permute(Function):
    """The dims reordered; the gradient is permuted back by the inverse permutation."""
    saves_inputs, makes_view = (), True

    def forward(self, x, dims=None):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, g):
        dims = self.dims                                    # the inverse permutation ((1, 0) is its own)
        inverse = dims if dims == (1, 0) else tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return Permute.apply(g, dims=inverse)


class Expand(Function):
    """x broadcast to a larger shape (a view); the gradient is summed back to x's shape."""
    saves_inputs, makes_view = (), True

    def forward(self, x, shape=None):
        self.in_shape = x.shape
        return self.xp.broadcast_to(x, shape)

    def backward(self, g): return g.sum_to(self.in_shape)


_SUM_TO_AXES = {}     # (shape, target) -> axes: the same few pairs come back every step


def sum_to_axes(shape, target):
    """The axes to sum (and whether to drop leading ones) to bring ``shape`` down to ``target``."""
    key = (shape, target)
    axes = _SUM_TO_AXES.get(key)
    if axes is None:
        axes = _sum_to_axes(shape, target)
        if len(_SUM_TO_AXES) > 4096:
            _SUM_TO_AXES.clear()
        _SUM_TO_AXES[key] = axes
    return axes


def _sum_to_axes(shape, target):
    lead = len(shape) - len(target)
    if lead < 0 or any(t != 1 and t != s for s, t in zip(shape[lead:], target)):
        raise ShapeError(f"cannot sum a gradient of shape {tuple(shape)} to shape {tuple(target)}")
    return tuple(range(lead)) + tuple(lead + i for i, t in enumerate(target) if t == 1 and shape[lead + i] != 1)


class SumTo(Function):
    """The sum over broadcast dims down to ``shape`` (expand's inverse); the gradient is expanded back."""
    saves_inputs, makes_view = (), True

    def forward(self, x, shape=None):
        self.in_shape = x.shape
        axes = sum_to_axes(x.shape, shape)
        return x.sum(axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)

    def backward(self, g): return g.expand(self.in_shape)


class Getitem(Function):
    """x[index] (slices, ints, int arrays, masks); the gradient is scatter-added back (IndexAdd)."""
    saves_inputs, makes_view = (), True

    def forward(self, x, index=None):
        self.index, self.in_shape = index, x.shape
        if _has_mask(index):
            record_kink("Getitem", _mask_of(index))
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(f"index {_show_index(index)} is out of range for a tensor of shape "
                             f"{x.shape}: {e}") from None
        if not isinstance(out, self.xp.ndarray):
            # one element: numpy gives a scalar (a copy); with an Ellipsis it gives a 0-d view, so
            # that an in-place op on x[i, j] reaches x, as in PyTorch
            out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    def backward(self, g): return IndexAdd.apply(g, index=self.index, shape=self.in_shape)


class IndexAdd(Function):
    """Scatter-add ``g`` into zeros of ``shape`` at ``index`` (repeated indices accumulate)."""
    saves_inputs = ()

    def forward(self, g, index=None, shape=None):
        self.index = index
        out = self.xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g               # slices and ints never repeat: plain assignment
        else:
            backend.scatter_add(out, index, g)
        return out

    def backward(self, gg): return Getitem.apply(gg, index=self.index)


class SetItem(Function):
    """``x`` with ``x[index] = v`` (out of place); used by ``Tensor.__setitem__`` under grad.

    ``x``'s gradient is 0 where ``v`` went: +0 (PyTorch's ``index_put``), or -0 for a write through a
    view (``blocked=-0.0``), whose view op sends its own gradient to those places as well."""
    saves_inputs = ()

    def forward(self, x, v, index=None, blocked=0.0):
        self.index, self.blocked = index, blocked
        out = x.copy(order="K")         # in x's layout: views of x made again from out stay views
        assign(out, index, v)
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:          # g with 0 where v went: a select (inf and NaN blocked too)
            zero = backend.get_array_module(g.data).asarray(self.blocked, dtype=g.data.dtype)
            gx = SetItem.apply(g, zero, index=self.index, blocked=self.blocked)
        if self.needs_input_grad[1]:
            gv = g[self.index]
            missing = self.inputs[1].ndim - gv.ndim         # a value with leading 1s (assign drops them)
            if missing > 0:
                gv = gv.reshape((1,) * missing + tuple(gv.shape))
        return gx, gv


def assign(array, index, value):
    """``array[index] = value`` on arrays, with PyTorch's broadcasting (the value's leading 1s are
    dropped first: a (1,) value fills one element); a value that does not fit is a ShapeError naming
    the index, both shapes and the array's."""
    try:
        array[index] = value
    except (ValueError, TypeError):
        part = np.shape(array[index])
        stripped = tuple(value.shape)
        while stripped and stripped[0] == 1:                  # PyTorch drops a value's leading 1s
            stripped = stripped[1:]
        try:
            fits = np.broadcast_shapes(stripped, part) == part
        except ValueError:
            fits = False
        if fits and stripped != tuple(value.shape):
            array[index] = value.reshape(stripped)            # (numpy 2 refuses (1,) into one element)
            return
        if fits:
            raise                                             # not a matter of shapes
        raise ShapeError(f"x[{_show_index(index)}] = v: a value of shape {tuple(value.shape)} does not "
                         f"fit the indexed part, of shape {part}, of a tensor of shape "
                         f"{tuple(array.shape)}") from None


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in items)


def _has_mask(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(getattr(i, "dtype", None) == bool for i in items)


def _mask_of(index):
    items = index if isinstance(index, tuple) else (index,)
    return next(i for i in items if getattr(i, "dtype", None) == bool)


def _show_index(index):
    """An index as written in brackets: ``1:, None, ..., array(3,)``."""
    items = index if isinstance(index, tuple) else (index,)
    return ", ".join(_show_item(i) for i in items)


def _show_item(i):
    if backend.is_array(i):
        return f"array{tuple(i.shape)}"
    if isinstance(i, slice):
        parts = ["" if v is None else str(v) for v in (i.start, i.stop)]
        return ":".join(parts + ([str(i.step)] if i.step is not None else []))
    return "..." if i is Ellipsis else repr(i)


class Cat(Function):
    """Tensors joined along ``dim``; each input gets its slice of the gradient."""
    saves_inputs = ()

    def forward(self, *xs, dim=0):
        self.dim = dim
        self.sizes = [x.shape[dim] for x in xs]
        return self.xp.concatenate(xs, axis=dim)

    def backward(self, g):
        grads, start = [], 0
        lead = (slice(None),) * self.dim
        for size, needed in zip(self.sizes, self.needs_input_grad):
            grads.append(g[lead + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)


class Pad(Function):
    """x padded with a constant; the gradient is the unpadded middle."""
    saves_inputs = ()

    def forward(self, x, widths=None, value=0.0):
        self.keep = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return self.xp.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g): return g[self.keep]


# ***** matmul *****

def matmul_laid_out_like(p, q, like):
    """p @ q (Tensors or arrays) in the memory layout of the array ``like``: computed as
    (q^T p^T)^T when ``like`` is column-major, so a weight's gradient needs no transposing copy."""
    flags = like.flags
    return (q.T @ p.T).T if flags.f_contiguous and not flags.c_contiguous else p @ q


class MatMul(Function):
    """a @ b with numpy's rules (batched, 1-D); local gradients g b^T and a^T g."""
    keeps_state = False          # forward keeps nothing on self (see Function.keeps_state)
    reads_inputs_for = {0: (1,), 1: (0,)}     # (b's memory layout is read for gb, not its values)
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    def forward(self, a, b):
        ka = a.shape[-1] if a.ndim else None                            # a 0-d operand has no inner size
        kb = (b.shape[0] if b.ndim == 1 else b.shape[-2]) if b.ndim else None
        if ka is None or kb is None or ka != kb:
            raise ShapeError(f"matmul of shapes {a.shape} and {b.shape}: the inner sizes differ "
                             f"({ka} vs {kb}); for A @ B the last size of A must equal the "
                             "second-to-last size of B (transpose one operand?)")
        return a @ b

    def backward(self, g):
        a, b = self.inputs
        if a.ndim == 2 and b.ndim == 2:                                 # the common case: dW = X^T dY
            b_array = b.data
            g, a, b = self.operands(g, a, b)
            # NOTE: b is usually a transposed weight (x @ W.T, column-major): then its gradient comes
            # out laid out as W itself, so no transposing copy of dW follows
            gb = matmul_laid_out_like(a.T, g, b_array) if self.needs_input_grad[1] else None
            return (g @ b.T if self.needs_input_grad[0] else None, gb)
        # NOTE: 1-D operands are promoted to matrices as numpy does, then the extra axis dropped
        (g,) = _as_tensors((g,))                                       # this path runs Tensor ops
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        g2 = g.unsqueeze(-2) if a.ndim == 1 else g
        g2 = g2.unsqueeze(-1) if b.ndim == 1 else g2
        ga = (g2 @ b2.mT).sum_to(a2.shape).reshape(a.shape) if self.needs_input_grad[0] else None
        gb = (a2.mT @ g2).sum_to(b2.shape).reshape(b.shape) if self.needs_input_grad[1] else None
        return ga, gb
