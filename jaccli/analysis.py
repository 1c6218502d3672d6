"""What a Jacobian or Hessian tells you: its determinant, eigenvalues (and the stability they imply),
singular values (rank, condition number).

Each adds JSON keys to a ``Result`` (``extra``) and lines under its table (``summary``). Numbers come from
the result's numbers (``ad``) with numpy's linear algebra; formulas from sympy, each within a time budget
(``budget.within``) in a child process, so a slow simplification ends with a message, never a hang.
"""

from __future__ import annotations

import numpy as np

from .errors import JaccliError
from .result import Result

DET_SECONDS = 10.0  # the symbolic determinant and its simplification
EIG_SECONDS = 10.0  # symbolic eigenvalues (2×2 and 3×3 only)
MAX_SYMBOLIC_DET = 6  # a symbolic determinant up to this many rows (Berkowitz: n⁴ operations on formulas)
MAX_SYMBOLIC_EIG = 3  # characteristic polynomials of degree ≤ 3 have closed-form roots that can be read
MAX_SIMPLIFY_OPS = 400  # simplify (and trigsimp) only a determinant up to this many operations
EQUILIBRIUM_RTOL = 1e-9  # |f(P)| beyond this, relative to |J|·|P|, means P is not an equilibrium
STABILITY_RTOL = 1e-9  # a real part within this of the largest |eigenvalue| (at least 1) counts as zero


def _square(result: Result, option: str) -> int:
    m, n = result.shape
    if m != n:
        raise JaccliError(f"{option} needs a square Jacobian, but this one is {m}×{n} ({m} outputs, {n} inputs); "
                          "for a non-square matrix use --svd (singular values, rank, condition number)")
    return n


# --- the determinant ------------------------------------------------------------------------------


def _simplified_det(entries: list, n: int):
    """The determinant of an n×n matrix of formulas, as a person would write it (run inside the budget)."""
    import sympy

    det = sympy.Matrix(n, n, entries).det(method="berkowitz")
    best = sympy.expand(det)
    candidates = [det, best]
    if sympy.count_ops(best) <= MAX_SIMPLIFY_OPS:
        for step in (sympy.trigsimp, sympy.simplify):
            try:
                candidates.append(sympy.factor(step(best)))
            except Exception:  # noqa: BLE001 - a rewrite sympy cannot do: keep the others
                continue
    return min(candidates, key=lambda e: (sympy.count_ops(e), len(sympy.sstr(e))))


def determinant(result: Result) -> Result:
    """det J: ``determinant`` (its value at the point, else None) and ``determinant_symbolic`` (a formula)."""
    from . import budget

    n = _square(result, "--det")
    symbolic = None
    if result.symbolic is not None or result.exact is not None:
        source = result.exact if result.exact is not None else result.symbolic
        what = "the exact determinant" if result.exact is not None else "the symbolic determinant"
        if n > MAX_SYMBOLIC_DET:
            message = f"{what} of a {n}×{n} matrix is not formed (limit {MAX_SYMBOLIC_DET}×{MAX_SYMBOLIC_DET})"
            if result.value is None:
                raise JaccliError(message + "; give --at for its value")
            result.warnings.append(message)
        else:
            try:
                symbolic = budget.within(DET_SECONDS, what, _simplified_det, list(source.flat), n)
            except budget.OutOfTime as exc:
                if result.value is None:
                    raise
                result.warnings.append(f"{exc}; only its value is shown")
    value = None
    if result.value is not None:
        value = float(np.linalg.det(np.asarray(result.value, dtype=float))) if n else 1.0
        if symbolic is not None and result.exact_point is not None:
            value = _correctly_rounded(symbolic, result, value, n)
    result.extra["determinant"] = value
    result.extra["determinant_symbolic"] = None if symbolic is None else _text(symbolic, result)
    from .render import number

    parts = ["det J"]
    if result.exact is not None and symbolic is not None:
        parts.append(_text(symbolic, result))
        if value is not None and number(value, 8) != parts[-1]:
            parts[-1] += f" ≈ {number(value, 8)}"
    else:
        if symbolic is not None and (value is None or not symbolic.is_number):
            parts.append(_text(symbolic, result))
        if value is not None:
            parts.append(number(value))
    line = " = ".join(parts)
    result.summary.append(line)
    return result


