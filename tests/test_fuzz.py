"""Fuzzing: whatever the text, the CLI exits 0, 1 or 2 and never shows a traceback (3 is a bug)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jaccli.cli import app
from jaccli.registry import FUNCTIONS

runner = CliRunner()
# Derandomised in CI, so every run tries the same inputs: 400 is wide variety at a suite time of minutes
# (each well-formed expression goes through sympy, and at 800 this file alone took over two minutes).
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(*args):
    result = runner.invoke(app, list(args))
    text = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, text)
    assert "Traceback" not in text, (args, text)
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: "), (args, text)
    return result


TOKENS = st.sampled_from(list("xy0123456789.+-*/^()[],eE _jpi") + ["sin", "log", "exp", "**", "softmax"])


@FUZZ
@given(text=st.lists(TOKENS, max_size=20).map("".join), point=st.sampled_from(["1", "0", "-1,2", "x=[1,2]", "1e308"]))
def test_random_text(text, point):
    _run("jacobian", text or " ", "--at", point)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_random_unicode(text):
    _run("gradient", text if text.strip() else "x", "--at", "1")


@settings(max_examples=200, deadline=None)
@given(point=st.text(st.sampled_from(list("0123456789.,-+e[]() nainfx=pi/")), max_size=20))
def test_random_points(point):
    _run("jacobian", "x*y", "--at", point or "1")


SCALAR = {name: sig for name, sig in FUNCTIONS.items() if sig.kind == "elementwise" and sig.arity[0] == 1}
NUMBERS = st.one_of(st.integers(-50, 50).map(str), st.floats(-1e3, 1e3, allow_nan=False).map(repr),
                    st.sampled_from(["pi", "e", "0", "1e308", "1e-308"]))


def expressions():
    leaf = st.one_of(st.sampled_from(["x", "y", "z[0]", "z[1]"]), NUMBERS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(st.sampled_from(sorted(SCALAR)), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["atan2", "max", "min", "log"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.sampled_from(["sum", "prod", "norm", "logsumexp", "mean", "max", "min"]).map(lambda f: f"{f}(z)"),
            st.sampled_from(["softmax(z)", "log_softmax(z)"]).map(lambda f: f"sum({f}*[1, 2])"),
            inner.map(lambda a: f"-{a}"),
        )

    return st.recursive(leaf, extend, max_leaves=12)


POINT = st.tuples(*(st.floats(-5, 5, allow_nan=False) for _ in range(4))).map(
    lambda v: ["x=" + repr(v[0]), "y=" + repr(v[1]), f"z=[{v[2]!r},{v[3]!r}]"])


@FUZZ
@given(expression=expressions(), point=POINT,
       command=st.sampled_from(["jacobian", "gradient", "hessian", "check"]),
       check=st.booleans())
def test_well_formed_expressions(expression, point, command, check):
    args = [command, expression]
    for p in point:
        args += ["--at", p]
    args += ["--vars", "x,y,z", "--format", "json"]
    if check and command != "check":
        args.append("--check")
    _run(*args)


@settings(max_examples=150, deadline=None)
@given(expression=expressions(), order=st.integers(1, 4))
def test_well_formed_expressions_symbolic_derivative(expression, order):
    _run("derivative", expression, "--wrt", "x", "--order", str(order), "--vars", "x,y,z", "--shape", "z=2")


WIDE = "[" + ", ".join(f"{0.1 * i - 3:.1f}" for i in range(70)) + "]"  # 70 entries: the numeric path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=expressions(), x=st.floats(-5, 5, allow_nan=False),
       command=st.sampled_from(["jacobian", "gradient", "derivative"]))
def test_well_formed_expressions_on_the_numeric_path(expression, x, command):
    args = [command, expression, "--at", f"x={x!r}", "--at", "y=0.5", "--at", f"z={WIDE}", "--vars", "x,y,z",
            "--format", "json"]
    if command == "derivative":
        args += ["--wrt", "z"]
    _run(*args)
