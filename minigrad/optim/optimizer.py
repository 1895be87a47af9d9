"""The Optimizer base: parameter groups, zero_grad, step, and PyTorch-shaped state dicts."""
import copy
import warnings
from collections import defaultdict

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor


# NOTE: speed. An update such as ``x -= lr * g`` on a multi-MiB parameter writes its temporary
# ``lr * g`` out to memory and reads it back; in pieces each temporary stays in the caches (L2 or
# L3). Each piece costs a few Python-level ufunc calls, which run cold right after the backward's
# GEMMs, so the pieces are 1 MiB, not the L2-sized 256 KiB first used. Paired in-process on the mlp
# train step (3072 x 512 weight), 1 MiB pieces took 0.973, 0.983 and 0.991 of 256 KiB's time, and
# there 256 KiB pieces were no faster than the whole array (README, Performance, thirteenth round).
# Each piece runs the same arithmetic, in the same order, so the result is bit for bit the same.
_PIECE_BYTES = 1 << 20


def in_pieces(update, *arrays):
    """Run ``update(*arrays)`` (elementwise, in place) on cache-sized pieces of the arrays in turn.

    The arrays must have one shape; they are split only when all are NumPy arrays laid out alike
    (all C- or all column-major contiguous); otherwise ``update`` runs once on the whole arrays.
    """
    first = arrays[0]
    piece = _PIECE_BYTES // max(first.itemsize, 1)
    if first.size < 2 * piece or not all(type(a) is np.ndarray and a.shape == first.shape for a in arrays):
        return update(*arrays)
    if all(a.flags.c_contiguous for a in arrays):
        flat = [a.reshape(-1) for a in arrays]
    elif all(a.flags.f_contiguous for a in arrays):
        flat = [a.reshape(-1, order="F") for a in arrays]
    else:
        return update(*arrays)
    for start in range(0, first.size, piece):
        update(*[a[start:start + piece] for a in flat])


