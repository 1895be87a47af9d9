"""The op catalogue: ONE table that drives every per-op test in tests/test_ops.py.

Each row names an op once, with its columns
    name | minigrad fn | numpy reference | input domain | smooth? | inputs | broadcasting?
and, as keywords, what the generic tests need beyond that: the torch equivalent (the optional
oracle), a strategy for the cases (input shapes and the op's parameters: dim, keepdim, index, ...),
a `fix` that moves drawn values away from kinks and ties, and whether the op is differentiable.

The generic tests (test_ops.py) then check, for every row: forward vs the numpy reference, dtype
preservation in float32, mg.gradcheck in float64, mg.gradgradcheck on the smooth rows, and values
and gradients vs torch.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import broadcastable_shapes, shapes, valid_dims

MAX_SIDE = 3     # gradcheck inputs stay tiny: at most 27 elements per input
MAX_DIMS = 3


# ***** input domains *****

@dataclass(frozen=True)
class Dom:
    """Values drawn from [lo, hi], then pushed at least ``gap`` away from each point in ``away``."""
    lo: float = -3.0
    hi: float = 3.0
    away: tuple = ()
    gap: float = 0.2


ANY = Dom()
POS = Dom(0.2, 3.0)                  # log, sqrt, fractional powers
NONZERO = Dom(away=(0.0,), gap=0.4)  # divisors, negative powers
KINK0 = Dom(away=(0.0,))             # relu, abs, leaky_relu, elu: the kink at 0


def push_away(x, points, gap):
    """Move every element closer than ``gap`` to one of ``points`` out to exactly ``gap`` from it."""
    x = np.array(x, dtype=np.float64, copy=True)
    for p in points:
        d = x - p
        close = np.abs(d) < gap
        x[close] = p + gap * np.where(d[close] >= 0, 1.0, -1.0)
    return x


def untie(x, params=None):
    """Separate equal (or nearly equal) values by at least 0.05 while keeping their order: the max gate's
    winner then stays the winner under a finite-difference step."""
    x = np.array(x, dtype=np.float64, copy=True)
    if x.size:
        rank = np.empty(x.size)
        rank[np.argsort(x.reshape(-1), kind="stable")] = np.arange(x.size)
        x = x + 0.05 * rank.reshape(x.shape)
    return x


def lattice_pair(arrays, params):
    """maximum/minimum: put a on multiples of 0.5 and b half-way between, so |a - b| >= 0.25 after any
    broadcasting (the max gate's winner never flips under a finite-difference step)."""
    a, b = arrays
    return [np.round(a * 2) / 2, np.round(b * 2) / 2 + 0.25]


# ***** case strategies: (input shapes, params) *****

def _shape(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE, empty=False):
    """Shapes with sides in [min_side, max_side]; with ``empty`` some draws hold a size-0 side."""
    base = shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    if not empty:
        return base
    return st.one_of(base, shapes(min_dims=max(min_dims, 1), max_dims=max_dims, min_side=0, max_side=max_side))


def elementwise(nargs=1, broadcast=True, empty=True, min_dims=0, params=None):
    """Shapes for an elementwise op: one shape, or ``nargs`` shapes that broadcast together."""
    @st.composite
    def case(draw):
        if nargs == 1:
            shp = (draw(_shape(min_dims=min_dims, empty=empty)),)
        elif broadcast:
            side = draw(st.sampled_from([0, 1, 1, 1])) if empty else 1
            shp = tuple(draw(broadcastable_shapes(nargs, min_dims=min_dims, max_dims=MAX_DIMS,
                                                  min_side=side, max_side=MAX_SIDE)))
        else:
            s = draw(_shape(min_dims=min_dims, empty=empty))
            shp = (s,) * nargs
        return shp, (draw(params(shp)) if params else {})
    return case()


def reduction(min_side=1, min_dims=0, empty=False, keepdim=True):
    """One input; ``dim`` None, an int or a tuple (mg.testing.valid_dims) and ``keepdim``."""
    @st.composite
    def case(draw):
        s = draw(_shape(min_dims=min_dims, min_side=min_side, empty=empty))
        params = {"dim": draw(valid_dims(len(s)))}
        if keepdim:
            params["keepdim"] = draw(st.booleans())
        return (s,), params
    return case()


def one_dim(min_dims=1, name="dim", empty=False):
    """One input and a single int dimension (negative allowed)."""
    @st.composite
    def case(draw):
        s = draw(_shape(min_dims=min_dims, empty=empty))
        return (s,), {name: draw(st.integers(-len(s), len(s) - 1))}
    return case()


@st.composite
def matmul_case(draw):
    """2-D, batched, broadcast-batch and 1-D operand pairs for @."""
    n, k, m, b, c = (draw(st.integers(1, MAX_SIDE)) for _ in range(5))
    kind = draw(st.sampled_from(["2d", "batched", "broadcast", "vec.vec", "vec.mat", "mat.vec",
                                 "batched.vec", "vec.batched"]))
    return {"2d": ((n, k), (k, m)), "batched": ((b, n, k), (b, k, m)),
            "broadcast": ((b, 1, n, k), (c, k, m)), "vec.vec": ((k,), (k,)),
            "vec.mat": ((k,), (k, m)), "mat.vec": ((n, k), (k,)),
            "batched.vec": ((b, n, k), (k,)), "vec.batched": ((k,), (b, k, m))}[kind], {}


@st.composite
def reshape_case(draw):
    s = draw(_shape(empty=True))
    new = list(draw(st.permutations(s))) if s else []
    for _ in range(draw(st.integers(0, 2))):
        new.insert(draw(st.integers(0, len(new))), 1)
    if new and 0 not in new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return (s,), {"shape": tuple(new)}


@st.composite
def transpose_case(draw):
    s = draw(_shape(min_dims=1, empty=True))
    nd = len(s)
    return (s,), {"dim0": draw(st.integers(-nd, nd - 1)), "dim1": draw(st.integers(-nd, nd - 1))}


@st.composite
def permute_case(draw):
    s = draw(_shape(min_dims=1, empty=True))
    return (s,), {"dims": tuple(draw(st.permutations(range(len(s)))))}


@st.composite
def flatten_case(draw):
    s = draw(_shape(min_dims=1, empty=True))
    a, b = sorted(draw(st.integers(0, len(s) - 1)) for _ in range(2))
    return (s,), {"start_dim": a, "end_dim": b}


@st.composite
def squeeze_case(draw):
    s = draw(shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=2))   # sizes of 1 are common
    dim = draw(st.one_of(st.none(), st.integers(-len(s), len(s) - 1))) if s else None
    return (s,), {"dim": dim}


