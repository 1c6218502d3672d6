"""The commands as functions: expression text and point in, ``Result`` out.

This is jaccli's Python API (``from jaccli import jacobian``): no terminal code,
no typer, no rich. Each function parses and binds the point; numbers at a point
come from ``autodiff`` (structured, O(n) per product, no sympy), and the symbolic
result from sympy whenever it is small enough to read (or asked for: no point,
``--exact``). sympy is imported only then, which keeps start-up short.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from . import limits, points
from .errors import JaccliError, ShapeError
from .parsing import Function, check_order, element_label, parse
from .result import Panel, Result

SYMBOLIC_INPUTS = 64  # beyond this many input values, numbers at a point come from autodiff alone

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class Problem:
    """An expression bound to its variables' shapes and (optionally) a point.

    The sympy form (``outputs``, ``symbols``, ``inputs``) is built on first use only.
    """

    def __init__(self, expression: str, at: list[str] | None = None, variables: list[str] | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None, scalar: tuple[str, ...] = (), stdin=None,
                 exact: bool = False):
        self.expression = expression
        self.exact = exact
        self.function: Function = parse(expression, variables)
        self.values = points.bind(self.function.variables, at, stdin) if at else None
        self.shapes = self._shapes(shapes or {}, scalar)
        for name, shape in self.shapes.items():  # sizes first: no label, array or symbol is made beyond a limit
            limits.check_shape(name, shape, "--shape" if self.values is None else "--at")
        self.labels = [label for name in self.function.variables for label in _labels(name, self.shapes[name])]

    @cached_property
    def _lowered(self):
        from . import lowering

        limits.check_symbolic_size(self.function.tree, self.shapes)  # before sympy builds anything
        return lowering.lower(self.function, self.shapes, self.exact)

    @property
    def outputs(self) -> np.ndarray:
        return self._lowered[0]

    @property
    def symbols(self) -> dict[str, np.ndarray]:
        return self._lowered[1]

    @cached_property
    def inputs(self) -> list:
        return [s for name in self.function.variables for s in self.symbols[name].flat]

    @cached_property
    def graph(self):
        """The expression at the point, for numeric derivatives (autodiff)."""
        from . import autodiff, forward

        if not forward.tame_constants(self.function.tree):
            self._lowered  # noqa: B018 - sympy refuses such a constant (x/0, 2**10**10) with its message
        arrays = {name: self.values[name].array for name in self.function.variables}
        return autodiff.Graph(self.function.tree, arrays, self.function.variables)

    @cached_property
    def forward(self) -> bool:
        """Whether numbers come from forward mode: an elementwise expression in scalar variables.

        At a point and at many points (--points) alike, so that a row of a batch is the
        single-point result to the last bit; such a batch never needs sympy.
        """
        from . import forward

        return not self.numeric() and forward.supports(self.function.tree, self.shapes)

    def forward_numbers(self, pick):
        """P points (P×n, inputs in order) -> (``pick`` of the P Jacobians, kinks), or None without forward mode.

        ``pick`` turns the Jacobians, P × output shape × n, into this result at each point.
        """
        if not self.forward:
            return None
        from . import forward

        def numbers(columns: np.ndarray) -> tuple[np.ndarray, set[str]]:
            jac, kinks = forward.jacobian(self.function.tree, self.function.variables, columns)
            return pick(jac), kinks

        return numbers

    @cached_property
    def output_shape(self) -> tuple[int, ...]:
        """The shape of f, from sympy's form when it is built, else from one forward evaluation."""
        if "_lowered" in self.__dict__ or not self.forward:
            return self.outputs.shape
        from . import forward

        return forward.output_shape(self.function.tree, self.function.variables)

    def numeric(self) -> bool:
        """Whether numbers come from autodiff without a symbolic result: a point with many inputs.

        Small problems take the symbolic path even at a point: the formula is shown beside the
        value, and the value is the one --points computes for the same point, to the last bit.
        """
        return self.values is not None and not self.exact and len(self.labels) > SYMBOLIC_INPUTS

    def _shapes(self, given: dict, scalar: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for name in self.function.variables:
            if self.values is not None:
                shapes[name] = self.values[name].shape
                if name in given and tuple(given[name]) != shapes[name]:
                    raise ShapeError(f"--shape {name}={'x'.join(map(str, given[name])) or 'scalar'} contradicts the "
                                     f"point, where {name} has shape {_shape(shapes[name])}; drop --shape")
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


def _labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """``x[0]``, ``x[1]``, … (``x[0, 1]`` …) for every entry of a variable, row-major."""
    if len(shape) == 1:  # the common large case, without a tuple per entry
        return [f"{name}[{i}]" for i in range(shape[0])]
    return [element_label(name, index) for index in np.ndindex(shape)]


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


def _finish(result: Result, problem: Problem, exprs: np.ndarray, exact: bool = False, numbers=None) -> Result:
    """The symbolic path: keep ``exprs``, and evaluate them at the problem's point (if any).

    ``numbers`` (forward mode, see ``Problem.forward_numbers``) gives the values instead of
    evaluating ``exprs``, at the point and at many points (``result.batch``).
    """
    from . import batch, numeric, verify

    result.symbolic = exprs
    result.symbols = problem.symbols
    result.variables = problem.labels
    result.batch = numbers or (lambda columns: batch.evaluate(exprs, problem.labels, columns))
    if problem.values is None:
        if exact:
            raise JaccliError("--exact needs a point (--at), e.g. --at 1/2,pi/3")
        return result
    env = problem.env()
    # --check: by default the result is the Jacobian of the outputs, reshaped; commands may override.
    result.verify = lambda: verify.check(result, problem.outputs, problem.inputs, env)
    if exact:
        result.exact = exact_values(exprs, problem)
        _warn_not_finite_exact(result)
    if numbers:
        values, kinks = numbers(problem.point[None])
        value = np.asarray(values[0])
    else:
        value, kinks = numeric.evaluate(exprs, env)
    if not exact:
        value = _accurate(result, exprs, env, value)
    return _attach(result, problem, value, kinks)


ACCURACY_ENTRIES = 64  # results up to this size are re-evaluated in high precision at the point
ACCURACY_RTOL = 1e-8  # a float value this far from the high-precision one is replaced (cancellation)


def _accurate(result: Result, exprs: np.ndarray, env: dict, value: np.ndarray) -> np.ndarray:
    """``value``, with any entry that rounding has ruined (sin(x)/x near 0: a difference of two
    nearly equal terms) replaced by the formula evaluated in high precision at the same doubles, and a warning.
    """
    import sympy

    if exprs.size > ACCURACY_ENTRIES or np.shape(value) != exprs.shape:
        return value
    subs = {symbol: sympy.Float(float(v), 40) for symbol, v in env.items()}  # each double exactly
    fixed = np.array(value, dtype=float)
    changed = 0
    for index in np.ndindex(exprs.shape):
        expr, old = exprs[index], float(fixed[index])
        if not isinstance(expr, sympy.Expr) or expr.is_number or not np.isfinite(old):
            continue
        try:
            precise = complex(expr.evalf(30, subs=subs))
        except Exception:  # noqa: BLE001 - no high-precision form (a custom function): keep the float value
            continue
        if precise.imag != 0 or not np.isfinite(precise.real):
            continue
        if abs(old - precise.real) > ACCURACY_RTOL * abs(precise.real) + 1e-300:
            fixed[index] = precise.real
            changed += 1
    if changed:
        result.warnings.append(f"{changed} of {exprs.size} entries lost their accuracy to rounding in double "
                               "precision here (a removable singularity or cancellation); they are evaluated in "
                               "high precision instead")
    return fixed


def _points_only(result: Result, problem: Problem, numbers) -> Result:
    """--points in forward mode: labels and the evaluator, no symbolic form (sympy is never imported)."""
    result.variables = problem.labels
    result.batch = numbers
    return result


def _numbers(result: Result, problem: Problem, value: np.ndarray, combine=None, wrt: str | None = None) -> Result:
    """The numeric path: autodiff's ``value``, no symbolic result (JSON: "symbolic": null).

    For --check, ``combine`` maps the Jacobian (by the entries of ``wrt``, default all inputs)
    to this result (default: reshape it).
    """

    def check():
        from . import verify  # sympy: only when --check asks

        inputs = problem.inputs if wrt is None else list(problem.symbols[wrt].flat)
        return verify.check(result, problem.outputs, inputs, problem.env(), combine)

    result.verify = check
    return _attach(result, problem, value, problem.graph.tape.kinks)


def _attach(result: Result, problem: Problem, value: np.ndarray, kinks: set[str]) -> Result:
    """Set the numeric value and point, and warn about kinks and non-finite entries."""
    result.variables = problem.labels
    result.value = value.reshape(result.shape)
    result.point = problem.point
    if kinks:
        result.warnings.append(
            f"non-differentiable point ({', '.join(sorted(kinks))}): an argument sits on a kink (at 0, or tied); "
            "the value uses sign(0) = 0 and step(0) = 1/2"
        )
    if not result.finite:
        bad = int(np.sum(~np.isfinite(result.value)))
        result.warnings.append(f"the result is not finite at this point ({bad} of {result.value.size} "
                               "entries are NaN or infinite)")
    return result


def _warn_not_finite_exact(result: Result) -> None:
    """An exact entry that is zoo, nan or ±oo (tan at pi/2) fails the run like a non-finite float: warning, exit 1."""
    import sympy

    bad = sum(1 for e in result.exact.flat if getattr(e, "has", None) and e.has(sympy.zoo, sympy.nan, sympy.oo,
                                                                                 -sympy.oo))
    if bad:
        result.failed = True
        result.warnings.append(f"the exact result is not finite at this point ({bad} of {result.exact.size} entries "
                               "are zoo, nan or infinite)")


def exact_values(exprs: np.ndarray, problem: Problem) -> np.ndarray:
    """Each entry at the point as typed (0.1 is 1/10, pi/3 is π/3), simplified: exact, like a CAS."""
    import sympy

    from . import lowering
    from .special import rewrite_elementary

    subs = {}
    for name in problem.function.variables:
        for symbol, text in zip(problem.symbols[name].flat, problem.values[name].texts.flat):
            subs[symbol] = lowering.constant(text, exact=True)
    out = np.empty(exprs.shape, dtype=object)
    for index in np.ndindex(exprs.shape):
        value = rewrite_elementary(exprs[index]).xreplace(subs)
        out[index] = sympy.simplify(value) if sympy.count_ops(value) <= 200 else value
    return out


def _scalar_output(problem: Problem, command: str) -> object:
    _check_scalar(problem.outputs.shape, command)
    return problem.outputs.flat[0]


def jacobian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False) -> Result:
    """The Jacobian, m×n: rows are the m outputs (flattened row-major), columns the n inputs.

    ``many``: the result is for ``result.batch`` at many points; the symbolic form may be skipped.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    if problem.numeric():
        graph = problem.graph
        limits.check_dense(graph.output.size, len(problem.labels))  # the documented limit, on this path too
        value = graph.jacobian()
        result = Result("jacobian", expression, value.shape, output_labels(graph.output.shape), problem.labels,
                        title=problem.title("Jacobian"))
        return _numbers(result, problem, value)
    n = len(problem.labels)
    numbers = problem.forward_numbers(lambda jac: jac.reshape(len(jac), -1, n))
    m = int(np.prod(problem.output_shape, dtype=int))
    result = Result("jacobian", expression, (m, n), output_labels(problem.output_shape), problem.labels,
                    title=problem.title("Jacobian"))
    if numbers and many and problem.values is None:
        return _points_only(result, problem, numbers)
    from . import calculus

    return _finish(result, problem, calculus.jacobian(problem.outputs, problem.inputs), exact, numbers)


def gradient(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False) -> Result:
    """The gradient of a scalar function, shaped like its input (n entries for several variables)."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "∂f/∂" + (problem.function.variables[0]
                                                  if len(problem.function.variables) == 1 else "·"))
    result = Result("gradient", expression, shape, rows, columns, title=problem.title("Gradient"))
    if problem.numeric():
        graph = problem.graph
        _check_scalar(graph.output.shape, "gradient")
        value = _flatten_inputs(problem, graph.vjp(np.ones((1,) + graph.output.shape)))
        return _numbers(result, problem, value.reshape(shape))
    numbers = problem.forward_numbers(lambda jac: jac.reshape((len(jac),) + shape))
    if numbers and many and problem.values is None:
        _check_scalar(problem.output_shape, "gradient")
        return _points_only(result, problem, numbers)
    from . import calculus

    exprs = calculus.gradient(_scalar_output(problem, "gradient"), problem.inputs).reshape(shape)
    return _finish(result, problem, exprs, exact, numbers)


