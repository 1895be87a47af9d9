"""The fused gates of minigrad.nn: linear, softmax cross-entropy, batch norm and binary cross-entropy.

Each is one gate with its own local gradient (the notes' "group gates into one gate"), so it must
earn its place: each says why in a ``# NOTE:``. Their ``backward`` is written once, in Tensor ops.
During first-order backprop (grad mode off) it reads the arrays that forward saved; when the
engine records the backward pass (``create_graph=True``) it rebuilds those intermediate values from
the input Tensors, so that the gradient is itself differentiable and double backward is exact.
"""
import math

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..ops import matmul_laid_out_like
from ..tensor import Tensor


def _const(array):
    return Tensor._wrap(array)


# ***** linear: x @ W^T + b *****

class LinearGate(Function):
    """x @ W^T + b for x (*, in), W (out, in) and an optional b (out,): PyTorch's ``addmm`` as one gate."""
    takes_array_grads = True     # backward reads g through operands (or passes it on)
    # NOTE: fused for speed: one gate instead of three (W.T, @, + b), the bias added in place into
    # the product, and a first-order backward of two products and a sum on arrays. In a train step
    # each GEMM evicts the interpreter's working set from the core's caches, so the Python work of
    # every gate after it costs 3-5x its isolated time (README, Performance).
    saves_inputs = (0, 1)          # x and W; b's value is never read
    reads_inputs_for = {0: (1,), 1: (0,), 2: ()}     # dx reads W, dW reads x (W's layout only)
    label = "Linear"

    def forward(self, x, w, b=None):
        out = x @ w.T
        if b is not None:
            if b.dtype == out.dtype:
                out += b                                      # in place: the product is a fresh array
            else:
                out = out + b
        return out

    def backward(self, g):
        g, x, w = self.operands(g, self.inputs[0], self.inputs[1])   # arrays on a first-order pass
        return _linear_grads(g, x, w, self.inputs[1].data, self.needs_input_grad)


def _linear_grads(g, x, w, w_array, need):
    """dx = g W, dW = g^T x (summed over every leading axis of x) and db = sum of g, on Tensors
    (recorded, so differentiable) or arrays alike."""
    n_out, n_in = w_array.shape
    rows = math.prod(x.shape[:-1])                  # not -1: a reshape of 0 elements needs the sizes
    g2 = g.reshape(rows, n_out)
    gx = (g2 @ w).reshape(x.shape) if need[0] else None
    gw = None
    if need[1]:
        # dW laid out as W (C- or column-major): no transposing copy in the optimizer
        gw = matmul_laid_out_like(g2.T, x.reshape(rows, n_in), w_array)
    if len(need) == 2:
        return gx, gw
    return gx, gw, (g2.sum(0) if need[2] else None)


# ***** softmax cross-entropy *****

class SoftmaxCrossEntropy(Function):
    """Cross-entropy of softmax(x) (N, C) against class indices, with class weights, ignore_index
    (None: no target is ignored) and label smoothing; ``reduction`` is applied inside the gate."""
    # NOTE: fused for numerics and speed. log-softmax is computed once with the max shift (no
    # overflow, no log(0)), and the local gradient is the notes' closed form (softmax - onehot)/N
    # instead of the gates of log_softmax + gather + mean: forward + backward on (512, 1000) float32
    # scores took ~13 ms against ~25 ms composed (CPU, best of 15).
    saves_inputs = (0,)

    def forward(self, x, target=None, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        xp = self.xp
        N, C = x.shape
        self.reduction, self.q = reduction, None
        if weight is None and not label_smoothing and (ignore_index is None or not (target == ignore_index).any()):
            return self._forward_plain(x, target, reduction)
        shifted = x - x.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))     # (N, C)
        keep = target != ignore_index if ignore_index is not None else xp.ones(N, dtype=bool)   # (N,)
        t = xp.where(keep, target, 0)
        rows = xp.arange(N)
        w_t = (weight[t] if weight is not None else xp.ones(N, dtype=x.dtype)) * keep
        # q: the target distribution each row's log-probabilities are weighed with
        q = xp.zeros((N, C), dtype=x.dtype)
        q[rows, t] = (1.0 - label_smoothing) * w_t
        loss = -(1.0 - label_smoothing) * w_t * logp[rows, t]                 # (N,)
        if label_smoothing:
            w_c = (weight if weight is not None else xp.ones(C, dtype=x.dtype)) * (label_smoothing / C)
            smooth = w_c[None, :] * keep[:, None]                               # (N, C)
            q += smooth
            loss = loss - (smooth * xp.where(smooth != 0, logp, 0)).sum(axis=1)
        self.logp, self.q = logp, q
        if reduction == "none":
            self.scale = 1.0
            return loss.astype(x.dtype, copy=False)
        total = loss.sum()
        if reduction == "sum":
            self.scale = 1.0
            return xp.asarray(total, dtype=x.dtype)
        denom = w_t.sum()                 # PyTorch's weighted mean: divide by the weights that were used
        self.scale = 1.0 / denom if denom != 0 else float("nan")
        return xp.asarray(total * self.scale, dtype=x.dtype)

    def _forward_plain(self, x, t, reduction):
        """The common case (no class weights, no smoothing, no ignored target): one-hot targets,
        so the loss is log(sum e^s) - s_t and the gradient softmax minus 1 at the target."""
        # NOTE: speed: a third of the general path's array ops (no q, no weights); in a train step
        # each op after the GEMMs costs several times its isolated time (README, Performance)
        xp = self.xp
        N = x.shape[0]
        shifted = x - x.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        z = e.sum(axis=1, keepdims=True)
        rows = xp.arange(N)
        self.rows, self.t = rows, t.copy()   # (a copy: the caller may refill its target array before backward)
        loss = xp.log(z[:, 0]) - shifted[rows, t]                              # (N,)
        self.p = xp.divide(e, z, out=e)                                         # softmax
        self.scale = (1.0 / N if N else float("nan")) if reduction == "mean" else 1.0
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        return xp.asarray(loss.sum() * self.scale, dtype=x.dtype)

    def backward(self, g):
        if self.q is None:                # the common case: softmax - onehot on arrays
            (ga,) = self.operands(g)
            if not isinstance(ga, Tensor):
                gx = self.p.copy()        # (a copy: backward may run again with retain_graph)
                gx[self.rows, self.t] -= 1
                gx *= ga.reshape(-1, 1) if self.reduction == "none" else ga * self.scale
                return gx
            q = self.xp.zeros(self.p.shape, dtype=self.p.dtype)
            q[self.rows, self.t] = 1
            self.q = q
        q = _const(self.q)
        if is_grad_enabled():             # recording the backward pass: p must depend on x
            p = self.inputs[0].softmax(-1)
        elif hasattr(self, "p"):
            p = _const(self.p)
        else:
            p = _const(self.xp.exp(self.logp))
        gx = p * q.sum(1, keepdim=True) - q               # (N, C): softmax - onehot, per row's target mass
        if self.reduction == "none":
            return gx * g.reshape(-1, 1)
        return gx * (g * self.scale)