def _correctly_rounded(symbolic, result: Result, value: float, n: int) -> float:
    """det J at the point as typed, rounded to the nearest double (720, not 719.9999999999995), by the verifier
    that rounds J's entries: from the determinant of J's formulas with literals as typed (the simplified one
    when they are the same formulas)."""
    from . import accuracy, budget

    exact = symbolic
    if result.exact is None and result.as_typed is not result.symbolic:  # J's formulas hold rounded decimals
        try:
            exact = budget.within(DET_SECONDS, "the determinant at the point as typed", _determinant,
                                  list(result.as_typed.flat), n)
        except budget.OutOfTime:
            return value
    fixed = accuracy.correctly_rounded(result, np.array(exact, dtype=object), result.exact_point, np.array(value),
                                       beside="det J")
    return float(fixed)


def _determinant(entries: list, n: int):
    import sympy

    return sympy.Matrix(n, n, entries).det(method="berkowitz")


def _text(expr, result: Result) -> str:
    from .render import formula, power_style

    return formula(expr, power_style(result.expression))


class DeterminantNumbers:
    """det J at many points (``--points --det``): the Jacobians from the engines, then numpy's det."""

    def __init__(self, numbers):
        self.numbers = numbers

    def at(self, columns: np.ndarray):
        values, kinks = self.numbers.at(columns)
        return np.linalg.det(values), kinks


def determinant_batch(result: Result) -> Result:
    """The result that ``--points --det`` prints: one determinant per point."""
    _square(result, "--det")
    return Result("determinant", result.expression, (), ["det J"], ["det J"], variables=result.variables,
                  title=result.title, numbers=DeterminantNumbers(result.numbers))


# --- eigenvalues and stability ---------------------------------------------------------------------


EIG_DIGITS = (40, 80)  # the roots at both must round to the same doubles


def _exact_pairs(result: Result, n: int) -> list[list[float]] | None:
    """The eigenvalues of J at the point as typed, each part rounded to the nearest double: the roots (mpmath's
    polyroots at 40 and then 80 digits) of the characteristic polynomial of J's formulas, literals as typed, at
    the exact point, whose coefficients sympy's evalf guarantees; kept when both precisions round alike. None
    (LAPACK's eigenvalues of the printed J are shown) without formulas, beyond MAX_SYMBOLIC_DET rows, for a
    coefficient evalf cannot vouch for (an exact zero it cannot prove), or out of time."""
    entries = _exact_entries(result)
    if entries is None or n > MAX_SYMBOLIC_DET:
        return None
    return _roots_as_typed(result, entries, n, "the characteristic polynomial at the point")


def _exact_entries(result: Result) -> list | None:
    """J's entries at the point as typed, as exact sympy numbers (literals as typed); None without formulas."""
    if result.as_typed is None or result.exact_point is None:
        return None
    from . import accuracy

    memo: dict = {}
    entries = [accuracy.prepared(e, memo) for e in result.as_typed.flat]
    if any(e is None for e in entries):
        return None
    return [e.xreplace(result.exact_point) for e in entries]


MAX_EIG_SPREAD = 2000  # decimal digits added for coefficients of very different sizes (doubles span 632)


