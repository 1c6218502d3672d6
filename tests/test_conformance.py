"""Every operation of the registry, in every mode, against independent references (as JAX's check_grads).

For each record: at points drawn inside its domain, the value against mpmath at 50 digits; the
Jacobian by forward and by reverse mode against mpmath's numerical differentiation of the mpmath
reference; the dot-product test <v, J t> = <Jᵀv, t>; the second derivative (Hessian of a random
combination of the outputs) against mpmath; the sympy form against the numpy one; the emitted
numpy and C against the implementation; and the kink warning at the kinks. An operation without
conformance data fails ``test_every_operation_has_conformance_data``.
"""

from __future__ import annotations

import math
import shutil
import subprocess

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jaccli import codegen, compute
from jaccli.registry import OPS
from jaccli.special import rewrite_elementary

mpmath.mp.dps = 50

OPERATIONS = sorted({op.name: op for op in OPS.values() if op.kind != "leaf"}.values(), key=lambda op: op.name)
TESTED = [op for op in OPERATIONS if not op.internal]

# Internal operations exist only inside derivatives: each is exercised by the second derivatives of these.
INTERNAL = {
    "tie_share": "max", "step": "relu", "clip_inside": "clip", "clip_below": "clip",
    "prod_others": "prod", "prod_others_jvp": "prod", "argmax_share": "amax", "softmax_jvp": "softmax",
    "log_softmax_jvp": "log_softmax", "log_softmax_vjp": "log_softmax", "sum_last": "log_softmax",
    "broadcast_to": "sum", "sum_to": "add", "scatter": "index", "unslice": "slice", "sech2": "tanh",
    "pow_shift": "pow",
}
OPERATORS = {"neg": "-{0}", "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
             "pow": "{0} ** {1}", "amax": "max({0})", "amin": "min({0})", "index": "{0}[1]",
             "stack": "[{0}, {1}]", "matmul": "{0} @ {1}",
             "slice": "{0}[3:0:-2]", "concatenate": "concatenate([{0}, {1}])", "reshape": "reshape({0}, (3, 2))",
             "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}", "greater_equal": "{0} >= {1}",
             "equal": "{0} == {1}", "not_equal": "{0} != {1}", "variance": "var({0})",
             "polygamma": "polygamma(2, {0})"}
# Leading arguments that must be constants (the order n of polygamma): the sample draws the others.
FIXED = {"polygamma": (2,)}
# Functions that build a constant array from constant arguments (no variable, no derivative): numpy's values.
CONSTANT_ARRAYS = {
    "arange": [("arange(4)", np.arange(4.0)), ("arange(1, 3)", np.arange(1.0, 3.0)),
               ("arange(1, 2, 0.25)", np.arange(1, 2, 0.25)), ("arange(5, 1, -2)", np.arange(5.0, 1, -2))],
    "eye": [("eye(3)", np.eye(3))],
    "ones": [("ones(2)", np.ones(2)), ("ones((2, 3))", np.ones((2, 3)))],
    "zeros": [("zeros(3)", np.zeros(3)), ("zeros([1, 2])", np.zeros((1, 2)))],
}
NAMES = "abc"


def test_every_operation_has_conformance_data():
    for op in OPERATIONS:
        if op.kind == "constant":
            assert op.name in CONSTANT_ARRAYS, f"constant-array function {op.name} has no test values"
            continue
        if op.internal:
            assert op.name in INTERNAL, f"internal operation {op.name} is not covered by any test"
            continue
        assert op.sample is not None, f"{op.name} has no conformance sample"
        assert op.mp is not None, f"{op.name} has no mpmath reference"
        assert op.kind == "composite" or op.differentiable, f"{op.name} has no derivative rule"


def text(op, count: int) -> str:
    args = [NAMES[k] for k in range(count)]
    template = OPERATORS.get(op.name)
    return template.format(*args) if template else f"{op.name}({', '.join(args)})"


def _shapes(op) -> list[tuple[int, ...]]:
    count = len(op.sample.intervals)
    return list(op.sample.shapes or [()] * count)


def points(op):
    """Hypothesis: one value per argument (an array for structural operations) inside the sample's domain."""
    parts = []
    for interval, shape in zip(op.sample.intervals, _shapes(op)):
        pieces = interval if isinstance(interval[0], tuple) else (interval,)  # a union of intervals
        floats = st.one_of(*(st.floats(low, high, allow_nan=False, allow_infinity=False) for low, high in pieces))
        size = math.prod(shape)
        parts.append(st.lists(floats, min_size=size, max_size=size).map(
            lambda v, shape=shape: np.array(v).reshape(shape)) if shape else floats.map(np.array))
    return st.tuples(*parts)


