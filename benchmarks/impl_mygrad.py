"""MyGrad versions of the workloads (its nnet layers where it has them, composed ops elsewhere)."""
import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu, sigmoid
from mygrad.nnet.layers import conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy

NAME = "mygrad"


def version():
    return mg.__version__


def _params(arrays):
    return [mg.Tensor(a.copy()) for a in arrays]


def _sgd(params, lr):
    for q in params:
        q.data -= lr * q.grad                             # MyGrad's documented plain update


def mlp(p):
    X, y, lr = p["X"], p["y"], p["lr"]
    params = _params(p["params"])
    n_layers = len(params) // 2

    def step():
        h = X
        for i in range(n_layers):
            h = mg.matmul(h, params[2 * i]) + params[2 * i + 1]
            if i < n_layers - 1:
                h = relu(h)
        loss = softmax_crossentropy(h, y)
        loss.backward()
        _sgd(params, lr)
        return loss.item()
    return step


def convnet(p):
    X, y, lr = p["X"], p["y"], p["lr"]
    params = _params(p["params"])
    w1, b1, w2, b2, w3, b3 = params

    def step():
        h = relu(conv_nd(X, w1, stride=1, padding=1) + b1.reshape(1, -1, 1, 1))
        h = max_pool(h, (2, 2), 2)
        h = relu(conv_nd(h, w2, stride=1, padding=1) + b2.reshape(1, -1, 1, 1))
        h = max_pool(h, (2, 2), 2)
        scores = mg.matmul(h.reshape(len(X), -1), w3) + b3
        loss = softmax_crossentropy(scores, y)
        loss.backward()
        _sgd(params, lr)
        return loss.item()
    return step


def lstm(p):
    X, G, H = p["X"], p["G"], p["hidden"]
    T, N, D = X.shape
    Wx, Wh, b = _params([p["Wx"], p["Wh"], p["b"]])
    X2 = X.reshape(T * N, D)

    def step():
        xproj = (mg.matmul(X2, Wx) + b).reshape(T, N, 4 * H)
        h = mg.zeros((N, H), dtype=np.float32)
        c = mg.zeros((N, H), dtype=np.float32)
        hs = []
        for t in range(T):
            a = xproj[t] + mg.matmul(h, Wh)
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
            g, o = mg.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * mg.tanh(c)
            hs.append(h)
        loss = (mg.stack(hs) * G).sum()
        loss.backward()
        return loss.item()
    return step


def overhead(p):
    x = mg.Tensor(p["x"].copy())
    n_ops = p["ops"]

    def step():
        y = x
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 0.5
            elif k % 3 == 1:
                y = y + x
            else:
                y = mg.tanh(y)
        loss = y.sum()
        loss.backward()
        return loss.item()
    return step


def scalar(p):
    X, y, lr = p["X"], p["y"], p["lr"]
    params = _params(p["params"])
    n_layers = len(params) // 2

    def step():
        h = X
        for i in range(n_layers):
            h = mg.matmul(h, params[2 * i]) + params[2 * i + 1]
            if i < n_layers - 1:
                h = relu(h)
        loss = relu(1 - y * h).mean()
        loss.backward()
        _sgd(params, lr)
        return loss.item()
    return step
