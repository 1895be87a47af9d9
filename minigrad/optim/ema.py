"""An exponential moving average of parameters: the notes' "running average of parameters".

"Maintain a second copy of the network's weights in memory that maintains an exponentially
decaying sum of previous weights during training ... this smoothed version of the weights almost
always achieves better validation error." Train as usual, call ``ema.update()`` after each
``optimizer.step()``, and evaluate inside ``with ema.average_parameters():``.
"""
import contextlib

from .. import backend
from ..tensor import Tensor


def _parameter_list(parameters):
    """A list of Tensors from an iterable of Tensors or a Module (anything with ``parameters()``)."""
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"ExponentialMovingAverage: parameter {i} is a {type(p).__name__}, not a Tensor")
    return params


class ExponentialMovingAverage:
    """Shadow copies ``s`` of ``parameters`` updated by ``s -= (1 - decay) * (s - x)`` on each ``update()``.

    That is ``s = decay * s + (1 - decay) * x``: an average over roughly the last ``1 / (1 - decay)``
    updates. With ``use_num_updates`` (the default, as in the ``torch_ema`` package) the decay used
    at update n is ``min(decay, (1 + n) / (10 + n))``, so early averages are not dominated by the
    initial weights. ``parameters`` may be an iterable of Tensors or a Module; only those parameters
    are averaged (a model's buffers, e.g. BatchNorm running statistics, are left alone).
    """

    def __init__(self, parameters, decay=0.999, use_num_updates=True):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"ExponentialMovingAverage: decay must be in [0, 1], got {decay}")
        self.parameters = _parameter_list(parameters)
        self.decay = decay
        self.num_updates = 0 if use_num_updates else None
        self.shadow_params = [Tensor._wrap(p.data.copy(order="K")) for p in self.parameters]
        self.collected_params = None

    def _check(self, parameters, what):
        params = self.parameters if parameters is None else _parameter_list(parameters)
        if len(params) != len(self.shadow_params):
            raise ValueError(f"ExponentialMovingAverage.{what}: got {len(params)} parameters, the average "
                             f"holds {len(self.shadow_params)}")
        for i, (p, s) in enumerate(zip(params, self.shadow_params)):
            if p.shape != s.shape:
                raise ValueError(f"ExponentialMovingAverage.{what}: parameter {i} has shape {p.shape}, its "
                                 f"average has shape {s.shape}")
        return params

    def update(self, parameters=None):
        """Fold the current parameter values into the averages (call after each ``optimizer.step()``)."""
        params = self._check(parameters, "update")
        decay = self.decay
        if self.num_updates is not None:
            self.num_updates += 1
            decay = min(decay, (1 + self.num_updates) / (10 + self.num_updates))
        for p, s in zip(params, self.shadow_params):
            s.data -= (1.0 - decay) * (s.data - p.data.astype(s.dtype, copy=False))

    def copy_to(self, parameters=None):
        """Write the averages into the parameters (in place), e.g. before the final evaluation or saving."""
        for p, s in zip(self._check(parameters, "copy_to"), self.shadow_params):
            p._write(s.data)

    def store(self, parameters=None):
        """Remember the parameters' current values, for ``restore()``."""
        self.collected_params = [Tensor._wrap(p.data.copy(order="K")) for p in self._check(parameters, "store")]

    def restore(self, parameters=None):
        """Put back the values saved by ``store()``."""
        if self.collected_params is None:
            raise RuntimeError("ExponentialMovingAverage.restore: nothing stored; call store() first")
        for p, c in zip(self._check(parameters, "restore"), self.collected_params):
            p._write(c.data)

    @contextlib.contextmanager
    def average_parameters(self, parameters=None):
        """Within the block the parameters hold the averages; their own values come back on exit."""
        self.store(parameters)
        self.copy_to(parameters)
        try:
            yield
        finally:
            self.restore(parameters)

    def to(self, device=None, dtype=None):
        """Move (and/or cast) the averages, e.g. after moving the model."""
        for t in self.shadow_params + (self.collected_params or []):
            arr = t.data if device is None else backend.to_device(t.data, backend.normalize_device(device))
            t.data = arr if dtype is None else arr.astype(dtype)
        return self

    def state_dict(self):
        """The decay, the update count and the averages (Tensors), for ``mg.save``."""
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow_params": list(self.shadow_params), "collected_params": self.collected_params}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``; the averages must match the parameters in number and shape."""
        shadow = list(state_dict["shadow_params"])
        if len(shadow) != len(self.parameters):
            raise ValueError(f"ExponentialMovingAverage.load_state_dict: the state dict has {len(shadow)} "
                             f"averages, the model has {len(self.parameters)} parameters")

        def fit(values, what):
            out = []
            for i, (v, p) in enumerate(zip(values, self.parameters)):
                arr = v.data if isinstance(v, Tensor) else v
                if tuple(arr.shape) != p.shape:
                    raise ValueError(f"ExponentialMovingAverage.load_state_dict: {what}[{i}] has shape "
                                     f"{tuple(arr.shape)}, the parameter has shape {p.shape}")
                out.append(Tensor._wrap(backend.to_device(arr, p.device).astype(p.dtype, copy=True)))
            return out

        collected = state_dict.get("collected_params")
        self.shadow_params = fit(shadow, "shadow_params")
        self.collected_params = None if collected is None else fit(collected, "collected_params")
        self.decay = state_dict["decay"]
        self.num_updates = state_dict["num_updates"]
