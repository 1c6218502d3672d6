"""Limits checked on sizes before the work or the allocation, on every path, named in their messages (issue 14)."""

from __future__ import annotations

import pytest

from jaccli import ad, compute, ir, limits, symbolic
from jaccli.errors import LimitError, ShapeError


@pytest.fixture
def no_lowering(monkeypatch):
    """Fail the test if sympy's form is built: the limit must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("lowered before the limit was checked")

    monkeypatch.setattr(symbolic, "lower", refuse)


@pytest.mark.parametrize(("args", "fragment"), [
    (["gradient", "sum(x)", "--shape", "x=1000000000"], "--shape x: 1000000000 entries; the limit is 1e+07"),
    (["gradient", "sum(x)", "--shape", "x=" + "x".join(["2"] * 40)], "--shape x: 40 dimensions; the limit is 16"),
    (["gradient", "sum(sin(x)*cos(x))", "--shape", "x=90000"], "too large to differentiate symbolically"),
    (["jacobian", "x", "--shape", "x=200000"], "200000 input values are too many for symbolic differentiation"),
    (["hessian", "sum(x**2)", "--shape", "x=1001"], "the Hessian would have 1001×1001 = 1002001 entries"),
])
def test_shapes_are_refused_before_sympy_builds_anything(run, no_lowering, args, fragment):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and fragment in err


def test_the_python_api_checks_shapes_too(no_lowering):
    with pytest.raises(LimitError, match="1e\\+07"):
        compute.gradient("sum(x)", shapes={"x": (10**9,)})
    with pytest.raises(LimitError, match="dimensions"):
        compute.jacobian("x", shapes={"x": (1,) * 17})


def test_the_dense_limit_holds_on_the_numeric_path(run, tmp_path, monkeypatch):
    def refuse(self, *args):
        raise AssertionError("the dense Jacobian was started")

    monkeypatch.setattr(ad.Problem, "reverse_rows", refuse)
    monkeypatch.setattr(ad.Problem, "forward_columns", refuse)
    (tmp_path / "x").write_text(",".join(["1"] * 1001))  # 1001×1001 > 10⁶, and the numeric path (> 64 inputs)
    code, _, err = run("jacobian", "x*2", "--at", f"@{tmp_path / 'x'}")
    assert code == 2
    assert err == ("Error: the Jacobian would have 1001×1001 = 1002001 entries; the limit is 1000000: use "
                   "'jaccli vjp' or 'jaccli jvp' for products with it, or fewer inputs\n")
    assert limits.MAX_DENSE_ENTRIES == 10**6


def test_at_the_dense_limit_it_still_works(run, tmp_path):
    (tmp_path / "x").write_text(",".join(["0.5"] * 1000))
    code, out, _ = run("jacobian", "x*2", "--at", f"@{tmp_path / 'x'}", "--format", "plain")
    rows = out.splitlines()
    assert code == 0 and len(rows) == 1000 and rows[3].split()[3] == "2" and rows[3].split()[4] == "0"


def test_the_size_estimate_counts_entries_of_array_nodes():
    from jaccli.parsing import parse

    root = ir.build(parse("sum(sin(x)*cos(x)) + x[0]*y").tree, {"x": (1000,), "y": ()})
    # x, sin, cos, * (1000 entries each: x is one node, however often it is written); sum; x[0], y, *; +
    assert limits.symbolic_size(root) == 4 * 1000 + 1 + 3 + 1
    assert limits.symbolic_size(ir.build(parse("x + y").tree, {"x": (3,), "y": ()})) == 3 + 1 + 3


@pytest.mark.parametrize("args", [
    ["gradient", "sum(x**2)", "--shape", "x=30"], ["hessian", "sum(x**3)", "--shape", "x=20"],
    ["jacobian", "softmax(x)", "--shape", "x=10"],
])
def test_ordinary_sizes_pass(run, args):
    assert run(*args)[0] == 0


@pytest.mark.parametrize(("shape", "at"), [("x=3", "1,2"), ("x=2x2", "1,2,3,4"), ("x=1", "1")])
def test_a_shape_that_contradicts_the_point_is_an_error(run, shape, at):
    code, _, err = run("gradient", "sum(x)", "--shape", shape, "--at", at)
    assert code == 2 and "contradicts the point" in err


def test_a_shape_that_agrees_with_the_point_is_fine(run):
    assert run("gradient", "sum(x)", "--shape", "x=2", "--at", "1,2") == (0, "1\n1\n", "")
    with pytest.raises(ShapeError):
        compute.gradient("sum(x)", ["1,2"], shapes={"x": (3,)})
