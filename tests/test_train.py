"""minigrad.train: Trainer (history, best model, checkpoints, early stopping, exact resume),
babysitting statistics, plots and random search."""
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import DataLoader, TensorDataset, make_spiral, train_val_split
from minigrad.train import (BorderWarning, Choice, History, LogUniform, Trainer, Uniform, layer_stats,
                            plot_activation_histograms, plot_decision_boundary, plot_filters, plot_history,
                            plot_update_ratios, random_search, update_ratios)


def _spiral_loaders(seed=0, batch=30):
    X, y = make_spiral(N=40, seed=seed)
    Xtr, Xva, ytr, yva = train_val_split(X.astype(np.float32), y, val_size=0.25, seed=seed)
    return (DataLoader(TensorDataset(Xtr, ytr), batch, shuffle=True, seed=seed),
            DataLoader(TensorDataset(Xva, yva), 100))


def _mlp(dropout=0.0):
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 3))


def test_trainer_learns_and_records_history():
    mg.manual_seed(0)
    train, val = _spiral_loaders(batch=10)
    model = _mlp()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.03), progress=False, ratio_every=2)
    h = trainer.fit(train, val, epochs=10)
    assert len(h.loss) == 10 * len(train) == 90 and h.epoch_end_iter == [9 * e for e in range(1, 11)]
    assert len(h.train_acc) == len(h.val_acc) == len(h.val_loss) == len(h.lr) == len(h.layer_stats) == 10
    assert h.loss[0] == pytest.approx(math.log(3), abs=0.15)        # the notes' loss at chance
    assert max(h.val_acc) > 0.6 and max(h.train_acc) > 0.6            # chance is 1/3
    assert h.ratio_iters == list(range(0, 90, 2))
    assert set(h.update_ratios) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert all(len(r) == len(h.ratio_iters) and all(v > 0 for v in r) for r in h.update_ratios.values())
    assert set(h.layer_stats[-1]) == {"0", "1", "2", "3"} and "grad_std" in h.layer_stats[-1]["0"]
    # the best weights are restored: evaluating now gives the best validation accuracy
    assert trainer.accuracy(val) == pytest.approx(h.best_val_acc) == max(h.val_acc)
    assert h.best_epoch == 1 + int(np.argmax(h.val_acc))


def test_update_ratio_is_the_notes_formula():
    w = nn.Parameter(mg.tensor([[3.0, 4.0]], dtype="float64"))
    before = {"w": w.data.copy()}
    w.grad = mg.tensor([[1.0, 0.0]], dtype="float64")
    optim.SGD([w], lr=1e-3).step()
    # param_scale = ||W|| = 5, update_scale = ||-lr * dW|| = 1e-3
    assert update_ratios(before, {"w": w})["w"] == pytest.approx(1e-3 / 5)


def test_layer_stats_activations_gradients_and_dead_relus():
    lin = nn.Linear(3, 4)
    with mg.no_grad():
        lin.weight.copy_(mg.tensor(np.eye(4, 3)))
        lin.bias.copy_(mg.tensor([0.0, 0.0, -100.0, -100.0]))     # units 2 and 3 never fire
    model = nn.Sequential(lin, nn.ReLU())
    x = mg.tensor(np.random.default_rng(0).uniform(0.5, 1.0, size=(5, 3)))
    lin.weight.grad = mg.ones(4, 3)                                 # must survive
    stats, samples = layer_stats(model, x, mg.zeros(5), lambda out, y: (out * 2.0).sum())
    a = np.maximum(x.numpy() @ np.eye(4, 3).T + [0, 0, -100, -100], 0)
    assert stats["1"]["dead_frac"] == 0.5 and stats["1"]["act_zero_frac"] == pytest.approx(0.5)
    assert stats["1"]["act_mean"] == pytest.approx(a.mean()) and stats["1"]["act_std"] == pytest.approx(a.std())
    assert stats["0"]["dead_frac"] == 0.0
    # dLoss/dOutput of the ReLU is 2 everywhere; of the Linear 2 where the unit fired, else 0
    assert stats["1"]["grad_mean"] == pytest.approx(2.0) and stats["1"]["grad_std"] == pytest.approx(0.0)
    assert stats["0"]["grad_mean"] == pytest.approx(1.0)
    assert len(samples["1"]) == 20
    np.testing.assert_array_equal(lin.weight.grad.numpy(), np.ones((4, 3)))


