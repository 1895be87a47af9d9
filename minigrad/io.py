"""``mg.save`` / ``mg.load``: state dicts in a portable ``.npz`` archive, with no pickle.

An archive holds one array per Tensor or array (``a0.npy``, ``a1.npy``, ...) and a JSON header
(``__minigrad__.npy``, UTF-8 bytes) that records the structure around them: dicts (with their key
types, so an optimiser's integer keys come back as ints), lists, tuples, numbers, strings, None.
Loading never unpickles (``numpy.load(allow_pickle=False)``), so a file cannot run code, and any
NumPy program can read the arrays back.
"""
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .tensor import Tensor

_HEADER = "__minigrad__"
_FORMAT = "minigrad-state"
_VERSION = 1


# ***** encoding *****

def _encode(obj, path, arrays, memo):
    """The JSON node for ``obj``; arrays go to ``arrays`` under fresh names (``path`` is for errors)."""
    if obj is None or isinstance(obj, (bool, int, float, str)) and not isinstance(obj, np.generic):
        return obj
    if isinstance(obj, Tensor):
        if id(obj) not in memo:           # a Tensor stored twice comes back as one Tensor
            memo[id(obj)] = _add_array(obj.data, path, arrays)
        return {"type": "tensor", "array": memo[id(obj)], "requires_grad": bool(obj.requires_grad),
                "device": obj.device}
    if backend.is_array(obj):
        return {"type": "ndarray", "array": _add_array(obj, path, arrays), "device": backend.device_of(obj)}
    if isinstance(obj, np.generic):
        return {"type": "scalar", "array": _add_array(np.asarray(obj), path, arrays)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (bool, int, float, str))) or isinstance(k, np.generic):
                raise TypeError(f"mg.save: the dict at {path or 'the top level'} has a key {k!r} of type "
                                f"{type(k).__name__}; keys must be str, int, float, bool or None")
            items.append([k, _encode(v, f"{path}/{k}", arrays, memo)])
        return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
    if isinstance(obj, list):
        return [_encode(v, f"{path}/{i}", arrays, memo) for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"type": "tuple", "items": [_encode(v, f"{path}/{i}", arrays, memo) for i, v in enumerate(obj)]}
    hint = " (save its .state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"mg.save: can't save {path or 'the object'} of type {type(obj).__name__}{hint}; "
                    "it stores Tensors, arrays, numbers, strings, None, and dicts/lists/tuples of them")


def _add_array(arr, path, arrays):
    arr = backend.to_numpy(arr)
    if arr.dtype.hasobject:
        raise TypeError(f"mg.save: the array at {path or 'the top level'} has dtype object, which can't be "
                        "stored without pickle")
    name = f"a{len(arrays)}"
    arrays[name] = arr
    return name


def save(obj, f):
    """Save a state dict (nested dicts/lists/tuples of Tensors, arrays, numbers, strings) to ``f``.

    ``f`` is a path (written as given, no suffix added; the file is replaced atomically) or a
    binary file object. The format is a NumPy ``.npz`` archive with a JSON header and no pickle.
    Example: ``mg.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.npz")``.
    """
    arrays, memo = {}, {}
    tree = _encode(obj, "", arrays, memo)
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"mg.save: can't write {path!r}: the folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ***** decoding *****

def _decode(node, arrays, name, device, cache):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, name, device, cache) for v in node]
    kind = node.get("type")
    if kind in ("dict", "odict"):
        pairs = ((k, _decode(v, arrays, name, device, cache)) for k, v in node["items"])
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind == "tuple":
        return tuple(_decode(v, arrays, name, device, cache) for v in node["items"])
    if kind not in ("tensor", "ndarray", "scalar"):
        raise ValueError(f"mg.load: {name} has an unknown node type {kind!r} in its header")
    key = node["array"]
    if key not in arrays:
        raise ValueError(f"mg.load: {name} is damaged: its header refers to array {key!r}, which it does not hold")
    arr = arrays[key]
    if kind == "scalar":
        return arr[()]
    target = backend.normalize_device(device if device is not None else node.get("device", "cpu"))
    if kind == "ndarray":
        return backend.to_device(arr.copy(), target)
    if key not in cache:
        t = Tensor._wrap(backend.to_device(arr, target))
        t.requires_grad = bool(node.get("requires_grad", False))
        cache[key] = t
    return cache[key]


def load(f, map_location=None):
    """Load what ``save`` wrote. Tensors come back on the device they were saved from, or on
    ``map_location`` (``"cpu"`` or ``"cuda"``) when given. Never unpickles anything."""
    name = repr(os.fspath(f)) if not hasattr(f, "read") else f"the file object {f!r}"
    if not hasattr(f, "read") and not os.path.exists(f):
        raise FileNotFoundError(f"mg.load: no such file: {name}")
    unreadable = (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError)
    try:
        archive = np.load(f, allow_pickle=False)
    except unreadable as e:
        raise ValueError(f"mg.load: {name} is not a readable minigrad archive "
                         f"({type(e).__name__}: {e})") from e
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"mg.load: {name} holds a single NumPy array, not an archive written by mg.save")
    try:
        arrays = {k: archive[k] for k in archive.files}
    except unreadable as e:
        raise ValueError(f"mg.load: {name} is damaged: an array in it can't be read "
                         f"({type(e).__name__}: {e})") from e
    finally:
        archive.close()
    if _HEADER not in arrays:
        raise ValueError(f"mg.load: {name} is a NumPy archive but was not written by mg.save "
                         f"(no {_HEADER!r} header)")
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"mg.load: {name} has a damaged header ({e})") from e
    if header.get("format") != _FORMAT or header.get("version", _VERSION + 1) > _VERSION:
        raise ValueError(f"mg.load: {name} has format {header.get('format')!r} version {header.get('version')!r}; "
                         f"this minigrad reads {_FORMAT!r} up to version {_VERSION}")
    return _decode(header["tree"], arrays, name, map_location, {})
