"""Smoke test of the benchmark instrument on tiny sizes, minigrad only: every workload runs, and
minigrad's initial losses equal the hand-written NumPy reference's (so both do the same computation)."""
import argparse
import collections
import io
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
    """The driver: a server process per library taking turns, the tables on stdout, the JSON file."""
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--libs", "numpy,minigrad",
                           "--only", "scalar", "--repeat", "2", "--min-time", "0", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    numpy_r, mine = json.loads(out.read_text())["results"]
    assert mine["lib"] == "minigrad" and mine["workload"] == "scalar" and len(mine["all_ms"]) == 2
    assert numpy_r["lib"] == "numpy" and len(numpy_r["all_ms"]) == 2
    assert "| scalar | minigrad |" in proc.stdout and "turn by turn" in proc.stdout
    assert "| scalar | " in proc.stdout.split("turn by turn")[1]             # the paired row
    assert proc.stderr.count("scalar    turn") == 2


def test_repeat_must_be_positive_and_memory_alone_has_no_timed_table(bench, capsys):
    run = bench[0]
    with pytest.raises(SystemExit):
        run.main(["--repeat", "0"])
    assert "--repeat must be at least 1" in capsys.readouterr().err
    table = run.format_tables([], ["memory"], ["minigrad"], [])
    assert table.startswith("| library | mlp peak MiB") and "ms / iter" not in table


def test_serve_answers_one_timed_repeat_per_request(bench):
    run, problems, impl_numpy = bench
    out = io.StringIO()
    run.serve("minigrad", "overhead", True, 0.0, 2, inp=io.StringIO("run\nrun\nquit\nrun\n"), out=out)
    ready, *repeats = [json.loads(line) for line in out.getvalue().splitlines()]
    reference = float(impl_numpy.overhead(problems.PROBLEMS["overhead"](quick=True))())
    assert ready["loss"] == pytest.approx(reference, rel=1e-4) and ready["iters"] >= 1
    assert ready["ops"] == problems.sizes("overhead", True)["ops"]
    assert len(repeats) == 2 and all(r["ms"] > 0 and r["cpu_ms"] >= 0 for r in repeats)   # stops at quit