def test_checkpoints_carry_val_accuracy_and_early_stopping(tmp_path):
    mg.manual_seed(0)
    train, val = _spiral_loaders()
    model = _mlp()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), checkpoint_dir=str(tmp_path),
                      patience=2, progress=False, track_layers=False)
    h = trainer.fit(train, val, epochs=10)
    assert h.stopped_early and h.epochs == 3 and h.best_epoch == 1      # lr 0: nothing improves
    names = sorted(os.listdir(tmp_path))
    assert names == [f"epoch{e:03d}_val{h.val_acc[e - 1]:.4f}.npz" for e in (1, 2, 3)]
    again = Trainer(_mlp(), optim.SGD(_mlp().parameters(), lr=0.0), checkpoint_dir=str(tmp_path), progress=False)
    assert again.fit(train, val, epochs=10, resume="latest").epochs == 3    # a stopped run stays stopped


class _Crash(Exception):
    pass


def _resumable_run(ckpt, epochs, crash_at=None, resume=None):
    mg.manual_seed(123)
    train, val = _spiral_loaders(seed=1, batch=16)
    model = _mlp(dropout=0.3)                                # dropout draws from the global generator
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    calls = [0]

    def loss_fn(scores, y):
        calls[0] += 1
        if crash_at is not None and calls[0] == crash_at:
            raise _Crash()
        return nn.functional.cross_entropy(scores, y)

    trainer = Trainer(model, opt, loss_fn, sched, checkpoint_dir=ckpt, progress=False, ratio_every=3)
    if resume is not None:
        mg.randn(5)                     # the global generator has moved on since the crash
    h = trainer.fit(train, val, epochs=epochs, resume=resume)
    return model, opt, h


def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path):
    model_a, opt_a, h_a = _resumable_run(str(tmp_path / "a"), epochs=4)
    crash_dir = str(tmp_path / "b")
    per_epoch = 8 + 1 + 1             # 8 training batches, one train-eval batch, one val batch
    with pytest.raises(_Crash):       # dies in the middle of epoch 3
        _resumable_run(crash_dir, epochs=4, crash_at=2 * per_epoch + 4)
    assert len(os.listdir(crash_dir)) == 2
    model_b, opt_b, h_b = _resumable_run(crash_dir, epochs=4, resume="latest")
    assert h_b.loss == h_a.loss and h_b.val_acc == h_a.val_acc and h_b.lr == h_a.lr
    assert h_b.update_ratios == h_a.update_ratios
    for (k, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    for i in sa:
        np.testing.assert_array_equal(sa[i]["exp_avg"].numpy(), sb[i]["exp_avg"].numpy())


def test_diverging_loss_is_a_clear_error():
    train, _ = _spiral_loaders()
    model = _mlp()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), lambda s, y: s.sum() * float("nan"),
                      progress=False)
    with pytest.raises(FloatingPointError, match="loss is nan at iteration 0"):
        trainer.fit(train, epochs=1)


def test_progress_quiet_and_lines(capsys):
    train, val = _spiral_loaders()
    model = _mlp()
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress=False, track_layers=False).fit(train, val, 2)
    assert capsys.readouterr().out == ""
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress="auto", track_layers=False).fit(train, val, 1)
    out = capsys.readouterr()
    assert "epoch 1/1: loss" in out.out + out.err and "val acc" in out.out + out.err


def test_history_json_roundtrip(tmp_path):
    h = History(loss=[1.0, 0.5], train_acc=[0.5], val_acc=[0.4], update_ratios={"w": [1e-3]}, best_epoch=1)
    h.save_json(str(tmp_path / "h.json"))
    assert History.load_json(str(tmp_path / "h.json")) == h


# ***** plots *****

