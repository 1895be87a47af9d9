"""In-place ops: values, the version counter, the saved-tensor check, leaves, no_grad, and rebasing a
non-leaf onto the new gate (gradients checked numerically)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import ShapeError
from minigrad.testing import tensors

INPLACE = {   # name: (in-place call, the same thing in numpy)
    "add_": (lambda t: t.add_(2.0), lambda a: a + 2.0),
    "add_alpha": (lambda t: t.add_(mg.tensor([1.0, 2.0, 3.0], device=t.device), alpha=-2), lambda a: a - 2 * np.array([1.0, 2.0, 3.0])),
    "sub_": (lambda t: t.sub_(1.5), lambda a: a - 1.5),
    "mul_": (lambda t: t.mul_(mg.tensor([2.0, 0.5, -1.0], device=t.device)), lambda a: a * [2.0, 0.5, -1.0]),
    "div_": (lambda t: t.div_(4.0), lambda a: a / 4.0),
    "zero_": (lambda t: t.zero_(), lambda a: a * 0.0),
    "fill_": (lambda t: t.fill_(7.0), lambda a: np.full_like(a, 7.0)),
    "clamp_": (lambda t: t.clamp_(-0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0)),
    "copy_": (lambda t: t.copy_(mg.tensor([9.0], device=t.device)), lambda a: np.full_like(a, 9.0)),
}


def _iadd(t):
    t += 1.0
    return t


def _imul(t):
    t *= 3.0
    return t


def _isub(t):
    t -= 1.0
    return t


def _idiv(t):
    t /= 2.0
    return t


def _setitem(t):
    t[1:] = mg.tensor([5.0, 6.0], device=t.device)
    return t


INPLACE.update({"+=": (_iadd, lambda a: a + 1.0), "*=": (_imul, lambda a: a * 3.0),
                "-=": (_isub, lambda a: a - 1.0), "/=": (_idiv, lambda a: a / 2.0),
                "t[idx]=v": (_setitem, lambda a: np.array([a[0], 5.0, 6.0]))})


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_values_and_version_counter(name, device):
    op, ref = INPLACE[name]
    start = np.array([-1.0, 0.25, 2.0])
    t = mg.tensor(start, device=device)
    storage = t.data
    v0 = t._version
    out = op(t)
    assert out is t                                      # in place: the same tensor object...
    assert t.data is storage                             # ...and the same memory, when nothing is recorded
    assert t._version == v0 + 1
    np.testing.assert_allclose(mg.backend.to_numpy(t.data), ref(start))
    assert t.dtype == np.float64


def test_setitem_forms_and_version_counter():
    t = mg.zeros(3, 4)
    t[0] = 1.0
    t[:, 1] = mg.tensor([2.0, 3.0, 4.0])
    t[mg.tensor([2, 2])] = 5.0
    t[t > 4.5] = -1.0
    assert t._version == 4
    assert t.tolist() == [[1.0, 2.0, 1.0, 1.0], [0.0, 3.0, 0.0, 0.0], [-1.0, -1.0, -1.0, -1.0]]


def test_saved_input_changed_in_place_names_gate_and_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.name = "hidden"
    y = (h * h).sum()                    # Mul saves h
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*gate Mul.*shape \(2,\).*'hidden'.*version 1.*expected version 0"):
        y.backward()


def test_saved_output_changed_in_place_is_an_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()                          # Exp's backward reads its output
    y = (e + 1.0).sum()                  # Add saves nothing
    with mg.no_grad():
        e.mul_(2.0)                      # truly in place: Exp's saved output is gone
    with pytest.raises(RuntimeError, match=r"output of gate Exp.*modified by an in-place operation"):
        y.backward()


def test_changing_a_leaf_under_no_grad_before_backward_is_caught():
    """The classic mistake: an optimiser step between forward and backward."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with mg.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="gate Mul"):
        loss.backward()


def test_rebased_output_keeps_the_old_value_for_its_gate():
    """Under grad mode an in-place op on a non-leaf writes new memory and rebases the tensor, so a
    gate that saved the old output still reads the old value (and backward is right)."""
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    e = x.exp()
    y = (e + 1.0).sum()
    e.mul_(2.0)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "sqrt"])
def test_an_inplace_op_whose_gate_reads_its_output_backpropagates(op):
    """An in-place op (``Tensor._inplace``, the machinery of add_, relu(inplace=True) and the rest)
    whose gate reads its output leaves the tensor at version 1 with that gate: that is the value the
    gate made, not a later change. A change after it, under no_grad, is one, and backward refuses it."""
    x = mg.tensor([0.5, 1.0, 2.0], dtype="float64", requires_grad=True)
    getattr(x * 1.0, op)().sum().backward()
    expected, x.grad = x.grad.data.copy(), None
    h = x * 1.0
    y = h._inplace(getattr(mg.Tensor, op))
    assert y is h and h._version == 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, expected)
    h = x * 1.0
    y = h._inplace(getattr(mg.Tensor, op)).sum()
    with mg.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"output of gate .* modified by an in-place operation"):
        y.backward()


def test_an_inplace_op_through_a_detached_alias_sees_later_writes_to_its_source():
    """d = h.detach() shares h's memory: after an in-place op on d whose gate reads its output, a
    write to h (under no_grad, or recorded, which d follows) changes that output, and backward must
    refuse it rather than use the changed values (found in review)."""
    for recorded in (False, True):
        x = mg.tensor([0.5, 1.0, 2.0], dtype="float64", requires_grad=True)
        w = mg.tensor([1.0, 1.0, 1.0], dtype="float64", requires_grad=True)
        h = x * 1.0
        d = h.detach()
        d._inplace(lambda t: (t * w).exp())
        with mg.set_grad_enabled(recorded):
            h.add_(1.0) if recorded else h.mul_(100.0)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            d.sum().backward()