@pytest.mark.parametrize("n", range(1, 8))
def test_turn_orders_are_balanced(bench, n):
    """Over one cycle of turns (n for an even number of libraries, 2n for an odd one) every library
    takes every place equally often and, within the turns, runs right after each other library
    equally often (a Williams design): a library that slows the next one down, or speeds it up,
    does so to all. Across the joins of turns, an odd number never runs one after itself."""
    run = bench[0]
    libs = [f"lib{i}" for i in range(n)]
    cycle = n if n % 2 == 0 else 2 * n
    orders = [run.turn_order(libs, t) for t in range(cycle)]
    assert all(sorted(o) == libs for o in orders)
    places = collections.Counter((lib, place) for o in orders for place, lib in enumerate(o))
    assert set(places.values()) == {cycle // n} and len(places) == n * n
    follows = collections.Counter(pair for o in orders for pair in zip(o, o[1:]))
    if n > 1:
        assert len(follows) == n * (n - 1) and set(follows.values()) == {cycle // n}
    assert run.turn_order(libs, cycle) == orders[0]                # the cycle repeats
    assert run.turn_order([], 3) == []
    joins = collections.Counter((a[-1], b[0]) for a, b in zip(orders, orders[1:] + orders[:1]))
    if n % 2 and n > 1:                                            # across turns: never after itself
        assert all(a != b for a, b in joins)
    if n == 3:                                                     # and for three, joins balanced too
        assert set((follows + joins).values()) == {3} and len(follows + joins) == 6


def test_turns_time_every_library_and_report_a_failing_one(bench, tmp_path):
    """Servers taking turns; a library whose process dies gets an error row, the others go on."""
    run = bench[0]
    args = argparse.Namespace(quick=True, min_time=0.0, threads=1, timeout=120, repeat=3, pause=0.0)
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        results = run.timed_in_turns("scalar", ["minigrad", "numpy", "nosuchlib"], args, log=f)
    mine, numpy_r, bad = results
    assert len(mine["all_ms"]) == len(numpy_r["all_ms"]) == 3
    assert mine["loss"] == pytest.approx(numpy_r["loss"], rel=1e-5)
    assert bad["lib"] == "nosuchlib" and "impl_nosuchlib" in bad["error"]
    assert log.read_text().count("turn ") == 3


def _fake_lib(name, body, loss):
    """The text of a benchmark implementation ``impl_<name>`` whose scalar step runs ``body``
    (indented under ``def step():``, with ``calls[0]`` counting the calls) and returns ``loss``."""
    return (f"import os, sys, time\nNAME = {name!r}\ncalls = [0]\ndef version():\n    return '0'\n"
            f"def scalar(p):\n    def step():\n        calls[0] += 1\n{body}        return {loss}\n    return step\n")


# (calls 1-4 are the first step, two warm-ups and the calibration; call 5 is the first timed repeat)
FAKE_LIBS = {
    # prints to stdout from Python and from the OS level, JSON-like lines and a line left open: none
    # of it may be taken for a reply
    "chatty": ("""        print({"ms": -1})
        print('{"ms": -1, "cpu_ms": -1}')
        print(".", end="", flush=True)
        os.write(1, b"raw bytes on fd 1, no newline")
""", 1.0),
    # dies during its second timed repeat: an error row, and the other libraries go on
    "dies": ("""        if calls[0] > 5:
            print("dies: giving up", file=sys.stderr, flush=True)
            os._exit(3)
""", 2.0),
    # hangs in its first timed repeat: killed at the timeout, the others go on
    "hangs": ("""        if calls[0] > 4:
            time.sleep(600)
""", 3.0),
}


def test_servers_ignore_library_output_and_report_a_library_that_dies_or_hangs(bench, tmp_path, monkeypatch):
    run = bench[0]
    for name, (body, loss) in FAKE_LIBS.items():
        (tmp_path / f"impl_{name}.py").write_text(_fake_lib(name, body, loss))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    args = argparse.Namespace(quick=True, min_time=0.0, threads=1, timeout=15, repeat=3, pause=0.0)
    with open(tmp_path / "log.txt", "w") as log:
        chatty, dies, hangs, mine = run.timed_in_turns("scalar", ["chatty", "dies", "hangs", "minigrad"],
                                                       args, log=log)
    assert chatty["loss"] == 1.0 and len(chatty["all_ms"]) == 3 and min(chatty["all_ms"]) > 0
    assert dies["error"] == "dies: giving up"
    assert hangs["error"].startswith("timed out after 15 s")
    assert len(mine["all_ms"]) == 3
    log_text = (tmp_path / "log.txt").read_text()
    assert "turn 1/3: chatty" in log_text and "dies" in log_text.splitlines()[0]   # it ran turn 1


def test_every_repeat_gets_the_rest_before_it(bench, tmp_path, monkeypatch):
    run = bench[0]
    slept = []
    monkeypatch.setattr(run, "_rest", slept.append)
    args = argparse.Namespace(quick=True, min_time=0.0, threads=1, timeout=60, repeat=2, pause=0.125)
    with open(tmp_path / "log.txt", "w") as log:
        run.timed_in_turns("scalar", ["minigrad", "numpy"], args, log=log)
    assert slept == [0.125] * 4


def test_paired_ratios_compare_turn_by_turn_and_show_in_the_table(bench):
    run = bench[0]
    # a slow spell in turn 2 hits both libraries: turn by turn minigrad is 0.5x, 0.6x, 0.9x
    mine = {"lib": "minigrad", "workload": "mlp", "ms": 6.0, "cpu_ms": 6.0, "loss": 1.0, "all_ms": [5.0, 12.0, 9.0]}
    peer = {"lib": "torch", "workload": "mlp", "ms": 10.0, "cpu_ms": 10.0, "loss": 1.0, "all_ms": [10.0, 20.0, 10.0]}
    median, lo, hi = run.paired_ratios(mine, peer)
    assert (round(median, 6), round(lo, 6), round(hi, 6)) == (0.6, 0.55, 0.75)    # interpolated quartiles
    assert run.paired_ratios(mine, {"all_ms": [1.0, 2.0]}) is None          # turns do not match
    assert run.paired_ratios({"all_ms": [1.0]}, {"all_ms": [2.0]}) is None  # one turn: nothing to pair
    even = run.paired_ratios({"all_ms": [1.0, 3.0]}, {"all_ms": [1.0, 1.0]})
    assert even[0] == 2.0                                                    # mean of the middle two
    # nine turns: the quartiles are the 3rd and 7th ratios, not the extremes
    nine = run.paired_ratios({"all_ms": [float(k) for k in range(9, 0, -1)]}, {"all_ms": [1.0] * 9})
    assert nine == (5.0, 3.0, 7.0)
    table = run.format_tables([mine, peer], ["mlp"], ["torch", "minigrad"], [])
    assert "| workload | vs torch |" in table and "| mlp | 0.60x (0.55-0.75) |" in table
    assert "turn by turn" not in run.format_tables([dict(mine, all_ms=None), peer], ["mlp"],
                                                    ["torch", "minigrad"], [])