def _roots_as_typed(result: Result, entries: list, n: int, what: str, root=None) -> list[list[float]] | None:
    """The eigenvalues of the n×n matrix of exact numbers ``entries`` (``root(mpf)`` of each, when given: σ = √λ),
    as [real, imag] pairs of doubles sorted by real part: ``_exact_pairs``' method. An exact zero constant
    coefficient is an exact zero root, found as such (mpmath would land near zero, differently at each
    precision). None when a coefficient is not a settled real number, a precision does not converge, the two
    round differently, or the time runs out."""
    import mpmath

    from . import accuracy, budget

    try:
        coefficients = budget.within(EIG_SECONDS, what, _characteristic, entries, n)
    except budget.OutOfTime:
        return None
    verifier = accuracy.Verifier.for_result(result, {})  # what is left of the run's budget after J and det J
    # polyroots' precision is relative to the largest root: a root 1e-200 times the others ([x, 1e-200*y]) needs
    # as many digits more as the coefficients' magnitudes span, or it comes out as 0 at 40 and 80 digits alike
    spread = 0
    with mpmath.workdps(20):
        sizes = []
        for c in coefficients:
            answer = None if verifier.out_of_time() else verifier.evaluate(c, 20)
            if answer is not None and answer[0].is_Float and answer[0] != 0:
                sizes.append(mpmath.mag(mpmath.mpf(answer[0]._mpf_)))
        if len(sizes) > 1:
            spread = min(MAX_EIG_SPREAD, int((max(sizes) - min(sizes)) * 0.30103) + 1)
    previous = None
    for digits in (d + spread for d in EIG_DIGITS):
        with mpmath.workdps(digits):  # an mpf is made at the working precision: at 15 digits it would round
            values = []
            for c in coefficients:
                answer = None if verifier.out_of_time() else verifier.evaluate(c, digits)
                if answer is None or not answer[1]:
                    return None
                real, imag = answer[0].as_real_imag()
                if imag != 0 or not real.is_Number:
                    return None
                values.append(mpmath.mpf(real._mpf_) if real.is_Float else mpmath.mpf(int(real.p)) / int(real.q))
            zeros = []
            while len(values) > 1 and values[-1] == 0 and coefficients[len(values) - 1] == 0:  # proved zero
                values.pop()
                zeros.append(mpmath.mpf(0))
            try:
                roots = (mpmath.polyroots(values, maxsteps=400, extraprec=4 * digits) if len(values) > 1 else [])
            except (mpmath.NoConvergence, ZeroDivisionError, ValueError):
                return None
            roots = list(roots) + zeros
            if root is not None:
                roots = [root(r) for r in roots]
                if roots and any(r is None for r in roots):
                    return None
            current = sorted([[accuracy.to_double(mpmath.re(r)), accuracy.to_double(mpmath.im(r))] for r in roots],
                             key=lambda p: (p[0], p[1]))
        if current == previous:
            return [[0.0 if re == 0 else re, 0.0 if im == 0 else im] for re, im in current]
        previous = current
    return None


def _characteristic(entries: list, n: int) -> list:
    """The coefficients of det(λI − M), highest power first, for an n×n matrix of exact numbers."""
    import sympy

    return sympy.Matrix(n, n, entries).charpoly().all_coeffs()


def _pairs(values: np.ndarray) -> list[list[float]]:
    """Eigenvalues as [real, imag] pairs sorted by real part, then imaginary part."""
    return sorted([[float(v.real), float(v.imag)] for v in values], key=lambda p: (p[0], p[1]))


def stability(pairs: list[list[float]], exact: bool = False) -> tuple[str, str | None]:
    """The verdict for the equilibrium of ẋ = f(x) whose Jacobian has these eigenvalues; and, for 2×2, its type.
    ``exact``: they are the exact eigenvalues correctly rounded, so only 0 is zero (1e-200 is positive); else
    LAPACK's, and a real part within STABILITY_RTOL of the largest counts as zero."""
    scale = max([1.0] + [abs(complex(*p)) for p in pairs])
    tol = 0.0 if exact else STABILITY_RTOL * scale
    positive = any(re > tol for re, _ in pairs)
    negative = any(re < -tol for re, _ in pairs)
    zero = any(abs(re) <= tol for re, _ in pairs)
    if positive and negative:
        verdict = "saddle (unstable)"
    elif positive:
        verdict = "unstable"
    elif zero:
        verdict = "marginal (a zero real part: the linearisation does not decide)"
    else:
        verdict = "asymptotically stable"
    kind = None
    if len(pairs) == 2:
        (re1, im1), (re2, _) = pairs
        if abs(im1) > tol:
            kind = "centre" if abs(re1) <= tol else "stable spiral" if re1 < 0 else "unstable spiral"
        elif abs(re1) <= tol or abs(re2) <= tol:
            kind = "degenerate (a zero eigenvalue)"
        elif re1 < 0 < re2:
            kind = "saddle"
        else:
            kind = "stable node" if re2 < 0 else "unstable node"
    return verdict, kind


