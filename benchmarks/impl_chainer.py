"""Chainer versions of the workloads (Chainer 7.8, the last release, on NumPy)."""
import sys
import types

import numpy as np

NAME = "chainer"


def _import_chainer():
    # NOTE: Chainer 7.8.1 (2020) predates NumPy 2 and setuptools 81: it reads np.sctypes and imports
    # pkg_resources for a version check. Supply both, in this benchmark process only.
    if not hasattr(np, "sctypes"):
        np.sctypes = {"int": [np.int8, np.int16, np.int32, np.int64],
                      "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
                      "float": [np.float16, np.float32, np.float64],
                      "complex": [np.complex64, np.complex128],
                      "others": [bool, object, bytes, str, np.void]}
    if "pkg_resources" not in sys.modules:
        try:
            import pkg_resources  # noqa: F401
        except ImportError:
            shim = types.ModuleType("pkg_resources")

            class DistributionNotFound(Exception):
                pass

            def require(requirement):
                raise DistributionNotFound(requirement)
            shim.DistributionNotFound, shim.VersionConflict, shim.require = (
                DistributionNotFound, type("VersionConflict", (Exception,), {}), require)
            sys.modules["pkg_resources"] = shim
    import chainer
    return chainer


chainer = _import_chainer()
F, L = chainer.functions, chainer.links


def version():
    return chainer.__version__


def _linear(w, b):
    return L.Linear(w.shape[0], w.shape[1], initialW=np.ascontiguousarray(w.T), initial_bias=b)


def _train_step(model, loss_fn, lr):
    opt = chainer.optimizers.SGD(lr=lr)
    opt.setup(model)

    def step():
        model.cleargrads()
        loss = loss_fn()
        loss.backward()
        opt.update()
        return loss.array
    return step


def mlp(p):
    X, y, ws = p["X"], p["y"], p["params"]
    model = chainer.ChainList(*[_linear(ws[i], ws[i + 1]) for i in range(0, len(ws), 2)])

    def loss_fn():
        h = X
        for i, layer in enumerate(model):
            h = layer(h)
            if i < len(model) - 1:
                h = F.relu(h)
        return F.softmax_cross_entropy(h, y)
    return _train_step(model, loss_fn, p["lr"])


def convnet(p):
    X, y = p["X"], p["y"]
    w1, b1, w2, b2, w3, b3 = p["params"]
    model = chainer.ChainList(
        L.Convolution2D(w1.shape[1], w1.shape[0], 3, pad=1, initialW=w1, initial_bias=b1),
        L.Convolution2D(w2.shape[1], w2.shape[0], 3, pad=1, initialW=w2, initial_bias=b2),
        _linear(w3, b3))

    def loss_fn():
        h = F.max_pooling_2d(F.relu(model[0](X)), 2)
        h = F.max_pooling_2d(F.relu(model[1](h)), 2)
        return F.softmax_cross_entropy(model[2](h), y)    # Linear flattens channel-major
    return _train_step(model, loss_fn, p["lr"])


def lstm(p):
    X, G, H = p["X"], p["G"], p["hidden"]
    T, N, D = X.shape
    # NOTE: F.lstm wants the four gates interleaved per unit as (cell input, input, forget, output)
    perm = np.stack([np.arange(2 * H, 3 * H), np.arange(H), np.arange(H, 2 * H), np.arange(3 * H, 4 * H)],
                    axis=1).reshape(-1)
    Wx = chainer.Parameter(np.ascontiguousarray(p["Wx"][:, perm]))
    Wh = chainer.Parameter(np.ascontiguousarray(p["Wh"][:, perm]))
    b = chainer.Parameter(np.ascontiguousarray(p["b"][perm]))
    X2 = X.reshape(T * N, D)

    def step():
        for q in (Wx, Wh, b):
            q.cleargrad()
        xproj = F.reshape(F.matmul(X2, Wx) + b, (T, N, 4 * H))
        h = chainer.Variable(np.zeros((N, H), np.float32))
        c = chainer.Variable(np.zeros((N, H), np.float32))
        hs = []
        for t in range(T):
            c, h = F.lstm(c, xproj[t] + F.matmul(h, Wh))
            hs.append(h)
        loss = F.sum(F.stack(hs) * G)
        loss.backward()
        return loss.array
    return step


def overhead(p):
    x = chainer.Variable(p["x"].copy())
    n_ops = p["ops"]

    def step():
        x.cleargrad()
        y = x
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 0.5
            elif k % 3 == 1:
                y = y + x
            else:
                y = F.tanh(y)
        loss = F.sum(y)
        loss.backward()
        return loss.array
    return step


def scalar(p):
    X, y, ws = p["X"], p["y"], p["params"]
    model = chainer.ChainList(*[_linear(ws[i], ws[i + 1]) for i in range(0, len(ws), 2)])

    def loss_fn():
        h = X
        for i, layer in enumerate(model):
            h = layer(h)
            if i < len(model) - 1:
                h = F.relu(h)
        return F.mean(F.relu(1 - y * h))
    return _train_step(model, loss_fn, p["lr"])
