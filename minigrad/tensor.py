"""The Tensor: storage and properties, factories, operators, and every op composed from the gates."""
import builtins
import copy
import math
import weakref
from collections import namedtuple

import numpy as np

from . import autograd, backend
from . import ops
from .autograd import Function, is_grad_enabled, no_grad
from .ops import ShapeError

_DEFAULT_FLOAT = np.float32
_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
           "int32": np.int32, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}
float32, float64, float16 = np.float32, np.float64, np.float16
int64, int32, int8, uint8, bool_ = np.int64, np.int32, np.int8, np.uint8, np.bool_

MaxResult = namedtuple("MaxResult", ["values", "indices"])


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook (again: a no-op)."""
    # NOTE: a module-level class holding the tensor's hook list, not the tensor: a class made per
    # call, or the tensor itself, would leave reference cycles (or keep the tensor alive) after every
    # hook; and an in-place op hands the list on to the tensor's old value (see Tensor._inplace)
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        """Unregister the hook."""
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                self._hook = None                   # once only: the same function may be registered twice
                return


def _dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(_DTYPES)}")
        return np.dtype(_DTYPES[dtype])
    return np.dtype(dtype)


def _to_array(data, dtype, device):
    """An xp array from Python data, numpy/cupy arrays or Tensors; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_array(data):
        arr = data if dtype is None else data.astype(dtype, copy=False)
    else:
        arr = np.asarray(data, dtype=dtype)
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(_DEFAULT_FLOAT)     # Python floats and lists default to float32
    return backend.to_device(arr, device) if device != backend.device_of(arr) else arr


