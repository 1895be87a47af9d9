"""See the circuit: the graph of gates behind a Tensor, with values flowing forward and gradients back.

``trace(root)`` walks the graph (iteratively: a 100,000-gate chain is fine) into a ``Graph`` of tensor
and gate nodes; ``draw_graph`` turns it into a ``graphviz.Digraph`` drawn as the CS231n notes draw
circuits (values in green, gradients in red, each gate annotated with how it routes the gradient);
``text_graph`` prints the same graph as a plain-text tree. ``retain_all_grads(root)`` before backward
keeps the gradient of every intermediate tensor, so the picture shows the whole backward flow.

Grouping: gates created inside ``with scope("encoder"):`` (or inside the modules of a model under
``with module_scopes(model):``) are drawn in one cluster; with ``params=``/``model=`` alone, gates are
grouped with the parameters they consume.
"""
import contextlib
import html
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from . import autograd, backend
from .tensor import Tensor

# How each gate routes the gradient (the notes' "patterns in backward flow"). A user's gate can
# set a class attribute ``routing = "..."`` to be annotated too.
ROUTING = {
    "Add": "distributes g to both inputs",
    "Sub": "distributes g, negated for the 2nd",
    "Mul": "swaps its inputs: g*b, g*a",
    "Div": "g/b, -g*a/b^2",
    "Neg": "negates g",
    "Maximum": "routes g to the larger input",
    "Max": "routes g to the max element",
    "ReLU": "passes g where x > 0",
    "Abs": "g * sign(x)",
    "Clip": "passes g inside [lo, hi]",
    "Where": "routes g by the condition",
    "Exp": "g * out",
    "Log": "g / x",
    "Sqrt": "g / (2 out)",
    "Sigmoid": "g * out * (1 - out)",
    "Tanh": "g * (1 - out^2)",
    "PowScalar": "g * p * x^(p-1)",
    "Sum": "copies g to every summed element",
    "Expand": "sums g over the broadcast axes",
    "SumTo": "copies g back over the summed axes",
    "MatMul": "dA = g @ B^T, dB = A^T @ g",
    "Linear": "dx = g @ W, dW = g^T @ x, db = sum of g",
    "Reshape": "reshapes g",
    "Permute": "permutes g back",
    "Getitem": "scatters g into the selected elements",
    "Cat": "splits g among the inputs",
    "Pow": "g*b*a^(b-1), g*out*log(a)",
    "Sin": "g * cos(x)",
    "Cos": "-g * sin(x)",
    "Softplus": "g * sigmoid(x)",
    "Pad": "crops g back",
    "Cast": "casts g back",
    "ToDevice": "moves g back",
    "Clone": "passes g",
    "SoftmaxCrossEntropy": "g * (softmax - onehot) / N",
    "BinaryCrossEntropy": "g * (p - y) / (p (1 - p))",
    "BatchNorm": "the notes' batch-norm backward",
    "MaxPool2d": "routes g to each window's max",
    "Im2Col": "adds g back into overlapping pixels",
}

# How a binary gate routes g to x when its other operand is an inlined constant c ("1 / x"):
# the notes' unary gates, with their local gradients.
_CONST_ROUTING = {
    ("Add", 0): "passes g to x", ("Add", 1): "passes g to x",
    ("Sub", 0): "negates g", ("Sub", 1): "passes g to x",
    ("Mul", 0): "g * {c}", ("Mul", 1): "g * {c}",
    ("Div", 0): "-g * {c} / x^2", ("Div", 1): "g / {c}",
    ("Maximum", 0): "passes g where x > {c}", ("Maximum", 1): "passes g where x > {c}",
}

# Binary gates drawn with an operator when one operand is an inlined scalar constant: "1 / x".
_SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "**", "Maximum": "max"}

