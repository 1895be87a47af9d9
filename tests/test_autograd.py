"""The engine: forks, accumulation, retain_grad, deep graphs, freed buffers, higher order, mg.grad,
grad mode, hooks, user-defined gates, and memory freed by reference counting."""
import copy
import gc
import inspect
import sys
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import tensors


def test_gradients_add_up_at_forks(device):
    x = mg.tensor(3.0, requires_grad=True, device=device)
    y = x * x + x * 2.0 + x.exp() * 0.0 + x       # x is used four times
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3.0 + 2.0 + 1.0)


@settings(max_examples=10)
@given(tensors(shape=(3,), min_value=-2, max_value=2))
def test_fork_to_many_consumers_matches_sum_of_paths(x):
    x.requires_grad_()
    a, b = x.sin(), x * x
    (a * b + a + b).sum().backward()
    v = x.detach().numpy()
    expected = np.cos(v) * v * v + np.sin(v) * 2 * v + np.cos(v) + 2 * v
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_leaf_grad_accumulates_across_calls(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    x.grad = None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grads_of_two_leaves_are_independent_objects():
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    (a + b).sum().backward()                    # add sends the same gradient to both inputs
    a.grad.data[0] = 100.0
    assert b.grad.tolist() == [1.0]


def test_non_leaf_grad_only_with_retain_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    k = h * 3.0
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad
    (k * k).sum().backward()
    assert h.grad is None
    assert k.grad.tolist() == [12.0, 24.0]            # d(k^2)/dk = 2k
    assert x.grad.tolist() == [72.0, 144.0]


def test_chain_of_100000_ops_has_no_recursion_error():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert y.item() == 1.0 and x.grad.item() == 1.0


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_frees_saved_buffers():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.relu()
    fn = y.grad_fn
    assert hasattr(fn, "mask")
    y.sum().backward()
    assert not hasattr(fn, "mask") and fn._freed


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_backward_with_explicit_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(mg.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]
    z = mg.tensor([1.0, 2.0], requires_grad=True)
    (z * 2).backward([1.0, 1.0])                      # a list works too
    assert z.grad.tolist() == [2.0, 2.0]


# ***** higher order *****

def test_hessian_vector_product_matches_analytic():
    """f(x) = sum(x^3) + (a.x)^2: H = diag(6x) + 2 a a^T."""
    rng = np.random.default_rng(0)
    xv, av, vv = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    x = mg.tensor(xv, requires_grad=True)
    a, v = mg.tensor(av), mg.tensor(vv)
    f = (x ** 3).sum() + (a * x).sum() ** 2
    (g,) = mg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * xv ** 2 + 2 * av * (av @ xv), rtol=1e-12)
    (hv,) = mg.grad((g * v).sum(), x)
    H = np.diag(6 * xv) + 2 * np.outer(av, av)
    np.testing.assert_allclose(hv.numpy(), H @ vv, rtol=1e-12)


def test_backward_create_graph_then_backward_again():
    x = mg.tensor(2.0, requires_grad=True)
    y = x ** 4
    y.backward(create_graph=True)
    g = x.grad                                      # 4x^3 = 32, differentiable
    assert g.item() == 32.0 and g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 12 * 2.0 ** 2          # 12x^2


def test_gradient_penalty():
    """WGAN-GP style: loss = (|d out / d x| - 1)^2, differentiated w.r.t. the weights."""
    rng = np.random.default_rng(1)
    xv, wv = rng.standard_normal((3, 2)), rng.standard_normal((2, 1))
    x = mg.tensor(xv, requires_grad=True)
    w = mg.tensor(wv, requires_grad=True)
    out = (x @ w).tanh().sum()
    (gx,) = mg.grad(out, x, create_graph=True)
    penalty = ((gx * gx).sum(1).sqrt() - 1.0).pow(2).sum()
    penalty.backward()

    def penalty_of(wflat):                          # the same penalty, in numpy, for finite differences
        W = wflat.reshape(2, 1)
        d = (1 - np.tanh(xv @ W) ** 2) @ W.T       # d out / d x
        return ((np.sqrt((d ** 2).sum(1)) - 1) ** 2).sum()
    eps, num = 1e-6, np.zeros(2)
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        num[k] = (penalty_of(wv.ravel() + e) - penalty_of(wv.ravel() - e)) / (2 * eps)
    np.testing.assert_allclose(w.grad.numpy().ravel(), num, rtol=1e-6)
    assert x.grad is not None          # x is a leaf of the penalty too


