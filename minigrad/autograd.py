"""The gate (``Function``), grad mode, and the reverse-mode engine.

A gate's ``forward`` works on raw arrays (numpy or cupy); its ``backward`` works on Tensors, so the
same rule serves first-order backprop (run under ``no_grad``) and, with ``create_graph=True``,
records a differentiable graph of the backward pass itself (second derivatives). Rules that read
their operands through ``Function.operands`` run on raw arrays in a first-order pass.

Graph ownership (no reference cycles, so memory is freed by reference counting):
    tensor --grad_fn--> gate --inputs--> tensors        (strong)
    gate --_out--> its output tensor                     (weak)
"""
import functools
import os
import threading
import traceback
import weakref

import numpy as np

from . import backend


# ***** grad mode (per thread) *****

class _GradState(threading.local):
    """Grad mode, anomaly mode and the viz scope of one thread.

    ``mode`` sums them up for ``Function.apply``, which runs once per op: 0 (no grad), 1 (grad),
    or 2 (anomaly mode or a scope is on: read the rest). One read of a thread-local attribute
    instead of three is about 4% of the overhead benchmark.
    """
    backward_gate = None    # the gate whose backward is running (anomaly mode only), for error messages
    kink_log = None         # a list while gradcheck records this thread's kinks, else None
    capturing = False       # True while mg.grad runs a backward pass (it reads non-leaf gradients)

    def __init__(self):     # threading.local runs this once in every thread that touches the state
        self._enabled, self._anomaly, self._scope, self.mode = True, False, (), 1

    def _set(self, enabled, anomaly, scope):
        self._enabled, self._anomaly, self._scope = enabled, anomaly, scope
        self.mode = 2 if anomaly or scope else int(enabled)

    enabled = property(lambda self: self._enabled,
                       lambda self, v: self._set(bool(v), self._anomaly, self._scope),
                       doc="True while operations are recorded into the graph.")
    anomaly = property(lambda self: self._anomaly,
                       lambda self, v: self._set(self._enabled, bool(v), self._scope),
                       doc="True inside detect_anomaly().")
    scope = property(lambda self: self._scope,
                     lambda self, v: self._set(self._enabled, self._anomaly, tuple(v)),
                     doc="Names pushed by viz.scope(): gates created inside are tagged, for pictures.")


_state = _GradState()


def grad_unobserved(t):
    """True when, in the backward pass running now, only the gate that made ``t`` reads the gradient
    that reaches ``t``: no hook or retained gradient on it, no ``mg.grad`` capture, and nothing
    records the pass (``create_graph``, anomaly mode, a viz scope). A gate may then hand that gate a
    gradient already multiplied by its local factor (see ``MaxPool2dGate.backward``)."""
    return _state.mode == 0 and not _state.capturing and not t._hooks and not t._retains_grad


def is_grad_enabled():
    """True when operations are being recorded into the graph."""
    return _state._enabled


class _GradModeContext:
    """Context manager and decorator that sets grad mode for its block (per thread)."""
    mode = True

    def __new__(cls, func=None):
        # NOTE: `@mg.no_grad` without parentheses hands the function to the class itself (as torch allows)
        self = super().__new__(cls)
        return self(func) if func is not None else self

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self._prev

    def __call__(self, func):
        cls = self.__class__

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with cls():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording inside the block or decorated function (``torch.no_grad``)."""
    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block (``torch.enable_grad``)."""
    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: at once when called, restored after a ``with`` block, or for the
    calls of a decorated function (``torch.set_grad_enabled``)."""

    def __new__(cls, mode=True):
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __enter__(self):
        pass                              # __init__ has switched the mode already

    def __call__(self, func):
        _state.enabled = self._prev       # as a decorator it changes nothing until func runs
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper


class detect_anomaly:
    """Raise as soon as a gate produces NaN or Inf, forward or backward, naming the gate,
    its input shapes and the line of user code that created it (``torch.autograd.detect_anomaly``).

    Costs a finiteness check per op and a stack capture per gate; use it for debugging only.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _state.anomaly
        _state.anomaly = self.check_nan

    def __exit__(self, *exc):
        _state.anomaly = self._prev


