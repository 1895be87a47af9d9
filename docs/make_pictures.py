"""Draw the README's pictures with minigrad itself: python docs/make_pictures.py (needs graphviz + dot).

sigmoid_neuron.{svg,png}: the notes' 2-d sigmoid neuron f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2)))
at w = [2, -3, -3], x = [-1, -2], gate by gate, with the value (green) and the gradient (red) on every wire.
mlp_graph.{svg,png}: a 2-layer nn MLP's softmax loss on a batch of 5, one cluster per module.
"""
import argparse
from pathlib import Path

import minigrad as mg


def sigmoid_neuron():
    """The circuit, with named inputs and every intermediate gradient kept."""
    w = [mg.tensor(v, dtype="float64", requires_grad=True) for v in (2.0, -3.0, -3.0)]
    x = [mg.tensor(v, dtype="float64", requires_grad=True) for v in (-1.0, -2.0)]
    for i, t in enumerate(w):
        t.name = f"w{i}"
    for i, t in enumerate(x):
        t.name = f"x{i}"
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1.0 + (-dot).exp())
    f.name = "f"
    mg.viz.retain_all_grads(f)
    f.backward()
    return f, w, x


def mlp_loss():
    """A 2-layer MLP (2 -> 4 -> 3) and its cross-entropy loss on 5 points, backward done."""
    from minigrad import nn
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    x = mg.randn(5, 2)
    x.name = "x (batch)"
    with mg.viz.module_scopes(model):        # every gate a module makes is tagged with its path
        scores = model(x)
    loss = nn.functional.cross_entropy(scores, mg.tensor([0, 1, 2, 1, 0]))
    loss.name = "loss"
    mg.viz.retain_all_grads(loss)
    loss.backward()
    return model, loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="output folder")
    args = parser.parse_args()
    f, w, x = sigmoid_neuron()
    print(f"f = {f.item():.2f}; dx = {[round(t.grad.item(), 2) for t in x]}; "
          f"dw = {[round(t.grad.item(), 2) for t in w]}")
    # top to bottom: the circuit is 11 nodes long, too wide to read at README width left to right
    graph = mg.viz.draw_graph(f, digits=2, show_shapes=False, rankdir="TB",
                              title="the notes' sigmoid neuron: values (green), gradients (red)")
    graph.graph_attr.update(dpi="110")
    model, loss = mlp_loss()
    mlp = mg.viz.draw_graph(loss, model=model, rankdir="TB",
                            title="a 2-layer MLP: one box per module, the loss's gradient on every wire")
    mlp.graph_attr.update(dpi="80")
    out = Path(args.out)
    for name, picture in (("sigmoid_neuron", graph), ("mlp_graph", mlp)):
        for fmt in ("svg", "png"):
            path = out / f"{name}.{fmt}"
            path.write_bytes(picture.pipe(format=fmt))
            print("wrote", path)


if __name__ == "__main__":
    main()