def _symbolic_eigenvalues(entries: list, n: int) -> list[tuple]:
    import sympy

    values = sympy.Matrix(n, n, entries).eigenvals()
    out = []
    for value, multiplicity in values.items():
        try:
            value = sympy.simplify(value) if sympy.count_ops(value) <= MAX_SIMPLIFY_OPS else value
        except Exception:  # noqa: BLE001 - keep it as found
            pass
        out.append((value, multiplicity))
    return sorted(out, key=lambda vm: sympy.default_sort_key(vm[0]))


def eigenvalues(result: Result) -> Result:
    """Eigenvalues of J at the point (``eigenvalues``, ``stability``, ``type`` for 2×2), or as formulas."""
    from . import budget
    from .render import number

    n = _square(result, "--eig")
    if result.value is None:
        if result.symbolic is None:
            raise JaccliError("--eig needs a point (--at) here")
        if n > MAX_SYMBOLIC_EIG:
            raise JaccliError(f"symbolic eigenvalues are found for 2×2 and 3×3 matrices only (limit "
                              f"{MAX_SYMBOLIC_EIG}×{MAX_SYMBOLIC_EIG}), and this one is {n}×{n}; give --at for "
                              "the eigenvalues at a point")
        found = budget.within(EIG_SECONDS, "the symbolic eigenvalues", _symbolic_eigenvalues,
                              list(result.symbolic.flat), n)
        texts = [_text(v, result) for v, m in found for _ in range(m)]
        result.extra["eigenvalues"] = None
        result.extra["eigenvalues_symbolic"] = texts
        result.summary.append("eigenvalues: " + ", ".join(
            _text(v, result) + (f" (×{m})" if m > 1 else "") for v, m in found))
        return result
    matrix = np.asarray(result.value, dtype=float)
    if not np.all(np.isfinite(matrix)):  # the result says so already (exit 1); it stays printed
        result.extra.update({"eigenvalues": None, "stability": None})
        result.warnings.append("--eig: no eigenvalues, the Jacobian is not finite at this point")
        return result
    exact = _exact_pairs(result, n) if n else None
    pairs = exact or (_pairs(np.linalg.eigvals(matrix)) if n else [])
    verdict, kind = stability(pairs, exact=exact is not None)
    result.extra["eigenvalues"] = pairs
    result.extra["stability"] = verdict
    if n == 2:
        result.extra["type"] = kind
    shown = []
    for re, im in pairs:
        text = number(re, 8)
        if im:
            text = f"{text} {'+' if im > 0 else '-'} {number(abs(im), 8)}i"
        shown.append(text)
    result.summary.append("eigenvalues: " + ", ".join(shown))
    result.summary.append(f"stability of ẋ = f(x) here: {verdict}" + (f", {kind}" if kind else ""))
    residual = _residual(result)
    scale = max(1.0, float(np.abs(matrix).max(initial=0)) * float(np.abs(result.point).max(initial=0)))
    if residual is not None and residual > EQUILIBRIUM_RTOL * scale:  # rounding of P is not a residual
        result.warnings.append(f"f is not zero here (max |f| = {number(residual, 3)}): the point is not an "
                               "equilibrium, so the stability verdict is about the linearisation only")
    return result