def _flatten_inputs(problem: Problem, per_variable: dict[str, np.ndarray]) -> np.ndarray:
    """autodiff's per-variable arrays, with a leading axis of 1, as one flat vector in input order."""
    parts = [per_variable[name].reshape(-1) for name in problem.function.variables]
    return np.concatenate(parts) if parts else np.zeros(0)


def _check_scalar(shape: tuple[int, ...], command: str) -> None:
    size = int(np.prod(shape, dtype=int))
    if size != 1:
        raise ShapeError(f"{command} needs a scalar function, but this one has {size} outputs "
                         f"(shape {'×'.join(map(str, shape))}); use 'jaccli jacobian'")


def hessian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
            shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False) -> Result:
    """The Hessian of a scalar function, n×n and symmetric, inputs flattened row-major.

    Always symbolic (``many`` changes nothing): the symbolic form serves any number of points.
    """
    from . import calculus, verify

    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    limits.check_dense(len(problem.labels), len(problem.labels), "Hessian")  # before sympy lowers anything
    exprs = calculus.hessian(_scalar_output(problem, "hessian"), problem.inputs)
    result = Result("hessian", expression, exprs.shape, problem.labels, problem.labels,
                    title=problem.title("Hessian"))
    _finish(result, problem, exprs, exact)
    grad = calculus.gradient(_scalar_output(problem, "hessian"), problem.inputs)  # checked: J of the gradient
    result.verify = lambda: verify.check(result, grad, problem.inputs, problem.env())
    return result


