"""How many printed values are right to the last bit: the README's accuracy table.

Each case is a function written here in mpmath (never jaccli's formula), differentiated by mpmath at the point
as typed with steps relative to each input, at 60 and 120 digits until both round to the same double. jaccli's
value (Python API, --at) is then classed: 0 ulps, within 1 ulp, warned (a ``Warning:`` and exit 1), or wrong
(off by more than 1 ulp, exit 0). With ``--jax`` (run by a Python that has JAX, e.g. /work/venv10), JAX float64
(jax.grad / jax.jacfwd at the double nearest the typed point) is classed the same way, where the case has a JAX
form. Cases: the named ones below (cancellation, saturation, intermediate overflow/underflow; Goldberg 1991,
Higham 2002) and random expressions of the registry's smooth elementwise functions (seeded).

    PYTHONPATH=. python bench/accuracy.py [--random N] [--jax]
"""

from __future__ import annotations

import argparse
import math
import random
import sys

import mpmath as mp

from jaccli import compute
from jaccli.registry import OPS


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


# (command, expression, point as typed, f in mpmath over the flat inputs, f in jax.numpy or None)
NAMED = [
    ("derivative", "(sqrt(1+x)-1)/x", ["1e-12"], lambda x: (mp.sqrt(1 + x) - 1) / x, "lambda x: (jnp.sqrt(1+x)-1)/x"),
    ("derivative", "(exp(x)-1-x)/x**2", ["1e-10"], lambda x: (mp.exp(x) - 1 - x) / x**2,
     "lambda x: (jnp.exp(x)-1-x)/x**2"),
    ("derivative", "(1-cos(x))/x**2", ["1e-10"], lambda x: (1 - mp.cos(x)) / x**2, "lambda x: (1-jnp.cos(x))/x**2"),
    ("derivative", "sin(x)/x", ["1e-10"], lambda x: mp.sin(x) / x, "lambda x: jnp.sin(x)/x"),
    ("derivative", "log(1+x)", ["1e-10"], lambda x: mp.log(1 + x), "lambda x: jnp.log(1+x)"),
    ("derivative", "exp(x)-1", ["1e-10"], lambda x: mp.exp(x) - 1, "lambda x: jnp.exp(x)-1"),
    ("derivative", "x - sin(x)", ["1e-10"], lambda x: x - mp.sin(x), "lambda x: x - jnp.sin(x)"),
    ("derivative", "tanh(x)", ["40"], mp.tanh, "jnp.tanh"),
    ("derivative", "tanh(x)", ["-40"], mp.tanh, "jnp.tanh"),
    ("derivative", "1/(1+x**2)", ["1e100"], lambda x: 1 / (1 + x**2), "lambda x: 1/(1+x**2)"),
    ("derivative", "x**7 - 7*x**6 + 21*x**5 - 35*x**4 + 35*x**3 - 21*x**2 + 7*x - 1", ["1.0001"],
     lambda x: x**7 - 7*x**6 + 21*x**5 - 35*x**4 + 35*x**3 - 21*x**2 + 7*x - 1,
     "lambda x: x**7 - 7*x**6 + 21*x**5 - 35*x**4 + 35*x**3 - 21*x**2 + 7*x - 1"),
    ("derivative", "log(sigmoid(x))", ["-800"], lambda x: mp.log(sigmoid(x)), "lambda x: jnp.log(jax.nn.sigmoid(x))"),
    ("derivative", "log(cosh(x))", ["800"], lambda x: mp.log(mp.cosh(x)), "lambda x: jnp.log(jnp.cosh(x))"),
    ("derivative", "log(1+exp(x))", ["800"], lambda x: mp.log(1 + mp.exp(x)), "lambda x: jnp.log(1+jnp.exp(x))"),
    ("derivative", "log(x)/(x-1)", ["1.00000001"], lambda x: mp.log(x) / (x - 1), "lambda x: jnp.log(x)/(x-1)"),
    ("derivative", "(-b + sqrt(b**2 - 4))/2", ["1e8"], lambda b: (-b + mp.sqrt(b**2 - 4)) / 2,
     "lambda b: (-b + jnp.sqrt(b**2 - 4))/2"),
    ("derivative", "sin(x)", ["1e22"], mp.sin, "jnp.sin"),
    ("derivative", "erf(x)", ["6"], mp.erf, "jax.scipy.special.erf"),
    ("gradient", "sqrt(x**2+y**2)", ["x=1e-200", "y=2e-200"], lambda x, y: mp.sqrt(x**2 + y**2),
     "lambda v: jnp.sqrt(v[0]**2+v[1]**2)"),
    ("gradient", "norm(x)", ["1e200,2e200"], lambda *x: mp.sqrt(sum(v**2 for v in x)), "jnp.linalg.norm"),
    ("gradient", "norm(x)", ["1e-200,2e-200"], lambda *x: mp.sqrt(sum(v**2 for v in x)), "jnp.linalg.norm"),
    ("gradient", "atan2(y, x)", ["x=1e-200", "y=2e-200"], lambda x, y: mp.atan2(y, x),
     "lambda v: jnp.arctan2(v[1], v[0])"),
    ("gradient", "hypot(x, y)", ["x=1e200", "y=1e200"], lambda x, y: mp.hypot(x, y), "lambda v: jnp.hypot(v[0], v[1])"),
    ("gradient", "x**2 - y**2", ["x=1.0000001", "y=1"], lambda x, y: x**2 - y**2, "lambda v: v[0]**2 - v[1]**2"),
    ("gradient", "sum(x**2)/3 - (sum(x)/3)**2", ["100000001,100000002,100000004"],
     lambda *x: sum(v**2 for v in x) / 3 - (sum(x) / 3) ** 2, "lambda x: jnp.sum(x**2)/3 - (jnp.sum(x)/3)**2"),
    ("gradient", "sqrt(((a+b+c)/2)*((a+b+c)/2-a)*((a+b+c)/2-b)*((a+b+c)/2-c))", ["a=9", "b=4.53", "c=4.53"],
     lambda a, b, c: mp.sqrt(((a + b + c) / 2) * ((a + b + c) / 2 - a) * ((a + b + c) / 2 - b) * ((a + b + c) / 2 - c)),
     "lambda v: jnp.sqrt(((v[0]+v[1]+v[2])/2)*((v[0]+v[1]+v[2])/2-v[0])*((v[0]+v[1]+v[2])/2-v[1])"
     "*((v[0]+v[1]+v[2])/2-v[2]))"),
]

