"""Every example runs in --quick mode; we assert on what it produced. The full-size numbers the
README quotes are checked by the tests marked slow (python -m pytest -m slow)."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def _example(name):
    """Import examples/<name>.py as a module (examples import each other, so put them on the path)."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _needs(*modules):
    """Skip unless each module is installed (found, not imported: scikit-learn takes seconds to load)."""
    for m in modules:
        if importlib.util.find_spec(m) is None:
            pytest.skip(f"needs {m}")


def _png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000


def test_spiral_quick(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    r = _example("spiral").main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "iteration 190: loss 0.786" in out                  # the notes' loss curve, to 3 decimals
    assert r["linear_acc"] == pytest.approx(0.49, abs=0.02)     # the notes: 49%
    assert r["net_acc"] > 0.85                                   # 1,000 of the notes' 10,000 steps
    assert all(_png(p) for p in r["plots"]) and len(r["plots"]) == 2


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The README's main command in --quick mode, run once as a script; its output folder."""
    _needs("sklearn", "matplotlib")
    out = tmp_path_factory.mktemp("digits")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "digits_convnet.py"), "--quick", "--quiet",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "test acc" in proc.stdout
    return out


def test_digits_convnet_quick_as_the_readme_runs_it(digits_run):
    with open(digits_run / "digits_result.json") as f:
        r = json.load(f)
    assert r["test_acc"] > 0.3 and r["epochs"] == 2             # chance is 0.1
    assert all(_png(p) for p in r["plots"]) and len(r["plots"]) == 4
    assert os.path.getsize(r["model"]) > 0 and os.path.getsize(r["graph"]) > 0
    assert "_val0." in os.path.basename(r["checkpoint"]) and os.path.isfile(r["checkpoint"])


def test_saliency_and_fooling_quick(digits_run, tmp_path):
    r = _example("saliency_and_fooling").main(["--quick", "--count", "3", "--out", str(tmp_path),
                                               "--model", str(digits_run / "digits_convnet.npz")])
    assert r["fooling_success"] > 0.5
    assert all(_png(p) for p in r["plots"]) and len(r["plots"]) == 4


def test_transfer_quick(capsys):
    _needs("sklearn")
    r = _example("transfer").main(["--quick"])
    out = capsys.readouterr().out
    assert r["pretrain_acc"] > 0.4                              # 5 classes: chance 0.2
    row = r["table"][10]
    for method in ("fixed feature extractor", "fine-tuning (features at lr/10)", "from scratch",
                   "untrained net's codes"):
        assert 0.2 < row[method]["mean"] <= 1.0 and len(row[method]["runs"]) == 1
        assert f"{method:<34} {row[method]['mean']:.3f} +- 0.000" in out
    assert row["verdict"] == "one seed: no spread to judge the difference by" and "block " in out


def test_char_rnn_quick(tmp_path):
    r = _example("char_rnn").main(["--quick", "--out", str(tmp_path)])
    assert r["first_loss"] == pytest.approx(r["chance_loss"], abs=0.3)   # starts at a uniform guess
    assert r["final_loss"] < r["first_loss"] - 0.5                       # and learns
    assert os.path.getsize(r["samples_file"]) > 0 and all(len(s) > 10 for s in r["samples"])


def test_hyperparam_search_quick(tmp_path):
    r = _example("hyperparam_search").main(["--quick", "--out", str(tmp_path)])
    assert r["trials"] == 9 and r["best_score"] > 0.45          # chance is 1/3
    with open(r["table"]) as f:
        assert len(f.read().splitlines()) == 2 + 9


def test_gradient_check_walkthrough():
    r = _example("gradient_check").main(["--quick"])
    assert r["centered_beats_one_sided"]
    assert r["rel_error_float64"] < 1e-5 < r["rel_error_float32"]
    assert r["net_ok"] and r["net_rel_error"] < 1e-5
    assert r["naive_fails"] and r["kink_flagged"] == [[0]] and r["kink_passed"]


@pytest.mark.slow
def test_full_size_numbers(tmp_path):
    """The numbers the README states: spiral 49% / 98%, digits ConvNet >= 97% test accuracy."""
    _needs("sklearn")
    s = _example("spiral").main(["--no-plots", "--out", str(tmp_path)])
    assert s["linear_acc"] == pytest.approx(0.49, abs=0.02) and s["net_acc"] >= 0.97
    d = _example("digits_convnet").main(["--quiet", "--out", str(tmp_path)])
    assert d["test_acc"] >= 0.97
