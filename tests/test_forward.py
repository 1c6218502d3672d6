"""Many points at once (``--points``): the numbers of one point, for a whole batch, without sympy.

References: sympy's symbolic Jacobian evaluated independently (evalf), closed forms, and the
single-point result for each batch row.
"""

import subprocess
import sys

import numpy as np
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st
from test_properties import coordinates, expressions  # the same random trees (tests/ is on sys.path)

from jaccli import compute
from jaccli.errors import JaccliError


def _symbolic_jacobian(text: str, points: np.ndarray) -> np.ndarray:
    """sympy's Jacobian of ``text`` in x, y at each point, by evalf."""
    return np.array([reference.jacobian(text, ["x", "y"], [f"x={float(x)!r}", f"y={float(y)!r}"]) for x, y in points])


@given(st.lists(expressions, min_size=1, max_size=3), st.lists(st.tuples(coordinates, coordinates), min_size=1,
                                                               max_size=5))
def test_batch_matches_the_symbolic_jacobian_and_each_single_point(exprs, pts):
    text = "[" + ", ".join(t for t, _ in exprs) + "]"
    points = np.array(pts, dtype=float)
    result = compute.jacobian(text, None, ["x", "y"], many=True)
    assert result.symbolic is None  # many points: no symbolic form was built
    values, _ = result.numbers.at(points)
    reference = _symbolic_jacobian(text, points)
    finite = np.isfinite(reference) & (np.abs(reference) < 1e8)
    np.testing.assert_allclose(values[finite], reference[finite], rtol=1e-9, atol=1e-9, err_msg=text)
    for row, (x, y) in zip(values, pts):  # a batch row is float64 arithmetic; --at is correctly rounded
        single = compute.jacobian(text, [f"x={x!r}", f"y={y!r}"], ["x", "y"]).value
        both = np.isfinite(row) & np.isfinite(single) & (np.abs(single) < 1e8)
        np.testing.assert_allclose(row[both], single[both], rtol=1e-9, atol=1e-9, err_msg=text)


def test_spherical_coordinates_against_the_closed_form():
    result = compute.jacobian("[r*sin(t)*cos(p), r*sin(t)*sin(p), r*cos(t)]", None, ["r", "t", "p"], many=True)
    rng = np.random.default_rng(3)
    r, t, p = rng.uniform(0.5, 2, 50), rng.uniform(0, np.pi, 50), rng.uniform(0, 2 * np.pi, 50)
    jac, kinks = result.numbers.at(np.column_stack([r, t, p]))
    st_, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
    closed = np.stack([st_ * cp, r * ct * cp, -r * st_ * sp, st_ * sp, r * ct * sp, r * st_ * cp,
                       ct, -r * st_, 0 * r], axis=1).reshape(50, 3, 3)
    np.testing.assert_allclose(jac, closed, rtol=1e-14, atol=1e-15)
    assert np.all(jac[:, 2, 2] == 0) and not kinks  # d(r cos t)/dp is a structural, exact zero


@pytest.mark.parametrize("text", ["x/0", "x**(10**100)", "2**10**10 + x", "log(x, 1)", "sqrt(-1) * x"])
def test_refused_constants_are_refused_at_points_and_symbolically(text):
    with pytest.raises(JaccliError):
        compute.jacobian(text, None, ["x"])
    with pytest.raises(JaccliError):
        compute.jacobian(text, None, ["x"], many=True)


@pytest.mark.parametrize("text", ["[x*y, x + y]", "atan2(y, x) + min(x, y, 1)", "log(x, 2)", "sum([x, y])",
                                  "max([x, y])", "softmax([x, y])"])
def test_batches_of_any_expression_match_single_points(text):
    points = np.array([[0.5, 2.0], [1.5, -0.25]])
    values, _ = compute.jacobian(text, None, ["x", "y"], many=True).numbers.at(points)
    for row, (x, y) in zip(values, points):  # float64 rows, and the correctly rounded --at value: a few ulps apart
        single = compute.jacobian(text, [f"x={float(x)!r}", f"y={float(y)!r}"], ["x", "y"]).value
        np.testing.assert_allclose(row, single, rtol=8 * np.finfo(float).eps, atol=0)


def test_list_entries_of_different_shapes_are_refused():
    with pytest.raises(Exception, match="equal shapes"):
        compute.jacobian("[[x, y], x]", None)


def test_refused_constants_keep_the_symbolic_message(run):
    code, out, err = run("jacobian", "x/0", "--points", "-", input="1\n")
    assert code == 2 and "division by zero" in err


@pytest.mark.parametrize("command", [["jacobian", "[x*y, sin(x)]"], ["gradient", "x*y**2"],
                                     ["derivative", "x*y**2", "--wrt", "y"]])
def test_points_in_forward_mode_never_import_sympy(command):
    code = ("import sys; from jaccli.cli import app\n"
            f"sys.argv = ['jaccli', *{command!r}, '--points', '-', '--format', 'csv']\n"
            "try:\n    app()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
            "assert 'sympy' not in sys.modules, 'sympy was imported'\n")
    out = subprocess.run([sys.executable, "-c", code], input="1 2\n3 4\n", capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert len(rows) == 3


def test_gradient_and_derivative_batches_against_closed_forms(run):
    code, out, _ = run("gradient", "x*y**2", "--points", "-", "--format", "csv", input="1 2\n3 4\n")
    assert code == 0
    assert out.splitlines() == ["x,y,df/dx,df/dy", "1,2,4,4", "3,4,16,24"]
    code, out, _ = run("derivative", "[x*y**2, x]", "--wrt", "y", "--points", "-", "--format", "plain",
                       input="1 2\n3 4\n")
    assert code == 0
    assert out.splitlines() == ["4 0", "24 0"]