@st.composite
def unsqueeze_case(draw):
    s = draw(_shape(empty=True))
    return (s,), {"dim": draw(st.integers(-len(s) - 1, len(s)))}


@st.composite
def expand_case(draw):
    s = draw(shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=2))
    lead = tuple(draw(st.lists(st.integers(1, MAX_SIDE), max_size=1)))
    body = tuple(draw(st.sampled_from([-1, 1, 2, 3])) if d == 1 else draw(st.sampled_from([-1, d]))
                 for d in s)
    return (s,), {"sizes": lead + body}


def _index_item(draw, size):
    """One index item for a dimension of ``size``: a slice, an int, or an int array (repeats allowed)."""
    kind = draw(st.sampled_from(["slice", "int", "array"]))
    if kind == "slice":
        start = draw(st.one_of(st.none(), st.integers(-size, size)))
        stop = draw(st.one_of(st.none(), st.integers(-size, size)))
        return slice(start, stop, draw(st.sampled_from([None, 1, 2])))
    if kind == "int":
        return draw(st.integers(-size, size - 1))
    return np.array(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)), dtype=np.int64)


@st.composite
def getitem_case(draw, kind):
    s = draw(shapes(min_dims=1, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE))
    if kind == "basic":                                     # slices and ints
        items = []
        for size in s[:draw(st.integers(1, len(s)))]:
            item = _index_item(draw, size)
            while isinstance(item, np.ndarray):
                item = _index_item(draw, size)
            items.append(item)
        index = tuple(items)
    elif kind == "intarray":                                # repeated indices accumulate
        index = np.array(draw(st.lists(st.integers(-s[0], s[0] - 1), min_size=1, max_size=6)), dtype=np.int64)
    elif kind == "mixed":                                   # an int array beside slices
        # NOTE: no ints beside an array: there numpy (whose rule minigrad follows) and torch order the
        # result's dims differently (x[0, :, [0]] is (1, 2) in numpy, (2, 1) in torch)
        index = [_index_item(draw, size) for size in s[:draw(st.integers(1, len(s)))]]
        arrays = [k for k, i in enumerate(index) if isinstance(i, np.ndarray)]
        index = tuple(slice(None) if (isinstance(i, int) and arrays) or (k in arrays[1:]) else i
                      for k, i in enumerate(index))
    else:                                                   # a boolean mask over the leading dims
        lead = draw(st.integers(1, len(s)))
        index = draw(st.lists(st.booleans(), min_size=int(np.prod(s[:lead])),
                              max_size=int(np.prod(s[:lead]))))
        index = np.array(index, dtype=bool).reshape(s[:lead])
    return (s,), {"index": index}


