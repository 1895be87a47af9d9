"""Draw the README's pictures with minigrad itself: python docs/make_pictures.py (needs graphviz + dot).

The notes' 2-d sigmoid neuron f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = [2, -3, -3],
x = [-1, -2], gate by gate, with the value (green) and the gradient (red) on every wire.
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
    out = Path(args.out)
    for fmt in ("svg", "png"):
        path = out / f"sigmoid_neuron.{fmt}"
        path.write_bytes(graph.pipe(format=fmt))
        print("wrote", path)


if __name__ == "__main__":
    main()
