"""Babysitting measurements: update/weight ratios and per-layer activation and gradient statistics."""
import numpy as np

from .. import backend
from ..autograd import enable_grad


def update_ratios(before, params):
    """``||p_after - p_before|| / ||p_before||`` for each named parameter (the notes want ~1e-3).

    ``before`` maps names to the arrays copied before the optimiser step; ``params`` maps the same
    names to the (updated) parameters.
    """
    out = {}
    for name, old in before.items():
        new = params[name].data
        xp = backend.get_array_module(new)
        scale, step = float(xp.linalg.norm(old)), float(xp.linalg.norm(new - old))
        out[name] = step / scale if scale > 0 else float("inf") if step > 0 else 0.0
    return out


def _units_dead(a):
    """Fraction of units (features, or channels of a feature map) that are zero for every example."""
    if a.ndim < 2:
        return float((a == 0).all())
    axes = (0,) + tuple(range(2, a.ndim))          # (N, C, ...) -> one verdict per C
    return float((a == 0).all(axis=axes).mean())


def layer_stats(model, x, y=None, loss_fn=None, sample=1000, seed=0):
    """Activation (and, with ``y`` and ``loss_fn``, output-gradient) statistics of every leaf layer.

    Runs ``model(x)`` with forward hooks on each module that has no children and returns
    ``(stats, samples)``: ``stats[name]`` holds ``act_mean``, ``act_std``, ``act_zero_frac`` (the
    fraction of outputs that are exactly zero), ``dead_frac`` (the fraction of units zero for every
    example: dead ReLUs) and, when a loss is given, ``grad_mean`` and ``grad_std`` of dLoss/dOutput;
    ``samples[name]`` is up to ``sample`` of the layer's output values, for histograms. The model's
    parameters' ``.grad`` are left as they were.
    """
    stats, samples, handles, tensors = {}, {}, [], []
    rng = np.random.default_rng(seed)
    leaves = [(n, m) for n, m in model.named_modules() if n and not m._modules]

    def hook_for(name):
        def hook(module, inputs, out):
            if not hasattr(out, "data"):
                return None
            a = backend.to_numpy(out.data)
            if a.dtype.kind != "f":
                return None
            flat = a.reshape(-1)
            pick = flat if flat.size <= sample else flat[rng.choice(flat.size, sample, replace=False)]
            stats[name] = {"act_mean": float(a.mean()), "act_std": float(a.std()),
                           "act_zero_frac": float((a == 0).mean()), "dead_frac": _units_dead(a)}
            samples[name] = pick.astype(float).tolist()
            if out.requires_grad:
                tensors.append((name, out))
            return None
        return hook

    saved = {id(p): p.grad for p in model.parameters()}
    try:
        for name, m in leaves:
            handles.append(m.register_forward_hook(hook_for(name)))
        with enable_grad():
            out = model(x)
            if loss_fn is not None and y is not None and tensors:
                from ..autograd import grad as _grad
                loss = loss_fn(out, y)
                # NOTE: an identity layer (Dropout in eval mode) hands on its input tensor itself;
                # ask for each distinct tensor once (mg.grad with a repeated input fails)
                unique = list({id(t): t for _, t in tensors}.values())
                grads = dict(zip(map(id, unique), _grad(loss, unique, allow_unused=True)))
                for name, t in tensors:
                    g = grads[id(t)]
                    if g is not None:
                        ga = backend.to_numpy(g.data)
                        stats[name].update(grad_mean=float(ga.mean()), grad_std=float(ga.std()))
    finally:
        for h in handles:
            h.remove()
        for p in model.parameters():
            p.grad = saved[id(p)]
    return stats, samples