def _residual(result: Result) -> float | None:
    """max |f(P)| at the point, from the engines (None when it cannot be evaluated)."""
    numbers = result.numbers
    problem = getattr(numbers, "problem", None)
    if problem is None or result.point is None:
        return None
    try:
        value = problem.ad.value(numbers.env(np.asarray(result.point, dtype=float)[None]))[0]
    except Exception:  # noqa: BLE001 - no value, no warning
        return None
    value = np.abs(np.asarray(value, dtype=float))
    return float(value.max()) if value.size and np.all(np.isfinite(value)) else None


# --- singular values ---------------------------------------------------------------------------------


def _exact_singular_values(result: Result, m: int, n: int) -> list[float] | None:
    """The singular values of J at the point as typed, largest first, each the nearest double to the exact one: the
    square roots of the eigenvalues of the smaller Gram matrix (JᵀJ or JJᵀ, formed exactly), found as
    ``_exact_pairs`` finds eigenvalues. None (LAPACK's, on the printed J) where that does not settle or there
    are no formulas; LAPACK's smallest singular value of a singular J is rounding noise (1.6e-16 or 8.2e-17,
    by the numpy build), where this gives 0."""
    entries = _exact_entries(result)
    k = min(m, n)
    if entries is None or not 0 < k <= MAX_SYMBOLIC_DET:
        return None
    import mpmath
    import sympy

    J = sympy.Matrix(m, n, entries)
    gram = J.T * J if n <= m else J * J.T

    def root(value):
        value = mpmath.mpmathify(value)
        if mpmath.im(value) != 0 or mpmath.re(value) < 0:
            return None
        return mpmath.sqrt(mpmath.re(value))

    pairs = _roots_as_typed(result, list(gram), k, "the singular values at the point", root)
    if pairs is None:
        return None
    return sorted((re for re, _ in pairs), reverse=True)


def singular_values(result: Result) -> Result:
    """Singular values, numerical rank (tolerance max(m, n)·eps·σ_max, as numpy and LAPACK use), condition
    number σ_max/σ_min, and a verdict: invertible or singular (square), full rank or rank-deficient."""
    from .render import number

    if result.value is None:
        raise JaccliError("--svd needs a point: give --at (singular values are numbers)")
    matrix = np.asarray(result.matrix(result.value), dtype=float)
    if not np.all(np.isfinite(matrix)):  # the result says so already (exit 1); it stays printed
        result.extra.update({"singular_values": None, "rank": None, "condition_number": None, "verdict": None})
        result.warnings.append("--svd: no singular values, the matrix is not finite at this point")
        return result
    m, n = matrix.shape
    exact = _exact_singular_values(result, m, n)
    if exact is not None:
        sigma = np.array(exact, dtype=float)
    else:
        sigma = np.linalg.svd(matrix, compute_uv=False) if matrix.size else np.zeros(0)
    top = float(sigma[0]) if sigma.size else 0.0
    tol = max(m, n) * np.finfo(float).eps * top
    rank = int(np.sum(sigma > tol))
    full = min(m, n)
    condition = None if rank < full or not sigma.size else float(top / sigma[-1])
    if m == n:
        verdict = "invertible" if rank == n else f"singular (rank {rank} < {n})"
    else:
        verdict = "full rank" if rank == full else f"rank-deficient (rank {rank} < {full})"
    result.extra["singular_values"] = [float(s) for s in sigma]
    result.extra["rank"] = rank
    result.extra["condition_number"] = condition
    result.extra["verdict"] = verdict
    result.extra["rank_tolerance"] = tol
    result.summary.append("singular values: " + ", ".join(number(s, 8) for s in sigma))
    cond = "infinite" if condition is None else number(condition, 8)
    result.summary.append(f"rank {rank}, condition number {cond}: {verdict} "
                          f"(singular values ≤ {number(tol, 3)} count as zero)")
    return result
