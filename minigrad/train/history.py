"""History: the babysitting signals of one training run, as plain numbers (JSON-friendly)."""
import json
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """What a ``Trainer`` records (the notes' "Babysitting the learning process").

    Per iteration: ``loss``. Per epoch: ``train_acc``, ``val_acc``, ``val_loss``, ``lr`` and
    ``epoch_end_iter`` (the iteration count when the epoch ended, to plot against epochs).
    Every few iterations (at ``ratio_iters``): ``update_ratios[name]``, the norm of a parameter's
    update over the norm of its value (should be near 1e-3). Per epoch: ``layer_stats``, one dict
    per layer of activation and gradient statistics (``act_mean``, ``act_std``, ``act_zero_frac``,
    ``dead_frac``, ``grad_mean``, ``grad_std``), and ``activation_samples`` of the last epoch
    (a sample of each layer's outputs, for histograms).
    """
    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    epoch_end_iter: list = field(default_factory=list)
    ratio_iters: list = field(default_factory=list)
    update_ratios: dict = field(default_factory=dict)
    layer_stats: list = field(default_factory=list)
    activation_samples: dict = field(default_factory=dict)
    best_val_acc: float = None
    best_epoch: int = None
    stopped_early: bool = False

    @property
    def epochs(self):
        """The number of completed epochs."""
        return len(self.epoch_end_iter)

    def to_dict(self):
        """A dict of plain Python values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """Rebuild a History from ``to_dict()``'s output."""
        return cls(**d)

    def save_json(self, path):
        """Write the history to a JSON file."""
        with open(path, "w") as f:
            json.dump(self.to_dict(), f)

    @classmethod
    def load_json(cls, path):
        """Read a history written by ``save_json``."""
        with open(path) as f:
            return cls.from_dict(json.load(f))