_KIND_STYLE = {   # node styles: parameters, leaves that require grad and constants look different
    "param": dict(shape="box", style="filled,rounded,bold", fillcolor="#cfe2ff"),
    "leaf": dict(shape="box", style="filled,rounded", fillcolor="#d9f2d9"),
    "constant": dict(shape="box", style="dashed,rounded", color="#888888", fontcolor="#555555"),
    "intermediate": dict(shape="box", style="rounded"),
    "output": dict(shape="box", style="filled,rounded,bold", fillcolor="#fff2cc", peripheries="2"),
    "gate": dict(shape="ellipse", style="filled", fillcolor="#f3f3f3"),
    "cut": dict(shape="note", style="filled", fillcolor="#eeeeee", fontcolor="#555555"),
}
_VALUE_COLOR, _GRAD_COLOR, _FLAG_FILL = "#1a7f37", "#c62828", "#ffcdd2"


# ***** grouping: scopes and module scopes *****

@contextlib.contextmanager
def scope(name):
    """Group the gates created inside the block under ``name`` (dots nest: ``"encoder.fc1"``).

    Scopes nest: ``with scope("a"): with scope("b"):`` tags gates ``a.b``. ``draw_graph`` draws
    each scope as a cluster.
    """
    state = autograd._state
    prev = state.scope
    state.scope = prev + tuple(str(name).split("."))
    try:
        yield
    finally:
        state.scope = prev


@contextlib.contextmanager
def module_scopes(model):
    """Inside the block, every gate a submodule of ``model`` creates is tagged with the module's
    path (``"fc1"``, ``"encoder.layers.0"``), so ``draw_graph`` clusters it exactly by module.

    Uses forward hooks (removed on exit); a module called outside its parent gets its full path.
    """
    state = autograd._state
    entry_scope = state.scope
    saved, handles = [], []

    def enter(path):
        parts = tuple(path.split("."))

        def pre_hook(module, args):
            cur = state.scope
            # the longest tail of the current scope that is a head of this path: the parent's scope
            k = next((k for k in range(min(len(cur), len(parts)), 0, -1) if cur[-k:] == parts[:k]), 0)
            saved.append(cur)
            state.scope = cur + parts[k:]
        return pre_hook

    def leave(module, args, out):
        if saved:
            state.scope = saved.pop()

    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(enter(path)))
            handles.append(module.register_forward_hook(leave))
    try:
        yield model
    finally:
        for h in handles:
            h.remove()
        state.scope = entry_scope


# ***** tracing *****

@dataclass(eq=False)
class Node:
    """One node of a traced graph: a tensor (``kind`` param, leaf, constant, intermediate, output),
    a gate (``kind`` gate) or the marker of a ``max_nodes`` cut (``kind`` cut)."""
    id: str
    kind: str
    obj: object = None          # the Tensor or Function (None for a cut marker)
    name: str = None            # the tensor's name or parameter path
    cluster: tuple = ()         # scope/module path, () at the top level
    depth: int = 0              # distance from the root, in nodes
    hidden: int = 0             # for a cut marker: how many nodes it stands for
    # for a gate: its output tensor, as the walk reached it (the gate itself may hold no link to it:
    # see Function.output)
    output: object = None

    @property
    def is_gate(self):
        return self.kind == "gate"


