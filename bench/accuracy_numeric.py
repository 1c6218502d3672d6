"""jaccli against JAX float64 on the numeric path (more than 64 inputs, no formula to verify): issue 15 (d).

``bench/accuracy.py``'s derivative cases (the named ones and the seeded random compositions) are evaluated with x
an array of 70 entries (seven typed points, ten times each), so that jaccli takes the numeric path; plus the
issue's two worse-than-JAX families, ``atan2(x, erf(x))`` and the Hessian of ``dot(x, x) * prod(x)``, with 70
inputs. Each entry is compared with mpmath (``accuracy.reference``, or a Hessian written out by hand); a case is
"jaccli worse" when jaccli's largest error exceeds JAX's and 1 ulp, and jaccli gave no warning (exit 1).

Then the domain edges of the registry's derivative rules (``EDGES``): each function at points where a textbook rule
cancels or overflows (near ±1 for asin, acos, atanh; near 1 for acosh; 1e±150 to 1e±300; saturated activations;
powers whose b - 1 is not a double), 70 copies of the point, and gradients of logsumexp, norm and sums of
activations at 70 spread or saturated inputs. jaccli is given each point as the ``repr`` of its double, and these
are compared at that decimal as typed (as the issue's reference is; the numeric path's longdouble evaluation reads
it so), against the derivative written out by hand in mpmath, at 60 and 120 digits until the two round alike;
they get their own table as well as the total.

    PYTHONPATH=. /work/venv10/bin/python bench/accuracy_numeric.py [--random N]
"""

from __future__ import annotations

import argparse
import math
import random
import sys

import mpmath as mp
from accuracy import NAMED, random_case, reference, ulps  # bench/ is on sys.path when run as a script

from jaccli import compute

POINTS = ["0.5", "1.25", "3", "0.1", "-0.75", "1e-8", "2.5"]
ENTRIES = 70  # more than accuracy.SYMBOLIC_INPUTS: the numeric path


def d_atan2_erf(x):
    """d/dx atan2(x, erf(x)) = (erf x − x erf′ x)/(x² + erf² x), erf′ x = 2e^(−x²)/√π."""
    e = mp.erf(x)
    return (e - x * 2 / mp.sqrt(mp.pi) * mp.exp(-x * x)) / (x * x + e * e)


def hessian_dot_prod(x):
    """f = |x|²·Πx: ∂²f/∂xᵢ² = 6P, ∂²f/∂xᵢ∂xⱼ = 2xᵢP/xⱼ + 2xⱼP/xᵢ + S·P/(xᵢxⱼ) (P = Πx, S = |x|²)."""
    p, s, n = mp.fprod(x), mp.fsum(v * v for v in x), len(x)
    return [6 * p if i == j else 2 * x[i] * p / x[j] + 2 * x[j] * p / x[i] + s * p / (x[i] * x[j])
            for i in range(n) for j in range(n)]


D01 = "0.1000000000000000055511151231257827021181583404541015625"  # the double 0.1, written exactly
THIRD = "0.333333333333333314829616256247390992939472198486328125"  # the double 1/3, written exactly


def _sig(x):
    return 1 / (1 + mp.exp(-x))


def _asin(x):
    return 1 / mp.sqrt(1 - x * x)


def _power(b):
    return lambda x: mp.mpf(b) * x ** (mp.mpf(b) - 1)


def _atan2_y(c):
    return lambda x: mp.mpf(c) / (x * x + mp.mpf(c) ** 2)