class Tensor:
    """An n-dimensional array that records the gates applied to it, for reverse-mode autodiff."""
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_version", "_retains_grad", "_hooks",
                 "name", "_base", "_view", "_views", "__weakref__")
    # _base: the tensor this one is a view of, or None; _view: the view gate and its arguments that
    # made this tensor from _base; _views: weak references to the views made from this tensor. The
    # last two are set only by the gates that make views (autograd._link_view), else unset.
    __array_priority__ = 1000   # make ndarray (op) Tensor call the Tensor's reflected operator

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        device = backend.normalize_device(device) if device is not None else (
            backend.device_of(data.data if isinstance(data, Tensor) else data))
        self.data = _to_array(data, _dtype(dtype), device)
        self.grad = None
        self.grad_fn = None
        self._version = 0
        self._retains_grad = False
        self._hooks = None
        self.name = None
        self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def _slot_values(self):
        """Every set attribute (the slots but ``__weakref__``, and a subclass's ``__dict__``)."""
        values = {name: getattr(self, name) for name in Tensor.__slots__[:-1] if hasattr(self, name)}
        values.update(getattr(self, "__dict__", {}))
        return values

    def __getstate__(self):
        # NOTE: a view pickles as its own values: the copy shares no memory, so it keeps no link to
        # its base, and the base's graph does not travel with it (a deep copy copies the memory
        # it views, as PyTorch's storages: __deepcopy__). A tensor made by a recorded gate pickles
        # as a leaf holding its values, as in PyTorch: its graph (gates, saved buffers) stays behind.
        state = dict(self._slot_values(), _base=None, _view=None, _views=None)
        if self.grad_fn is not None:
            state.update(grad_fn=None, _retains_grad=False)
        return (None, state)

    def __setstate__(self, state):
        self._base = None                  # (absent from tensors pickled by older versions)
        for name, value in state[1].items():
            setattr(self, name, value)

    def __deepcopy__(self, memo):
        """A deep copy. Tensors on one memory (a tensor, its views, its ``detach()`` aliases) copied
        in one ``copy.deepcopy`` call share the copy's memory, in any order, as PyTorch's storages:
        a view copied alone brings the memory it views along. Tensors made by a recorded gate copy
        as their own values."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        state = dict(self._slot_values(), _base=None, _view=None, _views=None)
        data = state.pop("data")
        for name, value in state.items():
            setattr(new, name, copy.deepcopy(value, memo))
        fn = self.grad_fn
        if fn is not None:
            new.data = copy.deepcopy(data, memo)
            # the copy is the output of the copied gate, as this tensor is of its own (a gate that does
            # not read its output may not have linked it yet: Function.output)
            if new.grad_fn is not fn and (fn._out is None or fn._out() is self):
                new.grad_fn._out = weakref.ref(new)
            return new
        new.data = _copy_sharing(data, memo)
        # the view links (shared version counts, writes through under grad): to the copy of its
        # base, copied now if it is not yet (its data is a view of the same memory copy: no extra
        # memory), and from the views of it copied before it
        base = self._base
        if (base is not None and getattr(self, "_view", None) is not None and base.grad_fn is None
                and _memory_owner(data) is _memory_owner(base.data)):
            copy.deepcopy(base, memo)
            _link_copy(self, base, memo)
        for ref in list(getattr(self, "_views", None) or ()):
            view = ref()
            if view is not None and view._base is self and id(view) in memo:
                _link_copy(view, self, memo)
        return new

    def __copy__(self):
        # a shallow copy shares the data, so it stays linked to the same base (not the hooks); its
        # gate's output stays this tensor
        autograd.link_output(self)
        t = object.__new__(type(self))
        t.__setstate__((None, dict(self._slot_values(), _views=None, _hooks=None)))
        if t._base is not None and getattr(t, "_view", None) is not None:
            autograd._register_view(t._base, t)
        return t

    @classmethod
    def _wrap(cls, data):
        """A Tensor around an existing xp array, without copies or checks (the hot path)."""
        t = object.__new__(cls)
        if type(data) is not np.ndarray and not backend.is_array(data):
            data = np.asarray(data)              # numpy ufuncs on 0-d arrays return scalars
        t.data = data
        t.grad = t.grad_fn = t._hooks = t.name = t._base = None
        t.requires_grad = t._retains_grad = False
        t._version = 0
        return t

    # ***** properties *****

    shape = property(lambda self: self.data.shape, doc="The tensor's shape, a tuple of ints.")
    ndim = property(lambda self: self.data.ndim, doc="The number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="The element type (a numpy dtype).")
    device = property(lambda self: backend.device_of(self.data), doc="'cpu' or 'cuda'.")
    is_leaf = property(lambda self: self.grad_fn is None, doc="True unless the tensor was made by a recorded gate.")
    xp = property(lambda self: backend.get_array_module(self.data), doc="numpy or cupy, for this tensor's device.")
    T = property(lambda self: ops.Permute.apply(self, dims=(1, 0) if self.data.ndim == 2 else
                                                tuple(range(self.ndim - 1, -1, -1))),
                 doc="All dimensions reversed.")
    mT = property(lambda self: self.transpose(-2, -1), doc="The last two dimensions swapped.")

    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        """The number of elements."""
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def dim(self):
        """The number of dimensions."""
        return self.ndim

    def numpy(self):
        """The values as a numpy array (shares memory on the CPU); refuses a tensor that requires grad."""
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use .detach().numpy()")
        return backend.to_numpy(self.data)

    def item(self):
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        """The values as nested Python lists."""
        return backend.to_numpy(self.data).tolist()

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4,
                               prefix="tensor(")
        extra = ""
        if self.dtype != _DEFAULT_FLOAT and self.dtype.kind == "f":
            extra += f", dtype={self.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.label}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())
    def __index__(self): return int(self.item())

    def __hash__(self): return id(self)

    # ***** autograd *****

    def requires_grad_(self, requires_grad=True):
        """Set whether gradients are computed for this (leaf) tensor; returns self."""
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating-point tensors can require gradients, got dtype "
                               f"{self.dtype}; convert with .float() first")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Backpropagate from this tensor, accumulating d(self)/d(leaf) into each leaf's ``.grad``."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is not None:
            autograd.watch_outputs()
            autograd.link_output(self)
            self._retains_grad = True

    @property
    def retains_grad(self):
        """True when a non-leaf tensor keeps its ``.grad``."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        autograd.watch_outputs()
        autograd.link_output(self)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def _accumulate_grad(self, g, handed_out, create_graph):
        # NOTE: a gradient may be a broadcast view or the very object another leaf got (add sends
        # g to both inputs); copy it then, so later in-place edits of one .grad never leak into another.
        # A writeable view of the whole of an array nobody was handed (dW = (g^T x)^T, laid out as W)
        # is kept: copying it was 6% of the mlp step.
        if not create_graph:
            data = g.data
            base = getattr(data, "base", None)
            if (id(g) in handed_out or id(data) in handed_out
                    or base is not None and (id(base) in handed_out or base.size != data.size
                                             or not getattr(data.flags, "writeable", True))):
                g = Tensor._wrap(data.copy(order="K"))        # (in its layout: dW laid out as W)
        if g.data.dtype != self.data.dtype:
            g = g.to(dtype=self.dtype)
        handed_out.add(id(g))
        handed_out.add(id(g.data))
        base = getattr(g.data, "base", None)
        if base is not None:
            handed_out.add(id(base))
        if self.grad is None:
            self.grad = g
        elif create_graph:
            self.grad = self.grad + g
        else:
            self.grad.data = self.grad.data + g.data

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        t = Tensor._wrap(self.data)
        t.name = self.name
        t._base = self         # an in-place change through t bumps self's version too, as in PyTorch
        t._view = autograd.DETACHED                 # and t follows self to new memory (_remake_views)
        autograd._register_view(self, t)
        return t

    def detach_(self):
        """Cut this tensor from the graph in place."""
        self.grad_fn, self.requires_grad = None, False
        return self

    def clone(self):
        """A differentiable copy."""
        return ops.Clone.apply(self)

    def to(self, device=None, dtype=None):
        """Move to ``device`` and/or cast to ``dtype`` (differentiable); returns self when nothing changes.
        ``x.to(other)`` takes another tensor's device and dtype."""
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif isinstance(device, (np.dtype, type)) or (isinstance(device, str) and device in _DTYPES):
            device, dtype = None, device
        out = self
        if dtype is not None and _dtype(dtype) != self.dtype:
            out = ops.Cast.apply(out, dtype=_dtype(dtype))
        if device is not None:
            device = backend.normalize_device(device)
            if device != self.device:
                out = ops.ToDevice.apply(out, device=device)
        return out

    def cpu(self):
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self):
        """This tensor on the GPU (needs cupy)."""
        return self.to("cuda")

    def float(self):
        """Cast to float32."""
        return self.to(dtype=np.float32)

    def double(self):
        """Cast to float64."""
        return self.to(dtype=np.float64)

    def long(self):
        """Cast to int64 (not differentiable)."""
        return Tensor._wrap(self.data.astype(np.int64))

    def int(self):
        """Cast to int32 (not differentiable)."""
        return Tensor._wrap(self.data.astype(np.int32))

    def bool(self):
        """Cast to bool (not differentiable)."""
        return Tensor._wrap(self.data.astype(bool))

    def type(self, dtype):
        """Cast to ``dtype``."""
        return self.to(dtype=dtype)

    # ***** operand handling *****

    def _operand(self, other):
        """``other`` as a Tensor; a Python scalar takes this tensor's dtype, so it never upcasts."""
        if isinstance(other, Tensor):
            return other
        if type(other) is float or type(other) is int:          # the common case, checked first
            data = self.data
            if data.dtype.kind in "fc":
                if type(data) is np.ndarray:
                    # NOTE: numpy's 0-d constants are cached read-only (about 0.7 us per scalar op)
                    key = (other, data.dtype)
                    const = _SCALARS.get(key)
                    if const is None:
                        const = np.asarray(other, dtype=data.dtype)
                        if other and other == other:         # not 0.0 (equal to -0.0 as a key), not NaN
                            const.flags.writeable = False
                            if len(_SCALARS) > 512:
                                _SCALARS.clear()
                            _SCALARS[key] = const
                    return Tensor._wrap(const)
                return Tensor._wrap(backend.get_array_module(data).asarray(other, dtype=data.dtype))
        elif type(other) is type(self.data):                      # an array on this tensor's device
            return Tensor._wrap(other)
        # NOTE: numpy scalars (np.float64(0.5), np.sqrt(2.0)) count as Python scalars, as in PyTorch:
        # otherwise `x / np.sqrt(d)` would silently turn a float32 graph into float64.
        if isinstance(other, (int, float, bool, np.number, np.bool_)):
            dt = self.dtype
            if dt.kind in "iub" and isinstance(other, (float, np.floating)):
                dt = np.dtype(_DEFAULT_FLOAT)
            elif dt.kind == "b" and not isinstance(other, (bool, np.bool_)):
                dt = np.dtype(np.int64)
            return Tensor._wrap(self.xp.asarray(other, dtype=dt))
        return Tensor(other, device=self.device)

    # ***** arithmetic *****

    def add(self, other, alpha=1):
        """self + alpha * other."""
        if type(other) is Tensor and alpha == 1 and other.data.dtype == self.data.dtype:   # the hot path
            return ops.Add.apply(self, other)
        a, other = _promoted(self, self._operand(other))
        return ops.Add.apply(a, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other."""
        a, other = _promoted(self, self._operand(other))
        return ops.Sub.apply(a, other if alpha == 1 else other * alpha)

    def mul(self, other):
        """Elementwise product."""
        if type(other) is Tensor and other.data.dtype == self.data.dtype:                 # the hot path
            return ops.Mul.apply(self, other)
        return ops.Mul.apply(*_promoted(self, self._operand(other)))

    def div(self, other):
        """Elementwise true division."""
        other = self._operand(other)
        if self.dtype.kind in "iub" and other.dtype.kind in "iub":
            return ops.Div.apply(self.float(), other.float())
        return ops.Div.apply(*_promoted(self, other))

    def pow(self, exponent):
        """self ** exponent (a Python number or a Tensor)."""
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            if exponent == 1:
                return self.clone() if self.requires_grad else self
            if self.dtype.kind != "f" and isinstance(exponent, float):
                return ops.PowScalar.apply(self.float(), p=exponent)    # int ** 0.5 is float32, as in PyTorch
            return ops.PowScalar.apply(self, p=exponent)
        return ops.Pow.apply(*_promoted(self, self._operand(exponent)))

    def matmul(self, other):
        """Matrix product with numpy's rules (batched and 1-D operands)."""
        return ops.MatMul.apply(*_promoted(self, self._operand(other)))

    def neg(self):
        """-self."""
        return ops.Neg.apply(self)

    __add__ = add
    __sub__ = sub
    __mul__ = mul
    __truediv__ = div
    __pow__ = pow
    __matmul__ = matmul
    __neg__ = neg

    def __radd__(self, other): return self._operand(other).add(self)           # other + self
    def __rsub__(self, other): return self._operand(other).sub(self)           # other - self
    def __rmul__(self, other): return self._operand(other).mul(self)           # other * self
    def __rtruediv__(self, other): return self._operand(other).div(self)       # other / self
    def __rpow__(self, other): return self._operand(other).pow(self)           # other ** self
    def __rmatmul__(self, other): return self._operand(other).matmul(self)     # other @ self
    def __pos__(self): return self

    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)

    # ***** comparisons (no gradient) *****

    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other))

    def __eq__(self, other): return self._compare(other, lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, lambda a, b: a != b)
    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    for _f, _op in ((__eq__, "=="), (__ne__, "!="), (__lt__, "<"), (__le__, "<="), (__gt__, ">"), (__ge__, ">=")):
        _f.__doc__ = f"Elementwise ``self {_op} other`` as a bool tensor (no gradient)."
    del _f, _op

    def __invert__(self):
        return Tensor._wrap(~self.data)

    def __and__(self, other): return self._compare(other, lambda a, b: a & b)
    def __or__(self, other): return self._compare(other, lambda a, b: a | b)

    def equal(self, other):
        """True when both tensors have the same shape and values."""
        return self.shape == other.shape and bool((self.data == other.data).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        """True when all values are close (numpy.allclose)."""
        other = other.data if isinstance(other, Tensor) else other
        return bool(self.xp.allclose(self.data, other, rtol=rtol, atol=atol))

    # ***** elementwise math *****

    def exp(self):
        """e ** self."""
        return ops.Exp.apply(self)

    def log(self):
        """The natural logarithm."""
        return ops.Log.apply(self)

    def sqrt(self):
        """The square root."""
        return ops.Sqrt.apply(self)

    def rsqrt(self):
        """1 / sqrt(self)."""
        return 1.0 / ops.Sqrt.apply(self)

    def sin(self):
        """The sine."""
        return ops.Sin.apply(self)

    def cos(self):
        """The cosine."""
        return ops.Cos.apply(self)

    def tanh(self):
        """The hyperbolic tangent."""
        return ops.Tanh.apply(self)

    def sigmoid(self):
        """1 / (1 + e^-x), computed without overflow."""
        return ops.Sigmoid.apply(self)

    def relu(self):
        """max(x, 0); the gradient at 0 is 0."""
        return ops.ReLU.apply(self)

    def abs(self):
        """|x|; the gradient at 0 is 0."""
        return ops.Abs.apply(self)

    def square(self):
        """x ** 2."""
        return self * self

    def reciprocal(self):
        """1 / x."""
        return 1.0 / self

    def sign(self):
        """-1, 0 or 1 (not differentiable)."""
        return Tensor._wrap(self.xp.sign(self.data))

    def leaky_relu(self, negative_slope=0.01):
        """x where x > 0, else negative_slope * x."""
        return where(self > 0, self, self * negative_slope)

    def elu(self, alpha=1.0):
        """x where x > 0, else alpha * (e^x - 1)."""
        return where(self > 0, self, (self.clamp(max=0.0).exp() - 1.0) * alpha)

    def softplus(self, beta=1.0, threshold=20.0):
        """log(1 + e^(beta x)) / beta, linear above ``threshold`` as in PyTorch."""
        return ops.Softplus.apply(self, beta=beta, threshold=threshold)

    def clamp(self, min=None, max=None):
        """Limit values to [min, max]; the gradient passes on the bounds."""
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max")
        return ops.Clip.apply(self, lo=min, hi=max)

    clip = clamp

    def maximum(self, other):
        """Elementwise max; ties split the gradient in half."""
        return ops.Maximum.apply(*_promoted(self, self._operand(other)))

    def minimum(self, other):
        """Elementwise min; ties split the gradient in half."""
        return -ops.Maximum.apply(-self, -self._operand(other))

    # ***** reductions *****

    def sum(self, dim=None, keepdim=False, dtype=None):
        """Sum over ``dim`` (None: all; an int or a tuple)."""
        x = self if dtype is None else self.to(dtype=dtype)
        if x.dtype.kind == "b":
            x = Tensor._wrap(x.data.astype(np.int64))
        return ops.Sum.apply(x, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """The average over ``dim``."""
        if self.dtype.kind not in "fc":
            raise TypeError(f"mean() needs a floating-point tensor, got {self.dtype}; use .float() first")
        n = _count(self.shape, dim)
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim) * (1.0 / n if n else float("nan"))

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        """The variance, unbiased (divided by N - 1) by default as in PyTorch."""
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        n = _count(self.shape, dim)
        centered = self - self.mean(dim, keepdim=True)
        denom = n - correction
        return (centered * centered).sum(dim, keepdim=keepdim) * (1.0 / denom if denom > 0 else float("nan"))

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        """The standard deviation, unbiased by default as in PyTorch."""
        return self.var(dim, unbiased=unbiased, keepdim=keepdim, correction=correction).sqrt()

    def amax(self, dim=None, keepdim=False):
        """The largest value over ``dim`` (ties share the gradient)."""
        return ops.Max.apply(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        """The smallest value over ``dim`` (ties share the gradient)."""
        return -ops.Max.apply(-self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """The maximum; with an int ``dim`` a ``(values, indices)`` pair as in PyTorch;
        with a Tensor, the elementwise maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        values = self.amax(dim, keepdim)
        if isinstance(dim, (int, np.integer)):
            return MaxResult(values, self.argmax(dim, keepdim))
        return values

    def min(self, dim=None, keepdim=False):
        """The minimum; with an int ``dim`` a ``(values, indices)`` pair as in PyTorch."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        values = self.amin(dim, keepdim)
        if isinstance(dim, (int, np.integer)):
            return MaxResult(values, self.argmin(dim, keepdim))
        return values

    def argmax(self, dim=None, keepdim=False):
        """The index of the largest value (over the flattened tensor when ``dim`` is None)."""
        if dim is None:
            return Tensor._wrap(self.data.argmax())
        return Tensor._wrap(self.data.argmax(axis=dim, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False):
        """The index of the smallest value."""
        if dim is None:
            return Tensor._wrap(self.data.argmin())
        return Tensor._wrap(self.data.argmin(axis=dim, keepdims=keepdim))

    def logsumexp(self, dim=None, keepdim=False):
        """log(sum(exp(x))) over ``dim``, stable for large inputs."""
        m = self.data.max(axis=ops._norm_dims(dim, self.ndim), keepdims=True)
        m = self.xp.where(self.xp.isfinite(m), m, 0).astype(self.dtype, copy=False)  # all -inf rows
        shifted = (self - m).exp().sum(dim, keepdim=True).log() + m
        return shifted if keepdim else shifted.squeeze(ops._norm_dims(dim, self.ndim))

    def softmax(self, dim=-1):
        """exp(x) / sum(exp(x)) over ``dim``, shifted by the max for stability."""
        m = self.data.max(axis=ops._norm_dims(dim, self.ndim), keepdims=True)
        e = (self - m).exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim=-1):
        """x - logsumexp(x) over ``dim``."""
        return self - self.logsumexp(dim, keepdim=True)

    def norm(self, p=2, dim=None, keepdim=False):
        """The p-norm over ``dim`` (2 by default)."""
        if p == 2:
            return (self * self).sum(dim, keepdim=keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim=keepdim)
        return (self.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)

    # ***** shape *****

    def reshape(self, *shape):
        """The same values in a new shape (one size may be -1)."""
        shape = _shape_arg(shape)
        if tuple(shape) == self.shape:
            return self
        return ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def view_as(self, other):
        """Reshape to ``other``'s shape."""
        return self.reshape(other.shape)

    def permute(self, *dims):
        """Reorder the dimensions."""
        dims = tuple(d % self.ndim for d in _shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ShapeError(f"permute({dims}) is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return ops.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        """Swap two dimensions."""
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, dims=tuple(dims))

    def t(self):
        """Transpose a matrix (at most 2-D)."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor with at most 2 dims, got shape {self.shape}")
        return self.T

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions start_dim..end_dim into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        merged = math.prod(self.shape[s:e + 1])      # not -1: a size-0 dim makes -1 ambiguous
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1:])

    def squeeze(self, dim=None):
        """Drop dimensions of size 1 (all, or those in ``dim``)."""
        if dim is None:
            axes = [i for i, s in enumerate(self.shape) if s == 1]
        else:
            axes = [d for d in ops._norm_dims(dim, self.ndim) if self.shape[d] == 1]
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, dim):
        """Insert a dimension of size 1 at ``dim``."""
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *sizes):
        """Broadcast to a larger shape without copying (-1 keeps a size)."""
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand to {tuple(sizes)} has fewer dims than the tensor's shape {self.shape}")
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ShapeError(f"cannot expand a tensor of shape {self.shape} to {shape}") from None
        if shape == self.shape:
            return self
        return ops.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        """Expand to ``other``'s shape."""
        return self.expand(*other.shape)

    broadcast_to = expand

    def sum_to(self, shape):
        """Sum over broadcast axes down to ``shape`` (the inverse of expand)."""
        shape = tuple(shape)
        if shape == self.shape:
            return self
        return ops.SumTo.apply(self, shape=shape)

    def __getitem__(self, index):
        return ops.Getitem.apply(self, index=_index_arg(index))

    def __setitem__(self, index, value):
        index = _index_arg(index)
        value = self._operand(value)
        if (self.requires_grad or value.requires_grad) and is_grad_enabled():
            self._inplace(lambda t: ops.SetItem.apply(t, t if value is self else value, index=index))
        else:
            ops.assign(self.data, index, value.data)
            self._count_write()

    # ***** in-place ops (safe: version counters catch a saved value that changed) *****

    def _inplace(self, compute, cast=False):
        """Replace this tensor's value by ``compute(self)``; under grad, rebase it onto the new gate.

        The tensor keeps its dtype, as in PyTorch: a float64 result is cast back to float32; a
        floating-point result for an integer tensor is an error unless ``cast`` (fill_, copy_).
        """
        if not is_grad_enabled():
            self._write(self._same_dtype(compute(self), cast).data)
            return self
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf tensor that requires grad (shape {self.shape}) is used in an in-place "
                "operation; do it under `with mg.no_grad():` or on a .clone()")
        if self._base is not None and _is_view(self):
            return self._inplace_through_view(compute, cast)
        # NOTE: the old value lives on in a shell tensor that the new gate takes as its input, so
        # gates recorded earlier still point at the old value's gate (as PyTorch's graph edges do).
        # (The old value still lives in the base's memory, if any.)
        source = self._base if getattr(self, "_view", None) is autograd.DETACHED else None
        if source is None:
            shell = self._old_value(self._version, self._base)
        else:                                   # the memory is written below: keep a copy
            shell = self._old_value(0, None)
            shell.data = shell.data.copy(order="K")
        result = self._recorded(compute(shell), cast)
        if result is None:
            return self
        if self.grad_fn is not None:
            self.grad_fn._out = weakref.ref(shell)
            # hooks registered so far see the old value's gradient, as in PyTorch (retain_grad
            # stays with the tensor: its .grad is the new value's)
            shell._hooks, self._hooks = self._hooks, None
        old_memory = _memory_owner(self.data)
        self.data, self.grad_fn, self.requires_grad = result.data, result.grad_fn, True
        if source is not None:
            # a detach() alias shares its source's memory: the source takes the values (not the
            # gate, as PyTorch), counted as a write, and the alias keeps sharing that memory
            source._write(result.data)
            self.data = source.data
        else:
            self._base = None                   # new memory (a view made by a gate went the other way)
        result.grad_fn._out = weakref.ref(self)
        self._version += 1
        result.grad_fn._out_version = autograd._version_of(self)   # the value its gate made (a detach()
        # alias counts its source's writes too: the version check must see them)
        if getattr(self, "_views", None):
            self._remake_views(old_memory)
        return self

    def _remake_views(self, old_memory):
        """Make every live view of this tensor again from its new value (after an in-place op under
        grad gave it new memory), by the gates that made it: the views show the new values and
        their gradients flow into the new gate, as in PyTorch. Views of views follow (a loop, not
        recursion: a chain of views can be long); ``detach()`` aliases take the same memory. A
        registered tensor whose ``.data`` was replaced since (it no longer lies in ``old_memory``)
        is only unlinked."""
        bases = [self]
        while bases:
            base = bases.pop()
            for ref in list(base._views):
                view = ref()
                if view is None or view._base is not base:
                    continue
                if _memory_owner(view.data) is not old_memory:      # `.data` was set by hand
                    view._version = autograd._version_of(view)
                    view._base = None
                    continue
                if view._view is autograd.DETACHED:       # the same memory, still no gate
                    view.data = base.data
                else:
                    gate, kwargs = view._view
                    fresh = gate.apply(base, **kwargs)
                    if view.grad_fn is not None:
                        # the old gate's output is the old value, held by no tensor: never link it
                        view.grad_fn._out = autograd.no_output
                    view.data, view.grad_fn, view.requires_grad = fresh.data, fresh.grad_fn, fresh.requires_grad
                    if fresh.grad_fn is not None:
                        fresh.grad_fn._out = weakref.ref(view)
                    if fresh._base is not base:             # no longer a view (a reshape had to copy):
                        view._version = autograd._version_of(view)     # keep the count its base gave it
                        view._base = None                   # (its own views follow its copy)
                if getattr(view, "_views", None):
                    bases.append(view)

    def _inplace_through_view(self, compute, cast):
        """An in-place op under grad on a view: written through into the tensor it views, as PyTorch.

        NOTE: the base is rebased onto ``base[where] = new values of the view`` (the gate of
        ``base[idx] = v``, which copies the base in its own memory layout), so it gets new memory;
        then its live views, this one among them, are made again from it by the gates that made
        them (``_remake_views``). ``where`` is the view's own index when it is one slice of the
        base, else the positions of its elements in the base, found by making the same chain of
        views of ``arange``: exact for any chain of slices, reshapes and transposes.
        """
        links, root = [], self
        while root._base is not None and _is_view(root):
            links.append(root._view)
            root = root._base
        links.reverse()                             # from the base down to this view
        if root.requires_grad and root.grad_fn is None:
            raise RuntimeError(
                f"a view (shape {self.shape}) of a leaf tensor that requires grad (shape {root.shape}) "
                "is used in an in-place operation; do it under `with mg.no_grad():` or on a .clone()")
        if root.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a view (shape {self.shape}) made under no_grad() of a tensor that requires grad "
                f"(shape {root.shape}) is changed in place with grad on: its gradient cannot be "
                "tracked; make the view with grad on, or change it under no_grad()")
        if any(gate is ops.Expand for gate, _ in links):
            raise RuntimeError(
                f"in-place operation on an expanded view (shape {self.shape}) of a tensor of shape "
                f"{root.shape}: several of its elements are one element in memory; clone it first")
        # the view's old value, for the op's gate: the base moves to new memory below, so the old
        # memory is written by no one after this (no link, the version it has now); but a detach()
        # alias's source is written in place, so then the old value is a copy
        shell = self._old_value(autograd._version_of(self), None)
        if getattr(root, "_view", None) is autograd.DETACHED:
            shell.data = shell.data.copy(order="K")
        result = self._recorded(compute(shell), cast)
        if result is None:
            return self
        if len(links) == 1 and links[0][0] is ops.Getitem and ops._is_basic(links[0][1]["index"]):
            where = links[0][1]["index"]
        else:
            flat = Tensor._wrap(root.xp.arange(root.data.size).reshape(root.shape))
            for gate, kwargs in links:
                flat = gate.apply(flat, **kwargs)
            if root.ndim:
                where = root.xp.unravel_index(flat.data, root.shape)
            else:                                   # a view of one number: write that number
                where, result = (), result.reshape(())
        # the base takes the new values; remaking its views (this one among them) makes this view
        # a view of the base's new memory and of its new gate
        # (-0 where the view goes: the view op's gradient is added there, and -0 + a = a exactly,
        # as PyTorch's CopySlices, which puts it there)
        root._inplace(lambda r: ops.SetItem.apply(r, result, index=where, blocked=-0.0))
        self._version += 1
        return self

    def _old_value(self, version, base):
        """A tensor holding this one's value, gate and version from before an in-place op."""
        shell = Tensor._wrap(self.data)
        shell.requires_grad, shell.grad_fn, shell._version, shell._base = self.requires_grad, self.grad_fn, version, base
        return shell

    def _recorded(self, result, cast):
        """An in-place op's ``result`` in this tensor's dtype when it is to be recorded; when it
        needs no grad, it is written into this tensor's memory instead, and None returned."""
        result = self._same_dtype(result, cast)
        # nothing to record (an integer or bool tensor has no gradient, as in PyTorch): write the
        # values into the same memory
        if not result.requires_grad or self.dtype.kind not in "fc":
            self._write(result.data)
            return None
        if result.shape != self.shape:
            raise ShapeError(f"in-place result of shape {result.shape} does not fit a tensor of shape {self.shape}")
        return result

    def _same_dtype(self, result, cast):
        """``result`` in this tensor's dtype, for an in-place op; never a silent float-to-int truncation."""
        if result.dtype == self.dtype:
            return result
        if not cast and not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise RuntimeError(
                f"in-place op on a tensor of dtype {self.dtype} (shape {self.shape}): the result has dtype "
                f"{result.dtype}, which would be truncated to {self.dtype}. Convert first (`x = x.float()`) "
                "or use the out-of-place op (`x = x + y`).")
        return result.to(self.dtype)

    def _write(self, array):
        """This tensor's values <- ``array``, in place and counted (the array object stays, so views
        and optimiser state stay valid; a read-only view gets its own memory instead)."""
        if array.shape != self.shape:
            raise ShapeError(f"in-place result of shape {array.shape} does not fit a tensor of shape {self.shape}")
        if getattr(self.data.flags, "writeable", True):
            self.data[...] = array
            self._count_write()
        else:                              # a read-only view (expand): new memory, shared with no one
            self.data = array.astype(self.dtype, copy=True)
            self._version += 1
            self._base = None

    def _count_write(self):
        """Count a write into this tensor's memory: on it, and on every tensor it is a view of (or
        was detached from), which share that memory."""
        self._version += 1
        base = self._base
        while base is not None:
            base._version += 1
            base = base._base

    # NOTE: `b.add_(b)`: the operand that is the tensor itself is read as its value from before the
    # op (the shell `t` that `_inplace` hands the computation). Recorded as `self`, the new gate would
    # take its own output as an input: a cycle in the graph, and a version error in backward.

    def add_(self, other, alpha=1):
        """In place: self += alpha * other."""
        return self._inplace(lambda t: t.add(t if other is self else other, alpha=alpha))

    def sub_(self, other, alpha=1):
        """In place: self -= alpha * other."""
        return self._inplace(lambda t: t.sub(t if other is self else other, alpha=alpha))

    def mul_(self, other):
        """In place: self *= other."""
        return self._inplace(lambda t: t.mul(t if other is self else other))

    def div_(self, other):
        """In place: self /= other."""
        return self._inplace(lambda t: t.div(t if other is self else other))

    def clamp_(self, min=None, max=None):
        """In place: clamp to [min, max]."""
        return self._inplace(lambda t: t.clamp(min, max))

    def fill_(self, value):
        """In place: set every element to ``value``."""
        # (as t[...] = value: `t * 0 + value` would give NaN where t is inf)
        return self._inplace(lambda t: ops.SetItem.apply(t, self._operand(value), index=Ellipsis), cast=True)

    def zero_(self):
        """In place: set every element to zero."""
        return self.fill_(0.0)

    def copy_(self, src):
        """In place: copy ``src``'s values (broadcast to this shape)."""
        return self._inplace(lambda t: ops.SetItem.apply(t, t if src is self else self._operand(src),
                                                         index=Ellipsis), cast=True)

    def normal_(self, mean=0.0, std=1.0):
        """In place: fill with samples of N(mean, std^2) (not recorded)."""
        return self._fill_random(lambda g, s: g.normal(mean, std, s))

    def uniform_(self, a=0.0, b=1.0):
        """In place: fill with samples of U(a, b) (not recorded)."""
        return self._fill_random(lambda g, s: g.uniform(a, b, s))

    def _fill_random(self, sample):
        if self.requires_grad and self.grad_fn is None and is_grad_enabled():
            raise RuntimeError("a leaf tensor that requires grad is used in an in-place operation; "
                               "do it under `with mg.no_grad():`")
        values = sample(_generator(), self.shape).astype(self.dtype)
        self._write(backend.to_device(values, self.device))
        return self


