"""Correctly rounded or warned, on thousands of points (issue 15): random expressions built from the registry's
public elementwise functions, in the shapes where float64 goes wrong — a difference quotient (f(x) − f(a))/(x − a)
near a, (f(x) − f(0))/x near 0, f(x + h) − f(x) for a tiny h, an argument scaled by 1e±150 or 1e±8 — at points
across the magnitudes (tiny, huge, saturating, typed decimals such as 0.1, points approaching where a shape
cancels).

With a formula (one input): every value is the exact derivative at the point as typed, rounded to the nearest
double, or the run warns and fails (exit 1). On the numeric path (70 inputs, no formula) the same: every entry is
the exact derivative at the point as typed, correctly rounded (the multi-precision pass), or it is counted in the
warning's entries in doubt (by the estimate, or not settled in mpmath), or it is null with a warning.

The reference is independent of jaccli's engines: each operation's ``mp`` form in the registry, its partial
derivatives by ``mpmath.diff`` at its own arguments, composed here by the chain rule (forward mode), at 50 or more
digits, doubled until two precisions in a row agree. Cost: one symbolic differentiation per expression serves all
its points (the formulas made once, then verified at each point by the step ``compute.derivative`` takes at its
point, ``compute._finish``), and on the numeric path one run gives 70 points. The points checked are counted, and
the count asserted, so that the test cannot shrink unnoticed.
"""

from __future__ import annotations

import copy
import math
import re
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jaccli import compute, limits, points
from jaccli.errors import JaccliError
from jaccli.registry import OPS, public_ops

mp = mpmath

# the registry's smooth public elementwise functions (no kink: a derivative there is a convention), by arity; not the
# gamma family: mpmath's references at the precisions ``partial`` raises to (thousands of digits for an argument
# near 1e300) compute Bernoulli numbers for minutes, and polygamma's first argument is an order, not a function's
# (test_gamma_family.py and the conformance test check them)
SLOW_REFERENCE = {"gamma", "lgamma", "polygamma"}
UNARY = [op.name for op in public_ops() if op.kind == "elementwise" and op.kink is None and op.mp is not None
         and op.arity[0] == 1 and op.name.isidentifier() and op.name not in SLOW_REFERENCE]
BINARY = [op.name for op in public_ops() if op.kind == "elementwise" and op.kink is None and op.mp is not None
          and op.arity == (2, 2) and op.name.isidentifier() and op.name not in SLOW_REFERENCE]
ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}  # the operators' records (not public)
CONSTANTS = ["2", "0.5", "3", "0.1", "1.5", "0.7"]
EXPONENTS = ["2", "3", "0.5", "-1", "1.5", "-2"]

FORMULA_POINTS = 20  # per expression, each verified at the point as typed
NUMERIC_POINTS = 70  # per expression: beyond accuracy.SYMBOLIC_INPUTS, so the numeric path
# the points to check (defined there, reference settled): expressions are drawn until they are reached (an example
# after that returns at once), so that the cost is set by the points, whatever the share of undefined ones
FORMULA_TARGET, NUMERIC_TARGET = 600, 1500  # about 15 s of CPU each
EXAMPLES = 150  # at most (about 10 and 40 points an expression are defined and settled)
# no shrinking: an example costs up to seconds, and a failure names its expression, point and both values already
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
VERIFY_SECONDS = 1.0  # the verifier's budget here (limits.VERIFY_SECONDS): beyond it an entry is warned about, which
# the property allows; a few points near 0 of (f(x) - f(0))/x need hundreds of digits and took 5 s each


# --- expressions ------------------------------------------------------------------------------------------------
# a tree is ("x",), ("c", text), ("f", name, *arguments) for a registry function, or ("a", name, left, right)
# for an arithmetic operator

def trees(depth: int):
    leaf = st.one_of(st.just(("x",)), st.just(("x",)), st.sampled_from(CONSTANTS).map(lambda c: ("c", c)))
    if depth == 0:
        return leaf
    sub = trees(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.just("f"), st.sampled_from(UNARY), sub),
        st.tuples(st.just("f"), st.sampled_from(BINARY), sub, sub),
        st.tuples(st.just("a"), st.sampled_from(["add", "sub", "mul", "div"]), sub, sub),
        st.tuples(st.just("a"), st.just("pow"), sub, st.sampled_from(EXPONENTS).map(lambda c: ("c", c))),
    )


def text(tree, x: str = "x") -> str:
    """The expression as a user types it, with ``x`` for the variable (a text such as ``(x + 1e-9)``)."""
    if tree[0] == "x":
        return x
    if tree[0] == "c":
        return tree[1]
    if tree[0] == "f":
        return f"{tree[1]}({', '.join(text(a, x) for a in tree[2:])})"
    return f"({text(tree[2], x)} {ARITHMETIC[tree[1]]} {text(tree[3], x)})"


