"""Critical points of a scalar function in n variables, optionally under equality constraints g = 0.

A critical point solves ∇f = 0; with constraints, the Lagrange conditions ∇f = Σ λ_j ∇g_j, g = 0, which
are the critical points of L(x, λ) = f − Σ λ_j g_j over (x, λ). So both are one problem: ∇L = 0.

- Exactly: sympy's ``solve`` within a time budget, keeping the real, isolated solutions.
- Otherwise, from ``--at``: Newton's method on ∇L = 0, with the gradient and the Hessian of L from the
  engines (``ad``); the multipliers start at the least-squares fit of ∇f = Jgᵀλ.

Each point is classified from the Hessian of L in x, restricted to the directions the constraints allow
(the null space of Jg: this is the bordered-Hessian test in another form): minimum (positive definite),
maximum (negative definite), saddle (both signs), or degenerate (a zero eigenvalue: the test is inconclusive).
"""

from __future__ import annotations

import re

import numpy as np

from .compute import Numbers, Problem
from .errors import JaccliError, ShapeError
from .result import Result

SOLVE_SECONDS = 10.0  # sympy's solve of ∇L = 0
MAX_POINTS = 50  # exact solutions listed
NEWTON_ITERATIONS = 100
NEWTON_TOL = 1e-12  # |∇L| at a point found by Newton, relative to the size of the terms (at least 1)
DEFINITE_RTOL = 1e-8  # an eigenvalue within this of the largest |eigenvalue| (at least 1) counts as zero


def _multiplier_names(taken: set[str], m: int) -> list[str]:
    names, k = [], 0
    while len(names) < m:
        name = f"lam{k + 1}" if m > 1 else "lam"
        while name in taken:
            name += "_"
        names.append(name)
        k += 1
    return names


def _side(text: str) -> str:
    """A constraint as an expression equal to zero: ``g`` or ``lhs = rhs`` (as ``(lhs) - (rhs)``; ``==`` too)."""
    if re.search(r"<|>|!=", text):  # a comparison is a 0/1 function: g = 0 would silently mean "it fails"
        raise JaccliError(f"--constraint '{text}': only equations are supported (g, or lhs = rhs); an inequality "
                          "constraint is not")
    text = re.sub(r"(?<![<>=!])==(?!=)", "=", text)
    parts = [part.strip() for part in re.split(r"(?<![<>=!])=(?!=)", text)]
    if len(parts) == 1:
        return text
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise JaccliError(f"--constraint '{text}': write g (meaning g = 0) or lhs = rhs, with one '='")
    return f"({parts[0]}) - ({parts[1]})"


def _solve(gradient: list, unknowns: list):
    """Real, isolated solutions of gradient = 0 (run inside the budget): [[exact values]], or a reason."""
    import sympy

    solutions = sympy.solve(gradient, unknowns, dict=True)
    points = []
    for solution in solutions:
        if len(solution) < len(unknowns) or any(v.free_symbols for v in solution.values()):
            return "sympy finds a family of critical points (a curve or surface), not isolated ones"
        values = [sympy.nsimplify(solution[u]) if solution[u].is_Float else solution[u] for u in unknowns]
        if all(v.is_real is not False and not sympy.im(v.evalf(30)) for v in values):
            points.append([sympy.simplify(v) for v in values])
    return points


def critical(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             constraints: list[str] | None = None, stdin=None) -> Result:
    """The critical points of f (under ``constraints``), each with its value, multipliers and type."""
    from . import points as point_io
    from .parsing import parse

    shown = [c.strip() if "=" in c else f"{c.strip()} = 0" for c in constraints or []]
    constraints = [_side(c) for c in constraints or []]
    f_names = parse(expression, None).variables
    names = list(variables) if variables else None
    if names is None:
        seen = list(f_names)
        for g in constraints:
            seen += [v for v in parse(g, None).variables if v not in seen]
        names = seen
    lams = _multiplier_names(set(names), len(constraints))
    lagrangian = f"({expression})" + "".join(f" - {lam}*({g})" for lam, g in zip(lams, constraints, strict=True))
    problem = Problem(lagrangian, None, names + lams, exact=True)  # 0.3 is 3/10: solved exactly, not a float's root
    if problem.root.size != 1 or Problem(expression, None, names).root.size != 1:
        raise ShapeError("critical needs a scalar function (and scalar constraints)")
    arrays = [name for name, shape in problem.layout if shape != ()]
    if arrays:
        raise ShapeError(f"critical takes scalar variables, but {', '.join(arrays)} is indexed as an array; "
                         "name each variable")
    n, m = len(names), len(lams)
    if m >= n:
        raise JaccliError(f"{m} constraint{'s' * (m > 1)} on {n} variable{'s' * (n > 1)} leave nothing to optimise")
    grad = Numbers(problem, "gradient", (n + m,))
    hess = Numbers(problem, "hessian", (n + m, n + m))
    start = None
    if at:
        bound = point_io.bind(tuple(names), at, stdin)
        start = np.array([float(bound[v].array) for v in names])

    found, method, reason = _exact(problem, n + m)
    if found is None:
        if start is None:
            raise JaccliError(f"no exact critical points: {reason}; give --at to search numerically from a point "
                              "(Newton's method)")
        root = _newton(grad, hess, start, n, m)
        polished = _polished(problem, root)
        found = [(None, root, None) if polished is None else (None, *polished)]
        method = f"by Newton's method from --at (exact solving: {reason})"
        if polished is None:
            method += "; float64, not polished to the last digit"
    return _result(expression, shown, names, lams, problem, found, hess, method)


