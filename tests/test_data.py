"""minigrad.data: loaders, splits, preprocessing fitted on train only, file formats, built-in data."""
import gzip
import importlib.util
import os
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import (DataLoader, Normalizer, Subset, TensorDataset, load_cifar10, load_digits,
                           load_mnist, make_spiral, random_split, read_cifar10_batch, read_idx,
                           standardize, train_val_split)


def _ids(loader):
    """The example ids a loader yields, batch by batch (the dataset's first tensor holds ids)."""
    return [b[0].numpy().astype(int).tolist() for b in loader]


# ***** TensorDataset / DataLoader *****

def test_tensor_dataset_needs_equal_lengths():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


@given(n=st.integers(1, 23), batch=st.integers(1, 9), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**16))
def test_loader_covers_every_example_once(n, batch, shuffle, drop_last, seed):
    ds = TensorDataset(np.arange(n), np.arange(n) * 10)
    loader = DataLoader(ds, batch_size=batch, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // batch if drop_last else -(-n // batch))
    ids = [i for b in _ids(loader) for i in b]
    assert all(len(b) == batch for b in _ids(loader)[:-1])
    if drop_last:
        assert all(len(b) == batch for b in _ids(loader))
        assert len(ids) == (n // batch) * batch and len(set(ids)) == len(ids)
    else:
        assert sorted(ids) == list(range(n))
    if not shuffle:
        assert ids == list(range(len(ids)))
    for x, y in batches:                     # the tensors stay aligned
        np.testing.assert_array_equal(y.numpy(), x.numpy() * 10)


def test_shuffle_is_seeded_and_changes_each_epoch():
    ds = TensorDataset(np.arange(50))
    a, b = DataLoader(ds, 10, shuffle=True, seed=3), DataLoader(ds, 10, shuffle=True, seed=3)
    first_a, first_b = _ids(a), _ids(b)
    assert first_a == first_b
    assert _ids(a) != first_a                # a new order every epoch
    mg.manual_seed(7)
    g1 = _ids(DataLoader(ds, 10, shuffle=True))
    mg.manual_seed(7)
    assert _ids(DataLoader(ds, 10, shuffle=True)) == g1      # the global generator, via manual_seed


def test_loader_state_dict_resumes_the_same_orders():
    ds = TensorDataset(np.arange(30))
    a = DataLoader(ds, 7, shuffle=True, seed=11)
    _ids(a)
    state = a.state_dict()
    expected = [_ids(a), _ids(a)]
    b = DataLoader(ds, 7, shuffle=True, seed=999)
    b.load_state_dict(state)
    assert [_ids(b), _ids(b)] == expected


def test_loader_rejects_bad_batch_size_and_double_rng():
    ds = TensorDataset(np.arange(3))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="generator or a seed"):
        DataLoader(ds, shuffle=True, seed=1, generator=np.random.default_rng(1))


def test_generic_dataset_is_stacked():
    class Squares(mg.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    (x, y), = list(DataLoader(Squares(), batch_size=5))
    np.testing.assert_array_equal(x.numpy()[:, 1], [0, 1, 4, 9, 16])
    np.testing.assert_array_equal(y.numpy(), np.arange(5))


@given(n=st.integers(2, 40), frac=st.floats(0.05, 0.95), seed=st.integers(0, 100))
def test_random_split_partitions(n, frac, seed):
    ds = TensorDataset(np.arange(n))
    a, b = random_split(ds, [frac, 1 - frac], seed=seed)
    assert isinstance(a, Subset) and len(a) + len(b) == n
    ids = np.concatenate([a.indices, b.indices])
    assert sorted(ids.tolist()) == list(range(n))
    got = [i for batch in _ids(DataLoader(a, 3)) for i in batch]
    assert got == a.indices.tolist()


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="summing to the data set's length 10"):
        random_split(TensorDataset(np.arange(10)), [3, 4])


# ***** splits and preprocessing *****

@given(n=st.integers(3, 50), val=st.floats(0.1, 0.6), seed=st.integers(0, 100))
def test_train_val_split_is_disjoint_and_aligned(n, val, seed):
    X, y = np.arange(n) * 2.0, np.arange(n)
    Xtr, Xva, ytr, yva = train_val_split(X, y, val_size=val, seed=seed)
    assert len(Xva) == int(np.ceil(val * n)) and len(Xtr) == n - len(Xva)
    assert sorted(np.concatenate([ytr, yva]).tolist()) == list(range(n))
    np.testing.assert_array_equal(Xtr, ytr * 2.0)
    np.testing.assert_array_equal(Xva, yva * 2.0)


def test_train_val_split_errors():
    with pytest.raises(ValueError, match="array 1 has 4 examples, array 0 has 5"):
        train_val_split(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        train_val_split(np.zeros(5), val_size=5)


def test_normalizer_uses_training_statistics_only():
    # the notes' pitfall: statistics from the whole data set would leak the val distribution
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(200, 4))
    val = rng.normal(10.0, 5.0, size=(50, 4))
    norm = Normalizer().fit(train)
    t, v = norm.transform(train), norm.transform(val)
    np.testing.assert_allclose(t.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(t.std(0), 1, atol=1e-6)
    np.testing.assert_allclose(v, (val - train.mean(0)) / train.std(0), rtol=1e-6)
    assert abs(v.mean()) > 1                 # val keeps its own offset: nothing was fitted on it
    np.testing.assert_allclose(norm.inverse_transform(v), val, rtol=1e-9)


@given(shape=st.tuples(st.integers(2, 6), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(0, 1000))
def test_normalizer_per_channel(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32) * 3 + 1
    norm = Normalizer(axis=(0, 2, 3))
    out = norm.fit_transform(mg.tensor(x))
    assert isinstance(out, mg.Tensor) and out.dtype == np.float32 and norm.mean.shape == (1, shape[1], 1, 1)
    np.testing.assert_allclose(out.numpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_mean_subtraction_and_standardize():
    train, test = np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([[2.0, 4.0]])
    tr, te, norm = standardize(train, test, with_std=False)
    np.testing.assert_array_equal(tr, [[-1, -2], [1, 2]])
    np.testing.assert_array_equal(te, [[0, 0]])
    restored = Normalizer().load_state_dict(Normalizer().fit(train).state_dict())
    np.testing.assert_allclose(restored.transform(test), [[0, 0]], atol=1e-7)


def test_normalizer_errors():
    with pytest.raises(RuntimeError, match="fit"):
        Normalizer().transform(np.zeros((2, 3)))
    norm = Normalizer().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(1, 3\)"):
        norm.transform(np.zeros((2, 5)))


# ***** file formats (tiny files written here, byte by byte) *****

def _write_idx(path, array, code=0x08, opener=open):
    with opener(path, "wb") as f:
        f.write(bytes([0, 0, code, array.ndim]))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_read_idx_types_and_gzip(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", a)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "a.idx")), a)
    f = np.linspace(-1, 1, 6).astype(np.float32).reshape(3, 2)
    _write_idx(tmp_path / "f.idx.gz", f, code=0x0D, opener=gzip.open)
    out = read_idx(str(tmp_path / "f.idx.gz"))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, f)


def test_load_mnist(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    x, y = load_mnist(str(tmp_path), train=False)
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1, 5]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*MNIST images"):
        load_mnist(str(tmp_path), train=True)


def test_idx_errors_name_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    _write_idx(path, np.zeros((3, 28, 28), np.uint8))
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated.*\(3, 28, 28\).*2352 bytes"):
        read_idx(str(path))
    path.write_bytes(b"\x01\x02\x03\x04" + raw[4:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(str(path))
    with pytest.raises(ValueError, match="expected an IDX file with 1 dimension"):
        _write_idx(path, np.zeros((3, 28, 28), np.uint8))
        read_idx(str(path), ndim=1)
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        read_idx(str(tmp_path / "nope.idx"))


def _cifar_bytes(images, labels):
    return np.concatenate([labels[:, None].astype(np.uint8), images.reshape(len(labels), -1)], axis=1).tobytes()


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    all_x, all_y = [], []
    for i in range(1, 6):
        x = rng.integers(0, 256, size=(2, 3, 32, 32)).astype(np.uint8)
        y = rng.integers(0, 10, size=2)
        (folder / f"data_batch_{i}.bin").write_bytes(_cifar_bytes(x, y))
        all_x.append(x), all_y.append(y)
    x, y = load_cifar10(str(tmp_path))
    np.testing.assert_array_equal(x, np.concatenate(all_x))
    np.testing.assert_array_equal(y, np.concatenate(all_y))
    # the record layout: label byte, then the red plane row by row, then green, then blue
    img = np.zeros((1, 3, 32, 32), np.uint8)
    img[0, 1, 0, 2] = 200                     # green channel, row 0, column 2
    raw = _cifar_bytes(img, np.array([7]))
    assert raw[0] == 7 and raw[1 + 1024 + 2] == 200
    (folder / "test_batch.bin").write_bytes(raw)
    xt, yt = load_cifar10(str(tmp_path), train=False)
    assert yt.tolist() == [7] and xt[0, 1, 0, 2] == 200 and xt.sum() == 200


def test_cifar10_errors_name_the_file(tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(_cifar_bytes(np.zeros((2, 3, 32, 32), np.uint8), np.array([1, 2]))[:-5])
    with pytest.raises(ValueError, match="test_batch.bin is truncated.*3073 bytes"):
        read_cifar10_batch(str(path))
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin not found"):
        load_cifar10(str(tmp_path))
    path.write_bytes(_cifar_bytes(np.zeros((1, 3, 32, 32), np.uint8), np.array([12])))
    with pytest.raises(ValueError, match="label 12"):
        read_cifar10_batch(str(path))


# ***** built-in data sets *****

def test_spiral_is_the_notes_generator():
    # the notes' code, verbatim (spiral case study), after np.random.seed(0)
    np.random.seed(0)
    N, D, K = 100, 2, 3
    X = np.zeros((N * K, D))
    y = np.zeros(N * K, dtype='uint8')
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    Xs, ys = make_spiral(seed=0)
    np.testing.assert_array_equal(Xs, X)
    np.testing.assert_array_equal(ys, y)
    assert Xs.shape == (300, 2) and np.abs(Xs).max() <= 1


def test_digits():
    if importlib.util.find_spec("sklearn") is None:      # find, not import: scikit-learn loads slowly
        pytest.skip("needs scikit-learn")
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32 and y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 1
    # scikit-learn's digits: the first image is a 0 whose top row is 0 0 5 13 9 1 0 0 (of 16); its class counts
    assert y[:5].tolist() == [0, 1, 2, 3, 4] and (x[0, 0, 0] * 16).tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
