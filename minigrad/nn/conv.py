"""Convolution and pooling on NCHW tensors: the notes' im2col + one matrix multiply, and max
pooling with "switches".

The conv gates lay their outputs out channel-major in memory and hand out NCHW views of them (see
"channel-major layout" below); every op accepts any layout, and the pool gates keep this one.

Each gate's backward is made of gates of this file again (conv <-> its input and weight gradients,
im2col <-> col2im, scatter-to-switches <-> gather-from-switches), so second derivatives through
conv and pooling work.

Output size, as in the notes (and floored, as in PyTorch, when the window does not fit evenly):
    OH = (H + 2P - D*(F - 1) - 1) // S + 1          (D = 1 gives the notes' (W - F + 2P)/S + 1)
"""
import math
import weakref

import numpy as np

from .. import backend
from ..autograd import Function, grad_unobserved, is_grad_enabled, no_grad, record_kink
from ..ops import KINKS, ReLU, ShapeError, _masked
from ..tensor import Tensor, empty
from .module import Module, Parameter

KINKS.setdefault(
    "MaxPool2d", "max pooling routes the whole gradient to the first maximum of each window "
    "(its switch), as in PyTorch; a tie is broken towards the earlier element")


# ***** argument helpers *****

def _pair(v, what):
    """An int or a pair of ints as a pair (PyTorch's ``_pair``)."""
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{what} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _out_size(size, k, s, d, pad):
    return (size + pad - d * (k - 1) - 1) // s + 1


def _geometry(name, shape, kernel, stride, padding, dilation):
    """Check a 2-D window against an (N, C, H, W) input; return the output's (OH, OW).

    ``padding`` is ((top, bottom), (left, right)).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = padding
    if min(kh, kw) < 1 or min(sh, sw) < 1 or min(dh, dw) < 1:
        raise ValueError(f"{name}: kernel_size {kernel}, stride {stride} and dilation {dilation} "
                         "must be positive")
    if min(pt, pb, pl, pr) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    H, W = shape[2] + pt + pb, shape[3] + pl + pr
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1       # the dilated kernel's extent
    if eh > H or ew > W:
        raise ShapeError(f"{name}: the kernel (extent {eh}x{ew}: size {kernel}, dilation {dilation}) "
                         f"is bigger than the padded input ({H}x{W}: input of shape {tuple(shape)}, "
                         f"padding {padding})")
    return _out_size(H, kh, sh, dh, 0), _out_size(W, kw, sw, dw, 0)


def _padded(xp, x, padding, value):
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    return xp.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), mode="constant", constant_values=value)


def _windows(xp, x, kernel, stride, dilation, window_last):
    """A strided view of every window of the (already padded) array ``x`` (N, C, H, W), no copy:
    (N, C, kh, kw, OH, OW), or (N, C, OH, OW, kh, kw) with ``window_last``."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    OH, OW = _out_size(H, kh, sh, dh, 0), _out_size(W, kw, sw, dw, 0)
    sN, sC, sH, sW = x.strides
    if window_last:
        shape, strides = (N, C, OH, OW, kh, kw), (sN, sC, sH * sh, sW * sw, sH * dh, sW * dw)
    else:
        shape, strides = (N, C, kh, kw, OH, OW), (sN, sC, sH * dh, sW * dw, sH * sh, sW * sw)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def _fold(xp, piece, shape, dtype, out_hw, kernel, stride, padding, dilation):
    """col2im: add window pieces back onto an (N, C, H, W) canvas. ``piece(i, j)`` is the
    (N, C, OH, OW) slab of kernel offset (i, j); overlapping windows add up (gradients at forks).

    One strided-slice add per kernel offset: no loop over batch, channels or pixels.
    """
    N, C, H, W = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = padding
    OH, OW = out_hw
    out = xp.zeros((N, C, H + pt + pb, W + pl + pr), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (OH - 1) + 1:sh, j * dw:j * dw + sw * (OW - 1) + 1:sw] += piece(i, j)
    if pt or pb or pl or pr:
        out = out[:, :, pt:pt + H, pl:pl + W]
    return out


def _col2im(xp, cols, shape, geom):
    """(N, C*kh*kw, OH*OW) -> (N, C, H, W): columns added back where their pixels came from."""
    kernel, stride, padding, dilation = geom
    (kh, kw), (pt, pb), (pl, pr) = kernel, *padding
    OH = _out_size(shape[2] + pt + pb, kh, stride[0], dilation[0], 0)
    OW = _out_size(shape[3] + pl + pr, kw, stride[1], dilation[1], 0)
    cols = cols.reshape(shape[0], shape[1], kh, kw, OH, OW)
    return _fold(xp, lambda i, j: cols[:, :, i, j], shape, cols.dtype, (OH, OW), *geom)


# ***** im2col / col2im gates *****

def _im2col(xp, x, geom):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW): every receptive field stretched into a column."""
    kernel, stride, padding, dilation = geom
    win = _windows(xp, _padded(xp, x, padding, 0), kernel, stride, dilation, window_last=False)
    N, C, kh, kw, OH, OW = win.shape
    return win.reshape(N, C * kh * kw, OH * OW)   # the one copy: overlapping fields duplicate pixels


class Im2Col(Function):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW): every receptive field stretched into a column."""
    saves_inputs = ()

    def forward(self, x, geom=None):
        self.geom, self.shape = geom, x.shape
        return _im2col(self.xp, x, geom)

    def backward(self, g):
        return Col2Im.apply(g, shape=self.shape, geom=self.geom)


class Col2Im(Function):
    """(N, C*kh*kw, OH*OW) -> (N, C, H, W): columns added back where their pixels came from."""
    saves_inputs = ()

    def forward(self, cols, shape=None, geom=None):
        self.geom = geom
        return _col2im(self.xp, cols, shape, geom)

    def backward(self, g):
        return Im2Col.apply(g, geom=self.geom)


