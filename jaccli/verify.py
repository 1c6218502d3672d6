"""Trust, but verify: a symbolic derivative against numbers computed without it.

Two independent references for the Jacobian of expressions at a point:

* central finite differences, step ``ε^(1/3)·max(1, |x_j|)`` per input, with an
  error estimate from a second step of twice the size (Richardson) plus rounding;
* the complex step ``Im f(x + ih e_j) / h`` (h = 1e-20·min(|x_j|, 1), 1e-20 at 0), exact to rounding, used
  whenever every function on the way is analytic (no abs, relu, max, min, sign…).

No terminal code: ``check`` returns plain values and attaches them to a ``Result``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from . import numeric
from .result import Result

EPS = np.finfo(float).eps
COMPLEX_STEP = 1e-20
COMPLEX_TOLERANCE = 1e-9  # relative, for the complex step (itself accurate to a few ulps)
SAFETY = 10.0  # how far beyond the estimated finite-difference error a disagreement must be


def finite_differences(exprs: np.ndarray, inputs: list, env: dict) -> tuple[np.ndarray, np.ndarray]:
    """m×n central differences of the flattened ``exprs`` and an error bound for each entry."""
    x = np.array([env[s] for s in inputs], dtype=float)
    n = len(inputs)
    steps = np.cbrt(EPS) * np.maximum(1.0, np.abs(x))
    steps = (x + steps) - x  # a step that x + h represents exactly
    # One batched walk: for each input j the points x ± h_j and x ± 2h_j.
    offsets = np.concatenate([steps, -steps, 2 * steps, -2 * steps])
    batch = {s: np.full(4 * n, x[j]) for j, s in enumerate(inputs)}
    for j, s in enumerate(inputs):
        batch[s][[j, n + j, 2 * n + j, 3 * n + j]] += offsets[[j, n + j, 2 * n + j, 3 * n + j]]
    with np.errstate(all="ignore"):
        values = numeric.Evaluator({**env, **batch}).array(exprs)  # no batch axis when f is constant
        values = np.broadcast_to(values, (4 * n,) + exprs.shape).reshape(4 * n, -1)
        plus, minus, plus2, minus2 = (values[k * n:(k + 1) * n] for k in range(4))
        d1 = (plus - minus) / (2 * steps[:, None])
        d2 = (plus2 - minus2) / (4 * steps[:, None])
        scale = np.maximum.reduce([np.abs(plus), np.abs(minus), np.abs(plus2), np.abs(minus2)])
        error = np.abs(d1 - d2) + 4 * EPS * scale / steps[:, None]
    return d1.T, error.T


def complex_step(exprs: np.ndarray, inputs: list, env: dict) -> np.ndarray | None:
    """m×n Jacobian from Im f(x + ih e_j)/h, or None when an expression is not analytic."""
    if not numeric.is_analytic(exprs):
        return None
    n = len(inputs)
    x = np.array([env[s] for s in inputs], dtype=float)
    # h << |x| however small x is (no cancellation to fear, so no floor), and h << 1 where f may vary on a scale of
    # 1 (sin at 1e300); at x = 0, h = 1e-20; never 0 (underflow)
    steps = np.maximum(COMPLEX_STEP * np.where(x != 0, np.minimum(np.abs(x), 1.0), 1.0), np.nextafter(0.0, 1.0))
    batch = {s: np.full(n, complex(env[s])) for s in inputs}
    for j, s in enumerate(inputs):
        batch[s][j] += 1j * steps[j]
    try:
        with np.errstate(all="ignore"):
            values = numeric.ComplexEvaluator({**env, **batch}).array(exprs)
    except (ValueError, TypeError):  # a function with no complex form after all: fall back to differences
        return None
    values = np.broadcast_to(values, (n,) + exprs.shape).reshape(n, -1)
    with np.errstate(all="ignore"):  # an overflow is an inf entry, reported as not comparable, not a numpy warning
        return (values.imag / steps[:, None]).T


def reference(exprs: np.ndarray, inputs: list, env: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """The numeric Jacobian (m×n), the tolerance per entry and the method used."""
    fd, fd_error = finite_differences(exprs, inputs, env)
    cs = complex_step(exprs, inputs, env)
    if cs is not None and np.all(np.isfinite(cs)):
        return cs, COMPLEX_TOLERANCE * np.maximum(np.abs(cs), 1e-3 * np.max(np.abs(cs), initial=1.0)), \
            "complex step"
    return fd, SAFETY * fd_error + 1e-12 * np.maximum(1.0, np.abs(fd)), "central differences"


def check(result: Result, exprs: np.ndarray, inputs: list, env: dict,
          combine: Callable[[np.ndarray], np.ndarray] | None = None) -> Result:
    """Compare ``result.value`` with the numeric Jacobian of ``exprs`` by ``inputs``, mapped by ``combine``.

    ``combine`` turns the m×n Jacobian (and its tolerance) into the result's shape; the
    default reshapes it, right for jacobian and gradient. The verdict goes into
    ``result.extra`` (``numeric``, ``max_abs_error``, ``max_rel_error``, ``ok``) and a
    disagreement into ``result.warnings``, which makes the exit code 1.
    """
    if result.value is None:
        return result
    combine = combine or (lambda jac: jac.reshape(result.shape))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # verdicts on stderr, never numpy's warnings
        warnings.simplefilter("ignore")
        jac, tolerance, method = reference(np.asarray(exprs, dtype=object), list(inputs), env)
    numeric_value = np.asarray(combine(jac), dtype=float).reshape(result.shape)
    tolerance = np.abs(np.asarray(combine(tolerance), dtype=float)).reshape(result.shape)
    value = np.asarray(result.value, dtype=float).reshape(result.shape)
    with np.errstate(all="ignore"):
        abs_error = np.abs(value - numeric_value)
        rel_error = np.where(abs_error == 0, 0.0, abs_error / np.maximum(np.abs(numeric_value), np.finfo(float).tiny))
    finite = np.isfinite(value) & np.isfinite(numeric_value)
    ok = bool(np.all(finite & (abs_error <= tolerance)))
    result.extra.update({
        "numeric": numeric_value,
        "abs_error": abs_error,
        "rel_error": rel_error,
        "max_abs_error": _max(abs_error),
        "max_rel_error": _max(rel_error),
        "check_method": method,
        "ok": ok,
    })
    if not finite.all():
        result.warnings.append(f"check: {int(np.sum(~finite))} of {finite.size} entries are not finite, "
                               f"so they cannot be compared with {method}")
    elif not ok:
        worst = int(np.argmax(abs_error - tolerance))
        result.warnings.append(
            f"check failed: the symbolic result and {method} disagree (entry {worst}: "
            f"{float(value.flat[worst])!r} vs {float(numeric_value.flat[worst])!r}, "
            f"tolerance {float(tolerance.flat[worst]):.2g})"
        )
    return result


def _max(array: np.ndarray) -> float | None:
    """The largest finite entry (None when there is none: JSON has no NaN)."""
    finite = array[np.isfinite(array)]
    return float(finite.max()) if finite.size else None