def _exact(problem: Problem, size: int):
    """([(exact values, floats)], method, None), or (None, None, why not)."""
    from . import budget, calculus

    f = problem.outputs.flat[0]
    gradient = list(calculus.gradient(f, problem.inputs))
    try:
        solved = budget.within(SOLVE_SECONDS, "solving ∇f = 0 exactly", _solve, gradient, problem.inputs)
    except budget.OutOfTime as exc:
        return None, None, str(exc)
    except JaccliError as exc:
        return None, None, str(exc)
    if isinstance(solved, str):
        return None, None, solved
    if len(solved) > MAX_POINTS:
        return None, None, f"{len(solved)} solutions, more than the {MAX_POINTS} listed"
    found = []
    for values in solved:
        try:
            floats = np.array([float(v.evalf(30)) for v in values])
        except (TypeError, ValueError):
            continue
        found.append((values, floats, None))
    found.sort(key=lambda item: tuple(item[1]))
    return found, "exactly by sympy's solve", None


def _newton(grad: Numbers, hess: Numbers, start: np.ndarray, n: int, m: int) -> np.ndarray:
    z = np.concatenate([start, np.zeros(m)])
    if m:  # multipliers: least squares of ∇f = Jgᵀ λ at the start
        g0 = grad.at(z[None])[0][0][:n]
        jg = -hess.at(z[None])[0][0][n:, :n]
        z[n:] = np.linalg.lstsq(jg.T, g0, rcond=None)[0]
    residual = np.inf
    for _ in range(NEWTON_ITERATIONS):
        g = grad.at(z[None])[0][0]
        h = hess.at(z[None])[0][0]
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            raise JaccliError("Newton's method left the domain of f (the gradient is not finite); try another --at")
        residual = float(np.max(np.abs(g), initial=0))
        scale = max(1.0, float(np.max(np.abs(h), initial=0)) * max(1.0, float(np.max(np.abs(z), initial=0))))
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        z = z - step
        if residual <= NEWTON_TOL * scale or np.max(np.abs(step), initial=0) <= 1e-15 * (1 + np.max(np.abs(z))):
            g = grad.at(z[None])[0][0]
            residual = float(np.max(np.abs(g), initial=0))
            if residual <= 1e-9 * scale:
                return z
    raise JaccliError(f"Newton's method did not converge from --at in {NEWTON_ITERATIONS} iterations "
                      f"(max |∇L| = {residual:.3g}); try another --at")


POLISH_DIGITS = (40, 80)  # Newton again in multi-precision: the root at both must round to the same doubles


