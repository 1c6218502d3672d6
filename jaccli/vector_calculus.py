"""div, curl and the Laplacian, in Cartesian, polar, cylindrical and spherical coordinates.

In Cartesian coordinates they are read off the engines' matrices: div F is the trace of J, curl F its
antisymmetric part, ∇²f the trace of the Hessian. In orthogonal curvilinear coordinates q with scale factors
h_i the same matrices are combined with the values of F (or ∇f) and the scale factors and their derivatives,
which are written out below for each system:

    div F  = Σ_i (1/H) ∂_i(H F_i / h_i)                       H = h_1 h_2 h_3
    curl F = (1/(h_j h_k)) (∂_j(h_k F_k) − ∂_k(h_j F_j))  along e_i, for (i, j, k) cyclic
    ∇²f    = Σ_i (1/H) ∂_i(H/h_i² ∂_i f)

The numbers come from ``ad`` (J, F, ∇f, the Hessian's diagonal) at one point or many; the formulas from
sympy, which applies the same definitions to the lowered expression: two independent routes to one answer.
Spherical coordinates are (r, θ, φ) with θ the polar angle from the z axis and φ the azimuth (ISO 80000-2).
"""

from __future__ import annotations

import numpy as np

from .compute import Numbers, Problem, _finish, _symbolic
from .compute import _formulas as formulas_or_none
from .errors import JaccliError, ShapeError
from .result import Result

COORDINATES = {  # name: the variables' roles, in order
    "cartesian": None,
    "polar": ("r", "θ"),
    "cylindrical": ("r", "θ", "z"),
    "spherical": ("r", "θ (polar angle)", "φ (azimuth)"),
}