def derivative(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
               wrt: str | None = None, order: int = 1, shapes: dict | None = None, stdin=None, *,
               exact: bool = False, many: bool = False) -> Result:
    """d^k f / dx^k entry by entry, shaped like f: an array x gives the derivative at each of its entries."""
    check_order(order)
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    names = problem.function.variables
    if wrt is None:
        if len(names) != 1:
            raise JaccliError(f"say which variable to differentiate by with --wrt (variables: "
                              f"{', '.join(names) or 'none'})")
        wrt = names[0]
    if wrt not in names:
        raise JaccliError(f"--wrt {wrt}: not a variable of the expression (variables: {', '.join(names) or 'none'})")
    power = "" if order == 1 else str(order).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    name = f"d{power}f/d{wrt}{power}"
    mixes = ("derivative works entry by entry, but an output combines several entries of "
             f"{wrt} (a sum, mean, softmax…?); use 'jaccli gradient' or 'jaccli jacobian'")
    if problem.numeric() and order == 1:  # many entries: one forward pass with tangent 1 for every entry
        if _mixes_entries(problem.function.tree, wrt):
            raise JaccliError(mixes)
        tangents = {n: np.zeros(problem.shapes[n]) for n in names} | {wrt: np.ones(problem.shapes[wrt])}
        value = problem.graph.jvp(tangents)
        rows, columns = (output_labels(value.shape), [name]) if value.ndim <= 1 else grid("f", value.shape, name)
        result = Result("derivative", expression, value.shape, rows, columns, title=problem.title(name))
        return _numbers(result, problem, value, lambda jac: jac.sum(axis=1), wrt)
    numbers = None
    if order == 1:  # scalar variables: d f / d wrt is one column of the Jacobian
        column = names.index(wrt)
        numbers = problem.forward_numbers(lambda jac: jac[..., column])
    if numbers and many and problem.values is None:
        shape = problem.output_shape
        rows, columns = (output_labels(shape), [name]) if len(shape) <= 1 else grid("f", shape, name)
        return _points_only(Result("derivative", expression, shape, rows, columns, title=problem.title(name)),
                            problem, numbers)
    from . import calculus, verify

    entries = set(problem.symbols[wrt].flat)
    exprs = np.empty(problem.outputs.shape, dtype=object)
    lower = problem.outputs.copy()  # order k-1, what --check differentiates numerically
    for index in np.ndindex(exprs.shape):
        f = problem.outputs[index]
        used = f.free_symbols & entries
        if len(used) > 1:
            raise JaccliError(mixes)
        if not used:
            exprs[index] = 0 * f
            continue
        symbol = used.pop()
        if order > 1:
            lower[index] = calculus.derivative(np.array([f], dtype=object), symbol, order - 1)[0]
        exprs[index] = calculus.derivative(np.array([lower[index]], dtype=object), symbol, 1)[0]
    if exprs.ndim <= 1:
        rows, columns = output_labels(exprs.shape), [name]
    else:
        rows, columns = grid("f", exprs.shape, name)
    result = Result("derivative", expression, exprs.shape, rows, columns, title=problem.title(name))
    _finish(result, problem, exprs, exact, numbers)
    wrt_symbols = list(problem.symbols[wrt].flat)  # each output uses at most one entry: sum its row
    result.verify = lambda: verify.check(result, lower, wrt_symbols, problem.env(), lambda jac: jac.sum(axis=1))
    return result


