"""A small ConvNet on scikit-learn's 8x8 handwritten digits: the README's main command.

    python examples/digits_convnet.py            # full run: ~97-99% test accuracy
    python examples/digits_convnet.py --quick    # a few seconds: a smoke test

conv-BN-ReLU-pool blocks, dropout and Adam, trained by minigrad.train.Trainer with progress bars;
writes to --out: the training plots (loss, accuracy, update/weight ratios, activation histograms,
first-layer filters), the rendered backward graph of one training step, checkpoints named with
their validation accuracy, and the final model (digits_convnet.npz) for saliency_and_fooling.py.
Needs the examples extra: pip install minigrad[examples]
"""
import argparse
import json
import os
import time

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import DataLoader, Normalizer, TensorDataset, load_digits, train_val_split
from minigrad.nn.conv import Conv2d, MaxPool2d
from minigrad.train import (Trainer, plot_activation_histograms, plot_filters, plot_history,
                            plot_update_ratios)


class ConvNet(nn.Module):
    """[conv-BN-ReLU-pool] x 2 -> dropout -> linear: (N, 1, 8, 8) -> (N, num_classes) scores."""

    def __init__(self, num_classes=10, width=16, dropout=0.3):
        super().__init__()
        self.features = nn.Sequential(
            Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), MaxPool2d(2),          # (N, w, 4, 4)
            Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), MaxPool2d(2),  # (N, 2w, 2, 2)
            nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * width * 4, num_classes)

    def forward(self, x):
        return self.classifier(self.dropout(self.features(x)))


def load_splits(seed=0, classes=None, normalizer=None):
    """Digits split 64/16/20 into train/val/test, standardised with statistics of the train split only
    (or with ``normalizer``, already fitted: a pretrained net wants its own preprocessing)."""
    X, y = load_digits()
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    Xrest, Xte, yrest, yte = train_val_split(X, y, val_size=0.2, seed=seed)
    Xtr, Xva, ytr, yva = train_val_split(Xrest, yrest, val_size=0.2, seed=seed + 1)
    norm = normalizer or Normalizer(axis=None).fit(Xtr)     # one mean and std for all pixels, from train only
    return {"train": (norm.transform(Xtr), ytr), "val": (norm.transform(Xva), yva),
            "test": (norm.transform(Xte), yte), "normalizer": norm}


def render_backward_graph(model, x, y, out_dir):
    """Draw the graph of one training step's loss (with its gradients) if minigrad.viz is there."""
    try:
        from minigrad import viz
    except ImportError:
        return None
    model.train()
    loss = nn.functional.cross_entropy(model(x), y)
    viz.retain_all_grads(loss)
    loss.backward()
    model.zero_grad()
    try:
        dot = viz.draw_graph(loss, model=model, show_values=False, title="one training step")
    except ImportError:                       # no graphviz package: a text picture instead
        path = os.path.join(out_dir, "backward_graph.txt")
        with open(path, "w") as f:
            f.write(viz.text_graph(loss))
        return path
    try:
        with open(os.path.join(out_dir, "backward_graph.svg"), "wb") as f:
            f.write(dot.pipe(format="svg"))
        return os.path.join(out_dir, "backward_graph.svg")
    except Exception:                         # graphviz's `dot` program missing: keep the DOT source
        path = os.path.join(out_dir, "backward_graph.dot")
        with open(path, "w") as f:
            f.write(dot.source)
        return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true", help="2 epochs on 400 examples (a smoke test)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.width = 2, 8
    os.makedirs(args.out, exist_ok=True)
    mg.manual_seed(args.seed)

    data = load_splits(args.seed)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = data["train"], data["val"], data["test"]
    if args.quick:
        Xtr, ytr = Xtr[:400], ytr[:400]
    print(f"digits: {len(Xtr)} train, {len(Xva)} val, {len(Xte)} test images of 8x8")
    train = DataLoader(TensorDataset(Xtr, ytr), args.batch_size, shuffle=True, seed=args.seed)
    val = DataLoader(TensorDataset(Xva, yva), 500)
    test = DataLoader(TensorDataset(Xte, yte), 500)

    model = ConvNet(width=args.width)
    graph = render_backward_graph(model, mg.tensor(Xtr[:2]), mg.tensor(ytr[:2]), args.out)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.3)
    trainer = Trainer(model, optimizer, scheduler=scheduler, checkpoint_dir=os.path.join(args.out, "checkpoints"),
                      progress=False if args.quiet else "auto", patience=8)
    start = time.time()
    history = trainer.fit(train, val, epochs=args.epochs)
    seconds = time.time() - start
    _, test_acc = trainer.evaluate(test)     # the best model by validation accuracy
    print(f"best val acc {history.best_val_acc:.4f} (epoch {history.best_epoch}); "
          f"test acc {test_acc:.4f}; {seconds:.1f} s")

    plots = [plot_history(history, os.path.join(args.out, "digits_history.png")),
             plot_update_ratios(history, os.path.join(args.out, "digits_update_ratios.png")),
             plot_activation_histograms(history.activation_samples, os.path.join(args.out, "digits_activations.png"),
                                        history.layer_stats[-1]),
             plot_filters(model.features[0].weight, os.path.join(args.out, "digits_filters.png"))]
    model_path = os.path.join(args.out, "digits_convnet.npz")
    mg.save({"model": model.state_dict(), "width": args.width, "normalizer": data["normalizer"].state_dict()},
            model_path)
    history.save_json(os.path.join(args.out, "digits_history.json"))
    result = {"test_acc": test_acc, "best_val_acc": history.best_val_acc, "epochs": history.epochs,
              "seconds": seconds, "model": model_path, "plots": plots, "graph": graph,
              "checkpoint": trainer.last_checkpoint}
    with open(os.path.join(args.out, "digits_result.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("wrote " + ", ".join(os.path.basename(x) for x in plots + [model_path] + ([graph] if graph else [])))
    return result


if __name__ == "__main__":
    main()
