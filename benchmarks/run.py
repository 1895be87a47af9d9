"""Benchmark minigrad against PyTorch, Chainer, MyGrad and hand-written NumPy.

    python benchmarks/run.py                       # every workload, every installed library
    python benchmarks/run.py --only mlp --repeat 7 --json results.json
    python benchmarks/run.py --quick --libs minigrad   # tiny sizes: a smoke test of the code paths

Each (workload, library) pair runs in its own process with the same number of BLAS threads
(OMP/OPENBLAS/MKL_NUM_THREADS and torch.set_num_threads), a warm-up, then ``--repeat`` timed
repeats of enough iterations to last ``--min-time`` seconds each; the table shows the median
milliseconds per iteration, the ratio to PyTorch and to the hand-written NumPy version, and each
library's initial loss (equal losses show that all run the same computation). Peers that are not
installed are skipped with a note (``pip install minigrad[bench]`` installs them).
"""
import argparse
import datetime
import gc
import importlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORKLOADS = ["mlp", "convnet", "lstm", "overhead", "scalar", "memory"]
LIBS = ["numpy", "torch", "minigrad", "chainer", "mygrad"]
PACKAGES = {"numpy": "numpy", "torch": "torch", "minigrad": "minigrad", "chainer": "chainer", "mygrad": "mygrad"}
INSTALL = {"torch": "pip install torch==2.13.0", "chainer": "pip install chainer", "mygrad": "pip install mygrad"}
MEMORY_PARTS = ["memory-mlp", "memory-convnet", "memory-flat"]
MIB = 1024 * 1024


# ***** the worker: one workload, one library, one process *****