@st.composite
def cat_case(draw, new_axis=False):
    n = draw(st.integers(1, 3))
    base = draw(_shape(min_dims=0 if new_axis else 1, empty=True))
    nd = len(base) + (1 if new_axis else 0)
    dim = draw(st.integers(-nd, nd - 1))
    if new_axis:
        return (base,) * n, {"dim": dim}
    shps = []
    for _ in range(n):
        s = list(base)
        s[dim] = draw(st.integers(0, MAX_SIDE))
        shps.append(tuple(s))
    return tuple(shps), {"dim": dim}


@st.composite
def where_case(draw):
    cond, a, b = draw(broadcastable_shapes(3, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    mask = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(cond)), max_size=int(np.prod(cond)))),
                    dtype=bool).reshape(cond)
    return (a, b), {"condition": mask}


@st.composite
def sum_to_case(draw):
    """A shape and a target it sums down to: leading dims dropped, some kept dims set to 1."""
    s = draw(_shape(empty=True))
    lead = draw(st.integers(0, len(s)))
    target = tuple(d if draw(st.booleans()) else 1 for d in s[lead:])
    return (s,), {"shape": target}


@st.composite
def matrix_case(draw, min_dims=2, max_dims=MAX_DIMS):
    return (draw(_shape(min_dims=min_dims, max_dims=max_dims, empty=True)),), {}


@st.composite
def pad_case(draw):
    s = draw(_shape(min_dims=1))
    k = draw(st.integers(1, len(s)))
    return (s,), {"pad": tuple(draw(st.integers(0, 2)) for _ in range(2 * k)),
                  "value": draw(st.sampled_from([0.0, 1.5]))}


# ***** numpy references for the ops numpy lacks *****

def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_logsumexp(x, dim=None, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=tuple(range(x.ndim)) if dim is None else dim)


def np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def np_log_softmax(x, dim):
    return x - np_logsumexp(x, dim, keepdim=True)


def np_squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=dim) if x.shape[dim] == 1 else x


def np_expand(x, sizes):
    lead = len(sizes) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes)))


def np_flatten(x, start_dim, end_dim):
    return x.reshape(x.shape[:start_dim] + (int(np.prod(x.shape[start_dim:end_dim + 1])),) + x.shape[end_dim + 1:])


def np_sum_to(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, t in enumerate(shape) if t == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape)


