"""minigrad.viz: the traced graph, its DOT picture with values and gradients, and the text tree."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import viz
from minigrad.testing import broadcastable_shapes, tensors

graphviz = pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")


def scalar(v, name):
    t = mg.tensor(v, dtype="float64", requires_grad=True)
    t.name = name
    return t


def sigmoid_neuron():
    """The notes' 2-d sigmoid neuron, f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), gate by gate."""
    w = [scalar(v, f"w{i}") for i, v in enumerate((2.0, -3.0, -3.0))]
    x = [scalar(v, f"x{i}") for i, v in enumerate((-1.0, -2.0))]
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1.0 + (-dot).exp())
    f.name = "f"
    return f, w, x


def node_label(source, node_id):
    """The HTML label of one node in DOT text."""
    m = re.search(rf"\t{node_id} \[label=<(.*?)>(?: \w+=|\])", source)
    assert m, f"node {node_id} not found in\n{source}"
    return m.group(1)


def by_name(graph):
    return {n.name: n for n in graph.nodes if n.name}


# ***** the notes' circuits, with their numbers *****

def test_sigmoid_neuron_picture_has_the_notes_values_and_gradients():
    f, w, x = sigmoid_neuron()
    viz.retain_all_grads(f)
    f.backward()
    d = viz.draw_graph(f, digits=2)
    src = d.source
    names = by_name(d.graph_info)
    expected = {"f": ("0.73", "1"), "x0": ("-1", "0.39"), "x1": ("-2", "-0.59"),   # dx = [w0, w1] * 0.2
                "w0": ("2", "-0.2"), "w1": ("-3", "-0.39"), "w2": ("-3", "0.2")}   # dw = [x0, x1, 1] * 0.2
    for name, (value, grad) in expected.items():
        label = node_label(src, names[name].id)
        assert f">{value}</FONT>" in label and f">grad {grad}</FONT>" in label, (name, label)
    # the intermediate wires carry the notes' numbers too: 1.37 -> grad -0.53, exp -> 0.37, dot -> 1
    labels = [node_label(src, n.id) for n in d.graph_info.tensors() if f"\t{n.id} [" in src]
    for value, grad in [("1.4", "-0.53"), ("0.37", "-0.53"), ("-1", "-0.2"), ("1", "0.2")]:
        assert any(f">{value}</FONT>" in lb and f">grad {grad}</FONT>" in lb for lb in labels), (value, grad)
    # the constants 1 are written into their gates as the notes' unary gates "+1" and "1/x",
    # with the notes' local gradients: +1 passes g on, 1/x multiplies it by -1/x^2
    assert "1 / x" in src and "1 + x" in src
    div = node_label(src, d.graph_info.inputs[names["f"].id][0])
    assert "1 / x" in div and "-g / x^2" in div and "g/b" not in div
    assert src.count("passes g to x") == 1 and src.count("distributes g to both inputs") == 2
    assert len(d.graph_info.gates()) == 8


def test_first_circuit_nodes_and_edges():
    x, y, z = scalar(-2.0, "x"), scalar(5.0, "y"), scalar(-4.0, "z")
    q = x + y
    q.name = "q"
    f = q * z
    f.name = "f"
    g = viz.trace(f)
    n = by_name(g)
    add, mul = n["q"], n["f"]
    add_gate, mul_gate = g.inputs[add.id][0], g.inputs[mul.id][0]
    assert g[add_gate].obj.label == "Add" and g[mul_gate].obj.label == "Mul"
    assert set(g.edges) == {(n["x"].id, add_gate), (n["y"].id, add_gate), (add_gate, add.id),
                            (add.id, mul_gate), (n["z"].id, mul_gate), (mul_gate, mul.id)}
    assert g.inputs[mul_gate] == [add.id, n["z"].id]        # input order is the gate's order
    assert [m.kind for m in (n["x"], n["q"], n["f"])] == ["leaf", "intermediate", "output"]


