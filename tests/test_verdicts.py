"""Verdicts that are right: non-finite exact values, --check at tiny x, cancellation near a removable
singularity (issue 14)."""

from __future__ import annotations

import json
import math

import mpmath
import pytest


@pytest.mark.parametrize(("expression", "at"), [("tan(x)", "pi/2"), ("1/x", "0"), ("log(x)", "0"),
                                                ("sqrt(x)", "0")])
def test_a_non_finite_exact_result_warns_and_exits_1(run, expression, at):
    code, out, err = run("derivative", expression, "--at", at, "--exact")
    assert code == 1, (out, err)
    assert out.strip() in ("zoo", "nan", "oo", "-oo")
    assert "Warning:" in err and "not finite" in err


def test_a_finite_exact_result_is_still_exit_0(run):
    assert run("derivative", "tan(x)", "--at", "pi/4", "--exact") == (0, "2\n", "")


@pytest.mark.parametrize(("expression", "at", "expected"), [
    ("sqrt(x)", 1e-300, 0.5 / math.sqrt(1e-300)),  # 5e149: the step must be far below x
    ("log(x)", 1e-200, 1e200),
    ("x**3", 1e-100, 3e-200),
    ("exp(x)", 0.0, 1.0),
    ("sin(x)", 1e300, None),  # at 10**300 as typed, not at the double nearest it (whose cosine differs)
])
def test_check_scales_its_step_to_x(run, expression, at, expected):
    code, out, err = run("derivative", expression, "--at", repr(at), "--check", "--format", "json")
    doc = json.loads(out)
    assert code == 0, err
    if expected is None:
        with mpmath.workdps(400):
            expected = float(mpmath.cos(mpmath.mpf(10) ** 300))
    assert doc["value"] == pytest.approx(expected, rel=1e-12)
    assert doc["ok"] is True and "agrees" in err


@pytest.mark.parametrize("expression", ["1/x", "1/x**2", "exp(1/x)"])
def test_check_never_leaks_numpy_warnings(run, expression):
    _, _, err = run("check", expression, "--at", "1e-300")
    assert "RuntimeWarning" not in err and "verify.py" not in err
    assert all(line.startswith(("Warning:", "Check:")) for line in err.splitlines())


@pytest.mark.parametrize(("expression", "at", "expected"), [
    ("sin(x)/x", 1e-10, -1e-10 / 3),  # d/dx sin(x)/x = -x/3 + O(x³)
    ("(1 - cos(x))/x**2", 1e-5, -1e-5 / 12),  # d/dx (1/2 - x²/24 + …) = -x/12
    ("(exp(x) - 1)/x", 1e-9, 0.5),
])
def test_a_removable_singularity_gets_the_right_value_and_no_warning(run, expression, at, expected):
    code, out, err = run("derivative", expression, "--at", repr(at), "--format", "json")
    assert (code, err) == (0, "")  # the exact value, correctly rounded: nothing in doubt to warn about
    assert json.loads(out)["value"] == pytest.approx(expected, rel=1e-6)


def test_an_accurate_value_is_left_alone(run):
    code, out, err = run("derivative", "sin(x)/x", "--at", "1")
    assert (code, err) == (0, "") and float(out) == pytest.approx(math.cos(1) - math.sin(1), rel=1e-15)