def _mixes_entries(node, name: str) -> bool:
    """Whether some output could combine several entries of ``name``: indexing it, or a reduction of it."""
    from .functions import FUNCTIONS
    from .parsing import Call, Index, children, uses

    if isinstance(node, Index):
        return node.name == name
    if isinstance(node, Call):
        kind = FUNCTIONS[node.name].kind
        if (kind != "elementwise" or (node.name in ("min", "max") and len(node.args) == 1)) and uses(node, name):
            return True
    return any(_mixes_entries(child, name) for child in children(node))


# --- products with J: vjp, jvp and the chain rule -----------------------------------------------


def _needs_point(problem: Problem, command: str) -> None:
    if problem.values is None:
        raise JaccliError(f"{command} needs a point: give --at, e.g. --at 1,2,3")


def _read_v(spec: str, shape: tuple[int, ...], command: str, side: str, stdin=None) -> points.Value:
    """--v in ``shape``: given in that shape, or flat with one entry per element."""
    vector = points.read_vector(spec, stdin)
    size = int(np.prod(shape, dtype=int))
    if vector.shape != shape and not (len(vector.shape) <= 1 and vector.array.size == size):
        raise ShapeError(f"--v has shape {_shape(vector.shape)} ({vector.array.size} entries), but {command} needs "
                         f"one entry per {side}: shape {_shape(shape)} ({size} entries)")
    return points.Value(vector.array.reshape(shape), vector.texts.reshape(shape))


