"""Data: datasets and mini-batch loading, train/validation splits, preprocessing fitted on the
training split only, readers for the MNIST (IDX) and CIFAR-10 (binary) files, and the built-in
spiral and 8x8-digits data sets."""
from .dataset import DataLoader, Dataset, Subset, TensorDataset, random_split
from .formats import load_cifar10, load_mnist, read_cifar10_batch, read_idx
from .preprocess import Normalizer, standardize, train_val_split
from .toy import load_digits, make_spiral

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "train_val_split",
           "Normalizer", "standardize", "read_idx", "load_mnist", "read_cifar10_batch", "load_cifar10",
           "make_spiral", "load_digits"]
