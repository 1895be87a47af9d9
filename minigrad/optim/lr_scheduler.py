"""Learning-rate schedules (the notes' "annealing the learning rate"), with PyTorch's semantics.

Build the scheduler after the optimiser, and call ``scheduler.step()`` once per epoch (or
iteration) *after* ``optimizer.step()``. Each schedule writes the new rate into every param group's
``"lr"``; ``get_last_lr()`` returns the rates it last set. The notes' three decays:

- step decay: ``StepLR`` (and ``ReduceLROnPlateau``, "reduce whenever the validation error stops improving");
- exponential decay ``lr0 * exp(-k t)``: ``ExponentialLR(gamma=exp(-k))``;
- 1/t decay ``lr0 / (1 + k t)``: ``InverseTimeLR(k)``.
"""
import math
import warnings

from .optimizer import Optimizer


class LRScheduler:
    """Base class of the epoch-driven schedules: ``get_lr()`` gives the rates for ``last_epoch``.

    ``last_epoch=-1`` starts a fresh schedule (recording each group's ``initial_lr``); a
    non-negative value resumes one, and then the groups must already hold ``initial_lr``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   f"a scheduler with last_epoch={last_epoch}; load the optimizer's state "
                                   "dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = True
        self._step_count = 0
        self.step()               # sets the rates for epoch 0
        self._is_initial = False

    def _closed_form(self):
        """The rates at ``last_epoch`` from ``base_lrs`` alone (used by ``step(epoch)``)."""
        return self.get_lr()

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``, deprecated as in PyTorch) and set the new rates."""
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn("lr_scheduler.step() was called before optimizer.step(); call them in the "
                          "opposite order, or the first value of the schedule is skipped", UserWarning,
                          stacklevel=2)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("passing an epoch to scheduler.step() is deprecated (as in PyTorch); call "
                          "step() once per epoch", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            values = self._closed_form()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates this scheduler last set, one per param group."""
        return list(self._last_lr)

    def state_dict(self):
        """The scheduler's state (every attribute but the optimiser), as in PyTorch."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``."""
        self.__dict__.update(state_dict)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """Step decay: multiply the rate by ``gamma`` every ``step_size`` epochs.

    The notes: "reduce the learning rate by a half every 5 epochs" is ``StepLR(opt, 5, gamma=0.5)``.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The rates for ``last_epoch``, from the groups' current rates."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Exponential decay: multiply the rate by ``gamma`` every epoch.

    The notes' ``lr0 * exp(-k t)`` is ``gamma = exp(-k)``.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        if gamma <= 0:
            raise ValueError(f"ExponentialLR: gamma must be > 0, got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The rates for ``last_epoch``, from the groups' current rates."""
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """The notes' 1/t decay: ``lr = lr0 / (1 + k * t)`` at epoch t (PyTorch has no such class;
    it equals ``LambdaLR(opt, lambda t: 1 / (1 + k * t))``)."""

    def __init__(self, optimizer, k, last_epoch=-1):
        if k < 0:
            raise ValueError(f"InverseTimeLR: k must be >= 0, got {k!r}")
        self.k = k
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The rates for ``last_epoch``: each group's ``initial_lr / (1 + k * last_epoch)``."""
        return [base / (1 + self.k * self.last_epoch) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial rate to ``eta_min`` over ``T_max`` epochs (SGDR, no restarts).

    ``lr_t = eta_min + (lr0 - eta_min) * (1 + cos(pi * t / T_max)) / 2``, computed recursively from the
    current rate as PyTorch does (so it composes with other changes of the rate), and rising again
    after ``T_max`` as PyTorch's does.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The rates for ``last_epoch``, from the groups' current rates."""
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (t - 1 - T) % (2 * T) == 0:            # at the bottom of the cosine: the recursion divides by 0
            return [group["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - lo) + lo
                for group in groups]

    def _closed_form(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    Call ``scheduler.step(val_loss)`` once per epoch. ``mode="min"`` watches a quantity that should
    fall (a loss), ``"max"`` one that should rise (an accuracy); an improvement must beat the best so
    far by ``threshold`` (relative, or absolute with ``threshold_mode="abs"``). After a reduction,
    ``cooldown`` epochs pass before bad epochs count again; no rate goes below ``min_lr`` (a number or
    one per group), and a reduction smaller than ``eps`` is skipped. PyTorch's semantics throughout.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown "
                             "(expected 'rel' or 'abs')")
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs (one per param group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * n
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics):
        """Record this epoch's metric (a number or a one-element Tensor) and reduce the rates if it stalled."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0          # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but "
                                   f"min_lr gave {len(self.min_lrs)} values (was a group added?)")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    @property
    def in_cooldown(self):
        """True while reductions are paused after the last one."""
        return self.cooldown_counter > 0