def test_mg_grad_functional_form():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0], requires_grad=True)
    unused = mg.tensor([5.0], requires_grad=True)
    out = x * y                                     # non-scalar: needs grad_outputs
    with pytest.raises(RuntimeError, match="grad_outputs"):
        mg.grad(out, [x])
    gx, gy = mg.grad(out, [x, y], grad_outputs=mg.tensor([1.0, 10.0]), retain_graph=True)
    assert gx.tolist() == [3.0, 30.0] and gy.tolist() == [21.0]
    assert x.grad is None and y.grad is None       # mg.grad leaves .grad alone
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad(out.sum(), [x, unused], retain_graph=True)
    gx, gu = mg.grad(out.sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [3.0, 3.0] and gu is None


def test_mg_grad_of_an_intermediate_and_of_several_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    a, b = (h * h).sum(), h.sum()
    (gh,) = mg.grad([a, b], [h])
    assert isinstance(gh, mg.Tensor)            # (the gradients met at h as raw arrays)
    assert gh.tolist() == [2 * 2.0 + 1, 2 * 4.0 + 1]


# ***** grad mode *****

def test_no_grad_and_enable_grad_as_context_managers():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
        with mg.enable_grad():
            z = x * 2
        w = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and not w.requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    @mg.no_grad()
    def f(x):
        """Doubles x."""
        return x * 2

    @mg.enable_grad()
    def g(x):
        return x * 2

    x = mg.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad and f.__name__ == "f" and f.__doc__ == "Doubles x."
    with mg.no_grad():
        assert g(x).requires_grad
    assert mg.is_grad_enabled()


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ValueError):
        with mg.no_grad():
            raise ValueError("boom")
    assert mg.is_grad_enabled()


def test_grad_mode_is_per_thread():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with mg.no_grad():
            entered.set()
            checked.wait(5)
            seen["worker"] = mg.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(5)
    x = mg.tensor([1.0], requires_grad=True)
    seen["main"] = mg.is_grad_enabled()
    seen["main_records"] = (x * 2).requires_grad     # recorded while the other thread is in no_grad
    checked.set()
    t.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


# ***** hooks *****

def test_hooks_see_and_replace_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    h = x * 3.0
    handle = h.register_hook(lambda g: g * 10.0)      # a returned tensor replaces the gradient
    h.sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)


def test_a_first_hook_or_retain_grad_switches_on_output_lookups(monkeypatch):
    """The engine skips looking up gate outputs until some tensor gets a hook or retain_grad():
    the first one, on an intermediate, must still fire in the same backward."""
    from minigrad import autograd
    for register in ("hook", "retain"):
        monkeypatch.setattr(autograd, "_watching", [False])
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3.0
        k = h + 1.0                                  # saves neither its inputs nor its output
        seen = []
        if register == "hook":
            k.register_hook(lambda g: seen.append(g.tolist()) or g * 2.0)
        else:
            k.retain_grad()
        (k * k).sum().backward()
        want_k = [2.0 * v for v in k.tolist()]      # d(k^2)/dk
        if register == "hook":
            assert seen == [want_k]
            assert x.grad.tolist() == [3.0 * 2.0 * g for g in want_k]
        else:
            assert k.grad.tolist() == want_k
        assert autograd._watching[0]