def at(point) -> list[str]:
    out = []
    for name, value in zip(NAMES, point):
        value = np.asarray(value)
        out.append(f"{name}={float(value)!r}" if value.ndim == 0 else f"{name}={value.tolist()!r}")
    return out


def far_from_kinks(op, point, gap: float = 1e-6) -> bool:
    """Away from where a kinked operation is not differentiable (0, ties, bounds) by more than mpmath's step."""
    if op.kink is None:
        return True
    values = np.concatenate([np.ravel(v) for v in point])
    differences = np.abs(values[:, None] - values[None, :])[~np.eye(len(values), dtype=bool)]
    return bool(np.all(np.abs(values) > gap) and np.all(differences > gap))


def mp_function(op, shapes):
    """The mpmath reference as a function of the flat inputs, returning a flat list of outputs."""
    sizes = [math.prod(s) for s in shapes]

    def f(*flat):
        args, offset = [], 0
        for shape, size in zip(shapes, sizes):
            chunk = list(flat[offset:offset + size])
            args.append(chunk if shape else chunk[0])
            offset += size
        out = op.mp(mpmath, *FIXED.get(op.name, ()), *args)
        return list(out) if isinstance(out, list) else [out]

    return f


def mp_jacobian(f, x, outputs: int) -> np.ndarray:
    n = len(x)
    jac = np.zeros((outputs, n))
    for i in range(outputs):
        for j in range(n):
            order = tuple(1 if k == j else 0 for k in range(n))
            jac[i, j] = float(mpmath.diff(lambda *v, i=i: f(*v)[i], x, order))
    return jac


def close(got, want, rtol=1e-12, atol=1e-13):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, atol=atol)


CONFORMANT = [op for op in TESTED if op.sample is not None]


@pytest.mark.parametrize("name", sorted(CONSTANT_ARRAYS))
def test_constant_arrays_are_numpys(name):
    for expression, want in CONSTANT_ARRAYS[name]:
        result = compute.jacobian(f"({expression}) * y", ["y=2"])
        np.testing.assert_array_equal(result.value.reshape(want.shape), want)  # d(c*y)/dy = c


@pytest.mark.parametrize("op", CONFORMANT, ids=lambda op: op.name)
def test_value_and_derivatives_against_mpmath(op):
    shapes = _shapes(op)
    count = len(shapes)

    @settings(max_examples=8, deadline=None)
    @given(points(op))
    def check(point):
        expression = text(op, count)
        problem = compute.Problem(expression, at(point))
        assume(far_from_kinks(op, point))
        assume(op.sample.valid is None or op.sample.valid(*point))
        flat = [mpmath.mpf(float(v)) for value in point for v in np.ravel(value)]
        f = mp_function(op, shapes)
        want = [float(v) for v in f(*flat)]
        env = {name: np.asarray(value)[None] for name, value in zip(NAMES, point)}
        close(problem.ad.value(env).ravel(), want)
        jac_want = mp_jacobian(f, flat, len(want))
        (forward,), _ = problem.ad.forward_columns([problem.root], env)
        reverse, _ = problem.ad.reverse_rows(env)
        close(forward.reshape(len(want), -1), jac_want, rtol=1e-9, atol=1e-10)
        close(reverse.reshape(len(want), -1), jac_want, rtol=1e-9, atol=1e-10)
        # the dot-product test, with the products jvp and vjp compute by themselves
        rng = np.random.default_rng(0)
        t, v = rng.normal(size=len(flat)), rng.normal(size=len(want))
        jt = compute.jvp(expression, at(point), ",".join(map(repr, map(float, t)))).value.ravel()
        vj = compute.vjp(expression, at(point), ",".join(map(repr, map(float, v)))).value.ravel()
        assert float(v @ jt) == pytest.approx(float(vj @ t), rel=1e-10, abs=1e-12)
        # the second derivative: the Hessian of w·f against mpmath
        w = rng.normal(size=len(want))
        weights = f"sum({w.reshape(problem.output_shape).tolist()!r} * ({expression}))" if len(want) > 1 \
            else f"({float(w[0])!r})*({expression})"
        hessian = compute.hessian(weights, at(point)).value
        for j in range(len(flat)):
            for k in range(len(flat)):
                order = tuple((1 if m == j else 0) + (1 if m == k else 0) for m in range(len(flat)))
                want_jk = float(mpmath.diff(lambda *x: mpmath.fsum(wi * fi for wi, fi in zip(w, f(*x))), flat, order))
                assert hessian[j, k] == pytest.approx(want_jk, rel=1e-7, abs=1e-8), (j, k)
        # the sympy form against the numpy value
        exprs = problem.outputs
        subs = {}
        for name, value in zip(NAMES, point):
            for symbol, entry in zip(np.ravel(problem.symbols[name]), np.ravel(value)):
                subs[symbol] = sympy.Float(float(entry), 30)
        symbolic = [float(rewrite_elementary(e).xreplace(subs).evalf(30)) for e in exprs.flat]
        close(symbolic, want)

    check()