def test_gradients_of_intermediates_need_retain_all_grads():
    f, w, x = sigmoid_neuron()
    f.backward()
    d = viz.draw_graph(f, digits=2)
    inner = [n for n in d.graph_info.tensors() if n.kind == "intermediate"]
    assert inner and all(">grad" not in node_label(d.source, n.id) for n in inner)
    assert "grad -0.59" in node_label(d.source, by_name(d.graph_info)["x1"].id)   # leaves keep theirs
    f2, _, _ = sigmoid_neuron()
    assert viz.retain_all_grads(f2) is f2
    f2.backward()
    g = viz.trace(f2)
    assert all(n.obj.grad is not None for n in g.tensors() if n.kind != "constant")


def test_show_flags_hide_values_grads_and_shapes():
    f, _, _ = sigmoid_neuron()
    f.backward()
    src = viz.draw_graph(f, show_values=False, show_grads=False, show_shapes=False).source
    assert ">grad" not in src and "float64" not in src and "0.731" not in src
    src = viz.draw_graph(f).source
    assert ">grad" in src and "float64" in src and "0.731" in src


# ***** what the picture teaches: kinds, routing, gradient flags *****

def test_parameters_leaves_constants_and_output_look_different():
    W = mg.randn(3, 2, dtype="float64", requires_grad=True)
    x = mg.randn(4, 3, dtype="float64", requires_grad=True)
    c = mg.tensor(np.ones((4, 2)))
    out = (x @ W + c).sum()
    d = viz.draw_graph(out, params={"fc1.weight": W}, inline_constants=False)
    kinds = {n.kind: n for n in d.graph_info.nodes}
    assert {"param", "leaf", "constant", "output", "gate", "intermediate"} <= set(kinds)
    assert kinds["param"].name == "fc1.weight" and "fc1.weight" in d.source
    lines = {k: next(line for line in d.source.splitlines() if line.strip().startswith(f"{n.id} ["))
             for k, n in kinds.items()}
    styles = {k: re.search(r"fillcolor=\"?([#\w]+)", line).group(1) if "fillcolor" in line else
              re.search(r"style=\"?([\w,]+)", line).group(1) for k, line in lines.items()}
    assert len(set(styles.values())) == len(styles), styles


def test_gates_are_annotated_with_how_they_route_the_gradient():
    a, b = scalar(3.0, "a"), scalar(1.0, "b")
    out = (a + b) * mg.maximum(a, b)
    src = viz.draw_graph(out).source
    for words in ("distributes g", "swaps its inputs", "routes g to the larger input"):
        assert words in src
    assert "swaps its inputs" not in viz.draw_graph(out, annotate=False).source


@pytest.mark.parametrize("make, text, routing", [
    (lambda x: x * 10.0, "x * 10", "g * 10"), (lambda x: x / 4.0, "x / 4", "g / 4"),
    (lambda x: 3.0 / x, "3 / x", "-g * 3 / x^2"), (lambda x: 2.0 - x, "2 - x", "negates g"),
    (lambda x: x - 2.0, "x - 2", "passes g to x"), (lambda x: mg.maximum(x, mg.tensor(0.5, dtype="float64")),
                                                      "max(x, 0.5)", "passes g where x &gt; 0.5")])
def test_gates_with_an_inlined_constant_show_its_local_gradient(make, text, routing):
    src = viz.draw_graph(make(scalar(2.0, "x"))).source
    assert text in src and routing in src, src


def test_user_gate_brings_its_own_routing_note():
    class Double(mg.Function):
        routing = "doubles g"
        def forward(self, x): return 2 * x
        def backward(self, g): return g * 2.0
    src = viz.draw_graph(Double.apply(scalar(1.0, "x"))).source
    assert "Double" in src and "doubles g" in src


def test_a_node_shown_above_keeps_its_place_in_the_tree():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2.0
    a.name = "a"
    text = viz.text_graph((((a + 1.0) * (a - 1.0)) + a).sum())
    lines = text.splitlines()
    sub = next(i for i, line in enumerate(lines) if "Sub" in line)
    assert lines[sub + 1] == lines[sub].split("└── ")[0] + "    ├── #4 a (shown above)", text
    assert lines[-1] == "└── #4 a (shown above)", text