@dataclass
class Graph:
    """A traced graph: ``nodes`` from the root(s) outwards, ``edges`` (src id, dst id) in the
    direction of the forward pass, and ``inputs[id]``: the nodes feeding a node, in order."""
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    roots: list = field(default_factory=list)
    hidden: int = 0             # nodes left out by max_nodes

    def __post_init__(self):
        self._by_id = {n.id: n for n in self.nodes}

    def __getitem__(self, node_id):
        return self._by_id[node_id]

    def __len__(self):
        return len(self.nodes)

    def gates(self):
        """The gate nodes."""
        return [n for n in self.nodes if n.kind == "gate"]

    def tensors(self):
        """The tensor nodes."""
        return [n for n in self.nodes if n.kind not in ("gate", "cut")]

    def find(self, name):
        """The tensor node named ``name`` (a tensor's ``.name`` or parameter path)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no tensor named {name!r} in the graph; names: "
                       f"{sorted(n.name for n in self.nodes if n.name)}")


def _as_roots(root):
    roots = [root] if isinstance(root, Tensor) else list(root) if isinstance(root, (list, tuple)) else [root]
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"expected a Tensor (or a list of Tensors) to trace, got {type(r).__name__}")
    return roots


def _param_names(params, model):
    names = {}
    if model is not None:
        names.update({id(p): n for n, p in model.named_parameters()})
    if params is not None:
        items = params.items() if hasattr(params, "items") else params
        names.update({id(p): n for n, p in items})
    return names


def _producer(t):
    """The gate that made tensor ``t`` (None for a leaf or a constant)."""
    return t.grad_fn


def trace(root, params=None, model=None, max_nodes=None):
    """Walk the graph behind ``root`` (a Tensor or a list) breadth-first and return a ``Graph``.

    ``params`` (a dict name -> tensor, e.g. ``dict(model.named_parameters())``) or ``model`` name
    parameters by module path. With ``max_nodes`` only the nodes nearest the root are kept and
    one ``cut`` node stands for the rest. The walk is iterative: deep graphs are fine.
    """
    roots = _as_roots(root)
    names = _param_names(params, model)
    root_ids = {id(r) for r in roots}
    ids, nodes, inputs = {}, [], {}          # key -> node id; keys: ("t", id) tensors, ("g", id) gates
    objects = {}                              # node id -> (tensor or gate), kept for the second pass
    outputs = {}                              # gate node id -> the tensor the walk reached it from
    queue = deque()

    def visit(key, obj, kind_hint, depth):
        if key in ids:
            return ids[key], False
        nid = f"{key[0]}{len(ids)}"
        ids[key] = nid
        objects[nid] = obj
        nodes.append((nid, kind_hint, depth))
        return nid, True

    for r in roots:
        nid, new = visit(("t", id(r)), r, "tensor", 0)
        if new:
            queue.append((nid, r, 0))
    while queue:
        nid, t, depth = queue.popleft()
        fn = _producer(t)
        if fn is None:
            inputs[nid] = []
            continue
        gid, new = visit(("g", id(fn)), fn, "gate", depth + 1)
        inputs[nid] = [gid]
        if not new:
            continue
        outputs[gid] = t
        ins = []
        for i, x in enumerate(fn.inputs):
            parent = fn.parents[i] if i < len(fn.parents) else None
            # follow the engine's edges: after an in-place op the input tensor may have been
            # rebased onto a newer gate, while this gate's parent is still the old one's output
            if parent is not None and not isinstance(parent, Tensor):
                out = parent.output
                x = out if out is not None else x
            xid, xnew = visit(("t", id(x)), x, "tensor", depth + 2)
            ins.append(xid)
            if xnew:
                queue.append((xid, x, depth + 2))
        inputs[gid] = ins

    # the max_nodes cut: keep the nodes nearest the root (BFS order), one marker for the rest
    keep = None
    hidden = 0
    if max_nodes is not None and len(nodes) > max_nodes:
        keep = {nid for nid, _, _ in nodes[:max(int(max_nodes), 1)]}
        hidden = len(nodes) - len(keep)

    out_nodes, edges, out_inputs = [], [], {}
    cut_id = "cut"
    for nid, hint, depth in nodes:
        if keep is not None and nid not in keep:
            continue
        obj = objects[nid]
        if hint == "gate":
            out_nodes.append(Node(nid, "gate", obj, None, tuple(getattr(obj, "_scope", ())), depth,
                                  output=outputs.get(nid)))
        else:
            if id(obj) in root_ids:
                kind = "output"
            elif id(obj) in names or type(obj).__name__ == "Parameter":
                kind = "param"
            elif obj.grad_fn is not None:
                kind = "intermediate"
            else:
                kind = "leaf" if obj.requires_grad else "constant"
            out_nodes.append(Node(nid, kind, obj, names.get(id(obj), obj.name), (), depth))
        ins = []
        for src in inputs.get(nid, []):
            if keep is not None and src not in keep:
                src = cut_id
            ins.append(src)
            edges.append((src, nid))
        out_inputs[nid] = ins
    if keep is not None:
        out_nodes.append(Node(cut_id, "cut", None, None, (), max(d for _, _, d in nodes), hidden))
        out_inputs[cut_id] = []
        edges = list(dict.fromkeys(edges))      # many cut inputs collapse to one edge per node
    graph = Graph(out_nodes, edges, out_inputs, [ids[("t", id(r))] for r in roots], hidden)
    _assign_clusters(graph)
    return graph


def _assign_clusters(graph):
    """Clusters: a gate's scope tag; else the module of the parameters it consumes, directly or
    through gates that only transform parameters (as ``W.T`` in a Linear layer)."""
    param_derived = set()
    # inputs before consumers: reversed BFS order is not a topological order in general, so
    # resolve gates on demand with an explicit stack
    resolved = {}

    def gate_cluster(gid):
        stack = [gid]
        while stack:
            g = stack[-1]
            if g in resolved:
                stack.pop()
                continue
            node = graph[g]
            if node.cluster:
                resolved[g] = node.cluster
                stack.pop()
                continue
            pending = [p for t in graph.inputs.get(g, []) for p in graph.inputs.get(t, [])
                       if graph[p].kind == "gate" and p not in resolved]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            clusters, only_params = [], True
            for t in graph.inputs.get(g, []):
                tn = graph[t]
                if tn.kind == "param" and tn.name:
                    clusters.append(tuple(tn.name.split(".")[:-1]))
                elif tn.kind in ("intermediate", "output") and graph.inputs.get(t):
                    p = graph.inputs[t][0]
                    only_params = False
                    if p in param_derived:
                        clusters.append(resolved[p])
                elif tn.kind in ("leaf", "intermediate", "output", "cut"):
                    only_params = False
            clusters = [c for c in clusters if c]
            if clusters:
                common = clusters[0]
                for c in clusters[1:]:
                    n = 0
                    while n < min(len(common), len(c)) and common[n] == c[n]:
                        n += 1
                    common = common[:n]
                resolved[g] = common
                if only_params and common:
                    param_derived.add(g)
            else:
                resolved[g] = ()
        return resolved[gid]

    for node in graph.nodes:
        if node.kind == "gate":
            node.cluster = gate_cluster(node.id)
    for node in graph.nodes:
        if node.kind == "param" and node.name:
            node.cluster = tuple(node.name.split(".")[:-1])
        elif node.kind in ("intermediate", "output") and graph.inputs.get(node.id):
            producer = graph[graph.inputs[node.id][0]]
            node.cluster = producer.cluster if producer.kind == "gate" else ()


def retain_all_grads(root):
    """Make every non-leaf tensor in ``root``'s graph keep its ``.grad`` after backward (call it
    before ``backward``), so ``draw_graph`` shows the gradient on every wire. Returns ``root``."""
    for node in trace(root).tensors():
        if node.obj.grad_fn is not None:
            node.obj.retain_grad()
    return root


# ***** what a node shows *****

def _numpy(a):
    return backend.to_numpy(a)


def _fmt(a, digits, max_values, sep=" "):
    """A short text for an array: the values when few, else mean/std and range (``sep`` before the range)."""
    a = np.asarray(_numpy(a))
    if a.size == 0:
        return "[]"
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    num = (lambda v: f"{v + 0.0:.{digits}g}") if a.dtype.kind in "fc" else str   # + 0.0: no "-0"
    if a.size == 1:
        return num(a.reshape(()).item())
    if a.size <= max_values:
        return "[" + ", ".join(num(v) for v in a.reshape(-1).tolist()) + "]"
    finite = a[np.isfinite(a)] if a.dtype.kind in "fc" else a
    if finite.size == 0:
        return "all non-finite"
    f = finite.astype(np.float64)
    return f"mean {f.mean():.{digits}g} std {f.std():.{digits}g}{sep}in [{num(finite.min())}, {num(finite.max())}]"


def _flags(node, explode):
    """Warnings a node carries: NaN/Inf values or gradients, zero or exploding gradients, dead ReLUs."""
    flags = []
    if node.kind == "gate":
        out = node.output
        if node.obj.label == "ReLU" and out is not None and out.data.size:
            y = np.asarray(_numpy(out.data))
            # a unit is dead when it outputs 0 for every example of the batch (axis 0)
            dead = ~(y != 0).reshape(y.shape[0], -1).any(axis=0) if y.ndim >= 2 else np.array([not y.any()])
            if dead.all():
                flags.append("dead: all outputs 0")
            elif dead.any():
                flags.append(f"dead units: {int(dead.sum())}/{dead.size}")
        return flags
    if node.obj is None:
        return flags
    t = node.obj
    if t.dtype.kind in "fc":
        v = np.asarray(_numpy(t.data))
        if np.isnan(v).any():
            flags.append("NaN value")
        elif np.isinf(v).any():
            flags.append("Inf value")
    if t.grad is not None:
        g = np.asarray(_numpy(t.grad.data))
        if np.isnan(g).any():
            flags.append("NaN grad")
        elif np.isinf(g).any():
            flags.append("Inf grad")
        elif g.size and not g.any():
            flags.append("zero grad")
        elif g.size and np.abs(g).max() > explode:
            flags.append(f"exploding grad (|g| up to {np.abs(g).max():.3g})")
    return flags


def _inline_constant(graph, tid, consumers):
    """A scalar constant read by one gate only is written into that gate's label."""
    n = graph[tid]
    return (n.kind == "constant" and n.obj.data.size == 1 and len(consumers.get(tid, ())) == 1
            and n.name is None)