# ***** batch normalisation *****

class BatchNorm(Function):
    """Training-mode batch norm over every axis but 1: x (N, C, ...), optional gamma and beta (C,).

    ``mean`` and ``var`` (the biased batch variance, shape (1, C, 1, ...)) are computed by the caller,
    which also needs them for the running averages."""
    # NOTE: fused for speed: the backward is the closed form
    # dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) instead of backprop through
    # mean, sub, square, mean, add, sqrt, div, mul, add: forward + backward on a (64, 64, 16, 16)
    # float32 batch took ~19 ms against ~29 ms composed (CPU, best of 11).

    def forward(self, x, *affine, mean=None, var=None, eps=1e-5):
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.eps = eps
        inv_std = 1.0 / self.xp.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        self.xhat, self.inv_std = xhat, inv_std
        if affine:
            gamma, beta = affine
            return (xhat * gamma.reshape(self.bshape) + beta.reshape(self.bshape)).astype(x.dtype, copy=False)
        return xhat.astype(x.dtype, copy=False)

    def backward(self, g):
        axes, affine = self.axes, len(self.inputs) == 3
        if is_grad_enabled():             # recording the backward pass: rebuild xhat from x
            x = self.inputs[0]
            xc = x - x.mean(axes, keepdim=True)
            inv_std = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
            xhat = xc * inv_std
        else:
            xhat, inv_std = _const(self.xhat), _const(self.inv_std)
        gxhat = g * self.inputs[1].reshape(self.bshape) if affine else g
        gx = None
        if self.needs_input_grad[0]:
            gx = inv_std * (gxhat - gxhat.mean(axes, keepdim=True)
                            - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        if not affine:
            return gx
        ggamma = (g * xhat).sum(axes) if self.needs_input_grad[1] else None
        gbeta = g.sum(axes) if self.needs_input_grad[2] else None
        return gx, ggamma, gbeta


# ***** binary cross-entropy on probabilities *****

class BinaryCrossEntropy(Function):
    """Elementwise -(y log x + (1 - y) log(1 - x)), the logs clamped at -100 as in PyTorch."""
    # NOTE: a gate for numerics: composing clamp(log(x)) gives 0/0 = NaN for the gradient at
    # x = 0 or 1; PyTorch's closed form (x - y) / max(x (1 - x), 1e-12) stays finite there.

    def forward(self, x, y):
        xp = self.xp
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log(1.0 - x), -100.0)
        return (-(y * log_x + (1.0 - y) * log_1mx)).astype(x.dtype, copy=False)

    def backward(self, g):
        x, y = self.inputs
        gx = g * (x - y) / (x * (1.0 - x)).clamp(min=1e-12) if self.needs_input_grad[0] else None
        gy = None
        if self.needs_input_grad[1]:
            gy = g * ((1.0 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0))
        return gx, gy
