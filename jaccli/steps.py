"""``--steps``: each derivative derived as a person writes it, the rule applied at every step.

A recursive derivation over the lowered (sympy) expression, separate from the differentiation that gives the
result: at each node it names the rule (sum, constant factor, product, quotient, power, exponential, chain, and
each elementary function's derivative), derives the parts it needs, and combines them. The trace is a list of
steps ``{"depth", "rule", "of", "derivative"}`` (pre-order: a rule, then the derivations it uses, indented),
followed by the simplified result the command prints. Tests check that the derivation agrees with sympy's.
"""

from __future__ import annotations

import numpy as np

from .errors import JaccliError, LimitError

MAX_ENTRIES = 16  # entries of a result shown with --steps
MAX_STEPS = 400  # steps over the whole result
SIMPLIFY_SECONDS = 0.5  # for the simplified form of each entry (pretty.shortest's budget)

_FUNCTION_RULES = {  # how each elementary function's derivative reads, with u its argument
    "sin": "sin'(u) = cos(u)", "cos": "cos'(u) = -sin(u)", "tan": "tan'(u) = 1 + tan(u)**2",
    "exp": "exp'(u) = exp(u)", "log": "log'(u) = 1/u", "sinh": "sinh'(u) = cosh(u)", "cosh": "cosh'(u) = sinh(u)",
    "tanh": "tanh'(u) = 1 - tanh(u)**2", "asin": "asin'(u) = 1/sqrt(1 - u**2)",
    "acos": "acos'(u) = -1/sqrt(1 - u**2)", "atan": "atan'(u) = 1/(1 + u**2)", "Abs": "|u|' = sign(u)",
}


class _Trace:
    def __init__(self, limit: int):
        self.steps: list[dict] = []
        self.limit = limit

    def open(self, depth: int, rule: str, expr) -> dict:
        if len(self.steps) >= self.limit:
            raise LimitError(f"the derivation has more than {MAX_STEPS} steps (the limit for --steps); drop --steps "
                             "or differentiate a smaller expression")
        import sympy

        step = {"depth": depth, "rule": rule, "of": sympy.sstr(expr), "derivative": None}
        self.steps.append(step)
        return step


def derive(expr, x, trace: _Trace, depth: int = 0):
    """d expr / dx, recording each rule in ``trace``."""
    import sympy

    if x not in expr.free_symbols:
        step = trace.open(depth, "constant: its derivative is 0", expr)
        out = sympy.S.Zero
    elif expr == x:
        step = trace.open(depth, f"d{x}/d{x} = 1", expr)
        out = sympy.S.One
    elif expr.is_Add:
        step = trace.open(depth, "sum rule: (u + v)' = u' + v'", expr)
        out = sympy.Add(*(derive(a, x, trace, depth + 1) for a in expr.args if x in a.free_symbols))
    elif expr.is_Mul:
        constant = sympy.Mul(*(a for a in expr.args if x not in a.free_symbols))
        rest = sympy.Mul(*(a for a in expr.args if x in a.free_symbols))
        if constant != 1:
            step = trace.open(depth, f"constant factor: ({sympy.sstr(constant)}*u)' = {sympy.sstr(constant)}*u'",
                              expr)
            out = constant * derive(rest, x, trace, depth + 1)
        else:
            numerator, denominator = sympy.fraction(expr, exact=True)  # exp(-x) is not 1/exp(x)
            if x in numerator.free_symbols and x in denominator.free_symbols and denominator != 1:
                step = trace.open(depth, "quotient rule: (u/v)' = (u'*v - u*v')/v**2", expr)
                du = derive(numerator, x, trace, depth + 1)
                dv = derive(denominator, x, trace, depth + 1)
                out = (du * denominator - numerator * dv) / denominator**2
            else:
                factors = list(expr.args)
                rule = ("product rule: (u*v)' = u'*v + u*v'" if len(factors) == 2 else
                        f"product rule for {len(factors)} factors: each factor's derivative times the others")
                step = trace.open(depth, rule, expr)
                derivatives = [derive(f, x, trace, depth + 1) for f in factors]
                out = sympy.Add(*(sympy.Mul(*factors[:i], d, *factors[i + 1:])
                                  for i, d in enumerate(derivatives)))
    elif expr.is_Pow:
        base, exponent = expr.args
        if x not in exponent.free_symbols:
            n = sympy.sstr(exponent)
            if base == x:
                step = trace.open(depth, f"power rule: ({x}**n)' = n*{x}**(n - 1), n = {n}", expr)
                out = exponent * base ** (exponent - 1)
            else:
                step = trace.open(depth, f"power rule with the chain rule: (u**n)' = n*u**(n - 1)*u', n = {n}", expr)
                out = exponent * base ** (exponent - 1) * derive(base, x, trace, depth + 1)
        elif x not in base.free_symbols:
            step = trace.open(depth, "exponential rule: (a**u)' = a**u*log(a)*u'", expr)
            out = expr * sympy.log(base) * derive(exponent, x, trace, depth + 1)
        else:
            step = trace.open(depth, "logarithmic differentiation: (u**v)' = u**v*(v'*log(u) + v*u'/u)", expr)
            du = derive(base, x, trace, depth + 1)
            dv = derive(exponent, x, trace, depth + 1)
            out = expr * (dv * sympy.log(base) + exponent * du / base)
    elif isinstance(expr, sympy.Function) and len(expr.args) == 1:
        (u,) = expr.args
        name = type(expr).__name__
        try:
            outer = expr.fdiff(1)
        except (sympy.ArgumentIndexError, NotImplementedError):
            outer = None
        if outer is None or outer.has(sympy.Derivative, sympy.Subs):
            step = trace.open(depth, f"the derivative of {name} (sympy's rule)", expr)
            out = sympy.diff(expr, x)
        else:
            if u == x:
                step = trace.open(depth, f"{name}'({x}) = {sympy.sstr(outer)}", expr)
                out = outer
            else:
                rule = _FUNCTION_RULES.get(name) or f"{name}'(u) = {sympy.sstr(outer.xreplace({u: sympy.Symbol('u')}))}"
                step = trace.open(depth, f"chain rule: ({name}(u))' = {name}'(u)*u', with {rule}", expr)
                out = outer * derive(u, x, trace, depth + 1)
    else:
        step = trace.open(depth, f"the derivative of {type(expr).__name__} (sympy's rule)", expr)
        out = sympy.diff(expr, x)
    step["derivative"] = sympy.sstr(out)
    return out


