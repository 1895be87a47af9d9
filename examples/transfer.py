"""Transfer learning on the digits (the notes' "Transfer Learning"): pretrain a ConvNet on digits 0-4,
then learn digits 5-9 from few examples (a) with the ConvNet as a fixed feature extractor (only a
new classifier is trained) and (b) by fine-tuning everything with a 10x smaller learning rate for
the pretrained layers (optimiser parameter groups), against (c) the same net trained from scratch.

    python examples/transfer.py
    python examples/transfer.py --quick
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


def _loaders(split, labels_from, per_class=None, seed=0, batch=32):
    (X, y) = split
    if per_class is not None:                      # a small new data set: the first few of each class
        keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
        X, y = X[keep], y[keep]
    return DataLoader(TensorDataset(X, y - labels_from), batch, shuffle=True, seed=seed)


def _fit(model, optimizer, train, val, epochs, quiet=True):
    trainer = Trainer(model, optimizer, progress=False if quiet else "auto", track_layers=False, ratio_every=0)
    trainer.fit(train, val, epochs=epochs)
    return trainer


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-epochs", type=int, default=15)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--per-class", type=int, default=10, help="training examples per new class (5-9)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.pretrain_epochs, args.epochs = 2, 3
    mg.manual_seed(args.seed)

    old, new = dc.load_splits(args.seed, classes=[0, 1, 2, 3, 4]), dc.load_splits(args.seed, classes=[5, 6, 7, 8, 9])
    base = dc.ConvNet(num_classes=5, width=8 if args.quick else 16)
    pre = _fit(base, optim.Adam(base.parameters(), lr=args.lr), _loaders(old["train"], 0),
               DataLoader(TensorDataset(*old["val"]), 500), args.pretrain_epochs)
    pre_acc = pre.accuracy(DataLoader(TensorDataset(*old["test"]), 500))
    print(f"pretrained on digits 0-4: test accuracy {pre_acc:.3f}")

    train = _loaders(new["train"], 5, per_class=args.per_class, seed=args.seed)
    val = DataLoader(TensorDataset(new["val"][0], new["val"][1] - 5), 500)
    test = DataLoader(TensorDataset(new["test"][0], new["test"][1] - 5), 500)
    results = {}

    # (a) fixed feature extractor: freeze the ConvNet, train a new linear classifier on its codes
    fixed = FixedFeatures(copy.deepcopy(base.features), 5)
    results["fixed feature extractor"] = _fit(fixed, optim.Adam(fixed.classifier.parameters(), lr=args.lr),
                                              train, val, args.epochs).accuracy(test)

    # (b) fine-tuning: a new classifier at lr, the pretrained layers at lr / 10 (parameter groups)
    tuned = copy.deepcopy(base)
    tuned.classifier = nn.Linear(tuned.classifier.in_features, 5)
    opt = optim.Adam([{"params": tuned.features.parameters(), "lr": args.lr / 10},
                      {"params": tuned.classifier.parameters()}], lr=args.lr)
    results["fine-tuning (features at lr/10)"] = _fit(tuned, opt, train, val, args.epochs).accuracy(test)

    # (c) the same net from scratch on the same few examples
    scratch = dc.ConvNet(num_classes=5, width=8 if args.quick else 16)
    results["from scratch"] = _fit(scratch, optim.Adam(scratch.parameters(), lr=args.lr),
                                   train, val, args.epochs).accuracy(test)

    print(f"\ndigits 5-9 from {args.per_class} examples per class, test accuracy:")
    for name, acc in results.items():
        print(f"  {name:<34} {acc:.3f}")
    return {"pretrain_acc": pre_acc, **results}


if __name__ == "__main__":
    main()
