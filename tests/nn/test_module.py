"""Module, Parameter and the containers: registration, names, modes, state dicts, freezing, repr."""
import copy

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


class MLP(nn.Module):
    def __init__(self, sizes=(2, 4, 3)):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.bn = nn.BatchNorm1d(sizes[1])
        self.layers = nn.ModuleList([nn.Linear(sizes[1], sizes[1]), nn.Linear(sizes[1], sizes[2])])
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)

    def forward(self, x):
        x = F.relu(self.bn(self.fc1(x)))
        for layer in self.layers:
            x = layer(x)
        return x * self.scale


# ***** Parameter *****

def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(mg.randn(2, 3))
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not nn.Parameter(mg.randn(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    (p * 2).sum().backward()
    np.testing.assert_allclose(p.grad.detach().numpy(), np.full((2, 3), 2.0))


def test_parameter_shares_the_data_of_the_tensor_it_wraps():
    t = mg.zeros(3)
    p = nn.Parameter(t)
    t.data[0] = 5.0
    assert p.data[0] == 5.0


# ***** registration and names *****

def test_named_parameters_use_pytorch_module_paths_in_registration_order():
    m = MLP()
    assert [n for n, _ in m.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert [tuple(p.shape) for p in m.parameters()][:3] == [(1,), (4, 2), (4,)]
    assert m.get_parameter("layers.1.bias") is m.layers[1].bias
    # graph pictures name parameters by module path
    assert m.fc1.weight.name == "fc1.weight" and m.layers[0].bias.name == "layers.0.bias"


def test_names_match_a_torch_model_with_the_same_layout(torch):
    ours = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 3))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (n, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), n


def test_buffers_children_and_modules():
    m = MLP()
    assert [n for n, _ in m.named_buffers()] == [
        "steps", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "layers"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "bn", "layers", "layers.0", "layers.1"]
    assert list(m.children())[0] is m.fc1 and len(list(m.modules())) == 6
    # non-persistent buffers stay out of the state dict
    assert "cache" not in m.state_dict() and "steps" in m.state_dict()


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(3, 3)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]


def test_reassigning_and_deleting_attributes_updates_the_registry():
    m = MLP()
    m.fc1 = nn.Linear(2, 4, bias=False)
    assert "fc1.bias" not in dict(m.named_parameters())
    m.scale = None                                    # an absent parameter
    assert "scale" not in dict(m.named_parameters())
    del m.layers
    assert "layers" not in dict(m.named_children())
    with pytest.raises(AttributeError, match="has no attribute 'layers'"):
        m.layers
    m.plain = 3                                       # ordinary attributes still work
    assert m.plain == 3


def test_bad_assignments_are_clear_errors():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))          # before super().__init__()
    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Early()
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'.*nn.Parameter"):
        lin.weight = mg.ones(2, 2)
    with pytest.raises(KeyError, match="'.'"):
        lin.register_buffer("a.b", mg.ones(1))
    with pytest.raises(TypeError, match="buffer 'x'"):
        lin.register_buffer("x", np.ones(1))


def test_forward_missing_is_reported():
    class NoForward(nn.Module):
        pass
    with pytest.raises(NotImplementedError, match="NoForward.*forward"):
        NoForward()(mg.ones(1))


def test_forward_hooks_see_and_replace_outputs():
    lin = nn.Linear(2, 2)
    seen = []
    handle = lin.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out * 0.0)
    assert lin(mg.ones(3, 2)).detach().numpy().sum() == 0.0 and seen == [(3, 2)]
    handle.remove()
    assert lin(mg.ones(3, 2)).detach().numpy().any()


# ***** modes, gradients, freezing *****

def test_train_and_eval_propagate_to_every_descendant():
    m = MLP()
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="bool"):
        m.train("yes")


