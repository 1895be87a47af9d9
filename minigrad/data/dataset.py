"""Dataset, TensorDataset, Subset, random_split and DataLoader, with PyTorch's names and semantics."""
import math

import numpy as np

from ..tensor import Tensor, _generator


def _rng(generator, seed):
    """The random generator to draw from: an explicit one, a fresh one from a seed, or minigrad's
    global generator (so that ``mg.manual_seed`` makes shuffling reproducible)."""
    if generator is not None and seed is not None:
        raise ValueError("give either a generator or a seed, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        return generator
    return np.random.default_rng(seed) if seed is not None else None


class Dataset:
    """A map-style data set: ``len(ds)`` examples, ``ds[i]`` one of them.

    Subclasses may also define ``__getitems__(indices)`` returning a whole batch at once, which
    ``DataLoader`` then uses instead of stacking single examples.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Examples are slices along the first dimension of equally long Tensors (or arrays)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for i, t in enumerate(tensors):
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError("TensorDataset: every tensor needs the same first dimension; got shapes "
                                 + ", ".join(f"{k}: {tuple(u.shape)}" for k, u in enumerate(tensors)))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices):
        indices = np.asarray(indices, dtype=np.int64)
        return tuple(t[indices] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        if self.indices.size and (self.indices.min() < -len(dataset) or self.indices.max() >= len(dataset)):
            raise IndexError(f"Subset: indices out of range for a data set of {len(dataset)} examples")

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        return _fetch(self.dataset, self.indices[np.asarray(indices, dtype=np.int64)])

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None, seed=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (remainders go
    round-robin to the first splits, as PyTorch does).
    """
    n = len(dataset)
    lengths = list(lengths)
    if all(0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) != n:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(k) != k or k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative counts summing to the "
                         f"data set's length {n} (or fractions summing to 1)")
    rng = _rng(generator, seed) or _generator()
    perm = rng.permutation(n)
    bounds = np.cumsum([0] + [int(k) for k in lengths])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _fetch(dataset, indices):
    """One batch: the data set's own batched fetch, or its single examples stacked."""
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return getitems(indices)
    # NOTE: a generic data set only offers single examples; stacking them is the fallback
    # (TensorDataset and Subset take the vectorised path above).
    items = [dataset[int(i)] for i in indices]
    return _collate(items)


def _collate(items):
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate([it[k] for it in items]) for k in range(len(first)))
    if isinstance(first, Tensor):
        return Tensor(np.stack([it.numpy() for it in items]))
    return Tensor(np.stack([np.asarray(it) for it in items]))


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    ``shuffle`` draws a new order every epoch from ``generator`` (a ``numpy.random.Generator``), or
    from a generator seeded with ``seed``, or else from minigrad's global generator (seeded by
    ``mg.manual_seed``). ``drop_last`` drops a final batch smaller than ``batch_size``.
    ``state_dict()`` holds the shuffling state, so a resumed run draws the same orders.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, seed=None):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = _rng(generator, seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return (self.generator or _generator()).permutation(n)

    def __iter__(self):
        order = self._order()
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            yield _fetch(self.dataset, order[start:start + self.batch_size])

    def state_dict(self):
        """The shuffling generator's state (empty when it is minigrad's global generator)."""
        return {} if self.generator is None else {"generator": self.generator.bit_generator.state}

    def load_state_dict(self, state):
        """Restore the shuffling state saved by ``state_dict``."""
        if "generator" in state:
            if self.generator is None:
                raise ValueError("DataLoader.load_state_dict: the state has a generator but this loader "
                                 "uses minigrad's global one; build the loader with seed= or generator=")
            self.generator.bit_generator.state = state["generator"]