def _gate_expression(graph, gid, inlined, digits):
    """('1 / x', '-g * 1 / x^2'): the text of a binary gate with an inlined constant operand and how
    it routes g to its other input; (None, None) for other gates."""
    gate = graph[gid].obj
    sym = _SYMBOLS.get(gate.label)
    ins = graph.inputs.get(gid, [])
    if sym is None or len(ins) != 2 or not any(t in inlined for t in ins):
        return None, None
    parts = [_fmt(graph[t].obj.data, digits, 1) if t in inlined else "x" for t in ins]
    text = f"max({parts[0]}, {parts[1]})" if sym == "max" else f"{parts[0]} {sym} {parts[1]}"
    const = 0 if ins[0] in inlined else 1
    routing = _CONST_ROUTING.get((gate.label, const))
    if routing is not None:
        c = parts[const]
        routing = routing.format(c=c)
        if c == "1":                          # the notes' "+1" and "1/x" gates read best without the 1
            routing = routing.replace("g * 1 / x^2", "g / x^2").replace("g * 1", "g").replace("g / 1", "g")
    return text, routing


# ***** drawing with graphviz *****

_CircuitDigraph = []


def _digraph_class():
    """graphviz.Digraph whose rendering says how to install ``dot`` when it is missing."""
    try:
        import graphviz
    except ImportError as e:
        raise ImportError("minigrad.viz.draw_graph needs the graphviz Python package: "
                          "pip install minigrad[viz]  (or: pip install graphviz)") from e
    if not _CircuitDigraph:
        def friendly(method):
            def wrapper(self, *args, **kwargs):
                try:
                    return method(self, *args, **kwargs)
                except graphviz.ExecutableNotFound as e:
                    raise RuntimeError(
                        "rendering the graph needs Graphviz's `dot` program, which is not on PATH: install "
                        "it with your system's package manager (Debian/Ubuntu: `apt-get install graphviz`, "
                        "macOS: `brew install graphviz`, conda: `conda install graphviz`). The DOT text is "
                        "available without it as `.source`.") from e
            wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
            return wrapper

        class CircuitDigraph(graphviz.Digraph):
            """A ``graphviz.Digraph`` of a minigrad circuit (shows inline in Jupyter)."""
            pipe = friendly(graphviz.Digraph.pipe)
            render = friendly(graphviz.Digraph.render)
            view = friendly(graphviz.Digraph.view)
            _repr_mimebundle_ = friendly(graphviz.Digraph._repr_mimebundle_)

            def _repr_svg_(self):
                return self.pipe(format="svg", encoding="utf-8")
        _CircuitDigraph.append(CircuitDigraph)
    return _CircuitDigraph[0]