# ***** helpers *****

_SCALARS = {}      # (Python scalar, dtype) -> read-only 0-d numpy array, for Tensor._operand


def _promoted(a, b):
    """An integer or bool operand takes the float operand's dtype (int64 * float32 is float32, as in
    PyTorch; numpy would give float64)."""
    if a.data.dtype == b.data.dtype:           # the common case, without the property calls
        return a, b
    if a.dtype.kind != "f" and b.dtype.kind == "f":
        return a.to(dtype=b.dtype), b
    if b.dtype.kind != "f" and a.dtype.kind == "f":
        return a, b.to(dtype=a.dtype)
    return a, b


def _count(shape, dim):
    return int(np.prod([shape[d] for d in ops._norm_dims(dim, len(shape))], dtype=np.int64))


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


_OWNERS = ("minigrad", "memory copied by this deepcopy")     # a key of copy.deepcopy's memo


def _copy_sharing(data, memo):
    """A deep copy of the array ``data``: arrays on one memory copied in one ``copy.deepcopy`` call
    get views of one copy of that memory, with the same offsets and strides."""
    owner = _memory_owner(data)
    if (type(data) is not np.ndarray or type(owner) is not np.ndarray
            or not (owner.flags.c_contiguous or owner.flags.f_contiguous)):
        return copy.deepcopy(data, memo)
    owners = memo.setdefault(_OWNERS, {})
    if id(owner) not in owners:                  # (the owner kept too: its id stays unique)
        owners[id(owner)] = (owner, owner.copy(order="K"))
    copied = owners[id(owner)][1]
    if data is owner:
        return copied
    offset = data.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    buffer = copied if copied.flags.c_contiguous else copied.T
    out = np.ndarray(data.shape, data.dtype, buffer=buffer, offset=offset, strides=data.strides)
    out.flags.writeable = data.flags.writeable       # an expanded view stays read-only
    return out