def _laid_out_like(g, like):
    """The gradient ``g`` in the memory layout of the parameter ``like`` (C- or column-major): a
    copy only when the two differ and in_pieces would split them. One copy costs far less than
    numpy's pass over arrays laid out differently (14.6 against 1.3 ms for SGD on 3072 x 512)."""
    if type(g) is not np.ndarray or g.size < 2 * (_PIECE_BYTES // max(g.itemsize, 1)):
        return g
    flags, g_flags = like.flags, g.flags
    if flags.f_contiguous and not flags.c_contiguous and not g_flags.f_contiguous:
        return np.asfortranarray(g)
    if flags.c_contiguous and not flags.f_contiguous and not g_flags.c_contiguous:
        return np.ascontiguousarray(g)
    return g


class Optimizer:
    """Base class of the optimisers: holds parameter groups and per-parameter state.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs (``model.named_parameters()``),
    or of dicts, each a parameter group with its own hyper-parameters (``{"params": [...], "lr": 1e-4}``);
    a group's missing keys take the optimiser's defaults. Subclasses define ``_update(p, g, group)``,
    which changes ``p.data`` in place from the gradient array ``g``.
    """

    def __init__(self, params, defaults):
        if not hasattr(self, "_update") and type(self).step is Optimizer.step:
            raise TypeError(f"{type(self).__name__} must define _update(p, g, group) (or its own step())")
        self._check_hyperparameters(defaults, where="")
        self.defaults = defaults
        self.state = defaultdict(dict)      # Tensor -> dict (a Tensor hashes by identity)
        self.param_groups = []
        self._step_count = 0
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got a set (its order changes between runs, so state dicts "
                            "would not line up); use a list")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ***** hyper-parameters *****

    def _check_hyperparameters(self, group, where):
        """Raise ValueError for an invalid hyper-parameter; subclasses extend it."""
        lr = group.get("lr", 0.0)
        if lr < 0.0:
            raise ValueError(f"{type(self).__name__}{where}: invalid learning rate lr={lr} (must be >= 0)")
        if group.get("weight_decay", 0.0) < 0.0:
            raise ValueError(f"{type(self).__name__}{where}: invalid weight_decay={group['weight_decay']} "
                             "(must be >= 0)")

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (e.g. unfrozen layers when fine-tuning)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a param group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs; use a list")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names; some param names are missing")
            group["param_names"] = names
        index = len(self.param_groups)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but param {i} of group {index} "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (param {i} of group {index}, "
                                 f"made by {p.grad_fn.label}); optimise the leaf it was computed from")
            if p.dtype.kind not in "fc":
                raise TypeError(f"can't optimize a tensor of dtype {p.dtype} (param {i} of group {index}); "
                                "parameters must be floating point")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_hyperparameters(group, where=f" (param group {index})")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"param group {index} contains a parameter more than once; it would be updated "
                          "twice per step", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if any(("param_names" in g) != ("param_names" in group) for g in self.param_groups):
            raise ValueError("all optimizer param groups should be with/without names")
        self.param_groups.append(group)

    # ***** the update *****

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to None (the default, frees memory) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:      # a create_graph gradient: cut it from its graph
                        p.grad = p.grad.detach()
                    if getattr(p.grad.data.flags, "writeable", True):
                        p.grad.data[...] = 0            # in place: the same array, as PyTorch's zero_()
                    else:
                        p.grad.data = p.grad.xp.zeros_like(p.grad.data)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given one.

        ``closure`` re-evaluates the model and returns the loss (it runs with grad enabled). The update
        changes each parameter's array in place, under ``no_grad``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                for pi, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue
                    g = p.grad.data
                    if g.shape != p.shape:
                        raise ValueError(f"{type(self).__name__}.step: param {pi} of group {gi} has shape "
                                         f"{p.shape} but its .grad has shape {g.shape}")
                    if not getattr(p.data.flags, "writeable", True):   # e.g. a broadcast view
                        p.data = p.data.copy(order="K")
                    self._update(p, _laid_out_like(g, p.data), group)
                    p._count_write()   # the value changed: graphs that saved it must not backprop through it
        self._step_count += 1
        return loss

    @staticmethod
    def _zeros_like(p, fill=0.0):
        """A state buffer: a Tensor of p's shape, dtype, device and memory layout, filled with
        ``fill`` (in p's layout, the update runs in cache-sized pieces: see in_pieces)."""
        return Tensor._wrap(p.xp.full_like(p.data, fill))

    # ***** state dicts *****

    def state_dict(self):
        """The optimiser's state in PyTorch's layout.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index, ...]}]}``, where
        parameters are numbered 0, 1, ... across all groups in order. The state's Tensors are the
        live buffers (as in PyTorch); ``mg.save`` writes them out.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()`` (from this or an identically built optimiser), copying its values.

        State buffers are cast to each parameter's dtype and device. Groups must match in number and
        size, and every buffer in shape; a mismatch is an error naming the group or parameter.
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"optimizer state_dict has no {key!r} entry (keys: {sorted(map(str, state_dict))})")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, the optimizer "
                             f"has {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has {len(saved['params'])} "
                                 f"parameters, the optimizer's has {len(group['params'])}")
        id_map = {}
        for group, saved in zip(self.param_groups, saved_groups):
            id_map.update(zip(saved["params"], group["params"]))
        state = defaultdict(dict)
        for k, values in state_dict["state"].items():
            if k not in id_map:
                raise KeyError(f"loaded state dict has state for parameter {k!r}, which no parameter "
                               f"group lists (groups list {sorted(id_map)})")
            p = id_map[k]
            state[p] = {name: self._cast_state(p, k, name, v) for name, v in values.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        for i, group in enumerate(saved_groups):
            self._check_hyperparameters(group, where=f" (loaded param group {i})")
        self.state = state
        self.param_groups = saved_groups

    @staticmethod
    def _cast_state(p, index, name, value):
        """A copy of one state value, as an array of p's dtype and device when it is a buffer."""
        if name == "step":          # a count; PyTorch keeps it as a float tensor, minigrad as an int
            return int(value.item() if hasattr(value, "item") else value)
        if isinstance(value, Tensor) or backend.is_array(value):
            arr = value.data if isinstance(value, Tensor) else value
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"state {name!r} of parameter {index} has shape {tuple(arr.shape)}, but the "
                                 f"parameter has shape {tuple(p.shape)}")
            buffer = p.xp.empty_like(p.data)               # p's layout (see _zeros_like)
            buffer[...] = backend.to_device(arr, p.device)
            return Tensor._wrap(buffer)
        return copy.deepcopy(value)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])