def inside(op) -> list[np.ndarray]:
    """A fixed point inside the sample's domain: near the middle of each argument's (first) interval."""
    point = []
    for k, (interval, shape) in enumerate(zip(op.sample.intervals, _shapes(op))):
        low, high = interval[0] if isinstance(interval[0], tuple) else interval
        middle = (low + high) / 2 + 0.1 * k
        value = middle + 0.05 * np.arange(math.prod(shape)).reshape(shape) if shape else np.array(middle)
        if len(shape) == 2 and shape[0] == shape[1]:  # a square matrix: well conditioned (the above is nearly singular)
            value = value + 0.5 * np.eye(shape[0])
        point.append(value)
    return point


@pytest.mark.parametrize("op", CONFORMANT, ids=lambda op: op.name)
def test_emitted_numpy_computes_the_implementation(op):
    point = inside(op)
    expression = text(op, len(point))
    result = compute.jacobian(expression, at(point))
    source = codegen.for_result(result, result.symbols, "numpy")
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # our generated code, not user text
    got = namespace["jacobian"](*[p.tolist() if p.ndim else float(p) for p in point])
    close(got, result.value, rtol=1e-13, atol=1e-15)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler on this machine")
def test_emitted_c_computes_the_implementation(tmp_path):
    """All operations' Jacobians as C in one program (one compiler run), against jaccli's numbers."""
    sources, calls, expected = [], [], []
    for number, op in enumerate(CONFORMANT):
        point = inside(op)
        result = compute.jacobian(text(op, len(point)), at(point))
        source = codegen.for_result(result, result.symbols, "c").replace("jacobian(", f"jacobian_{number}(")
        body = source.split("#include <math.h>", 1)[1]
        sources.append(body.replace("static double jaccli_", f"static double op{number}_jaccli_")
                       .replace("jaccli_", f"op{number}_jaccli_").replace(f"op{number}_op{number}_", f"op{number}_"))
        args = []
        for p in point:
            if p.ndim:
                args.append(f"(const double[]){{{', '.join(repr(float(v)) for v in p.ravel())}}}")
            else:
                args.append(repr(float(p)))
        size = result.value.size
        calls.append(f"{{ double out[{size}]; jacobian_{number}({', '.join(args)}, out); "
                     f"for (int k = 0; k < {size}; ++k) printf(\"%.17g\\n\", out[k]); }}")
        expected.extend(result.value.ravel())
    program = "#include <math.h>\n#include <stdio.h>\n" + "\n".join(sources) + \
        "\nint main(void)\n{\n" + "\n".join(calls) + "\nreturn 0;\n}\n"
    (tmp_path / "ops.c").write_text(program)
    subprocess.run(["cc", "-std=c99", "-O0", "-o", str(tmp_path / "ops"), str(tmp_path / "ops.c"), "-lm"],
                   check=True, capture_output=True, timeout=120)
    out = subprocess.run([str(tmp_path / "ops")], capture_output=True, text=True, check=True, timeout=60).stdout
    close([float(line) for line in out.split()], expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("op", CONFORMANT, ids=lambda op: op.name)
def test_the_engines_in_mpmath_numbers_keep_every_digit(op):
    """The numeric path's multi-precision pass (accuracy.multi_precision): the Jacobian and the Hessian of w·f by
    the engines in mpmath numbers at 40 digits, against mpmath's own differentiation of the mpmath reference at
    50: agreeing to 30 digits shows that no operation, nor any internal one its derivatives use, went through a
    float on the way (that would leave 16)."""
    middle = [np.round(p * 64) / 64 for p in inside(op)]  # dyadic: the typed text and the double are one number
    # amax at 0, 3/64, 6/64: 0 is a kink of abs; std needs spread entries
    point = next(p for p in (middle, [m + 0.25 for m in middle], [4 * m + 0.25 for m in middle])
                 if (op.sample.valid is None or op.sample.valid(*p)) and far_from_kinks(op, p, gap=1e-3))
    shapes = _shapes(op)
    expression = text(op, len(shapes))
    flat = [mpmath.mpf(float(v)) for value in point for v in np.ravel(value)]
    f = mp_function(op, shapes)
    outputs = len(f(*flat))
    w = [mpmath.mpf(k + 2) / 8 for k in range(outputs)]  # exact weights
    shape = compute.Problem(expression, at(point)).output_shape
    weights = (f"sum({np.array([float(v) for v in w]).reshape(shape).tolist()!r} * ({expression}))" if outputs > 1
               else f"{float(w[0])!r}*({expression})")
    for source, kind in ((expression, "jacobian"), (weights, "hessian")):
        problem = compute.Problem(source, at(point))
        n = len(flat)
        numbers = compute.Numbers(problem, kind, (outputs, n) if kind == "jacobian" else (n, n))
        with mpmath.workdps(40):
            got = numbers.at(numbers.multi_columns())[0][0]
        assert got.dtype == object
        if kind == "jacobian":
            want = [[mpmath.diff(lambda *x, i=i: f(*x)[i], flat, tuple(int(m == j) for m in range(n)))
                     for j in range(n)] for i in range(outputs)]
        else:
            want = [[mpmath.diff(lambda *x: mpmath.fsum(wi * fi for wi, fi in zip(w, f(*x))), flat,
                                 tuple(int(m == j) + int(m == k) for m in range(n))) for k in range(n)]
                    for j in range(n)]
        for got_entry, want_entry in zip(np.ravel(got), [v for row in want for v in row], strict=True):
            assert abs(got_entry - want_entry) <= mpmath.mpf(10) ** -30 * max(1, abs(want_entry)), (kind, got_entry,
                                                                                                   want_entry)


KINKED = [op for op in TESTED if op.sample is not None and op.sample.kinks]


@pytest.mark.parametrize("op", KINKED, ids=lambda op: op.name)
def test_the_kink_warning_at_the_kinks(op):
    for kink in op.sample.kinks:
        result = compute.jacobian(text(op, len(kink)), [f"{n}={v!r}" for n, v in zip(NAMES, kink)])
        assert any(op.kink_name in w and "non-differentiable" in w for w in result.warnings), (op.name, kink)


def test_every_differentiable_operation_has_kinks_or_is_smooth():
    for op in TESTED:
        if op.kink is not None:
            assert op.sample is not None and op.sample.kinks, f"{op.name} has a kink rule but no kink to test"


SUMS = [op for op in OPS.values() if op.sum_signs is not None]


def test_the_sums_are_add_and_sub():
    assert sorted(op.name for op in SUMS) == ["add", "sub"]


@pytest.mark.parametrize("op", SUMS, ids=lambda op: op.name)
def test_a_sums_signs_are_its_sympy_form(op):
    a, b = sympy.symbols("a b")
    assert op.kind == "elementwise" and op.arity == (2, 2)
    assert sympy.expand(op.sympy(sympy)(a, b) - (op.sum_signs[0] * a + op.sum_signs[1] * b)) == 0


def test_a_chain_of_sums_is_lowered_as_the_sum_of_its_signed_terms():
    # x0 - (x1 + (x2 - x3)) + ... folded into one Add, and a shared inner sum lowered once and used twice
    from jaccli import ir, symbolic
    from jaccli.registry import add, call, sub

    x = [ir.var(f"x{k}") for k in range(6)]
    shared = add(x[4], x[5])
    root = add(sub(x[0], add(x[1], sub(x[2], x[3]))), call("sin", shared))
    root = add(root, shared)
    lowered, symbols = symbolic.lower(root, {f"x{k}": () for k in range(6)})
    s = [symbols[f"x{k}"].flat[0] for k in range(6)]
    expected = s[0] - s[1] - s[2] + s[3] + sympy.sin(s[4] + s[5]) + s[4] + s[5]
    assert lowered.flat[0] == expected  # structurally: sympy's canonical Add, no expand needed
