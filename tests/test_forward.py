"""Forward mode (``jaccli.forward``): elementwise expressions in scalar variables, one point or many.

References: sympy's symbolic Jacobian evaluated independently (the symbolic path's own
evaluator), closed forms, and the single-point result for each batch row.
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import coordinates, expressions  # the same random trees (tests/ is on sys.path)

from jaccli import compute, forward
from jaccli.parsing import parse


def _symbolic_jacobian(text: str, points: np.ndarray) -> np.ndarray:
    """sympy's Jacobian of ``text`` in x, y, evaluated row by row by the symbolic path's evaluator."""
    from jaccli import batch, calculus

    problem = compute.Problem(text, None, ["x", "y"])
    exprs = calculus.jacobian(problem.outputs, problem.inputs)
    values, _ = batch.evaluate(exprs, problem.labels, points)
    return values


@given(st.lists(expressions, min_size=1, max_size=3), st.lists(st.tuples(coordinates, coordinates), min_size=1,
                                                               max_size=5))
def test_batch_matches_the_symbolic_jacobian_and_each_single_point(exprs, pts):
    text = "[" + ", ".join(t for t, _ in exprs) + "]"
    points = np.array(pts, dtype=float)
    result = compute.jacobian(text, None, ["x", "y"], many=True)
    assert result.symbolic is None  # forward mode: no symbolic form was built
    values, _ = result.batch(points)
    reference = _symbolic_jacobian(text, points)
    finite = np.isfinite(reference) & (np.abs(reference) < 1e8)
    np.testing.assert_allclose(values[finite], reference[finite], rtol=1e-9, atol=1e-9, err_msg=text)
    for row, (x, y) in zip(values, pts):  # each batch row is the --at result, bit for bit
        single = compute.jacobian(text, [f"x={x!r}", f"y={y!r}"], ["x", "y"]).value
        assert np.array_equal(row, single, equal_nan=True), text


def test_spherical_coordinates_against_the_closed_form():
    tree = parse("[r*sin(t)*cos(p), r*sin(t)*sin(p), r*cos(t)]", ["r", "t", "p"])
    rng = np.random.default_rng(3)
    r, t, p = rng.uniform(0.5, 2, 50), rng.uniform(0, np.pi, 50), rng.uniform(0, 2 * np.pi, 50)
    jac, kinks = forward.jacobian(tree.tree, tree.variables, np.column_stack([r, t, p]))
    st_, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
    closed = np.stack([st_ * cp, r * ct * cp, -r * st_ * sp, st_ * sp, r * ct * sp, r * st_ * cp,
                       ct, -r * st_, 0 * r], axis=1).reshape(50, 3, 3)
    np.testing.assert_allclose(jac, closed, rtol=1e-14, atol=1e-15)
    assert np.all(jac[:, 2, 2] == 0) and not kinks  # d(r cos t)/dp is a structural, exact zero


@pytest.mark.parametrize(("text", "supported"), [
    ("[x*y, x + y]", True),
    ("atan2(y, x) + min(x, y, 1)", True),
    ("[[x, 1], [2, y]] * x", True),
    ("log(x, 2)", True),
    ("x/0", False),  # the symbolic path refuses it with a message; forward mode would print inf
    ("x**(10**100)", False),
    ("2**10**10 + x", False),
    ("log(x, 1)", False),
    ("sqrt(-1) * x", False),
    ("sum([x, y])", False),  # a reduction
    ("max([x, y])", False),
    ("softmax([x, y])", False),
])
def test_what_forward_mode_takes(text, supported):
    function = parse(text, None)
    assert forward.supports(function.tree, {v: () for v in function.variables}) is supported


def test_array_variables_are_not_forward_mode():
    function = parse("x**2", None)
    assert not forward.supports(function.tree, {"x": (3,)})


def test_list_entries_of_different_shapes_are_refused():
    function = parse("[[x, y], x]", None)
    with pytest.raises(Exception, match="equal shapes"):
        forward.output_shape(function.tree, function.variables)


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