SMOOTH = sorted(op.name for op in OPS.values() if op.kind == "elementwise" and op.public and op.kink is None
                and op.mp is not None and op.arity == (1, 1) and op.name.isidentifier() and op.name != "neg")
JAX_NAMES = {"sin": "jnp.sin", "cos": "jnp.cos", "tan": "jnp.tan", "exp": "jnp.exp", "log": "jnp.log",
             "sqrt": "jnp.sqrt", "tanh": "jnp.tanh", "sinh": "jnp.sinh", "cosh": "jnp.cosh", "asin": "jnp.arcsin",
             "acos": "jnp.arccos", "atan": "jnp.arctan", "asinh": "jnp.arcsinh", "acosh": "jnp.arccosh",
             "atanh": "jnp.arctanh", "sigmoid": "jax.nn.sigmoid", "erf": "jax.scipy.special.erf",
             "softplus": "jax.nn.softplus", "log1p": "jnp.log1p", "expm1": "jnp.expm1", "cbrt": "jnp.cbrt",
             "exp2": "jnp.exp2", "log2": "jnp.log2", "log10": "jnp.log10", "erfc": "jax.scipy.special.erfc"}
POINTS = ["0.5", "1.25", "3", "0.1", "-0.75", "1e-8", "2.5", "7", "-2", "1e-4", "30", "-30", "0.999"]


def random_case(rng: random.Random):
    def tree(depth):
        pick = rng.random()
        if depth == 0 or pick < 0.25:
            return ("x",) if rng.random() < 0.75 else ("c", rng.choice(["2", "0.5", "3", "0.1"]))
        if pick < 0.65:
            return (rng.choice(SMOOTH), tree(depth - 1))
        return (rng.choice("+-*/"), tree(depth - 1), tree(depth - 1))

    def text(t):
        if t[0] == "x":
            return "x"
        if t[0] == "c":
            return t[1]
        if len(t) == 2:
            return f"{t[0]}({text(t[1])})"
        return f"({text(t[1])} {t[0]} {text(t[2])})"

    def mpf(t, x):
        if t[0] == "x":
            return x
        if t[0] == "c":
            return mp.mpf(t[1])
        if len(t) == 2:
            return OPS[t[0]].mp(mp, mpf(t[1], x))
        a, b = mpf(t[1], x), mpf(t[2], x)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else mp.nan}[t[0]]

    def jaxf(t):
        if t[0] == "x":
            return "x"
        if t[0] == "c":
            return t[1]
        if len(t) == 2:
            return None if t[0] not in JAX_NAMES or jaxf(t[1]) is None else f"{JAX_NAMES[t[0]]}({jaxf(t[1])})"
        a, b = jaxf(t[1]), jaxf(t[2])
        return None if a is None or b is None else f"({a} {t[0]} {b})"

    while True:
        t = tree(3)
        if "x" in text(t):
            jax_text = jaxf(t)
            return ("derivative", text(t), [rng.choice(POINTS)], lambda x, t=t: mpf(t, x),
                    None if jax_text is None else f"lambda x: {jax_text}")