def _link_copy(view, base, memo):
    """Link the deep copy of ``view`` to that of ``base`` as the originals are linked, when both
    are copied and the copies share memory."""
    view_copy, base_copy = memo[id(view)], memo.get(id(base))
    if (base_copy is None or view_copy._base is base_copy
            or _memory_owner(view_copy.data) is not _memory_owner(base_copy.data)):
        return
    view_copy._base, view_copy._view = base_copy, view._view
    autograd._register_view(base_copy, view_copy)


def _memory_owner(a):
    """The array that owns ``a``'s memory (numpy and cupy point a view's ``base`` at it)."""
    base = getattr(a, "base", None)
    return a if base is None else base


def _is_view(t):
    """Whether ``t`` was made from its ``_base`` by a view gate (not by detach, not unlinked)."""
    recipe = getattr(t, "_view", None)
    return recipe is not None and recipe is not autograd.DETACHED


def _index_arg(index):
    """Tensors inside an index become arrays (a 0-d integer one an int, as in PyTorch: a basic
    index, so the result is a view); lists become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, Tensor):
        if index.ndim == 0 and index.dtype.kind in "iu":
            return int(index.data)
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


# ***** random numbers *****

_rng = [np.random.default_rng()]


def manual_seed(seed):
    """Seed minigrad's random generator (randn, rand, dropout, initialisers)."""
    _rng[0] = np.random.default_rng(seed)
    return _rng[0]