def _polished(problem: Problem, root: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Newton's float64 root, polished by Newton's method on the exact ∇L = 0 (literals as typed) in mpmath at 40
    and then 80 digits, from the float root: the doubles nearest the root and the value of f there, when both
    precisions agree (quadratic convergence: the last step at p digits bounds the error), else None (a singular
    Hessian, no convergence, or out of the time budget ``limits.VERIFY_SECONDS``)."""
    import time

    import mpmath

    from . import accuracy, calculus, limits
    from .special import rewrite_elementary

    deadline = time.monotonic() + limits.VERIFY_SECONDS
    f = rewrite_elementary(problem.outputs.flat[0])
    unknowns = problem.inputs
    grad = list(calculus.gradient(f, unknowns))
    hess = calculus.hessian(f, unknowns)
    previous = None
    for digits in POLISH_DIGITS:
        with mpmath.workdps(digits + 10):
            z = [mpmath.mpf(float(v)) for v in root]

            try:
                for _ in range(60):
                    if time.monotonic() > deadline:
                        return None
                    subs = dict(zip(unknowns, z, strict=True))
                    step = mpmath.lu_solve(mpmath.matrix([[_mp(e, subs, digits) for e in row] for row in hess]),
                                           mpmath.matrix([_mp(e, subs, digits) for e in grad]))
                    z = [a - b for a, b in zip(z, step, strict=True)]
                    tol = mpmath.mpf(10) ** -digits * (1 + max(abs(v) for v in z))
                    if max(abs(v) for v in step) <= tol:
                        z = [v if abs(v) > tol else mpmath.mpf(0) for v in z]  # a root at 0 is 0 at any precision
                        break
                else:
                    return None
            except (ValueError, TypeError, ZeroDivisionError):
                return None
            try:  # L = f at the root (g = 0 there)
                current = [accuracy.to_double(v) for v in z] + [accuracy.to_double(_mp(f, subs, digits))]
            except (ValueError, TypeError):
                return None
        if current == previous:
            return np.array(current[:-1]), current[-1]
        previous = current
    return None


def _mp(expr, subs: dict, digits: int):
    """A formula at a multi-precision point, as an mpmath number (``digits`` + 10 digits)."""
    import mpmath

    number = expr.evalf(digits + 10, subs=subs)
    if not number.is_Number:
        raise ValueError("not a real number")
    return mpmath.mpf(number._mpf_) if number.is_Float else mpmath.mpf(int(number.p)) / int(number.q)


def classify(hessian: np.ndarray, n: int, m: int) -> tuple[str, list[float]]:
    """The type of a stationary point of L from its Hessian over (x, λ): the eigenvalues of H_xx restricted to
    the null space of Jg (all of them without constraints)."""
    h_xx = hessian[:n, :n]
    if m:
        jg = -hessian[n:, :n]
        _, sigma, vt = np.linalg.svd(jg)
        rank = int(np.sum(sigma > max(jg.shape) * np.finfo(float).eps * (sigma[0] if sigma.size else 0)))
        basis = vt[rank:].T
        h_xx = basis.T @ h_xx @ basis
    values = np.linalg.eigvalsh((h_xx + h_xx.T) / 2) if h_xx.size else np.zeros(0)
    tol = DEFINITE_RTOL * max(1.0, float(np.max(np.abs(values), initial=0)))
    if np.all(values > tol):
        kind = "minimum"
    elif np.all(values < -tol):
        kind = "maximum"
    elif np.any(values > tol) and np.any(values < -tol):
        kind = "saddle"
    else:
        kind = "degenerate (test inconclusive)"
    return kind, [float(v) for v in values]


def _result(expression, constraints, names, lams, problem, found, hess, method) -> Result:
    import sympy

    from . import accuracy, limits
    from .render import number

    n, m = len(names), len(lams)
    f_value = Problem(expression, None, names, exact=True)
    verifier = accuracy.Verifier({}, limits.VERIFY_SECONDS)  # the exact points' coordinates and values, rounded
    unsettled = 0
    points, grid = [], []
    for exact, floats, known in found:
        value = known if known is not None else float(  # known: f at a polished root
            np.asarray(f_value.ad.value(Numbers(f_value, "gradient", (n,)).env(floats[None, :n]))).reshape(-1)[0])
        exact_f = None
        if exact is not None:
            exact_f = sympy.simplify(f_value.outputs.flat[0].xreplace(dict(zip(f_value.inputs, exact[:n],
                                                                               strict=True))))
            rounded = [None if verifier.out_of_time() else verifier.double(accuracy.prepared(v))
                       for v in [*exact, exact_f]]
            unsettled += sum(1 for r in rounded if r is None or r != r)
            floats = np.array([v if r is None or r != r else r for v, r in zip(floats, rounded, strict=False)])
            value = value if rounded[-1] is None or rounded[-1] != rounded[-1] else rounded[-1]
        hessian = hess.at(floats[None])[0][0]
        kind, eigenvalues = classify(hessian, n, m)
        cells = [sympy.sstr(v) for v in exact] if exact is not None else [number(v) for v in floats]
        cells += [sympy.sstr(exact_f) if exact_f is not None else number(value), kind]
        grid.append(cells)
        entry = {"point": [float(v) for v in floats[:n]], "exact": None if exact is None else cells[:n],
                 "value": value, "type": kind, "eigenvalues": eigenvalues}
        if m:
            entry["multipliers"] = [float(v) for v in floats[n:]]
            entry["bordered_hessian"] = _bordered(hessian, n, m).tolist()
        points.append(entry)
    columns = names + (["λ"] if m == 1 else [f"λ{k + 1}" for k in range(m)]) + ["f", "type"]
    rows = [f"P{k + 1}" for k in range(len(grid))]
    symbolic = np.empty((len(grid), len(columns)), dtype=object)
    for i, cells in enumerate(grid):
        for j, cell in enumerate(cells):
            symbolic[i, j] = cell
    title = f"Critical points of {expression}" + (f" subject to {', '.join(constraints)}" if constraints else "")
    result = Result("critical", expression, symbolic.shape, rows, columns, variables=names, title=title,
                    symbolic=symbolic, extra={"method": method, "critical_points": points})
    if unsettled:
        result.failed = True
        result.warnings.append(f"{unsettled} coordinates or values of exact critical points could not be rounded to "
                               "the last digit within the time budget: they are float64 values")
    if not points:
        result.summary.append("no critical points" + (" satisfy the constraints" if m else ""))
    result.summary.append(f"found {method}")
    result.summary.append("classified on the constraints' tangent space (the bordered-Hessian test)" if m else
                          "classified by the eigenvalues of the Hessian")
    return result


def _bordered(hessian: np.ndarray, n: int, m: int) -> np.ndarray:
    """[[0, Jg], [Jgᵀ, H_L]]: the bordered Hessian, from the Hessian of L over (x, λ)."""
    jg = -hessian[n:, :n]
    out = np.zeros((n + m, n + m))
    out[m:, m:] = hessian[:n, :n]
    out[:m, m:] = jg
    out[m:, :m] = jg.T
    return out
