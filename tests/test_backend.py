"""The one numpy/cupy dispatch point, and tensors on every available device."""
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import backend

PACKAGE = pathlib.Path(mg.__file__).parent


def test_available_devices_always_include_cpu():
    devices = mg.available_devices()
    assert devices[0] == "cpu"
    assert ("cuda" in devices) == mg.cuda_is_available()


def test_normalize_device():
    assert backend.normalize_device(None) == "cpu" and backend.normalize_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="'gpu'"):
        backend.normalize_device("gpu")
    if mg.cuda_is_available():
        assert backend.normalize_device("cuda:0") == "cuda"


def test_array_module_dispatch(device):
    xp = backend.xp_for(device)
    a = xp.ones(3)
    assert backend.get_array_module(a) is xp
    assert backend.device_of(a) == device and backend.is_array(a)
    assert not backend.is_array([1.0]) and backend.xp_for("cpu") is np
    assert isinstance(backend.to_numpy(a), np.ndarray)
    assert backend.device_of(backend.to_device(np.ones(2), device)) == device
    t = mg.ones(2, device=device)
    assert t.xp is xp and t.device == device


def test_scatter_add_accumulates_repeated_indices(device):
    xp = backend.xp_for(device)
    out = xp.zeros(4)
    backend.scatter_add(out, xp.asarray([0, 2, 0, 0]), xp.asarray([1.0, 2.0, 3.0, 4.0]))
    assert backend.to_numpy(out).tolist() == [8.0, 0.0, 2.0, 0.0]


def test_only_backend_imports_cupy():
    """The single dispatch point: no other module of the package imports cupy."""
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name != "backend.py" and re.search(r"^\s*(import|from)\s+cupy", p.read_text(), re.M)]
    assert offenders == []


def test_gates_take_their_array_module_from_the_inputs():
    """ops.py computes with `self.xp` (numpy or cupy), never with numpy's math directly."""
    src = (PACKAGE / "ops.py").read_text()
    math_calls = re.findall(r"\bnp\.(exp|log|sqrt|sin|cos|tanh|where|maximum|clip|matmul|sum|zeros|ones|"
                            r"concatenate|pad|broadcast_to|abs|sign)\(", src)
    assert math_calls == []


def test_tensor_round_trip_to_device_and_back(device):
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to(device)
    assert y.device == device and (y is x) == (device == "cpu")
    z = (y * y).sum().cpu()
    assert z.device == "cpu"
    z.backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, -4.0, 6.0]


def test_factories_and_grads_stay_on_the_device(device):
    mg.manual_seed(0)
    w = mg.randn(3, 2, dtype="float64", requires_grad=True, device=device)
    x = mg.rand(4, 3, dtype="float64", device=device)
    loss = (x @ w).tanh().logsumexp(1).mean()
    assert loss.device == device
    loss.backward()
    assert w.grad.device == device and w.grad.dtype == np.float64

    # the same computation on the CPU gives the same numbers
    wc = mg.tensor(backend.to_numpy(w.data), requires_grad=True)
    xc = mg.tensor(backend.to_numpy(x.data))
    lc = (xc @ wc).tanh().logsumexp(1).mean()
    lc.backward()
    np.testing.assert_allclose(loss.item(), lc.item(), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(w.grad.data), wc.grad.numpy(), rtol=1e-10)


def test_gradcheck_runs_on_the_device(device):
    x = mg.tensor([[0.3, -0.7], [1.2, 0.1]], dtype="float64", requires_grad=True, device=device)
    assert mg.gradcheck(lambda t: (t.sigmoid() @ t).softmax(0), [x])


def test_repr_names_the_device_and_dtype(device):
    r = repr(mg.ones(2, dtype="float64", device=device))
    assert "float64" in r and (("cuda" in r) == (device == "cuda"))


def test_every_public_name_of_the_core_has_a_docstring():
    """mg.*, the Tensor's public methods and properties, and the public functions and classes
    (gates included) of the core modules each say in a line what they are."""
    import inspect
    import sys
    core = [sys.modules[f"minigrad.{m}"] for m in ("autograd", "ops", "tensor", "gradcheck", "backend")]
    missing = [f"mg.{n}" for n in dir(mg) if not n.startswith("_") and callable(getattr(mg, n))
               and not isinstance(getattr(mg, n), type(np.float32)) and not inspect.getdoc(getattr(mg, n))]
    missing += [f"Tensor.{n}" for n, v in vars(mg.Tensor).items() if not n.startswith("_")
                and (callable(v) or isinstance(v, property)) and not v.__doc__]
    for mod in core:
        for n, v in vars(mod).items():
            if (not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                    and v.__module__ == mod.__name__ and not v.__doc__):
                missing.append(f"{mod.__name__}.{n}")
    assert missing == []


