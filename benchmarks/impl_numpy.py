"""Hand-written NumPy forward and backward passes (CS231n style): the reference for every ratio.

No autograd: each backward is derived by hand, intermediates are kept in local variables, and
in-place updates are used where a careful practitioner would use them.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

NAME = "numpy"


def version():
    return np.__version__


def _softmax_ce(scores, y):
    """Mean softmax cross-entropy and its gradient with respect to the scores."""
    n = len(scores)
    rows = np.arange(n)
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    z = e.sum(axis=1, keepdims=True)
    loss = np.log(z[:, 0]).sum() - shifted[rows, y].sum()
    dscores = e / z
    dscores[rows, y] -= 1
    dscores /= n
    return loss / n, dscores


def _sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p -= lr * g


def _mlp_step(p, loss_and_grad):
    """A train step of the ReLU MLP in ``p`` (x @ W + b per layer) whose loss and its gradient on
    the scores come from ``loss_and_grad(scores) -> (loss, d)``; plain SGD update."""
    X, lr = p["X"], p["lr"]
    params = [a.copy() for a in p["params"]]
    n_layers = len(params) // 2

    def step():
        acts, pre = [X], []
        for i in range(n_layers):
            z = acts[-1] @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                pre.append(z)
                z = np.maximum(z, 0)
            acts.append(z)
        loss, d = loss_and_grad(acts[-1])
        grads = [None] * len(params)
        for i in reversed(range(n_layers)):
            grads[2 * i] = acts[i].T @ d
            grads[2 * i + 1] = d.sum(axis=0)
            if i:
                d = d @ params[2 * i].T
                d *= pre[i - 1] > 0                      # the ReLU gate passes or blocks
        _sgd(params, grads, lr)
        return loss
    return step


def mlp(p):
    """A ReLU MLP train step: affine layers, softmax cross-entropy, backward, SGD."""
    return _mlp_step(p, lambda scores: _softmax_ce(scores, p["y"]))


# ***** convnet, in NHWC inside so that im2col is one reshape of a sliding-window view *****

def _conv3x3_forward(x, w, b):
    """x (N, H, W, C) padded by 1, w (F, C, 3, 3): returns out (N, H, W, F) and the im2col matrix."""
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = sliding_window_view(xp, (3, 3), axis=(1, 2)).reshape(n * h * wd, c * 9)  # one copy
    wmat = w.reshape(len(w), c * 9)
    out = cols @ wmat.T + b
    return out.reshape(n, h, wd, len(w)), cols


def _conv3x3_backward(dout, cols, w, x_shape, need_dx):
    n, h, wd, c = x_shape
    f = len(w)
    d2 = dout.reshape(-1, f)
    dw = (d2.T @ cols).reshape(w.shape)
    db = d2.sum(axis=0)
    dx = None
    if need_dx:                                           # col2im: 9 shifted adds
        dcols = (d2 @ w.reshape(f, c * 9)).reshape(n, h, wd, c, 3, 3)
        dxp = np.zeros((n, h + 2, wd + 2, c), dout.dtype)
        for i in range(3):
            for j in range(3):
                dxp[:, i:i + h, j:j + wd, :] += dcols[..., i, j]
        dx = dxp[:, 1:-1, 1:-1, :]
    return dw, db, dx


def _relu_pool_forward(z):
    """max-pool 2x2 of relu(z) by reshape (the window tiles the input)."""
    n, h, w, c = z.shape
    r = np.maximum(z, 0).reshape(n, h // 2, 2, w // 2, 2, c)
    out = r.max(axis=(2, 4))
    return out, r


def _relu_pool_backward(dout, r, out, z):
    n, h, w, c = z.shape
    # ties (all-zero windows after relu) get the gradient at several places, but relu'(0) = 0 blocks it
    mask = r == out[:, :, None, :, None, :]
    dr = mask * dout[:, :, None, :, None, :]
    return dr.reshape(z.shape) * (z > 0)


def convnet(p):
    """conv-relu-pool, conv-relu-pool, linear: a train step."""
    X, y, lr = p["X"], p["y"], p["lr"]
    params = [a.copy() for a in p["params"]]

    def step():
        w1, b1, w2, b2, w3, b3 = params
        x = X.transpose(0, 2, 3, 1)                       # NCHW input -> NHWC
        z1, cols1 = _conv3x3_forward(x, w1, b1)
        p1, r1 = _relu_pool_forward(z1)
        z2, cols2 = _conv3x3_forward(p1, w2, b2)
        p2, r2 = _relu_pool_forward(z2)
        n = len(x)
        flat = p2.transpose(0, 3, 1, 2).reshape(n, -1)    # channel-major flatten, as torch
        scores = flat @ w3 + b3
        loss, d = _softmax_ce(scores, y)
        dw3, db3 = flat.T @ d, d.sum(axis=0)
        dp2 = (d @ w3.T).reshape(n, p2.shape[3], p2.shape[1], p2.shape[2]).transpose(0, 2, 3, 1)
        dz2 = _relu_pool_backward(dp2, r2, p2, z2)
        dw2, db2, dp1 = _conv3x3_backward(dz2, cols2, w2, p1.shape, True)
        dz1 = _relu_pool_backward(dp1, r1, p1, z1)
        dw1, db1, _ = _conv3x3_backward(dz1, cols1, w1, x.shape, False)
        _sgd(params, [dw1, db1, dw2, db2, dw3, db3], lr)
        return loss
    return step


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm(p):
    """Forward and backward of one LSTM layer over the sequence; loss = sum(G * h)."""
    X, Wx, Wh, b, G, H = p["X"], p["Wx"], p["Wh"], p["b"], p["G"], p["hidden"]
    T, N, D = X.shape

    def step():
        xproj = (X.reshape(T * N, D) @ Wx + b).reshape(T, N, 4 * H)   # all time steps at once
        hs = np.zeros((T + 1, N, H), np.float32)
        cs = np.zeros((T + 1, N, H), np.float32)
        acts = np.empty((T, N, 4 * H), np.float32)
        tcs = np.empty((T, N, H), np.float32)
        for t in range(T):
            a = xproj[t] + hs[t] @ Wh                     # one multiply for all four gates
            act = acts[t]
            act[:] = _sigmoid(a)
            act[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
            i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
            cs[t + 1] = f * cs[t] + i * g
            tcs[t] = np.tanh(cs[t + 1])
            hs[t + 1] = o * tcs[t]
        loss = (hs[1:] * G).sum()
        da = np.empty_like(acts)
        dh_next = np.zeros((N, H), np.float32)
        dc_next = np.zeros((N, H), np.float32)
        for t in reversed(range(T)):
            act, tc = acts[t], tcs[t]
            i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
            dh = G[t] + dh_next
            dc = dc_next + dh * o * (1 - tc * tc)
            dat = da[t]
            dat[:, :H] = dc * g * i * (1 - i)
            dat[:, H:2 * H] = dc * cs[t] * f * (1 - f)
            dat[:, 2 * H:3 * H] = dc * i * (1 - g * g)
            dat[:, 3 * H:] = dh * tc * o * (1 - o)
            dc_next = dc * f
            dh_next = dat @ Wh.T
        da2 = da.reshape(T * N, 4 * H)
        dWh = hs[:-1].reshape(T * N, H).T @ da2
        dWx = X.reshape(T * N, D).T @ da2
        db = da2.sum(axis=0)
        step.grads = (dWx, dWh, db)
        return loss
    return step


def overhead(p):
    """The chain of tiny ops and its hand-derived backward: the cost of NumPy's arithmetic alone."""
    x, n_ops = p["x"], p["ops"]

    def step():
        y, saved = x, []
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 0.5
            elif k % 3 == 1:
                y = y + x
            else:
                y = np.tanh(y)
                saved.append(y)
        loss = y.sum()
        g, gx = np.ones_like(y), np.zeros_like(x)
        for k in reversed(range(n_ops)):
            if k % 3 == 0:
                g = g * 0.5
            elif k % 3 == 1:
                gx = gx + g
            else:
                t = saved.pop()
                g = g * (1 - t * t)
        gx = gx + g                                      # the chain starts from x itself
        return loss
    return step


def scalar(p):
    """One SGD step of the small ReLU MLP with the hinge loss mean(relu(1 - y * score))."""
    X, y = p["X"], p["y"]

    def hinge(scores):
        margin = 1 - y * scores
        return np.maximum(margin, 0).mean(), (margin > 0) * (-y / len(X))
    return _mlp_step(p, hinge)
