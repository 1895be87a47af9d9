"""Trainer: epochs of mini-batch updates with the notes' babysitting built in (after CS231n's Solver)."""
import copy
import glob
import math
import os
import re

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..io import load, save
from ..data.dataset import DataLoader, Subset, _fetch
from ..tensor import Tensor, _generator
from . import progress as _progress
from .history import History
from .monitor import layer_stats, update_ratios


def _cross_entropy(scores, y):
    from ..nn import functional as F
    return F.cross_entropy(scores, y)


def _arrays(state):
    """A deep copy of a state dict with every Tensor as a numpy array (a snapshot, not a view)."""
    if isinstance(state, Tensor):
        return backend.to_numpy(state.data).copy()
    if isinstance(state, dict):
        return {k: _arrays(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_arrays(v) for v in state)
    return copy.deepcopy(state)


_CKPT = re.compile(r"epoch(\d+)_")


class Trainer:
    """Train a classifier: epochs of mini-batch updates, evaluation, checkpoints and babysitting.

    Each epoch runs ``optimizer`` over ``train_loader``, then measures train accuracy (on the first
    ``train_eval_samples`` training examples, in eval mode) and validation loss and accuracy, steps
    ``scheduler`` (per epoch, or per iteration with ``scheduler_interval="step"``; a
    ``ReduceLROnPlateau`` gets the validation loss), and records everything in ``self.history``
    (a ``History``). Every ``ratio_every`` iterations it records each parameter's update/weight
    ratio, and each epoch per-layer activation and gradient statistics on a fixed batch.

    It keeps the weights with the best validation accuracy (restored at the end when
    ``restore_best``), stops after ``patience`` epochs without improvement, and, with
    ``checkpoint_dir``, writes ``epoch{E:03d}_val{acc:.4f}.npz`` after every epoch: everything needed
    to resume (model, optimiser, scheduler, history, random-generator states), so that
    ``fit(..., resume="latest")`` after a crash reaches the state of an uninterrupted run.
    ``progress``: ``"auto"`` (tqdm bars if installed, else a line per epoch), ``True`` or ``False`` (quiet).
    """

    def __init__(self, model, optimizer, loss_fn=None, scheduler=None, *, scheduler_interval="epoch",
                 checkpoint_dir=None, patience=None, restore_best=True, progress="auto", ratio_every=10,
                 track_layers=True, stats_samples=256, train_eval_samples=1000, eval_batch_size=500):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be a positive number of epochs, got {patience!r}")
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn or _cross_entropy
        self.scheduler_interval = scheduler_interval
        self.checkpoint_dir = checkpoint_dir
        self.patience, self.restore_best = patience, restore_best
        self.progress = progress
        self.ratio_every, self.track_layers = ratio_every, track_layers
        self.stats_samples, self.train_eval_samples = stats_samples, train_eval_samples
        self.eval_batch_size = eval_batch_size
        self.history = History()
        self.epoch = self.iteration = 0
        self.best_state, self.bad_epochs = None, 0
        self.last_checkpoint = None

    # ***** evaluation *****

    def evaluate(self, loader):
        """``(mean loss, accuracy)`` of the model on ``loader`` (eval mode, no graph)."""
        was_training = self.model.training
        self.model.eval()
        total_loss, correct, count = 0.0, 0, 0
        try:
            with no_grad():
                for x, y in loader:
                    scores = self.model(x)
                    n = len(y)
                    total_loss += float(self.loss_fn(scores, y).item()) * n
                    correct += int((scores.argmax(-1).data == y.data).sum())
                    count += n
        finally:
            self.model.train(was_training)
        if count == 0:
            raise ValueError("evaluate: the loader yielded no examples")
        return total_loss / count, correct / count

    def accuracy(self, loader):
        """The model's accuracy on ``loader``."""
        return self.evaluate(loader)[1]

    def _train_eval_loader(self, dataset):
        n = min(len(dataset), self.train_eval_samples or len(dataset))
        return DataLoader(Subset(dataset, np.arange(n)), batch_size=self.eval_batch_size)

    # ***** one epoch *****

    def _params(self):
        return {n: p for n, p in self.model.named_parameters() if p.requires_grad}

    def _step_scheduler(self, val_loss):
        if self.scheduler is None:
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(val_loss)
        else:
            self.scheduler.step()

    def _train_epoch(self, loader, mode, epochs):
        self.model.train()
        params = self._params()
        batches = _progress.bar(loader, len(loader), f"epoch {self.epoch + 1}/{epochs}", mode)
        for x, y in batches:
            track = self.ratio_every and self.iteration % self.ratio_every == 0
            if track:
                before = {n: p.data.copy() for n, p in params.items()}
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(x), y)
            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(f"the loss is {value} at iteration {self.iteration} (epoch "
                                         f"{self.epoch + 1}): the learning rate is likely too high")
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            self.history.loss.append(value)
            if track:
                self.history.ratio_iters.append(self.iteration)
                for n, r in update_ratios(before, params).items():
                    self.history.update_ratios.setdefault(n, []).append(r)
            self.iteration += 1
            if mode not in (None, "lines") and self.iteration % 10 == 0:
                batches.set_postfix(loss=f"{value:.4f}")

    def _layer_stats(self, dataset):
        n = min(len(dataset), self.stats_samples)
        x, y = _fetch(dataset, np.arange(n))[:2]
        was_training = self.model.training
        self.model.eval()       # NOTE: eval mode: no dropout draws, no batch-norm running-stat updates
        try:
            stats, samples = layer_stats(self.model, x, y, self.loss_fn)
        finally:
            self.model.train(was_training)
        self.history.layer_stats.append(stats)
        self.history.activation_samples = samples

    # ***** the loop *****

    def fit(self, train_loader, val_loader=None, epochs=1, resume=None):
        """Train until ``epochs`` epochs are done (counting resumed ones) or early stopping.

        ``resume``: a checkpoint path, or ``"latest"`` for the newest one in ``checkpoint_dir``.
        Returns the ``History``.
        """
        if resume is not None:
            self.load_checkpoint(self._find_checkpoint() if resume == "latest" else resume, train_loader)
        mode = _progress.resolve(self.progress)
        train_eval = self._train_eval_loader(train_loader.dataset)
        h = self.history
        while self.epoch < epochs and not h.stopped_early:
            lr = float(self.optimizer.param_groups[0]["lr"])
            self._train_epoch(train_loader, mode, epochs)
            self.epoch += 1
            _, train_acc = self.evaluate(train_eval)
            val_loss, val_acc = self.evaluate(val_loader) if val_loader is not None else (float("nan"), train_acc)
            if self.scheduler_interval == "epoch":
                self._step_scheduler(val_loss)
            h.train_acc.append(train_acc), h.val_acc.append(val_acc), h.val_loss.append(val_loss)
            h.lr.append(lr), h.epoch_end_iter.append(self.iteration)
            if self.track_layers:
                self._layer_stats(train_loader.dataset)
            if h.best_val_acc is None or val_acc > h.best_val_acc:
                h.best_val_acc, h.best_epoch, self.bad_epochs = val_acc, self.epoch, 0
                self.best_state = _arrays(self.model.state_dict())
            else:
                self.bad_epochs += 1
            if self.patience is not None and self.bad_epochs >= self.patience:
                h.stopped_early = True
            if self.checkpoint_dir:
                self.save_checkpoint(os.path.join(self.checkpoint_dir, f"epoch{self.epoch:03d}_val{val_acc:.4f}.npz"),
                                     train_loader)
            ratio = np.median([r[-1] for r in h.update_ratios.values()]) if h.update_ratios else float("nan")
            _progress.say(f"epoch {self.epoch}/{epochs}: loss {h.loss[-1]:.4f}  train acc {train_acc:.3f}  "
                          f"val acc {val_acc:.3f}  lr {lr:.3g}  update/weight {ratio:.1e}"
                          + ("  (early stop)" if h.stopped_early else ""), mode)
        if self.restore_best and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return h

    # ***** checkpoints *****

    def state_dict(self, train_loader=None):
        """Everything needed to continue training exactly where it stands."""
        return {
            "epoch": self.epoch, "iteration": self.iteration, "bad_epochs": self.bad_epochs,
            "model": _arrays(self.model.state_dict()),
            "optimizer": _arrays(self.optimizer.state_dict()),
            "scheduler": _arrays(self.scheduler.state_dict()) if self.scheduler is not None else None,
            "history": self.history.to_dict(),
            "best_state": self.best_state,
            "rng": {"global": _generator().bit_generator.state,
                    "loader": train_loader.state_dict() if train_loader is not None else {}},
        }

    def load_state_dict(self, state, train_loader=None):
        """Restore a ``state_dict()``: model, optimiser, scheduler, history and random generators."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            if state.get("scheduler") is None:
                raise ValueError("the checkpoint has no scheduler state but this Trainer has a scheduler")
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.iteration, self.bad_epochs = state["epoch"], state["iteration"], state["bad_epochs"]
        self.history = History.from_dict(state["history"])
        self.best_state = state["best_state"]
        _generator().bit_generator.state = state["rng"]["global"]
        if train_loader is not None:
            train_loader.load_state_dict(state["rng"]["loader"])

    def save_checkpoint(self, path, train_loader=None):
        """Write ``state_dict()`` to ``path`` with ``mg.save`` (.npz, no pickle)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save(self.state_dict(train_loader), path)
        self.last_checkpoint = path

    def load_checkpoint(self, path, train_loader=None):
        """Restore a checkpoint written by ``save_checkpoint``."""
        self.load_state_dict(load(path), train_loader)

    def _find_checkpoint(self):
        if not self.checkpoint_dir:
            raise ValueError("resume='latest' needs a checkpoint_dir")
        found = [(int(_CKPT.match(os.path.basename(p)).group(1)), p)
                 for p in glob.glob(os.path.join(self.checkpoint_dir, "epoch*_val*.npz"))
                 if _CKPT.match(os.path.basename(p))]
        if not found:
            raise FileNotFoundError(f"no checkpoint epochNNN_val*.npz in {self.checkpoint_dir} to resume from")
        return max(found)[1]
