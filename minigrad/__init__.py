"""minigrad: an autograd engine built as a graph of gates, on NumPy (CPU) or CuPy (GPU)."""
from . import backend
from .autograd import (Function, AnomalyError, detect_anomaly, enable_grad, grad, is_grad_enabled,
                       no_grad, set_grad_enabled)
from .backend import available_devices, cuda_is_available
from .gradcheck import GradcheckError, GradcheckReport, KinkWarning, check_gradients, gradcheck, gradgradcheck
from .ops import KINKS, ShapeError
from .tensor import (Tensor, arange, bool_, cat, concatenate, empty, eye, float16, float32, float64,
                     from_numpy, full, full_like, int8, int32, int64, linspace, manual_seed, ones,
                     ones_like, pad, rand, randint, randn, randperm, stack, tensor, uint8, where, zeros,
                     zeros_like)
from .tensor import (abs, amax, amin, argmax, argmin, clamp, clip, cos, elu, exp, expand, flatten,
                     leaky_relu, log, log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum,
                     neg, norm, permute, relu, reshape, sigmoid, sign, sin, softmax, softplus, sqrt,
                     square, squeeze, std, sum, tanh, transpose, unsqueeze, var)

from . import viz
from . import optim
from .io import load, save

__version__ = "0.1.0"