def test_tracing_changes_nothing_after_an_inplace_op_through_a_view():
    """u was recorded on v's old value; after v.mul_ the old view gate's output is held by no tensor.
    Tracing (or copying a tensor the walk reaches) must not link it: every trace draws the same."""
    import copy
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 1.0
    v = y[0]
    u = v * 2.0
    v.mul_(3.0)
    z = v.sum() + u.sum()
    first = viz.trace(z)
    for node in first.tensors():
        copy.copy(node.obj)
    again = viz.trace(z)
    assert again.edges == first.edges and viz.text_graph(z) == viz.text_graph(z)
    assert u.grad_fn.parents[0].output is None
    z.backward()
    np.testing.assert_allclose(x.grad.data, [[5.0, 5.0, 5.0], [0.0, 0.0, 0.0]])   # 3 through v, 2 through u


def test_dead_relu_and_dead_units_are_flagged():
    x = mg.tensor(-np.ones((4, 3)), requires_grad=True)
    src = viz.draw_graph(x.relu().sum()).source
    assert "dead: all outputs 0" in src
    h = mg.tensor(np.array([[1.0, -1.0, 2.0], [3.0, -2.0, -1.0]]), requires_grad=True)
    text = viz.text_graph(h.relu().sum())
    assert "dead units: 1/3" in text          # the middle unit is 0 for the whole batch
    alive = mg.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    assert "dead" not in viz.draw_graph(alive.relu().sum()).source


