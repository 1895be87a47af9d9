"""Random hyper-parameter search, staged from coarse to fine (the notes' "Hyperparameter optimization").

Learning rates and regularisation strengths are sampled on a log scale (``LogUniform``), others such
as dropout on a linear one (``Uniform``) or from a list (``Choice``). After each stage the ranges are
narrowed around the best trials, and a ``BorderWarning`` says when the best value lies near the edge
of the range you gave (a better value may lie beyond it).
"""
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import progress as _progress


class BorderWarning(UserWarning):
    """The best value of a hyper-parameter lies at the border of its search range."""


class Uniform:
    """Sample uniformly from [low, high]."""
    log = False

    def __init__(self, low, high):
        if not low < high:
            raise ValueError(f"{type(self).__name__}: need low < high, got {low!r}, {high!r}")
        self.low, self.high = float(low), float(high)

    def _fwd(self, v):
        return v

    def _inv(self, u):
        return u

    def sample(self, rng):
        """One value."""
        return self._inv(rng.uniform(self._fwd(self.low), self._fwd(self.high)))

    def position(self, value):
        """Where ``value`` lies in the range, 0 (low) .. 1 (high), in the sampling scale."""
        a, b = self._fwd(self.low), self._fwd(self.high)
        return (self._fwd(value) - a) / (b - a)

    def narrow(self, values, margin=0.25):
        """A range (of the same kind, inside this one) around ``values``, widened by ``margin`` of their span."""
        u = [self._fwd(v) for v in values]
        a, b = self._fwd(self.low), self._fwd(self.high)
        span = max(max(u) - min(u), 0.1 * (b - a))
        lo, hi = max(a, min(u) - margin * span), min(b, max(u) + margin * span)
        return type(self)(self._inv(lo), self._inv(hi))

    def __repr__(self):
        return f"{type(self).__name__}({self.low:.3g}, {self.high:.3g})"


class LogUniform(Uniform):
    """Sample on a log scale: ``10 ** uniform(log10(low), log10(high))`` (learning rates, regularisation)."""
    log = True

    def __init__(self, low, high):
        if low <= 0:
            raise ValueError(f"LogUniform: low must be > 0, got {low!r}")
        super().__init__(low, high)

    def _fwd(self, v):
        return math.log10(v)

    def _inv(self, u):
        return 10.0 ** u


class Choice:
    """Sample one of ``options`` (kept as is from stage to stage)."""

    def __init__(self, options):
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice needs at least one option")

    def sample(self, rng):
        """One option."""
        return self.options[int(rng.integers(len(self.options)))]

    def __repr__(self):
        return f"Choice({self.options})"


@dataclass
class SearchResult:
    """All trials sorted best first, the ranges searched in each stage, and the best trial."""
    results: list
    stage_spaces: list = field(default_factory=list)

    @property
    def best(self):
        """The best trial: a dict with ``params``, ``score``, ``stage``, ``trial``."""
        return self.results[0]

    def table(self, top=None):
        """The trials as a text table, best first."""
        rows = self.results[:top] if top else self.results
        names = list(rows[0]["params"]) if rows else []
        head = f"{'rank':>4} {'stage':>5} {'score':>9} " + " ".join(f"{n:>12}" for n in names)
        lines = [head, "-" * len(head)]
        for rank, r in enumerate(rows, 1):
            cells = " ".join(f"{_fmt(r['params'][n]):>12}" for n in names)
            lines.append(f"{rank:>4} {r['stage']:>5} {r['score']:>9.4f} {cells}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def random_search(space, trials, objective, *, stages=1, keep=0.25, border=0.1, maximize=True, seed=None,
                  progress=False):
    """Random search over ``space`` (name -> ``LogUniform`` / ``Uniform`` / ``Choice``), coarse to fine.

    ``objective(params, stage)`` trains with the dict ``params`` and returns a score (e.g. validation
    accuracy; higher is better unless ``maximize=False``); ``stage`` (0, 1, ...) lets it train longer
    in later stages. ``trials`` is the number of trials per stage (an int, or one per stage). After
    each stage every continuous range is narrowed around the best ``keep`` fraction of that stage's
    trials. A trial whose objective returns NaN/inf (a diverged run) scores worst. A ``BorderWarning``
    names each parameter whose best value lies within ``border`` of either end of the range given.
    Returns a ``SearchResult`` (trials sorted best first; ``.table()`` prints them).
    """
    for name, dist in space.items():
        if not hasattr(dist, "sample"):
            raise TypeError(f"random_search: space[{name!r}] must be LogUniform, Uniform or Choice, "
                            f"got {type(dist).__name__}")
    per_stage = list(trials) if isinstance(trials, (list, tuple)) else [int(trials)] * int(stages)
    if len(per_stage) != stages and isinstance(trials, (list, tuple)):
        stages = len(per_stage)
    rng = np.random.default_rng(seed)
    mode = _progress.resolve(progress)
    sign = 1.0 if maximize else -1.0
    current, results, spaces = dict(space), [], []
    for stage, n in enumerate(per_stage):
        spaces.append(dict(current))
        stage_results = []
        for t in _progress.bar(range(n), n, f"search stage {stage + 1}/{len(per_stage)}", mode):
            params = {name: dist.sample(rng) for name, dist in current.items()}
            score = float(objective(params, stage))
            if not math.isfinite(score):
                score = -sign * float("inf")
            stage_results.append({"params": params, "score": score, "stage": stage, "trial": t})
            _progress.say(f"stage {stage} trial {t}: score {score:.4f}  "
                          + " ".join(f"{k}={_fmt(v)}" for k, v in params.items()), mode)
        results += stage_results
        if stage + 1 < len(per_stage):
            ranked = sorted(stage_results, key=lambda r: -sign * r["score"])
            top = ranked[:max(1, math.ceil(keep * len(ranked)))]
            current = {name: (dist.narrow([r["params"][name] for r in top]) if isinstance(dist, Uniform) else dist)
                       for name, dist in current.items()}
    results.sort(key=lambda r: -sign * r["score"])
    out = SearchResult(results, spaces)
    if results:
        for name, dist in space.items():
            if isinstance(dist, Uniform):
                pos = dist.position(out.best["params"][name])
                if pos <= border or pos >= 1 - border:
                    side = "low" if pos <= border else "high"
                    warnings.warn(f"the best {name}={_fmt(out.best['params'][name])} lies at the {side} border "
                                  f"of its range {dist}: better values may lie outside it; widen the range",
                                  BorderWarning, stacklevel=2)
    return out
