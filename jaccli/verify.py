"""Trust, but verify: a symbolic derivative against numbers computed without it.

Two independent references for the Jacobian of IR at a point, both from the evaluator alone:

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

from . import ir
from .evaluate import Evaluator, NotAnalytic
from .result import Result

EPS = np.finfo(float).eps
COMPLEX_STEP = 1e-20
COMPLEX_TOLERANCE = 1e-9  # relative, for the complex step (itself accurate to a few ulps)
SAFETY = 10.0  # how far beyond the estimated finite-difference error a disagreement must be


def _perturbed(variables, point: dict, steps: np.ndarray, dtype=float) -> dict:
    """For each input entry j and each offset k: the point with entry j moved by steps[k, j] (batch k*n + j).

    ``variables`` (name, shape) are the perturbed inputs; the other variables of ``point`` stay put.
    """
    count, n = steps.shape
    env = {name: np.asarray(value, dtype=dtype)[None] for name, value in point.items()}
    offset = 0
    for name, shape in variables:
        size = int(np.prod(shape, dtype=int))
        base = np.broadcast_to(np.asarray(point[name], dtype=dtype).reshape(-1), (count * n, size)).copy()
        for k in range(count):
            rows = k * n + offset + np.arange(size)
            base[rows, np.arange(size)] += steps[k, offset:offset + size]
        env[name] = base.reshape((count * n,) + tuple(shape))
        offset += size
    return env


def _flat_point(variables, point: dict) -> np.ndarray:
    parts = [np.asarray(point[name], dtype=float).reshape(-1) for name, _ in variables]
    return np.concatenate(parts) if parts else np.zeros(0)


def finite_differences(root: ir.Node, variables, point: dict) -> tuple[np.ndarray, np.ndarray]:
    """m×n central differences of ``root`` (flattened) by the inputs, and an error bound for each entry."""
    x = _flat_point(variables, point)
    n = x.size
    steps = np.cbrt(EPS) * np.maximum(1.0, np.abs(x))
    steps = (x + steps) - x  # a step that x + h represents exactly
    offsets = np.stack([steps, -steps, 2 * steps, -2 * steps])
    with np.errstate(all="ignore"):
        values = Evaluator(_perturbed(variables, point, offsets), 1)(root)
        values = np.broadcast_to(values, (4 * n,) + root.shape).reshape(4 * n, -1)
        plus, minus, plus2, minus2 = (values[k * n:(k + 1) * n] for k in range(4))
        d1 = (plus - minus) / (2 * steps[:, None])
        d2 = (plus2 - minus2) / (4 * steps[:, None])
        scale = np.maximum.reduce([np.abs(plus), np.abs(minus), np.abs(plus2), np.abs(minus2)])
        error = np.abs(d1 - d2) + 4 * EPS * scale / steps[:, None]
    return d1.T, error.T


def complex_step(root: ir.Node, variables, point: dict) -> np.ndarray | None:
    """m×n Jacobian from Im f(x + ih e_j)/h, or None when an operation on the way is not analytic, or f is not a
    finite real number at x itself."""
    x = _flat_point(variables, point)
    n = x.size
    # h << |x| however small x is (no cancellation to fear, so no floor), and h << 1 where f may vary on a scale of
    # 1 (sin at 1e300); at x = 0, h = 1e-20; never 0 (underflow)
    steps = np.maximum(COMPLEX_STEP * np.where(x != 0, np.minimum(np.abs(x), 1.0), 1.0), np.nextafter(0.0, 1.0))
    try:
        with np.errstate(all="ignore"):
            real = Evaluator({name: np.asarray(value, dtype=float)[None] for name, value in point.items()}, 1)(root)
            if not np.all(np.isfinite(real)):  # log(x) at −1 is not real: Im f(x + ih)/h there is π/h, no derivative
                return None
            values = Evaluator(_perturbed(variables, point, 1j * steps[None], complex), 1, complex)(root)
    except (NotAnalytic, TypeError, ValueError):  # abs, max, erf…: the complex step cannot go through
        return None
    values = np.broadcast_to(values, (n,) + root.shape).reshape(n, -1)
    with np.errstate(all="ignore"):  # an overflow is an inf entry, reported as not comparable, not a numpy warning
        return (values.imag / steps[:, None]).T


def reference(roots, variables, point: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """The numeric Jacobian (m×n, rows the roots' entries in order) by ``variables``, the tolerance per entry
    and the method used."""
    roots = [roots] if isinstance(roots, ir.Node) else list(roots)
    parts = [finite_differences(root, variables, point) for root in roots]
    fd, fd_error = np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
    steps = [complex_step(root, variables, point) for root in roots]
    cs = None if any(c is None for c in steps) else np.vstack(steps)
    if cs is not None and np.all(np.isfinite(cs)):
        return cs, COMPLEX_TOLERANCE * np.maximum(np.abs(cs), 1e-3 * np.max(np.abs(cs), initial=1.0)), \
            "complex step"
    return fd, SAFETY * fd_error + 1e-12 * np.maximum(1.0, np.abs(fd)), "central differences"


PRECISE_TOLERANCE = 1e-13  # relative, for the multi-precision reference (itself right to 15 digits)


def check(result: Result, root, variables, point: dict,
          combine: Callable[[np.ndarray], np.ndarray] | None = None, precise: Callable | None = None) -> Result:
    """Compare ``result.value`` with the numeric Jacobian of ``root`` (a node or a list of nodes, rows stacked)
    by ``variables`` (name, shape), mapped by ``combine``; the other variables of ``point`` stay fixed.

    ``combine`` turns the m×n Jacobian (and its tolerance) into the result's shape; the
    default reshapes it, right for jacobian and gradient. The verdict goes into
    ``result.extra`` (``numeric``, ``max_abs_error``, ``max_rel_error``, ``ok``) and a
    disagreement into ``result.warnings``, which makes the exit code 1. When float64 disagrees, or agrees only
    within its absolute floor (tanh' at 40: 7.2e-35 against 0), ``precise()`` (if given) gives a multi-precision
    reference — (m×n, method), or None — which then decides, to ``PRECISE_TOLERANCE``.
    """
    if result.value is None:
        return result
    combine = combine or (lambda jac: jac.reshape(result.shape))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # verdicts on stderr, never numpy's warnings
        warnings.simplefilter("ignore")
        jac, tolerance, method = reference(root, variables, point)
    numeric_value = np.asarray(combine(jac), dtype=float).reshape(result.shape)
    tolerance = np.abs(np.asarray(combine(tolerance), dtype=float)).reshape(result.shape)
    value = np.asarray(result.value, dtype=float).reshape(result.shape)
    with np.errstate(all="ignore"):
        abs_error = np.abs(value - numeric_value)
        rel_error = np.where(abs_error == 0, 0.0, abs_error / np.maximum(np.abs(numeric_value), np.finfo(float).tiny))
    finite = np.isfinite(value) & np.isfinite(numeric_value)
    ok = bool(np.all(finite & (abs_error <= tolerance)))
    loose = np.any(finite & (rel_error > COMPLEX_TOLERANCE))
    # entries whose central difference is no better than its own error estimate (a kink, a jump or a pole within
    # the step: sign(x) at 0 gives 1/h ± 1/h): "agrees" there would say nothing
    floor = 1e-6 * max(1.0, float(np.max(np.abs(numeric_value[finite]), initial=0.0)))  # a 0 entry's noise
    blind = finite & (tolerance > np.maximum(0.5 * np.abs(numeric_value), floor)) \
        if method == "central differences" else np.zeros(value.shape, dtype=bool)
    better = precise() if precise is not None and (not ok or loose or blind.any()) else None
    if better is not None:
        jac, method = better
        numeric_value = np.asarray(combine(jac), dtype=float).reshape(result.shape)
        with np.errstate(all="ignore"):
            abs_error = np.abs(value - numeric_value)
            rel_error = np.where(abs_error == 0, 0.0,
                                 abs_error / np.maximum(np.abs(numeric_value), np.finfo(float).tiny))
        tolerance = PRECISE_TOLERANCE * np.abs(numeric_value) + 1e-320
        finite = np.isfinite(value) & np.isfinite(numeric_value)
        ok = bool(np.all(finite & (abs_error <= tolerance)))
        blind = np.zeros(value.shape, dtype=bool)
    result.extra.update({
        "numeric": numeric_value,
        "abs_error": abs_error,
        "rel_error": rel_error,
        "max_abs_error": _max(abs_error),
        "max_rel_error": _max(rel_error),
        "check_method": method,
        "ok": ok and not blind.any(),
        # some comparable entry is out of its tolerance (not ok alone: an entry that is not finite cannot be compared)
        "disagrees": bool(np.any(finite & ~blind & ~(abs_error <= tolerance))),
        "compared": int(np.sum(finite & ~blind)),  # the entries the verdict is about
    })
    if blind.any():
        result.warnings.append(f"check: {int(blind.sum())} of {blind.size} entries cannot be compared: {method} "
                               "there are no better than their own error estimate (a kink, a jump or a pole near "
                               "the point?)")
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
