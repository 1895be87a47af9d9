"""Layers: thin Modules over ``minigrad.nn.functional``, with PyTorch's names, arguments and defaults."""
import math

import numpy as np

from ..tensor import empty, full, ones, tensor, zeros
from ..autograd import no_grad
from ..ops import ShapeError
from . import functional as F
from . import init
from .module import Module, Parameter


def _check_rank(layer, x, ranks, expected):
    """Raise a ShapeError naming the layer, the expected and the found shape."""
    if x.ndim not in ranks:
        raise ShapeError(f"{layer}: expected input of shape {expected}, got shape {x.shape}")


# ***** linear layers *****

class Linear(Module):
    """y = x W^T + b, with W (out_features, in_features); PyTorch's default initialisation:
    W ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        # NOTE: speed. W has PyTorch's shape (out, in) but is laid out column-major, (in, out) in
        # memory like the NumPy reference's W: then x @ W^T multiplies two C-ordered arrays and the
        # weight gradient, computed as (x^T g)^T, lands in W's own layout. OpenBLAS runs that pair
        # of products ~15% faster here than x @ W^T and g^T x with a C-ordered W (README, Performance).
        self.weight = Parameter(empty(in_features, out_features, device=device, dtype=dtype).T)
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the weights with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear: expected input of shape (*, {self.in_features}) (in_features="
                             f"{self.in_features}), got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Maxout(Module):
    """The notes' Maxout unit: max(w_1^T x + b_1, ..., w_k^T x + b_k) for each of ``out_features``
    outputs, over ``pool_size`` (k) linear pieces (Goodfellow et al.). ReLU is the case k = 2 with
    one piece fixed at 0. Parameters: one Linear of in_features -> out_features * k (piece j of
    output i is row i * k + j)."""

    def __init__(self, in_features, out_features, pool_size=2, bias=True, device=None, dtype=None):
        super().__init__()
        if pool_size < 1:
            raise ValueError(f"Maxout: pool_size must be at least 1, got {pool_size}")
        self.in_features, self.out_features, self.pool_size = in_features, out_features, pool_size
        self.linear = Linear(in_features, out_features * pool_size, bias=bias, device=device, dtype=dtype)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Maxout: expected input of shape (*, {self.in_features}), got shape {x.shape}")
        z = self.linear(x)                                                      # (*, out * k)
        return z.reshape(x.shape[:-1] + (self.out_features, self.pool_size)).amax(-1)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pool_size={self.pool_size}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed classifier head)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge dims ``start_dim``..``end_dim`` (by default all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# ***** activations *****

class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, self.inplace) if self.inplace else x.relu()

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU whose negative slope is learned: one shared slope, or one per channel (dim 1)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), float(init), device=device, dtype=dtype))  # init=1 too

    def forward(self, x):
        if self.num_parameters != 1:
            C = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else None)
            if C != self.num_parameters:
                raise ShapeError(f"PReLU: expected input with {self.num_parameters} channels (dim 1), "
                                 f"got shape {x.shape}")
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, else alpha * (e^x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return x.sigmoid()


class Tanh(Module):
    """The hyperbolic tangent."""

    def forward(self, x):
        return x.tanh()


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear above ``threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along ``dim`` (give it: ``dim=None`` is PyTorch's deprecated implicit choice, with a warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax along ``dim`` (give it, as for ``Softmax``)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# ***** dropout *****

class Dropout(Module):
    """Inverted dropout: in training zero each element with probability ``p`` (the drop
    probability, as in PyTorch) and scale the rest by 1/(1 - p); the identity in ``eval()``."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


# ***** batch normalisation *****

class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d."""
    _ranks, _expected = (), ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked._write(self.num_batches_tracked.data * 0)

    def reset_parameters(self):
        """Running statistics reset, gamma = 1, beta = 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        name = type(self).__name__
        expected = self._expected.format(C=self.num_features)
        _check_rank(name, x, self._ranks, expected)
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{name}: expected input of shape {expected} with {self.num_features} "
                             f"channels (num_features), got shape {x.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._write(self.num_batches_tracked.data + 1)
            if self.momentum is None:     # a cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # batch statistics in training, and always when no running statistics are kept
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): each of the C features is normalised with the batch
    statistics in training (running averages updated with ``momentum``) and the running averages
    in ``eval()``, then scaled by gamma (``weight``) and shifted by beta (``bias``; ``bias=False``
    keeps only gamma, as in recent PyTorch)."""
    _ranks, _expected = (2, 3), "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W), per channel: statistics over N, H and W (spatial batch norm)."""
    _ranks, _expected = (4,), "(N, {C}, H, W)"


# ***** embedding *****

class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (initialised N(0, 1));
    the row at ``padding_idx`` starts at zero and receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, x):
        return F.embedding(x, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
