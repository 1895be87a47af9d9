"""The README's core sections say true things: their code runs and prints what it claims, and the
kink table is mg.KINKS itself (one source for gradcheck's report and the docs)."""
import contextlib
import io
import re
from pathlib import Path

import pytest

import minigrad as mg
import minigrad.nn  # noqa: F401  (its gates add their kinks to mg.KINKS)

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _section(title):
    """The README text from the heading ``## title`` (or ``### title``) to the next ``## `` heading."""
    m = re.search(rf"^#{{2,3}} {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    if m is None:
        pytest.fail(f"README.md lacks the section {title!r}")
    return m.group(1)


def _python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, re.S)


def kink_table():
    """The markdown table the README must show: one row per gate of mg.KINKS, in its words."""
    rows = [f"| {gate} | {rule} |" for gate, rule in mg.KINKS.items()]
    return "\n".join(["| gate | gradient at the kink |", "| --- | --- |", *rows])


def test_readme_kink_table_is_mg_kinks():
    table = "\n".join(line for line in _section("Gradient checking").splitlines() if line.startswith("|"))
    listed = {line.split("|")[1].strip() for line in table.splitlines()[2:]}
    assert set(mg.KINKS) <= listed, f"README's kink table lacks {sorted(set(mg.KINKS) - listed)}"
    assert table == kink_table(), "README's kink table differs from mg.KINKS; paste this:\n" + kink_table()


def test_readme_first_example_prints_what_its_comment_says():
    intro = README.split("\n## ", 1)[0]
    (code,) = _python_blocks(intro)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    claimed = re.search(r"print\(.*\)\s*#\s*(.*)", code).group(1).strip()
    assert out.getvalue().strip() == claimed


def test_readme_defining_a_gate_runs():
    blocks = _python_blocks(_section("Defining a gate"))
    assert blocks
    for code in blocks:
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
        gate = namespace["Sigmoid"]
        x = mg.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
        assert mg.gradgradcheck(lambda t: gate.apply(t), [x])
        y = gate.apply(x)
        z = (y + 1.0).sum()             # Add saves nothing: only the gate itself reads y
        with mg.no_grad():
            y.mul_(2.0)                  # the output backward reads, changed in place: caught
        with pytest.raises(RuntimeError, match="output of gate Sigmoid"):
            z.backward()


def test_function_docstring_example_runs():
    """mg.Function's own docstring shows a gate; run it as written."""
    doc = mg.Function.__doc__
    code = doc.split("::", 1)[1].split("\n\n    ``self.inputs``", 1)[0]
    code = "\n".join(line[8:] for line in code.splitlines())
    x = mg.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    namespace = {"mg": mg, "x": x}
    exec(compile(code, "Function.__doc__", "exec"), namespace)
    out = namespace["out"]
    assert out.grad_fn.saves_output
    assert mg.gradgradcheck(lambda t: namespace["Sigmoid"].apply(t), [x])
