"""Gradient clipping, parameter penalties (regularisation) and flattening parameters to a vector."""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor, cat


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their total ``norm_type``-norm is at most ``max_norm``
    (against exploding gradients in RNNs); returns the total norm before clipping, as a Tensor."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    xp = grads[0].xp
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(xp.abs(g.data).max()) if g.data.size else 0.0 for g in grads)
    else:
        total = sum(float((xp.abs(g.data.astype(np.float64)) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}, so they "
                           "cannot be clipped; pass error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g.data = g.data * g.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            p.grad.data = p.grad.xp.clip(p.grad.data, -clip_value, clip_value)


def l2_penalty(parameters, strength=1.0):
    """The notes' L2 regularisation, 0.5 * strength * sum(w^2) over ``parameters`` (differentiable:
    its gradient is strength * w, the same as the optimisers' ``weight_decay=strength``).

    Biases are usually left out: ``l2_penalty(p for n, p in model.named_parameters() if "weight" in n)``.
    """
    params = _params(parameters)
    if not params:
        raise ValueError("l2_penalty: got no parameters")
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    return total * (0.5 * strength)


def l1_penalty(parameters, strength=1.0):
    """L1 regularisation, strength * sum(|w|) over ``parameters`` (differentiable; drives weights to
    exactly zero, the notes' sparse solutions)."""
    params = _params(parameters)
    if not params:
        raise ValueError("l1_penalty: got no parameters")
    total = None
    for p in params:
        term = p.abs().sum()
        total = term if total is None else total + term
    return total * strength


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, unrecorded)."""
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements, got shape {vec.shape}")
    start = 0
    for p in params:
        n = p.numel()
        p._write(backend.to_device(vec.data[start:start + n], p.device).reshape(p.shape).astype(p.dtype))
        start += n