class AnomalyError(RuntimeError):
    """A gate produced NaN or Inf while ``detect_anomaly`` was active."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep   # frames in here are not the user's


def _user_frame():
    """The innermost stack frame outside minigrad's own package, as 'file:line in func: code'."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "<unknown>"


def _check_finite(array, what, fn, index=None):
    xp = backend.get_array_module(array)
    if array.dtype.kind in "fc" and not bool(xp.isfinite(array).all()):
        bad = "NaN" if bool(xp.isnan(array).any()) else "Inf"
        step = ""
        owner = _state.backward_gate
        if what == "the forward pass" and owner is not None and owner is not fn:
            # an op run inside some gate's backward: blame that gate, the one the user knows
            what, step, fn = "the backward pass", f" in its {fn.label} step", owner
        shapes = ", ".join(str(t.shape) for t in fn.inputs) if fn.inputs else "no inputs"
        where = getattr(fn, "_created_at", None) or (
            "<unknown: the forward pass ran outside detect_anomaly(); run it inside too to see the line>")
        which = f" (the gradient for input {index}, of shape {tuple(array.shape)})" if index is not None else ""
        raise AnomalyError(f"{what} of gate {fn.label} produced {bad}{step}{which}; input shapes: "
                           f"{shapes}; the gate was created at {where}")


# ***** kink recording, used by gradcheck to see finite differences that cross a kink *****



def record_kink(gate, signature):
    """Called by gates with a kink (relu, abs, max, where, clip): log which branch each element took."""
    log = _state.kink_log
    if log is not None:
        log.append((gate, backend.to_numpy(signature)))


# ***** version counters, shared by views *****

# NOTE: a view (reshape, transpose, a slice, expand, detach) shares its base's memory, so a change through
# either must show in both (PyTorch shares one counter). Each tensor keeps its own count of the
# writes made through it, and a view's ``_base`` links it to the tensor it views: its version is
# the sum along that chain, and a write through a view also counts on every base above it
# (``Tensor._count_write``). Tensors that are no views (nearly all) pay one ``is None`` test.

def _version_of(t):
    """The version of ``t``'s memory: writes through ``t`` and through every tensor it is a view of."""
    version, base = t._version, t._base
    while base is not None:
        version += base._version
        base = base._base
    return version


def _link_view(out, src, gate, kwargs):
    """Mark ``out`` as a view of ``src`` when its array shares ``src``'s memory, made by ``gate``
    with ``kwargs`` (so an in-place op on ``out`` can be written through into ``src``)."""
    owner, data = out.data.base, src.data
    if owner is not None and (owner is data or owner is data.base):
        out._base, out._view = src, (gate, kwargs)
        _register_view(src, out)


# the recipe of a detach() alias: the same memory, no gate (Tensor.detach)
DETACHED = ("detach", None)


def _register_view(src, out):
    """Remember ``out`` (weakly) among the tensors sharing ``src``'s memory, so that they follow
    ``src`` when an in-place op under grad gives it new memory (Tensor._remake_views)."""
    views = getattr(src, "_views", None)
    if views is None:
        src._views = views = _ViewRefs()
    views.append(_weakref(out))
    if len(views) >= views.limit:        # drop the dead (a base viewed every step) once the
        views[:] = [r for r in views if r() is not None]          # list doubled: O(1) per view
        views.limit = max(16, 2 * len(views))


class _ViewRefs(list):
    """Weak references to the views made from a tensor, pruned when the list has doubled."""
    limit = 16


def _shared_memory_note(x):
    if x._base is None:
        return ""
    return f" (it is a view of a tensor of shape {x._base.shape}: a change to either counts)"


# ***** the gate *****

_weakref = weakref.ref
_new = object.__new__
_ndarray = np.ndarray
_KEEP_AFTER_RELEASE = frozenset(["inputs", "needs_input_grad", "parents", "_out", "_versions", "_created_at",
                                 "_scope"])

_Tensor = []


def _as_tensors(values):
    """``values`` with a raw first gradient (see Function.takes_array_grads) wrapped as a Tensor."""
    g = values[0]
    return (_Tensor[0]._wrap(g),) + values[1:] if type(g) is _ndarray else values


