"""minigrad versions of the workloads, written the way a user writes them: nn layers, a loss
module and optim.SGD for the train steps; plain Tensor ops for the tiny-op chain."""
import numpy as np

import minigrad as mg

NAME = "minigrad"


def version():
    return mg.__version__


def _set(param, array):
    """Copy the problem's initial values into a layer's parameter (shapes must agree), in the
    parameter's own memory: it keeps the layout the layer gave it, as a user's ``copy_`` does."""
    if tuple(param.shape) != array.shape:
        raise ValueError(f"parameter of shape {tuple(param.shape)} cannot take values of shape {array.shape}")
    param.data[...] = array


def _linear(w, b):
    layer = mg.nn.Linear(*w.shape)
    _set(layer.weight, w.T)
    _set(layer.bias, b)
    return layer


def _train_step(params, loss_fn, lr):
    opt = mg.optim.SGD(params, lr=lr)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def _import_nn():
    import minigrad.nn
    import minigrad.optim  # noqa: F401
    return minigrad.nn


def mlp(p):
    nn = _import_nn()
    X, y = mg.tensor(p["X"]), mg.tensor(p["y"])
    ws = p["params"]
    layers = []
    for i in range(0, len(ws), 2):
        layers += [_linear(ws[i], ws[i + 1]), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    crit = nn.CrossEntropyLoss()
    return _train_step(model.parameters(), lambda: crit(model(X), y), p["lr"])


def convnet(p):
    nn = _import_nn()
    X, y = mg.tensor(p["X"]), mg.tensor(p["y"])
    w1, b1, w2, b2, w3, b3 = p["params"]
    conv1 = nn.Conv2d(w1.shape[1], w1.shape[0], 3, padding=1)
    conv2 = nn.Conv2d(w2.shape[1], w2.shape[0], 3, padding=1)
    for conv, w, b in ((conv1, w1, b1), (conv2, w2, b2)):
        _set(conv.weight, w)
        _set(conv.bias, b)
    model = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(2), conv2, nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), _linear(w3, b3))
    crit = nn.CrossEntropyLoss()
    return _train_step(model.parameters(), lambda: crit(model(X), y), p["lr"])


def lstm(p):
    nn = _import_nn()
    X, G, H = mg.tensor(p["X"]), mg.tensor(p["G"]), p["hidden"]
    layer = nn.LSTM(X.shape[2], H)
    _set(layer.weight_ih_l0, p["Wx"].T)
    _set(layer.weight_hh_l0, p["Wh"].T)
    _set(layer.bias_ih_l0, p["b"])
    _set(layer.bias_hh_l0, np.zeros_like(p["b"]))

    def step():
        layer.zero_grad()
        out, _ = layer(X)
        loss = (out * G).sum()
        loss.backward()
        return loss.detach()
    return step


def overhead(p):
    x = mg.tensor(p["x"], requires_grad=True)
    n_ops = p["ops"]

    def step():
        x.grad = None
        y = x
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 0.5
            elif k % 3 == 1:
                y = y + x
            else:
                y = y.tanh()
        loss = y.sum()
        loss.backward()
        return loss.detach()
    return step


def scalar(p):
    """Core tensors as the parameters (x @ W + b), optim.SGD for the update."""
    X, y = mg.tensor(p["X"]), mg.tensor(p["y"])
    params = [mg.tensor(a, requires_grad=True) for a in p["params"]]
    n_layers = len(params) // 2

    def loss_fn():
        h = X
        for i in range(n_layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                h = h.relu()
        return (1 - y * h).relu().mean()
    _import_nn()
    return _train_step(params, loss_fn, p["lr"])