# (expression, its JAX form, its derivative written out by hand in mpmath, typed points): 70 copies of the point
EDGES = [
    ("asin(x)", "jnp.arcsin", _asin, ["0.9999999999", "-0.9999999999", "0.999999", "0.9999999999999999"]),
    ("acos(x)", "jnp.arccos", lambda x: -_asin(x), ["0.9999999999", "-0.999999", "0.9999999999999999"]),
    ("atanh(x)", "jnp.arctanh", lambda x: 1 / (1 - x * x), ["0.9999999999", "-0.999999", "0.9999999999999999",
                                                             "-0.99"]),
    ("acosh(x)", "jnp.arccosh", lambda x: 1 / mp.sqrt(x * x - 1), ["1.0000000001", "1.000001", "1.0000000000000002",
                                                                    "1e154", "1e200", "1e300"]),
    ("asinh(x)", "jnp.arcsinh", lambda x: 1 / mp.sqrt(x * x + 1), ["1e154", "1e160", "-1e200", "1e300", "1e-300"]),
    ("atan(x)", "jnp.arctan", lambda x: 1 / (1 + x * x), ["1e150", "1e160", "1e300", "1e-300"]),
    ("log1p(x)", "jnp.log1p", lambda x: 1 / (1 + x), ["-0.9999999999", "1e300", "1e-300"]),
    ("expm1(x)", "jnp.expm1", mp.exp, ["-40", "-700", "700", "1e-300"]),
    ("log2(x)", "jnp.log2", lambda x: 1 / (x * mp.log(2)), ["0.5", "1.1", "2.5", "1e300", "1e-300"]),
    ("log10(x)", "jnp.log10", lambda x: 1 / (x * mp.log(10)), ["0.5", "1.1", "2.5", "1e300", "1e-300"]),
    ("sqrt(x)", "jnp.sqrt", lambda x: 1 / (2 * mp.sqrt(x)), ["1e-300", "1e300", "1e-310"]),
    ("cbrt(x)", "jnp.cbrt", lambda x: 1 / (3 * mp.cbrt(x) ** 2), ["1e-300", "1e300", "2.5"]),
    ("erf(x)", "jax.scipy.special.erf", lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x), ["5", "10", "26"]),
    ("sinh(x)", "jnp.sinh", mp.cosh, ["710", "-710"]),
    ("cosh(x)", "jnp.cosh", mp.sinh, ["710", "-710"]),
    ("tanh(x)", "jnp.tanh", lambda x: 1 / mp.cosh(x) ** 2, ["20", "-20"]),
    ("sigmoid(x)", "jax.nn.sigmoid", lambda x: _sig(x) * _sig(-x), ["36.7", "40", "-40", "700", "-740"]),
    ("softplus(x)", "jax.nn.softplus", _sig, ["40", "-40", "-740", "800"]),
    ("atan2(x, 1e200)", "lambda x: jnp.arctan2(x, 1e200)", _atan2_y(1e200), ["0.5", "1e200"]),
    ("atan2(1e200, x)", "lambda x: jnp.arctan2(1e200, x)", lambda x: -_atan2_y(1e200)(x), ["2.5"]),
    ("atan2(x, 1e-200)", "lambda x: jnp.arctan2(x, 1e-200)", _atan2_y(1e-200), ["1e-200"]),
    ("atan2(x, 1e160)", "lambda x: jnp.arctan2(x, 1e160)", _atan2_y(1e160), ["1e160", "30"]),
    ("hypot(x, 1e200)", "lambda x: jnp.hypot(x, 1e200)", lambda x: x / mp.hypot(x, mp.mpf(1e200)), ["1e200", "3"]),
    ("hypot(x, 1e-200)", "lambda x: jnp.hypot(x, 1e-200)", lambda x: x / mp.hypot(x, mp.mpf(1e-200)), ["1e-200"]),
    (f"x**{D01}", "lambda x: x**0.1", _power(D01), ["1e300", "1e-300", "1e-8", "1e160"]),
    (f"x**{THIRD}", "lambda x: x**(1/3)", _power(THIRD), ["1e-300", "1e200", "1e-8"]),
    ("x**-0.3", "lambda x: x**-0.3", _power("-0.3"), ["1e-200", "1e200"]),  # -0.3 as typed
    ("3**x", "lambda x: 3.0**x", lambda x: 3 ** x * mp.log(3), ["0.5", "-0.75", "2.5"]),
]


def _softmax(x):
    top = max(x)
    e = [mp.exp(v - top) for v in x]
    return [v / mp.fsum(e) for v in e]


