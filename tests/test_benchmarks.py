"""Smoke test of the benchmark instrument on tiny sizes, minigrad only: every workload runs, and
minigrad's initial losses equal the hand-written NumPy reference's (so both do the same computation)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
TIMED = ("mlp", "convnet", "lstm", "overhead", "scalar")


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, BENCH)
    try:
        import impl_numpy
        import problems
        import run
    finally:
        sys.path.remove(BENCH)
    return run, problems, impl_numpy


@pytest.mark.parametrize("workload", TIMED)
def test_workload_matches_numpy_reference(bench, workload):
    run, problems, impl_numpy = bench
    r = run.worker("minigrad", workload, quick=True, repeat=2, min_time=0.0, threads=2)
    reference = float(getattr(impl_numpy, workload)(problems.PROBLEMS[workload](quick=True))())
    assert r["loss"] == pytest.approx(reference, rel=1e-4, abs=1e-5)
    assert len(r["all_ms"]) == 2 and r["ms"] > 0


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="peak RSS is read from Linux /proc")
def test_memory_parts(bench):
    run = bench[0]
    for part in ("memory-mlp", "memory-convnet"):
        assert run.worker("minigrad", part, True, 1, 0.0, 2)["peak_mib"] >= 0
    flat = run.worker("minigrad", "memory-flat", True, 1, 0.0, 2)
    assert abs(flat["growth_mib"]) < 8, f"RSS grew over {flat['steps']} train steps: {flat}"


def test_entry_point(tmp_path):
    """The driver: a worker subprocess per measurement, the table on stdout, the JSON file."""
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--libs", "minigrad",
                           "--only", "scalar", "--repeat", "1", "--min-time", "0", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (r,) = json.loads(out.read_text())["results"]
    assert r["lib"] == "minigrad" and r["workload"] == "scalar" and r["ms"] > 0
    assert "| scalar | minigrad |" in proc.stdout


def test_median_round_picks_the_middle_round_and_keeps_failures(bench):
    run = bench[0]
    rounds = [{"ms": 3.0, "loss": 1.0}, {"ms": 1.0, "loss": 1.0}, {"ms": 2.0, "loss": 1.0}]
    picked = run.median_round(rounds)
    assert picked["ms"] == 2.0 and picked["rounds_ms"] == [3.0, 1.0, 2.0]
    assert run.median_round([{"ms": 1.0}, {"error": "timed out"}]) == {"error": "timed out"}
    assert run.median_round([{"peak_mib": 4.0}]) == {"peak_mib": 4.0}


def test_paired_ratios_compare_round_by_round_and_show_in_the_table(bench):
    run = bench[0]
    # a slow spell in round 2 hits both libraries: round by round minigrad is 0.5x, 0.6x, 0.9x
    mine = {"lib": "minigrad", "workload": "mlp", "ms": 6.0, "cpu_ms": 6.0, "loss": 1.0, "rounds_ms": [5.0, 12.0, 9.0]}
    peer = {"lib": "torch", "workload": "mlp", "ms": 10.0, "cpu_ms": 10.0, "loss": 1.0, "rounds_ms": [10.0, 20.0, 10.0]}
    median, lo, hi = run.paired_ratios(mine, peer)
    assert (round(median, 6), round(lo, 6), round(hi, 6)) == (0.6, 0.5, 0.9)
    assert run.paired_ratios(mine, {"rounds_ms": [1.0, 2.0]}) is None          # rounds do not match
    assert run.paired_ratios({"rounds_ms": [1.0]}, {"rounds_ms": [2.0]}) is None  # one round: nothing to pair
    even = run.paired_ratios({"rounds_ms": [1.0, 3.0]}, {"rounds_ms": [1.0, 1.0]})
    assert even[0] == 2.0                                                      # mean of the middle two
    table = run.format_tables([mine, peer], ["mlp"], ["torch", "minigrad"], [])
    assert "| workload | vs torch |" in table and "| mlp | 0.60x (0.50-0.90) |" in table
    assert "round by round" not in run.format_tables([dict(mine, rounds_ms=None), peer], ["mlp"],
                                                      ["torch", "minigrad"], [])
