"""The ``softmax-jac`` command as a function: logits in, ``Result`` out, numpy only.

No sympy here (start-up time): the logits take the numpy fast path of
``points`` and the maths is ``softmax``'s closed forms. The properties the
refresher points at are checked on the computed numbers, each with its residual.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from . import accuracy, limits, points
from . import softmax as sm
from .errors import JaccliError, LimitError, ShapeError
from .result import Panel, Result

MAX_DENSE_LOGITS = 2000  # n beyond this: J has n² entries; use --vjp
MAX_RANK_CHECK = 300  # the rank is measured with an O(n³) SVD up to this n
_EPS = np.finfo(float).eps
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def read_logits(specs: list[str], stdin=None) -> points.Value:
    """One vector from the LOGITS arguments: ``-1.3 0.5 2.1``, ``"1, 2"``, ``[1,2]``, ``@file``, ``-`` (the floats
    and the texts as typed)."""
    arrays, texts = [], []
    for spec in specs:
        text = spec.strip()
        if text not in ("-",) and not text.startswith("@"):
            text = text.strip(",")  # `softmax-jac 1, 2, 3` arrives as "1," "2," "3"
            if not text:
                continue
        value = points.read_vector(text, stdin)
        if value.array.ndim > 1:
            raise ShapeError(f"the logits must be one vector, got an array of shape "
                             f"{'×'.join(map(str, value.shape))}")
        arrays.append(value.array.ravel())
        texts.append(value.texts.ravel())
    if not arrays:
        raise JaccliError("no logits given; e.g. jaccli softmax-jac -1.3 0.5 2.1")
    return points.Value(np.concatenate(arrays), np.concatenate(texts))


def _labels(stem: str, n: int) -> list[str]:
    """z₀, z₁, …: 0-based, as numpy, JSON and every other command count."""
    return [f"{stem}{str(i).translate(_SUBSCRIPTS)}" for i in range(n)]


def _check(holds: bool | None, statement: str, measure: str, residual: float) -> dict:
    """One property: holds is None when it was not measured (residual then NaN, null in JSON)."""
    residual = float(residual)
    return {"holds": None if holds is None else bool(holds), "statement": statement, "measure": measure,
            "residual": residual if np.isfinite(residual) else None}


def _rank(jac: np.ndarray) -> tuple[int, float, float]:
    """Numerical rank, the tolerance n·ε·σ_max it counts singular values above, and the smallest one.

    A singular value below the tolerance is rounding noise: its digits differ from one LAPACK build
    to another, so the check reports the tolerance it is below, not the noise itself.
    """
    sigma = np.linalg.svd(jac, compute_uv=False)
    top = sigma[0] if sigma.size else 0.0
    tolerance = top * jac.shape[0] * _EPS
    return int(np.sum(sigma > tolerance)) if top > 0 else 0, float(tolerance), float(sigma[-1])


def jacobian_properties(jac: np.ndarray, s: np.ndarray, temperature: float = 1.0, log: bool = False) -> dict:
    """The identities J satisfies, each measured on ``jac``: name -> holds, statement, measure, residual.

    softmax: J = (diag(s) − s sᵀ)/T is symmetric, J·1 = 0, rank n−1, trace (1 − ‖s‖²)/T.
    log-softmax: J = (I − 1 sᵀ)/T has J·1 = 0, rank n−1, T·J idempotent, trace (n − 1)/T.
    """
    n = s.size
    tol = 16 * n * _EPS / temperature  # every entry of J is at most 1/T in size
    over_t = "" if temperature == 1 else "/T"
    props = {}
    if not log:
        residual = np.max(np.abs(jac - jac.T))
        props["symmetric"] = _check(residual <= tol, "symmetric: J = Jᵀ", "max|J − Jᵀ|", residual)
    row_sums = np.max(np.abs(jac.sum(axis=1)))
    props["rows_sum_to_zero"] = _check(row_sums <= tol, "rows sum to 0: J·1 = 0", "max|J·1|", row_sums)
    if n <= MAX_RANK_CHECK:
        rank, bound, smallest = _rank(jac)
        underflow = int(np.sum(s == 0))
        note = f" (measured {rank}; {underflow} entries of s underflow to 0)" if rank != n - 1 and underflow else (
            f" (measured {rank})" if rank != n - 1 else "")
        noise = smallest <= bound
        props["rank_n_minus_1"] = _check(rank == n - 1 and row_sums <= tol,
                                         f"rank n−1 = {n - 1}, null vector 1{note}",
                                         "σ_min below n·ε·σ_max" if noise else "σ_min", bound if noise else smallest)
    else:  # an SVD of a large J takes seconds; say so rather than claim it
        props["rank_n_minus_1"] = _check(None, f"rank n−1 = {n - 1}: not measured for n > {MAX_RANK_CHECK} "
                                         "(an O(n³) check); J·1 = 0 above", "σ_min", np.nan)
    if log:
        scaled = jac * temperature
        # einsum: no BLAS, so the same digits on every machine
        residual = np.max(np.abs(np.einsum("ij,jk->ik", scaled, scaled) - scaled))
        props["idempotent"] = _check(residual <= tol * temperature, f"{'T·' if over_t else ''}J is a projection: "
                                     f"({'T·' if over_t else ''}J)² = {'T·' if over_t else ''}J",
                                     "max|residual|", residual)
        expected = (n - 1) / temperature
        residual = abs(np.trace(jac) - expected)
        props["trace"] = _check(residual <= tol, f"trace = (n − 1){over_t} = {expected:g}", "|difference|", residual)
    else:
        expected = (1 - np.sum(s * s)) / temperature  # not s @ s: BLAS kernels round differently
        residual = abs(np.trace(jac) - expected)
        props["trace"] = _check(residual <= tol, f"trace = {'(1 − ‖s‖²)/T' if over_t else '1 − ‖s‖²'}",
                                "|difference|", residual)
    # The refresher's observation; an entry is 0 only when n = 1 or some s_i underflows.
    off = ~np.eye(n, dtype=bool)
    wrong = int(np.sum(np.diag(jac) < 0) + np.sum(jac[off] > 0))
    props["signs"] = _check(wrong == 0, "signs: diagonal ≥ 0, off-diagonal ≤ 0", "entries of the wrong sign", wrong)
    return props


def softmax_jac(logits, temperature: float = 1.0, log: bool = False, vjp: str | None = None,
                stdin=None) -> Result:
    """J = diag(s) − s sᵀ of s = softmax(z/T), scaled by 1/T: n×n, rows s_i, columns z_j.

    ``log``: the Jacobian of log-softmax, I − 1 sᵀ (over T). ``vjp``: Jᵀv instead, n entries, in O(n)
    without forming J. ``logits`` is a float vector or the LOGITS texts; it is never modified.
    """
    typed = read_logits(logits, stdin) if _is_texts(logits) else points.Value(np.array(logits, dtype=float).ravel())
    z = typed.array
    if z.size == 0:
        raise JaccliError("no logits given; e.g. jaccli softmax-jac -1.3 0.5 2.1")
    if not np.all(np.isfinite(z)):
        raise JaccliError("the logits must be finite numbers; NaN and infinity are not allowed")
    if not (np.isfinite(temperature) and temperature > 0):
        raise JaccliError(f"--temperature must be a positive finite number, got {temperature:g}")
    with np.errstate(over="ignore"):
        scaled = z / temperature
    if not np.all(np.isfinite(scaled)):
        raise JaccliError(f"the logits divided by --temperature {temperature:g} overflow; use a larger temperature")
    n = z.size
    s = sm.softmax(scaled)
    name = "log_softmax" if log else "softmax"
    argument = "z" if temperature == 1 else "z/T"
    expression = f"{name}({argument})"
    extra = {"logits": z.copy(), "temperature": float(temperature), "softmax": s}
    panel_rows, panel_values = ["z (logits)", f"s = softmax({argument})"], [z, s]
    over_t = "" if temperature == 1 else "/T"
    at = _short(z) + ("" if temperature == 1 else f", T = {temperature:g}")

    if vjp is not None:
        v = points.read_vector(vjp, stdin).array
        if v.size != n:
            raise ShapeError(f"--vjp has {v.size} entries (shape {_shape(v.shape)}) but there are {n} logits "
                             f"(shape {n}); give one entry per logit")
        v = v.ravel()
        value = (sm.log_softmax_vjp(scaled, v) if log else sm.softmax_vjp(scaled, v)) / temperature
        extra["v"] = v
        tol = 16 * n * _EPS * float(np.max(np.abs(v), initial=0.0)) / temperature
        total = abs(float(np.sum(value)))
        extra["properties"] = {"sums_to_zero": _check(total <= tol, "entries sum to 0: 1ᵀJᵀv = (J·1)ᵀv = 0",
                                                      "|sum|", total)}
        panel_rows.append("v")
        panel_values.append(v)
        what = "log-softmax" if log else "softmax"
        result = Result("softmax-jac", expression, (n,), _labels("z", n), ["Jᵀv"],
                        title=f"Jᵀv of {what}({argument}) at z = {at}, computed in O(n) without forming J",
                        value_title=f"Jᵀv = ∂(vᵀ{'log ' if log else ''}s)/∂z")
    else:
        if n > MAX_DENSE_LOGITS:
            raise LimitError(f"{n} logits make a {n}×{n} Jacobian (limit {MAX_DENSE_LOGITS} logits); "
                             "use --vjp V for Jᵀv in O(n)")
        jac = (sm.log_softmax_jacobian(scaled) if log else sm.softmax_jacobian(scaled)) / temperature
        value = jac
        formula = f"(I − 1 sᵀ){over_t}" if log else (f"(diag(s) − s sᵀ){over_t}" if over_t else "diag(s) − s sᵀ")
        rows = _labels("log s", n) if log else _labels("s", n)
        result = Result("softmax-jac", expression, (n, n), rows, _labels("z", n),
                        title=f"{'Log-softmax' if log else 'Softmax'} Jacobian J = {formula} at z = {at}",
                        value_title=f"J = {formula}: rows {'log ' if log else ''}s_i, columns z_j")
    result.variables = [f"z[{i}]" for i in range(n)]
    result.point = z.copy()
    result.value = value
    if n <= accuracy.SYMBOLIC_INPUTS:  # J's entries and s exact at the logits as typed, correctly rounded
        exact = _ExactSoftmax(typed.texts.tolist(), temperature)
        verifier = accuracy.Verifier({}, limits.VERIFY_SECONDS)  # one budget for J and s
        if vjp is None:
            entries = np.empty((n, n), dtype=object)
            for i, j in np.ndindex(n, n):
                entries[i, j] = accuracy.Closed(lambda digits, i=i, j=j: exact.entry(i, j, log, digits))
            result.value = accuracy.correctly_rounded(result, entries, {}, value, verifier=verifier)
        shares = np.empty(n, dtype=object)
        shares[:] = [accuracy.Closed(lambda digits, i=i: exact.share(i, digits)) for i in range(n)]
        s[:] = accuracy.correctly_rounded(result, shares, {}, s, beside="s", verifier=verifier)  # the panel, JSON
    if vjp is None:  # measured on the numbers printed
        extra["properties"] = jacobian_properties(result.value, s, temperature, log)
    result.extra = extra
    result.panels = [Panel("logits and softmax", panel_rows, [str(i) for i in range(n)], np.vstack(panel_values))]
    if not result.finite:
        result.warnings.append("the result is not finite")
    return result


class _ExactSoftmax:
    """s = softmax(z/T) at the logits as typed (-1.3 is -13/10) in Python's decimal arithmetic, at a given number
    of digits, without cancellation: 1 − s_i is the sum of the other terms (prefix and suffix sums), so every
    entry of J is a product or quotient of sums of positive terms, right to a few units of its last digit (what
    ``accuracy.Closed`` asks). Each precision's s is computed once for all n² entries."""

    def __init__(self, texts: list[str], temperature: float):
        self.logits = [_fraction(t) for t in texts]
        self.temperature = Fraction(repr(temperature))  # the shortest text of the double: 0.1 as typed
        self.memo: dict[int, tuple] = {}

    def _at(self, digits: int) -> tuple:
        if digits not in self.memo:
            import decimal

            c = decimal.Context(prec=digits, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX)
            t = c.divide(self.temperature.numerator, self.temperature.denominator)
            z = [c.divide(c.divide(v.numerator, v.denominator), t) for v in self.logits]
            top = max(z)
            e = [c.exp(c.subtract(v, top)) for v in z]
            before, after = [decimal.Decimal(0)], [decimal.Decimal(0)]
            for v in e[:-1]:
                before.append(c.add(before[-1], v))
            for v in reversed(e[1:]):
                after.append(c.add(after[-1], v))
            after.reverse()
            total = c.add(before[-1], e[-1])
            self.memo[digits] = (c, [c.divide(v, total) for v in e],
                                 [c.divide(c.add(b, a), total) for b, a in zip(before, after, strict=True)],
                                 c.divide(1, t))
        return self.memo[digits]

    def share(self, i: int, digits: int):
        """s_i to ``digits`` digits."""
        return self._at(digits)[1][i]

    def entry(self, i: int, j: int, log: bool, digits: int):
        """J[i, j] of softmax, s_i(δ_ij − s_j)/T, or of log-softmax, (δ_ij − s_j)/T, to ``digits`` digits."""
        c, s, rest, over_t = self._at(digits)
        if log:
            return c.multiply(rest[j] if i == j else c.minus(s[j]), over_t)
        return c.multiply(c.multiply(s[i], rest[i]) if i == j else c.minus(c.multiply(s[i], s[j])), over_t)


def _fraction(text: str) -> Fraction:
    """A logit as typed, exactly (``-1.3`` is -13/10); a form Fraction does not read is taken as its double."""
    try:
        return Fraction(text.strip())
    except ValueError:
        return Fraction(float(text))


def _is_texts(logits) -> bool:
    return isinstance(logits, (list, tuple)) and all(isinstance(t, str) for t in logits)


def _short(z: np.ndarray) -> str:
    if z.size > 8:
        return f"<{z.size} logits>"
    return "[" + ", ".join(f"{v:g}" for v in z) + "]"


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "×".join(map(str, shape))