def test_unsaved_input_may_change_in_place():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = (h + 1.0).sum()                  # Add saves nothing: changing h later is harmless
    h.mul_(5.0)
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_inplace_on_a_leaf_that_requires_grad_is_an_error():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.zero_(), _iadd, _setitem):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            op(w)
    assert w.tolist() == [1.0, 2.0] and w._version == 0


def test_inplace_on_a_leaf_under_no_grad_works_as_optimisers_need():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    storage = w.data
    with mg.no_grad():
        w -= 0.5 * w.grad                # an SGD step
        w.grad.zero_()
        w[0] = 10.0
    assert w.tolist() == [10.0, 0.0] and w.data is storage
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w.grad.tolist() == [0.0, 0.0] and w._version == 2
    (w * 3.0).sum().backward()           # still a working leaf
    assert w.grad.tolist() == [3.0, 3.0]


def _rebased_circuit(x, y):
    """In-place ops on non-leaves under grad mode: each one rebases the tensor onto a new gate."""
    h = x * 2.0
    h.mul_(x)                            # h = 2x^2
    h.add_(y, alpha=3)                   # h = 2x^2 + 3y
    h -= x
    h /= 2.0                             # h = (2x^2 + 3y - x) / 2
    h.clamp_(-5.0, 50.0)
    h[0] = y[0] * y[1]                   # the gradient of the overwritten element stops; y gets one
    k = h.sin()
    k += h                               # k = sin(h) + h
    return k


@settings(max_examples=10)
@given(tensors(shape=(3,), min_value=-2, max_value=2), tensors(shape=(3,), min_value=-2, max_value=2))
def test_inplace_on_non_leaf_rebases_onto_the_new_gate(x, y):
    x.requires_grad_()
    y.requires_grad_()
    out = _rebased_circuit(x, y)
    assert out.grad_fn is not None and not out.is_leaf
    xv, yv = x.detach().numpy(), y.detach().numpy()
    h = np.clip((2 * xv ** 2 + 3 * yv - xv) / 2, -5, 50)
    h[0] = yv[0] * yv[1]
    np.testing.assert_allclose(out.detach().numpy(), np.sin(h) + h, rtol=1e-12)
    assert mg.gradcheck(_rebased_circuit, [x, y])


def test_rebase_keeps_earlier_consumers_on_the_old_value():
    x = mg.tensor([3.0], dtype="float64", requires_grad=True)
    h = x * 2.0
    before = h + 0.0                     # recorded before the in-place op: sees 2x
    h.mul_(x)                            # h = 2x^2
    (before + h).sum().backward()
    assert before.item() == 6.0 and h.item() == 18.0
    assert x.grad.tolist() == [2.0 + 4 * 3.0]


def test_setitem_of_a_grad_value_into_a_plain_tensor():
    v = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)

    def scatter(v):
        buf = mg.zeros(2, 3, dtype="float64")
        buf[:, 1] = v * v                # buf becomes part of the graph
        return buf * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float64")

    out = scatter(v)
    assert not out.is_leaf
    out.sum().backward()
    assert v.grad.tolist() == [2.0 * 1.0 * 2.0, 2.0 * 2.0 * 5.0]
    assert mg.gradcheck(scatter, [v.detach().requires_grad_()])


def test_fill_and_zero_on_a_non_leaf_cut_the_old_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.zero_()
    h2 = x * 3.0
    h2.fill_(4.0)
    (h + h2 + x).sum().backward()
    assert h.tolist() == [0.0, 0.0] and h2.tolist() == [4.0, 4.0]
    assert x.grad.tolist() == [1.0, 1.0]


def test_copy_on_a_non_leaf_takes_the_source_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    s = mg.tensor([5.0], requires_grad=True)
    h = x * 1.0
    h.copy_(s * 2.0)                     # broadcast to h's shape
    (h * mg.tensor([1.0, 3.0])).sum().backward()
    assert h.tolist() == [10.0, 10.0]
    assert x.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [8.0]


