"""minigrad.optim: the notes' update rules, learning-rate schedules and parameter averaging, with PyTorch's names."""
from . import lr_scheduler
from .ema import ExponentialMovingAverage
from .optimizer import Optimizer
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "ExponentialMovingAverage", "lr_scheduler"]
