"""Train/validation splits and preprocessing whose statistics come from the training split only.

The notes' "common pitfall": the mean (and scale) must be computed on the training data and then
applied unchanged to validation and test data, never computed over the whole data set before
splitting. ``Normalizer`` makes that the only way to use it: ``fit`` on train, ``transform`` the rest.
"""
import numpy as np

from ..tensor import Tensor


def _as_array(x, what):
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{what}: expected a numpy array or a Tensor, got {type(x).__name__}")


def _like(result, x):
    return Tensor(result.astype(x.dtype, copy=False)) if isinstance(x, Tensor) else result


def train_val_split(*arrays, val_size=0.2, seed=None, shuffle=True):
    """Split equally long arrays (or Tensors) into train and validation parts.

    Returns ``train_0, val_0, train_1, val_1, ...`` (sklearn's ``train_test_split`` order).
    ``val_size`` is a fraction in (0, 1) or a count of examples.
    """
    if not arrays:
        raise ValueError("train_val_split needs at least one array")
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if len(a) != n:
            raise ValueError(f"train_val_split: array {i} has {len(a)} examples, array 0 has {n}")
    n_val = int(np.ceil(val_size * n)) if 0 < val_size < 1 else int(val_size)   # sklearn rounds up too
    if not 0 < n_val < n:
        raise ValueError(f"train_val_split: val_size={val_size!r} leaves {n_val} of {n} examples for "
                         "validation; both parts must be non-empty")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    train_idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])
    out = []
    for a in arrays:
        out += [a[train_idx], a[val_idx]]
    return tuple(out)


class Normalizer:
    """Zero-centre (and optionally scale to unit std) with statistics fitted on training data.

    ``axis`` names the dimensions the statistics are taken over: 0 (the default) gives one mean per
    feature, ``(0, 2, 3)`` one per channel of an ``(N, C, H, W)`` batch, ``None`` a single mean.
    ``Normalizer(with_std=False)`` is plain mean subtraction.
    """

    def __init__(self, axis=0, with_std=True, eps=1e-8):
        self.axis = axis
        self.with_std = with_std
        self.eps = eps
        self.mean = self.std = None

    def fit(self, x):
        """Compute the mean (and std) of the training data ``x``; returns self."""
        x = _as_array(x, "Normalizer.fit").astype(np.float64)
        self.mean = x.mean(axis=self.axis, keepdims=True)
        # the scale is std + eps (eps keeps a constant feature finite); 1 for plain mean subtraction
        self.std = x.std(axis=self.axis, keepdims=True) if self.with_std else None
        self._scale = self.std + self.eps if self.with_std else 1.0
        self._ndim = x.ndim
        return self

    def _check(self, x, what):
        if self.mean is None:
            raise RuntimeError(f"Normalizer.{what}: call fit(train_data) first")
        a = _as_array(x, f"Normalizer.{what}")
        try:
            np.broadcast_shapes(a.shape, self.mean.shape)
        except ValueError:
            raise ValueError(f"Normalizer.{what}: data of shape {a.shape} does not match the statistics "
                             f"of shape {self.mean.shape} fitted on the training data") from None
        if a.ndim != self._ndim:
            raise ValueError(f"Normalizer.{what}: data has {a.ndim} dims, the training data had {self._ndim}")
        return a

    def transform(self, x):
        """Apply the training statistics: ``(x - mean) / (std + eps)``."""
        a = self._check(x, "transform")
        out_dtype = a.dtype if a.dtype.kind == "f" else np.float32
        return _like(((a - self.mean) / self._scale).astype(out_dtype), x)

    def inverse_transform(self, x):
        """Undo ``transform``."""
        a = self._check(x, "inverse_transform")
        return _like((a * self._scale + self.mean).astype(a.dtype), x)

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def state_dict(self):
        """The fitted statistics, to save beside a model."""
        return {"mean": self.mean, "std": self.std}

    def load_state_dict(self, state):
        """Restore statistics saved by ``state_dict``."""
        self.mean = np.asarray(state["mean"])
        self.std = None if state.get("std") is None else np.asarray(state["std"])
        self.with_std = self.std is not None
        self._scale = self.std + self.eps if self.with_std else 1.0
        self._ndim = self.mean.ndim
        return self


def standardize(train, *others, axis=0, with_std=True):
    """Fit a ``Normalizer`` on ``train`` and apply it to ``train`` and every array in ``others``.

    Returns ``(train_n, *others_n, normalizer)``.
    """
    norm = Normalizer(axis=axis, with_std=with_std)
    return (norm.fit_transform(train), *(norm.transform(o) for o in others), norm)
