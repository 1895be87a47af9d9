"""Transfer learning on the digits (the notes' "Transfer Learning"): pretrain a ConvNet on digits 0-4,
then learn digits 5-9 from few examples (a) with the ConvNet as a fixed feature extractor (only a
new linear classifier is trained) and (b) by fine-tuning everything with a 10x smaller learning rate
for the pretrained layers (optimiser parameter groups), against (c) the same net trained from
scratch and (d) a linear classifier on the codes of an untrained net (what pretraining adds).

    python examples/transfer.py                    # 3 seeds, 10 examples per new class
    python examples/transfer.py --per-class 2 10   # a row per new data set size
    python examples/transfer.py --quick

The new data goes through the pretraining's preprocessing (its Normalizer), as a pretrained net
expects. Every method gets the same number of update steps and keeps its best epoch by validation
accuracy; the fixed extractor's layer (after conv block 1 or 2) is chosen on the validation split
too (the notes: later layers are more specific to the original classes). Only the chosen models
are scored on the test split. Each seed draws a new split, pretraining and few-shot sample; the
table gives the mean and standard deviation over seeds.

What it finds (README, "Training models"): on 8x8 digits the codes pretrained on 0-4 are hardly better
for 5-9 than an untrained net's, and the small ConvNet trained from scratch is as good as either
transfer method; the verdict line says so from the numbers of each run.
"""
import argparse
import copy

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.train import Trainer

import digits_convnet as dc


class FixedFeatures(nn.Module):
    """A frozen pretrained ConvNet (always in eval mode: its batch-norm statistics stay fixed) under a
    new trainable linear classifier."""

    def __init__(self, features, num_classes):
        super().__init__()
        self.features = features.requires_grad_(False)
        self.classifier = nn.Linear(_code_size(features), num_classes)

    def train(self, mode=True):
        super().train(mode)
        self.features.eval()
        return self

    def forward(self, x):
        return self.classifier(self.features(x))


def _code_size(features):
    with mg.no_grad():
        return features.eval()(mg.zeros(1, 1, 8, 8)).shape[1]


def cut_after_block(features, block):
    """The CNN codes after conv block 1 or 2 (conv-BN-ReLU-pool each) of ``ConvNet.features``, flattened."""
    layers = list(features)
    return nn.Sequential(*layers[:4 * block], nn.Flatten()) if block == 1 else nn.Sequential(*layers)


def _few_shot(split, per_class, rng):
    """A small new data set: ``per_class`` random training examples of each class, labels from 0."""
    X, y = split
    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    return X[keep], y[keep] - 5


