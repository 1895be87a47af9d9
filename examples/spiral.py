"""The notes' spiral case study with minigrad: a softmax linear classifier, then a 2-layer ReLU net.

    python examples/spiral.py            # the notes' settings: ~49% and ~98% training accuracy
    python examples/spiral.py --quick

Same data (N=100 points per class, K=3 arms), same initialisation (0.01 * randn), same
hyper-parameters (step size 1, reg 1e-3, full-batch gradient descent for 200 and 10,000
iterations) and the same loss (cross-entropy + 0.5 * reg * sum(W^2)); the gradients come from
minigrad's backward instead of the notes' hand-written backprop. Saves decision-boundary plots.
"""
import argparse
import os

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import make_spiral


def train_softmax(X, y, iters, step_size=1.0, reg=1e-3, log_every=10):
    """The notes' linear classifier: scores = X W + b."""
    D, K = X.shape[1], int(y.max()) + 1
    W = mg.tensor(0.01 * np.random.randn(D, K), requires_grad=True)
    b = mg.zeros(1, K, dtype="float64", requires_grad=True)
    X, yt = mg.tensor(X), mg.tensor(y)
    for i in range(iters):
        scores = X @ W + b
        loss = F.cross_entropy(scores, yt) + 0.5 * reg * (W * W).sum()
        if i % log_every == 0:
            print(f"iteration {i}: loss {loss.item():f}")
        W.grad = b.grad = None
        loss.backward()
        with mg.no_grad():
            W -= step_size * W.grad
            b -= step_size * b.grad
    return lambda P: (mg.tensor(P) @ W + b).argmax(-1).numpy()


def train_two_layer(X, y, iters, h=100, step_size=1.0, reg=1e-3, log_every=1000):
    """The notes' 2-layer net: hidden = max(0, X W + b); scores = hidden W2 + b2."""
    D, K = X.shape[1], int(y.max()) + 1
    W = mg.tensor(0.01 * np.random.randn(D, h), requires_grad=True)
    b = mg.zeros(1, h, dtype="float64", requires_grad=True)
    W2 = mg.tensor(0.01 * np.random.randn(h, K), requires_grad=True)
    b2 = mg.zeros(1, K, dtype="float64", requires_grad=True)
    params = [W, b, W2, b2]
    X, yt = mg.tensor(X), mg.tensor(y)
    for i in range(iters):
        hidden = (X @ W + b).relu()                # note, ReLU activation
        scores = hidden @ W2 + b2
        loss = F.cross_entropy(scores, yt) + 0.5 * reg * (W * W).sum() + 0.5 * reg * (W2 * W2).sum()
        if i % log_every == 0:
            print(f"iteration {i}: loss {loss.item():f}")
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p -= step_size * p.grad
    return lambda P: ((mg.tensor(P) @ W + b).relu() @ W2 + b2).argmax(-1).numpy()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--linear-iters", type=int, default=200)
    p.add_argument("--net-iters", type=int, default=10000)
    p.add_argument("--out", default="out")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--quick", action="store_true", help="1,000 iterations for the net (a smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.net_iters = 1000
    os.makedirs(args.out, exist_ok=True)
    np.random.seed(args.seed)                      # the notes draw data and weights from numpy's generator
    X, y = make_spiral()

    print("== softmax linear classifier ==")
    linear = train_softmax(X, y, args.linear_iters)
    linear_acc = float((linear(X) == y).mean())
    print(f"training accuracy: {linear_acc:.2f}")
    print("== 2-layer neural network (100 hidden ReLUs) ==")
    net = train_two_layer(X, y, args.net_iters, log_every=max(1, args.net_iters // 10))
    net_acc = float((net(X) == y).mean())
    print(f"training accuracy: {net_acc:.2f}")

    plots = []
    if not args.no_plots:
        from minigrad.train import plot_decision_boundary
        plots = [plot_decision_boundary(linear, X, y, os.path.join(args.out, "spiral_linear.png"),
                                        f"softmax linear classifier: {linear_acc:.0%}"),
                 plot_decision_boundary(net, X, y, os.path.join(args.out, "spiral_net.png"),
                                        f"2-layer ReLU net: {net_acc:.0%}")]
        print("wrote " + ", ".join(os.path.basename(x) for x in plots))
    return {"linear_acc": linear_acc, "net_acc": net_acc, "plots": plots}


if __name__ == "__main__":
    main()
