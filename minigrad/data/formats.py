"""Readers for the standard image-classification files, from a local folder the user names.

MNIST ships as IDX files (a big-endian header giving the element type and the dimensions, then the
raw values); CIFAR-10's binary version as records of 1 label byte + 3072 pixel bytes (the red, green
and blue 32x32 planes, row-major). Both are parsed with ``numpy.frombuffer``: no pickle, nothing is
downloaded. A missing or truncated file is an error naming the file and what was expected.
"""
import gzip
import os

import numpy as np

# IDX element types: code -> big-endian numpy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open(path):
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def _find(root, names, expected):
    """The first of ``names`` (or its .gz) that exists under ``root``; else a FileNotFoundError."""
    for name in names:
        for candidate in (name, name + ".gz"):
            path = os.path.join(root, candidate)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(f"{os.path.join(root, names[0])} not found (also tried {names[1:]} and .gz): "
                            f"expected {expected}")


def read_idx(path, ndim=None):
    """Read one IDX file (optionally gzipped) into a numpy array of its stored type and shape.

    ``ndim``, when given, is the number of dimensions the file must have.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: expected an IDX file")
    with _open(path) as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, but an IDX file starts with a 4-byte magic number")
    zero, code, dims = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or code not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: magic number 0x{raw[:4].hex()}, expected 0x0000TTNN "
                         f"with type TT in {[hex(c) for c in _IDX_TYPES]}")
    if ndim is not None and dims != ndim:
        raise ValueError(f"{path}: expected an IDX file with {ndim} dimension(s), the header says {dims}")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: the header needs {header} bytes for {dims} dimension(s), "
                         f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=dims, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - header
    if have != need:
        state = "truncated" if have < need else "longer than its header says"
        raise ValueError(f"{path} is {state}: the header says shape {shape} of {dtype.name}, which is "
                         f"{need} bytes of data, but the file has {have}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


_MNIST_FILES = {True: ("train-images-idx3-ubyte", "train-images.idx3-ubyte",
                       "train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
                False: ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte",
                        "t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte")}


def load_mnist(root, train=True):
    """MNIST (or Fashion-MNIST, same format) from the IDX files in the folder ``root``.

    Returns ``(images, labels)``: uint8 of shape (N, 28, 28) and int64 of shape (N,).
    """
    img_a, img_b, lab_a, lab_b = _MNIST_FILES[bool(train)]
    img_path = _find(root, [img_a, img_b], "the MNIST images as an IDX file of uint8 with 3 dimensions")
    lab_path = _find(root, [lab_a, lab_b], "the MNIST labels as an IDX file of uint8 with 1 dimension")
    images, labels = read_idx(img_path, ndim=3), read_idx(lab_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"{img_path} holds {len(images)} images but {lab_path} holds {len(labels)} labels")
    return images, labels.astype(np.int64)


_CIFAR_RECORD = 1 + 3 * 32 * 32


def read_cifar10_batch(path):
    """One CIFAR-10 binary batch file: ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: expected a CIFAR-10 binary batch "
                                f"(records of {_CIFAR_RECORD} bytes: 1 label + 3072 pixels)")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) == 0 or len(raw) % _CIFAR_RECORD:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes is not a whole number of CIFAR-10 records "
                         f"of {_CIFAR_RECORD} bytes (1 label + 3072 pixels)")
    records = np.frombuffer(raw, np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(f"{path}: record {bad} has label {labels[bad]}, CIFAR-10 labels are 0..9")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def load_cifar10(root, train=True):
    """CIFAR-10 from its binary batches in ``root`` (or ``root/cifar-10-batches-bin``).

    ``train=True`` reads data_batch_1.bin .. data_batch_5.bin, ``train=False`` test_batch.bin.
    Returns ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.
    """
    sub = os.path.join(root, "cifar-10-batches-bin")
    if os.path.isdir(sub):
        root = sub
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
    parts = [read_cifar10_batch(os.path.join(root, name)) for name in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