def _html_value(a, digits, max_values):
    """An array's short text for an HTML label: a summary's range goes on its own line."""
    return html.escape(_fmt(a, digits, max_values, sep="\n")).replace("\n", "<BR/>")


_VIEWS = {"Permute": "{}.T", "Reshape": "{} (reshaped)", "Expand": "{} (expanded)"}


def _parameter_view(graph, node):
    """'fc1.weight.T' for a tensor that is a transpose/reshape/expand of a named parameter (None otherwise)."""
    if node.kind != "intermediate" or not graph.inputs.get(node.id):
        return None
    gate = graph[graph.inputs[node.id][0]]
    ins = graph.inputs.get(gate.id, [])
    if gate.kind != "gate" or gate.obj.label not in _VIEWS or len(ins) != 1:
        return None
    src = graph[ins[0]]
    if src.kind != "param" or not src.name:
        return None
    name = _VIEWS[gate.obj.label].format(src.name)
    return name if gate.obj.label != "Permute" or node.obj.ndim == 2 else f"{src.name} (permuted)"


def _tensor_label(node, show_values, show_grads, show_shapes, digits, max_values, flags, title=None):
    t = node.obj
    rows = []
    title = html.escape(title or node.name or "") or {"constant": "const", "leaf": "leaf",
                                                        "param": "param"}.get(node.kind, "")
    head = f"<B>{title}</B>" if title else ""
    if show_shapes:
        shape = "×".join(str(s) for s in t.shape) if t.ndim else "scalar"
        head += f' <FONT POINT-SIZE="9" COLOR="#666666">{shape} {t.dtype}</FONT>'
    if head:
        rows.append(head)
    if show_values:
        rows.append(f'<FONT COLOR="{_VALUE_COLOR}">{_html_value(t.data, digits, max_values)}</FONT>')
    if show_grads and t.grad is not None:
        rows.append(f'<FONT COLOR="{_GRAD_COLOR}">grad {_html_value(t.grad.data, digits, max_values)}</FONT>')
    for f in flags:
        rows.append(f'<B><FONT COLOR="#b71c1c">⚠ {html.escape(f)}</FONT></B>')
    return "<" + "<BR/>".join(rows or [""]) + ">"