def attach(result, command: str) -> None:
    """``result.extra['steps']`` and the lines under the table: the derivation of each entry."""
    import time

    import sympy

    from .pretty import shortest

    if result.symbolic is None:
        raise JaccliError("--steps needs the symbolic result, which is not formed here (too many inputs)")
    size = int(np.prod(result.shape, dtype=int))
    if size > MAX_ENTRIES:
        raise LimitError(f"--steps shows results of up to {MAX_ENTRIES} entries (the limit), and this one has {size}")
    problem = result.numbers.problem
    outputs = list(problem.outputs.flat)
    inputs = problem.inputs
    entries = []  # (label, f, x, the command's own result)
    flat = list(result.symbolic.flat)
    if command == "jacobian":
        for i, row in enumerate(result.rows):
            for j, column in enumerate(result.columns):
                entries.append((f"∂{row}/∂{column}", outputs[i], inputs[j], flat[i * len(result.columns) + j]))
    elif command == "gradient":
        for j, label in enumerate(problem.labels):
            entries.append((f"∂f/∂{label}", outputs[0], inputs[j], flat[j]))
    else:  # derivative, first order, entry by entry
        wrt = result.numbers.params["wrt"]
        symbols = problem.symbols[wrt]
        for k, (f, label) in enumerate(zip(outputs, _labels(result), strict=True)):
            used = [s for s in symbols.flat if s in f.free_symbols]
            x = used[0] if used else symbols.flat[0]
            entries.append((f"d{label}/d{x}", f, x, flat[k]))
    trace = _Trace(MAX_STEPS)
    document, lines = [], []
    for label, f, x, final in entries:
        start = len(trace.steps)
        derive(f, x, trace)
        steps = trace.steps[start:]
        final_text = sympy.sstr(shortest(final, time.monotonic() + SIMPLIFY_SECONDS))
        document.append({"entry": label, "variable": sympy.sstr(x), "steps": steps, "result": final_text})
        lines.append(f"{label}:")
        for step in steps:
            lines.append(f"{'  ' * (step['depth'] + 1)}d/d{x} [{step['of']}] = {step['derivative']}"
                         f"    ({step['rule']})")
        if final_text != steps[0]["derivative"]:
            lines.append(f"  simplified: {final_text}")
    result.extra["steps"] = document
    result.summary.extend(["Steps:", *lines])


def _labels(result) -> list[str]:
    return list(result.rows) if len(result.rows) == int(np.prod(result.shape, dtype=int)) else \
        [f"f{i}" for i in range(int(np.prod(result.shape, dtype=int)))]
