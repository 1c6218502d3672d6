"""The commands as functions: expression text and point in, ``Result`` out.

This is jaccli's Python API (``from jaccli import jacobian``): no terminal code,
no typer, no rich. Each function parses, binds the point, differentiates
symbolically and, when a point is given, evaluates with numpy.
"""

from __future__ import annotations

import numpy as np

from . import calculus, lowering, numeric, points, verify
from .errors import JaccliError, ShapeError
from .parsing import Function, parse
from .result import Result

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class Problem:
    """An expression bound to its variables' shapes and (optionally) a point."""

    def __init__(self, expression: str, at: list[str] | None = None, variables: list[str] | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None, scalar: tuple[str, ...] = (), stdin=None):
        self.expression = expression
        self.function: Function = parse(expression, variables)
        self.values = points.bind(self.function.variables, at, stdin) if at else None
        self.shapes = self._shapes(shapes or {}, scalar)
        self.outputs, self.symbols = lowering.lower(self.function, self.shapes)
        self.inputs = [s for name in self.function.variables for s in self.symbols[name].flat]
        self.labels = [s.name for s in self.inputs]

    def _shapes(self, given: dict, scalar: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for name in self.function.variables:
            if self.values is not None:
                shapes[name] = self.values[name].shape
            elif name in given:
                shapes[name] = tuple(given[name])
            elif name in self.function.indexed:  # x[2] used and no point: x has 3 entries
                shapes[name] = (self.function.indexed[name] + 1,)
            else:
                shapes[name] = ()
        for name in scalar:
            shapes[name] = ()
        return shapes

    @property
    def point(self) -> np.ndarray | None:
        if self.values is None:
            return None
        return np.concatenate([self.values[n].array.ravel() for n in self.function.variables] or [np.zeros(0)])

    def env(self) -> dict:
        """Symbol -> float for every input entry at the point."""
        env = {}
        for name in self.function.variables:
            for symbol, value in zip(self.symbols[name].flat, self.values[name].array.flat, strict=True):
                env[symbol] = value
        return env

    def describe_point(self) -> str:
        parts = []
        for name in self.function.variables:
            array = self.values[name].array
            parts.append(f"{name} = {_short_array(array)}")
        return ", ".join(parts)

    def title(self, what: str) -> str:
        at = f" at {self.describe_point()}" if self.values is not None else ""
        return f"{what} of {self.expression}{at}"


def _short_array(array: np.ndarray) -> str:
    if array.ndim == 0:
        return f"{array.item():g}"
    if array.size > 8:
        return f"<{'×'.join(map(str, array.shape))} array>"
    text = np.array2string(array, separator=", ", formatter={"float_kind": lambda v: f"{v:g}"})
    return " ".join(text.split())


def output_labels(shape: tuple[int, ...]) -> list[str]:
    """f for one output, f₁ … f_m for a vector, f[i, j] beyond."""
    if shape == ():
        return ["f"]
    if len(shape) == 1:
        return [f"f{str(i + 1).translate(_SUBSCRIPTS)}" for i in range(shape[0])]
    return [f"f[{', '.join(map(str, index))}]" for index in np.ndindex(shape)]


def grid(name: str, shape: tuple[int, ...], column: str) -> tuple[list[str], list[str]]:
    """Row and column labels for an array named ``name``: a vector is one column."""
    if len(shape) <= 1:
        rows = [name] if shape == () else [f"{name}[{i}]" for i in range(shape[0])]
        return rows, [column]
    rows = [f"{name}[{', '.join(map(str, index))}]" for index in np.ndindex(shape[:-1])]
    return rows, [f"[{j}]" for j in range(shape[-1])]


def _finish(result: Result, problem: Problem, exprs: np.ndarray, env: dict | None = None) -> Result:
    """Evaluate ``exprs`` at the problem's point (if any) and attach warnings."""
    result.symbolic = exprs
    result.variables = problem.labels
    if problem.values is None:
        return result
    env = env if env is not None else problem.env()
    # --check: by default the result is the Jacobian of the outputs, reshaped; commands may override.
    result.verify = lambda: verify.check(result, problem.outputs, problem.inputs, env)
    value, kinks = numeric.evaluate(exprs, env)
    result.value = value.reshape(result.shape)
    result.point = problem.point
    if kinks:
        result.warnings.append(
            f"non-differentiable point: an argument of {', '.join(sorted(kinks))} is exactly 0 here; "
            "the value uses sign(0) = 0 and step(0) = 1/2"
        )
    if not result.finite:
        bad = int(np.sum(~np.isfinite(result.value)))
        result.warnings.append(f"the result is not finite at this point ({bad} of {result.value.size} "
                               "entries are NaN or infinite)")
    return result


def _scalar_output(problem: Problem, command: str) -> object:
    if problem.outputs.size != 1:
        raise ShapeError(f"{command} needs a scalar function, but this one has {problem.outputs.size} outputs "
                         f"(shape {'×'.join(map(str, problem.outputs.shape))}); use 'jaccli jacobian'")
    return problem.outputs.flat[0]


def jacobian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None) -> Result:
    """The Jacobian, m×n: rows are the m outputs (flattened row-major), columns the n inputs."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin)
    exprs = calculus.jacobian(problem.outputs, problem.inputs)
    result = Result("jacobian", expression, exprs.shape, output_labels(problem.outputs.shape), problem.labels,
                    title=problem.title("Jacobian"))
    return _finish(result, problem, exprs)


def gradient(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None) -> Result:
    """The gradient of a scalar function, shaped like its input (n entries for several variables)."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin)
    output = _scalar_output(problem, "gradient")
    names = problem.function.variables
    shape = problem.shapes[names[0]] if len(names) == 1 else (len(problem.inputs),)
    exprs = calculus.gradient(output, problem.inputs).reshape(shape)
    if len(names) == 1:
        rows, columns = grid(names[0], shape, "∂f/∂" + names[0])
    else:
        rows, columns = problem.labels, ["∂f/∂·"]
    result = Result("gradient", expression, shape, rows, columns, title=problem.title("Gradient"))
    return _finish(result, problem, exprs)


