"""Random hyper-parameter search, coarse to fine (the notes' "Hyperparameter optimization"), on the
spiral data: a 2-layer ReLU net, learning rate and L2 strength sampled on a log scale, hidden size
from a list; stage 1 trains briefly over wide ranges, stage 2 longer over ranges narrowed around the
best trials. Prints the sorted results table; warns when a best value sits on its range's border.

    python examples/hyperparam_search.py
    python examples/hyperparam_search.py --quick
"""
import argparse
import os

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import make_spiral, train_val_split
from minigrad.train import Choice, LogUniform, random_search


def make_objective(Xtr, ytr, Xva, yva, iters):
    """Train a 2-layer net full-batch for ``iters[stage]`` steps of SGD; score = validation accuracy."""
    Xtr, ytr, Xva = mg.tensor(Xtr), mg.tensor(ytr), mg.tensor(Xva)

    def objective(params, stage):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, params["hidden"]), nn.ReLU(), nn.Linear(params["hidden"], 3))
        opt = optim.SGD(model.parameters(), lr=params["lr"], momentum=0.9, weight_decay=params["reg"])
        for _ in range(iters[stage]):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(Xtr), ytr)
            if not np.isfinite(loss.item()):
                return float("nan")                     # diverged: ranked last
            loss.backward()
            opt.step()
        with mg.no_grad():
            return float((model(Xva).argmax(-1).numpy() == yva).mean())
    return objective


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, nargs=2, default=[30, 15], help="trials in the coarse and fine stage")
    p.add_argument("--iters", type=int, nargs=2, default=[100, 600], help="training steps per trial, per stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.iters = [6, 3], [20, 40]
    os.makedirs(args.out, exist_ok=True)
    X, y = make_spiral(seed=args.seed)
    Xtr, Xva, ytr, yva = train_val_split(X.astype(np.float32), y, val_size=0.3, seed=args.seed)
    space = {"lr": LogUniform(1e-4, 1e1), "reg": LogUniform(1e-6, 1e-1), "hidden": Choice([25, 50, 100])}
    result = random_search(space, args.trials, make_objective(Xtr, ytr, Xva, yva, args.iters), seed=args.seed)
    table = result.table(top=10)
    print(table)
    for stage, s in enumerate(result.stage_spaces):
        print(f"stage {stage + 1} ranges: " + ", ".join(f"{k} {v}" for k, v in s.items()))
    best = result.best
    print(f"best: val acc {best['score']:.3f} with " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float)
                                                               else f"{k}={v}" for k, v in best["params"].items()))
    path = os.path.join(args.out, "search_results.txt")
    with open(path, "w") as f:
        f.write(result.table() + "\n")
    return {"best_score": best["score"], "best_params": best["params"], "trials": len(result.results),
            "table": path}


if __name__ == "__main__":
    main()
