"""Saliency maps, occlusion maps and fooling images on the trained digits ConvNet.

    python examples/digits_convnet.py && python examples/saliency_and_fooling.py
    python examples/saliency_and_fooling.py --quick      # trains a small net itself first

Loads --model (written by digits_convnet.py; trains a quick one when it is missing), then with
minigrad.explain: the data gradient of the class score (saliency), the class probability as a
patch is occluded, and adversarial "fooling" images that the net calls another digit although
they barely changed. Saves one figure per method to --out.
"""
import argparse
import os

import numpy as np

import minigrad as mg
from minigrad.explain import class_model_image, fooling_image, occlusion_map, saliency


def load_or_train(path, quick, out):
    """The digits ConvNet from ``path``; trained here (quickly) when the file is missing."""
    import digits_convnet as dc
    if not os.path.isfile(path):
        print(f"{path} not found: training a model first")
        path = dc.main((["--quick"] if quick else []) + ["--quiet", "--out", out])["model"]
    state = mg.load(path)
    model = dc.ConvNet(width=state["width"])
    model.load_state_dict(state["model"])
    return model.eval(), dc.load_splits()


def _rows(plt, images, titles, path, cmap="gray"):
    fig, axes = plt.subplots(len(images), len(images[0]), figsize=(1.6 * len(images[0]), 1.7 * len(images)),
                             squeeze=False)
    for r, row in enumerate(images):
        for c, img in enumerate(row):
            axes[r, c].imshow(img, cmap=cmap, interpolation="nearest")
            axes[r, c].set_title(titles[r][c], fontsize=7)
            axes[r, c].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="default: OUT/digits_convnet.npz")
    p.add_argument("--count", type=int, default=6, help="how many test images to explain")
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    model, data = load_or_train(args.model or os.path.join(args.out, "digits_convnet.npz"), args.quick, args.out)
    Xte, yte = data["test"]
    x, y = mg.tensor(Xte[:args.count]), yte[:args.count]
    pred = model(x).argmax(-1).numpy()
    print(f"test images {y.tolist()} predicted as {pred.tolist()}")

    sal = saliency(model, x, y).numpy()                                   # (n, 8, 8)
    occ = np.stack([occlusion_map(model, x[i], int(y[i]), patch=3).numpy() for i in range(len(y))])
    target = (y + 1) % 10                                                  # call each digit the next one
    fooled = fooling_image(model, x, target, steps=300, lr=0.1)
    fooled_pred = model(fooled).argmax(-1).numpy()
    success = float((fooled_pred == target).mean())
    change = np.abs((fooled - x).numpy()).reshape(len(y), -1).max(1) / np.abs(Xte).max()
    print(f"fooling: {success:.0%} of images now classified as the next digit; "
          f"largest pixel change {change.max():.1%} of the pixel range")
    steps = 20 if args.quick else 100
    dreams = [class_model_image(model, c, (1, 8, 8), steps=steps, lr=0.5, l2_reg=1e-2).numpy()[0] for c in range(10)]

    from minigrad.train.plots import _plt
    plt = _plt()
    imgs = Xte[:args.count, 0]
    plots = [
        _rows(plt, [list(imgs), list(sal)], [[f"label {c}" for c in y], ["saliency"] * len(y)],
              os.path.join(args.out, "saliency.png")),
        _rows(plt, [list(imgs), list(occ)], [[f"label {c}" for c in y], ["P(label), occluded"] * len(y)],
              os.path.join(args.out, "occlusion.png")),
        _rows(plt, [list(imgs), list(fooled.numpy()[:, 0]), list((fooled - x).numpy()[:, 0])],
              [[f"{c}" for c in pred], [f"-> {c}" for c in fooled_pred], ["difference"] * len(y)],
              os.path.join(args.out, "fooling.png")),
        _rows(plt, [dreams], [[f"class {c}" for c in range(10)]], os.path.join(args.out, "class_models.png")),
    ]
    print("wrote " + ", ".join(os.path.basename(q) for q in plots))
    return {"fooling_success": success, "accuracy": float((pred == y).mean()), "plots": plots}


if __name__ == "__main__":
    main()
