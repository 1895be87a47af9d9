"""The one dispatch point between NumPy (CPU) and CuPy (GPU).

Every gate asks this module for its array module (``xp``); nothing else in minigrad imports
cupy, and no gate imports numpy for computation.
"""
import math
import sys
import threading

import numpy as np

_cupy = None           # the cupy module once imported successfully
_cupy_error = None     # why it could not be imported, kept for the error message
_cupy_ndarray = ()     # cupy.ndarray once known; an empty tuple never matches isinstance


def _load_cupy():
    """Import cupy once, lazily; remember the failure so the error can explain it."""
    global _cupy, _cupy_error, _cupy_ndarray
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()  # raises when no GPU or driver is present
            _cupy, _cupy_ndarray = cupy, cupy.ndarray
        except Exception as e:  # ImportError, CUDARuntimeError, ...
            _cupy_error = e
    return _cupy


def cuda_is_available():
    """True when cupy imports and sees at least one GPU."""
    return _load_cupy() is not None


def available_devices():
    """The devices this machine can run on: ``["cpu"]`` plus ``"cuda"`` when a GPU is usable."""
    return ["cpu", "cuda"] if cuda_is_available() else ["cpu"]


def normalize_device(device):
    """Map ``None``/``"cpu"``/``"cuda"``/``"cuda:0"`` to ``"cpu"`` or ``"cuda"``; reject anything else."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if _load_cupy() is None:
            raise RuntimeError(
                f"device {name!r} needs CuPy and an NVIDIA GPU, but they are not usable here "
                f"({type(_cupy_error).__name__}: {_cupy_error}). "
                "Install the extra with `pip install minigrad[cuda]` on a machine with a GPU.")
        return "cuda"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def xp_for(device):
    """The array module (numpy or cupy) that computes on ``device``."""
    return np if device == "cpu" else _load_cupy()


def get_array_module(*arrays):
    """numpy or cupy, from the type of the arrays (Chainer's ``get_array_module``)."""
    if _cupy_ndarray:                       # no cupy array can exist before cupy is loaded
        for a in arrays:
            if isinstance(a, _cupy_ndarray):
                return _cupy
    return np


def array_module_of(tensors):
    """numpy or cupy, from the ``.data`` of Tensors (every gate's ``self.xp``: the hot path)."""
    if _cupy_ndarray:
        for t in tensors:
            if isinstance(t.data, _cupy_ndarray):
                return _cupy
    return np


def device_of(array):
    """``"cuda"`` for a cupy array, ``"cpu"`` otherwise."""
    return "cuda" if _cupy_ndarray and isinstance(array, _cupy_ndarray) else "cpu"


def is_array(x):
    """True for numpy and cupy arrays."""
    return isinstance(x, np.ndarray) or bool(_cupy_ndarray) and isinstance(x, _cupy_ndarray)


def to_device(array, device):
    """Copy ``array`` to ``device`` (a no-op when it is there already)."""
    if device == "cpu":
        return array.get() if _cupy_ndarray and isinstance(array, _cupy_ndarray) else array
    return _load_cupy().asarray(array)


def to_numpy(array):
    """A numpy array with the same values (copied from the GPU when needed)."""
    return array.get() if _cupy_ndarray and isinstance(array, _cupy_ndarray) else np.asarray(array)


def copy_into(dst, src):
    """``dst[...] = src`` for two arrays of one shape and dtype, in any layouts.

    NOTE: speed. numpy copies a strided array one innermost row at a time, at about 7 ns a row
    whatever its length, so an im2col of 16-pixel image rows spent most of its time in that loop
    and not moving bytes (1.1 ms for 9 MB that a plain copy moves in 0.3). When both arrays run
    contiguously along their last axis, each row goes over as one item of a void dtype of the
    row's size (a memcpy), and the loop runs over the rows: 1.1 -> 0.47 ms.
    """
    if (type(dst) is np.ndarray and type(src) is np.ndarray and src.ndim >= 2
            and src.shape[-1] > 1 and dst.dtype == src.dtype and not src.dtype.hasobject
            and dst.shape == src.shape
            and src.strides[-1] == src.itemsize and dst.strides[-1] == dst.itemsize
            and not (dst.flags.c_contiguous and src.flags.c_contiguous)):
        row = np.dtype((np.void, src.shape[-1] * src.itemsize))
        dst.view(row)[..., 0] = src.view(row)[..., 0]
    else:
        dst[...] = src


def scatter_add(out, index, values):
    """``out[index] += values`` where repeated indices accumulate (numpy's ``add.at``)."""
    if _cupy_ndarray and isinstance(out, _cupy_ndarray):
        import cupyx
        cupyx.scatter_add(out, index, values)
    else:
        np.add.at(out, index, values)


# ***** work arrays reused across steps *****

class WorkArrayPool:
    """Large work arrays of the fused gates (im2col matrices, outputs, switch masks, routed
    gradients, LSTM states) kept from one step to the next, and handed out again once nothing but this pool
    refers to them.

    NOTE: speed. A fresh multi-MiB array is fresh memory from the system (glibc hands big blocks
    back when they are freed), and first touching it costs a page fault per 4 KiB: on these machines
    that costs more than the arithmetic written into it. A step's arrays die with its graph, so the
    next step finds them free again. Arrays under ``min_bytes`` are left to the allocator.
    """
    min_bytes = 1 << 18

    def __init__(self, keep=64):
        self.keep, self.arrays, self.lock = keep, [], threading.Lock()

    def empty(self, xp, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype``, reused when one is free."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes < self.min_bytes:
            return xp.empty(shape, dtype=dtype)
        # NOTE: the pool keeps raw byte buffers and matches them by size alone, so a buffer that the
        # forward pass used (a conv output, say) serves the backward pass's arrays of the same size:
        # a smaller resident set than one buffer per shape and dtype
        # NOTE: speed. The most recently used free buffer is taken, not the least: it is the likeliest
        # to be in this core's cache. A buffer that OpenBLAS's second thread wrote last (half of any
        # product) is dirty in the other core's cache, and writing it from here stalled: the first
        # copy into such a 2 MiB buffer took 2.4 ms, the same copy right after 0.18 (0.2 with one
        # BLAS thread). convnet -2 to -3% in paired A/B runs (mlp -9% in a slow spell of the VM,
        # no change in a quiet one).
        with self.lock:
            arrays = self.arrays
            for i in range(len(arrays) - 1, -1, -1):
                a = arrays[i]
                # NOTE: references: the list, `a`, getrefcount's argument; any more and a tensor, a
                # gate or a view still holds it
                if a.nbytes == nbytes and type(a) is xp.ndarray and sys.getrefcount(a) == 3:
                    arrays.append(arrays.pop(i))          # most recently used last
                    return a.view(dtype).reshape(shape)
            a = xp.empty(nbytes, dtype=np.uint8)
            self.arrays.append(a)
            if len(self.arrays) > self.keep:
                del self.arrays[0]                         # forgotten here; freed once its users are
            return a.view(dtype).reshape(shape)

    def empty_like(self, xp, a, dtype=None):
        """An uninitialised array shaped like ``a`` and laid out like it (as numpy's ``empty_like``)
        when ``a`` is a transpose of a C-contiguous array, else C-contiguous; reused when one is free."""
        dtype = a.dtype if dtype is None else np.dtype(dtype)
        if a.size * dtype.itemsize < self.min_bytes:
            return xp.empty(a.shape, dtype=dtype)
        if a.ndim < 2 or a.flags.c_contiguous:
            return self.empty(xp, a.shape, dtype)
        order = sorted(range(a.ndim), key=lambda i: -a.strides[i])      # the axes as laid out in memory
        if not a.transpose(order).flags.c_contiguous:
            return self.empty(xp, a.shape, dtype)
        inverse = [0] * a.ndim
        for pos, axis in enumerate(order):
            inverse[axis] = pos
        return self.empty(xp, tuple(a.shape[i] for i in order), dtype).transpose(inverse)


work_arrays = WorkArrayPool()  # shared by the conv, pool and LSTM gates