def exactly(text: str):
    return mp.mpf(text)  # to the working precision: the decimal as typed


def dual(tree, x, read=exactly):
    """(value, derivative) of ``tree`` in mpmath where the variable is ``x`` = (value, derivative): forward-mode
    differentiation, each registry function by its ``mp`` form in the registry and its partial derivatives by
    ``mpmath.diff`` (``partial``), the arithmetic operators by their definitions; constants by ``read``."""
    if tree[0] == "x":
        return x
    if tree[0] == "c":
        return read(tree[1]), 0
    arguments = [dual(a, x, read) for a in tree[2:]]
    if tree[0] == "a" and tree[1] != "pow":
        return arithmetic(tree[1], *arguments)
    op, values = OPS[tree[1]], [v for v, _ in arguments]
    if not all(isinstance(v, mp.mpf) for v in values):
        raise ValueError("not a real number")  # (an mpc: the expression is not real there)
    if any(v and mp.mag(v) > 4000 for v in values):  # sin(exp(1e300)) would reduce its argument for ever
        raise OverflowError("far beyond a double")
    result = op.mp(mp, *values)
    return result, sum((partial(op, values, k) * d for k, (_, d) in enumerate(arguments) if d), mp.mpf(0))


def arithmetic(name: str, a, b):
    (u, du), (v, dv) = a, b
    if name == "add":
        return u + v, du + dv
    if name == "sub":
        return u - v, du - dv
    if name == "mul":
        return u * v, du * v + u * dv
    return u / v, (du * v - u * dv) / v**2  # div


def partial(op, values: list, k: int):
    """∂op/∂(argument k) at ``values`` by mpmath.diff, with a step of 2**-(prec+10) relative to the argument u when
    |u| < 1 (log near 0) and absolute beyond (tan at 1e22 has period π: a relative step would span many), the
    precision raised by u's magnitude so that u ± step is exact, and by twice its smallness (cos at 1e-300 changes
    by about u·step around 1); raised again while the difference is exactly 0 (up to 4 times)."""
    u = values[k]

    def g(t):
        return op.mp(mp, *values[:k], t, *values[k + 1:])

    prec, size = mp.mp.prec, mp.mag(u) if u else 0
    extra = max(0, size) + 2 * min(max(0, -size), 1100)  # (beyond 2**-1100, as for the smallest subnormal)
    step = mp.ldexp(min(mp.mpf(1), abs(u)) if u else mp.mpf(1), -prec - 10)
    for _ in range(4):
        with mp.workprec(prec + extra):
            result = mp.diff(g, u, h=step)
        if result:
            return result
        extra = 2 * extra + prec
    return result


def uses_x(tree) -> bool:
    return tree[0] == "x" or tree[0] in ("f", "a") and any(uses_x(a) for a in tree[2:])


class Shape:
    """An expression in one of the shapes that cancel, its text and its mpmath form, and where to look at it:
    ``near`` is the typed point it cancels near (None: nowhere in particular)."""

    def __init__(self, kind: str, inner, parameter: str | None = None, read=exactly):
        self.kind, self.inner, self.parameter, self.read = kind, inner, parameter, read
        f = text(inner)
        if kind == "plain":
            self.text, self.near = f, None
        elif kind == "quotient":  # (f(x) - f(a)) / (x - a) near a
            self.text, self.near = f"({f} - {text(inner, f'({parameter})')}) / (x - {parameter})", parameter
        elif kind == "at zero":  # (f(x) - f(0)) / x near 0
            self.text, self.near = f"({f} - {text(inner, '0')}) / x", "0"
        elif kind == "shifted":  # f(x + h) - f(x): its derivative f'(x + h) - f'(x) cancels
            self.text, self.near = f"{text(inner, f'(x + {parameter})')} - {f}", None
        else:  # scaled: f(s*x), at points of size 1/s
            self.text, self.near = text(inner, f"({parameter}*x)"), None

    def constants(self) -> list[str]:
        def walk(tree):
            return [tree[1]] if tree[0] == "c" else [c for a in tree[2:] for c in walk(a)] if len(tree) > 2 else []

        return walk(self.inner) + ([self.parameter] if self.kind in ("quotient", "shifted") else [])  # added to x

    def derivative(self, x):
        """(value, d/dx) at ``x`` (an mpmath number), by the chain rule over the registry's ``mp`` forms."""
        f, read = self.inner, self.read
        p = None if self.parameter is None else read(self.parameter)
        if self.kind == "plain":
            return dual(f, (x, 1), read)
        if self.kind in ("quotient", "at zero"):
            a = p if self.kind == "quotient" else mp.mpf(0)
            (fx, dfx), (fa, _) = dual(f, (x, 1), read), dual(f, (a, 0), read)
            return arithmetic("div", (fx - fa, dfx), (x - a, 1))
        if self.kind == "shifted":
            (u, du), (v, dv) = dual(f, (x + p, 1), read), dual(f, (x, 1), read)
            return u - v, du - dv
        return dual(f, (p * x, p), read)

    def __repr__(self):
        return self.text