def hessian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
            shapes: dict | None = None, stdin=None) -> Result:
    """The Hessian of a scalar function, n×n and symmetric, inputs flattened row-major."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin)
    exprs = calculus.hessian(_scalar_output(problem, "hessian"), problem.inputs)
    result = Result("hessian", expression, exprs.shape, problem.labels, problem.labels,
                    title=problem.title("Hessian"))
    _finish(result, problem, exprs)
    grad = calculus.gradient(_scalar_output(problem, "hessian"), problem.inputs)  # checked: J of the gradient
    result.verify = lambda: verify.check(result, grad, problem.inputs, problem.env())
    return result


def derivative(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
               wrt: str | None = None, order: int = 1, shapes: dict | None = None, stdin=None) -> Result:
    """d^k f / dx^k entry by entry, shaped like f: an array x gives the derivative at each of its entries."""
    calculus.check_order(order)
    problem = Problem(expression, at, variables, shapes, stdin=stdin)
    names = problem.function.variables
    if wrt is None:
        if len(names) != 1:
            raise JaccliError(f"say which variable to differentiate by with --wrt (variables: "
                              f"{', '.join(names) or 'none'})")
        wrt = names[0]
    if wrt not in names:
        raise JaccliError(f"--wrt {wrt}: not a variable of the expression (variables: {', '.join(names) or 'none'})")
    entries = set(problem.symbols[wrt].flat)
    exprs = np.empty(problem.outputs.shape, dtype=object)
    lower = problem.outputs.copy()  # order k-1, what --check differentiates numerically
    for index in np.ndindex(exprs.shape):
        f = problem.outputs[index]
        used = f.free_symbols & entries
        if len(used) > 1:
            raise JaccliError(f"derivative works entry by entry, but an output combines several entries of {wrt} "
                              "(a sum, mean, softmax…?); use 'jaccli gradient' or 'jaccli jacobian'")
        if not used:
            exprs[index] = 0 * f
            continue
        symbol = used.pop()
        if order > 1:
            lower[index] = calculus.derivative(np.array([f], dtype=object), symbol, order - 1)[0]
        exprs[index] = calculus.derivative(np.array([lower[index]], dtype=object), symbol, 1)[0]
    power = "" if order == 1 else str(order).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    name = f"d{power}f/d{wrt}{power}"
    if exprs.ndim <= 1:
        rows, columns = output_labels(exprs.shape), [name]
    else:
        rows, columns = grid("f", exprs.shape, name)
    result = Result("derivative", expression, exprs.shape, rows, columns, title=problem.title(name))
    _finish(result, problem, exprs)
    wrt_symbols = list(problem.symbols[wrt].flat)  # each output uses at most one entry: sum its row
    result.verify = lambda: verify.check(result, lower, wrt_symbols, problem.env(), lambda jac: jac.sum(axis=1))
    return result


def check(expression: str, at: list[str], variables: list[str] | None = None, stdin=None) -> Result:
    """The Jacobian, m×n, compared with central differences and the complex step (``extra['ok']``)."""
    if not at:
        raise JaccliError("check needs a point: give --at, e.g. --at 1,2")
    result = jacobian(expression, at, variables, stdin=stdin)
    result.command = "check"
    result.verify()
    return result
