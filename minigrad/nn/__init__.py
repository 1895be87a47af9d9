"""minigrad.nn: modules, layers, losses and initialisers with PyTorch's names (``import minigrad.nn as nn``)."""
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
