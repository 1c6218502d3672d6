"""Hostile and broken input: every case ends with ``Error:``, exit 2, no traceback.

How quickly is measured in ``bench/`` (a wall-clock assert fails whenever the second core is busy); here the
limits are shown to be checked before the work by their messages and, in test_limits.py, by refusing to build.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jaccli"

# (expression, point or None, a fragment the message must contain)
INJECTIONS = [
    ("__import__('os').system('touch CANARY')", "only named functions can be called"),
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__.__bases__", "attribute access"),
    ("x.__class__", "attribute access"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ('eval("1")', "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("[c for c in ()]", "comprehensions are not allowed"),
    ("{c for c in x}", "comprehensions are not allowed"),
    ("sum(c for c in x)", "comprehensions are not allowed"),
    ("lambda: 0", "lambda is not allowed"),
    ("(y:=1)", "':=' is not allowed"),
    ('f"{x}"', "strings are not allowed"),
    ("'touch CANARY'", "strings are not allowed"),
    ("b'x'", "strings are not allowed"),
    ("sin(*x)", "'*' unpacking is not allowed"),
    ("sin(x=1)", "takes no keyword arguments"),
    ("__builtins__", "names may not start with '_'"),
    ("sin.__globals__", "attribute access"),
    ("x[1:n]", "slice bounds must be constant whole numbers"),
    ("x[y]", "an index must be a constant whole number"),
    ("x[1:2:0]", "slice step cannot be zero"),
    ("x[1.5]", "an index must be a constant whole number"),
    ("x[:10**12]", "slice bounds must be constant whole numbers"),
    ("x[:1000000000000]", "slice too large"),
    ("(lambda: 0)()", "only named functions can be called"),
    ("x if x else 1", "'if' expressions are not allowed"),
    ("x is 1", "only the comparisons < <= > >= == != are allowed"),
    ("1 < x < 2", "chained comparisons"),
    ("x and y", "'and'/'or' are not allowed"),
    ("{'a': 1}", "dictionaries are not allowed"),
    ("x // 2", "'//'"),
    ("x @ 2", "'@' needs arrays"),
    ("x.T.__class__", "attribute access"),
    ("x.t", "the one attribute is .T"),
    ("x.T()", "only named functions can be called"),
    ("(x).T.T.real", "attribute access"),
    ("~x", "'~'"),
    ("None", "is not a number"),
    ("True", "is not a number"),
    ("...", "is not a number"),
    ("x; import os", "syntax error"),
    ("import os", "syntax error"),
]

BOMBS = [
    ("x*9**9**9**9", "too large"),
    ("x**(10**100)", "too large"),
    ("x*2**10**10", "too large"),
    ("x*(2**1000)**1000", "too large to compute"),
    ("x**2**2**2**2**2", "too large"),
    ("x*(sqrt(2)*10**500)**10000", "too large to compute"),
    ("x*1e300**10000", "too large to compute"),
    ("x*(1/3)**100000", "too large"),
    ("x*e**1e10", "too large"),
    ("x*2**(pi*10**100)", "too large"),
    ("x**1e400", "too large for a float"),
    ("x*sin(exp(exp(exp(10.0))))", "too large to evaluate"),
    ("x*" + "9" * 1001, "digits; the limit is 1000"),
    ("x+" * 500_001, "characters long; the limit is 1000000"),
    ("[" * 150 + "x" + "]" * 150, "nests too deeply"),
    ("1+" + "-" * 500 + "x", "nests too deeply"),
    ("sin(" * 120 + "x" + ")" * 120, "nests too deeply"),
    ("x" + "**x" * 200, "nests too deeply"),
]

BROKEN = [
    # (args, message fragment)
    (["jacobian", "sinn(x)", "--at", "1"], "unknown function 'sinn' — did you mean 'sin'"),
    (["jacobian", "expp(x)", "--at", "1"], "did you mean 'exp'"),
    (["jacobian", "sin(x, y)", "--at", "1,2"], "sin() takes 1 argument, got 2"),
    (["jacobian", "atan2(x)", "--at", "1"], "atan2() takes 2 arguments, got 1"),
    (["jacobian", "x*y", "--at", "1"], "2 variables (x, y) need 2 values"),
    (["jacobian", "x*y", "--at", "1,2,3"], "need 2 values"),
    (["jacobian", "x*y", "--at", "x=1"], "no value for y"),
    (["jacobian", "x", "--at", "z=1"], "does not use"),
    (["jacobian", "x", "--at", "abc"], "unknown name 'abc'"),
    (["jacobian", "x", "--at", "nan"], "NaN and infinity are not allowed"),
    (["jacobian", "x", "--at", "inf"], "NaN and infinity are not allowed"),
    (["jacobian", "x", "--at", "1e999"], "not a finite number"),
    (["jacobian", "x", "--at", "1,,2"], "empty value at position 2"),
    (["jacobian", "x", "--at", "1..2"], "syntax error"),
    (["jacobian", "x", "--at", "0x1g"], "syntax error"),
    (["jacobian", "x", "--at", "[[1,2],[3]]"], "ragged"),
    (["jacobian", "x", "--at", ""], "no values given"),
    (["jacobian", "", "--at", "1"], "empty expression"),
    (["jacobian", "   ", "--at", "1"], "empty expression"),
    (["jacobian", "x +", "--at", "1"], "syntax error"),
    (["jacobian", "x[3]", "--at", "x=[1,2]"], "out of range"),
    (["jacobian", "x + y", "--at", "x=[1,2]", "--at", "y=[1,2,3]"], "do not broadcast"),
    (["jacobian", "dot(x, y)", "--at", "x=[1,2]", "--at", "y=[1,2,3]"], "needs equal shapes"),
    (["jacobian", "x/0", "--at", "1"], "division by zero"),
    (["jacobian", "log(x, 1)", "--at", "2"], "log to base 1 is undefined"),
    (["gradient", "[x, y]", "--at", "1,2"], "needs a scalar function"),
    (["derivative", "x*y", "--at", "1,2"], "--wrt"),
    (["derivative", "sin(x)", "--order", "25", "--at", "1"], "between 1 and 20"),
    (["derivative", "sin(x)", "--order", "0", "--at", "1"], "between 1 and 20"),
    (["jacobian", "x", "--at", "@/nonexistent/file"], "cannot read"),
    (["jacobian", "x", "--vars", "x,x", "--at", "1,2"], "twice"),
    (["jacobian", "x*y", "--vars", "x", "--at", "1"], "leaves out y"),
    (["jacobian", "x", "--vars", "sin", "--at", "1"], "reserved name"),
    (["jacobian", "x", "--precision", "99", "--at", "1"], "precision"),
    (["nosuchcommand"], "No such command"),
    (["check", "x*y"], "check needs a point"),
    (["jacobian", "x*y", "--check"], "--check needs a point"),
]


def _assert_clean(code, out, err, fragment):
    assert code == 2, (code, out, err)
    assert err.startswith("Error: "), err
    assert fragment in err, err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(("expression", "fragment"), INJECTIONS, ids=[e for e, _ in INJECTIONS])
def test_code_is_rejected(run, expression, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run("jacobian", expression, "--at", "1")
    _assert_clean(code, out, err, fragment)
    assert not (tmp_path / "CANARY").exists()


@pytest.mark.parametrize(("expression", "fragment"), BOMBS, ids=[e[:40] for e, _ in BOMBS])
def test_resource_bombs_fail_cleanly(run, expression, fragment):
    code, out, err = run("jacobian", expression, "--at", "2")
    _assert_clean(code, out, err, fragment)


@pytest.mark.parametrize(("args", "fragment"), BROKEN, ids=[" ".join(a)[:50] for a, _ in BROKEN])
def test_broken_input_has_a_useful_message(run, args, fragment):
    code, out, err = run(*args)
    _assert_clean(code, out, err, fragment)


def test_syntax_error_shows_a_caret(run):
    code, _, err = run("jacobian", "x + * y", "--at", "1,2")
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("Error: syntax error")
    assert lines[1] == "  x + * y"
    assert lines[2] == "      ^"  # under the '*', column 4


def test_unknown_function_points_at_it(run):
    _, _, err = run("jacobian", "x + sinn(x)", "--at", "1")
    assert err.splitlines()[1:] == ["  x + sinn(x)", "      ^"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["jacobian", "x*2", "--at", "@{huge}"], "use 'jaccli vjp'"),  # 10001×10001 dense Jacobian, numeric path
    (["hessian", "sum(x**2)", "--at", "@{big}"], "limit is 1000000"),
    (["jacobian", "x + y", "--shape", "x=400x1", "--shape", "y=1x400"], "intermediate array"),
    (["jacobian", "x + y", "--at", "x=@{col}", "--at", "y=@{row}"], "use 'jaccli vjp'"),  # 160000×800
    (["jacobian", "prod(x)", "--shape", "x=2000"], "too large to differentiate symbolically"),
    (["jacobian", "softmax(x)", "--shape", "x=600"], "too large to differentiate symbolically"),
    (["derivative", "exp(sin(x)*cos(x))/(1+x**2)", "--order", "20"], "lower --order"),  # at a point: computed
])
def test_size_limits_are_checked_before_building(run, tmp_path, args, fragment):
    (tmp_path / "big").write_text("[" + ",".join(["1"] * 2000) + "]")
    (tmp_path / "huge").write_text(",".join(["1"] * 10001))
    (tmp_path / "mid").write_text("[" + ",".join(["1"] * 600) + "]")
    (tmp_path / "col").write_text("[" + ",".join(["[1]"] * 400) + "]")
    (tmp_path / "row").write_text("[[" + ",".join(["1"] * 400) + "]]")
    args = [a.format(big=tmp_path / "big", col=tmp_path / "col", row=tmp_path / "row",
                     mid=tmp_path / "mid", huge=tmp_path / "huge") for a in args]
    code, out, err = run(*args)
    _assert_clean(code, out, err, fragment)


def test_no_code_evaluating_calls_in_the_package():
    pattern = re.compile(r"(?<![\w.])(eval|exec|sympify|parse_expr|S)\(|\.(sympify|parse_expr)\(|\bsympy\.S\(")
    for path in PACKAGE.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0].replace("def eval(", "")  # sympy's Function.eval hook
            assert not pattern.search(code), f"{path.name}:{number}: {line.strip()}"


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "jaccli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)  # a safety net, not a measurement


@pytest.mark.parametrize("expression", [
    "__import__('os').system('touch CANARY')",
    "().__class__.__bases__[0].__subclasses__()",
    "x*9**9**9**9",
    "(" * 1000 + "x" + ")" * 1000,
])
def test_subprocess_injections_and_bombs(tmp_path, expression):
    proc = _cli("jacobian", expression, "--at", "1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "CANARY").exists()


def test_subprocess_point_cannot_inject(tmp_path):
    proc = _cli("jacobian", "x", "--at", "x=__import__('os').system('touch CANARY')", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("Error: ")
    assert not (tmp_path / "CANARY").exists()


def test_python_syntax_warnings_never_reach_stderr(run):
    code, _, err = run("jacobian", "1if x else 2")
    assert code == 2 and "SyntaxWarning" not in err and err.count("\n") == 3  # Error line + caret pair


@pytest.mark.parametrize(("expression", "fragment"), [
    ("sum(x/0)", "division by zero"),
    ("sum(x**(10**100))", "exponent"),
    ("sum(9**9**9**9 * x)", "too large"),
    ("sum(log(x, 1))", "log to base 1"),
])
@pytest.mark.parametrize("where", [["--at", ",".join(["0.5"] * 70)], ["--points", "-"]])
def test_refused_constants_are_refused_on_every_path(run, expression, fragment, where):
    # 70 values take the numeric path (no sympy), --points forward mode: both must say what sympy says
    stdin = "0.5\n" if where[0] == "--points" else None
    text = expression.replace("sum(", "(") if where[0] == "--points" else expression
    code, out, err = run("gradient", text, *where, input=stdin)
    assert code == 2, (out, err)
    assert fragment in err and "Traceback" not in err


# The notation pass (2x, sin x, |x|, √x, x², π …) in front of the whitelist: same safety, same limits.
NOTATION = [
    ("ｅｖａｌ(1)", "U+FF45 FULLWIDTH LATIN SMALL LETTER E"),  # NFKC would make it eval for ast: refused first
    ("ѕin(x)", "CYRILLIC SMALL LETTER DZE"),  # a homoglyph of s
    ("si\u200bn(x)", "ZERO WIDTH SPACE"),
    ("x\u202e+1", "RIGHT-TO-LEFT OVERRIDE"),
    ("x\x00", "control character"),
    ("x\x1b[31m", "control character"),
    ("|__import__('os').system('touch CANARY')|", "syntax error"),
    ("√__import__('os')", "syntax error"),
    ("2x __import__('os')", "syntax error"),
    ("sin __import__('os')", "syntax error"),
    ("|" * 300 + "x" + "|" * 300, "nests too deeply"),
    ("√" * 5000 + "x", "nests too deeply"),
    ("sin " * 2000 + "x", "nests too deeply"),
    ("x" + "²" * 5000, "digits; the limit is 1000"),
    ("(" * 1000 + "x" + ")" * 1000, "nests too deeply"),
    ("2x^" + "√" * 200 + "x", "nests too deeply"),
    ("x" + "⁻" * 10, "a superscript sign needs superscript digits"),
    ("|x|" * 340_000, "characters long; the limit is 1000000"),
]


@pytest.mark.parametrize(("expression", "derivative"), [
    ("x " * 4900, "4900"),  # a product of 4900 names: one chain, one level (once refused as 4900 levels)
    ("|x|" * 3000 + "x", "3001"),  # abs(x)*abs(x)*…*x
    ("|x" * 3000, "3000"),  # |x|x|x…: abs(x)*x*abs(x)*x…
    ("x+" * 6000 + "x", "6001"),
])
def test_long_chains_are_long_not_deep(run, expression, derivative):
    # d/dx of x^n at 1 is n: the whole chain was read and differentiated, no term lost
    code, out, err = run("derivative", expression, "--at", "1", "--format", "plain")
    assert (code, out.strip(), err) == (0, derivative, "")


@pytest.mark.parametrize(("expression", "fragment"), NOTATION, ids=[repr(e[:30]) for e, _ in NOTATION])
def test_notation_is_no_way_around_the_whitelist(run, expression, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run("jacobian", expression, "--at", "1")
    _assert_clean(code, out, err, fragment)
    assert not (tmp_path / "CANARY").exists()


def test_notation_never_evaluates(monkeypatch):
    import builtins

    from jaccli import notation
    from jaccli.registry import CONSTANTS, FUNCTIONS

    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    for text in ["2x sin x |x| √(x+1) x² π", "__import__('os').system('touch CANARY')", "(lambda: 0)()"]:
        try:
            notation.read(text, FUNCTIONS, CONSTANTS)
        except Exception as exc:  # noqa: BLE001 - any refusal is fine; evaluation is not
            assert not isinstance(exc, AssertionError)


# A NUL character in a file name (possible through the Python API or CliRunner, not a shell): open() raises
# ValueError, which was an internal error (exit 3); it is bad input, refused before any work.
@pytest.mark.parametrize("args", [
    ["gradient", "@\x00", "--at", "1"], ["gradient", "x", "--at", "@\x00"], ["gradient", "x", "--at", "x=@a\x00b"],
    ["gradient", "x", "--points", "a\x00b"], ["gradient", "x", "--at", "1", "-o", "a\x00b"],
    ["vjp", "x", "--at", "1", "--v", "@\x00"], ["gradient", "W@x", "--wrt", "x", "--at", "x=1", "--at", "W=@w\x00.npy"],
    ["chain", "@\x00", "sum(y)", "--at", "1"], ["softmax-jac", "@\x00"],
    ["jacobian", "x", "--points", "-", "-o", "x\x00"], ["plot", "x", "--range", "0,1", "-o", "a\x00.png"],
])
def test_a_nul_in_a_file_name_is_bad_input(args):
    from typer.testing import CliRunner

    from jaccli.cli import app

    result = CliRunner().invoke(app, args, input="1\n")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and "NUL character" in result.output


def test_a_nul_in_a_file_name_through_the_api():
    from jaccli import gradient
    from jaccli.errors import JaccliError

    with pytest.raises(JaccliError, match="NUL character"):
        gradient("x", at=["@\x00"])
