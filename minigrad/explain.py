"""Inspect a trained classifier (the notes' "Visualizing what ConvNets learn").

Each function takes a model that maps a batch ``(N, ...)`` to class scores ``(N, K)``, runs it in
eval mode (restoring the mode afterwards) and leaves its parameters' ``.grad`` untouched: gradients
are taken with respect to the input only, with ``mg.grad``.
"""
from collections import namedtuple

import numpy as np

from . import backend
from .autograd import grad, no_grad
from .tensor import Tensor

TopK = namedtuple("TopK", ["values", "indices"])


class _eval_mode:
    """Run a model in eval mode, then put it back as it was."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.was_training = getattr(self.model, "training", False)
        if hasattr(self.model, "eval"):
            self.model.eval()

    def __exit__(self, *exc):
        if hasattr(self.model, "train"):
            self.model.train(self.was_training)


def _input(x, dtype=None):
    """A fresh float leaf copy of ``x`` (a Tensor or array)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    return Tensor(data.copy() if dtype is None else data.astype(dtype))


def _targets(target, n, xp):
    t = xp.asarray(target.data if isinstance(target, Tensor) else target).astype(np.int64).reshape(-1)
    if t.size == 1:
        t = xp.full(n, int(t[0]), dtype=np.int64)
    if t.shape != (n,):
        raise ValueError(f"target must be one class or one per example ({n}), got shape {tuple(t.shape)}")
    return t


def _score_grad(model, x, target):
    """(scores, d(sum of each example's target score)/dx) for a leaf batch ``x``."""
    x.requires_grad_(True)
    scores = model(x)
    if scores.ndim != 2:
        raise ValueError(f"the model must return class scores of shape (N, K), got {scores.shape}")
    t = _targets(target, scores.shape[0], scores.xp)
    if int(t.max()) >= scores.shape[1] or int(t.min()) < 0:
        raise ValueError(f"target class {int(t.max())} out of range for {scores.shape[1]} classes")
    picked = scores[Tensor._wrap(scores.xp.arange(scores.shape[0])), Tensor._wrap(t)].sum()
    g, = grad(picked, [x])
    return scores.detach(), g


def saliency(model, x, target):
    """The data gradient of the class score, |dS_target / dx| (Simonyan et al.'s saliency map).

    ``x``: a batch ``(N, ...)``; ``target``: one class or one per example. For image batches
    ``(N, C, H, W)`` the map is the maximum over channels, ``(N, H, W)``; otherwise it has x's shape.
    """
    with _eval_mode(model):
        _, g = _score_grad(model, _input(x), target)
    s = g.detach().abs()
    return s.amax(dim=1) if s.ndim == 4 else s


def occlusion_map(model, x, target, patch=4, stride=1, fill=0.0, batch_size=256):
    """The probability of ``target`` as a ``patch`` x ``patch`` square of ``fill`` slides over the image.

    ``x``: one image ``(C, H, W)`` (or ``(1, C, H, W)``). Returns ``(H', W')`` with
    ``H' = (H - patch) // stride + 1``: low values mark the regions the prediction relies on (Zeiler
    and Fergus). The occluded copies are built with broadcast masks and scored in batches.
    """
    img = _input(x)
    if img.ndim == 4 and img.shape[0] == 1:
        img = img.reshape(img.shape[1:])
    if img.ndim != 3:
        raise ValueError(f"occlusion_map: expected one image (C, H, W), got shape {tuple(img.shape)}")
    C, H, W = img.shape
    if not 1 <= patch <= min(H, W):
        raise ValueError(f"occlusion_map: patch {patch} does not fit an image of {H}x{W}")
    xp = img.xp
    top, left = xp.arange(0, H - patch + 1, stride), xp.arange(0, W - patch + 1, stride)
    rows = (xp.arange(H)[None, :] >= top[:, None]) & (xp.arange(H)[None, :] < top[:, None] + patch)    # (P, H)
    cols = (xp.arange(W)[None, :] >= left[:, None]) & (xp.arange(W)[None, :] < left[:, None] + patch)  # (Q, W)
    masks = (rows[:, None, :, None] & cols[None, :, None, :]).reshape(-1, 1, H, W)                   # (P*Q, 1, H, W)
    probs = []
    with _eval_mode(model), no_grad():
        for start in range(0, masks.shape[0], batch_size):
            batch = xp.where(masks[start:start + batch_size], fill, img.data[None]).astype(img.dtype)
            p = model(Tensor._wrap(batch)).softmax(-1)
            probs.append(p.data[:, int(target)])
    return Tensor._wrap(xp.concatenate(probs).reshape(len(top), len(left)))