@st.composite
def shapes(draw):
    inner = draw(trees(3).filter(uses_x))
    kind = draw(st.sampled_from(["plain", "plain", "quotient", "at zero", "shifted", "scaled"]))
    parameter = {"quotient": st.sampled_from(["0.5", "1", "2", "0.3", "-1.5", "0.1"]),
                 "shifted": st.sampled_from(["1e-6", "1e-9", "1e-12", "-1e-8"]),
                 "scaled": st.sampled_from(["1e-150", "1e150", "1e8", "1e-8"])}.get(kind)
    return Shape(kind, inner, None if parameter is None else draw(parameter))


# --- points -----------------------------------------------------------------------------------------------------

SPECIAL = ["0", "0.5", "1", "-1", "0.1", "1.25", "2.5", "-0.75", "3", "7", "-2", "1e-8", "-1e-5", "1e-200", "1e200",
           "1e-300", "1e300", "20", "-20", "40", "-40", "710", "-745", "800", "1e22", "1e8", "-1e8", "0.999", "1.0001"]


def decimals(exponents):
    return st.builds(lambda sign, mantissa, exponent: f"{sign}{mantissa}e{exponent}", st.sampled_from(["", "-"]),
                     st.integers(1, 99999), exponents)


def typed_points(shape: Shape):
    """Typed decimals for ``shape``: special points, random decimals of moderate and extreme size, and, where the
    shape cancels, points approaching that place (a + 1e-3 … a + 1e-12, typed exactly); for a scaled shape, points
    of the scale's reciprocal size, where its argument is ordinary."""
    options = [st.sampled_from(SPECIAL), decimals(st.integers(-6, 1)), decimals(st.integers(-320, 304))]
    if shape.near is not None:
        near = Decimal(shape.near)
        options += [st.builds(lambda k, sign, digit: str(near + Decimal(f"{sign}{digit}e-{k}")),
                              st.integers(3, 15), st.sampled_from(["", "-"]), st.integers(1, 9))] * 3
    if shape.kind == "scaled":
        scale = Decimal(shape.parameter)
        options += [decimals(st.integers(-6, 1)).map(lambda t: str(Decimal(t) / scale))] * 3
    return st.one_of(options)


# --- the reference ----------------------------------------------------------------------------------------------

DIGITS = 50  # the reference's first precision (more where it must be, see settled); doubled twice at most

UNDEFINED = (ValueError, ZeroDivisionError, TypeError, OverflowError)


def settled(shape: Shape, x, same):
    """The derivative of ``shape`` at ``x`` (a text: the decimal as typed; a float: that double) at 50, 100, …
    digits until two in a row are ``same``; None where it is not a finite real number there, or not settled. The
    first precision holds x to 50 digits beside the expression's smallest constant (sec(x + 1e-6) at 1e205), and
    (x - a)² to 50 digits beside 1 where the shape cancels near a (otherwise near 0: (tan(x) + x)/x at 1e-301 has the
    derivative 2x/3, from terms of 2x that cancel; two precisions too low give the same wrong number)."""
    previous, first = None, DIGITS
    with mp.workdps(700):
        size, near = abs(mp.mpf(x)), abs(mp.mpf(x) - shape.read(shape.near or "0"))
        smallest = min([abs(mp.mpf(c)) for c in shape.constants() if float(c)] or [mp.mpf(1)])
        if size > smallest:
            first += int(mp.log10(size / smallest))
        if 0 < near < 1:  # f(x) - f(a) is f'(a)(x - a) + f''(a)(x - a)²/2 …: its second term, to 50 digits
            first += 2 * int(-mp.log10(near))
    try:
        for dps in (first, 2 * first, 4 * first):
            with mp.workdps(dps):
                _, current = shape.derivative(mp.mpf(x))
                if not isinstance(current, mp.mpf) or not mp.isfinite(current):
                    return None
                current = +current
            if previous is not None and same(previous, current):
                return current
            previous = current
    except UNDEFINED:
        return None
    return None


def correctly_rounded(shape: Shape, x: str) -> float | None:
    """The exact derivative at the typed point rounded to the nearest double (two precisions in a row round to
    the same double); None when it is not a finite real number there, or not settled."""
    want = settled(shape, x, lambda a, b: double(a) == double(b))
    return None if want is None or not math.isfinite(double(want)) else double(want)