# NOTE: the conv, pool and LSTM gates take their large arrays from backend.work_arrays (speed: no page
# faults on fresh memory every step).
_scratch = backend.work_arrays


# ***** channel-major layout *****
#
# NOTE: speed. The conv gates compute in a channel-major layout, (C, N, H, W) in memory, and hand out
# (N, C, H, W) views of it. Then a convolution is ONE large matrix multiply, W_row (K, C*kh*kw) @
# X_col (C*kh*kw, N*OH*OW), instead of N small ones (which BLAS runs far slower), and its output
# needs no transpose copy. Elementwise ops keep the layout (numpy allocates like its input), and the
# pool gates pool whole planes in whichever of the two layouts they get; anything else copies.

def _channel_major(xp, a):
    """(N, C, H, W) values as a C-contiguous (C, N, H, W) array: a free transpose when ``a`` is
    laid out channel-major already (conv and pool outputs are), else a copy into a work array."""
    t = a.transpose(1, 0, 2, 3)
    if t.flags.c_contiguous:
        return t
    out = _scratch.empty(xp, t.shape, t.dtype)
    backend.copy_into(out, t)
    return out


def _contiguous(xp, a):
    """``a`` itself when C-contiguous, else a C-contiguous copy in a work array."""
    if a.flags.c_contiguous:
        return a
    out = _scratch.empty(xp, a.shape, a.dtype)
    backend.copy_into(out, a)
    return out


def _planes(xp, a):
    """(N, C, H, W) values as a C-contiguous array of (H, W) planes and whether its first two axes
    are swapped (channel-major); no copy when ``a`` is laid out either way."""
    if a.flags.c_contiguous:
        return a, False
    t = a.transpose(1, 0, 2, 3)
    if t.flags.c_contiguous:
        return t, True
    out = _scratch.empty(xp, a.shape, a.dtype)
    backend.copy_into(out, a)
    return out, False


def _columns(xp, x, geom, ones_row=False):
    """im2col in the conv gates' layout: (C*kh*kw, N*OH*OW), rows (channel, kernel offset) and
    columns (image, output pixel), written into a work array; with ``ones_row``, one more row of
    ones below them (the notes' bias trick)."""
    kernel, stride, padding, dilation = geom
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = padding
    xc = x.transpose(1, 0, 2, 3)                                  # (C, N, H, W), a view
    C, N, H, W = xc.shape
    if pt or pb or pl or pr:
        padded = _scratch.empty(xp, (C, N, H + pt + pb, W + pl + pr), x.dtype)
        padded[:, :, :pt] = 0                                     # zero the border only
        padded[:, :, pt + H:] = 0
        padded[:, :, pt:pt + H, :pl] = 0
        padded[:, :, pt:pt + H, pl + W:] = 0
        backend.copy_into(padded[:, :, pt:pt + H, pl:pl + W], xc)
        xc, H, W = padded, H + pt + pb, W + pl + pr
    OH, OW = _out_size(H, kh, sh, dh, 0), _out_size(W, kw, sw, dw, 0)
    sC, sN, sH, sW = xc.strides
    win = xp.lib.stride_tricks.as_strided(xc, shape=(C, kh, kw, N, OH, OW),
                                          strides=(sC, sH * dh, sW * dw, sN, sH * sh, sW * sw))
    rows = C * kh * kw
    cols = _scratch.empty(xp, (rows + ones_row, N * OH * OW), x.dtype)
    backend.copy_into(cols[:rows].reshape(win.shape), win)        # the one copy: fields overlap
    if ones_row:
        cols[rows] = 1
    return cols


# ***** the convolution gates: conv, its input gradient and its weight gradient *****
#
# NOTE: one fused gate (speed): im2col, one matrix multiply and the bias added in place. The three
# gates are each other's backward (as conv / conv_transpose / conv_weight in PyTorch), so second
# derivatives work.

class Conv2dGate(Function):
    """conv2d(x, w) + b, an input (N, C, H, W) and a weight (K, C, kh, kw) to (N, K, OH, OW)."""
    saves_inputs = (1,)          # the weight; x's values live on in the saved columns
    label = "Conv2d"

    def forward(self, x, w, b=None, geom=None):
        self.geom, self.in_shape = geom, x.shape
        xp = self.xp
        K, N = w.shape[0], x.shape[0]
        # NOTE: speed. The bias rides in the multiply as the notes' bias trick: W_row gets b as one
        # more column and X_col a row of ones. That saves a pass over the output here, and in
        # backward the same multiply that gives dW gives db (the ones row summing g).
        self.cols = cols = _columns(xp, x, geom, ones_row=b is not None)   # (C*kh*kw [+1], N*OH*OW)
        w_row = w.reshape(K, -1) if b is None else xp.concatenate([w.reshape(K, -1), b[:, None]], axis=1)
        out = xp.matmul(w_row, cols,                              # (K, N*OH*OW): channel-major
                        out=_scratch.empty(xp, (K, cols.shape[1]), xp.result_type(w_row, cols)))
        kernel, stride, padding, dilation = geom
        OH = _out_size(x.shape[2] + sum(padding[0]), kernel[0], stride[0], dilation[0], 0)
        return out.reshape(K, N, OH, -1).transpose(1, 0, 2, 3)

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = _ConvGradInput.apply(g, w, shape=self.in_shape, geom=self.geom) if need[0] else None
        if len(need) == 2:
            return gx, (_ConvGradWeight.apply(x, g, cols=self.cols, geom=self.geom) if need[1] else None)
        (g_raw,) = self.operands(g)
        if need[1] and need[2] and backend.is_array(g_raw):     # first order: one multiply, both grads
            K = w.shape[0]
            grads = _grads_from_columns(self.xp, self.cols, g_raw, K)    # (K, C*kh*kw + 1)
            return gx, grads[:, :-1].reshape(w.shape), grads[:, -1].copy()
        weight_cols = self.cols[:-1]                             # without the ones row
        return (gx, _ConvGradWeight.apply(x, g, cols=weight_cols, geom=self.geom) if need[1] else None,
                g.sum(dim=(0, 2, 3)) if need[2] else None)