def fooling_image(model, x, target_class, steps=100, lr=1.0):
    """An adversarial example: nudge ``x`` until the model calls it ``target_class``.

    Gradient ascent on the target score, each step ``lr * g / ||g||`` per example (the notes'
    "Fooling ConvNets"); an example stops changing once it is classified as the target. Returns
    the fooling batch (same shape as ``x``); check ``model(out).argmax(-1)`` for success.
    """
    xf = _input(x)
    with _eval_mode(model):
        for _ in range(steps):
            scores, g = _score_grad(model, xf, target_class)
            t = _targets(target_class, scores.shape[0], scores.xp)
            todo = scores.data.argmax(-1) != t
            if not todo.any():
                break
            gd = g.data
            norms = scores.xp.sqrt((gd.reshape(len(gd), -1) ** 2).sum(1)) + 1e-12
            step = lr * gd / norms.reshape((-1,) + (1,) * (gd.ndim - 1))
            step = step * todo.reshape((-1,) + (1,) * (gd.ndim - 1))
            xf = Tensor._wrap((xf.data + step).astype(xf.dtype))
    return xf.detach()


def class_model_image(model, target_class, shape, steps=200, lr=1.0, l2_reg=1e-3, init=None):
    """The input that maximises the class score: argmax_I S_c(I) - l2_reg * ||I||^2.

    Gradient ascent from zeros (or ``init``) on one input of ``shape`` (without the batch dim),
    after Simonyan et al. Returns a Tensor of ``shape``.
    """
    img = _input(np.zeros((1,) + tuple(shape), np.float32) if init is None else
                 (init.data if isinstance(init, Tensor) else np.asarray(init)).reshape((1,) + tuple(shape)))
    with _eval_mode(model):
        for _ in range(steps):
            _, g = _score_grad(model, img, target_class)
            img = Tensor._wrap((img.data + lr * (g.data - 2 * l2_reg * img.data)).astype(img.dtype))
    return img.detach().reshape(tuple(shape))


def _resolve_layer(model, layer):
    if isinstance(layer, str):
        return model.get_submodule(layer)
    if not hasattr(layer, "register_forward_hook"):
        raise TypeError(f"layer must be a Module or the name of one, got {type(layer).__name__}")
    return layer


def max_activating(model, layer, data, k=5, unit=None, batch_size=256):
    """The ``k`` examples of ``data`` that most activate each unit of ``layer`` (a Module or its name).

    A unit is a feature of a ``(N, F)`` output or a channel of a ``(N, C, H, W)`` one (its strongest
    response anywhere in the map). Returns ``TopK(values, indices)``, each ``(units, k)``, or ``(k,)``
    for one ``unit``; ``indices`` index into ``data``.
    """
    module = _resolve_layer(model, layer)
    data = data if isinstance(data, Tensor) else Tensor(np.asarray(data))
    if not 1 <= k <= len(data):
        raise ValueError(f"max_activating: k={k} must be between 1 and the {len(data)} examples given")
    captured = []

    def hook(mod, inputs, out):
        a = out.data
        captured.append(a.reshape(a.shape[0], a.shape[1], -1).max(-1) if a.ndim > 2 else a)

    handle = module.register_forward_hook(hook)
    try:
        with _eval_mode(model), no_grad():
            for start in range(0, len(data), batch_size):
                model(data[start:start + batch_size])
    finally:
        handle.remove()
    if not captured:
        raise RuntimeError("max_activating: the layer was never called by the model's forward")
    acts = backend.get_array_module(captured[0]).concatenate(captured).T          # (units, N)
    if unit is not None:
        acts = acts[int(unit)][None]
    order = (-acts).argsort(axis=1, kind="stable")[:, :k]
    values = np.take_along_axis(backend.to_numpy(acts), backend.to_numpy(order), axis=1)
    out = TopK(Tensor(values), Tensor(backend.to_numpy(order).astype(np.int64)))
    return TopK(out.values[0], out.indices[0]) if unit is not None else out
