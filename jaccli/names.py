"""The language as a user discovers it: the reference ``jaccli functions`` prints, and what an unknown name gets.

Everything here is generated from the registry's ``FUNCTIONS`` and ``CONSTANTS`` (name -> operation record,
with its ``summary``, ``arity`` and other names), so it follows the functions jaccli has. Other tools' names
point to jaccli's own spelling only when jaccli has it; a numpy name jaccli lacks is said to be missing,
with a way to write it, rather than answered with a different function that happens to be spelt alike.
"""

from __future__ import annotations

import difflib

# Other tools' spellings of functions jaccli has (used only when jaccli has the target and not the name).
ALIASES = {
    "ln": "log", "lg": "log10", "lb": "log2", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arctan2": "atan2", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "absolute": "abs", "fabs": "abs", "maximum": "max", "minimum": "min", "amax": "max", "amin": "min",
    "average": "mean", "product": "prod", "expit": "sigmoid", "logistic": "sigmoid", "nansum": "sum",
    "nanmean": "mean", "nanprod": "prod", "logsoftmax": "log_softmax",
}

# numpy/math/scipy names jaccli does not have, and how to write the same thing (None: no way here).
MISSING = {
    "exp2": "2^x", "square": "x^2",
    "power": "x^y", "pow": "x^y", "reciprocal": "1/x", "sech": "1/cosh(x)", "csch": "1/sinh(x)", "coth": "1/tanh(x)",
    "arcsec": "acos(1/x)", "arccsc": "asin(1/x)", "arccot": "atan(1/x)", "asec": "acos(1/x)",
    "acsc": "asin(1/x)", "acot": "atan(1/x)", "sinc": "sin(x)/x",
    "logaddexp": "log(exp(x) + exp(y)), or logsumexp([x, y])", "deg2rad": "x*pi/180", "radians": "x*pi/180",
    "rad2deg": "x*180/pi", "degrees": "x*180/pi", "floor": None, "ceil": None, "round": None,
    "trunc": None, "mod": None, "fmod": None, "eig": None, "inner": "dot(a, b)",
    "diff": None, "heaviside": None,
    "factorial": "gamma(x + 1)", "exp10": "10^x", "trigamma": "polygamma(1, x)", "loggamma": "lgamma(x)",
    "beta": "gamma(a)*gamma(b)/gamma(a + b)", "betaln": "lgamma(a) + lgamma(b) - lgamma(a + b)",
}

OPERATORS = [  # (how it is written, an example, what it means)
    ("+  -  *  /", "x*y - 1/x", "add, subtract, multiply, divide"),
    ("^  or  **", "x^2", "power; x^2*3 is (x^2)*3"),
    ("x²  x³  x⁻¹", "x² + y⁻¹", "superscript powers"),
    ("2x  x y  2(x+1)", "2x^2 + 3y", "implicit product, binds like *: 2x^2 is 2*(x^2)"),
    ("sin x", "sin x^2", "a function of the next term, up to a space or operator: sin(x^2)"),
    ("|x|", "|x - 1|", "absolute value"),
    ("√x  √(x+1)", "√(x^2 + 1)", "square root"),
    ("·  ×  −  ÷  π", "2π·r", "the same as *, *, -, /, pi"),
    ("[a, b]  or  a, b", "[x*y, x + y]", "several outputs: a vector-valued function"),
    ("x[i]  x[i, j]", "x[0]^2*x[1]", "an entry of an array variable, 0-based (negative: from the end)"),
    ("A @ x  A.T", "x @ A @ x", "matrix product (np.matmul's rules) and transpose"),
    ("<  <=  >  >=  ==  !=", "where(x > 0, x, 0)", "comparisons: 1 where they hold, else 0"),
    ("x[1:]  A[:, 0]", "x[1:] - x[:-1]", "slices of any expression, constant bounds"),
]


def example(name: str, entry) -> str:
    """A call of the function with as many arguments as it takes: ``sin(x)``, ``atan2(y, x)``, ``max(x, y)``."""
    least, most = entry.arity
    count = least if most is not None else max(least, 2)
    args = ["y", "x"] if name == "atan2" else ["x", "y", "z"][:count]
    return f"{name}({', '.join(args)})"


def reference(functions, constants) -> str:
    """The text of ``jaccli functions``: operators, constants, then every function with summary and example."""
    lines = ["Operators"]
    lines += [f"  {op:<18} {ex:<14} {meaning}" for op, ex, meaning in OPERATORS]
    lines += ["", "Constants"]
    lines += [f"  {name + (', π' if name == 'pi' else ''):<18} {text}" for name, text in constants.items()]
    lines += ["", "Functions (log is the natural logarithm)"]
    ops = _unique(functions)
    width = max(len(example(op.called, op)) for op in ops)
    lines += [f"  {example(op.called, op):<{width}}  {op.summary}" + _also(op) for op in ops]
    lines += ["", "Variables are other names: letters, digits and _, starting with a letter (xy is one name,",
              "x y a product). An array variable's point has several entries: --at 1,2,3 or --at '[[1,2],[3,4]]'."]
    return "\n".join(lines) + "\n"


def _unique(functions) -> list:
    """Each function once (a record is listed under every name it has), in the table's order."""
    seen, out = set(), []
    for entry in functions.values():
        if id(entry) not in seen:
            seen.add(id(entry))
            out.append(entry)
    return out


def _also(op) -> str:
    return f" (also {', '.join(op.aliases)})" if op.aliases else ""


def as_json(functions, constants) -> dict:
    return {
        "operators": [{"operator": op, "meaning": meaning, "example": ex} for op, ex, meaning in OPERATORS],
        "constants": dict(constants),
        "functions": {op.called: {"summary": op.summary, "min_args": op.arity[0], "max_args": op.arity[1],
                                "example": example(op.called, op), "other_names": list(op.aliases)}
                      for op in _unique(functions)},
    }


def unknown_function(name: str, functions) -> str:
    """What to say about a call of ``name``, which is not in ``functions``: its spelling here, or the nearest three."""
    see = "'jaccli functions' lists them all"
    target = ALIASES.get(name.lower())
    if target in functions and target != name:
        note = " (the natural logarithm)" if target == "log" else ""
        return f"unknown function '{name}' — did you mean '{target}'{note}? ({see})"
    if name.lower() in MISSING:
        instead = MISSING[name.lower()]
        return (f"unknown function '{name}': jaccli has no {name}" + (f"; write {instead}" if instead else "")
                + f" ({see})")
    close = difflib.get_close_matches(name, sorted(functions), n=3, cutoff=0.6)
    if not close:
        return (f"unknown function '{name}'; for a product write {name}*(…), or {name} (…) with a space "
                f"({see})")
    names = [f"'{c}'" for c in close]
    spoken = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"unknown function '{name}' — did you mean {spoken}? ({see})"