def test_inplace_through_a_detached_view_is_caught():
    """detach() shares memory: changing it in place changes the saved value, so backward must refuse."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().add_(1.0)
    assert x.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="gate Mul"):
        y.backward()
    z = mg.tensor([1.0, 2.0], requires_grad=True)
    d = z.detach()
    (z * z).sum().backward()                 # no in-place change: fine
    d.zero_()
    assert z.tolist() == [0.0, 0.0] and z._version == 1


# ***** views share their base's version (reshape, transpose, x[i], expand: PyTorch's shared counter) *****

VIEWS = {
    "getitem": lambda t: t[1:3],
    "transpose": lambda t: t.reshape(2, 3).T,
    "reshape": lambda t: t.reshape(3, 2),
    "expand": lambda t: t[:1].expand(4),
    "int index": lambda t: t.reshape(2, 3)[1],
}


@pytest.mark.parametrize("view", VIEWS)
def test_base_changed_in_place_under_no_grad_invalidates_a_saved_view(view):
    # the view's memory is the base's: backward would read the new values (a silent wrong gradient)
    w = mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    base = w * 1.0
    v = VIEWS[view](base)
    y = (v * v).sum()                                      # Mul saves the view
    with mg.no_grad():
        base.add_(1.0)
    with pytest.raises(RuntimeError, match=r"gate Mul.*it is a view of a tensor of shape"):
        y.backward()


@pytest.mark.parametrize("write", ["add_", "setitem"])
def test_a_write_through_a_view_invalidates_the_saved_base_and_other_views(write):
    w = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = w * 1.0
    v1, v2 = base[:2], base[2:]
    y = (base * base).sum() + (v2 * v2).sum()              # saves the base and the other view
    with mg.no_grad():
        v1.add_(1.0) if write == "add_" else v1.__setitem__(0, 9.0)
    assert base.tolist()[0] in (2.0, 9.0)                  # the same memory
    with pytest.raises(RuntimeError, match="gate Mul"):
        y.backward()


def test_a_write_through_one_view_invalidates_a_saved_sibling_view():
    w = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = w * 1.0
    v1, v2 = base[:2], base[1:]
    y = (v2 * v2).sum()                                    # saves only v2, which overlaps v1
    with mg.no_grad():
        v1.add_(1.0)
    with pytest.raises(RuntimeError, match="gate Mul.*it is a view"):
        y.backward()


def test_an_expanded_view_written_in_place_gets_its_own_memory_and_no_link():
    b = mg.tensor([[1.0, 2.0]])
    e = b.expand(3, 2)
    a = mg.tensor([[1.0, 1.0]], requires_grad=True)
    s = (b * a).sum()
    with mg.no_grad():
        e.add_(1.0)                                        # read-only view: new memory, b unchanged
    assert b.tolist() == [[1.0, 2.0]] and e._base is None
    s.backward()
    assert a.grad.tolist() == [[1.0, 2.0]]


def test_pickled_views_hold_only_their_own_values_and_deep_copies_share_no_memory():
    import copy
    import pickle
    big = mg.zeros(1000, 100)
    row = big[0]
    assert len(pickle.dumps(row)) < 10_000                 # not the whole base
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with mg.no_grad():
        v = (w * 2.0)[:2]
    assert pickle.loads(pickle.dumps(v)).tolist() == [2.0, 4.0]
    d = copy.deepcopy(v)                    # (as PyTorch, it brings the memory it views along)
    assert d.tolist() == [2.0, 4.0] and not np.shares_memory(d.data, v.data)
    assert copy.copy(v)._base is v._base                    # a shallow copy shares the memory


def test_a_tensor_made_by_a_gate_pickles_as_a_leaf_holding_its_values():
    """As in PyTorch: requires_grad stays, the graph (gates, saved buffers) does not travel."""
    import pickle
    x = mg.tensor(np.linspace(-1, 1, 4000).reshape(40, 100), requires_grad=True)
    for y in (x * 2.0, x.tanh(), (x * 2.0).relu()):
        y.retain_grad()
        z = pickle.loads(pickle.dumps(y))
        assert z.grad_fn is None and z.requires_grad and not z.retains_grad
        np.testing.assert_array_equal(z.data, y.data)
        assert len(pickle.dumps(y)) < 1.2 * y.data.nbytes            # not x, not ReLU's mask
        (z * z).sum().backward()
        np.testing.assert_allclose(z.grad.data, 2 * y.data)
        assert x.grad is None


def test_a_deep_copy_of_a_gate_output_is_the_output_of_the_copied_gate():
    import copy
    for op in (lambda t: t * 2.0, lambda t: t.tanh()):
        x = mg.tensor([0.5, -1.0], requires_grad=True)
        y = op(x)
        y2 = copy.deepcopy(y)
        assert y2.grad_fn is not y.grad_fn and y2.grad_fn.output is y2
        y2.retain_grad()
        (y2 * 3.0).sum().backward()
        assert y2.grad.tolist() == [3.0, 3.0] and y.grad is None and x.grad is None
        x2 = y2.grad_fn.inputs[0]
        assert x2 is not x and x2.grad is not None


def test_a_transposed_weight_changed_by_the_optimiser_is_caught():
    # x @ W.T reads the view W.T for x's gradient; opt.step() changes W: PyTorch refuses the second
    # backward, so do we. Without x's gradient W.T is not read, and both allow it.
    W = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = mg.tensor(np.ones((4, 3)), requires_grad=True)
    loss = (x @ W.T).sum()
    loss.backward(retain_graph=True)
    mg.optim.SGD([W], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"gate MatMul.*it is a view of a tensor of shape \(2, 3\)"):
        loss.backward()
    x = mg.tensor(np.ones((4, 3)))
    loss = (x @ W.T).sum()
    loss.backward(retain_graph=True)
    mg.optim.SGD([W], lr=0.1).step()
    W.grad = None
    loss.backward()
    np.testing.assert_array_equal(W.grad.data, np.full((2, 3), 4.0))


def test_copies_are_not_views_and_stay_valid():
    # fancy indexing, and a reshape that has to copy, give new memory: changing the base is fine
    w = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    base = w * 1.0
    picked = base[np.array([1, 0])]
    flat = base.T.reshape(6)                               # non-contiguous: a copy
    assert picked._base is None and flat._base is None
    y = (picked * picked).sum() + (flat * flat).sum()
    with mg.no_grad():
        base.add_(100.0)
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 4 * np.arange(6.0).reshape(2, 3))


def test_views_before_and_after_a_write_in_one_graph_are_exact():
    # a gate that saves nothing of its view survives the write; one made after it reads the new values
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = w * 2.0
    y = base[:2].sum() * 3.0                               # Sum saves nothing
    with mg.no_grad():
        base.mul_(10.0)                                    # base is now [20, 40, 60]
    z = (base[:2] * base[:2]).sum()
    (y + z).backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0 + 80.0, 6.0 + 160.0, 0.0])


def test_an_inplace_op_on_a_view_under_grad_writes_through_into_its_base():
    # as PyTorch: the base takes the view's new values and records them in its graph, and a gate
    # that saved the base's old value can no longer run backward
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = w * 1.0
    y = (base * base).sum()
    v = base[:2]
    v.mul_(10.0)
    assert v.tolist() == [10.0, 20.0] and base.tolist() == [10.0, 20.0, 3.0] and v._base is base
    assert np.shares_memory(v.data, base.data)
    (base * base).sum().backward(retain_graph=True)               # d/dw of 100w0^2 + 100w1^2 + w2^2
    np.testing.assert_allclose(w.grad.numpy(), [200.0, 400.0, 6.0])
    w.grad = None
    v.sum().backward()                                           # v = 10 w[:2]
    np.testing.assert_allclose(w.grad.numpy(), [10.0, 10.0, 0.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_filling_a_buffer_through_views_of_its_rows():
    """`buf[i].copy_(w)` on a buffer that needs no grad: the buffer takes the values and joins the
    graph (it was silently left unchanged before, as the view got memory of its own)."""
    buf = mg.zeros(3, 2, dtype=mg.float64)
    w = mg.tensor([1.0, 2.0], requires_grad=True, dtype=mg.float64)
    buf[0].copy_(w)
    buf[1].mul_(w)                                   # zeros times w: still zero, but now in the graph
    buf[2].add_(w * 3.0)
    assert buf.tolist() == [[1.0, 2.0], [0.0, 0.0], [3.0, 6.0]] and buf.requires_grad
    (buf * mg.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    # rows 0 and 2 give w's gradient 1*[0, 1] + 3*[4, 5]; row 1 gives 0 * [2, 3]
    np.testing.assert_allclose(w.grad.numpy(), [12.0, 16.0])


def test_sibling_views_show_the_write_and_pass_gradients_to_it():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    base = x * 1.0
    column, row = base[:, 1], base[1]                        # two views sharing base[1, 1]
    row.mul_(mg.tensor(5.0, requires_grad=True))
    assert column.tolist() == [1.0, 20.0]                    # the sibling sees the write
    column.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1, 0], [0, 5, 0]])


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_is_an_error_naming_both_shapes():
    w = mg.tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"view \(shape \(4,\)\) of a leaf tensor .* \(shape \(3, 4\)\)"):
        w[1].mul_(mg.tensor(2.0, requires_grad=True))
    assert w.tolist() == np.ones((3, 4)).tolist()


def test_inplace_on_an_expanded_view_under_grad_is_an_error():
    base = mg.tensor([1.0, 2.0], requires_grad=True) * 1.0
    e = base.expand(3, 2)
    with pytest.raises(RuntimeError, match="expanded view"):
        e.mul_(mg.tensor(np.ones((3, 2)), requires_grad=True))


def _contiguous(t):
    return t.is_contiguous() if hasattr(t, "is_contiguous") else t.data.flags.c_contiguous


TWO_D_VIEWS = {   # name: a 2-D view of a 2-D tensor, made the same way in both libraries
    "slice": lambda t: t[1:, ::2],
    "tail": lambda t: t[-2:],
    "transpose": lambda t: t.transpose(0, 1),
    "reshape": lambda t: t.reshape(t.shape[1], t.shape[0]) if _contiguous(t) else t[:, 1:],
}
VIEW_STEPS = dict(TWO_D_VIEWS, **{   # and views that drop a dimension
    "row": lambda t: t[1 if t.shape[0] > 1 else 0],
    "column": lambda t: t[:, -1],
    "flatten": lambda t: t.reshape(-1) if _contiguous(t) else t[0],
})

INPLACE_ON_VIEW = {   # name: in-place op with an operand that requires grad, given a factory for it
    "mul_": lambda v, k: v.mul_(k(v.shape)),
    "add_": lambda v, k: v.add_(k(v.shape), alpha=2.0),
    "copy_": lambda v, k: v.copy_(k(v.shape)),
    "setitem": lambda v, k: v.__setitem__(0, k(v.shape[1:])),
    "div_": lambda v, k: v.div_(k(v.shape) + 3.0),
    "fill_": lambda v, k: v.fill_(k((1,)).reshape(())),
}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(TWO_D_VIEWS)), st.sampled_from(sorted(VIEW_STEPS)),
       st.sampled_from(sorted(INPLACE_ON_VIEW)), st.booleans(), st.integers(2, 4), st.integers(2, 4),
       st.integers(0, 2**16))
def test_inplace_ops_through_chains_of_views_match_torch(first, second, op, base_needs_grad, rows, cols, seed):
    """A chain of two views of a base (needing grad or not), an in-place op on the last one with an
    operand that needs grad, then a loss over the base, the view and a sibling view: the same
    values and gradients as PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x0, k0 = rng.standard_normal((rows, cols)), rng.standard_normal(rows * cols)
    w0 = rng.standard_normal((rows, cols))

    def run(lib, is_torch):
        tensor = (lambda a, **kw: torch.tensor(a, dtype=torch.float64, **kw)) if is_torch else \
                 (lambda a, **kw: mg.tensor(a, dtype=mg.float64, **kw))
        x, kflat = tensor(x0, requires_grad=True), tensor(k0, requires_grad=True)
        k = lambda shape: kflat[:int(np.prod(shape))].reshape(tuple(shape))
        base = x * 1.0 if base_needs_grad else tensor(x0)
        sibling = base[:, 0]
        view = VIEW_STEPS[second](TWO_D_VIEWS[first](base))
        if 0 in tuple(view.shape):
            return None                                  # an empty view: nothing to write
        INPLACE_ON_VIEW[op](view, k)
        weights = tensor(w0)
        loss = (base * weights).sum() + (view * view).sum() + (sibling * 3.0).sum()
        loss.backward()
        value = lambda t: t.detach().numpy()
        grads = [None if t.grad is None else value(t.grad) for t in (x, kflat)]
        return value(base), value(view), value(sibling), grads

    ours, theirs = run(mg, False), run(torch, True)
    if ours is None:
        return
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours[3], theirs[3]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_an_optimiser_step_on_a_parameter_that_is_a_view_counts_on_its_base():
    base = mg.tensor([1.0, 2.0, 3.0, 4.0])
    p = base[:2].detach().requires_grad_()                 # shares base's memory
    k = mg.tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
    y = (base * k).sum()                                   # saves base
    (p * p).sum().backward()
    mg.optim.SGD([p], lr=0.1).step()
    assert base.tolist()[:2] != [1.0, 2.0]
    with pytest.raises(RuntimeError, match="gate Mul"):
        y.backward()


