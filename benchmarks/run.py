"""Benchmark minigrad against PyTorch, Chainer, MyGrad and hand-written NumPy.

    python benchmarks/run.py                       # every workload, every installed library
    python benchmarks/run.py --only mlp --repeat 15 --json results.json
    python benchmarks/run.py --quick --libs minigrad   # tiny sizes: a smoke test of the code paths

Each (workload, library) pair runs in its own process with the same number of BLAS threads
(OMP/OPENBLAS/MKL_NUM_THREADS and torch.set_num_threads) and a warm-up. The libraries then take
turns: each runs one timed repeat (enough iterations to last ``--min-time`` seconds) while the
others wait, ``--repeat`` turns in all, so that a slow spell of a shared machine falls on all of
them. The table shows the median milliseconds per iteration, the ratio to PyTorch and to the
hand-written NumPy version, and each library's initial loss (equal losses show that all run the
same computation); a second table compares minigrad with each peer turn by turn. Peers that are
not installed are skipped with a note (``pip install minigrad[bench]`` installs them).
"""
import argparse
import datetime
import gc
import importlib
import importlib.util
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
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


def _calibrate(step, min_time):
    """Warm the step up (caches, allocator pools, BLAS threads) and return how many iterations make
    one timed repeat last about ``min_time`` seconds."""
    for _ in range(2):
        step()
    t0 = time.perf_counter()
    step()
    one = time.perf_counter() - t0
    return max(1, min(10_000, int(min_time / max(one, 1e-7))))


def _timed_repeat(step, iters):
    """Wall-clock and CPU ms per iteration over ``iters`` steps (CPU: all threads of the process,
    close to the wall time on a quiet machine, far below it when other processes take the cores)."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        step()
    return (time.perf_counter() - t0) / iters * 1e3, (time.process_time() - c0) / iters * 1e3


def _load(lib, threads):
    """The problems module and library ``lib``'s implementation, with its thread count set."""
    sys.path.insert(0, HERE)
    import problems
    mod = importlib.import_module(f"impl_{lib}")
    if hasattr(mod, "setup"):
        mod.setup(threads)
    return problems, mod


def _start(lib, workload, quick, threads, min_time):
    """Build a timed workload's step and run it once (its loss is the first step's, before any
    update), then warm it up; returns (module, problem, step, loss, iterations per repeat)."""
    problems, mod = _load(lib, threads)
    problem = problems.PROBLEMS[workload](quick)
    step = getattr(mod, workload)(problem)
    loss = float(step())
    return mod, problem, step, loss, _calibrate(step, min_time)


def _summary(lib, workload, version, loss, iters, ops, all_ms, all_cpu):
    """A timed workload's result: the median ms and CPU ms per iteration, every repeat's ms, and
    for the overhead workload (``ops`` tiny ops a step) the microseconds per op."""
    result = {"lib": lib, "workload": workload, "version": version, "loss": loss, "iters": iters,
              "ms": statistics.median(all_ms), "all_ms": all_ms, "cpu_ms": statistics.median(all_cpu)}
    if ops:
        result["us_per_op"] = result["ms"] * 1e3 / ops
    return result


def serve(lib, workload, quick, min_time, threads, inp=None, out=None):
    """One timed workload of one library, kept in this process and timed on request (``--serve``).

    Prints a ready line (library version, the first step's loss, iterations per repeat), then answers
    every ``run`` line read from ``inp`` with one timed repeat (``ms``, ``cpu_ms``) until ``quit`` or
    the end of input. The driver holds one such process per library and asks them in turn. Without
    ``out``, the replies go to the process's stdout and whatever the library prints (from Python
    or C) to its stderr, so that every line on stdout is a reply."""
    inp = inp or sys.stdin
    if out is None:
        out = os.fdopen(os.dup(1), "w", buffering=1)       # the replies' own copy of stdout
        os.dup2(2, 1)                                        # the library's prints go to stderr
        sys.stdout = sys.stderr
    mod, problem, step, loss, iters = _start(lib, workload, quick, threads, min_time)
    print(json.dumps({"version": mod.version(), "loss": loss, "iters": iters, "ops": problem.get("ops")}),
          file=out, flush=True)
    for line in inp:
        if line.strip() != "run":
            break
        ms, cpu_ms = _timed_repeat(step, iters)
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms}), file=out, flush=True)


