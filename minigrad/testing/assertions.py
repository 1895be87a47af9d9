"""Gradient assertions for tests: ``assert_gradients_close`` and the ``gradient_property`` decorator."""
import functools
import inspect

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ..gradcheck import GradcheckError, check_gradients, gradgradcheck
from ..tensor import Tensor
from .strategies import broadcastable_shapes, shapes as shapes_strategy, tensors


def assert_gradients_close(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, second_order=False):
    """Assert that ``fn(*inputs)``'s analytic gradients match centered differences (in float64).

    Checks the inputs that require grad (every floating-point input when none does). Kink-aware:
    an element whose finite-difference step crossed a kink of relu/abs/max/clip/where is not
    judged (see ``mg.check_gradients``). With ``second_order=True`` second derivatives are
    checked too (``mg.gradgradcheck``). Raises ``GradcheckError`` (an ``AssertionError``) naming
    each failing input, the worst element's index, both values and the relative error.
    """
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"assert_gradients_close: input {i} is a {type(x).__name__}, expected a Tensor")
    report = check_gradients(fn, list(inputs), eps=eps, atol=atol, rtol=rtol)
    if report.failures:
        lines = []
        for i in sorted({f[0] for f in report.failures}):
            fails = [f for f in report.failures if f[0] == i]
            _, index, a, n, rel = max(fails, key=lambda f: f[4])
            lines.append(f"  input {i} (shape {tuple(inputs[i].shape)}): {len(fails)} of "
                         f"{inputs[i].numel()} element(s) wrong; worst at index {list(index)}: "
                         f"analytic {a:.8g}, numerical {n:.8g}, relative error {rel:.3g}")
        skipped = f"; {len(report.unreliable)} element(s) at kinks not judged" if report.unreliable else ""
        raise GradcheckError(f"analytic and numerical gradients differ (rtol {rtol}, atol {atol}{skipped}):\n"
                             + "\n".join(lines))
    if second_order:
        gradgradcheck(fn, list(inputs), eps=eps, atol=atol, rtol=rtol)
    return report


def _arity(fn):
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if not params:
        raise TypeError(f"gradient_property: {fn.__name__} takes no tensor arguments")
    return len(params)


def gradient_property(*strategies, shapes=None, min_value=-3.0, max_value=3.0, elements=None,
                      max_examples=None, eps=1e-6, atol=1e-5, rtol=1e-3, second_order=False,
                      **settings_kwargs):
    """Turn ``fn(*tensors) -> Tensor`` into a hypothesis test that checks its gradients.

    ::

        @gradient_property(min_value=0.1)          # inputs drawn in [0.1, 3]
        def test_my_log(x):
            return MyLog.apply(x)

    The decorated function becomes a zero-argument test (pytest collects it) that draws float64
    inputs, calls ``fn`` and runs ``assert_gradients_close`` on them. Inputs come from
    ``strategies`` (one hypothesis strategy per argument) when given; otherwise one tensor per
    positional argument of ``fn``, with shapes from ``shapes``: a strategy of a tuple of shapes, a
    fixed tuple of shapes, or by default small shapes that broadcast together. Values lie in
    [``min_value``, ``max_value``] (or come from ``elements``). ``max_examples`` and any other
    keyword (``deadline=``, ``phases=``, ...) go to ``hypothesis.settings`` for this test; the
    active settings profile applies otherwise.
    """
    def decorate(fn):
        n = len(strategies) if strategies else _arity(fn)
        if strategies:
            inputs = st.tuples(*strategies)
        else:
            if shapes is None:
                shape_tuples = (shapes_strategy(max_dims=3, max_side=4).map(lambda s: (s,)) if n == 1
                                else broadcastable_shapes(n, max_dims=3, max_side=4))
            elif isinstance(shapes, st.SearchStrategy):
                shape_tuples = shapes
            else:
                fixed = tuple(tuple(s) for s in shapes)
                if len(fixed) != n:
                    raise ValueError(f"gradient_property: {fn.__name__} takes {n} tensors but "
                                     f"shapes gives {len(fixed)}: {fixed}")
                shape_tuples = st.just(fixed)

            @st.composite
            def draw_inputs(draw):
                shp = draw(shape_tuples)
                return tuple(draw(tensors(shape=s, dtype=np.float64, elements=elements,
                                          min_value=min_value, max_value=max_value, requires_grad=True))
                             for s in shp)
            inputs = draw_inputs()

        @given(inputs=inputs)
        def test(inputs):
            assert_gradients_close(fn, *inputs, eps=eps, atol=atol, rtol=rtol, second_order=second_order)

        if max_examples is not None:
            settings_kwargs["max_examples"] = max_examples
        if settings_kwargs:
            test = settings(**settings_kwargs)(test)
        functools.update_wrapper(test, fn, assigned=("__module__", "__name__", "__qualname__", "__doc__"),
                                 updated=())
        del test.__wrapped__      # pytest must see a test without arguments, not fn's signature
        test.fn = fn
        return test
    return decorate
