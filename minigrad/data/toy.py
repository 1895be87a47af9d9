"""Built-in, offline data sets: the notes' spiral, and the 8x8 digits that ship inside scikit-learn."""
import numpy as np


def make_spiral(N=100, K=3, noise=0.2, seed=None):
    """The notes' spiral data set: K interleaved arms of N points each in 2-D.

    Exactly the notes' generator; with ``seed`` it draws from ``np.random.RandomState(seed)``, so
    ``make_spiral(seed=0)`` equals the notes' code run after ``np.random.seed(0)`` (without a seed
    it uses numpy's global generator, as the notes do). Returns ``X`` float64 (N*K, 2) and ``y``
    int64 (N*K,).
    """
    rand = np.random.RandomState(seed) if seed is not None else np.random
    D = 2
    X = np.zeros((N * K, D))                   # data matrix (each row = single example)
    y = np.zeros(N * K, dtype=np.int64)        # class labels
    for j in range(K):                         # NOTE: a loop over the K classes, as in the notes
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)                                              # radius
        t = np.linspace(j * 4, (j + 1) * 4, N) + rand.randn(N) * noise          # theta
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def load_digits():
    """scikit-learn's 1,797 handwritten 8x8 digits, read from the copy inside the package.

    Returns ``images`` float32 (1797, 1, 8, 8) scaled to [0, 1] and ``labels`` int64 (1797,).
    Needs scikit-learn: ``pip install minigrad[examples]``.
    """
    import importlib.util
    import os
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError("load_digits needs scikit-learn: pip install minigrad[examples]")
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
    if os.path.isfile(path):
        # NOTE: the file sklearn.datasets.load_digits reads (64 pixel values 0..16, then the label, a
        # row per image); read directly, it skips importing scikit-learn (~3 s of scipy on 2 cores)
        rows = np.loadtxt(path, delimiter=",", dtype=np.float32)
        pixels, target = rows[:, :-1], rows[:, -1]
    else:                                     # a scikit-learn that keeps the file elsewhere
        from sklearn.datasets import load_digits as _load
        d = _load()
        pixels, target = d.data.astype(np.float32), d.target
    if pixels.shape != (1797, 64):
        raise ValueError(f"{path}: expected 1797 rows of 64 pixels and a label, got pixels of shape {pixels.shape}")
    images = (pixels / 16.0).reshape(-1, 1, 8, 8)        # (N, 1, 8, 8), pixel values 0..16
    return images, target.astype(np.int64)