def worker(lib, workload, quick, repeat, min_time, threads):
    """Run one measurement in this process and return its result as a dict: a timed workload's
    repeats back to back, or one memory part."""
    if workload in PROBLEMS_TIMED:
        mod, problem, step, loss, iters = _start(lib, workload, quick, threads, min_time)
        times = [_timed_repeat(step, iters) for _ in range(repeat)]
        return _summary(lib, workload, mod.version(), loss, iters, problem.get("ops"),
                        [t[0] for t in times], [t[1] for t in times])
    problems, mod = _load(lib, threads)
    result = {"lib": lib, "workload": workload, "version": mod.version()}
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
    """One memory part in a process of its own (its peak RSS must be its alone)."""
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


class _Server:
    """A ``--serve`` process of one library for one timed workload, asked for one repeat at a time."""

    READY_KEYS, REPEAT_KEYS = ("version", "loss", "iters", "ops"), ("ms", "cpu_ms")

    def __init__(self, lib, workload, args):
        self.lib, self.workload, self.timeout = lib, workload, args.timeout
        cmd = [sys.executable, os.path.abspath(__file__), "--serve", lib, workload, "--min-time",
               str(args.min_time), "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
        self.stderr = tempfile.TemporaryFile(mode="w+")      # a file, not a pipe: warnings cannot fill it
        self.proc = subprocess.Popen(cmd, env=_env(args.threads), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, bufsize=0)
        self.pending = b""                                   # bytes read past the last reply
        self.ready = self._reply(self.READY_KEYS)

    def _last_error_line(self):
        self.stderr.seek(0)
        return (self.stderr.read().strip().splitlines() or ["no output"])[-1][:200]

    def _reply(self, keys):
        """The process's next line as a dict with ``keys``, or a dict with "error": it died, sent
        something else, or sent no whole line within the timeout (then it is killed)."""
        deadline = time.monotonic() + self.timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self._kill()
                return {"error": f"timed out after {self.timeout} s ({self._last_error_line()})"}
            chunk = os.read(fd, 65536)
            if not chunk:                                    # end of output: it is exiting
                try:
                    self.proc.wait(timeout=self.timeout)
                except subprocess.TimeoutExpired:           # closed its output but lives on
                    self._kill()
                return {"error": self._last_error_line()}
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict) or not all(k in reply for k in keys):
                raise ValueError
        except ValueError:
            self._kill()
            return {"error": f"unexpected reply {line[:80]!r}"}
        return reply

    def repeat(self):
        """One timed repeat: {"ms", "cpu_ms"}, or {"error"}."""
        try:
            self.proc.stdin.write(b"run\n")
        except OSError:                                     # it died: _reply says why
            pass
        return self._reply(self.REPEAT_KEYS)

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._kill()
        self.stderr.close()


def _rest(seconds):
    """The wait before each repeat (see timed_in_turns)."""
    time.sleep(seconds)