def _gate_label(node, expression, annotate, flags):
    gate = node.obj
    expression, const_routing = expression
    rows = [f"<B>{html.escape(gate.label)}</B>"]
    if expression:
        rows.append(html.escape(expression))
    routing = getattr(gate, "routing", None) or const_routing or ROUTING.get(gate.label)
    if annotate and routing:
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{_GRAD_COLOR}">{html.escape(routing)}</FONT>')
    for f in flags:
        rows.append(f'<B><FONT COLOR="#b71c1c">⚠ {html.escape(f)}</FONT></B>')
    return "<" + "<BR/>".join(rows) + ">"


def draw_graph(root, show_values=True, show_grads=True, show_shapes=True, max_nodes=300, params=None,
               model=None, annotate=True, inline_constants=True, digits=3, max_values=6, explode=1e3,
               rankdir="LR", title=None):
    """Draw the circuit behind ``root`` as a ``graphviz.Digraph`` (``.source`` is the DOT text).

    One node per tensor (its name or parameter path, shape and dtype, values in green and, after
    backward, its gradient in red; small tensors show every value, large ones mean/std/range) and
    one per gate (its name, how it routes the gradient, flags). Parameters, leaves that require
    grad, constants and the output look different; wires into gates get thicker and redder with
    the gradient that flows back along them. NaN/Inf/zero/exploding gradients and dead ReLUs are
    flagged with ⚠. Scalar constants read by one gate are written into it ("1 / x").

    Gradients of intermediate tensors show when they were kept: call ``retain_all_grads(root)``
    before ``backward``. ``params``/``model`` name parameters by module path and cluster gates by
    module (exactly so under ``module_scopes(model)`` or ``scope(name)``). ``max_nodes`` keeps the
    nodes nearest the output and draws one marker for the rest. Rendering (``.pipe``, ``.render``,
    Jupyter display) needs Graphviz's ``dot`` program; the error says how to install it.
    """
    Digraph = _digraph_class()
    graph = trace(root, params=params, model=model, max_nodes=max_nodes)
    consumers = {}
    for src, dst in graph.edges:
        consumers.setdefault(src, []).append(dst)
    inlined = ({n.id for n in graph.tensors() if _inline_constant(graph, n.id, consumers)}
               if inline_constants else set())

    dot = Digraph(name="minigrad", graph_attr=dict(rankdir=rankdir, fontname="Helvetica", nodesep="0.25",
                                                   ranksep="0.35", **({"label": title, "labelloc": "t"} if title else {})),
                  node_attr=dict(fontname="Helvetica", fontsize="11", margin="0.08,0.04"),
                  edge_attr=dict(arrowsize="0.6", color="#555555"))

    # clusters: a tree of subgraphs keyed by path prefixes
    members = {}
    for n in graph.nodes:
        if n.id not in inlined:
            members.setdefault(n.cluster, []).append(n)
    paths = set()
    for c in members:
        for k in range(1, len(c) + 1):
            paths.add(c[:k])

    def add_node(g, n):
        flags = _flags(n, explode)
        if n.kind == "cut":
            g.node(n.id, f"⋯ {n.hidden} more nodes\n(max_nodes={max_nodes})", **_KIND_STYLE["cut"])
            return
        style = dict(_KIND_STYLE[n.kind])
        view_of = _parameter_view(graph, n)
        if n.kind == "gate":
            label = _gate_label(n, _gate_expression(graph, n.id, inlined, digits), annotate, flags)
        elif view_of is not None:       # W.T in a Linear layer: W's numbers again, only rearranged
            label = _tensor_label(n, False, False, True, digits, max_values, flags, title=view_of)
        else:
            label = _tensor_label(n, show_values, show_grads, show_shapes, digits, max_values, flags)
        if flags:
            style.update(style=style.get("style", "") + ",filled", fillcolor=_FLAG_FILL)
        g.node(n.id, label, **style)

    modules = dict(model.named_modules()) if model is not None else {}

    def emit(g, path):
        for n in members.get(path, []):
            add_node(g, n)
        for child in sorted(p for p in paths if len(p) == len(path) + 1 and p[:len(path)] == path):
            with g.subgraph(name="cluster_" + "_".join(child).replace("-", "_")) as sub:
                name = ".".join(child)
                module = modules.get(name)       # "fc1: Linear", so a reader knows what the box is
                sub.attr(label=f"{name}: {type(module).__name__}" if module is not None else name,
                         style="rounded,dashed", color="#7f7f7f",
                         fontname="Helvetica", fontsize="10")
                emit(sub, child)
    emit(dot, ())

    # edges, weighted by the gradient flowing back along them
    norms = {}
    for n in graph.tensors():
        if show_grads and n.obj.grad is not None and n.obj.grad.dtype.kind in "fc":
            g = np.asarray(_numpy(n.obj.grad.data), dtype=np.float64)
            norms[n.id] = float(np.sqrt(np.nansum(g * g)))
    top = max([v for v in norms.values() if np.isfinite(v)] or [0.0])
    for src, dst in graph.edges:
        if src in inlined:
            continue
        attrs = {}
        if src in norms and top > 0 and np.isfinite(norms[src]):
            w = norms[src] / top
            attrs = dict(penwidth=f"{1 + 3 * w:.2f}", color=f"{_GRAD_COLOR}{int(64 + 191 * w):02x}")
        dot.edge(src, dst, **attrs)
    dot.graph_info = graph            # the traced graph, for inspection
    return dot


