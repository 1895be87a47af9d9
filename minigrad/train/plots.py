"""Plots saved as PNG: loss, accuracies, update ratios, activation histograms, filters, decision
boundaries. matplotlib is imported lazily (``pip install minigrad[plot]``), with the Agg backend,
so plotting works on a machine without a display."""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install minigrad[plot]") from None
    return plt


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _plt().close(fig)
    return path


def plot_history(history, path):
    """Loss per iteration (with a smoothed curve, log scale) beside train/val accuracy per epoch."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    loss = np.asarray(history.loss, dtype=float)
    if loss.size:
        per_epoch = history.epoch_end_iter[0] if history.epoch_end_iter else len(loss)
        x = np.arange(1, loss.size + 1) / max(per_epoch, 1)
        ax1.plot(x, loss, alpha=0.35, lw=0.8, label="batch loss")
        k = max(1, loss.size // 50)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax1.plot(x[k - 1:], smooth, lw=1.8, label=f"mean of {k}")
        ax1.set_yscale("log")
        ax1.legend()
    ax1.set(xlabel="epoch", ylabel="loss", title="Loss")
    epochs = np.arange(1, len(history.train_acc) + 1)
    ax2.plot(epochs, history.train_acc, "o-", label="train")
    if any(not math.isnan(v) for v in history.val_loss):
        ax2.plot(epochs, history.val_acc, "s-", label="val")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="Train / val accuracy")
    ax2.legend()
    return _save(fig, path)


def plot_update_ratios(history, path):
    """log10 of each parameter's update/weight ratio over iterations, with the notes' 1e-3 target."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, ratios in history.update_ratios.items():
        r = np.asarray(ratios, dtype=float)
        ax.plot(history.ratio_iters[:len(r)], np.log10(np.maximum(r, 1e-12)), lw=1, label=name)
    ax.axhline(-3, color="k", ls="--", lw=1, label="1e-3")
    ax.set(xlabel="iteration", ylabel="log10(update / weight)", title="Update / weight ratio")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def plot_activation_histograms(samples, path, stats=None):
    """One histogram per layer of its output values (``history.activation_samples``)."""
    plt = _plt()
    names = [n for n in samples if samples[n]]
    if not names:
        raise ValueError("plot_activation_histograms: no activation samples to plot")
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        v = np.asarray(samples[name], dtype=float)
        # NOTE: one stairs artist instead of hist's 40 bar patches: a dozen panels draw ~5x faster
        counts, edges = np.histogram(v, bins=40)
        ax.stairs(counts, edges, fill=True, color="C0")
        title = name
        if stats and name in stats:
            s = stats[name]
            title += f"\nmean {s['act_mean']:.2f} std {s['act_std']:.2f} dead {s['dead_frac']:.0%}"
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    return _save(fig, path)


def _grid(w, pad=1):
    """(F, C, H, W) filters -> one image: a grid of tiles, each scaled to [0, 1] on its own."""
    F, C, H, W = w.shape
    lo = w.min(axis=(1, 2, 3), keepdims=True)
    hi = w.max(axis=(1, 2, 3), keepdims=True)
    w = (w - lo) / np.where(hi > lo, hi - lo, 1)
    cols = int(math.ceil(math.sqrt(F)))
    rows = -(-F // cols)
    tiles = np.ones((rows * cols, C, H + pad, W + pad))
    tiles[:F, :, :H, :W] = w
    grid = tiles.reshape(rows, cols, C, H + pad, W + pad).transpose(0, 3, 1, 4, 2)   # (rows, H, cols, W, C)
    grid = grid.reshape(rows * (H + pad), cols * (W + pad), C)
    return grid[..., 0] if C == 1 else grid[..., :3]


def plot_filters(weight, path, title="First-layer filters"):
    """The filters of a conv layer (F, C, kH, kW) as a grid of small images (the notes' first-layer view)."""
    plt = _plt()
    w = backend.to_numpy(weight.data if isinstance(weight, Tensor) else np.asarray(weight)).astype(float)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expected conv weights of shape (F, C, kH, kW), got {w.shape}")
    grid = _grid(w)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    return _save(fig, path)


def plot_decision_boundary(predict, X, y, path, title=""):
    """Class regions of ``predict`` (an (M, 2) array -> (M,) labels) over 2-D data, with the points."""
    plt = _plt()
    X, y = np.asarray(X), np.asarray(y)
    h = 0.02
    x0, x1 = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
    y0, y1 = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
    xx, yy = np.meshgrid(np.arange(x0, x1, h), np.arange(y0, y1, h))
    Z = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(xx, yy, Z, cmap="Spectral", alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap="Spectral", edgecolors="k", linewidths=0.3)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=title)
    return _save(fig, path)
