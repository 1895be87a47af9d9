"""Loss modules over ``minigrad.nn.functional``: ``reduction`` is "mean" (default), "sum" or "none"."""
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        self.register_buffer("weight", weight)     # saved in state_dict, as in PyTorch


class CrossEntropyLoss(_WeightedLoss):
    """The softmax classifier's loss on unnormalised scores (N, C) and class indices (N,):
    -log(e^{x_y} / sum_j e^{x_j}), averaged over the batch (a weighted average with ``weight``).

    ``ignore_index`` targets contribute nothing; ``label_smoothing`` mixes the one-hot target with
    the uniform distribution. At chance with 10 classes the loss is ln(10) = 2.302 (the notes'
    sanity check). Implemented as one fused gate whose gradient is (softmax - onehot) / N.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)
    (``LogSoftmax`` followed by ``NLLLoss`` equals ``CrossEntropyLoss``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The Weston-Watkins multiclass SVM (hinge) loss, ``p=2`` for the squared hinge, with
    PyTorch's normalisation:

        loss_i = sum_{j != y_i} max(0, margin - x[y_i] + x[j]) ** p / C

    NOTE for readers of the notes: the notes' SVM loss L_i omits the division by the number of
    classes C, so notes' loss = this loss x C. At chance (all scores equal, margin 1) with 10
    classes this gives 0.9, which is the notes' expected 9 divided by 10.
    """

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p=1 and p=2 are supported, got p={p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid plus binary cross-entropy, stable for any score (independent binary attributes);
    ``pos_weight`` (one per class) weighs the positive examples."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight if weight is None or isinstance(weight, Tensor) else Tensor(weight))
        self.register_buffer("pos_weight", pos_weight if pos_weight is None or isinstance(pos_weight, Tensor)
                             else Tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100, as in PyTorch)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class MSELoss(_Loss):
    """Mean squared error (x - y)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - y|."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)
