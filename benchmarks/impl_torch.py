"""PyTorch (CPU) versions of the workloads, built from its own layers and optimiser."""
import numpy as np
import torch
import torch.nn.functional as F

NAME = "torch"


def version():
    return torch.__version__


def setup(threads):
    torch.set_num_threads(threads)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def _linear(w, b):
    layer = torch.nn.Linear(*w.shape)
    with torch.no_grad():
        layer.weight.copy_(_t(w.T))
        layer.bias.copy_(_t(b))
    return layer


def _train_step(model, loss_fn, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def mlp(p):
    X, y = _t(p["X"]), _t(p["y"])
    ws = p["params"]
    layers = []
    for i in range(0, len(ws), 2):
        layers += [_linear(ws[i], ws[i + 1]), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    crit = torch.nn.CrossEntropyLoss()
    return _train_step(model, lambda: crit(model(X), y), p["lr"])


def convnet(p):
    X, y = _t(p["X"]), _t(p["y"])
    w1, b1, w2, b2, w3, b3 = p["params"]
    conv1 = torch.nn.Conv2d(w1.shape[1], w1.shape[0], 3, padding=1)
    conv2 = torch.nn.Conv2d(w2.shape[1], w2.shape[0], 3, padding=1)
    with torch.no_grad():
        for conv, w, b in ((conv1, w1, b1), (conv2, w2, b2)):
            conv.weight.copy_(_t(w))
            conv.bias.copy_(_t(b))
    model = torch.nn.Sequential(conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                conv2, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), _linear(w3, b3))
    crit = torch.nn.CrossEntropyLoss()
    return _train_step(model, lambda: crit(model(X), y), p["lr"])


def lstm(p):
    X, G, H = _t(p["X"]), _t(p["G"]), p["hidden"]
    layer = torch.nn.LSTM(X.shape[2], H)
    with torch.no_grad():                                 # torch keeps (4H, in) in the same gate order
        layer.weight_ih_l0.copy_(_t(p["Wx"].T))
        layer.weight_hh_l0.copy_(_t(p["Wh"].T))
        layer.bias_ih_l0.copy_(_t(p["b"]))
        layer.bias_hh_l0.zero_()

    def step():
        layer.zero_grad(set_to_none=True)
        out, _ = layer(X)
        loss = (out * G).sum()
        loss.backward()
        return loss.detach()
    return step


def overhead(p):
    x = _t(p["x"]).requires_grad_(True)
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
                y = torch.tanh(y)
        loss = y.sum()
        loss.backward()
        return loss.detach()
    return step


def scalar(p):
    X, y = _t(p["X"]), _t(p["y"])
    ws = p["params"]
    layers = []
    for i in range(0, len(ws), 2):
        layers += [_linear(ws[i], ws[i + 1]), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    return _train_step(model, lambda: F.relu(1 - y * model(X)).mean(), p["lr"])