def test_views_made_every_step_of_a_long_lived_base_are_not_kept():
    """Each view registers (weakly) on its base, for an in-place write through a sibling; a base
    viewed every step (`x @ W.T`) keeps a list no longer than twice its live views."""
    W = mg.tensor(np.ones((3, 4)), requires_grad=True)
    for _ in range(10_000):
        (mg.tensor(np.ones((2, 4))) @ W.T).sum().backward()
    assert len(W._views) <= 16
    base = mg.tensor(np.ones((100, 3))) * 1.0
    rows = [base[i] for i in range(100)]                 # all alive
    assert 100 <= len(base._views) <= 200
    rows[7].add_(mg.tensor([1.0, 2.0, 3.0], requires_grad=True))
    assert base[7].tolist() == [2.0, 3.0, 4.0] and rows[7].tolist() == [2.0, 3.0, 4.0]


def test_copy_and_fill_over_infinities_write_the_values_not_nan():
    """copy_ and fill_ were `t * 0 + v`: NaN where t held inf (an attention mask, say)."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    mask = mg.tensor(np.full((2, 2), -np.inf))
    mask[0].copy_(w)
    assert mask.tolist() == [[1.0, 2.0], [-np.inf, -np.inf]]
    x = mg.tensor([np.inf, -np.inf, 1.0], requires_grad=True) * 1.0
    x.fill_(3.0)
    assert x.tolist() == [3.0, 3.0, 3.0]
    (mask[0] * 2.0).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


def test_a_column_major_base_keeps_its_views_through_a_write():
    """The rebased base keeps its memory layout, so a view that needs it (a reshape of a transpose)
    is made again as a view and a later write through it reaches the base (numbers as PyTorch)."""
    x = mg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    b = x.T * 1.0                                   # laid out column-major
    v = b.T.reshape(12)                             # a view of b
    b[0].mul_(mg.tensor(2.0, requires_grad=True))
    v.mul_(mg.tensor(3.0, requires_grad=True))
    assert b[1].tolist() == [3.0, 12.0, 21.0, 30.0] and v._base is not None


def test_a_saved_view_of_a_base_written_through_a_sibling_is_caught():
    x = mg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    b = x.T * 1.0
    v = b.T.reshape(12)
    y = (v * v).sum()                               # saves v
    b[0].mul_(mg.tensor(2.0, requires_grad=True))
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_a_view_made_under_no_grad_cannot_be_changed_in_place_with_grad_on():
    """As PyTorch: its gradient could not be tracked (the write used to drop that row's gradient)."""
    x = mg.tensor(np.ones((2, 2)), requires_grad=True)
    b = x * 1.0
    with mg.no_grad():
        v = b[0]
    for change in (lambda: v.mul_(mg.tensor(2.0, requires_grad=True)), lambda: v.mul_(2.0)):
        with pytest.raises(RuntimeError, match=r"made under no_grad\(\)"):
            change()
    assert b.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_a_detach_alias_shares_memory_with_its_source_through_writes_under_grad():
    """As PyTorch: a write under grad through `detach()` reaches the source's values (not its
    graph), and an alias made before the source moved to new memory follows it."""
    x, w9 = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([9.0], requires_grad=True)
    b = x * 1.0
    b.detach()[2:].copy_(w9)
    assert b.tolist() == [1.0, 2.0, 9.0]
    a, w = mg.tensor([1.0, 2.0, 3.0]), mg.tensor(2.0, requires_grad=True)
    d = a.detach()
    d.mul_(w)                                       # the old values are kept for Mul's backward
    d.sum().backward()
    assert a.tolist() == [2.0, 4.0, 6.0] and w.grad.item() == 6.0
    # an alias made before a write through a view of its source, then written under no_grad:
    # the value Mul saved is the old one, so w's gradient stays right (it was silently [0, 0])
    x, w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([5.0, 7.0], requires_grad=True)
    b = x * 1.0
    alias = b.detach()
    b[:2].mul_(w)
    assert alias.tolist() == [5.0, 14.0, 3.0]      # it follows b to the new memory
    with mg.no_grad():
        alias.zero_()
    assert b.tolist() == [0.0, 0.0, 0.0]
    b.sum().backward()
    assert w.grad.tolist() == [1.0, 2.0]


def test_fill_keeps_a_float64_value_exact():
    b = mg.tensor([0.0, 0.0], dtype=mg.float64)
    b.fill_(0.1)
    assert b.tolist() == [0.1, 0.1]


def test_a_write_under_grad_through_a_view_of_a_detach_alias_keeps_the_old_value_for_backward():
    """The alias's source is written in place, so the op's saved old value must be a copy (k's
    gradient came out as the new values, [10, 40]; PyTorch gives [1, 2])."""
    buf, k = mg.tensor([[1.0, 2.0], [3.0, 4.0]]), mg.tensor([10.0, 20.0], requires_grad=True)
    v = buf.detach()[0]
    v.mul_(k)
    v.sum().backward()
    assert buf.tolist() == [[10.0, 40.0], [3.0, 4.0]] and k.grad.tolist() == [1.0, 2.0]


def test_a_registered_alias_whose_data_was_replaced_is_left_alone():
    w0 = mg.tensor(np.ones((2, 2))) * 1.0
    p = w0.detach().requires_grad_()
    p.data = np.full((2, 2), 9.0)
    w0[0].mul_(mg.tensor(3.0, requires_grad=True))
    assert p.tolist() == [[9.0, 9.0], [9.0, 9.0]] and w0.tolist() == [[3.0, 3.0], [1.0, 1.0]]


def test_one_element_of_a_tensor_is_a_view_that_in_place_ops_write_through():
    """numpy gives a copy for an all-integer index; the gate takes a 0-d view instead, so that
    `buf[0, 1].copy_(w)` and `buf[1][0].add_(w)` reach buf, as in PyTorch (they did nothing)."""
    buf, w = mg.zeros(2, 2), mg.tensor(3.0, requires_grad=True)
    buf[0, 1].copy_(w)
    buf[1][0].add_(w)
    with mg.no_grad():
        buf[1, 1].fill_(7.0)
    assert buf.tolist() == [[0.0, 3.0], [3.0, 7.0]]
    buf.sum().backward()
    assert w.grad.item() == 2.0
    x = mg.tensor([1.0, 2.0, 3.0])
    one = x[1]
    with mg.no_grad():
        x.mul_(10.0)
    assert one.item() == 20.0                         # a view: it sees the change, as in torch


def test_views_of_a_view_that_had_to_be_copied_still_follow_a_write():
    """A reshape that could be a view of the old layout but must copy from the new one: the
    copy's own views are made again from the copy (they kept the old values; PyTorch's numbers)."""
    W = mg.tensor(np.arange(1.0, 10.0).reshape(3, 3).T.copy(), requires_grad=True)
    b = W.T * 1.0
    flat = b.mT.reshape(-1)
    head, one = flat[0:3], flat[4]
    b.div_(mg.tensor(np.full((3, 3), 2.0)))
    assert head.tolist() == [0.5, 2.0, 3.5] and one.item() == 2.5
    (head * head).sum().backward()
    np.testing.assert_allclose(W.grad.numpy()[0], [0.5, 2.0, 3.5])


def test_a_write_through_a_view_of_a_zero_dimensional_tensor():
    W = mg.tensor([1.0, 2.0], requires_grad=True)
    s = (W * 1.0).sum()
    s.unsqueeze(0).mul_(3.0)
    assert s.item() == 9.0
    s.backward()
    assert W.grad.tolist() == [3.0, 3.0]


def test_a_zero_dimensional_integer_tensor_indexes_like_an_int():
    """As PyTorch: a basic index, so x[i] is a view that in-place ops write through (it was a copy)."""
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    x[mg.tensor(1)].add_(100.0)
    x[mg.tensor(0), mg.tensor(1)].mul_(10.0)
    assert x.tolist() == [[1.0, 20.0], [103.0, 104.0]]


@pytest.mark.parametrize("op", ["add_", "add_alpha", "sub_", "mul_", "div_", "iadd", "copy_", "setitem"])
def test_an_inplace_op_whose_operand_is_the_tensor_itself_reads_its_old_value(op):
    # b.add_(b) is b + b: the operand is read as b's value from before the op. It was recorded as b
    # itself, so the new gate took its own output as an input (a cycle and a version error in
    # backward); PyTorch computes add_ and sub_ (and refuses mul_ and div_, which save b)
    x = np.array([1.0, -2.0, 3.0])
    a = mg.tensor(x, requires_grad=True)
    b = a * 2
    if op == "iadd":
        b += b
    elif op == "setitem":
        b[...] = b
    elif op == "add_alpha":
        b.add_(b, alpha=2)
    else:
        getattr(b, op)(b)
    assert all(t is not b for t in b.grad_fn.inputs)          # no gate takes its own output
    (b * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    value, grad = {"add_": (4 * x, [4.0, 8.0, 12.0]), "iadd": (4 * x, [4.0, 8.0, 12.0]),
                   "add_alpha": (6 * x, [6.0, 12.0, 18.0]),
                   "sub_": (0 * x, [0.0, 0.0, 0.0]), "mul_": (4 * x * x, 8 * x * [1.0, 2.0, 3.0]),
                   "div_": (np.ones(3), [0.0, 0.0, 0.0]), "copy_": (2 * x, [2.0, 4.0, 6.0]),
                   "setitem": (2 * x, [2.0, 4.0, 6.0])}[op]
    np.testing.assert_allclose(b.data, value)
    np.testing.assert_allclose(a.grad.data, grad)


def test_setitem_with_a_value_that_does_not_fit_names_both_shapes():
    b = mg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
    with pytest.raises(ShapeError, match=r"shape \(3,\) does not fit the indexed part, of shape \(2,\)"):
        b[1:] = mg.ones(3)
    c = mg.zeros(3, 4)                                                    # no graph: the same error
    with pytest.raises(ShapeError, match=r"shape \(3,\) does not fit the indexed part, of shape \(2, 2\)"):
        c[1:, :2] = mg.ones(3)


def test_hooks_registered_before_an_inplace_op_see_the_old_values_gradient_as_torch():
    # PyTorch keeps a tensor's hooks with the gate that made its old value; retain_grad follows
    # the tensor (its .grad is the new value's gradient)
    seen = []
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.retain_grad()
    b.register_hook(lambda g: seen.append(("before", g.data.tolist())))
    b.mul_(3)
    b.register_hook(lambda g: seen.append(("after", g.data.tolist())))
    (b * mg.tensor([1.0, 10.0])).sum().backward()
    assert seen == [("after", [1.0, 10.0]), ("before", [3.0, 30.0])]
    np.testing.assert_array_equal(b.grad.data, [1.0, 10.0])
    np.testing.assert_array_equal(a.grad.data, [6.0, 60.0])
    torch = pytest.importorskip("torch")
    seen_torch = []
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = ta * 2
    tb.retain_grad()
    tb.register_hook(lambda g: seen_torch.append(("before", g.tolist())))
    tb.mul_(3)
    tb.register_hook(lambda g: seen_torch.append(("after", g.tolist())))
    (tb * torch.tensor([1.0, 10.0])).sum().backward()
    assert seen_torch == seen and tb.grad.tolist() == b.grad.data.tolist()


def test_a_hook_handle_removes_its_hook_after_an_inplace_op_and_only_its_own_registration():
    calls = []
    hook = lambda g: calls.append(1)                              # noqa: E731
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    first, _ = b.register_hook(hook), b.register_hook(hook)     # one function, twice
    b.add_(1)
    first.remove()
    first.remove()                                              # again: a no-op
    b.sum().backward()
    assert calls == [1]


@pytest.mark.parametrize("write", ["view copy_", "copy_", "setitem", "add_"])
def test_writing_a_grad_value_into_an_integer_tensor_is_not_recorded_as_torch(write):
    # an integer tensor has no gradient: the values are written (truncated), nothing is recorded
    buf = mg.zeros(3, dtype="int64")
    w = mg.tensor([2.5, -1.5, 7.0], requires_grad=True)
    if write == "view copy_":
        buf[0].copy_(w[0])
    elif write == "copy_":
        buf.copy_(w)
    elif write == "setitem":
        buf[1:] = w[:2] * 3
    else:
        buf.add_(w.int() * 1)
    expected = {"view copy_": [2, 0, 0], "copy_": [2, -1, 7], "setitem": [0, 7, -4], "add_": [2, -1, 7]}[write]
    assert buf.dtype == np.int64 and buf.data.tolist() == expected
    assert not buf.requires_grad and buf.grad_fn is None


@pytest.mark.parametrize("base_first", [True, False])
def test_a_deep_copy_of_a_tensor_with_its_views_keeps_them_sharing_memory_as_torch(base_first):
    import copy
    x = mg.arange(6.0)
    views = {"row": x[1:3], "grid": x.view(2, 3), "alias": x.detach(), "t": x.view(2, 3).t()}
    pair = copy.deepcopy((x, views) if base_first else (views, x))
    xc, vc = pair if base_first else pair[::-1]
    xc[2] = 10.0                                   # writes through the copy's memory
    assert vc["row"].tolist() == [1.0, 10.0] and vc["grid"].tolist()[0] == [0.0, 1.0, 10.0]
    assert vc["alias"].tolist()[2] == 10.0 and vc["t"].tolist()[2][0] == 10.0
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]            # the original is untouched
    assert vc["row"]._base is xc and vc["grid"]._base is xc
    torch = pytest.importorskip("torch")
    tx = torch.arange(6.0)
    txc, tv = copy.deepcopy((tx, tx[1:3]))
    txc[2] = 10.0
    assert tv.tolist() == vc["row"].tolist()


def test_a_gate_checks_only_the_inputs_its_needed_gradients_read_as_torch():
    # x * c with c constant reads only c: x may change in place afterwards (PyTorch saves only c)
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    b[0] = b[0] * 2                                    # Mul(b[0], 2) then a write into b
    u = b * 3
    b.add_(1)
    (u + b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [8.0, 4.0, 4.0])
    for make in (lambda y: y * y, lambda y: y / (y + 1), lambda y: y.reshape(1, 2) @ y.reshape(2, 1)):
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = make(y)                                     # reads y's value for y's own gradient
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            z.sum().backward()
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = mg.tensor([4.0, 8.0], requires_grad=True) * 1
    q = x / d                                           # d's gradient reads x and d, x's reads d
    d.add_(1)
    with pytest.raises(RuntimeError, match="input 1 of gate Div"):
        q.sum().backward()


def test_copy_of_itself_records_a_new_version_as_torch():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    u = y * 3
    y.retain_grad()
    y.copy_(y)
    (y * mg.tensor(np.array([1.0, 10.0])) + u).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 10.0])       # the new value's gradient
    np.testing.assert_array_equal(x.grad.data, [8.0, 52.0])
    assert y._version == 1