def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    mg.manual_seed(0)
    train, val = _spiral_loaders()
    model = _mlp()
    h = Trainer(model, optim.Adam(model.parameters(), lr=0.03), progress=False).fit(train, val, 2)
    paths = [plot_history(h, str(tmp_path / "h.png")), plot_update_ratios(h, str(tmp_path / "r.png")),
             plot_activation_histograms(h.activation_samples, str(tmp_path / "a.png"), h.layer_stats[-1]),
             plot_filters(mg.randn(6, 1, 3, 3), str(tmp_path / "f.png")),
             plot_decision_boundary(lambda p: (p[:, 0] > 0).astype(int), *make_spiral(N=20, seed=0),
                                    str(tmp_path / "d.png"))]
    assert all(_is_png(p) for p in paths)
    with pytest.raises(ValueError, match=r"\(F, C, kH, kW\).*\(3, 3\)"):
        plot_filters(mg.randn(3, 3), str(tmp_path / "bad.png"))


def test_filter_grid_layout():
    from minigrad.train.plots import _grid
    w = np.stack([np.full((1, 2, 2), k, float) for k in range(5)])
    w[:, 0, 0, 0] = -1                               # each tile scaled to [0, 1] on its own
    g = _grid(w)
    assert g.shape == (2 * 3, 3 * 3)                 # 5 filters -> 2 rows x 3 columns of (2+1)-pixel tiles
    assert g[0, 0] == 0 and g[1, 1] == 1 and g[0, 2] == 1     # tile 0 and the padding
    assert g[3, 3] == 0 and g[4, 4] == 1             # tile 4 (row 1, column 1)


# ***** random search *****

@given(low=st.floats(-8, 0), width=st.floats(0.5, 6), seed=st.integers(0, 1000))
def test_log_uniform_samples_on_a_log_scale(low, width, seed):
    dist = LogUniform(10 ** low, 10 ** (low + width))
    rng = np.random.default_rng(seed)
    v = np.array([dist.sample(rng) for _ in range(400)])
    assert (v >= dist.low * (1 - 1e-9)).all() and (v <= dist.high * (1 + 1e-9)).all()
    # log10 of the samples is uniform: its mean sits at the midpoint of the exponents
    assert np.log10(v).mean() == pytest.approx(low + width / 2, abs=0.15 * width)


def test_random_search_coarse_to_fine_and_table():
    def objective(p, stage):
        return -(math.log10(p["lr"]) + 3) ** 2 - (p["dropout"] - 0.5) ** 2 + (0.1 if p["act"] == "relu" else 0)

    space = {"lr": LogUniform(1e-6, 1e0), "dropout": Uniform(0, 1), "act": Choice(["relu", "tanh"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error", BorderWarning)
        res = random_search(space, [30, 20], objective, seed=0)
    scores = [r["score"] for r in res.results]
    assert scores == sorted(scores, reverse=True) and len(scores) == 50
    fine = res.stage_spaces[1]["lr"]
    assert 1e-6 <= fine.low < 1e-3 < fine.high <= 1.0 and fine.high / fine.low < 1e6   # narrowed around 1e-3
    assert 10 ** -3.5 < res.best["params"]["lr"] < 10 ** -2.5 and res.best["stage"] in (0, 1)
    table = res.table(top=3).splitlines()
    assert "score" in table[0] and "lr" in table[0] and len(table) == 5


def test_border_warning_names_the_parameter():
    space = {"lr": LogUniform(1e-6, 1e-3), "reg": LogUniform(1e-5, 1e1)}
    with pytest.warns(BorderWarning, match=r"best lr=.*high border of its range LogUniform\(1e-06, 0.001\)"):
        random_search(space, 60, lambda p, s: 10 * math.log10(p["lr"]) - (math.log10(p["reg"]) + 2) ** 2, seed=1)


def test_diverged_trials_rank_last():
    res = random_search({"lr": LogUniform(1e-3, 1)}, 6,
                        lambda p, s: float("nan") if p["lr"] > 0.05 else p["lr"], seed=3)
    finite = [r for r in res.results if math.isfinite(r["score"])]
    assert res.results[:len(finite)] == finite and res.results[-1]["score"] == -math.inf
