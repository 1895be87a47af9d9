"""The benchmark problems: sizes, fixed-seed data and initial parameters, as plain numpy arrays.

Every library's implementation starts from these same arrays, so their initial losses agree and the
timings compare one computation. Weights are stored as ``x @ W`` matrices (in, out); a library whose
layers hold (out, in) weights (PyTorch, Chainer) gets the transpose.
"""
import numpy as np

LR = 0.01           # plain SGD, no momentum: the update is the same one line everywhere

# (full size, quick size): quick sizes only exercise the code paths (the smoke test uses them)
SIZES = {
    "mlp": ({"batch": 128, "dims": (3072, 512, 256, 10)}, {"batch": 8, "dims": (48, 16, 12, 10)}),
    "convnet": ({"batch": 64, "hw": 32, "c1": 16, "c2": 32, "classes": 10},
                {"batch": 4, "hw": 8, "c1": 4, "c2": 6, "classes": 10}),
    "lstm": ({"seq": 50, "batch": 32, "input": 64, "hidden": 128},
             {"seq": 5, "batch": 4, "input": 8, "hidden": 16}),
    "overhead": ({"ops": 2000, "size": 16}, {"ops": 60, "size": 16}),
    "scalar": ({"points": 100, "dims": (2, 16, 16, 1)}, {"points": 20, "dims": (2, 8, 8, 1)}),
    # memory: steps of mlp/convnet for the peak, then many steps of a small mlp for flatness
    "memory": ({"peak_steps": 50, "flat_steps": 10_000, "small": {"batch": 32, "dims": (64, 32, 10)}},
               {"peak_steps": 3, "flat_steps": 200, "small": {"batch": 8, "dims": (16, 8, 4)}}),
}


def sizes(name, quick=False):
    """The size dict of workload ``name`` (full, or tiny with ``quick``)."""
    return SIZES[name][1 if quick else 0]


def _he(rng, fan_in, shape):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def mlp(quick=False, size=None):
    """X (batch, d0), integer labels y, and [W1, b1, W2, b2, ...] with W as (in, out)."""
    s = size or sizes("mlp", quick)
    rng = np.random.default_rng(0)
    dims = s["dims"]
    X = rng.standard_normal((s["batch"], dims[0])).astype(np.float32)
    y = rng.integers(0, dims[-1], s["batch"])
    params = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        params += [_he(rng, d_in, (d_in, d_out)), np.zeros(d_out, np.float32) + 0.01]
    return {"X": X, "y": y, "params": params, "lr": LR}


def convnet(quick=False):
    """X (N, 3, H, W), labels, conv weights (F, C, 3, 3), biases, and the linear layer as (in, out).

    The linear layer's input is the NCHW flattening (channel-major), as ``torch.flatten`` gives.
    """
    s = sizes("convnet", quick)
    rng = np.random.default_rng(1)
    n, hw, c1, c2, k = s["batch"], s["hw"], s["c1"], s["c2"], s["classes"]
    X = rng.standard_normal((n, 3, hw, hw)).astype(np.float32)
    y = rng.integers(0, k, n)
    flat = c2 * (hw // 4) ** 2
    params = [_he(rng, 3 * 9, (c1, 3, 3, 3)), np.full(c1, 0.01, np.float32),
              _he(rng, c1 * 9, (c2, c1, 3, 3)), np.full(c2, 0.01, np.float32),
              _he(rng, flat, (flat, k)), np.zeros(k, np.float32)]
    return {"X": X, "y": y, "params": params, "lr": LR}


def lstm(quick=False):
    """X (seq, batch, input), Wx (input, 4H), Wh (H, 4H), b (4H) with gates in PyTorch's order
    [input, forget, cell (g), output], and G (seq, batch, H): the loss is sum(G * h) over all steps."""
    s = sizes("lstm", quick)
    rng = np.random.default_rng(2)
    t, n, d, h = s["seq"], s["batch"], s["input"], s["hidden"]
    bound = 1 / np.sqrt(h)
    u = lambda *shape: rng.uniform(-bound, bound, shape).astype(np.float32)
    return {"X": rng.standard_normal((t, n, d)).astype(np.float32), "Wx": u(d, 4 * h), "Wh": u(h, 4 * h),
            "b": u(4 * h), "G": rng.standard_normal((t, n, h)).astype(np.float32), "hidden": h}


def overhead(quick=False):
    """x (size,) and the number of chained ops: op k is x*0.5, +x (the input), tanh for k % 3 = 0, 1, 2."""
    s = sizes("overhead", quick)
    rng = np.random.default_rng(3)
    return {"x": rng.standard_normal(s["size"]).astype(np.float32), "ops": s["ops"]}


def scalar(quick=False):
    """100 2-D points with labels +-1 and a 2-16-16-1 ReLU MLP; the loss is mean(relu(1 - y * score))."""
    s = sizes("scalar", quick)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((s["points"], 2)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0).astype(np.float32).reshape(-1, 1)
    params = []
    dims = s["dims"]
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        params += [_he(rng, d_in, (d_in, d_out)), np.zeros(d_out, np.float32)]
    return {"X": X, "y": y, "params": params, "lr": LR}


PROBLEMS = {"mlp": mlp, "convnet": convnet, "lstm": lstm, "overhead": overhead, "scalar": scalar}