def _tensor_class():
    """minigrad.tensor.Tensor, looked up once (tensor.py imports this module, not the reverse)."""
    if not _Tensor:
        from .tensor import Tensor
        _Tensor.append(Tensor)
    return _Tensor[0]


def _defined_by(cls, name):
    """The first class in ``cls``'s method resolution order whose own body defines ``name``."""
    return next(k for k in cls.__mro__ if name in k.__dict__)


class Function:
    """A gate: ``forward`` on arrays and ``backward`` on Tensors, side by side.

    Subclass it to define your own differentiable operation (as ``torch.autograd.Function``)::

        class Sigmoid(mg.Function):
            saves_inputs, saves_output = (), True   # what backward reads, for the version check
            def forward(self, x):             # x: a numpy/cupy array
                return 1 / (1 + self.xp.exp(-x))
            def backward(self, g):            # g: a Tensor, dL/d(output)
                y = self.output               # the output Tensor (differentiable)
                return g * y * (1 - y)        # one gradient per input (None to skip)

        out = Sigmoid.apply(x)

    ``self.inputs`` holds the input Tensors and ``self.needs_input_grad`` tells which need a gradient;
    ``self.operands(g, ...)`` hands a rule its operands as raw arrays when nothing records backward;
    a gate that reads ``g`` only that way may set ``takes_array_grads = True`` to get it raw as well.
    Inputs named in ``saves_inputs`` (all by default) and the output when ``saves_output`` is set
    are version-checked at backward: changing them in place in between is an error.
    Non-tensor arguments go as keywords to ``apply`` and on to ``forward``.
    """
    saves_inputs = None     # indices of inputs whose values backward reads; None means all
    _out_version = 0        # the output's version when this gate made its value (an in-place op: 1+)
    # {i: the inputs whose values the gradient of input i reads}, for a gate whose gradients read
    # different inputs: only those of the gradients needed are version-checked (x * c, with c
    # constant, reads only c: changing x in place afterwards is fine, as in PyTorch)
    reads_inputs_for = None
    saves_output = False    # True when backward reads the output's value
    makes_view = False      # True when the output may share the first input's memory (reshape, x[1:])
    # True when backward accepts its gradient ``g`` as a raw numpy array on a first-order pass (it
    # reads g only through ``operands`` or passes it on untouched); else g is always a Tensor
    takes_array_grads = False
    # False when forward keeps nothing on self beyond what apply records: after backward the engine
    # then marks the gate freed without looking for saved buffers (Python 3.11 builds an instance's
    # __dict__ on first access: ~0.2 us per gate)
    keeps_state = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # NOTE: takes_array_grads, reads_inputs_for and keeps_state describe one class's own
        # backward and forward: a class whose backward (forward) resolves to a class that comes
        # before the flag's in its method resolution order (a subclass or a mixin that writes its
        # own) gets the safe default, unless it declares the flag again
        mro = cls.__mro__
        for flag, method, default in (("takes_array_grads", "backward", False),
                                      ("reads_inputs_for", "backward", None),
                                      ("keeps_state", "forward", True)):
            if mro.index(_defined_by(cls, method)) < mro.index(_defined_by(cls, flag)):
                setattr(cls, flag, default)
        # NOTE: speed. The weak link to the output is one GC-tracked object per op, a fifth of what
        # an op leaves alive until backward (the cyclic GC is 10-15% of the overhead workload).
        # minigrad's own gates read their output only when they declare saves_output, so the others
        # link it only when something asks for it (link_output: a hook, retain_grad, a shallow
        # copy). A user's gate may read self.output without declaring it: it always links.
        cls._links_output = bool(cls.saves_output) or not cls.__module__.startswith("minigrad.")

    # per-instance attributes (no __slots__: gates keep what backward needs on self, by name)
    inputs = ()
    needs_input_grad = ()
    parents = ()
    _out = None
    _links_output = True    # set per class by __init_subclass__
    _versions = None
    _freed = False

    @property
    def label(self):
        """The gate's name in graph pictures and error messages."""
        return type(self).__name__

    @property
    def xp(self):
        """The array module of this gate's inputs."""
        return backend.array_module_of(self.inputs)

    @property
    def output(self):
        """The output Tensor (held weakly: alive while the graph is being differentiated).

        minigrad's own gates that do not read their output link it only when the output gets a hook
        or ``retain_grad()`` or is shallow-copied; until then this is None.
        """
        return self._out() if self._out is not None else None

    @staticmethod
    def operands(*values):
        """``values`` (the incoming gradient and the Tensors a backward rule reads) as raw arrays
        on a first-order pass, else as they are.

        A rule written over them once runs as NumPy/CuPy ops when nothing records the backward
        pass, and as gates when something does (``create_graph``, anomaly mode, a viz scope) or
        when their dtypes differ (the Tensor ops' promotion rules then apply)::

            g, y = self.operands(g, self.output)
            return g * y * (1.0 - y)
        """
        # NOTE: speed. A gate costs about 1-2 us of bookkeeping on top of its array op; a
        # first-order backward needs none of it (the engine wraps returned arrays only where a
        # Tensor is needed). The gradient may arrive raw already: see Function.takes_array_grads.
        if _state.mode != 0:
            return values
        g = values[0]
        g = g if type(g) is _ndarray else g.data
        if len(values) == 2:                         # the common cases, spelled out
            a = values[1].data
            return (g, a) if g.dtype is a.dtype or g.dtype == a.dtype else _as_tensors(values)
        if len(values) == 3:
            a, b = values[1].data, values[2].data
            dtype = g.dtype
            same = (a.dtype is dtype or a.dtype == dtype) and (b.dtype is dtype or b.dtype == dtype)
            return (g, a, b) if same else _as_tensors(values)
        if len(values) == 1:
            return (g,)
        arrays = (g,) + tuple([v.data for v in values[1:]])
        dtype = g.dtype
        for a in arrays:
            if a.dtype is not dtype and a.dtype != dtype:
                return _as_tensors(values)
        return arrays

    def forward(self, *arrays, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, g):
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the gate on Tensors and record it in the graph when any input requires grad."""
        # NOTE: this runs once per op: no generators, no repeated lookups, and the one- and
        # two-input gates (nearly all) spelled out, which saves about 1 us per op (README, Performance)
        Tensor = _Tensor[0] if _Tensor else _tensor_class()
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
                break
        fn = cls()
        fn.inputs = inputs
        mode = _state.mode
        if mode == 2:                        # anomaly mode or a viz scope: read the whole state
            state = _state
            anomaly, enabled = state.anomaly, state.enabled
            if anomaly:
                fn._created_at = _user_frame()
            if state.scope:
                fn._scope = state.scope
        else:
            anomaly, enabled = False, mode
        try:
            if len(inputs) == 2:
                data = fn.forward(inputs[0].data, inputs[1].data, **kwargs)
            elif len(inputs) == 1:
                data = fn.forward(inputs[0].data, **kwargs)
            else:
                data = fn.forward(*[x.data for x in inputs], **kwargs)
        except (ValueError, TypeError) as e:
            # NOTE: devices are compared only once the op failed, so the common path pays nothing
            devices = [backend.device_of(x.data) for x in inputs]
            if len(set(devices)) > 1:
                where = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
                raise RuntimeError(f"gate {fn.label}: expected all tensors on one device, got {where}; "
                                   "move them with .to(device) first") from None
            from .ops import ShapeError
            if isinstance(e, ShapeError) or not isinstance(e, ValueError) or "broadcast" not in str(e):
                raise                                  # (a gate's own ShapeError says more)
            raise ShapeError(f"gate {fn.label}: the shapes {' and '.join(str(x.shape) for x in inputs)} "
                             f"do not broadcast together") from None
        # Tensor._wrap(data), inlined
        out = _new(Tensor)
        if type(data) is not _ndarray and not backend.is_array(data):
            data = np.asarray(data)              # numpy ufuncs on 0-d arrays return scalars
        out.data = data
        out.grad = out.grad_fn = out._hooks = out.name = None
        out.requires_grad = out._retains_grad = False
        out._version = 0
        out._base = None
        if cls.makes_view:
            _link_view(out, inputs[0], cls, kwargs)
        if anomaly:
            _check_finite(out.data, "the forward pass", fn)
        if not enabled:
            return out
        if len(inputs) == 1:
            (a,) = inputs
            if not a.requires_grad:
                return out
            # NOTE: the common tuples are shared constants: fewer allocations, fewer GC passes
            fn.needs_input_grad, fn.parents = (True,), (a.grad_fn or a,)
            fn._versions = (_version_of(a),) if a._version or a._base is not None else (0,)
        elif len(inputs) == 2:
            a, b = inputs
            ra, rb = a.requires_grad, b.requires_grad
            if not (ra or rb):
                return out
            fn.needs_input_grad = ((True, True) if rb else (True, False)) if ra else (False, True)
            fn.parents = ((a.grad_fn or a) if ra else None, (b.grad_fn or b) if rb else None)
            fn._versions = ((_version_of(a), _version_of(b))
                            if a._version or b._version or a._base is not None or b._base is not None else (0, 0))
        else:
            needs = tuple([x.requires_grad for x in inputs])
            if True not in needs:
                return out
            fn.needs_input_grad = needs
            fn.parents = tuple([(x.grad_fn or x) if x.requires_grad else None for x in inputs])
            fn._versions = tuple([_version_of(x) for x in inputs])
        if cls._links_output:
            fn._out = _weakref(out)
        out.requires_grad = True
        out.grad_fn = fn
        return out

    def _release(self):
        """Drop what forward kept for backward (the graph's structure stays, for pictures)."""
        d = self.__dict__
        if not d.keys() <= _KEEP_AFTER_RELEASE:       # most gates keep nothing else: skip the loop
            for name in [k for k in d if k not in _KEEP_AFTER_RELEASE]:
                del d[name]
        self._freed = True

    def _check_versions(self):
        saved = range(len(self.inputs)) if self.saves_inputs is None else self.saves_inputs
        if self.reads_inputs_for is not None:
            read = {j for i, need in enumerate(self.needs_input_grad) if need for j in self.reads_inputs_for[i]}
            saved = [i for i in saved if i in read]
        for i in saved:
            x = self.inputs[i]
            if _version_of(x) != self._versions[i]:
                raise RuntimeError(
                    f"one of the tensors needed for gradient computation has been modified by an "
                    f"in-place operation: input {i} of gate {self.label}, a tensor of shape "
                    f"{x.shape}{' named ' + repr(x.name) if x.name else ''}, is at version "
                    f"{_version_of(x)}; expected version {self._versions[i]}{_shared_memory_note(x)}. "
                    f"Use an out-of-place op "
                    f"(e.g. `x = x + 1` instead of `x += 1`) or .clone() before changing it.")
        if self.saves_output:
            out = self.output
            if out is not None and _version_of(out) != self._out_version and out.grad_fn is self:
                raise RuntimeError(
                    f"the output of gate {self.label} (shape {out.shape}) was modified by an "
                    f"in-place operation, but backward needs its value. Use an out-of-place op.")


# ***** toposort and backward pass *****

# NOTE: set for good once any tensor gets a hook or retain_grad(): until then the engine never
# needs a gate's output tensor unless the gate saved it
_watching = [False]


def watch_outputs():
    """Make backward look up every gate's output tensor (for hooks and retained gradients)."""
    _watching[0] = True


def no_output():
    """The ``_out`` of a gate whose output value no tensor holds any more (``Tensor._remake_views``):
    it reads as no output, and ``link_output`` leaves it alone."""
    return None


def link_output(t):
    """Give the gate that made ``t`` its weak link to ``t``, if it has none yet (a gate that does not
    read its output makes none: see ``Function.output``)."""
    fn = t.grad_fn
    if fn is not None and fn._out is None:
        fn._out = _weakref(t)


def _toposort(roots):
    """Nodes (gates, and leaf tensors that require grad) in post-order, iteratively: no recursion."""
    # NOTE: a stack of (node, iterator over its parents) visits each edge once and allocates one
    # pair per node; this runs over the whole graph on every backward
    order, seen = [], set()
    visit, mark, _id = order.append, seen.add, id
    for root in reversed(roots):
        if _id(root) in seen:
            continue
        mark(_id(root))
        stack = [(root, iter(getattr(root, "parents", ())))]   # a leaf tensor has no parents
        push = stack.append
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p is not None and _id(p) not in seen:
                    mark(_id(p))
                    push((p, iter(getattr(p, "parents", ()))))
                    break
            else:
                stack.pop()
                visit(node)
    return order


def _run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate ``root_grads`` from ``roots`` (Tensors) to every node that requires grad.

    With ``capture`` (a dict id(node) -> slot) the gradients of those nodes are returned in a list
    and no leaf's ``.grad`` is touched (``mg.grad``); otherwise leaf gradients accumulate into ``.grad``.
    """
    from .tensor import Tensor
    nodes = [r.grad_fn or r for r in roots]
    grads = {}
    for node, g in zip(nodes, root_grads):
        grads[id(node)] = g if id(node) not in grads else grads[id(node)] + g
    captured = [None] * len(capture) if capture is not None else None
    handed_out = set()                         # grads (and their arrays) stored somewhere: never alias them twice
    for g in root_grads:
        handed_out.update((id(g), id(g.data), id(getattr(g.data, "base", None))))

    # NOTE: this loop runs once per node: its lookups are bound to locals once, anomaly mode is read
    # once per pass, and the common path of _release is inlined (README, Performance)
    # NOTE: speed. On a first-order pass (nothing recorded: mode 0) the gradients flowing between
    # gates stay raw numpy arrays and are wrapped into Tensors only where a Tensor is needed: a leaf,
    # a hook, a captured gradient, or a gate whose backward does not declare takes_array_grads
    # (about 0.5 us and one GC-tracked object per gate). ``grads`` holds arrays or Tensors.
    anomaly = _state.anomaly
    pop, get, wrap = grads.pop, grads.get, Tensor._wrap
    recording, capturing = _state.enabled, _state.capturing
    _state.enabled = create_graph           # (set_grad_enabled's work, without its objects)
    _state.capturing = capture is not None
    raw = _state.mode == 0
    try:
        for node in reversed(_toposort(nodes)):
            g = pop(id(node), None)
            if g is None:
                continue
            if isinstance(node, Tensor):                      # a leaf
                if type(g) is _ndarray:
                    g = wrap(g)
                for hook in tuple(node._hooks or ()):      # (a hook may register hooks)
                    new = hook(g)
                    g = new if new is not None else g
                if capture is not None:
                    if id(node) in capture:
                        captured[capture[id(node)]] = g
                    continue
                node._accumulate_grad(g, handed_out, create_graph)
                continue
            fn = node
            # fn.output, inlined, and only looked up when something reads it: a hook or retain_grad
            # somewhere in this process (read per node: a backward may register the first), or a
            # gate that saves its output (about 2% per node)
            out = fn._out() if (_watching[0] or fn.saves_output) and fn._out is not None else None
            if out is not None and (out._hooks or out._retains_grad):
                if type(g) is _ndarray:
                    g = wrap(g)
                for hook in tuple(out._hooks or ()):
                    new = hook(g)
                    g = new if new is not None else g
                if out._retains_grad and capture is None:
                    out._accumulate_grad(g, handed_out, create_graph)
            if capture is not None and id(fn) in capture:
                if type(g) is _ndarray:
                    g = wrap(g)
                captured[capture[id(fn)]] = g
            if fn._freed:
                raise RuntimeError(
                    f"trying to backward through the graph a second time (gate {fn.label}): its saved "
                    "buffers were freed by the first backward. Pass retain_graph=True to the first "
                    "backward() if you need to backward twice.")
            inputs = fn.inputs
            if fn.saves_inputs != ():                          # a gate that saves no input has nothing to check
                for x, version in zip(inputs, fn._versions):   # a cheap scan; the full check names the culprit
                    if (x._version if x._base is None else _version_of(x)) != version:
                        fn._check_versions()
                        break
            if out is not None and out._version and fn.saves_output:
                fn._check_versions()
            if type(g) is _ndarray and not (raw and fn.takes_array_grads):
                g = wrap(g)
            if anomaly:
                prev, _state.backward_gate = _state.backward_gate, fn
                try:
                    gxs = fn.backward(g)
                finally:
                    _state.backward_gate = prev
            else:
                gxs = fn.backward(g)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if len(gxs) != len(inputs):
                raise RuntimeError(f"gate {fn.label} returned {len(gxs)} gradients for "
                                   f"{len(inputs)} inputs")
            if anomaly:
                for i, gx in enumerate(gxs):
                    if gx is not None:
                        _check_finite(gx.data if isinstance(gx, Tensor) else gx, "the backward pass", fn, i)
            if not retain_graph:
                # the attributes apply() records (four, and the output's link if made) are all a
                # gate has unless forward saved more
                if fn.keeps_state and len(fn.__dict__) > (4 if fn._out is None else 5):
                    fn._release()
                else:
                    fn._freed = True
            for parent, x, gx in zip(fn.parents, inputs, gxs):
                if parent is None or gx is None:
                    continue
                if type(gx) is _ndarray and not create_graph:
                    shape = gx.shape                         # kept raw (see the NOTE above)
                else:
                    if not isinstance(gx, Tensor):
                        gx = wrap(gx)                        # numpy scalars, cupy arrays
                    shape = gx.data.shape
                if shape != x.data.shape:
                    gx = _unbroadcast(gx if isinstance(gx, Tensor) else wrap(gx), x.shape, fn)
                key = id(parent)
                prev = get(key)
                if prev is None:
                    grads[key] = gx
                elif create_graph:                           # gradients add up at forks
                    grads[key] = prev + gx                   # (recorded: the sum is differentiated too)
                else:
                    total = ((prev if type(prev) is _ndarray else prev.data)
                             + (gx if type(gx) is _ndarray else gx.data))
                    grads[key] = total if type(total) is _ndarray else wrap(total)
    finally:
        _state.enabled, _state.capturing = recording, capturing
    return captured


def _unbroadcast(g, shape, fn):
    """Sum a gradient over the axes along which its input was broadcast: the one place that knows."""
    try:
        return g.sum_to(shape)
    except ValueError:
        raise RuntimeError(f"gate {fn.label} returned a gradient of shape {g.shape} for an input of "
                           f"shape {shape}") from None


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    from .tensor import Tensor
    if not tensor.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn: "
                           "create an input with requires_grad=True, and do not compute under no_grad()")
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(f"backward() without a gradient argument needs a scalar output, got shape "
                               f"{tensor.shape}; pass gradient= of that shape (or call .sum() first)")
        data = tensor.data                 # (not xp.ones_like: a Python-level function, 3x slower)
        gradient = Tensor._wrap(backend.get_array_module(data).array(1, dtype=data.dtype).reshape(data.shape))
    else:
        gradient = _as_grad(gradient, tensor)
    _run_backward([tensor], [gradient], retain_graph or create_graph, create_graph)


def _as_grad(gradient, tensor):
    from .tensor import Tensor
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient, dtype=tensor.dtype, device=tensor.device)
    if gradient.shape != tensor.shape:
        raise RuntimeError(f"gradient has shape {gradient.shape} but the output has shape {tensor.shape}")
    return gradient


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (``torch.autograd.grad``).

    No ``.grad`` attribute is touched. With ``create_graph=True`` the results are differentiable.
    """
    from .tensor import Tensor
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    root_grads = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(f"an output of shape {out.shape} does not require grad")
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(f"grad_outputs must be given for a non-scalar output of shape {out.shape}")
            g = Tensor._wrap(out.xp.ones_like(out.data))
        root_grads.append(_as_grad(g, out))
    capture, slot_of_input = {}, []     # an input named twice gets one slot, read twice
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"input {i} (shape {x.shape}) does not require grad")
        slot_of_input.append(capture.setdefault(id(x.grad_fn or x), len(capture)))
    if retain_graph is None:
        retain_graph = create_graph
    captured = _run_backward(outputs, root_grads, retain_graph, create_graph, capture)
    result = [captured[slot] for slot in slot_of_input]
    for i, g in enumerate(result):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"input {i} (shape {inputs[i].shape}) was not used to compute the "
                                   "outputs; pass allow_unused=True to get None for it")
        elif g.shape != inputs[i].shape:
            result[i] = g.sum_to(inputs[i].shape)
    return tuple(result)