def test_a_gate_that_does_not_read_its_output_links_it_only_when_asked():
    """Built-in gates that do not save their output make no weak link to it (one GC-tracked object
    less per op); a hook, retain_grad() or a shallow copy links it, and a user's gate always links
    it (it may read self.output without declaring saves_output)."""
    from minigrad import viz

    class UserSigmoid(mg.Function):
        def forward(self, x): return 1 / (1 + np.exp(-x))
        def backward(self, g): return g * self.output * (1 - self.output)

    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert (x * 2.0).grad_fn.output is None
    t = x.tanh()
    assert t.grad_fn.output is t                              # Tanh saves its output
    s = UserSigmoid.apply(x)
    assert s.grad_fn.output is s
    for ask in (lambda y: y.register_hook(lambda g: g), lambda y: y.retain_grad(),
                lambda y: copy.copy(y)):
        y = x * 2.0
        ask(y)
        assert y.grad_fn.output is y
    y = x * 2.0
    viz.trace(y.sum())                                        # a picture changes nothing
    assert y.grad_fn.output is None
    y = x * 2.0
    c = copy.copy(y)                                          # the copy shares the gate, not the role
    c.register_hook(lambda g: g)
    assert y.grad_fn.output is y
    s.sum().backward()
    sig = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, sig * (1 - sig), rtol=1e-6)


def test_a_recorded_op_leaves_four_gc_tracked_objects():
    """Each op of a chain leaves its output, its gate, and the gate's input and parent tuples alive
    until backward, and nothing else the cyclic GC must scan (README, Performance); before Python
    3.11 the gate's attribute dict is one more."""
    x = mg.tensor(np.ones(4, np.float32), requires_grad=True)
    n = 300
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()                                   # (a collection would untrack some tuples)
    try:
        before = len(gc.get_objects())
        y = x
        for _ in range(n):
            y = y * x
        after = len(gc.get_objects())
    finally:
        if was_enabled:
            gc.enable()
    per_op = 4 if sys.version_info >= (3, 11) else 5        # (the gate's __dict__, before 3.11)
    assert after - before <= per_op * n + 10, (after - before) / n
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(4, n + 1.0))


def test_a_hook_registered_during_backward_fires_in_that_pass(monkeypatch):
    from minigrad import autograd
    monkeypatch.setattr(autograd, "_watching", [False])
    fired = []

    class Tap(mg.Function):
        saves_inputs = ()
        def forward(self, a): return a.copy()
        def backward(self, g):
            self.inputs[0].register_hook(lambda gg: fired.append(gg.tolist()))
            return g
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    Tap.apply(x * 2.0).sum().backward()
    assert fired == [[1.0, 1.0]]


def test_hook_on_leaf_runs_before_accumulation():
    x = mg.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    (x * 4.0).sum().backward()
    assert x.grad.tolist() == [2.0]


# ***** user-defined gates *****

class Sigmoid(mg.Function):
    """The notes' sigmoid, grouped into one gate: local gradient (1 - s) s."""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        return 1 / (1 + self.xp.exp(-x))

    def backward(self, g):
        s = self.output
        return g * (1.0 - s) * s


class ScaledProduct(mg.Function):
    """a * b * scale, with a keyword argument and gradients for two inputs."""

    def forward(self, a, b, scale=1.0):
        self.scale = scale
        return a * b * scale

    def backward(self, g):
        a, b = self.inputs
        return (g * b * self.scale if self.needs_input_grad[0] else None,
                g * a * self.scale if self.needs_input_grad[1] else None)


