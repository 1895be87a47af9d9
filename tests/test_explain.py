"""minigrad.explain: saliency, occlusion, fooling images, class model images, max-activating examples,
checked on models whose answers are known in closed form."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
from minigrad.explain import class_model_image, fooling_image, max_activating, occlusion_map, saliency


def _linear_image_model(C, H, W, K, seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, K))


@given(n=st.integers(1, 4), c=st.integers(1, 3), hw=st.integers(2, 5), k=st.integers(2, 5), seed=st.integers(0, 99))
def test_saliency_of_a_linear_model_is_its_weight_row(n, c, hw, k, seed):
    model = _linear_image_model(c, hw, hw, k, seed)
    x = mg.randn(n, c, hw, hw)
    target = np.random.default_rng(seed).integers(0, k, size=n)
    s = saliency(model, x, target)
    W = model[1].weight.detach().numpy().reshape(k, c, hw, hw)
    expected = np.abs(W[target]).max(axis=1)                  # max over channels of |dS_y/dx|
    np.testing.assert_allclose(s.numpy(), expected, rtol=1e-6)
    assert model[1].weight.grad is None and model.training    # no parameter grads; mode restored


def test_saliency_of_flat_inputs_keeps_the_shape():
    model = nn.Linear(4, 3)
    s = saliency(model, mg.randn(2, 4), 1)
    np.testing.assert_allclose(s.numpy(), np.abs(model.weight.detach().numpy()[[1, 1]]), rtol=1e-6)
    with pytest.raises(ValueError, match="target class 7 out of range for 3 classes"):
        saliency(model, mg.randn(2, 4), 7)


def test_occlusion_map_matches_a_direct_loop():
    C, H, W, K, patch, stride = 2, 6, 5, 3, 2, 2
    model = _linear_image_model(C, H, W, K, seed=1)
    x = mg.randn(C, H, W)
    got = occlusion_map(model, x, target=2, patch=patch, stride=stride, fill=0.5, batch_size=4).numpy()
    img, ref = x.numpy(), []
    for i in range(0, H - patch + 1, stride):               # the definition, one position at a time
        row = []
        for j in range(0, W - patch + 1, stride):
            occ = img.copy()
            occ[:, i:i + patch, j:j + patch] = 0.5
            row.append(model(mg.tensor(occ[None])).softmax(-1).detach().numpy()[0, 2])
        ref.append(row)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, np.array(ref), rtol=1e-5)
    with pytest.raises(ValueError, match="patch 7 does not fit"):
        occlusion_map(model, x, 0, patch=7)


def test_occlusion_finds_the_pixel_the_model_looks_at():
    model = _linear_image_model(1, 4, 4, 2)
    with mg.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
        model[1].weight[0, 1 * 4 + 2] = 5.0                # class 0 looks only at pixel (1, 2)
    m = occlusion_map(model, mg.ones(1, 4, 4), target=0, patch=1).numpy()
    assert np.unravel_index(m.argmin(), m.shape) == (1, 2) and (np.delete(m.ravel(), 6) > 0.99).all()


def test_fooling_image_reaches_the_target_with_a_small_change():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    x = mg.randn(4, 1, 4, 4)
    pred = model(x).argmax(-1).numpy()
    target = (pred + 1) % 3
    target[0] = pred[0]                                     # already the target: left alone
    fooled = fooling_image(model, x, target, steps=200, lr=0.1)
    np.testing.assert_array_equal(model(fooled).argmax(-1).numpy(), target)
    np.testing.assert_array_equal(fooled.numpy()[0], x.numpy()[0])
    change = np.linalg.norm((fooled - x).numpy().reshape(4, -1), axis=1)
    assert (change[1:] > 0).all() and (change <= 200 * 0.1 + 1e-5).all()


def test_class_model_image_reaches_the_l2_regularised_optimum():
    # S(I) = w.I + b, objective S - lam*||I||^2: the optimum is I* = w / (2 lam)
    model = _linear_image_model(1, 3, 3, 2, seed=4)
    lam = 0.5
    img = class_model_image(model, 1, (1, 3, 3), steps=60, lr=0.5, l2_reg=lam)
    expected = model[1].weight.detach().numpy()[1].reshape(1, 3, 3) / (2 * lam)
    assert img.shape == (1, 3, 3)
    np.testing.assert_allclose(img.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_max_activating_on_features_and_channels():
    data = mg.tensor(np.random.default_rng(0).normal(size=(20, 3, 2, 2)).astype(np.float32))
    model = nn.Sequential(nn.Identity(), nn.Flatten())
    top = max_activating(model, "0", data, k=4)
    per_channel = data.numpy().reshape(20, 3, -1).max(-1)             # (N, C): a channel's strongest response
    assert top.indices.shape == (3, 4)
    np.testing.assert_array_equal(top.indices.numpy(), np.argsort(-per_channel.T, axis=1)[:, :4])
    np.testing.assert_allclose(top.values.numpy(), -np.sort(-per_channel.T, axis=1)[:, :4])
    one = max_activating(model, model[1], data, k=2, unit=5, batch_size=7)    # a flat feature
    np.testing.assert_array_equal(one.indices.numpy(), np.argsort(-data.numpy().reshape(20, -1)[:, 5])[:2])
    with pytest.raises(ValueError, match="k=21"):
        max_activating(model, "0", data, k=21)