# (expression, its JAX form, its gradient by hand in mpmath, the 70 inputs): saturated and far-ranging gradients
GRADIENT_EDGES = [
    ("logsumexp(x)", "jax.nn.logsumexp", _softmax, [repr(1000.0 - 30 * k) for k in range(ENTRIES)]),
    ("logsumexp(x)", "jax.nn.logsumexp", _softmax, [repr(-1000.0 - k) for k in range(ENTRIES)]),
    ("norm(x)", "jnp.linalg.norm", lambda x: [v / mp.sqrt(mp.fsum(u * u for u in x)) for v in x],
     [repr(1e200 * (1 + k / 70)) for k in range(ENTRIES)]),
    ("norm(x)", "jnp.linalg.norm", lambda x: [v / mp.sqrt(mp.fsum(u * u for u in x)) for v in x],
     [repr(1e-200 * (1 + k / 70)) for k in range(ENTRIES)]),
    ("sum(sigmoid(x))", "lambda x: jnp.sum(jax.nn.sigmoid(x))", lambda x: [_sig(v) * _sig(-v) for v in x],
     [repr(-45.0 + 1.3 * k) for k in range(ENTRIES)]),
    ("sum(softplus(x))", "lambda x: jnp.sum(jax.nn.softplus(x))", lambda x: [_sig(v) for v in x],
     [repr(-745.0 + 21.5 * k) for k in range(ENTRIES)]),
]


def at_typed(gradient, points: list[str]) -> list[float] | None:
    """``gradient`` (of the inputs as a list, written out by hand) at these numbers as typed (each the ``repr`` of the
    double jaccli is given: the decimal it reads, as the issue's reference does), rounded to doubles; None where it
    is not a finite double, or 60 and 120 digits do not round alike."""
    previous = None
    for dps in (60, 120):
        with mp.workdps(dps):
            values = [float(v) for v in gradient([mp.mpf(p) for p in points])]
        if not all(math.isfinite(v) for v in values):
            return None
        if values == previous:
            return values
        previous = values
    return None


def settled(function, texts: list[str]) -> list[float]:
    """``function`` of the typed numbers, rounded to doubles, at 50/100/200 digits until that stops changing."""
    previous = None
    for dps in (50, 100, 200):
        with mp.workdps(dps):
            values = [float(v) for v in function([mp.mpf(t) for t in texts])]
        if values == previous:
            break
        previous = values
    return values