def scale(coords: str, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale factors h (P×n) and their derivatives dh (P×n×n, dh[:, k, j] = ∂h_k/∂q_j) at P points q (P×n)."""
    q = np.asarray(q, dtype=float)
    points, n = q.shape
    h = np.ones((points, n))
    dh = np.zeros((points, n, n))
    if coords in ("polar", "cylindrical"):
        h[:, 1] = q[:, 0]  # h_θ = r
        dh[:, 1, 0] = 1.0
    elif coords == "spherical":
        r, theta = q[:, 0], q[:, 1]
        h[:, 1] = r  # h_θ = r
        h[:, 2] = r * np.sin(theta)  # h_φ = r sin θ
        dh[:, 1, 0] = 1.0
        dh[:, 2, 0] = np.sin(theta)
        dh[:, 2, 1] = r * np.cos(theta)
    return h, dh


def _symbolic_scale(coords: str, q: list):
    import sympy

    h = [sympy.S.One] * len(q)
    if coords in ("polar", "cylindrical"):
        h[1] = q[0]
    elif coords == "spherical":
        h[1] = q[0]
        h[2] = q[0] * sympy.sin(q[1])
    return h


def _problem(expression: str, at, variables, coords: str, stdin, exact: bool, command: str, shapes) -> Problem:
    if coords not in COORDINATES:
        raise JaccliError(f"--coords {coords}: use one of {', '.join(COORDINATES)}")
    if coords == "cartesian" and variables is None and command != "laplacian":
        bare = Problem(expression, None, None, shapes)  # its variables and size, before the point is read for them
        m, names = bare.root.size, set(bare.labels)
        for axes in (["x", "y"], ["x", "y", "z"]):  # [-y, x, 0] is a field in x, y, z
            if m == len(axes) != len(names) and names <= set(axes):
                return Problem(expression, at, axes, shapes, stdin=stdin, exact=exact)
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    arrays = [name for name, shape in problem.layout if shape != ()]
    if arrays:
        raise ShapeError(f"{command} takes scalar variables (one per coordinate), but {', '.join(arrays)} "
                         "is an array; write the components, e.g. --vars x,y,z")
    roles = COORDINATES[coords]
    n = len(problem.labels)
    if roles is not None:
        if variables is None:
            raise JaccliError(f"--coords {coords}: say which variable is which with --vars, in the order "
                              f"{', '.join(roles)} (e.g. --vars {','.join(_examples(coords))})")
        if n != len(roles):
            raise ShapeError(f"--coords {coords} has {len(roles)} coordinates ({', '.join(roles)}), but --vars "
                             f"names {n} ({', '.join(problem.labels) or 'none'})")
    return problem


def _examples(coords: str) -> list[str]:
    return {"polar": ["r", "t"], "cylindrical": ["r", "t", "z"], "spherical": ["r", "theta", "phi"]}[coords]


class FieldNumbers:
    """div, curl or the Laplacian at P points from the engines: J and F (div, curl), or ∇f and the Hessian."""

    def __init__(self, problem: Problem, op: str, coords: str, shape: tuple[int, ...]):
        self.problem = problem
        self.op = op
        self.coords = coords
        self.shape = shape
        n = len(problem.labels)
        if op == "laplacian":
            self.first = Numbers(problem, "gradient", (n,))
            self.second = Numbers(problem, "hessian", (n, n))
        else:
            self.first = Numbers(problem, "jacobian", (n, n))

    def env(self, columns):
        return self.first.env(columns)

    def at(self, columns: np.ndarray) -> tuple[np.ndarray, set[str]]:
        columns = np.asarray(columns, dtype=float).reshape(len(columns), -1)
        points, n = columns.shape
        h, dh = scale(self.coords, columns)
        with np.errstate(all="ignore"):  # at r = 0 or θ = 0 H / h_k is 0/0: the result there says it is not finite
            big = np.prod(h, axis=1)  # H
            d_big = np.einsum("pkj,pk->pj", dh, big[:, None] / h)  # ∂_j H = Σ_k ∂_j h_k · H / h_k
            if self.op == "laplacian":
                grad, kinks = self.first.at(columns)
                hess, more = self.second.at(columns)
                diag = np.einsum("pii->pi", hess)
                dh_ii = np.einsum("pii->pi", dh)
                weight = d_big / h**2 - 2 * big[:, None] * dh_ii / h**3  # ∂_i (H / h_i²)
                value = np.sum(diag / h**2 + weight * grad / big[:, None], axis=1)
                return value.reshape((points,) + self.shape), kinks | more
            jac, kinks = self.first.at(columns)  # jac[p, i, j] = ∂_j F_i
            field = np.asarray(self.problem.ad.value(self.first.env(columns)), dtype=float).reshape(points, n)
            if self.op == "div":
                dh_ii = np.einsum("pii->pi", dh)
                weight = d_big / h - big[:, None] * dh_ii / h**2  # ∂_i (H / h_i)
                value = np.sum(np.einsum("pii->pi", jac) / h + weight * field / big[:, None], axis=1)
                return value.reshape((points,) + self.shape), kinks

            def d(k, j):  # ∂_j (h_k F_k)
                return h[:, k] * jac[:, k, j] + dh[:, k, j] * field[:, k]

            if n == 2:
                value = (d(1, 0) - d(0, 1)) / (h[:, 0] * h[:, 1])
            else:
                value = np.stack([(d(k, j) - d(j, k)) / (h[:, j] * h[:, k])
                                  for j, k in ((1, 2), (2, 0), (0, 1))], axis=1)
            return value.reshape((points,) + self.shape), kinks


def _formulas(outputs: np.ndarray, q: list, op: str, coords: str):
    """The formula of div, curl or ∇² of the lowered ``outputs`` in the coordinates ``q``."""
    import sympy

    h = _symbolic_scale(coords, q)
    big = sympy.Mul(*h)
    if op == "laplacian":
        f = outputs.flat[0]
        expr = sum(sympy.diff(big / h[i] ** 2 * sympy.diff(f, q[i]), q[i]) for i in range(len(q))) / big
        return np.array(sympy.simplify(expr) if sympy.count_ops(expr) <= 200 else expr, dtype=object)
    field = list(outputs.flat)
    if op == "div":
        expr = sum(sympy.diff(big * field[i] / h[i], q[i]) for i in range(len(q))) / big
        return np.array(sympy.simplify(expr) if sympy.count_ops(expr) <= 200 else expr, dtype=object)

    def d(k, j):
        return sympy.diff(h[k] * field[k], q[j])

    if len(q) == 2:
        parts = [(d(1, 0) - d(0, 1)) / (h[0] * h[1])]
    else:
        parts = [(d(k, j) - d(j, k)) / (h[j] * h[k]) for j, k in ((1, 2), (2, 0), (0, 1))]
    parts = [sympy.simplify(p) if sympy.count_ops(p) <= 200 else p for p in parts]
    out = np.empty(1 if len(q) == 2 else 3, dtype=object)
    out[:] = parts
    return out.reshape(() if len(q) == 2 else (3,))


def field_operator(op: str, expression: str, at: list[str] | None = None, variables: list[str] | None = None,
                   coords: str = "cartesian", stdin=None, *, exact: bool = False, many: bool = False,
                   check: bool = False, shapes: dict | None = None) -> Result:
    """div F (n components in n variables), curl F (3-D; in 2-D the scalar curl), or ∇²f (a scalar f)."""
    if check:
        raise JaccliError(f"--check is not available for {op}; check J or the Hessian with 'jaccli check'")
    problem = _problem(expression, at, variables, coords, stdin, exact, op, shapes)
    n = len(problem.labels)
    m = problem.root.size
    names = ", ".join(problem.labels)
    if op == "laplacian":
        if m != 1:
            raise ShapeError(f"laplacian needs a scalar function, but this one has {m} outputs; "
                             "for a vector field use div or curl")
        shape, rows, column = (), ["∇²f"], "laplacian f"
    else:
        if n < 1 or m != n or len(problem.output_shape) != 1:
            raise ShapeError(f"{op} needs a vector field with one component per variable, but this one has "
                             f"{m} output{'s' * (m != 1)} and {n} variable{'s' * (n != 1)} ({names or 'none'})")
        if op == "curl" and n not in (2, 3):
            raise ShapeError(f"curl is defined in 2-D (a scalar) and 3-D, but the field has {n} components")
        if op == "div":
            shape, rows, column = (), ["∇·F"], "div F"
        elif n == 2:
            shape, rows, column = (), ["∇×F"], "curl F"
        else:
            shape, rows, column = (3,), [f"e_{name}" for name in problem.labels], "curl F"
    what = {"div": "Divergence", "curl": "Curl", "laplacian": "Laplacian"}[op]
    title = problem.title(what)
    if coords != "cartesian":
        roles = ", ".join(f"{v} = {role}" for v, role in zip(problem.labels, COORDINATES[coords], strict=True))
        title += f" ({coords} coordinates: {roles})"
    result = Result(op, expression, shape, rows, [column], title=title, extra={"coords": coords})
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        def formulas(outputs, exact):
            return _formulas(outputs, problem.inputs, op, coords)

        exprs = formulas_or_none(problem, result, formulas, exact)
    return _finish(result, problem, FieldNumbers(problem, op, coords, shape), exprs, exact, formulas=formulas)