def np_norm(p):
    def f(x, dim=None, keepdim=False):
        return np.sum(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
    return f


def t_norm(p):
    def f(t, dim=None, keepdim=False):
        import torch
        return torch.linalg.vector_norm(t, ord=p, dim=_tdim(dim, t), keepdim=keepdim)
    return f


def np_pad(x, pad, value):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


def _values(r):
    """max/min with an int dim return (values, indices): the values carry the gradient."""
    return r.values if hasattr(r, "values") and not callable(r.values) else r


# ***** torch equivalents (torch is imported only by the oracle tests) *****

def _tdim(dim, t):
    return tuple(range(t.ndim)) if dim is None else dim


def t_reduce(name):
    def f(t, dim=None, keepdim=False):
        return getattr(t, name)(dim=_tdim(dim, t), keepdim=keepdim)
    return f


def t_var(name):
    def f(t, dim=None, keepdim=False):
        return getattr(t, name)(dim=_tdim(dim, t), keepdim=keepdim, correction=1)
    return f


def t_maxmin(name):
    def f(t, dim=None, keepdim=False):
        if dim is None:
            return getattr(t, "a" + name)(dim=tuple(range(t.ndim)), keepdim=keepdim) if keepdim else getattr(t, name)()
        if isinstance(dim, int):
            return getattr(t, name)(dim, keepdim=keepdim).values
        return getattr(t, "a" + name)(dim=dim, keepdim=keepdim)
    return f


def t_squeeze(t, dim=None):
    return t.squeeze() if dim is None else t.squeeze(dim)


def t_fn(name, **kw):
    """torch.nn.functional.<name>(x, **kw), looked up when called."""
    def f(*ts):
        import torch.nn.functional as F
        return getattr(F, name)(*ts, **kw)
    return f


def t_torch(name):
    """torch.<name>, looked up when called."""
    def f(*ts, **kw):
        import torch
        return getattr(torch, name)(*ts, **kw)
    return f


# ***** the table *****

@dataclass(frozen=True)
class Op:
    """One row of the catalogue (see the module docstring for the columns)."""
    name: str
    fn: Callable                          # minigrad: fn(*tensors, **params)
    ref: Callable                         # numpy:    ref(*arrays, **params)
    domain: object = ANY                  # a Dom, or a tuple of Dom (one per input)
    smooth: bool = True                   # gradgradcheck runs on smooth ops
    nargs: int = 1                        # for cat/stack: the most inputs drawn
    broadcast: bool = False
    torch: Optional[Callable] = None      # torch:    fn(*torch_tensors, **params)
    case: object = None                   # strategy of (input shapes, params); default from nargs/broadcast
    fix: Optional[Callable] = None        # (arrays, params) -> arrays away from kinks and ties
    differentiable: bool = True
    double_backward: bool = True          # False where the second derivative is zero everywhere
    tags: tuple = field(default_factory=tuple)

    def cases(self):
        """The strategy of (input shapes, params) for this op."""
        return self.case if self.case is not None else elementwise(self.nargs, self.broadcast)

    def domains(self):
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * 64


T = t_torch
CATALOG = [
    # name            minigrad fn                               numpy reference                      domain          smooth nargs broadcast
    # ----- arithmetic -----
    Op("add",         lambda a, b: a + b,                       np.add,                              ANY,            True,  2, True, torch=T("add")),
    Op("sub",         lambda a, b: a - b,                       np.subtract,                         ANY,            True,  2, True, torch=T("sub")),
    Op("mul",         lambda a, b: a * b,                       np.multiply,                         ANY,            True,  2, True, torch=T("mul")),
    Op("div",         lambda a, b: a / b,                       np.divide,                           (ANY, NONZERO), True,  2, True, torch=T("div")),
    Op("pow",         lambda a, b: a ** b,                      np.power,                            (Dom(0.3, 2.5), Dom(-2, 2)), True, 2, True, torch=T("pow")),
    Op("pow_int",     lambda x: x ** 3,                         lambda x: x ** 3,                    ANY,            True,  1, torch=lambda t: t ** 3),
    Op("pow_square",  lambda x: x ** 2,                         np.square,                           ANY,            True,  1, torch=lambda t: t ** 2),
    Op("pow_frac",    lambda x: x ** 1.5,                       lambda x: x ** 1.5,                  POS,            True,  1, torch=lambda t: t ** 1.5),
    Op("pow_neg",     lambda x: x ** -2,                        lambda x: x ** -2.0,                 NONZERO,        True,  1, torch=lambda t: t ** -2),
    Op("neg",         lambda x: -x,                             np.negative,                         ANY,            True,  1, torch=lambda t: -t, double_backward=False),
    Op("radd",        lambda x: 2.5 + x,                        lambda x: 2.5 + x,                   ANY,            True,  1, torch=lambda t: 2.5 + t, double_backward=False),
    Op("rsub",        lambda x: 2.5 - x,                        lambda x: 2.5 - x,                   ANY,            True,  1, torch=lambda t: 2.5 - t, double_backward=False),
    Op("rmul",        lambda x: 2.5 * x,                        lambda x: 2.5 * x,                   ANY,            True,  1, torch=lambda t: 2.5 * t, double_backward=False),
    Op("rtruediv",    lambda x: 2.5 / x,                        lambda x: 2.5 / x,                   NONZERO,        True,  1, torch=lambda t: 2.5 / t),
    Op("rpow",        lambda x: 2.5 ** x,                       lambda x: 2.5 ** x,                  ANY,            True,  1, torch=lambda t: 2.5 ** t),
    Op("add_alpha",   lambda a, b: a.add(b, alpha=2.5),         lambda a, b: a + 2.5 * b,            ANY,            True,  2, True,
       torch=lambda a, b: __import__("torch").add(a, b, alpha=2.5), double_backward=False),
    Op("sub_alpha",   lambda a, b: a.sub(b, alpha=-0.5),        lambda a, b: a + 0.5 * b,            ANY,            True,  2, True,
       torch=lambda a, b: __import__("torch").sub(a, b, alpha=-0.5), double_backward=False),
    Op("matmul",      lambda a, b: a @ b,                       np.matmul,                           ANY,            True,  2, True, torch=T("matmul"), case=matmul_case()),
    # ----- elementwise math -----
    Op("abs",         lambda x: x.abs(),                        np.abs,                              KINK0,          False, 1, torch=T("abs")),
    Op("exp",         lambda x: x.exp(),                        np.exp,                              ANY,            True,  1, torch=T("exp")),
    Op("log",         lambda x: x.log(),                        np.log,                              POS,            True,  1, torch=T("log")),
    Op("sqrt",        lambda x: x.sqrt(),                       np.sqrt,                             POS,            True,  1, torch=T("sqrt")),
    Op("sin",         lambda x: x.sin(),                        np.sin,                              ANY,            True,  1, torch=T("sin")),
    Op("cos",         lambda x: x.cos(),                        np.cos,                              ANY,            True,  1, torch=T("cos")),
    Op("sigmoid",     lambda x: x.sigmoid(),                    np_sigmoid,                          Dom(-8, 8),     True,  1, torch=T("sigmoid")),
    Op("tanh",        lambda x: x.tanh(),                       np.tanh,                             ANY,            True,  1, torch=T("tanh")),
    Op("rsqrt",       lambda x: x.rsqrt(),                      lambda x: 1 / np.sqrt(x),            POS,            True,  1, torch=T("rsqrt")),
    Op("reciprocal",  lambda x: x.reciprocal(),                 lambda x: 1 / x,                     NONZERO,        True,  1, torch=T("reciprocal")),
    Op("square",      lambda x: mg.square(x),                   np.square,                           ANY,            True,  1, torch=T("square")),
    Op("clone",       lambda x: x.clone(),                      lambda x: x.copy(),                  ANY,            True,  1, torch=T("clone"), double_backward=False),
    Op("relu",        lambda x: x.relu(),                       lambda x: np.maximum(x, 0),          KINK0,          False, 1, torch=T("relu")),
    Op("leaky_relu",  lambda x: mg.leaky_relu(x, 0.1),          lambda x: np.where(x > 0, x, 0.1 * x), KINK0,        False, 1, torch=t_fn("leaky_relu", negative_slope=0.1)),
    Op("elu",         lambda x: x.elu(),                        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), KINK0, False, 1, torch=t_fn("elu")),
    Op("softplus",    lambda x: x.softplus(),                   lambda x: np.logaddexp(0, x),        ANY,            True,  1, torch=t_fn("softplus")),
    Op("softplus_beta", lambda x: x.softplus(beta=2.0, threshold=3.0), lambda x: np.where(2 * x > 3, x, np.logaddexp(0, 2 * x) / 2),
       Dom(away=(1.5,)), False, 1, torch=t_fn("softplus", beta=2.0, threshold=3.0)),
    Op("clamp",       lambda x: x.clamp(-1.0, 1.5),             lambda x: np.clip(x, -1.0, 1.5),     Dom(away=(-1.0, 1.5)), False, 1, torch=lambda t: t.clamp(-1.0, 1.5)),
    Op("clamp_min",   lambda x: x.clamp(min=0.5),               lambda x: np.maximum(x, 0.5),        Dom(away=(0.5,)), False, 1, torch=lambda t: t.clamp(min=0.5)),
    Op("clamp_max",   lambda x: mg.clamp(x, max=-0.5),          lambda x: np.minimum(x, -0.5),       Dom(away=(-0.5,)), False, 1, torch=lambda t: t.clamp(max=-0.5)),
    Op("maximum",     lambda a, b: a.maximum(b),                np.maximum,                          ANY,            False, 2, True, torch=T("maximum"), fix=lattice_pair),
    Op("minimum",     lambda a, b: mg.minimum(a, b),            np.minimum,                          ANY,            False, 2, True, torch=T("minimum"), fix=lattice_pair),
    # ----- reductions -----
    Op("sum",         lambda x, **k: x.sum(**k),                lambda x, dim, keepdim: np.sum(x, axis=dim, keepdims=keepdim), ANY, True, 1,
       torch=t_reduce("sum"), case=reduction(empty=True), double_backward=False),
    Op("mean",        lambda x, **k: x.mean(**k),               lambda x, dim, keepdim: np.mean(x, axis=dim, keepdims=keepdim), ANY, True, 1,
       torch=t_reduce("mean"), case=reduction(), double_backward=False),
    Op("max",         lambda x, **k: _values(x.max(**k)),       lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim), ANY, False, 1,
       torch=t_maxmin("max"), case=reduction(), fix=lambda a, p: [untie(a[0])]),
    Op("min",         lambda x, **k: _values(x.min(**k)),       lambda x, dim, keepdim: np.min(x, axis=dim, keepdims=keepdim), ANY, False, 1,
       torch=t_maxmin("min"), case=reduction(), fix=lambda a, p: [untie(a[0])]),
    Op("amax",        lambda x, **k: x.amax(**k),               lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim), ANY, False, 1,
       torch=t_reduce("amax"), case=reduction(), fix=lambda a, p: [untie(a[0])]),
    Op("amin",        lambda x, **k: mg.amin(x, **k),           lambda x, dim, keepdim: np.min(x, axis=dim, keepdims=keepdim), ANY, False, 1,
       torch=t_reduce("amin"), case=reduction(), fix=lambda a, p: [untie(a[0])]),
    Op("var",         lambda x, **k: x.var(**k),                lambda x, dim, keepdim: np.var(x, axis=dim, keepdims=keepdim, ddof=1), ANY, True, 1,
       torch=t_var("var"), case=reduction(min_side=2, min_dims=1)),
    Op("std",         lambda x, **k: x.std(**k),                lambda x, dim, keepdim: np.std(x, axis=dim, keepdims=keepdim, ddof=1), ANY, True, 1,
       torch=t_var("std"), case=reduction(min_side=2, min_dims=1), fix=lambda a, p: [untie(a[0])]),   # sqrt kink at var 0
    Op("var_biased",  lambda x, **k: x.var(unbiased=False, **k), lambda x, dim, keepdim: np.var(x, axis=dim, keepdims=keepdim), ANY, True, 1,
       torch=lambda t, dim=None, keepdim=False: t.var(dim=_tdim(dim, t), keepdim=keepdim, correction=0), case=reduction(min_dims=1)),
    Op("norm",        lambda x, **k: x.norm(**k),               np_norm(2),                          NONZERO,        True,  1,
       torch=t_norm(2), case=reduction()),
    Op("norm_p1",     lambda x, **k: mg.norm(x, p=1, **k),      np_norm(1),                          KINK0,          False, 1,
       torch=t_norm(1), case=reduction()),
    Op("norm_p3",     lambda x, **k: x.norm(p=3, **k),          np_norm(3),                          NONZERO,        True,  1,
       torch=t_norm(3), case=reduction()),
    Op("logsumexp",   lambda x, **k: x.logsumexp(**k),          np_logsumexp,                        ANY,            True,  1,
       torch=t_reduce("logsumexp"), case=reduction()),
    Op("softmax",     lambda x, dim: x.softmax(dim),            np_softmax,                          ANY,            True,  1,
       torch=lambda t, dim: t.softmax(dim), case=one_dim()),
    Op("log_softmax", lambda x, dim: mg.log_softmax(x, dim),    np_log_softmax,                      ANY,            True,  1,
       torch=lambda t, dim: t.log_softmax(dim), case=one_dim()),
    Op("argmax",      lambda x, dim: x.argmax(dim),             lambda x, dim: np.argmax(x, axis=dim), ANY,          False, 1,
       torch=lambda t, dim: t.argmax(dim), case=one_dim(), fix=lambda a, p: [untie(a[0])], differentiable=False),
    Op("argmin",      lambda x, dim: mg.argmin(x, dim),         lambda x, dim: np.argmin(x, axis=dim), ANY,          False, 1,
       torch=lambda t, dim: t.argmin(dim), case=one_dim(), fix=lambda a, p: [untie(a[0])], differentiable=False),
    # ----- shape -----
    Op("reshape",     lambda x, shape: x.reshape(shape),        lambda x, shape: x.reshape(shape),   ANY,            True,  1,
       torch=lambda t, shape: t.reshape(shape), case=reshape_case(), double_backward=False),
    Op("view",        lambda x, shape: x.view(*shape),          lambda x, shape: x.reshape(shape),   ANY,            True,  1,
       torch=lambda t, shape: t.view(shape), case=reshape_case(), double_backward=False),
    Op("transpose",   lambda x, dim0, dim1: x.transpose(dim0, dim1), lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1), ANY, True, 1,
       torch=lambda t, dim0, dim1: t.transpose(dim0, dim1), case=transpose_case(), double_backward=False),
    Op("permute",     lambda x, dims: x.permute(*dims),         lambda x, dims: np.transpose(x, dims), ANY,          True,  1,
       torch=lambda t, dims: t.permute(dims), case=permute_case(), double_backward=False),
    Op("T",           lambda x: x.T,                            lambda x: x.T,                       ANY,            True,  1,
       torch=lambda t: t.permute(tuple(range(t.ndim - 1, -1, -1))), case=elementwise(empty=True), double_backward=False),
    Op("mT",          lambda x: x.mT,                           lambda x: np.swapaxes(x, -1, -2),    ANY,            True,  1,
       torch=lambda t: t.mT, case=matrix_case(), double_backward=False),
    Op("t",           lambda x: x.t(),                          lambda x: x.T,                       ANY,            True,  1,
       torch=lambda t: t.t(), case=matrix_case(min_dims=0, max_dims=2), double_backward=False),
    Op("sum_to",      lambda x, shape: x.sum_to(shape),         np_sum_to,                           ANY,            True,  1,
       torch=lambda t, shape: t.sum_to_size(shape) if shape else t.sum(), case=sum_to_case(), double_backward=False),
    Op("flatten",     lambda x, **k: x.flatten(**k),            np_flatten,                          ANY,            True,  1,
       torch=lambda t, **k: t.flatten(**k), case=flatten_case(), double_backward=False),
    Op("squeeze",     lambda x, dim: x.squeeze(dim),            np_squeeze,                          ANY,            True,  1,
       torch=t_squeeze, case=squeeze_case(), double_backward=False),
    Op("unsqueeze",   lambda x, dim: x.unsqueeze(dim),          lambda x, dim: np.expand_dims(x, dim), ANY,          True,  1,
       torch=lambda t, dim: t.unsqueeze(dim), case=unsqueeze_case(), double_backward=False),
    Op("expand",      lambda x, sizes: x.expand(*sizes),        np_expand,                           ANY,            True,  1,
       torch=lambda t, sizes: t.expand(sizes), case=expand_case(), double_backward=False),
    Op("getitem_basic", lambda x, index: x[index],              lambda x, index: x[index],           ANY,            True,  1,
       torch=lambda t, index: t[index], case=getitem_case("basic"), double_backward=False),
    Op("getitem_intarray", lambda x, index: x[index],           lambda x, index: x[index],           ANY,            True,  1,
       torch=lambda t, index: t[index], case=getitem_case("intarray"), double_backward=False),
    Op("getitem_mixed", lambda x, index: x[index],              lambda x, index: x[index],           ANY,            True,  1,
       torch=lambda t, index: t[index], case=getitem_case("mixed"), double_backward=False),
    Op("getitem_mask", lambda x, index: x[index],               lambda x, index: x[index],           ANY,            True,  1,
       torch=lambda t, index: t[index], case=getitem_case("mask"), double_backward=False),
    Op("cat",         lambda *xs, dim: mg.cat(xs, dim),         lambda *xs, dim: np.concatenate(xs, axis=dim), ANY,  True,  3,
       torch=lambda *ts, dim: __import__("torch").cat(ts, dim), case=cat_case(), double_backward=False),
    Op("stack",       lambda *xs, dim: mg.stack(xs, dim),       lambda *xs, dim: np.stack(xs, axis=dim), ANY,        True,  3,
       torch=lambda *ts, dim: __import__("torch").stack(ts, dim), case=cat_case(new_axis=True), double_backward=False),
    Op("where",       lambda a, b, condition: mg.where(condition, a, b), lambda a, b, condition: np.where(condition, a, b), ANY, True, 2, True,
       torch=lambda a, b, condition: __import__("torch").where(condition, a, b), case=where_case(), double_backward=False),
    Op("pad",         lambda x, pad, value: mg.pad(x, pad, value), np_pad,                           ANY,            True,  1,
       torch=lambda t, pad, value: t_fn("pad", pad=pad, value=value)(t), case=pad_case(), double_backward=False),
]

BY_NAME = {op.name: op for op in CATALOG}
assert len(BY_NAME) == len(CATALOG), "duplicate op names in the catalogue"