def test_user_sigmoid_gate_matches_the_composed_circuit_and_gradchecks():
    x = mg.tensor([-2.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    s = Sigmoid.apply(x)
    assert s.grad_fn.label == "Sigmoid"
    composed = 1.0 / (1.0 + (-x).exp())
    np.testing.assert_allclose(s.detach().numpy(), composed.detach().numpy(), rtol=1e-15)
    assert mg.gradcheck(lambda t: Sigmoid.apply(t), [x])
    assert mg.gradgradcheck(lambda t: Sigmoid.apply(t), [x])


def test_user_gate_with_two_inputs_and_a_keyword():
    a = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = mg.tensor([3.0], dtype="float64")                        # broadcast, no grad
    out = ScaledProduct.apply(a, b, scale=2.0)
    assert out.tolist() == [6.0, 12.0]
    out.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0] and b.grad is None
    assert mg.gradcheck(lambda x, y: ScaledProduct.apply(x, y, scale=0.5), [a.detach().requires_grad_(), b])


def test_user_gate_returning_wrong_gradient_count_is_an_error():
    class Bad(mg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            return g

    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad returned 1 gradients for 2 inputs"):
        Bad.apply(a, b).sum().backward()


# ***** memory: no reference cycles *****

def test_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = mg.randn(4, 3, requires_grad=True)
        w = mg.randn(3, 2, requires_grad=True)
        h = (x @ w).relu()
        loss = (h.sigmoid() * h).sum() + h.logsumexp(1).mean()
        gates = [weakref.ref(loss.grad_fn), weakref.ref(h.grad_fn)]
        hidden = weakref.ref(h)
        loss.backward()
        del loss, h
        assert all(r() is None for r in gates), "a gate outlived its output"
        assert hidden() is None
        assert gc.collect() == 0, "the graph left reference cycles for the collector"
    finally:
        gc.enable()


def test_graph_without_backward_is_freed_too():
    gc.collect()
    gc.disable()
    try:
        x = mg.randn(3, requires_grad=True)
        y = (x.exp() * x).sum()
        gate = weakref.ref(y.grad_fn)
        del y
        assert gate() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_create_graph_graph_is_freed_by_reference_counting():
    gc.collect()
    gc.disable()
    try:
        x = mg.randn(3, dtype="float64", requires_grad=True)
        (g,) = mg.grad((x ** 3).sum(), x, create_graph=True)
        gate = weakref.ref(g.grad_fn)
        g.sum().backward()
        del g
        assert gate() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


# ***** review additions: PyTorch's grad-mode forms, hook handles, mg.grad's retain_graph default *****

def test_no_grad_and_enable_grad_as_decorators_without_parentheses():
    @mg.no_grad
    def f(x):
        """Doubles x."""
        return x * 2

    @mg.enable_grad
    def g(x):
        return x * 2

    x = mg.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad and f.__name__ == "f" and f.__doc__ == "Doubles x."
    with mg.no_grad():
        assert g(x).requires_grad
    assert mg.is_grad_enabled() and (x * 2).requires_grad


def test_set_grad_enabled_as_function_context_and_decorator():
    try:
        mg.set_grad_enabled(False)                 # a plain call switches the mode, as in torch
        assert not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def f():
        return mg.is_grad_enabled()

    assert mg.is_grad_enabled() and f() is False and mg.is_grad_enabled()


def test_mg_grad_retain_graph_defaults_to_create_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()
    mg.grad(y, x)                                  # retain_graph=None -> False: buffers freed
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad(y, x)
    z = (x * x * x).sum()
    mg.grad(z, x, create_graph=True)               # retain_graph=None -> True
    assert mg.grad(z, x)[0].tolist() == [3.0, 12.0]


def test_hooks_retain_grad_inplace_and_optimiser_step_leave_no_reference_cycles():
    from minigrad import nn
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = mg.optim.Adam(model.parameters(), lr=1e-2)
    x, y = mg.randn(5, 4), mg.tensor([0, 1, 2, 1, 0])

    def step():
        opt.zero_grad()
        h = model[0](x)
        h.retain_grad()
        handle = h.register_hook(lambda g: g * 1.0)
        h2 = h * 1.0
        h2.mul_(2.0)
        h2 += 1.0
        out = model[2](model[1](h2))
        loss = nn.functional.cross_entropy(out, y)
        (g,) = mg.grad(loss, [out], create_graph=True)
        (loss + (g * g).sum()).backward()
        handle.remove()
        opt.step()

    step()                                         # the optimiser's state is made once
    gc.collect()
    gc.disable()
    try:
        step()
        assert gc.collect() == 0, "a training step left reference cycles for the collector"
    finally:
        gc.enable()


def test_hook_handle_remove_is_idempotent_and_keeps_other_hooks():
    x = mg.tensor([1.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append("a"))
    x.register_hook(lambda g: seen.append("b"))
    h1.remove()
    h1.remove()
    (x * 2).sum().backward()
    assert seen == ["b"]


def test_leaf_grads_never_alias_each_other_or_the_root_gradient_through_views():
    """Gradients arriving as views (w.T's backward transposes g) are kept without a copy only when
    nobody else holds their array: an in-place edit of one .grad must not change another."""
    w = mg.tensor(np.ones((2, 3)), requires_grad=True)
    v = mg.tensor(np.ones((3, 2)), requires_grad=True)
    for f in (lambda: (w.T + v).sum(), lambda: (v + w.T).sum()):
        w.grad = v.grad = None
        f().backward()
        w.grad.data += 1
        np.testing.assert_array_equal(v.grad.data, np.ones((3, 2)))
    G, w.grad = np.ones((3, 2)), None
    w.T.backward(G)                     # the root gradient is the user's array: never aliased
    w.grad.data += 5
    np.testing.assert_array_equal(G, np.ones((3, 2)))


def test_first_order_rules_run_on_arrays_with_the_tensor_ops_dtype_rules():
    """On a first-order pass, rules read their operands as raw arrays (no gates are made), unless
    their dtypes differ: then the Tensor ops' promotion applies (float32 * int64 stays float32)."""
    from minigrad import autograd

    class ScaleBy(mg.Function):              # a user gate with an integer operand
        def forward(self, x, k): return x * k.astype(x.dtype)
        def backward(self, g):
            g, x, k = self.operands(g, *self.inputs)
            return g * k, None
    made = []
    real = autograd.Function.apply.__func__

    def counting(cls, *a, **k):
        made.append(cls.__name__)
        return real(cls, *a, **k)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3.0).tanh() / x
    flowing = []
    y.register_hook(lambda g: flowing.append(g.dtype))    # the gradient as it flows, before any cast
    z = ScaleBy.apply(y, mg.tensor([3, 4]))
    loss = (z * z).sum()
    try:
        autograd.Function.apply = classmethod(counting)
        loss.backward()
    finally:
        autograd.Function.apply = classmethod(real)
    assert flowing == [np.float32] and x.grad.dtype == np.float32
    assert "Mul" in made and not {"TanhGrad", "Div"} & set(made)   # only the int64 operand's rule
    yv = np.tanh(np.float32(3.0) * x.data) / x.data
    gy = 2 * yv * np.array([9.0, 16.0])
    gx = gy * (3.0 * (1 - np.tanh(3.0 * x.data) ** 2) / x.data - yv / x.data)
    np.testing.assert_allclose(x.grad.data, gx, rtol=1e-5)


def test_first_order_gradients_flow_raw_only_into_gates_that_take_arrays():
    """On a first-order pass a gate that declares ``takes_array_grads`` gets its gradient as a raw
    numpy array (no Tensor made per edge); any other gate, hooks, retained gradients and leaves get
    Tensors; under create_graph every rule gets a Tensor. The values are the same either way."""
    seen = []

    class Probe(mg.Function):
        saves_inputs = ()
        def forward(self, a): return a.copy()
        def backward(self, g):
            seen.append((type(self).__name__, type(g)))
            return g

    class RawProbe(Probe):
        takes_array_grads = True

    for create_graph in (False, True):
        seen.clear()
        x = mg.tensor([0.5, -1.0], requires_grad=True)
        w = x * 3.0
        hooked = []
        w.register_hook(lambda g: hooked.append(type(g)))
        h = Probe.apply(w)                       # its gradient comes raw from a Mul gate
        u = h * 2.0
        u.retain_grad()
        k = RawProbe.apply(u)
        (k.tanh() * 4.0).sum().backward(create_graph=create_graph)
        raw_type = mg.Tensor if create_graph else np.ndarray
        assert seen == [("RawProbe", raw_type), ("Probe", mg.Tensor)]
        assert hooked == [mg.Tensor] and isinstance(u.grad, mg.Tensor) and isinstance(x.grad, mg.Tensor)
        du = 4.0 * (1 - np.tanh(6.0 * x.data) ** 2)
        np.testing.assert_allclose(u.grad.data, du)
        np.testing.assert_allclose(x.grad.data, 6.0 * du)


def test_gates_that_declare_they_keep_no_state_keep_none():
    """A gate with keeps_state = False is marked freed after backward without a look for saved
    buffers; its forward must then keep nothing on the gate beyond what apply records."""
    from minigrad import autograd, ops
    recorded = {"inputs", "needs_input_grad", "parents", "_out", "_versions"}
    light = [cls for cls in vars(ops).values()
             if isinstance(cls, type) and issubclass(cls, autograd.Function) and cls.keeps_state is False]
    assert {"Add", "Mul", "Tanh", "MatMul"} <= {cls.__name__ for cls in light}
    for cls in light:
        arity = len(inspect.signature(cls.forward).parameters) - 1
        args = [mg.tensor([[0.5, 0.25], [0.75, 0.125]], requires_grad=True) for _ in range(arity)]
        fn = cls.apply(*args).grad_fn
        assert set(vars(fn)) <= recorded, (cls.__name__, set(vars(fn)) - recorded)


def test_subclasses_of_built_in_gates_do_not_inherit_the_speed_flags():
    """A subclass with its own backward gets Tensors (it may use the Tensor API), and one with its
    own forward has its saved buffers freed after backward, whatever its base class declared."""
    from minigrad import ops

    class ClippedTanh(ops.Tanh):
        def backward(self, g):
            return super().backward(g.clamp(-1.0, 1.0))

    class MulKeepingABuffer(ops.Mul):
        def forward(self, a, b):
            self.buffer = a.copy()
            return super().forward(a, b)

    assert ops.Tanh.takes_array_grads and not ClippedTanh.takes_array_grads
    assert not ops.Mul.keeps_state and MulKeepingABuffer.keeps_state
    x = mg.tensor([0.5, -2.0], requires_grad=True)
    (ClippedTanh.apply(x) * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, (1 - np.tanh(x.data) ** 2) * 1.0, rtol=1e-6)
    y = MulKeepingABuffer.apply(x, mg.tensor([2.0, 2.0]))
    gate = y.grad_fn
    y.sum().backward()
    assert "buffer" not in vars(gate)


def test_a_backward_from_a_mixin_resets_the_flags_that_described_the_gates_own():
    # reads_inputs_for says which inputs Mul's own backward reads; a mixin's backward may read
    # others, so a changed input must still be caught (it gave a silent wrong gradient)
    from minigrad import ops

    class SquaringMixin:
        def backward(self, g):
            a, b = self.inputs
            return g * b * a, None

    class Squaring(SquaringMixin, ops.Mul):
        pass

    class DeclaresAgain(SquaringMixin, ops.Mul):
        takes_array_grads = False

    assert Squaring.reads_inputs_for is None and not Squaring.takes_array_grads
    assert not Squaring.keeps_state                           # forward is still Mul's own
    assert DeclaresAgain.reads_inputs_for is None
    x = mg.tensor([2.0], requires_grad=True) * 1
    y = Squaring.apply(x, mg.tensor([3.0]))
    with mg.no_grad():
        x.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