def turn_order(libs, turn):
    """The libraries' order in turn ``turn``: a row of a Williams design. Over a whole cycle of n
    turns (2n for an odd number n of libraries) every library takes every place equally often and,
    within the turns, runs right after each other library equally often, so a library that leaves
    the machine slower or faster for the next one (spinning threads, warm or evicted caches) does so
    to all alike. (A plain rotation, A B C, B C A, C A B, always runs B right after A, never right
    after C.) Across the joins between turns the balance is partial: for an odd n no library runs
    right after itself (for n = 3 every pair is balanced, joins included); for an even n the joins
    repeat the same n pairs."""
    libs = list(libs)
    n = len(libs)
    if n == 0:
        return []
    # the first row 0, 1, n-1, 2, n-2, ...; row r adds r to each. An odd n also needs the rows
    # reversed; taking row -r there (the same set of rows) keeps a library from following itself
    # across the join of two turns
    first = [0] + [(k + 1) // 2 if k % 2 else n - k // 2 for k in range(1, n)]
    row = turn % (n if n % 2 == 0 else 2 * n)
    if row < n:
        return [libs[(i + row) % n] for i in first]
    return [libs[(i - row) % n] for i in first][::-1]


def timed_in_turns(workload, libs, args, log=sys.stderr):
    """Every library's repeats of one timed workload, taken in turns.

    Each library runs in a process of its own, set up and warmed up first. Then, turn by turn, each
    library runs one repeat while the others wait idle, in an order that changes every turn
    (``turn_order``). A repeat lasts about ``args.min_time`` seconds, so the repeats of one turn fall
    within ``len(libs) * (min_time + pause)`` seconds (2 s for five libraries by default), and a slow
    spell of a shared machine, which lasts seconds to minutes, mostly falls on all of them; each
    turn's times are compared (``paired_ratios``). Before each repeat the driver waits
    ``args.pause`` seconds, so that the BLAS and OpenMP threads of the library that ran before have
    stopped spin-waiting (README, Performance)."""
    servers, results = {}, {}
    times = {lib: [] for lib in libs}
    try:
        for lib in libs:
            servers[lib] = _Server(lib, workload, args)
            if "error" in servers[lib].ready:
                results[lib] = {"lib": lib, "workload": workload, "error": servers[lib].ready["error"]}
        for turn in range(args.repeat):
            for lib in turn_order(libs, turn):
                if lib in results:                          # failed: out of the turns
                    continue
                _rest(args.pause)
                r = servers[lib].repeat()
                if "error" in r:
                    results[lib] = {"lib": lib, "workload": workload, "error": r["error"]}
                    continue
                times[lib].append((r["ms"], r["cpu_ms"]))
            shown = ", ".join(f"{lib} {times[lib][-1][0]:.3f}" for lib in libs if lib not in results)
            print(f"  {workload:9s} turn {turn + 1}/{args.repeat}: {shown} ms/iter", file=log, flush=True)
    finally:
        for server in servers.values():
            server.close()
    for lib in libs:
        if lib not in results:
            ready = servers[lib].ready
            results[lib] = _summary(lib, workload, ready["version"], ready["loss"], ready["iters"], ready["ops"],
                                    [t[0] for t in times[lib]], [t[1] for t in times[lib]])
    return [results[lib] for lib in libs]


def _quartiles(values):
    """The median and the first and third quartiles of two or more ``values`` (linear
    interpolation between ranks, the "inclusive" method: min and max are the 0th and 100th
    percentiles)."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def paired_ratios(mine, ref):
    """minigrad's ms over a peer's, turn by turn (they ran in the same turn): the median and the
    quartiles of those ratios, or None without two or more turns of both."""
    a, b = mine.get("all_ms"), ref.get("all_ms")
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    return _quartiles([x / y for x, y in zip(a, b)])


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
    lines = []
    if any(w != "memory" for w in workloads):
        lines += ["| workload | library | ms / iter | vs torch | vs numpy | cpu ms | initial loss | note |",
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
        lines += ["", "minigrad against each peer, turn by turn (median ratio, and the quartiles over the turns):",
                  "", "| workload | " + " | ".join(f"vs {lib}" for lib in peers) + " |",
                  "| --- |" + " ---: |" * len(peers)] + paired
    if "memory" in workloads:
        lines += [""] if lines else []
        lines += ["| library | mlp peak MiB | vs numpy | convnet peak MiB | vs numpy | "
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
    parser.add_argument("--repeat", type=int, default=10,
                        help="timed repeats per library, taken in turns (the orders balance over whole "
                             "cycles: n turns for n libraries, 2n for an odd n; 10 for all five); the "
                             "median is reported")
    parser.add_argument("--min-time", type=float, default=None, help="seconds per repeat (0.2; quick: 0.01)")
    parser.add_argument("--pause", type=float, default=None,
                        help="seconds of rest before each repeat, for the last library's threads to go idle "
                             "(0.2; quick: 0)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads for every library")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that everything runs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per measurement")
    parser.add_argument("--worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.2
    if args.pause is None:
        args.pause = 0.0 if args.quick else 0.2

    if args.serve:
        serve(*args.serve, args.quick, args.min_time, args.threads)
        return 0
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
    timed = [w for w in workloads if w != "memory"]
    turns = f", median of {args.repeat} repeats taken in turns, {args.pause:g} s rest before each" if timed else ""
    header = (f"{datetime.date.today().isoformat()}, Python {platform.python_version()}, {_machine()}{load}, "
              f"{args.threads} BLAS threads{turns}{' (quick sizes)' if args.quick else ''}")
    print(header, flush=True)
    results = []
    for w in workloads:
        if w != "memory":
            results += timed_in_turns(w, libs, args)
            continue
        for lib in libs:
            for part in MEMORY_PARTS:
                r = _spawn(lib, part, args)
                shown = r.get("error") or {k: round(v, 2) for k, v in r.items() if k.endswith("_mib")}
                print(f"  {part:15s} {lib:9s} {shown}", file=sys.stderr, flush=True)
                results.append(r)
    versions = {r["lib"]: r["version"] for r in results if "version" in r}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(format_tables(results, workloads, libs, skipped))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "versions": versions, "results": results, "skipped": skipped}, f, indent=1)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