@pytest.mark.filterwarnings("ignore::RuntimeWarning")    # numpy notes the 1/0 we plant
def test_nan_zero_and_exploding_gradients_are_flagged():
    x = mg.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    y = x.sqrt().sum()                       # d sqrt(x)/dx = inf at 0
    y.backward()
    assert "Inf grad" in viz.draw_graph(y).source
    z = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (z * 0.0).sum().backward()
    assert "zero grad" in viz.text_graph((z * 0.0).sum())
    big = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    loss = (big * 1e6).sum()
    loss.backward()
    src = viz.draw_graph(loss).source
    assert "exploding grad" in src and "zero grad" not in src
    n = mg.tensor([-1.0], dtype="float64", requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = n.log()
    assert "NaN value" in viz.draw_graph(out).source
    clean, _, _ = sigmoid_neuron()
    clean.backward()
    assert "⚠" not in viz.draw_graph(clean).source


def test_edges_weighted_by_gradient_magnitude():
    a, b = scalar(1.0, "a"), scalar(100.0, "b")
    out = a * b                               # grad a = 100, grad b = 1
    out.backward()
    d = viz.draw_graph(out)
    n = by_name(d.graph_info)
    width = {k: float(re.search(rf"\t{n[k].id} -> \w+ \[.*penwidth=([\d.]+)", d.source).group(1))
             for k in ("a", "b")}
    assert width["a"] > width["b"] >= 1.0


def test_large_tensors_show_a_summary():
    x = mg.tensor(np.arange(100.0), requires_grad=True)
    src = viz.draw_graph((x * 2.0).sum(), max_values=6).source
    assert "mean 49.5" in src and "in [0, 99]" in src
    assert "std 28.9<BR/>in [0, 99]" in src             # the range on its own line keeps nodes narrow
    assert "std 28.9 in [0, 99]" in viz.text_graph((x * 2.0).sum())
    small = mg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    assert "[1, 2, 3]" in viz.draw_graph((small * 2.0).sum()).source
    zeros = mg.tensor([-0.0, 1.0], dtype="float64", requires_grad=True) * 1.0
    assert "= [0, 1]" in viz.text_graph(zeros) and "-0" not in viz.draw_graph(zeros).source


# ***** structure properties *****

UNARY = [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t * 2.0, lambda t: t.relu(), lambda t: -t,
         lambda t: t.reshape(-1), lambda t: t.sigmoid(), lambda t: t.sum()]


@given(shapes=broadcastable_shapes(2, max_dims=2, max_side=3), ops=st.lists(st.integers(0, len(UNARY) - 1),
                                                                           max_size=6), data=st.data())
def test_trace_has_one_node_per_gate_and_tensor(shapes, ops, data):
    a = data.draw(tensors(shape=shapes[0], requires_grad=True, min_value=-2, max_value=2))
    b = data.draw(tensors(shape=shapes[1], requires_grad=True, min_value=-2, max_value=2))
    out = a * b + a                           # a fork: a feeds two gates
    for k in ops:
        out = UNARY[k](out)
    g = viz.trace(out)
    gates = g.gates()
    assert len(gates) == 2 + len(ops)
    ids = {n.id for n in g.nodes}
    assert all(s in ids and t in ids for s, t in g.edges)
    for gate in gates:                        # one output each; one edge per input, in order
        assert [s for s, t in g.edges if t == gate.id] == g.inputs[gate.id]
        assert len(g.inputs[gate.id]) == len(gate.obj.inputs)
        assert sum(1 for s, _ in g.edges if s == gate.id) == 1
    a_node = next(n for n in g.nodes if n.obj is a)
    assert sum(1 for s, _ in g.edges if s == a_node.id) == 2     # drawn once, with two wires out
    dot = viz.draw_graph(out, inline_constants=False)
    assert dot.source.count("->") == len(g.edges)


def test_multiple_roots_and_shared_nodes_in_text():
    x = scalar(2.0, "x")
    h = x * x
    h.name = "h"
    u, v = h + 1.0, h * 3.0
    g = viz.trace([u, v])
    assert len(g.roots) == 2 and sum(1 for n in g.nodes if n.obj is h) == 1
    text = viz.text_graph([u, v])
    assert text.count("Mul -> h") == 1 and "(shown above)" in text


def test_graph_survives_backward_and_traces_after_inplace_ops():
    x = scalar(3.0, "x")
    y = x * 2.0
    z = y + 3.0                               # z's gate read y's old value (Add saves nothing) ...
    y.add_(1.0)                               # ... and y is now rebased onto an Add gate
    out = z + y
    out.backward()
    g = viz.trace(out)
    z_gate = g[g.inputs[next(n.id for n in g.nodes if n.obj is z)][0]]
    y_old = g[g.inputs[z_gate.id][0]]
    assert g[g.inputs[y_old.id][0]].obj.label == "Mul"      # the engine's edge: x * 2, not the add_
    assert sorted(n.obj.label for n in g.gates()) == ["Add", "Add", "Add", "Mul"]
    assert x.grad.item() == pytest.approx(2 + 2)


# ***** big and deep graphs *****

def chain(n):
    x = mg.tensor(np.array(0.5), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    return x, y


def test_deep_chain_is_traced_and_printed_without_recursion():
    limit = sys.getrecursionlimit()
    x, y = chain(10_000)
    g = viz.trace(y)
    assert len(g.gates()) == 10_000 and sys.getrecursionlimit() == limit
    text = viz.text_graph(y, show_values=False)
    lines = text.splitlines()
    assert len(lines) == 20_001 and max(len(line) for line in lines) < 140   # indentation is capped
    d = viz.draw_graph(y, max_nodes=50)
    assert "more nodes" in d.source


def test_max_nodes_cut_keeps_the_nodes_nearest_the_output():
    x, y = chain(30)
    g = viz.trace(y, max_nodes=10)
    cut = [n for n in g.nodes if n.kind == "cut"]
    assert len(cut) == 1 and len(g.nodes) == 11 and g.hidden == cut[0].hidden == 2 * 30 + 1 + 30 - 10
    assert g[g.roots[0]].obj is y
    assert sum(1 for s, _ in g.edges if s == "cut") == 1
    assert "⋯ 81 more nodes" in viz.draw_graph(y, max_nodes=10, inline_constants=False).source
    assert "more nodes" in viz.text_graph(y, max_nodes=10)


# ***** grouping *****

def test_scopes_cluster_gates_and_nest():
    x = scalar(1.0, "x")
    with viz.scope("encoder"):
        h = x.tanh()
        with viz.scope("head"):
            out = h * 2.0
    loss = out + 1.0
    loss.backward()                          # tags survive the freeing of saved buffers
    g = viz.trace(loss)
    clusters = {n.obj.label: n.cluster for n in g.gates()}
    assert clusters == {"Tanh": ("encoder",), "Mul": ("encoder", "head"), "Add": ()}
    src = viz.draw_graph(loss).source
    enc = src.index("subgraph cluster_encoder {")
    head = src.index("subgraph cluster_encoder_head {")
    tanh_id = next(n.id for n in g.gates() if n.obj.label == "Tanh")
    assert enc < src.index(f"\t\t{tanh_id} [") < head and 'label="encoder.head"' in src
    assert mg.autograd._state.scope == ()


def _nn():
    try:
        from minigrad.nn.module import Module, Parameter
    except ImportError as e:  # pragma: no cover - only while nn is unavailable
        pytest.skip(f"minigrad.nn is not importable: {e}")
    return Module, Parameter


def make_mlp():
    Module, Parameter = _nn()

    class Dense(Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = Parameter(mg.randn(n_out, n_in, dtype="float64"))
            self.bias = Parameter(mg.zeros(n_out, dtype="float64"))

        def forward(self, x):
            return x @ self.weight.T + self.bias

    class MLP(Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = Dense(3, 4), Dense(4, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())
    return MLP()


def test_model_parameters_named_and_clustered_by_module():
    model = make_mlp()
    x = mg.randn(5, 3, dtype="float64")
    loss = model(x).sum()
    d = viz.draw_graph(loss, model=model)
    g = d.graph_info
    params = {n.name: n.cluster for n in g.nodes if n.kind == "param"}
    assert params == {"fc1.weight": ("fc1",), "fc1.bias": ("fc1",), "fc2.weight": ("fc2",), "fc2.bias": ("fc2",)}
    by_label = {}
    for n in g.gates():
        by_label.setdefault(n.obj.label, []).append(n.cluster)
    # W.T, x @ W.T and + b land in their layer (via the parameters they consume); relu and sum stay outside
    assert sorted(by_label["MatMul"]) == [("fc1",), ("fc2",)] and sorted(by_label["Add"]) == [("fc1",), ("fc2",)]
    assert by_label["ReLU"] == [()] and by_label["Sum"] == [()]
    assert "subgraph cluster_fc1 {" in d.source and "fc2.weight" in d.source
    assert 'label="fc1: Dense"' in d.source and 'label="fc2: Dense"' in d.source
    # W.T is drawn as "fc1.weight.T" with its shape, not as a second copy of W's numbers
    wt = next(n for n in g.tensors() if n.kind == "intermediate" and g[g.inputs[n.id][0]].obj.label == "Permute"
              and g[g.inputs[g.inputs[n.id][0]][0]].name == "fc1.weight")
    label = node_label(d.source, wt.id)
    assert "fc1.weight.T" in label and "3×4" in label and "<FONT COLOR" not in label
    same = viz.draw_graph(loss, params=dict(model.named_parameters())).graph_info
    assert {n.name: n.cluster for n in same.nodes if n.kind == "param"} == params


def test_module_scopes_cluster_exactly_by_module():
    model = make_mlp()
    with viz.module_scopes(model):
        out = model(mg.randn(2, 3, dtype="float64"))
        again = model.fc2(mg.randn(2, 4, dtype="float64"))      # a module called on its own
    assert not model.fc1._forward_hooks and mg.autograd._state.scope == ()
    g = viz.trace(out, model=model)
    assert {n.cluster for n in g.gates()} == {("fc1",), ("fc2",), ()}       # relu: in MLP's own forward
    assert all(n.cluster == ("fc2",) for n in viz.trace(again).gates())
    Module, _ = _nn()

    class Outer(Module):
        def __init__(self):
            super().__init__()
            self.body = make_mlp()

        def forward(self, x):
            return self.body(x).tanh()
    outer = Outer()
    with viz.module_scopes(outer):
        y = outer(mg.randn(2, 3, dtype="float64"))
    clusters = {n.cluster for n in viz.trace(y).gates()}
    assert clusters == {("body", "fc1"), ("body", "fc2"), ("body",), ()}   # (): Outer's own tanh
    src = viz.draw_graph(y, model=outer).source
    assert src.index("subgraph cluster_body {") < src.index("subgraph cluster_body_fc1 {")


# ***** rendering *****

@needs_dot
def test_renders_svg_and_shows_inline_in_jupyter():
    f, _, _ = sigmoid_neuron()
    f.backward()
    d = viz.draw_graph(f)
    svg = d.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "0.731" in svg
    assert "<svg" in d._repr_svg_()
    bundle = d._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


ROOT = Path(__file__).resolve().parents[1]


@needs_dot
def test_readme_example_renders(tmp_path, monkeypatch):
    section = (ROOT / "README.md").read_text().split("## Seeing the graph", 1)[1].split("\n## ", 1)[0]
    neuron, mlp = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(neuron, "README.md", "exec"), {})
    svg = (tmp_path / "neuron.svg").read_text()
    assert "<svg" in svg and "0.731" in svg and "grad &#45;0.59" in svg      # dot writes - as &#45;
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.svg"]       # no stray DOT file left
    namespace = {}
    exec(compile(mlp, "README.md", "exec"), namespace)
    src = namespace["dot"].source
    for words in ('label="0: Linear"', 'label="1: ReLU"', 'label="2: Linear"', "0.weight", "2.bias",
                  "dW = g^T @ x"):
        assert words in src, words
    assert "<svg" in namespace["dot"].pipe(format="svg").decode()


@needs_dot
def test_make_pictures_draws_the_readme_pictures(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "make_pictures.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "f = 0.73; dx = [0.39, -0.59]; dw = [-0.2, -0.39, 0.2]" in out.stdout     # the notes' numbers
    for name in ("sigmoid_neuron", "mlp_graph"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (tmp_path / f"{name}.svg").read_text()
    mlp = (tmp_path / "mlp_graph.svg").read_text()
    for words in ("0: Linear", "1: ReLU", "2: Linear", "0.weight", "dW = g^T @ x", "dead units: 1/4", "loss"):
        assert words in mlp, words


def test_rendering_without_dot_says_how_to_install_it(monkeypatch):
    f, _, _ = sigmoid_neuron()
    d = viz.draw_graph(f)
    monkeypatch.setenv("PATH", "")
    assert "digraph" in d.source                          # DOT text needs no `dot`
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        d.pipe(format="svg")


def test_missing_graphviz_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    f, _, _ = sigmoid_neuron()
    with pytest.raises(ImportError, match=r"minigrad\[viz\]"):
        viz.draw_graph(f)
    assert "#0 Div -> f" in viz.text_graph(f)             # the text tree needs nothing


def test_text_graph_reads_like_the_circuit():
    f, _, _ = sigmoid_neuron()
    viz.retain_all_grads(f)
    f.backward()
    text = viz.text_graph(f, digits=2)
    first = text.splitlines()[0]
    assert first == "#0 Div -> f () float64 = 0.73  grad 1"
    assert "x1 (leaf) () float64 = -2  grad -0.59" in text and "Exp -> () float64 = 0.37  grad -0.53" in text
    # a chain of one-input gates stays at one indentation
    chain_text = viz.text_graph(scalar(0.5, "x").exp().tanh().sigmoid(), show_values=False)
    assert chain_text.splitlines() == ["#0 Sigmoid -> () float64", "#1 Tanh -> () float64",
                                       "#2 Exp -> () float64", "#3 x (leaf) () float64"]
    W = mg.ones(2, 2, requires_grad=True)
    assert "#2 fc.weight (param) (2, 2) float32" in viz.text_graph((W * 2.0).sum(), params={"fc.weight": W})


def test_trace_rejects_non_tensors():
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.trace(3.0)
