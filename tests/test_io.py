"""mg.save / mg.load: exact round trips, a portable no-pickle format, errors that name the file."""
import io
import json
import math
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.testing import shapes, tensors


def _round_trip(obj):
    buf = io.BytesIO()
    mg.save(obj, buf)
    buf.seek(0)
    return mg.load(buf)


def _assert_same(a, b, path="obj"):
    """Equal values and equal types all the way down (dtype and shape for arrays)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(a.data, b.data, err_msg=path)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        assert all(type(k) is type(kb) for k, kb in zip(a, b)), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]


@given(st.sampled_from(DTYPES), shapes(min_dims=0, max_dims=4, min_side=0))
def test_arrays_and_tensors_round_trip_exactly(dtype, shape):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal(shape) * 100).astype(dtype)
    obj = {"array": arr, "tensor": mg.tensor(arr)}
    _assert_same(obj, _round_trip(obj))


@given(tensors(shape=shapes(max_dims=3), dtype=np.float32, elements=st.floats(width=32, allow_nan=False)))
def test_float32_bits_survive(t):
    back = _round_trip({"w": t})["w"]
    assert back.data.tobytes() == t.data.tobytes()


def test_nested_structures_keep_their_types():
    obj = {
        "model": OrderedDict([("fc.weight", mg.randn(3, 2)), ("fc.bias", mg.zeros(3, dtype="float64"))]),
        "optim": {"state": {0: {"step": 3, "exp_avg": mg.ones(2)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "params": [0, 1],
                                    "name": None, "tag": "héllo"}]},
        "floats": [0.1, -0.0, math.inf, -math.inf, math.nan, 1e-320],
        "numpy_scalars": [np.float32(1.5), np.int64(-7), np.bool_(True)],
        "keys": {1: "int", 2.5: "float", False: "bool", None: "none", "s": "str"},
        "empty": {"list": [], "tuple": (), "dict": {}},
        "big_int": 2 ** 70,
    }
    _assert_same(obj, _round_trip(obj))


def test_requires_grad_and_shared_tensors():
    w = mg.randn(2, 2, requires_grad=True)
    back = _round_trip({"a": w, "b": w, "c": [w.detach()]})
    assert back["a"].requires_grad and back["a"].is_leaf
    assert back["a"] is back["b"]                 # one tensor saved twice comes back as one
    assert not back["c"][0].requires_grad


def test_path_is_used_as_given_and_archive_is_plain_npz(tmp_path):
    path = tmp_path / "weights.ckpt"                 # no .npz suffix appended
    mg.save({"w": mg.ones(2, 3), "step": 5}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.ckpt"]
    assert mg.load(str(path))["step"] == 5
    with np.load(path, allow_pickle=False) as archive:   # any NumPy program can read it
        header = json.loads(archive["__minigrad__"].tobytes().decode("utf-8"))
        assert header["format"] == "minigrad-state"
        np.testing.assert_array_equal(archive[header["tree"]["items"][0][1]["array"]], np.ones((2, 3)))


def test_overwrite_replaces_the_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"v": 1}, path)
    mg.save({"v": 2}, path)
    assert mg.load(path) == {"v": 2}


# ***** errors *****

def test_missing_folder_on_save_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        mg.save({"w": mg.ones(1)}, tmp_path / "no_such_dir" / "w.npz")


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        mg.load(path)


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"PK\x03\x04 truncated zip"])
def test_corrupt_file_names_it(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz"):
        mg.load(path)


def test_truncated_archive_names_it(tmp_path):
    path = tmp_path / "cut.npz"
    mg.save({"w": mg.randn(100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        mg.load(path)


def test_foreign_npz_and_npy_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(ValueError, match=r"plain.npz.*not written by mg.save"):
        mg.load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match="one.npy.*single NumPy array"):
        mg.load(tmp_path / "one.npy")


def test_loading_never_unpickles(tmp_path):
    # an archive whose array is a pickled object: loading must refuse, not run the pickle
    path = tmp_path / "evil.npz"
    header = json.dumps({"format": "minigrad-state", "version": 1, "tree": {"type": "ndarray", "array": "a0"}})
    np.savez(path, a0=np.array([{"x": 1}], dtype=object),
             __minigrad__=np.frombuffer(header.encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="evil.npz"):
        mg.load(path)


def test_damaged_header_names_the_missing_array(tmp_path):
    path = tmp_path / "h.npz"
    header = json.dumps({"format": "minigrad-state", "version": 1, "tree": {"type": "tensor", "array": "a7"}})
    np.savez(path, __minigrad__=np.frombuffer(header.encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="h.npz.*'a7'"):
        mg.load(path)
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__minigrad__.npy", "w") as f:
            np.lib.format.write_array(f, np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(ValueError, match="h.npz.*damaged header"):
        mg.load(path)


@pytest.mark.parametrize("obj,match", [
    ({"f": lambda x: x}, r"/f of type function"),
    ({"a": np.array([object()], dtype=object)}, "dtype object"),
    ({(1, 2): 3}, r"key \(1, 2\) of type tuple"),
    (nn.Module(), r"state_dict\(\)"),
])
def test_unsavable_objects_are_named(obj, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        mg.save(obj, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []           # nothing half-written left behind


# ***** models and optimisers *****

class _Net(nn.Module):
    def __init__(self, hidden=3):
        super().__init__()
        self.fc = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.fc(x).relu())


def test_model_and_optimizer_checkpoint(tmp_path):
    mg.manual_seed(0)
    net = _Net()
    opt = mg.optim.Adam(net.parameters(), lr=0.01)
    x = mg.randn(8, 2)
    net(x).sum().backward()
    opt.step()
    mg.save({"model": net.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.npz")

    ckpt = mg.load(tmp_path / "ckpt.npz")
    fresh = _Net()
    fresh.load_state_dict(ckpt["model"])
    opt2 = mg.optim.Adam(fresh.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optim"])
    np.testing.assert_array_equal(fresh(x).data, net(x).data)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.state[fresh.fc.weight]["step"] == 1


def test_loading_into_a_mismatched_model_names_key_and_shapes(tmp_path):
    mg.save(_Net(hidden=3).state_dict(), tmp_path / "m.npz")
    sd = mg.load(tmp_path / "m.npz")
    with pytest.raises(RuntimeError, match=r"fc.weight.*\(4, 2\).*\(3, 2\)"):
        _Net(hidden=4).load_state_dict(sd)
    del sd["out.bias"]
    sd["extra"] = mg.zeros(1)
    with pytest.raises(RuntimeError, match=r'missing key\(s\).*"out.bias"(.|\n)*unexpected key\(s\).*"extra"'):
        _Net(hidden=3).load_state_dict(sd)


def test_map_location(tmp_path):
    mg.save({"w": mg.ones(2)}, tmp_path / "w.npz")
    assert mg.load(tmp_path / "w.npz", map_location="cpu")["w"].device == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        mg.load(tmp_path / "w.npz", map_location="tpu")