def test_a_shallow_copy_does_not_share_the_hook_list():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    t = x * 2
    t.register_hook(lambda g: None)
    import copy
    c = copy.copy(t)
    log = []
    c.register_hook(lambda g: log.append(1))
    t.sum().backward()
    assert log == []


def test_a_deep_copy_shares_memory_as_the_originals_do_in_any_order():
    import copy
    r = mg.tensor(np.arange(6.0).reshape(2, 3))
    v = r[1:]
    w = v[:, 1:]
    vc, wc, rc = copy.deepcopy([v, w, r])                # views first, their base last
    with mg.no_grad():
        rc.add_(100.0)
    assert wc.tolist() == [[104.0, 105.0]] and vc.tolist() == [[103.0, 104.0, 105.0]]
    a, b = copy.deepcopy([r[:1], r[1:]])                 # siblings without their base: one memory
    a[0, 0] = 50.0
    assert b.tolist() == [[3.0, 4.0, 5.0]] and r.tolist()[0][0] == 0.0
    b = mg.tensor(np.arange(6.0))
    v = b[1:4]
    v.data = np.array([9.0, 9.0, 9.0])                   # no longer b's memory: copied as itself
    assert copy.deepcopy([b, v])[1].tolist() == [9.0, 9.0, 9.0]
    b = mg.tensor(np.arange(6.0))
    v = b[1:4]
    b.data = np.arange(6.0) * 10
    bc, vc = copy.deepcopy([b, v])
    assert vc.tolist() == [1.0, 2.0, 3.0] and bc.tolist()[1] == 10.0
    f = mg.arange(6.0).reshape(2, 3).t()                 # a column-major view
    fc = copy.deepcopy(f)
    assert fc.tolist() == f.tolist() and fc.shape == (3, 2)


