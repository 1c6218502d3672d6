"""jaccli against JAX float64 on the numeric path (more than 64 inputs, no formula to verify): issue 15 (d).

``bench/accuracy.py``'s derivative cases (the named ones and the seeded random compositions) are evaluated with x
an array of 70 entries (seven typed points, ten times each), so that jaccli takes the numeric path; plus the
issue's two worse-than-JAX families, ``atan2(x, erf(x))`` and the Hessian of ``dot(x, x) * prod(x)``, with 70
inputs. Each entry is compared with mpmath (``accuracy.reference``, or a Hessian written out by hand); a case is
"jaccli worse" when jaccli's largest error exceeds JAX's and 1 ulp, and jaccli gave no warning (exit 1).

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
    tally = dict.fromkeys(("cases", "jaccli worse", "JAX worse", "jaccli > 1 ulp, no warning", "JAX > 1 ulp"), 0)

    def count(name: str, got: list[float], warned: bool, theirs: list[float], want: list[float]) -> None:
        mine = max(ulps(g, w) for g, w in zip(got, want, strict=True))
        jax_ulps = max(ulps(g, w) for g, w in zip(theirs, want, strict=True))
        tally["cases"] += 1
        tally["jaccli > 1 ulp, no warning"] += mine > 1 and not warned
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
    print("| cases | jaccli worse than JAX, no warning | JAX worse | jaccli > 1 ulp, no warning | JAX > 1 ulp |")
    print("|---|---|---|---|---|")
    print(f"| {tally['cases']} | {tally['jaccli worse']} | {tally['JAX worse']} | "
          f"{tally['jaccli > 1 ulp, no warning']} | {tally['JAX > 1 ulp']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
