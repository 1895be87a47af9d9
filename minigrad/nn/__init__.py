"""minigrad.nn: modules, layers, losses and initialisers with PyTorch's names (``import minigrad.nn as nn``)."""
from . import functional, init, utils
from .layers import (ELU, BatchNorm1d, BatchNorm2d, Dropout, Embedding, Flatten, Identity, LeakyReLU,
                     Linear, LogSoftmax, Maxout, PReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, MultiMarginLoss,
                     NLLLoss)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .rnn import LSTM, RNN, LSTMCell, RNNCell