def test_deep_copies_follow_pytorch_on_expanded_views_and_on_writes_through_siblings():
    import copy
    x = mg.tensor([[1.0, 2.0]])
    xc, ec = copy.deepcopy([x, x.expand(3, 2)])
    assert not ec.data.flags.writeable                       # one element in memory for three rows
    with mg.no_grad():
        ec.add_(mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))   # new memory, as on the original
    assert ec.tolist() == [[2.0, 4.0], [4.0, 6.0], [6.0, 8.0]] and xc.tolist() == [[1.0, 2.0]]
    r = mg.tensor([1.0, 2.0, 3.0])
    ac, bc = copy.deepcopy([r[:2], r[1:]])                   # siblings: their base is copied too
    ac.mul_(mg.tensor([10.0, 5.0], requires_grad=True))      # a recorded write through one
    assert bc.tolist() == [10.0, 3.0] and r.tolist() == [1.0, 2.0, 3.0]
    y = mg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
    with mg.no_grad():
        v = y[1:]
    for y_first in (True, False):       # a base with a graph copies as itself: no link to a copy
        pair = copy.deepcopy([y, v] if y_first else [v, y])  # it shares no memory with
        yc, vc = pair if y_first else pair[::-1]
        assert vc._base is not yc and vc.tolist() == [4.0, 6.0]