def test_zero_grad_sets_to_none_by_default_or_to_zeros():
    m = MLP()
    m(mg.randn(5, 2)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_freezing_with_requires_grad_false_stops_gradients_to_frozen_layers():
    m = MLP()
    m.fc1.requires_grad_(False)
    m(mg.randn(5, 2)).sum().backward()
    assert m.fc1.weight.grad is None and m.fc1.bias.grad is None
    assert m.layers[1].weight.grad is not None
    m.requires_grad_(True)
    assert all(p.requires_grad for p in m.parameters())


def test_apply_visits_children_before_parents():
    m = MLP()
    order = []
    assert m.apply(lambda mod: order.append(type(mod).__name__)) is m
    assert order == ["Linear", "BatchNorm1d", "Linear", "Linear", "ModuleList", "MLP"]


def test_to_casts_floating_parameters_and_buffers_but_not_counters():
    m = MLP()
    m(mg.randn(5, 2)).sum().backward()
    weight = m.fc1.weight
    m.double()
    assert m.fc1.weight is weight                     # the same Parameter objects, new storage
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m.bn.running_mean.dtype == np.float64 and m.bn.num_batches_tracked.dtype == np.int64
    assert m.fc1.weight.grad.dtype == np.float64
    assert m(mg.randn(5, 2, dtype="float64")).dtype == np.float64
    assert m.to(mg.float32).fc1.weight.dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        m.to(mg.int64)


def test_deepcopy_gives_an_independent_model():
    m = MLP()
    c = copy.deepcopy(m)
    assert isinstance(c.fc1.weight, nn.Parameter) and c.fc1.weight.requires_grad
    with mg.no_grad():
        c.fc1.weight.fill_(0.0)
    assert m.fc1.weight.detach().numpy().any()


# ***** state dict *****

def test_state_dict_round_trip_restores_outputs_exactly():
    a, b = MLP(), MLP()
    x = mg.randn(6, 2)
    a(x)                                              # move a's running statistics
    a.eval(), b.eval()
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert int(b.bn.num_batches_tracked.item()) == 1


def test_state_dict_values_are_detached_and_share_memory():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    with mg.no_grad():
        m.weight.fill_(3.0)
    assert sd["weight"].detach().numpy()[0, 0] == 3.0
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_state_dict_accepts_numpy_arrays_and_keeps_dtype():
    m = nn.Linear(2, 3)
    m.load_state_dict({"weight": np.arange(6.0).reshape(3, 2), "bias": np.zeros(3)})
    assert m.weight.dtype == np.float32 and m.weight.detach().numpy()[2, 1] == 5.0


def test_load_state_dict_errors_name_the_key_and_both_shapes():
    m = MLP()
    sd = m.state_dict()
    missing = {k: v for k, v in sd.items() if k != "fc1.bias"}
    with pytest.raises(RuntimeError, match='(?s)MLP.*missing key.*"fc1.bias"'):
        m.load_state_dict(missing)
    with pytest.raises(RuntimeError, match='unexpected key.*"fc9.weight"'):
        m.load_state_dict({**sd, "fc9.weight": mg.ones(1)})
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: the model expects shape \(4, 2\), "
                                           r"the state_dict has shape \(2, 4\)"):
        m.load_state_dict({**sd, "fc1.weight": mg.ones(2, 4)})
    # a failed load changes nothing
    before = m.fc1.bias.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        m.load_state_dict({**sd, "fc1.bias": mg.zeros(4), "fc1.weight": mg.ones(2, 4)})
    np.testing.assert_array_equal(m.fc1.bias.detach().numpy(), before)
    # strict=False reports instead of raising
    result = m.load_state_dict({**missing, "extra": mg.ones(1)}, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra"]


def test_loading_a_torch_state_dict_gives_torch_outputs(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.Tanh(),
                                 torch.nn.Linear(5, 2)).double()
    theirs(torch.randn(8, 3, dtype=torch.float64))    # non-trivial running statistics
    theirs.eval()
    ours = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2)).double().eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


@given(widths=st.lists(st.integers(1, 5), min_size=2, max_size=5))
def test_state_dict_round_trip_for_random_mlps(widths):
    def make():
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers)
    a, b = make(), make()
    names = [n for n, _ in a.named_parameters()]
    assert names == [f"{2 * i}.{kind}" for i in range(len(widths) - 1) for kind in ("weight", "bias")]
    assert sum(p.numel() for p in a.parameters()) == sum((i + 1) * o for i, o in zip(widths, widths[1:]))
    b.load_state_dict(a.state_dict())
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=n)


# ***** containers and repr *****

def test_sequential_indexing_slicing_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2]
    assert list(seq[1:]) == layers[1:] and isinstance(seq[1:], nn.Sequential)
    with pytest.raises(IndexError, match="index 3 is out of range for a Sequential of length 3"):
        seq[3]
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), layers[2](layers[1](layers[0](x))).detach().numpy())
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()][-1] == "3"
    named = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.Tanh()})
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]


def test_module_list_and_module_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2)).extend([nn.Linear(2, 2)])
    ml.insert(0, nn.ReLU())
    assert len(ml) == 4 and isinstance(ml[0], nn.ReLU) and ml[-1].out_features == 2
    assert [n for n, _ in ml.named_parameters()][:2] == ["1.weight", "1.bias"]
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 1)
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(list(md.parameters())) == 4


def test_repr_matches_pytorch(torch):
    def build(lib):
        return lib.Sequential(lib.Linear(2, 3), lib.BatchNorm1d(3), lib.ReLU(), lib.Dropout(0.2),
                              lib.LeakyReLU(0.1), lib.ELU(), lib.Flatten(), lib.Embedding(10, 3, padding_idx=0),
                              lib.Linear(3, 1, bias=False), lib.Softmax(dim=1), lib.Identity(),
                              lib.PReLU(), lib.Sigmoid(), lib.Tanh(), lib.BatchNorm2d(4, affine=False))
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