def _fit(model, optimizer, train, val, steps):
    """Train for ``steps`` updates (whole epochs), keeping the best epoch by validation accuracy."""
    trainer = Trainer(model, optimizer, progress=False, track_layers=False, ratio_every=0)
    history = trainer.fit(train, val, epochs=-(-steps // len(train)))
    return trainer, history.best_val_acc


def run_seed(seed, per_class, args):
    """One pretraining on digits 0-4, then every method on 5-9 for each size in ``per_class``."""
    mg.manual_seed(seed)
    width = 8 if args.quick else 16
    old = dc.load_splits(seed, classes=[0, 1, 2, 3, 4])
    new = dc.load_splits(seed, classes=[5, 6, 7, 8, 9], normalizer=old["normalizer"])
    base = dc.ConvNet(num_classes=5, width=width)
    pretrain = DataLoader(TensorDataset(*old["train"]), 32, shuffle=True, seed=seed)
    pre, _ = _fit(base, optim.Adam(base.parameters(), lr=args.lr), pretrain,
                  DataLoader(TensorDataset(*old["val"]), 500), args.pretrain_epochs * len(pretrain))
    pre_acc = pre.accuracy(DataLoader(TensorDataset(*old["test"]), 500))
    untrained = dc.ConvNet(num_classes=5, width=width)
    val = DataLoader(TensorDataset(new["val"][0], new["val"][1] - 5), 500)
    test = DataLoader(TensorDataset(new["test"][0], new["test"][1] - 5), 500)
    rng = np.random.default_rng(seed)
    results = {}
    for n in per_class:
        train = DataLoader(TensorDataset(*_few_shot(new["train"], n, rng)), 32, shuffle=True, seed=seed)
        row = {}

        # (a) fixed feature extractor: a new linear classifier on the frozen codes of block 1 or 2,
        #     whichever does better on the validation split
        heads = []
        for block in (1, 2):
            fixed = FixedFeatures(cut_after_block(copy.deepcopy(base.features), block), 5)
            trainer, val_acc = _fit(fixed, optim.Adam(fixed.classifier.parameters(), lr=args.head_lr),
                                    train, val, args.steps)
            heads.append((val_acc, -block, trainer))          # ties go to the later block
        val_acc, block, trainer = max(heads, key=lambda h: h[:2])
        row["fixed feature extractor"] = trainer.accuracy(test)
        row["block"] = -block

        # (b) fine-tuning: a new classifier at head_lr, the pretrained layers at lr / 10 (parameter groups)
        tuned = copy.deepcopy(base)
        tuned.classifier = nn.Linear(tuned.classifier.in_features, 5)
        opt = optim.Adam([{"params": tuned.features.parameters(), "lr": args.lr / 10},
                          {"params": tuned.classifier.parameters()}], lr=args.head_lr)
        row["fine-tuning (features at lr/10)"] = _fit(tuned, opt, train, val, args.steps)[0].accuracy(test)

        # (c) the same net from scratch on the same few examples
        scratch = dc.ConvNet(num_classes=5, width=width)
        row["from scratch"] = _fit(scratch, optim.Adam(scratch.parameters(), lr=args.lr),
                                   train, val, args.steps)[0].accuracy(test)

        # (d) the codes of an untrained net, frozen: how much of (a) is owed to pretraining
        rand = FixedFeatures(cut_after_block(copy.deepcopy(untrained.features), row["block"]), 5)
        row["untrained net's codes"] = _fit(rand, optim.Adam(rand.classifier.parameters(), lr=args.head_lr),
                                            train, val, args.steps)[0].accuracy(test)
        results[n] = row
    return pre_acc, results


METHODS = ["fixed feature extractor", "fine-tuning (features at lr/10)", "from scratch", "untrained net's codes"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-epochs", type=int, default=15)
    p.add_argument("--steps", type=int, default=150, help="update steps for each method on the new classes")
    p.add_argument("--per-class", type=int, nargs="+", default=[10], help="training examples per new class (5-9)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate of a network's layers")
    p.add_argument("--head-lr", type=float, default=1e-2, help="Adam learning rate of a new classifier")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="the first seed")
    p.add_argument("--out", default="out", help="unused; accepted like every example")
    p.add_argument("--quick", action="store_true", help="1 seed, 2 pretraining epochs, 30 steps")
    args = p.parse_args(argv)
    if args.quick:
        args.pretrain_epochs, args.steps, args.seeds = 2, 30, 1

    seeds = range(args.seed, args.seed + args.seeds)
    runs = [run_seed(s, args.per_class, args) for s in seeds]
    pre = np.array([r[0] for r in runs])
    print(f"pretrained on digits 0-4: test accuracy {pre.mean():.3f} +- {pre.std():.3f} over {len(runs)} seed(s)")
    table = {}
    for n in args.per_class:
        print(f"\ndigits 5-9 from {n} examples per class: test accuracy, mean +- std over {len(runs)} seed(s)")
        table[n] = {}
        for m in METHODS:
            acc = np.array([r[1][n][m] for r in runs])
            table[n][m] = {"mean": float(acc.mean()), "std": float(acc.std()), "runs": acc.tolist()}
            print(f"  {m:<34} {acc.mean():.3f} +- {acc.std():.3f}")
        blocks = [r[1][n]["block"] for r in runs]
        print(f"  (fixed features: block {'/'.join(map(str, blocks))} chosen on validation)")
        best_transfer = max(table[n][METHODS[0]]["mean"], table[n][METHODS[1]]["mean"])
        gap = best_transfer - table[n]["from scratch"]["mean"]
        spread = max(table[n][m]["std"] for m in METHODS[:3])
        if len(runs) < 2:
            verdict = "one seed: no spread to judge the difference by"
        else:
            verdict = ("transfer wins" if gap > spread else "from scratch wins" if -gap > spread else
                       "transfer and from scratch are within the spread over seeds")
        gain = table[n][METHODS[0]]["mean"] - table[n][METHODS[3]]["mean"]
        print(f"  => {verdict} (best transfer - scratch = {gap:+.3f}); pretraining's gain on the frozen "
              f"codes: {gain:+.3f} over an untrained net's")
        table[n]["verdict"], table[n]["pretraining_gain"] = verdict, gain
    return {"pretrain_acc": float(pre.mean()), "table": table}


if __name__ == "__main__":
    main()