def typed(at: list[str]) -> list:
    out = []
    for arg in at:
        out += [mp.mpf(v) for v in (arg.partition("=")[2] if "=" in arg else arg).split(",")]
    return out


def reference(function, at: list[str]) -> list[float] | None:
    """The gradient (or derivative) of ``function`` at the typed point, rounded to doubles; None if unsettled."""
    previous = None
    for dps in (60, 120, 240):
        try:
            with mp.workdps(dps):
                x = typed(at)
                values = []
                for j in range(len(x)):
                    h = (abs(x[j]) or 1) * mp.mpf(2) ** (-mp.mp.prec - 10)

                    def along(t, j=j, x=x):
                        return function(*(x[:j] + [t] + x[j + 1:]))

                    d = mp.diff(along, x[j], h=h)
                    if not isinstance(d, mp.mpf) or not mp.isfinite(d):
                        return None
                    values.append(float(d))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            return None
        if values == previous:
            return values
        previous = values
    return None


def ulps(got: float, want: float) -> float:
    if got == want:
        return 0
    if not math.isfinite(got):
        return math.inf
    return abs(got - want) / math.ulp(want) if want else math.inf


def jaccli_value(case):
    command, expression, at, _, _ = case
    try:
        result = getattr(compute, command)(expression, at)
    except Exception:  # noqa: BLE001 - refused input: not counted
        return None
    warned = bool(result.warnings) and result.exit_code == 1
    return [float(v) for v in result.value.ravel()], warned


def jax_value(case):
    import jax
    import jax.numpy as jnp  # noqa: F401 - used by the case texts

    jax.config.update("jax_enable_x64", True)
    command, _, at, _, text = case
    f = eval(text, {"jax": jax, "jnp": jax.numpy})  # noqa: S307 - this file's own case texts, not user input
    x = [float(v) for v in typed(at)]
    if command == "derivative":
        return [float(jax.grad(f)(x[0]))]
    return [float(v) for v in jax.grad(f)(jnp.array(x))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=300, help="random expressions (seeded)")
    parser.add_argument("--jax", action="store_true", help="also JAX float64")
    args = parser.parse_args()
    rng = random.Random(15)
    cases = NAMED + [random_case(rng) for _ in range(args.random)]
    tally = {"jaccli": dict.fromkeys(("cases", "0 ulp", "≤1 ulp", "warned", "wrong"), 0)}
    if args.jax:
        tally["JAX float64"] = dict.fromkeys(("cases", "0 ulp", "≤1 ulp", "warned", "wrong"), 0)
    for case in cases:
        want = reference(case[3], case[2])
        if want is None or not all(math.isfinite(w) for w in want):
            continue
        got = jaccli_value(case)
        if got is None or (args.jax and case[4] is None):
            continue
        runs = [("jaccli", *got)]
        if args.jax:
            try:
                runs.append(("JAX float64", jax_value(case), False))
            except Exception:  # noqa: BLE001 - no JAX form at this point
                continue
        for name, values, warned in runs:
            t = tally[name]
            t["cases"] += 1
            worst = max(ulps(g, w) for g, w in zip(values, want))
            if worst == 0:
                t["0 ulp"] += 1
            if worst <= 1:
                t["≤1 ulp"] += 1
            elif warned:
                t["warned"] += 1
            else:
                t["wrong"] += 1
                if name == "jaccli":
                    print(f"wrong: {case[0]} {case[1]!r} at {case[2]}: {values} vs {want}", file=sys.stderr)
    print("| system | cases | 0 ulp | within 1 ulp | warned | wrong, no warning |")
    print("|---|---|---|---|---|---|")
    for name, t in tally.items():
        print(f"| {name} | {t['cases']} | {t['0 ulp']} | {t['≤1 ulp']} | {t['warned']} | {t['wrong']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