def test_setitem_drops_a_values_leading_ones_as_torch():
    x = mg.zeros(3)
    x[1] = mg.ones(1, 1) * 2
    assert x.tolist() == [0.0, 2.0, 0.0]
    w = mg.tensor([7.0], requires_grad=True)
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    a[1] = w * 2
    (a * mg.tensor([1.0, 5.0, 1.0])).sum().backward()
    assert a.tolist() == [1.0, 14.0, 3.0] and w.grad.tolist() == [10.0]
    with pytest.raises(ShapeError, match=r"shape \(3,\) does not fit the indexed part, of shape \(\)"):
        x[1] = mg.ones(3)
    with pytest.raises(ShapeError, match=r"x\[array\(3,\)\] = v: a value of shape \(3,\)"):
        x[np.array([True, False, True])] = mg.ones(3)


def test_linear_checks_only_what_its_needed_gradients_read_as_torch():
    import minigrad.nn.functional as F
    W = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = mg.tensor(np.ones((4, 3)))                            # dW reads x only: W may change
    out = F.linear(x, W).sum()
    with mg.no_grad():
        W.mul_(2)
    out.backward()
    np.testing.assert_array_equal(W.grad.data, np.full((2, 3), 4.0))
    x = mg.tensor(np.ones((4, 3)), requires_grad=True)        # dx reads W: caught
    out = F.linear(x, W).sum()
    with mg.no_grad():
        W.mul_(2)
    with pytest.raises(RuntimeError, match="input 1 of gate Linear"):
        out.backward()