def _status_kib(field):
    """A field of /proc/self/status in KiB (VmRSS: resident now; VmHWM: the peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _trim_heap():
    # NOTE: glibc keeps freed memory (e.g. the layers' initial weights, replaced by the problem's) for
    # reuse; hand it back first, or a library's steps could run "for free" in the setup's leftovers
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak():
    # NOTE: writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the peak of
    # one phase is measured without the import and setup transients before it
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _time_steps(step, repeat, min_time):
    """Median wall-clock ms per iteration over ``repeat`` repeats (after a warm-up), every repeat's
    value, the iterations per repeat, and the median CPU ms per iteration (all threads of the process:
    close to the wall time on a quiet machine, far below it when other processes take the cores)."""
    for _ in range(2):                                  # warm-up: caches, allocator pools, BLAS
        step()
    t0 = time.perf_counter()
    step()
    one = time.perf_counter() - t0
    iters = max(1, min(10_000, int(min_time / max(one, 1e-7))))
    per_iter, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            step()
        per_iter.append((time.perf_counter() - t0) / iters * 1e3)
        cpu.append((time.process_time() - c0) / iters * 1e3)
    return statistics.median(per_iter), per_iter, iters, statistics.median(cpu)


def worker(lib, workload, quick, repeat, min_time, threads):
    """Run one measurement in this process and return its result as a dict."""
    sys.path.insert(0, HERE)
    import problems
    mod = importlib.import_module(f"impl_{lib}")
    if hasattr(mod, "setup"):
        mod.setup(threads)
    result = {"lib": lib, "workload": workload, "version": mod.version()}
    if workload in PROBLEMS_TIMED:
        problem = problems.PROBLEMS[workload](quick)
        step = getattr(mod, workload)(problem)
        result["loss"] = float(step())                   # the first step's loss: before any update
        result["ms"], result["all_ms"], result["iters"], result["cpu_ms"] = _time_steps(step, repeat, min_time)
        if workload == "overhead":
            result["us_per_op"] = result["ms"] * 1e3 / problem["ops"]
        return result
    sizes = problems.sizes("memory", quick)
    if workload in ("memory-mlp", "memory-convnet"):
        name = workload.split("-")[1]
        step = getattr(mod, name)(problems.PROBLEMS[name](quick))
        gc.collect()
        _trim_heap()
        base = _status_kib("VmRSS")
        _reset_peak()
        for _ in range(sizes["peak_steps"]):
            step()
        result["peak_mib"] = (_status_kib("VmHWM") - base) / 1024
        result["steps"] = sizes["peak_steps"]
        return result
    if workload == "memory-flat":
        step = mod.mlp(problems.mlp(size=sizes["small"]))
        n = sizes["flat_steps"]
        marks = {n // 10: "rss_10pct_mib", n // 2: "rss_50pct_mib", n: "rss_end_mib"}
        for i in range(1, n + 1):
            step()
            if i in marks:
                result[marks[i]] = _status_kib("VmRSS") / 1024
        result["growth_mib"] = result["rss_end_mib"] - result["rss_10pct_mib"]
        result["steps"] = n
        return result
    raise ValueError(f"unknown workload {workload!r}")


PROBLEMS_TIMED = ["mlp", "convnet", "lstm", "overhead", "scalar"]


# ***** the driver: one subprocess per measurement, then the tables *****

def _env(threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")   # this checkout's minigrad
    env["CHAINER_WARN_VERSION_MISMATCH"] = "0"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _spawn(lib, workload, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, workload, "--repeat", str(args.repeat),
           "--min-time", str(args.min_time), "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    try:
        proc = subprocess.run(cmd, env=_env(args.threads), capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"lib": lib, "workload": workload, "error": f"timed out after {args.timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"lib": lib, "workload": workload, "error": err[:200]}


def median_round(runs):
    """One measurement from the rounds of one (library, workload): the round with the median ms
    (the upper one of an even count), with every round's ms kept as ``rounds_ms``; the first failure
    if any round failed."""
    failed = [r for r in runs if "error" in r]
    if failed or "ms" not in runs[0]:
        return failed[0] if failed else runs[0]
    ordered = sorted(runs, key=lambda r: r["ms"])
    return dict(ordered[len(ordered) // 2], rounds_ms=[r["ms"] for r in runs])


def paired_ratios(mine, ref):
    """minigrad's ms over a peer's, round by round (they ran back to back in each round): the
    median, min and max of those ratios, or None without two or more rounds of both."""
    a, b = mine.get("rounds_ms"), ref.get("rounds_ms")
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    ratios = sorted(x / y for x, y in zip(a, b))
    mid = len(ratios) // 2
    median = ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
    return median, ratios[0], ratios[-1]


def _installed(lib):
    if lib == "minigrad":                    # this checkout's, put on the workers' path by _env
        return os.path.isdir(os.path.join(ROOT, "minigrad"))
    return importlib.util.find_spec(PACKAGES[lib]) is not None


def _ratio(x, ref):
    return f"{x / ref:.2f}x" if x is not None and ref else "-"


def _fmt_ms(ms):
    return f"{ms:.3f}" if ms < 1 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def format_tables(results, workloads, libs, skipped):
    """Markdown tables (one for the timed workloads, one for memory) from the measurements."""
    by = {(r["lib"], r["workload"]): r for r in results}
    lines = ["| workload | library | ms / iter | vs torch | vs numpy | cpu ms | initial loss | note |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for w in workloads:
        if w == "memory":
            continue
        ref_t = by.get(("torch", w), {}).get("ms")
        ref_n = by.get(("numpy", w), {}).get("ms")
        for lib in libs:
            r = by.get((lib, w))
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {w} | {lib} | - | - | - | - | - | failed: {r['error']} |")
                continue
            note = f"{r['us_per_op']:.1f} us/op" if "us_per_op" in r else ""
            lines.append(f"| {w} | {lib} | {_fmt_ms(r['ms'])} | {_ratio(r['ms'], ref_t)} | "
                         f"{_ratio(r['ms'], ref_n)} | {_fmt_ms(r['cpu_ms'])} | {r['loss']:.6g} | {note} |")
    paired = []
    for w in workloads:
        mine = by.get(("minigrad", w), {})
        cells = []
        for lib in libs:
            if lib == "minigrad":
                continue
            p = paired_ratios(mine, by.get((lib, w), {}))
            cells.append(f"{p[0]:.2f}x ({p[1]:.2f}-{p[2]:.2f})" if p else "-")
        if any(c != "-" for c in cells):
            paired.append(f"| {w} | " + " | ".join(cells) + " |")
    if paired:
        peers = [lib for lib in libs if lib != "minigrad"]
        lines += ["", "minigrad against each peer, round by round (median ratio, and min-max over the rounds):",
                  "", "| workload | " + " | ".join(f"vs {lib}" for lib in peers) + " |",
                  "| --- |" + " ---: |" * len(peers)] + paired
    if "memory" in workloads:
        lines += ["", "| library | mlp peak MiB | vs numpy | convnet peak MiB | vs numpy | "
                      "RSS growth over flat steps (MiB) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        ref = {p: by.get(("numpy", p), {}).get("peak_mib") for p in MEMORY_PARTS[:2]}
        for lib in libs:
            parts = [by.get((lib, p)) for p in MEMORY_PARTS]
            if not any(parts):
                continue
            cells = []
            for p, r in zip(MEMORY_PARTS[:2], parts[:2]):
                if r is None or "error" in r:
                    cells += [f"failed: {r['error']}" if r else "-", "-"]
                else:
                    cells += [f"{r['peak_mib']:.1f}", _ratio(r["peak_mib"], ref[p])]
            flat = parts[2]
            cells.append(f"failed: {flat['error']}" if flat and "error" in flat else
                         f"{flat['growth_mib']:+.1f} ({flat['steps']} steps)" if flat else "-")
            lines.append(f"| {lib} | " + " | ".join(cells) + " |")
    for lib, why in skipped:
        lines.append(f"\nskipped {lib}: {why}")
    return "\n".join(lines)


def _machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores visible"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=WORKLOADS, help="run only this workload (repeatable)")
    parser.add_argument("--libs", help="comma-separated libraries (default: all installed)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats; the median is reported")
    parser.add_argument("--min-time", type=float, default=None, help="seconds per repeat (0.2; quick: 0.01)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every library this many times, in turn, and report the median round")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads for every library")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that everything runs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per measurement")
    parser.add_argument("--worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.2

    if args.worker:
        print(json.dumps(worker(*args.worker, args.quick, args.repeat, args.min_time, args.threads)))
        return 0

    workloads = args.only or WORKLOADS
    wanted = args.libs.split(",") if args.libs else LIBS
    unknown = [lib for lib in wanted if lib not in LIBS]
    if unknown:
        parser.error(f"unknown libraries {unknown}; choose from {LIBS}")
    libs, skipped = [], []
    for lib in wanted:
        if _installed(lib):
            libs.append(lib)
        else:
            skipped.append((lib, f"not installed ({INSTALL.get(lib, 'pip install ' + lib)})"))
    for lib, why in skipped:
        print(f"skipping {lib}: {why}", file=sys.stderr)

    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    header = (f"{datetime.date.today().isoformat()}, Python {platform.python_version()}, {_machine()}{load}, "
              f"{args.threads} BLAS threads, median of {args.repeat} repeats"
              f"{f', median of {args.rounds} rounds' if args.rounds > 1 else ''}{' (quick sizes)' if args.quick else ''}")
    print(header, flush=True)
    results = []
    for w in workloads:
        # NOTE: with --rounds, every library runs once per round, in turn, so that a slow spell of a
        # shared machine falls on all of them rather than on whichever ran then
        rounds = {}
        for _ in range(1 if w == "memory" else args.rounds):
            for lib in libs:
                for part in (MEMORY_PARTS if w == "memory" else [w]):
                    r = _spawn(lib, part, args)
                    rounds.setdefault((lib, part), []).append(r)
                    shown = r.get("error") or (f"{r['ms']:.3f} ms/iter, loss {r['loss']:.6g}" if "ms" in r else
                                               {k: round(v, 2) for k, v in r.items() if k.endswith("_mib")})
                    print(f"  {part:15s} {lib:9s} {shown}", file=sys.stderr, flush=True)
        results += [median_round(rs) for rs in rounds.values()]
    versions = {r["lib"]: r["version"] for r in results if "version" in r}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(format_tables(results, workloads, libs, skipped))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "versions": versions, "results": results, "skipped": skipped}, f, indent=1)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