def double(value) -> float:
    """The double nearest an mpmath number. Not float(value): mpmath rounds a subnormal twice (to 53 bits, then to
    the subnormal's fewer), so -1.4589e-308 became -1.4588999999999997e-308; an integer ratio is rounded once."""
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value) or not value:
        return float(value)
    negative, mantissa, exponent, _ = value._mpf_
    if mpmath.mag(value) < -1200:  # far below the smallest subnormal
        return -0.0 if negative else 0.0
    if mpmath.mag(value) > 1100:  # far beyond the largest double (and 2**exponent would be slow to form)
        return -math.inf if negative else math.inf
    magnitude = float(Fraction(mantissa) * Fraction(2) ** exponent)
    return -magnitude if negative else magnitude


# --- jaccli at many points --------------------------------------------------------------------------------------

def at_points(shape: Shape, texts: list[str]):
    """jaccli's derivative of ``shape`` at each typed point, as ``compute.derivative`` gives it at that point, with
    the symbolic differentiation done once: the result at the first point, then the same formulas (literals as
    typed) verified at each other point by ``compute._finish``, as the command does at its point. Yields
    (point, Result); nothing when jaccli refuses the expression."""
    try:
        first = compute.derivative(shape.text, [texts[0]])
    except JaccliError:
        return
    yield texts[0], first
    problem, formulas = first.numbers.problem, first.as_typed
    for x in texts[1:]:
        moved = copy.copy(problem)
        try:
            moved.values = points.bind(problem.function.variables, [x])
        except JaccliError:
            continue
        result = copy.copy(first)
        result.warnings, result.failed, result.verify_deadline, result.value = [], False, None, None
        yield x, compute._finish(result, moved, first.numbers, formulas)


def warned(result) -> bool:
    return result.exit_code == 1 and bool(result.warnings)


@settings(max_examples=EXAMPLES, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(shapes(), st.data())
def _formula_path(counts, shape, data):
    texts = data.draw(st.lists(typed_points(shape), min_size=FORMULA_POINTS, max_size=FORMULA_POINTS, unique=True))
    if counts["points"] >= FORMULA_TARGET:  # (after the draw: Hypothesis replays what an example draws)
        return
    wanted = {x: correctly_rounded(shape, x) for x in texts}
    texts = [x for x in texts if wanted[x] is not None]
    if not texts:
        return
    for x, result in at_points(shape, texts):
        got = float(result.value)
        counts["points"] += 1
        if got == wanted[x]:
            counts["correctly rounded"] += 1
        else:
            assert warned(result), f"derivative {shape.text!r} --at {x}: printed {got!r}, exact {wanted[x]!r}"
            counts["warned"] += 1


def test_random_expressions_with_a_formula_are_correctly_rounded_or_warned(monkeypatch):
    monkeypatch.setattr(limits, "VERIFY_SECONDS", VERIFY_SECONDS)
    counts = {"points": 0, "correctly rounded": 0, "warned": 0}
    _formula_path(counts)
    print(counts)
    assert counts["points"] >= FORMULA_TARGET, counts  # the points checked: the test cannot shrink unnoticed
    assert counts["correctly rounded"] >= 0.95 * counts["points"], counts  # warnings are the exception


_COUNTED = re.compile(r"(\d+) of \d+ entries (?:have fewer than|did not settle)")


@settings(max_examples=EXAMPLES, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(shapes(), st.data())
def _numeric_path(counts, shape, data):
    texts = data.draw(st.lists(typed_points(shape), min_size=NUMERIC_POINTS, max_size=NUMERIC_POINTS))
    if counts["points"] >= NUMERIC_TARGET:
        return
    try:
        result = compute.derivative(shape.text, [",".join(texts)])
    except JaccliError:
        return
    assert result.symbolic is None  # the numeric path
    got = np.asarray(result.value, dtype=float)
    doubt = sum(int(m.group(1)) for w in result.warnings for m in [_COUNTED.match(w)] if m)
    wanted = {x: correctly_rounded(shape, x) for x in set(texts)}
    wrong = []
    for text, value in zip(texts, got.tolist()):
        want = wanted[text]
        if want is None:
            continue
        counts["points"] += 1
        if value == want:
            counts["correctly rounded"] += 1
        elif not math.isfinite(value):
            assert warned(result), (shape.text, text, value, want)  # null, and a warning that says so
        else:
            wrong.append((text, value, want))
    counts["wrong and counted"] += len(wrong)
    assert len(wrong) <= doubt and (not wrong or warned(result)), (shape.text, wrong, result.warnings)


def test_random_expressions_on_the_numeric_path_are_correctly_rounded_or_counted():
    counts = {"points": 0, "correctly rounded": 0, "wrong and counted": 0}
    _numeric_path(counts)
    print(counts)
    assert counts["points"] >= NUMERIC_TARGET, counts