# ***** plain text *****

def text_graph(root, show_values=True, show_grads=True, digits=3, max_values=4, max_nodes=None,
               params=None, model=None, explode=1e3, max_indent=16):
    """The graph behind ``root`` as a plain-text tree, output first (no graphviz needed).

    Each line is a tensor, after the gate that made it: ``Mul -> q () = 3  grad -4``; its inputs
    follow, indented. A chain of one-input gates stays at one indentation, and indentation stops
    growing after ``max_indent`` levels, so deep graphs print in linear time and width. A node
    reached a second time is printed as a reference to its first line (``#3``).
    """
    graph = trace(root, params=params, model=model, max_nodes=max_nodes)
    numbers = {}
    lines = []

    def describe(tid):
        n = graph[tid]
        if n.kind == "cut":
            return f"⋯ {n.hidden} more nodes (max_nodes={max_nodes})"
        t = n.obj
        ins = graph.inputs.get(tid, [])
        gate = graph[ins[0]] if ins and graph[ins[0]].kind == "gate" else None
        parts = [f"#{numbers[tid]}"]
        if gate is not None:
            parts.append(f"{gate.obj.label} ->")
        if n.name:
            parts.append(n.name)
        if n.kind in ("param", "leaf", "constant"):
            parts.append(f"({n.kind})")
        parts.append(f"{tuple(t.shape)} {t.dtype.name}")
        if show_values:
            parts.append(f"= {_fmt(t.data, digits, max_values)}")
        if show_grads and t.grad is not None:
            parts.append(f" grad {_fmt(t.grad.data, digits, max_values)}")
        flags = _flags(n, explode) + (_flags(gate, explode) if gate is not None else [])
        parts += [f"[!{f}]" for f in flags]
        return " ".join(parts)

    def children(tid):
        ins = graph.inputs.get(tid, [])
        if ins and graph[ins[0]].kind == "gate":
            return graph.inputs.get(ins[0], [])
        return [s for s in ins if graph[s].kind == "cut"]

    # entries: (tensor id, lead, prefix for its children)
    stack = [(r, "", "") for r in reversed(graph.roots)]
    while stack:
        tid, lead, cp = stack.pop()
        if tid in numbers:
            n = graph[tid]
            lines.append(f"{lead}#{numbers[tid]}{' ' + n.name if n.name else ''} (shown above)")
            continue
        numbers[tid] = len(numbers)
        lines.append(lead + describe(tid))
        kids = children(tid)
        if len(kids) == 1:
            stack.append((kids[0], cp, cp))
            continue
        deep = len(cp) >= 4 * max_indent        # past the cap the children's prefix stops growing
        for i in range(len(kids) - 1, -1, -1):
            last = i == len(kids) - 1
            child_cp = cp if deep else cp + ("    " if last else "│   ")
            stack.append((kids[i], cp + ("└── " if last else "├── "), child_cp))
    return "\n".join(lines)


__all__ = ["Graph", "Node", "ROUTING", "draw_graph", "module_scopes", "retain_all_grads", "scope",
           "text_graph", "trace"]