def _sympy_numbers(vector: points.Value, exact: bool) -> np.ndarray:
    """The entries of --v for a symbolic result: as typed when exact, else the doubles exactly."""
    import sympy

    from . import lowering

    if exact:
        numbers = [lowering.constant(text, exact=True) for text in vector.texts.flat]
    else:
        numbers = [sympy.Float(value) for value in vector.array.flat]
    return np.array(numbers, dtype=object).reshape(vector.shape)


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "×".join(map(str, shape))


def _input_shape(problem: Problem) -> tuple[int, ...]:
    """A single variable's shape; several variables flatten to n entries."""
    names = problem.function.variables
    return problem.shapes[names[0]] if len(names) == 1 else (len(problem.labels),)


def _input_grid(problem: Problem, column: str) -> tuple[list[str], list[str]]:
    names = problem.function.variables
    if len(names) == 1:
        return grid(names[0], problem.shapes[names[0]], column)
    return problem.labels, [column]


def vjp(expression: str, at: list[str] | None, v: str, variables: list[str] | None = None,
        shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False) -> Result:
    """Jᵀv, shaped like the input (n entries for several variables): what y.backward(v) puts in x.grad.

    v has one entry per output. J is never formed: autodiff pulls v back through each node in O(n),
    and the symbolic form is the gradient of the scalar vᵀf (``many`` changes nothing: it serves
    any number of points).
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    out_shape = problem.graph.output.shape if problem.numeric() else problem.outputs.shape
    vector = _read_v(v, out_shape, "vjp", "output of the expression", stdin)
    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "Jᵀv")
    result = Result("vjp", expression, shape, rows, columns, title=problem.title("Vector-Jacobian product Jᵀv")
                    + f", v = {_short_array(vector.array)}", extra={"v": vector.array})

    def symbolic():
        import sympy

        from . import calculus

        weights = _sympy_numbers(vector, exact)
        scalar = sympy.Add(*(w * f for w, f in zip(weights.flat, problem.outputs.flat, strict=True)))
        return calculus.gradient(scalar, problem.inputs).reshape(shape)

    flat = vector.array.ravel()
    if problem.numeric():
        value = _flatten_inputs(problem, problem.graph.vjp(vector.array[None])).reshape(shape)
        return _numbers(result, problem, value, lambda jac: flat @ jac)
    _finish(result, problem, symbolic(), exact)
    _check_with(result, problem, lambda jac: flat @ jac)
    return result


def jvp(expression: str, at: list[str] | None, v: str, variables: list[str] | None = None,
        shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False) -> Result:
    """J v, shaped like the output: the directional derivative of f along v (one entry per input).

    autodiff pushes v forward through each node in O(n); J is never formed. ``many`` changes nothing:
    the symbolic form serves any number of points.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact)
    vector = _read_v(v, _input_shape(problem), "jvp", "input", stdin)
    shape = problem.graph.output.shape if problem.numeric() else problem.outputs.shape
    rows, columns = (output_labels(shape), ["J·v"]) if len(shape) <= 1 else grid("f", shape, "J·v")
    result = Result("jvp", expression, shape, rows, columns,
                    title=problem.title("Jacobian-vector product J·v") + f", v = {_short_array(vector.array)}",
                    extra={"v": vector.array})

    def symbolic():
        import sympy

        from . import calculus

        direction = _sympy_numbers(vector, exact)
        jac = calculus.jacobian(problem.outputs, problem.inputs)  # sparse: zero entries cost nothing below
        exprs = np.empty(problem.outputs.shape, dtype=object)
        for index, row in zip(np.ndindex(exprs.shape), jac, strict=True):
            exprs[index] = sympy.Add(*(d * w for d, w in zip(row, direction.flat, strict=True) if d != 0))
        return exprs

    flat = vector.array.ravel()
    if problem.numeric():
        tangents, offset = {}, 0
        for name in problem.function.variables:
            size = int(np.prod(problem.shapes[name], dtype=int))
            tangents[name] = flat[offset:offset + size].reshape(problem.shapes[name])
            offset += size
        value = problem.graph.jvp(tangents)
        return _numbers(result, problem, value, lambda jac: jac @ flat)
    _finish(result, problem, symbolic(), exact)
    _check_with(result, problem, lambda jac: jac @ flat)
    return result


