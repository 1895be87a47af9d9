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
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install minigrad[examples]") from None
    d = _load()
    images = (d.images.astype(np.float32) / 16.0)[:, None]      # (N, 1, 8, 8), pixel values 0..16
    return images, d.target.astype(np.int64)