def main() -> int:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=300, help="random expressions (seeded as bench/accuracy.py)")
    args = parser.parse_args()
    rng = random.Random(15)
    cases = [c for c in NAMED if c[0] == "derivative"] + [random_case(rng) for _ in range(args.random)]
    named = {c[1] for c in NAMED}
    tally = dict.fromkeys(("cases", "jaccli worse", "JAX worse", "jaccli > 1 ulp, no warning", "JAX > 1 ulp",
                           "jaccli 0 ulp", "JAX 0 ulp"), 0)

    def count(name: str, got: list[float], warned: bool, theirs: list[float], want: list[float]) -> None:
        mine = max(ulps(g, w) for g, w in zip(got, want, strict=True))
        jax_ulps = max(ulps(g, w) for g, w in zip(theirs, want, strict=True))
        tally["cases"] += 1
        tally["jaccli > 1 ulp, no warning"] += mine > 1 and not warned
        tally["jaccli 0 ulp"] += mine == 0
        tally["JAX 0 ulp"] += jax_ulps == 0
        if mine > 0:
            print(f"jaccli {mine:.3g} ulp{'' if warned else ', no warning'}: {name}", file=sys.stderr)
        tally["JAX > 1 ulp"] += jax_ulps > 1
        if mine > max(jax_ulps, 1) and not warned:
            tally["jaccli worse"] += 1
            print(f"jaccli worse: {name}: {mine:.3g} ulp, JAX {jax_ulps:.3g}", file=sys.stderr)
        elif jax_ulps > max(mine, 1):
            tally["JAX worse"] += 1

    for _, expression, at, function, text in cases:
        if text is None:
            continue
        texts = at * ENTRIES if expression in named else [POINTS[i % len(POINTS)] for i in range(ENTRIES)]
        wants = {t: reference(function, [t]) for t in set(texts)}
        keep = [i for i, t in enumerate(texts) if wants[t] is not None and math.isfinite(wants[t][0])]
        if not keep:
            continue
        try:
            result = compute.derivative(expression, [",".join(texts)])
            f = eval(text, {"jax": jax, "jnp": jnp})  # noqa: S307 - bench/accuracy.py's own case texts
            theirs = jax.vmap(jax.grad(f))(jnp.array([float(t) for t in texts]))
        except Exception:  # noqa: BLE001 - refused or no JAX form: not counted
            continue
        got = result.value.ravel()
        count(f"derivative {expression!r} at x[{ENTRIES}]", [float(got[i]) for i in keep],
              bool(result.warnings) and result.exit_code == 1, [float(theirs[i]) for i in keep],
              [wants[texts[i]][0] for i in keep])

    families = random.Random(1)
    for scale in ("1e-3", "1", "1e-6"):
        texts = [repr(float(mp.mpf(scale) * mp.mpf(families.uniform(0.5, 2)))) for _ in range(ENTRIES)]
        result = compute.derivative("atan2(x, erf(x))", [",".join(texts)])
        theirs = jax.vmap(jax.grad(lambda x: jnp.arctan2(x, jax.scipy.special.erf(x))))(
            jnp.array([float(t) for t in texts]))
        count(f"derivative atan2(x, erf(x)) at x[{ENTRIES}] ~ {scale}", result.value.ravel().tolist(),
              bool(result.warnings) and result.exit_code == 1, [float(v) for v in theirs],
              settled(lambda x: [d_atan2_erf(v) for v in x], texts))
    for low, high in ((0.95, 1.05), (-1.2, 1.2), (0.5, 1.5)):
        texts = [repr(round(families.uniform(low, high), 6)) for _ in range(ENTRIES)]
        result = compute.hessian("dot(x, x) * prod(x)", [",".join(texts)])
        theirs = jax.hessian(lambda x: jnp.dot(x, x) * jnp.prod(x))(jnp.array([float(t) for t in texts]))
        count(f"hessian dot(x, x) * prod(x), {ENTRIES} inputs in [{low}, {high}]", result.value.ravel().tolist(),
              bool(result.warnings) and result.exit_code == 1, [float(v) for v in theirs.ravel()],
              settled(hessian_dot_prod, texts))
    before = dict(tally)
    for expression, jax_text, function, typed in EDGES:
        f = eval(jax_text, {"jax": jax, "jnp": jnp})  # noqa: S307 - this file's own case texts
        for text in typed:
            x = float(text)
            want = at_typed(lambda v, function=function: [function(v[0])], [repr(x)])
            if want is None:
                continue
            result = compute.derivative(expression, [",".join([repr(x)] * ENTRIES)])
            theirs = jax.vmap(jax.grad(f))(jnp.full(ENTRIES, x))
            count(f"derivative {expression} at x[{ENTRIES}] = {text}", result.value.ravel().tolist(),
                  bool(result.warnings) and result.exit_code == 1, [float(v) for v in theirs], want * ENTRIES)
    for expression, jax_text, function, texts in GRADIENT_EDGES:
        x = [float(t) for t in texts]
        want = at_typed(function, texts)
        if want is None:
            continue
        result = compute.gradient(expression, [",".join(texts)])
        theirs = jax.grad(eval(jax_text, {"jax": jax, "jnp": jnp}))(jnp.array(x))  # noqa: S307 - as above
        count(f"gradient {expression} at x[{ENTRIES}] from {texts[0]}", result.value.ravel().tolist(),
              bool(result.warnings) and result.exit_code == 1, [float(v) for v in theirs], want)
    edges = {key: tally[key] - before[key] for key in tally}
    print("| cases | jaccli worse than JAX, no warning | JAX worse | jaccli > 1 ulp, no warning | JAX > 1 ulp | "
          "jaccli 0 ulp | JAX 0 ulp |")
    print("|---|---|---|---|---|---|---|")
    for name, row in (("all", tally), ("domain edges", edges)):
        print(f"| {row['cases']} ({name}) | {row['jaccli worse']} | {row['JAX worse']} | "
              f"{row['jaccli > 1 ulp, no warning']} | {row['JAX > 1 ulp']} | {row['jaccli 0 ulp']} | "
              f"{row['JAX 0 ulp']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