def _grads_from_columns(xp, cols, g, K):
    """The weight gradient g @ X_col^T, (K, rows of ``cols``), of a conv's output gradient ``g``
    (N, K, OH, OW); with the ones row in ``cols``, its last column is the bias gradient.

    NOTE: speed. It computes the transpose, X_col @ g^T, which is the same sum: BLAS runs this
    orientation of a long inner dimension about 20% faster here (README, Performance)."""
    return _long_sum_product(xp, cols, _channel_major(xp, g).reshape(K, -1).T).T


# NOTE: speed. A product with a long inner dimension and a tiny output (a first conv's weight
# gradient: 28 x 16 summed over 65,536 pixels) runs 1.3 to 4.5 times faster in pieces of the inner
# dimension small enough that R*K*piece stays under a million multiply-adds (OpenBLAS takes its
# small-matrix kernels below that; 1.36 -> 0.76 ms for 28 x 16 x 65,536 here). Measured over R in
# 8..48 and K in 8..32 (README, Performance): pieces of 2,048 or more took 0.22-0.77 of the time
# for R <= 32; R >= 40, or pieces of 1,024 (0.41-1.20 between runs), were no faster or slower, and
# run as one product. float32 only: float64 gained 0.46-0.99 between runs, and other dtypes do not
# reach BLAS.
_SMALL_PRODUCT = 10 ** 6