@pytest.mark.parametrize("index", [1, slice(0, 2), [0, 2], "mask"])
def test_setitem_blocks_an_infinite_or_nan_gradient_where_the_value_went_as_torch(index):
    """The overwritten positions get +0 from an inf or NaN upstream gradient, as in PyTorch (a
    multiply by a 0/1 mask gave NaN there); their gradient went to the value."""
    torch = pytest.importorskip("torch")
    x0 = np.array([1.0, 2.0, 3.0, 4.0])
    idx = np.array([True, False, True, False]) if index == "mask" else index
    g = np.array([np.inf, np.nan, -np.inf, -2.0])
    x, t = mg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    v, tv = mg.tensor(5.0, dtype="float64", requires_grad=True), torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    z, tz = x * 1.0, t * 1.0
    z[idx] = v
    tz[torch.tensor(idx) if index == "mask" or isinstance(index, list) else idx] = tv
    with np.errstate(invalid="ignore"):                  # v's gradient sums inf and -inf: NaN, as torch
        z.backward(mg.tensor(g))
    tz.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy().view(np.uint64), t.grad.numpy().view(np.uint64))
    np.testing.assert_array_equal(v.grad.numpy(), tv.grad.numpy())


@pytest.mark.parametrize("op", ["mul3", "mul0", "relu", "fill", "copy"])
def test_a_write_through_a_view_passes_a_minus_zero_gradient_as_torch(op):
    """The base's gradient where the view goes is the view op's gradient, as PyTorch's CopySlices
    (the write's own gate gives -0 there, and -0 + a = a exactly; +0 turned a -0 into +0)."""
    torch = pytest.importorskip("torch")
    import minigrad.nn.functional as F
    ops = {"mul3": lambda v: v.mul_(3.0), "mul0": lambda v: v.mul_(0.0), "fill": lambda v: v.fill_(7.0),
           "relu": lambda v: F.relu(v, inplace=True), "copy": lambda v: v.copy_(v * 0.0 + 1.0)}
    tops = {"mul3": lambda v: v.mul_(3.0), "mul0": lambda v: v.mul_(0.0), "fill": lambda v: v.fill_(7.0),
            "relu": torch.relu_, "copy": lambda v: v.copy_(v.detach() * 0.0 + 1.0)}
    g = np.array([-0.0, -1.0, 1.0, -0.0])
    x, t = mg.tensor([1.0, -2.0, 3.0, 4.0], requires_grad=True), torch.tensor([1.0, -2.0, 3.0, 4.0], requires_grad=True)
    z, tz = x.clone(), t.clone()
    ops[op](z[:2])
    tops[op](tz[:2])
    z.backward(mg.tensor(g))
    tz.backward(torch.tensor(g))
    np.testing.assert_array_equal(z.detach().numpy(), tz.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy()[:2].view(np.uint64), t.grad.numpy()[:2].view(np.uint64))