def test_work_array_pool_shares_free_buffers_by_size_and_keeps_layouts():
    """The pool hands a buffer out again only once nothing holds it (any view counts), matches
    buffers by byte size (a float32 array's buffer serves an int32 one), and ``empty_like`` keeps a
    transposed layout."""
    from minigrad.backend import WorkArrayPool
    pool = WorkArrayPool()
    pool.min_bytes = 0
    a = pool.empty(np, (4, 6), np.float32)
    assert a.shape == (4, 6) and a.dtype == np.float32
    a[...] = 1.0
    view = a[1:]
    del a
    b = pool.empty(np, (6, 4), np.int32)             # the first buffer is still held by `view`
    assert not np.shares_memory(b, view)
    del view
    c = pool.empty(np, (24,), np.int32)              # free now, and 96 bytes too: shared
    assert len(pool.arrays) == 2 and any(np.shares_memory(c, buf) for buf in pool.arrays[-1:])
    assert not np.shares_memory(b, c)
    t = np.zeros((3, 5, 7), np.float64).transpose(1, 0, 2)     # laid out (3, 5, 7)
    like = pool.empty_like(np, t, bool)
    assert like.shape == t.shape and like.dtype == bool
    assert like.transpose(1, 0, 2).flags.c_contiguous



def test_work_array_pool_hands_out_the_most_recently_used_free_buffer():
    # the most recently used free buffer is the likeliest to be in this core's cache (speed)
    from minigrad.backend import WorkArrayPool
    pool = WorkArrayPool()
    pool.min_bytes = 0
    first, second = pool.empty(np, (8,), np.float32), pool.empty(np, (8,), np.float32)
    second_memory = second.ctypes.data
    del first, second
    assert pool.empty(np, (8,), np.float32).ctypes.data == second_memory

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.integers(0, 2**16),
       st.sampled_from([np.float32, np.float64, np.int16, np.bool_]))
def test_copy_into_copies_every_layout_and_writes_nothing_else(shape, seed, dtype):
    # copy_into moves whole last-axis rows as void items when both sides run contiguously along
    # that axis: padded interiors, transposes, overlapping window views and steps must all come out
    # as numpy's own assignment, and the bytes around a sliced destination must stay untouched
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    src_base = (rng.standard_normal([s + 2 for s in shape]) * 50).astype(dtype)
    src = src_base[tuple(slice(1, 1 + s) for s in shape)]             # a padded interior
    if rng.random() < 0.3:                                  # rows that overlap, as im2col's windows
        steps = rng.integers(1, 3, len(shape) - 1)
        src = np.lib.stride_tricks.as_strided(
            src_base, shape, tuple(int(k) * src.itemsize for k in steps) + (src.itemsize,))
    perm = rng.permutation(len(shape) - 1).tolist() + [len(shape) - 1]   # keep rows contiguous
    src = src.transpose(perm)
    sentinel = np.array(7).astype(dtype)
    dst_base = np.full([s + 2 for s in src.shape], sentinel)
    dst = dst_base[tuple(slice(1, 1 + s) for s in src.shape)]
    if rng.random() < 0.3:
        dst = dst.transpose(list(range(len(shape) - 2, -1, -1)) + [len(shape) - 1]).copy().transpose(
            list(range(len(shape) - 2, -1, -1)) + [len(shape) - 1])   # another memory order
        dst_base = None
    backend.copy_into(dst, src)
    np.testing.assert_array_equal(dst, src)
    if dst_base is not None:
        border = np.ones(dst_base.shape, bool)
        border[tuple(slice(1, 1 + s) for s in src.shape)] = False
        assert (dst_base[border] == sentinel).all()


def test_copy_into_falls_back_to_numpy_assignment():
    a = np.arange(24.0).reshape(2, 3, 4)
    out = np.empty((2, 3, 4), np.float32)                                 # another dtype: a cast
    backend.copy_into(out, a)
    np.testing.assert_array_equal(out, a)
    out = np.empty((3, 4, 2))
    backend.copy_into(out.transpose(2, 0, 1), a)                         # rows not contiguous
    np.testing.assert_array_equal(out.transpose(2, 0, 1), a)
    objects = np.array([[None, 1, "a"], [2, None, "b"]], dtype=object)
    out = np.empty((2, 5), dtype=object)[:, 1:4]
    backend.copy_into(out, objects)                                      # object arrays: references
    assert (out == objects).all()
    buf = np.arange(20.0).reshape(4, 5)
    backend.copy_into(buf[1:, 1:], buf[:-1, :-1])                         # overlapping operands
    np.testing.assert_array_equal(buf[1:, 1:], np.arange(20.0).reshape(4, 5)[:-1, :-1])