def _long_sum_product(xp, a, b):
    """a @ b for a (R, L) and b (L, K), summed over pieces of L when the output is tiny and L long."""
    R, L = a.shape
    K = b.shape[1]
    piece = 1 << max(0, (_SMALL_PRODUCT // max(R * K, 1)).bit_length() - 1)   # a power of two
    if (xp is not np or a.dtype != np.float32 or b.dtype != np.float32 or R > 32 or piece < 2048
            or L < 2 * piece):
        return xp.matmul(a, b)
    out = xp.matmul(a[:, :piece], b[:piece])
    part = xp.empty_like(out)
    for start in range(piece, L, piece):
        out += xp.matmul(a[:, start:start + piece], b[start:start + piece], out=part)
    return out


def _flat_fold(xp, g, w, shape, geom):
    """The input gradient of a stride-1 convolution, col2im by whole-row shifts.

    NOTE: speed (5x faster col2im). With stride 1, kernel offset (i, j) moves every pixel by the
    same i*Ws + j positions of a canvas flattened over (N, Hs, Ws) with rows Ws long. So g is laid
    out on that grid (zeros where no output pixel is), W^T @ g gives each offset's slab on it, and
    col2im is kh*kw contiguous adds of whole shifted rows, where 4-D strided adds (inner loops of one
    image row) cost 5x more. Neighbouring rows and images share their padding (Ws = W + max(pl, pr),
    Hs = H + max(pt, pb)): padding only ever meets padding there, and it is thrown away, while the
    grid, the product and the adds shrink (3x3, padding 1, 16x16: 17*17 positions an image, 18*18
    with padding of its own).
    """
    kernel, stride, padding, dilation = geom
    (kh, kw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, dilation, padding
    N, K, OH, OW = g.shape
    C, H, W = w.shape[1], shape[2], shape[3]
    Hs, Ws = max(H + max(pt, pb), OH), max(W + max(pl, pr), OW)
    L = N * Hs * Ws
    dtype = xp.result_type(g, w)
    grid = _scratch.empty(xp, (K, N, Hs, Ws), g.dtype)            # g on the shared-padding grid
    grid[:, :, OH:] = 0
    grid[:, :, :OH, OW:] = 0
    backend.copy_into(grid[:, :, :OH, :OW], g.transpose(1, 0, 2, 3))
    reach = (kh - 1) * dh * Ws + (kw - 1) * dw                    # the farthest shift
    start = pt * Ws + pl                                          # where pixel (0, 0) of image 0 is
    canvas = _scratch.empty(xp, (C, max(L + reach, start + L)), dtype)
    canvas[:, L:] = 0
    wt, grid = w.reshape(K, C, kh * kw).transpose(1, 2, 0), grid.reshape(K, L)   # (C, kh*kw, K)
    # a few channels at a time: their slabs stay small (memory) and in cache for the adds (speed)
    step = max(1, (1 << 22) // (kh * kw * L * canvas.itemsize))
    slabs = _scratch.empty(xp, (min(step, C) * kh * kw, L), dtype)
    for c in range(0, C, step):
        n = min(step, C - c)
        part = xp.matmul(wt[c:c + n].reshape(n * kh * kw, K), grid,
                         out=slabs[:n * kh * kw]).reshape(n, kh * kw, L)
        rows = canvas[c:c + n]
        rows[:, :L] = part[:, 0]                                  # offset (0, 0): no shift
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    shift = i * dh * Ws + j * dw
                    rows[:, shift:shift + L] += part[:, i * kw + j]
    return canvas[:, start:start + L].reshape(C, N, Hs, Ws)[:, :, :H, :W].transpose(1, 0, 2, 3)


class _ConvGradInput(Function):
    """The input gradient of a convolution (a transposed convolution): col2im(W^T @ g)."""
    label = "Conv2dGradInput"

    def forward(self, g, w, shape=None, geom=None):
        self.shape, self.geom = shape, geom
        xp = self.xp
        kernel, stride, padding, dilation = geom
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        (pt, pb), (pl, pr) = padding
        N, K, OH, OW = g.shape
        C, H, W = w.shape[1], shape[2], shape[3]
        if stride == (1, 1):
            return _flat_fold(xp, g, w, shape, geom)
        cols = xp.matmul(w.reshape(K, -1).T, _channel_major(xp, g).reshape(K, -1),   # (C*kh*kw, N*OH*OW)
                         out=_scratch.empty(xp, (C * kh * kw, N * OH * OW), xp.result_type(g, w)))
        cols = cols.reshape(C, kh, kw, N, OH, OW)
        # col2im: each kernel offset's slab added back onto a (C, N, H, W) canvas (one strided add
        # per offset: no loop over images, channels or pixels)
        canvas = _scratch.empty(xp, (C, N, H + pt + pb, W + pl + pr), cols.dtype)
        canvas[...] = 0
        for i in range(kh):
            for j in range(kw):
                canvas[:, :, i * dh:i * dh + sh * (OH - 1) + 1:sh,
                       j * dw:j * dw + sw * (OW - 1) + 1:sw] += cols[:, i, j]
        return canvas[:, :, pt:pt + H, pl:pl + W].transpose(1, 0, 2, 3)

    def backward(self, gg):
        g, w = self.inputs
        need = self.needs_input_grad
        return (Conv2dGate.apply(gg, w, geom=self.geom) if need[0] else None,
                _ConvGradWeight.apply(gg, g, geom=self.geom) if need[1] else None)


class _ConvGradWeight(Function):
    """The weight gradient of a convolution: g @ X_col^T over all images at once, (K, C, kh, kw).

    ``cols`` is the forward pass's im2col(x), when it made one."""
    label = "Conv2dGradWeight"

    def forward(self, x, g, cols=None, geom=None):
        self.geom = geom
        xp = self.xp
        if cols is None:
            cols = _columns(xp, x, geom)
        K = g.shape[1]
        return _grads_from_columns(xp, cols, g, K).reshape((K, x.shape[1]) + tuple(geom[0]))

    def backward(self, gg):
        x, g = self.inputs
        need = self.needs_input_grad
        return (_ConvGradInput.apply(g, gg, shape=x.shape, geom=self.geom) if need[0] else None,
                Conv2dGate.apply(x, gg, geom=self.geom) if need[1] else None)


# ***** max pooling gates: the notes' "switches" *****

def _tiles(geom):
    """Whether the pooling windows tile the input (kernel == stride, no padding or dilation)."""
    kernel, stride, padding, dilation = geom
    return kernel == stride and dilation == (1, 1) and padding == ((0, 0), (0, 0))


# NOTE: speed. Windows that tile the input are pooled in two rounds of whole-array comparisons:
# first among the kw columns of every window row, then among the kh rows of every window. Each
# round works on a "stack" (k, n), the k candidates of every group as k arrays with one long loop
# each: numpy's elementwise loops cost about 11 ns per inner loop whatever its length. The columns
# are a strided view of the planes (every kw-th element). The rows of a (windows, kh, OW) view of
# the column winners have inner loops OW long, and comparisons there took 7x as long as on
# contiguous arrays; so they are copied apart first, by one copy that moves each OW-wide run as one
# item (backend.copy_into). Layer 1's forward: 1.1 -> 0.6 ms. (Copying the columns apart too was
# as fast in a quiet spell and 1-5% slower in a busy one: it moves 8 MB more.) The switch of a
# window is the winning column of its winning row: the first maximum in row-major order, as
# PyTorch, since a round keeps the first of equal values.

class _TileSwitches:
    """The switches of tiling windows: which column won in each window row (``cols``) and which
    row won in each window (``rows``); bool when there are two to choose from, else the index.
    Kept in the layout of the planes they were taken from (``swapped``: channel-major)."""

    def __init__(self, cols, rows, out_hw, swapped):
        self.cols, self.rows, self.out_hw, self.swapped = cols, rows, out_hw, swapped


def _first_max(xp, stack):
    """The elementwise max of the k arrays of ``stack`` (k, n) and the index of the first of them
    that holds it (bool for 2 choices)."""
    k = stack.shape[0]
    if k == 1:                                       # a copy: the output must not alias x
        return stack[0].copy(), xp.zeros(stack.shape[1:], bool)
    if k == 2:
        a, b = stack[0], stack[1]
        return xp.maximum(a, b, out=_scratch.empty(xp, a.shape, a.dtype)), xp.greater(b, a)
    best, idx = stack[0].copy(), xp.zeros(stack.shape[1:], xp.uint8 if k <= 256 else xp.intp)
    for j in range(1, k):
        won = xp.greater(stack[j], best)            # strictly: an equal later value does not win
        idx[won] = j
        xp.maximum(best, stack[j], out=best)
    return best, idx


def _route(xp, g, idx, out, finite=True):
    """The adjoint of one round: ``g`` (n,) sent to the chosen array of ``out`` (k, n), which is
    written whole, 0 where not chosen (as PyTorch's scatter). ``finite``: g holds no inf or NaN.

    NOTE: g*1 and g*0 route a finite g. With an inf or NaN, inf*0 would be NaN, so g's bits are
    routed as unsigned integers instead: g*1, g*0 and g - g*idx are then exact for every value.
    (The integer products are about 45% slower, so finite gradients keep the float ones.)
    """
    k = out.shape[0]
    if k == 1:
        out[0] = g
        return
    if not finite:
        bits = np.dtype(f"u{g.dtype.itemsize}")
        g, out = g.view(bits), out.view(bits)
    if idx.dtype == bool:
        won = xp.multiply(g, idx, out=out[1])
        xp.subtract(g, won, out=out[0])                # g - g*idx: no cast of a mask (speed)
    else:
        for j in range(k):
            xp.multiply(g, idx == j, out=out[j])


def _pick(xp, stack, idx):
    """Read the chosen array of ``stack`` (k, n) at each position: (n,)."""
    if stack.shape[0] == 1:
        return stack[0].copy()                       # never an alias of the input
    if idx.dtype == bool:
        return xp.where(idx, stack[1], stack[0])
    return xp.take_along_axis(stack, idx[None].astype(xp.intp), axis=0)[0]


def _row_stack(xp, a, kh, OW):
    """``a`` (windows * kh * OW,), a value for every window row, as a (kh, windows * OW) stack."""
    if kh == 1:
        return a.reshape(1, -1)
    windows = a.size // (kh * OW)
    stack = _scratch.empty(xp, (kh, windows, OW), a.dtype)
    backend.copy_into(stack, a.reshape(windows, kh, OW).transpose(1, 0, 2))
    return stack.reshape(kh, -1)


def _row_unstack(xp, stack, OW):
    """The inverse of ``_row_stack``: a (kh, windows * OW) stack back in window-row order,
    (windows * kh * OW,)."""
    kh = stack.shape[0]
    if kh == 1:
        return stack.reshape(-1)
    windows = stack.shape[1] // OW
    rows = _scratch.empty(xp, (windows, kh, OW), stack.dtype)
    backend.copy_into(rows, stack.reshape(kh, windows, OW).transpose(1, 0, 2))
    return rows.reshape(-1)


def _tile_planes(xp, x, kernel):
    """``x``'s planes for tiled pooling, cropped to whole windows: (array, swapped, (OH, OW))."""
    (kh, kw), (H, W) = kernel, x.shape[2:]
    OH, OW = H // kh, W // kw
    if (OH * kh, OW * kw) != (H, W):
        x = x[:, :, :OH * kh, :OW * kw]          # floor mode: the rest is in no window
    planes, swapped = _planes(xp, x)
    return planes, swapped, (OH, OW)


def _tiled_max(xp, x, kernel):
    """Max pooling over tiling windows: (out (N, C, OH, OW), _TileSwitches)."""
    kh, kw = kernel
    planes, swapped, (OH, OW) = _tile_planes(xp, x, kernel)
    col_best, cols = _first_max(xp, planes.reshape(-1, kw).T)         # per window row
    out, rows = _first_max(xp, _row_stack(xp, col_best, kh, OW))      # per window
    out = out.reshape(planes.shape[:2] + (OH, OW))
    if swapped:
        out = out.transpose(1, 0, 2, 3)
    return out, _TileSwitches(cols, rows, (OH, OW), swapped)


def _window_argmax(xp, win, shape, geom, fill):
    """The switch of each window of ``win`` (N, C, OH, OW, kh*kw), cut from an input of ``shape``
    padded with ``fill``, as PyTorch's CPU kernel picks it: the first maximum; the last NaN of a
    window that holds NaN (a NaN replaces the max found so far); and the window's first element
    inside the input when its max is ``fill`` itself (the kernel starts from that element, so
    padding never wins)."""
    switches = win.argmax(axis=-1)                                   # numpy: the first max, or first NaN
    picked = xp.take_along_axis(win, switches[..., None], axis=-1)[..., 0]
    if win.dtype.kind == "f":
        nan = xp.isnan(picked)
        if nan.any():
            last = win.shape[-1] - 1 - xp.isnan(win[..., ::-1]).argmax(axis=-1)
            switches = xp.where(nan, last, switches)
    (pt, pb), (pl, pr) = geom[2]
    if pt or pb or pl or pr:
        at_fill = picked == fill
        if at_fill.any():
            switches = xp.where(at_fill, _first_inside(xp, shape, geom), switches)
    return switches


def _first_inside(xp, shape, geom):
    """For each window (OH, OW), the index in it of its first element inside the (unpadded) input."""
    kernel, stride, padding, dilation = geom
    firsts = []
    for axis in (0, 1):
        size = shape[2 + axis]
        out = _out_size(size + sum(padding[axis]), kernel[axis], stride[axis], dilation[axis], 0)
        at = xp.arange(out)[:, None] * stride[axis] - padding[axis][0] + xp.arange(kernel[axis]) * dilation[axis]
        firsts.append(((at >= 0) & (at < size)).argmax(axis=1))     # the first True (0 when none)
    return firsts[0][:, None] * kernel[1] + firsts[1][None, :]


class MaxPool2dGate(Function):
    """Max over each window; remembers the argmax (the switch) of every window for backward."""
    saves_inputs = ()
    label = "MaxPool2d"
    _passes = None              # out != 0, when a ReLU gate made the input (its mask, pooled)

    def forward(self, x, geom=None):
        out = self._pool(x, geom)
        # NOTE: speed. relu then max pooling (the notes' conv-relu-pool) sends each window's gradient
        # to its switch, and ReLU's backward then multiplies the whole input-sized gradient by its
        # mask. At the switch that mask is (y != 0) for the window's max y, which is (out != 0): so
        # the mask can be applied to the pooled gradient, a quarter of the size, before routing, and
        # ReLU's pass skipped (ReLU.backward sees the array it is handed back). The values are the
        # same, inf and NaN included; only a zero that the routing sent to a blocked element may be
        # -0 instead of +0 (README, Performance, eleventh round).
        if type(self.inputs[0].grad_fn) is ReLU and is_grad_enabled():
            self._passes = self.xp.not_equal(out, 0)
        return out

    def _pool(self, x, geom):
        kernel, stride, padding, dilation = self.geom = geom
        self.shape = x.shape
        xp = self.xp
        if _tiles(geom) and x.dtype.kind == "f":
            out, sw = _tiled_max(xp, x, kernel)
            # a NaN max: the rounds' comparisons do not see it; the general path below does
            if not xp.isnan(out).any():
                self.switches = sw
                record_kink("MaxPool2d", sw.cols)
                record_kink("MaxPool2d", sw.rows)
                return out
        fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        win = _windows(xp, _padded(xp, x, padding, fill), kernel, stride, dilation, window_last=True)
        win = win.reshape(win.shape[:4] + (-1,))                      # (N, C, OH, OW, kh*kw), a copy
        self.switches = _window_argmax(xp, win, x.shape, geom, fill)
        record_kink("MaxPool2d", self.switches)
        return xp.take_along_axis(win, self.switches[..., None], axis=-1)[..., 0]

    def _premask(self, g):
        """``g`` masked by ReLU's pooled mask, in the layout the scatter reads.

        NOTE: speed. The mask has the pooled output's layout (channel-major after a channel-major
        conv), and g may be a view of a padded grid (the next conv's input gradient); a multiply
        over both runs one short row at a time (0.5-0.6 ms on layer 1's 1 MB in a train step). Copied
        first into the switches' layout, the multiply is one flat pass and the scatter copies nothing:
        the pool's backward took 0.90-0.94 of the time, the convnet step 0.98-0.99 (paired).
        """
        passes, sw = self._passes, self.switches
        if isinstance(sw, _TileSwitches) and sw.swapped:
            return _masked(_contiguous(self.xp, g.transpose(1, 0, 2, 3)),
                           passes.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
        return _masked(_contiguous(self.xp, g), passes)

    def backward(self, g):
        relu, y = self.parents[0], self.inputs[0]          # (the gate y had when this one was made)
        if self._passes is not None and not relu._freed and y.grad_fn is relu and grad_unobserved(y):
            gx = _SwitchScatter.apply(Tensor._wrap(self._premask(g.data)), switches=self.switches,
                                      shape=self.shape, geom=self.geom)
            # (weakly: if the engine adds another gradient to it, the array goes with the sum)
            try:
                relu.premasked = weakref.ref(gx.data)    # ReLU's backward passes this array on untouched
            except TypeError:       # an array type without weak references: ReLU masks it again,
                pass                # which changes nothing
            return gx
        return _SwitchScatter.apply(g, switches=self.switches, shape=self.shape, geom=self.geom)


class _SwitchScatter(Function):
    """Route each window's gradient to its switch: (N, C, OH, OW) -> (N, C, H, W).

    ``switches`` is the argmax of each window (N, C, OH, OW), or for tiling windows a
    ``_TileSwitches``.
    """
    saves_inputs = ()

    def forward(self, g, switches=None, shape=None, geom=None):
        self.switches, self.geom = switches, geom
        xp = self.xp
        kernel, stride, padding, dilation = geom
        kh, kw = kernel
        N, C, OH, OW = g.shape
        if isinstance(switches, _TileSwitches):
            sw = switches
            g = _contiguous(xp, g.transpose(1, 0, 2, 3) if sw.swapped else g)   # the switches' layout
            finite = bool(xp.isfinite(g).all())        # one check; the rounds then route by products
            stack = _scratch.empty(xp, (kh, g.size), g.dtype)      # each window row's gradient
            _route(xp, g.reshape(-1), sw.rows, stack, finite)
            planes = _scratch.empty(xp, g.shape[:2] + (OH * kh, OW * kw), g.dtype)
            _route(xp, _row_unstack(xp, stack, OW), sw.cols, planes.reshape(-1, kw).T, finite)
            if (OH * kh, OW * kw) != tuple(shape[2:]):
                full = xp.zeros(g.shape[:2] + tuple(shape[2:]), dtype=g.dtype)   # rows/cols in no window
                full[:, :, :OH * kh, :OW * kw] = planes
                planes = full
            return planes.transpose(1, 0, 2, 3) if sw.swapped else planes
        if xp.isfinite(g).all():
            return _fold(xp, lambda i, j: g * (switches == i * kw + j), shape, g.dtype, (OH, OW), *geom)
        zero = xp.zeros((), g.dtype)                     # inf * 0 is NaN: select instead
        return _fold(xp, lambda i, j: xp.where(switches == i * kw + j, g, zero), shape, g.dtype, (OH, OW), *geom)

    def backward(self, gg):
        return _SwitchGather.apply(gg, switches=self.switches, geom=self.geom)


class _SwitchGather(Function):
    """Read each window's switch: (N, C, H, W) -> (N, C, OH, OW); linear, the scatter's adjoint."""
    saves_inputs = ()

    def forward(self, x, switches=None, geom=None):
        self.switches, self.geom, self.shape = switches, geom, x.shape
        xp = self.xp
        kernel, stride, padding, dilation = geom
        if isinstance(switches, _TileSwitches):
            sw, (kh, kw) = switches, kernel
            OH, OW = sw.out_hw
            x = x[:, :, :OH * kh, :OW * kw]
            x = _contiguous(xp, x.transpose(1, 0, 2, 3) if sw.swapped else x)
            col_pick = _pick(xp, x.reshape(-1, kw).T, sw.cols)
            out = _pick(xp, _row_stack(xp, col_pick, kh, OW), sw.rows).reshape(x.shape[:2] + (OH, OW))
            return out.transpose(1, 0, 2, 3) if sw.swapped else out
        win = _windows(xp, _padded(xp, x, padding, 0), kernel, stride, dilation, window_last=True)
        win = win.reshape(win.shape[:4] + (-1,))
        return xp.take_along_axis(win, switches[..., None], axis=-1)[..., 0]

    def backward(self, g):
        return _SwitchScatter.apply(g, switches=self.switches, shape=self.shape, geom=self.geom)


# ***** functional forms *****

def _padding(name, padding, kernel, stride, dilation):
    """PyTorch's ``padding`` (int, pair, 'valid' or 'same') as ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride}")
            # NOTE: an even kernel cannot be centred; the extra row/column goes bottom/right, as PyTorch
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(padding, f"{name}: padding")
    return (ph, ph), (pw, pw)


def _batched(name, input, expected):
    """Accept (N, C, H, W) or an unbatched (C, H, W) input (as PyTorch); return the 4-D view and
    whether to drop the batch dimension again."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
    if input.ndim == 4:
        return input, False
    if input.ndim == 3:
        return input.unsqueeze(0), True
    raise ShapeError(f"{name}: expected input of shape {expected} (or unbatched without N), "
                     f"got {tuple(input.shape)}")


def _conv2d(name, input, weight, bias, stride, padding, dilation, groups):
    if groups != 1:
        raise ValueError(f"{name}: only groups=1 is supported, got groups={groups}")
    if weight.ndim != 4:
        raise ShapeError(f"{name}: weight must have shape (out_channels, in_channels, kH, kW), "
                         f"got {tuple(weight.shape)}")
    K, C, kh, kw = weight.shape
    x, unbatched = _batched(name, input, f"(N, {C}, H, W)")
    if x.shape[1] != C:
        shown = tuple(input.shape)
        raise ShapeError(f"{name}: expected input of shape ({'' if unbatched else 'N, '}{C}, H, W), "
                         f"got {shown}: {x.shape[1]} channels where the weight "
                         f"{tuple(weight.shape)} expects {C}")
    if bias is not None and tuple(bias.shape) != (K,):
        raise ShapeError(f"{name}: bias must have shape ({K},), got {tuple(bias.shape)}")
    kernel, stride, dilation = (kh, kw), _pair(stride, "stride"), _pair(dilation, "dilation")
    padding = _padding(name, padding, kernel, stride, dilation)
    _geometry(name, x.shape, kernel, stride, padding, dilation)          # the kernel fits: checked here
    geom = (kernel, stride, padding, dilation)
    # the notes' W_row @ X_col, for all images in one multiply and one gate (see Conv2dGate)
    out = (Conv2dGate.apply(x, weight, geom=geom) if bias is None else
           Conv2dGate.apply(x, weight, bias, geom=geom))                # (N, K, OH, OW)
    return out[0] if unbatched else out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of an (N, C, H, W) input with a
    (K, C, kH, kW) weight: im2col and one matrix multiply, as the notes describe.

    ``stride``, ``padding`` (an int, a pair, ``'valid'`` or ``'same'``) and ``dilation`` take an int
    or a pair. Only ``groups=1`` is supported. Returns (N, K, OH, OW) with
    OH = (H + 2P - D(kH - 1) - 1) // S + 1. Differentiable twice (the backward is col2im and
    matrix multiplies, all gates).
    """
    return _conv2d(f"conv2d (weight of shape {tuple(weight.shape)})", input, weight, bias,
                   stride, padding, dilation, groups)


def _pool_args(name, kernel_size, stride, padding, dilation):
    kernel = _pair(kernel_size, f"{name}: kernel_size")
    stride = kernel if stride is None or stride == () else _pair(stride, f"{name}: stride")
    ph, pw = _pair(padding, f"{name}: padding")
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{name}: padding {(ph, pw)} must be at most half the kernel size {kernel}")
    return kernel, stride, ((ph, ph), (pw, pw)), _pair(dilation, f"{name}: dilation")


def _ceil_padding(shape, geom):
    """``ceil_mode``: PyTorch's rounded-up output size, as extra bottom/right padding.

    The output grows by one where a partial window is left over, unless that window would start
    in the right/bottom padding (PyTorch's rule); the extra rows/columns count as padding.
    """
    kernel, stride, padding, dilation = geom
    extra = []
    for size, k, s, (p, _), d in zip(shape[2:], kernel, stride, padding, dilation):
        out = (size + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
        if (out - 1) * s >= size + p:
            out -= 1
        extra.append(max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p)))
    (pt, pb), (pl, pr) = padding
    return kernel, stride, ((pt, pb + extra[0]), (pl, pr + extra[1])), dilation


def _max_pool2d(name, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    geom = _pool_args(name, kernel_size, stride, padding, dilation)
    x, unbatched = _batched(name, input, "(N, C, H, W)")
    if ceil_mode:
        geom = _ceil_padding(x.shape, geom)
    _geometry(name, x.shape, *geom)
    out = MaxPool2dGate.apply(x, geom=geom)
    if not return_indices:
        return out[0] if unbatched else out
    indices = Tensor._wrap(_flat_indices(x.xp, x.data, geom))
    return (out[0], indices[0]) if unbatched else (out, indices)


def _flat_indices(xp, x, geom):
    """PyTorch's ``return_indices``: where each window's max is, as an index into its (H, W) plane
    flattened, computed from the switches with broadcasting (no loop over windows)."""
    kernel, stride, padding, dilation = geom
    fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    win = _windows(xp, _padded(xp, x, padding, fill), kernel, stride, dilation, window_last=True)
    switches = _window_argmax(xp, win.reshape(win.shape[:4] + (-1,)), x.shape, geom, fill)  # (N, C, OH, OW)
    di, dj = switches // kernel[1], switches % kernel[1]                     # offset inside the window
    OH, OW = switches.shape[2:]
    rows = xp.arange(OH)[:, None] * stride[0] - padding[0][0] + di * dilation[0]
    cols = xp.arange(OW)[None, :] * stride[1] - padding[1][0] + dj * dilation[1]
    return (rows * x.shape[3] + cols).astype(np.int64)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kH x kW window of an (N, C, H, W) input; ``stride`` defaults to the kernel
    size and padding counts as -inf. The backward routes each window's gradient to the element
    that won (the notes' "switches"; the first one on a tie, as PyTorch).

    ``ceil_mode`` rounds the output size up (a partial window at the bottom/right edge), and
    ``return_indices`` also returns each max's position in its flattened (H, W) plane, as PyTorch.
    """
    return _max_pool2d("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool2d(name, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    kernel, stride, padding, dilation = geom = _pool_args(name, kernel_size, stride, padding, 1)
    x, unbatched = _batched(name, input, "(N, C, H, W)")
    N, C, H, W = x.shape
    (ph, _), (pw, _) = padding
    if ceil_mode:
        kernel, stride, padding, dilation = geom = _ceil_padding(x.shape, geom)
    OH, OW = _geometry(name, x.shape, *geom)
    (kh, kw), ((_, pb), (_, pr)) = kernel, padding
    extra_h, extra_w = pb - ph, pr - pw                  # ceil_mode's rows/columns past the padding
    if kernel == stride and not (ph or pw or extra_h or extra_w):
        # NOTE: fast path: the windows tile the input, so a reshape makes them axes (no copy)
        if (OH * kh, OW * kw) != (H, W):
            x = x[:, :, :OH * kh, :OW * kw]
        total = x.reshape(N, C, OH, kh, OW, kw).sum(dim=(3, 5))
    else:
        cols = Im2Col.apply(x.reshape(N * C, 1, H, W), geom=geom)      # (N*C, kh*kw, OH*OW)
        total = cols.sum(dim=1).reshape(N, C, OH, OW)
    if divisor_override:
        out = total / float(divisor_override)
    elif not (ph or pw or extra_h or extra_w) or (count_include_pad and not (extra_h or extra_w)):
        out = total / float(kh * kw)
    else:
        # the divisor per window: its pixels inside the input, plus its padding with
        # count_include_pad; never ceil_mode's extra rows/columns (PyTorch's rule)
        xp = x.xp
        if count_include_pad:
            inside = ((0, extra_h), (0, extra_w))
            ones = _padded(xp, xp.ones((1, 1, H + 2 * ph, W + 2 * pw), dtype=x.dtype), inside, 0)
        else:
            ones = _padded(xp, xp.ones((1, 1, H, W), dtype=x.dtype), padding, 0)
        counts = _windows(xp, ones, kernel, stride, dilation, window_last=True).sum(axis=(4, 5))
        out = total / Tensor._wrap(counts[0, 0])
    return out[0] if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each kH x kW window of an (N, C, H, W) input (``stride`` defaults to the kernel
    size). With ``count_include_pad`` (the default, as PyTorch) zero padding counts in the mean;
    ``ceil_mode`` rounds the output size up, and a partial edge window divides by what it covers."""
    return _avg_pool2d("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# ***** modules *****

class Conv2d(Module):
    """2-D convolution layer over (N, C, H, W) inputs (``torch.nn.Conv2d``), via im2col and one
    matrix multiply.

    ``weight`` is (out_channels, in_channels, kH, kW) and ``bias`` (out_channels,), both drawn
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * kH * kW: PyTorch's default
    (kaiming_uniform_ with a = sqrt(5)). Only ``groups=1`` and ``padding_mode='zeros'`` are supported.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups != 1:
            raise ValueError(f"Conv2d: only groups=1 is supported, got groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"Conv2d: in_channels and out_channels must be positive, got "
                             f"{in_channels} and {out_channels}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "Conv2d: kernel_size")
        self.stride, self.dilation = _pair(stride, "Conv2d: stride"), _pair(dilation, "Conv2d: dilation")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "Conv2d: padding")
        self.padding_mode = padding_mode
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_parameter((out_channels, in_channels) + self.kernel_size, bound, device, dtype)
        if bias:
            self.bias = _uniform_parameter((out_channels,), bound, device, dtype)
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        return _conv2d(f"{type(self).__name__}({self.extra_repr()})", input, self.weight, self.bias,
                       self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s


def _uniform_parameter(shape, bound, device, dtype):
    """A Parameter of ``shape`` drawn from U(-bound, bound) with minigrad's generator."""
    p = Parameter(empty(*shape, dtype=dtype, device=device))
    with no_grad():
        p.uniform_(-bound, bound)
    return p


class MaxPool2d(Module):
    """Max pooling over (N, C, H, W) inputs (``torch.nn.MaxPool2d``); ``stride`` defaults to
    ``kernel_size``. The backward uses the notes' switches (see ``max_pool2d``); ``ceil_mode`` and
    ``return_indices`` as in PyTorch."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        _pool_args(type(self).__name__, kernel_size, stride, padding, dilation)   # fail early

    def forward(self, input):
        return _max_pool2d(f"{type(self).__name__}({self.extra_repr()})", input, self.kernel_size,
                           self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling over (N, C, H, W) inputs (``torch.nn.AvgPool2d``); ``stride`` defaults to
    ``kernel_size``, and zero padding counts in the mean unless ``count_include_pad=False``;
    ``ceil_mode`` rounds the output size up, as in PyTorch."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override
        _pool_args(type(self).__name__, kernel_size, stride, padding, 1)

    def forward(self, input):
        return _avg_pool2d(f"{type(self).__name__}({self.extra_repr()})", input, self.kernel_size,
                           self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                           self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