def _generator():
    return _rng[0]


# ***** factories *****

def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor from data (Python numbers/lists default to float32, as PyTorch)."""
    if isinstance(data, Tensor):
        data = data.data.copy()
    elif backend.is_array(data) and (dtype is None or _dtype(dtype) == data.dtype):
        data = data.copy()                      # torch.tensor copies; from_numpy() is the sharing form
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def _factory(make, shape, dtype, requires_grad, device):
    device = backend.normalize_device(device)
    arr = make(backend.xp_for(device), _shape_arg(shape), _dtype(dtype) or np.dtype(_DEFAULT_FLOAT))
    return Tensor(arr, requires_grad=requires_grad)


def zeros(*shape, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros."""
    return _factory(lambda xp, s, d: xp.zeros(s, d), shape, dtype, requires_grad, device)


def ones(*shape, dtype=None, requires_grad=False, device=None):
    """A tensor of ones."""
    return _factory(lambda xp, s, d: xp.ones(s, d), shape, dtype, requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor filled with ``fill_value``; its dtype follows the value (bool, int64, float32) as in PyTorch."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _factory(lambda xp, s, d: xp.full(s, fill_value, d), (shape,) if isinstance(shape, int) else shape,
                    dtype, requires_grad, device)


def empty(*shape, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor."""
    return _factory(lambda xp, s, d: xp.empty(s, d), shape, dtype, requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with ``t``'s shape, dtype and device."""
    return Tensor(t.xp.zeros(t.shape, _dtype(dtype) or t.dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with ``t``'s shape, dtype and device."""
    return Tensor(t.xp.ones(t.shape, _dtype(dtype) or t.dtype), requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` with ``t``'s shape, dtype and device."""
    return Tensor(t.xp.full(t.shape, fill_value, _dtype(dtype) or t.dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Evenly spaced values in [start, end); integer arguments give int64 as in PyTorch."""
    if end is None:
        start, end = 0, start
    device = backend.normalize_device(device)
    is_int = all(isinstance(v, int) for v in (start, end, step))
    dt = _dtype(dtype) or (np.dtype(np.int64) if is_int else np.dtype(_DEFAULT_FLOAT))
    return Tensor(backend.xp_for(device).arange(start, end, step, dtype=dt), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from start to end inclusive."""
    device = backend.normalize_device(device)
    arr = backend.xp_for(device).linspace(start, end, steps, dtype=_dtype(dtype) or _DEFAULT_FLOAT)
    return Tensor(arr, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The identity matrix."""
    device = backend.normalize_device(device)
    arr = backend.xp_for(device).eye(n, m, dtype=_dtype(dtype) or _DEFAULT_FLOAT)
    return Tensor(arr, requires_grad=requires_grad)


def _random(sample, shape, dtype, requires_grad, device):
    shape = _shape_arg(shape)
    arr = sample(_generator(), shape).astype(_dtype(dtype) or _DEFAULT_FLOAT)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def randn(*shape, dtype=None, requires_grad=False, device=None):
    """Samples of the standard normal distribution."""
    return _random(lambda g, s: g.standard_normal(s), shape, dtype, requires_grad, device)


def rand(*shape, dtype=None, requires_grad=False, device=None):
    """Samples of the uniform distribution on [0, 1)."""
    return _random(lambda g, s: g.random(s), shape, dtype, requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Random integers in [low, high)."""
    if high is None:
        low, high = 0, low
    arr = _generator().integers(low, high, size=_shape_arg((size,) if isinstance(size, int) else size))
    return Tensor(arr.astype(_dtype(dtype) or np.int64), device=device)


def randperm(n, device=None):
    """A random permutation of 0..n-1."""
    return Tensor(_generator().permutation(n), device=device)


def from_numpy(array):
    """A tensor sharing memory with a numpy array."""
    return Tensor._wrap(array)


# ***** functions on several tensors *****

def _tensors(xs):
    xs = list(xs)
    if not xs:
        raise ValueError("expected a non-empty sequence of tensors")
    return [x if isinstance(x, Tensor) else tensor(x) for x in xs]


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    xs = _tensors(tensors)
    nd = xs[0].ndim
    dim = dim % nd if nd else 0
    for i, x in enumerate(xs):
        if x.ndim != nd or any(a != b for j, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if j != dim):
            raise ShapeError(f"cat along dim {dim}: tensor {i} has shape {x.shape}, which does not "
                             f"match tensor 0's shape {xs[0].shape} outside dim {dim}")
    return ops.Cat.apply(*xs, dim=dim)


concatenate = cat


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dimension."""
    xs = _tensors(tensors)
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise ShapeError(f"stack expects tensors of one shape: tensor {i} has shape {x.shape}, "
                             f"tensor 0 has shape {xs[0].shape}")
    dim = dim % (xs[0].ndim + 1)
    return ops.Cat.apply(*[x.unsqueeze(dim) for x in xs], dim=dim)


def where(condition, x, y):
    """Elements of ``x`` where ``condition`` holds, else of ``y`` (the gradient follows the choice)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError("where() needs at least one of x and y to be a Tensor")
    x = y._operand(x) if not isinstance(x, Tensor) else x
    y = x._operand(y) if not isinstance(y, Tensor) else y
    if not backend.is_array(cond):
        cond = x.xp.asarray(cond)
    try:
        return ops.Where.apply(x, y, cond=cond.astype(bool, copy=False))
    except ShapeError:      # the gate names only x's and y's shapes; the condition's may be the odd one
        raise ShapeError(f"where: the condition's shape {tuple(cond.shape)} and the shapes {x.shape} and "
                         f"{y.shape} do not broadcast together") from None


def pad(x, pad, value=0.0):
    """Constant padding with PyTorch's ``F.pad`` order: (left, right) of the last dim first, then earlier dims."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad {pad} must hold (before, after) pairs for at most {x.ndim} dims")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"negative padding {pad} is not supported")
    return ops.Pad.apply(x, widths=tuple(widths), value=value)


# ***** the functional forms (torch.exp(x) and friends) *****

def _method(name):
    def f(x, *args, **kwargs):
        return getattr(x if isinstance(x, Tensor) else tensor(x), name)(*args, **kwargs)
    f.__name__ = name
    f.__doc__ = getattr(Tensor, name).__doc__
    return f


for _name in ("exp log sqrt sin cos tanh sigmoid relu abs sum mean var std amax amin max min argmax "
              "argmin logsumexp softmax log_softmax reshape permute transpose flatten squeeze "
              "unsqueeze matmul maximum minimum clamp clip leaky_relu elu softplus square norm "
              "neg sign expand").split():
    globals()[_name] = _method(_name)
del _name