def _check_with(result: Result, problem: Problem, combine) -> None:
    """--check compares ``combine`` (the numeric Jacobian) with this result."""
    from . import verify

    if result.value is not None:
        result.verify = lambda: verify.check(result, problem.outputs, problem.inputs, problem.env(), combine)


CHAIN_RTOL = 1e-10  # chain-rule product vs direct gradient, relative to the size of the summands


def chain(f_expression: str, g_expression: str, at: list[str], variables: list[str] | None = None,
          var: str | None = None, stdin=None) -> Result:
    """∇l for l = G(F(x)) by the chain rule, J_Fᵀ ∇G, shaped like x; checked against ∇(G∘F) computed directly.

    F is a function of x (any shape, m outputs), G a scalar function of the single variable ``var``
    (default: G's only variable), which takes F's output shape. ``failed`` is set if the two disagree.
    """
    from . import calculus, numeric
    from .lowering import lower, variable_symbols

    problem = Problem(f_expression, at, variables, stdin=stdin)
    _needs_point(problem, "chain")
    g_function = parse(g_expression)
    names = list(g_function.variables)
    if var is None:
        if len(names) > 1:
            raise JaccliError(f"G uses several variables ({', '.join(names)}); say which one is F's output "
                              "with --var")
        var = names[0] if names else "y"
    others = [n for n in names if n != var]
    if others:
        raise JaccliError(f"G may use only its variable {var} (F's output), but it also uses {', '.join(others)}")
    f_outputs = problem.outputs
    g_outputs, g_symbols = lower(g_function, {var: f_outputs.shape})
    if g_outputs.size != 1:
        raise ShapeError(f"G must be a scalar function of {var} (l = G(F(x))), but it has {g_outputs.size} "
                         f"outputs (shape {_shape(g_outputs.shape)})")
    g = g_outputs.flat[0]
    y = list(g_symbols.get(var, variable_symbols(var, f_outputs.shape)).flat)

    env = problem.env()
    f_value, kinks_f = numeric.evaluate(f_outputs, env)
    jac_f, kinks_j = numeric.evaluate(calculus.jacobian(f_outputs, problem.inputs), env)
    grad_g, kinks_g = numeric.evaluate(calculus.gradient(g, y), dict(zip(y, f_value.flat, strict=True)))
    with np.errstate(all="ignore"):
        value = jac_f.T @ grad_g
        scale = np.abs(jac_f).T @ np.abs(grad_g)
    # Independently: substitute F into G, then differentiate the composition with respect to x.
    composed = g.xreplace(dict(zip(y, f_outputs.flat, strict=True)))
    direct, kinks_d = numeric.evaluate(calculus.gradient(composed, problem.inputs), env)
    with np.errstate(all="ignore"):
        difference = np.abs(value - direct)
        agrees = bool(np.all(difference <= CHAIN_RTOL * scale + 1e-300))
    worst = float(np.max(difference, initial=0.0))

    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "∂l/∂·")
    y_labels = [element_label(var, index) for index in np.ndindex(f_outputs.shape)]
    result = Result(
        "chain", f"{g_expression} with {var} = {f_expression}", shape, rows, columns,
        title=f"Chain rule for l = G(F(x)), F = {f_expression}, G = {g_expression}, at {problem.describe_point()}",
        value_title=f"∇l = J_Fᵀ ∇G  (the vector-Jacobian product with v = ∇G at {var} = F(x))",
        extra={
            "f": f_expression, "g": g_expression, "var": var,
            "f_value": f_value, "jacobian_f": jac_f, "grad_g": grad_g.reshape(f_outputs.shape),
            "direct_gradient": direct.reshape(shape),
            "properties": {"equals_direct_gradient": {
                "holds": agrees,
                "statement": f"J_Fᵀ ∇G = ∇(G∘F) computed directly (F substituted for {var} in G, then differentiated)",
                "measure": "max|difference|", "residual": worst if np.isfinite(worst) else None}},
        },
        panels=[Panel("J_F: rows the outputs of F, columns the inputs",
                      output_labels(f_outputs.shape), problem.labels, jac_f),
                Panel(f"{var} = F(x) and ∇G at {var}", [f"{var} = F(x)", f"∇G({var})"], y_labels,
                      np.vstack([f_value.ravel(), grad_g.ravel()]))],
    )
    result.failed = not agrees
    _attach(result, problem, value, kinks_f | kinks_j | kinks_g | kinks_d)
    if not agrees:
        result.warnings.append(f"the chain-rule product and the direct gradient differ by up to {worst:g}")
    return result


def check(expression: str, at: list[str], variables: list[str] | None = None, stdin=None) -> Result:
    """The Jacobian, m×n, compared with central differences and the complex step (``extra['ok']``)."""
    if not at:
        raise JaccliError("check needs a point: give --at, e.g. --at 1,2")
    result = jacobian(expression, at, variables, stdin=stdin)
    result.command = "check"
    result.verify()
    return result
