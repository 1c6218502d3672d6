"""The commands as compositions of the engines: expression text and point in, ``Result`` out.

This is jaccli's Python API (``from jaccli import jacobian``): no terminal code, no typer,
no rich. Each function parses, builds the IR (shapes checked before any work), and takes its
numbers from the differentiation engines (``ad``) — at one point and at many points alike, so
a row of ``--points`` is the ``--at`` result to the last bit. The symbolic result comes from
sympy's own differentiation of the lowered expression whenever it is small enough to read (or
asked for: no point, ``--exact``); sympy is imported only then, which keeps start-up short.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from . import ad, ir, limits, points
from .accuracy import SYMBOLIC_INPUTS  # beyond this many inputs, numbers at a point come without a formula
from .errors import JaccliError, LimitError, ShapeError
from .evaluate import MULTI
from .labels import entry_labels
from .parsing import Function, check_order, element_label, parse, parse_tree
from .result import Panel, Result

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class Problem:
    """An expression bound to its variables' shapes and (optionally) a point: its IR, and its sympy form
    on first use only."""

    def __init__(self, expression: str, at: list[str] | None = None, variables: list[str] | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None, scalar: tuple[str, ...] = (), stdin=None,
                 exact: bool = False, wrt: list[str] | None = None, fixed: list[str] | None = None):
        self.expression = expression
        self.exact = exact
        self.function: Function = parse(expression, variables)
        self.names = _wrt_names(wrt, self.function.variables)  # the variables differentiated by, in order
        parameters = tuple(n for n in self.function.variables if n not in self.names)
        self.values = points.bind(self.function.variables, at, stdin) if at else None
        if fixed is not None:  # --points with --wrt: --at gives the parameters only
            if fixed and not parameters:
                raise JaccliError("give either --at or --points, not both (with --points, --at gives the "
                                  "parameters: the variables not in --wrt)")
            if parameters and not fixed:
                raise JaccliError(f"no value for the parameter{'s' * (len(parameters) > 1)} {', '.join(parameters)}: "
                                  f"with --points, give {'them' if len(parameters) > 1 else 'it'} with --at, "
                                  f"e.g. --at {parameters[0]}=…")
            self.fixed_values = points.bind(parameters, fixed, stdin) if parameters else {}
        else:
            self.fixed_values = {n: self.values[n] for n in parameters} if self.values is not None else {}
        self.shapes = self._shapes(shapes or {}, scalar)
        for name, shape in self.shapes.items():  # sizes first: no label, array or symbol is made beyond a limit
            limits.check_shape(name, shape, "--shape" if self.values is None else "--at")
        self.layout = [(name, self.shapes[name]) for name in self.names]
        self.labels = _labels(self.names[0], self.shapes[self.names[0]]) if len(self.names) == 1 else \
            [label for name in self.names for label in _labels(name, self.shapes[name])]
        self.root = ir.build(self.function.tree, self.shapes)  # every shape rule and size limit, before any work
        self.ad = ad.Problem(self.root, self.layout)
        # parameters (variables not in --wrt): their values, with a point axis of length 1, for every evaluation
        self.fixed = {name: value.array[None] for name, value in self.fixed_values.items()}

    @cached_property
    def _lowered(self):
        from . import symbolic

        every = {name: self.shapes[name] for name in self.function.variables}
        return symbolic.lower(self.root, every, self.exact)

    @property
    def outputs(self) -> np.ndarray:
        return self._lowered[0]

    @cached_property
    def exact_outputs(self) -> np.ndarray:
        """The outputs with decimal literals as typed (0.1 is 1/10, acos(0.5) is pi/3): what the last digit of
        a value at a point is checked against when the formulas hold rounded constants."""
        from . import symbolic

        if self.exact:
            return self.outputs
        every = {name: self.shapes[name] for name in self.function.variables}
        return symbolic.lower(self.root, every, True)[0]

    @property
    def symbols(self) -> dict[str, np.ndarray]:
        return self._lowered[1]

    @cached_property
    def inputs(self) -> list:
        return [s for name in self.names for s in self.symbols[name].flat]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.root.shape

    def numeric(self) -> bool:
        """Whether the result has no symbolic form: a point with many inputs or parameter values (the formulas
        would be unreadable)."""
        entries = len(self.labels) + sum(v.array.size for v in self.fixed_values.values())
        return self.values is not None and not self.exact and (entries > SYMBOLIC_INPUTS or self.wide_extremes())

    def wide_extremes(self) -> bool:
        """Whether a min or max takes more than ``limits.MAX_SYMBOLIC_EXTREMES`` entries: sympy compares its
        arguments pairwise as it builds Min/Max (31 entries took minutes), so at a point the numbers come without
        a formula (float64, with the numeric path's error estimate)."""
        return any(node.op.name in ("amin", "amax") and node.args[0].size > limits.MAX_SYMBOLIC_EXTREMES
                   for node in ir.topological([self.root]))

    def _shapes(self, given: dict, scalar: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for name in self.function.variables:
            if self.values is not None or name in self.fixed_values:
                shapes[name] = (self.values or self.fixed_values)[name].shape
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
        return np.concatenate([self.values[n].array.ravel() for n in self.names] or [np.zeros(0)])

    def typed_point(self) -> tuple[np.ndarray, np.ndarray]:
        """The point in numpy's longdouble, each entry read from its text as typed (``1e-8`` to 64 bits, not the
        double nearest it) where that text is a number numpy reads to the same double; else the double. With it,
        which entries longdouble holds inexactly (0.1, not 0.5): the estimate perturbs those like a rounding."""
        parts, inexact = [], []
        for name in self.names:
            value = self.values[name]
            array = value.array.ravel()
            wide = array.astype(np.longdouble)
            loose = np.zeros(array.shape, dtype=bool)
            if value.typed is not None:
                texts = np.asarray(value.typed, dtype=str).ravel()
                try:
                    read = texts.astype(np.longdouble)
                except ValueError:  # pi/3, 1/3: read one by one
                    read = np.array([_longdouble(t) for t in texts], dtype=np.longdouble)
                same = (read.astype(float) == array) | (np.isnan(read) & np.isnan(array))
                wide = np.where(same, read, wide)
                exact = {t: _held_exactly(t) for t in np.unique(texts).tolist()}
                loose = same & ~np.array([exact[t] for t in texts.tolist()], dtype=bool)
            parts.append(wide)
            inexact.append(loose)
        if not parts:
            return np.zeros(0, dtype=np.longdouble), np.zeros(0, dtype=bool)
        return np.concatenate(parts), np.concatenate(inexact)

    def multi_point(self) -> np.ndarray:
        """The point in mpmath numbers at mpmath's working precision, each entry as typed (``0.1`` is 1/10 rounded
        to that precision, ``1/3`` is read too) where its text reads back to the same double; else the double."""
        parts = [_multi_value(self.values[name]).ravel() for name in self.names]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=object)

    def multi_fixed(self) -> dict:
        """The fixed parameters as ``fixed`` holds them (a leading axis of one point), in mpmath numbers."""
        return {name: _multi_value(value)[None] for name, value in self.fixed_values.items()}

    def symbol_values(self) -> dict:
        """Each variable's sympy symbol (inputs and parameters) -> its float value at the point."""
        return {symbol: float(value) for name in self.function.variables
                for symbol, value in zip(self.symbols[name].flat, self.values[name].array.flat, strict=True)}

    @property
    def point_values(self) -> dict[str, np.ndarray]:
        """Each variable's value at the point (its own shape)."""
        return {name: self.values[name].array for name in self.function.variables}

    def describe_point(self) -> str:
        """The point as typed (``x = 1.0000001``, ``t = pi/3``; %g said x = 1, beside a value made at 1.0000001)."""
        parts = []
        for name in self.function.variables:
            value = self.values[name]
            shown = f"<{'×'.join(map(str, value.shape))} array>" if value.array.size > 8 else _typed_text(value.texts)
            parts.append(f"{name} = {shown}")
        return ", ".join(parts)

    def title(self, what: str) -> str:
        at = f" at {self.describe_point()}" if self.values is not None else ""
        return f"{what} of {self.expression}{at}{read_as_note(self.expression)}"


def _multi_value(value) -> np.ndarray:
    """A point value (``points.Value``) in mpmath numbers, read from its texts as typed where they read back to the
    same doubles (an expression such as pi/3 through the same safe parser)."""
    from .evaluate import multi, multi_typed

    if value.typed is None:
        return multi(value.array)
    return multi_typed(value.array, np.asarray(value.typed, dtype=str).ravel().tolist(), _multi_expression)


def _multi_expression(text: str):
    """A point value written as an expression (``pi/3``) in mpmath numbers at the working precision, or None."""
    from .evaluate import Evaluator

    try:
        root = ir.build(parse_tree(text, allow_variables=False), {})
        if root.shape != ():
            return None
        return Evaluator({}, 0, dtype=object)(root)[()]
    except (JaccliError, ArithmeticError, ValueError, TypeError):
        return None


def _longdouble(text: str) -> float:
    try:
        return np.longdouble(text)
    except ValueError:
        return np.nan  # not read: the double is kept


def _held_exactly(text: str) -> bool:
    """Whether longdouble holds the number ``text`` exactly (0.5 and 3 yes; 0.1 and 1e-300 no; pi/3 is not read:
    its double is the point)."""
    from fractions import Fraction

    try:
        wide = np.longdouble(text)
        return bool(np.isfinite(wide)) and Fraction(text) == Fraction(*wide.as_integer_ratio())
    except (ValueError, ZeroDivisionError, OverflowError):
        return True  # not a plain number (pi/3): the double is the point, held exactly


def _wrt_names(wrt: list[str] | None, variables: tuple[str, ...]) -> tuple[str, ...]:
    """The variables of --wrt (all when not given), checked against the expression's."""
    if not wrt:
        return tuple(variables)
    names = ", ".join(variables) or "none"
    for name in wrt:
        if name not in variables:
            raise JaccliError(f"--wrt {name}: not a variable of the expression (variables: {names})")
    if len(set(wrt)) != len(wrt):
        raise JaccliError(f"--wrt names a variable twice: {', '.join(wrt)}")
    return tuple(wrt)


def read_as_note(expression: str) -> str:
    """`` (read as 2*x)`` when the expression was read as more than its text with other spaces; else nothing."""
    from .parsing import reading

    read = reading(expression).read_as
    return "" if "".join(read.split()) == "".join(expression.split()) else f" (read as {read})"


class Numbers:
    """How a command's numbers are computed at P points, from the IR by the engines: built once, evaluated
    per batch of points. ``at(columns)`` takes P×n inputs (columns in input order) and gives
    (P × ``shape``, the kinks met).

    kinds: jacobian, gradient, hessian, derivative (``wrt``, ``order``), vjp/jvp/hvp (``v``, a float array).
    """

    def __init__(self, problem: Problem, kind: str, shape: tuple[int, ...], **params):
        self.problem = problem
        self.kind = kind
        self.shape = shape
        self.params = params
        self.kink_nodes: list = []
        engine = problem.ad
        names = [name for name, _ in problem.layout]
        scalars = all(s == () for _, s in problem.layout)
        # a Jacobian by columns (one JVP pass per input), else by rows (one VJP pass per output); a few scalar
        # inputs go by columns, but a long generated sum in 50 variables is one reverse pass, not 50 forward ones
        self.forward = (scalars and engine.n <= FORWARD_SCALARS) or engine.n < engine.root.size
        if kind in ("hessian", "hvp", "vjp") or (kind == "gradient" and not self.forward):
            cotangent = ir.const(params["v"]) if kind == "vjp" else ir.const(np.ones(engine.root.shape))
            self.grads = ad.vjp(engine.root, cotangent, names, self.kink_nodes)
            self.grad_roots = [self._or_zero(self.grads[name], s) for name, s in problem.layout]
        if kind in ("jvp", "hvp"):
            tangents = {name: ir.const(part) for name, part in _split(params["v"], problem.layout).items()}
            roots = [engine.root] if kind == "jvp" else self.grad_roots
            self.tangents = [self._or_zero(t, r.shape) for t, r in
                             zip(ad.jvp(roots, tangents, kinks=self.kink_nodes), roots)]
        self._nested: tuple | None = None  # derivative: (order k−1, order k), built when first needed

    def _derivatives(self) -> tuple:
        """``derivative``'s graphs of order k − 1 (what --check differentiates) and k, by nested JVPs: built on
        first use, since at a point with a formula (``candidate``) they are needed only as a fallback, and
        their size grows with the order."""
        if self._nested is None:
            engine = self.problem.ad
            wrt, order = self.params["wrt"], self.params["order"]
            seed = ir.const(np.ones(self.problem.shapes[wrt]))
            derivatives, kinks = ad.nested_jvp(engine.root, wrt, seed, order)
            self.kink_nodes += kinks
            lower = derivatives[-2] if order > 1 else engine.root
            self._nested = (self._or_zero(lower, engine.root.shape),
                            self._or_zero(derivatives[-1], engine.root.shape))
        return self._nested

    def candidate(self, point: np.ndarray):
        """What ``_finish`` verifies entry by entry at one point with a formula: (the float64 value, or a
        function that computes it when an entry is left unverified; the kinks met). A derivative of order
        k ≥ 2 is not evaluated: its kinks are those of the first derivative's rules (a kink of a rule's
        derivative sits where the rule's own does: sign at abs's 0, step at max's tie), found by evaluating
        the primal nodes those rules were used at."""
        if self.kind != "derivative" or self.params["order"] < 2 or self._nested is not None:
            values, kinks = self.at(point[None])
            return values[0], kinks
        engine = self.problem.ad
        wrt = self.params["wrt"]
        first: list = []
        ad.jvp([engine.root], {wrt: ir.const(np.ones(self.problem.shapes[wrt]))}, kinks=first)
        columns = np.asarray(point, dtype=float).reshape(1, -1)
        kinks = ad.Evaluator(engine._env(self.env(columns)), 2).kinks(first)
        if kinks:  # the value is a convention there (sign(0) = 0), which only the graphs give
            values, kinks = self.at(point[None])
            return values[0], kinks

        def value():
            try:
                return self.at(point[None])[0][0]
            except LimitError:  # graphs past their size limit: the entries left unverified print as nan
                return np.full(self.shape, np.nan)

        return value, kinks

    def multi_columns(self) -> np.ndarray:
        """The point as typed in mpmath numbers, as ``at`` takes it (accuracy.multi_precision)."""
        return self.problem.multi_point()[None]

    @staticmethod
    def _or_zero(node, shape):
        return ir.const(np.zeros(shape)) if node is None else node

    def env(self, columns: np.ndarray) -> dict:
        env, offset = {}, 0
        for (name, shape), size in zip(self.problem.layout, self.problem.ad.sizes):
            env[name] = columns[:, offset:offset + size].reshape((len(columns),) + shape)
            offset += size
        env.update(self.problem.fixed)
        return env

    def at(self, columns: np.ndarray) -> tuple[np.ndarray, set[str]]:
        """(P × ``shape``, the kinks met); in longdouble columns (accuracy.estimate's wider pass) the same in
        longdouble, returned as float64; in mpmath numbers (accuracy.multi_precision) an object array of them."""
        dtype = getattr(columns, "dtype", None)
        multi = dtype == MULTI
        columns = np.asarray(columns, dtype=dtype if dtype in (np.longdouble, MULTI) else float)
        columns = columns.reshape(len(columns), -1)
        env = self.env(columns)
        if multi:
            env.update(self.problem.multi_fixed())
        points = len(columns)
        engine = self.problem.ad
        evaluator = ad.Evaluator(engine._env(env), 2)
        kinks: set[str] = set()
        if self.kind in ("jacobian", "gradient") and self.forward:
            (value,), kinks = engine.forward_columns([engine.root], env)
        elif self.kind == "jacobian":
            value, kinks = engine.reverse_rows(env)
        elif self.kind in ("gradient", "vjp"):
            value = ad.flat_gradient(engine, self.grads, env, evaluator)
        elif self.kind == "hessian":
            blocks, kinks = engine.forward_columns(self.grad_roots, env)
            full = np.concatenate([b.reshape(points, -1, engine.n) for b in blocks], axis=1)
            upper = np.triu(np.ones((engine.n, engine.n), dtype=bool))
            value = np.where(upper, full, np.swapaxes(full, 1, 2))  # symmetric: the upper triangle, mirrored
        elif self.kind == "derivative":
            value = np.broadcast_to(evaluator(self._derivatives()[1]), (points, 1) + engine.root.shape)
        else:  # jvp, hvp
            value = np.concatenate([np.broadcast_to(evaluator(t), (points, 1) + t.shape).reshape(points, -1)
                                    for t in self.tangents], axis=1)
        return np.asarray(value, dtype=object if multi else float).reshape((points,) + self.shape), \
            kinks | evaluator.kinks(self.kink_nodes)

    def check_roots(self) -> tuple[list, list]:
        """What --check differentiates numerically: (IR roots, the variables it differentiates by)."""
        layout = self.problem.layout
        if self.kind in ("hessian", "hvp"):
            return self.grad_roots, layout
        if self.kind == "derivative":
            wrt = self.params["wrt"]
            return [self._derivatives()[0]], [(wrt, self.problem.shapes[wrt])]
        return [self.problem.root], layout


def _split(flat: np.ndarray, layout) -> dict[str, np.ndarray]:
    """A flat vector with one entry per input, as one array per variable."""
    out, offset = {}, 0
    for name, shape in layout:
        size = math.prod(shape)
        out[name] = np.asarray(flat, dtype=float).reshape(-1)[offset:offset + size].reshape(shape)
        offset += size
    return out


def _labels(name: str, shape: tuple[int, ...]) -> Sequence[str]:
    """``x[0]``, ``x[1]``, … (``x[0, 1]`` …) for every entry of a variable, row-major (made on demand when many)."""
    return entry_labels(name, shape) if shape else [name]


def _typed_text(texts: np.ndarray) -> str:
    """An array of entry texts written as a nested list: ``[1, 2.5]``; a scalar's text as it is."""
    if np.ndim(texts) == 0:
        return str(texts.item() if isinstance(texts, np.ndarray) else texts).strip()
    return "[" + ", ".join(_typed_text(part) for part in texts) + "]"


def _short_array(array: np.ndarray) -> str:
    if array.ndim == 0:
        return f"{array.item():g}"
    if array.size > 8:
        return f"<{'×'.join(map(str, array.shape))} array>"
    text = np.array2string(array, separator=", ", formatter={"float_kind": lambda v: f"{v:g}"})
    return " ".join(text.split())


def output_labels(shape: tuple[int, ...]) -> list[str]:
    """f for one output, f₀ … f_(m-1) for a vector (0-based, as numpy, JSON and x[0] count), f[i, j] beyond."""
    if shape == ():
        return ["f"]
    if len(shape) == 1:
        return [f"f{str(i).translate(_SUBSCRIPTS)}" for i in range(shape[0])]
    return [f"f[{', '.join(map(str, index))}]" for index in np.ndindex(shape)]


def grid(name: str, shape: tuple[int, ...], column: str) -> tuple[list[str], list[str]]:
    """Row and column labels for an array named ``name``: a vector is one column."""
    if len(shape) <= 1:
        return _labels(name, shape), [column]
    return entry_labels(name, shape[:-1]), [f"[{j}]" for j in range(shape[-1])]




def _finish(result: Result, problem: Problem, numbers: Numbers, exprs: np.ndarray | None, exact: bool = False,
            check: bool = False, combine=None, formulas=None) -> Result:
    """Attach the symbolic entries ``exprs`` (None on the numeric path) and the numbers at the point, if any.

    Without a point the result keeps ``numbers`` for many points (``--points``); ``check`` compares with
    the numeric reference (``combine`` maps its m×n Jacobian to this result, default: reshape).
    ``formulas(outputs, exact)`` makes ``exprs`` from the lowered outputs: again from the exact outputs when
    ``exprs`` hold rounded constants, for the values' last digits.
    """
    result.symbolic = exprs
    result.variables = problem.labels
    result.numbers = numbers
    if exprs is not None:
        result.symbols = problem.symbols
    if problem.values is None:
        if exact:
            raise JaccliError("--exact needs a point (--at), e.g. --at 1/2,pi/3")
        if check:
            raise JaccliError("--check needs a point: give --at")
        return result
    if exact:
        from . import budget

        result.exact = budget.within(limits.EXACT_SECONDS, "--exact (exact values at the point, simplified)",
                                     exact_values, exprs, problem)
        _warn_not_finite_exact(result)
    if exprs is not None:  # every entry the exact value at the point as typed, rounded to the nearest double
        from . import accuracy

        if isinstance(numbers, Numbers):
            value, kinks = numbers.candidate(problem.point)
        else:  # the numbers of a field operator or a determinant: evaluated as they are
            values, kinks = numbers.at(problem.point[None])
            value = np.asarray(values[0])
        exact_point = accuracy.point_as_typed(problem)
        value = accuracy.correctly_rounded(result, _as_typed(exprs, problem, formulas), exact_point, value, kinks)
    else:
        values, kinks = numbers.at(problem.point[None])
        value = np.asarray(values[0])
    if exprs is None and not exact:  # no formula (over SYMBOLIC_INPUTS inputs): an estimate of the rounding error
        from . import accuracy

        value = accuracy.estimate(result, numbers, problem.point, value, problem.typed_point)
    _attach(result, problem, value, kinks)
    if isinstance(numbers, Numbers):
        _warn_not_real(result, numbers, problem.point)
    if check:
        from . import verify

        roots, variables = numbers.check_roots()
        precise = None
        if exprs is not None:
            from . import accuracy

            def precise():
                return accuracy.precise_jacobian(problem, numbers)
        verify.check(result, roots, variables, problem.point_values, combine, precise)
    return result


def _as_typed(exprs: np.ndarray, problem: Problem, formulas) -> np.ndarray:
    """``exprs``, or, when they hold a rounded decimal (0.1 as a float; acos(0.5) folded to 15 digits), the same
    formulas made again from the outputs with every literal as typed. A rounded decimal is not always a Float in
    them: sympy's log1p(0.7) becomes log(7656119366529843/4503599627370496), the double 1.7 as a fraction (1 ulp
    off in ``x*log1p(0.7) + x``), so any literal typed with a decimal point or an exponent counts too."""
    if formulas is None or problem.exact or not (_decimal_literals(problem.root) or _holds_float(exprs)):
        return exprs
    return formulas(problem.exact_outputs, True)


def _holds_float(exprs: np.ndarray) -> bool:
    """Whether a sympy Float stands anywhere in ``exprs``: each distinct subexpression looked at once (the entries
    of a softmax Jacobian at 64 logits repeat theirs; ``atoms`` walked every entry whole, 1.9 s)."""
    import sympy

    seen: set = set()
    stack = [e for e in exprs.flat if isinstance(e, sympy.Basic)]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        if isinstance(node, sympy.Float):
            return True
        seen.add(node)
        stack.extend(node.args)
    return False


def _decimal_literals(root: ir.Node) -> bool:
    """Whether a constant of the expression was typed as other than a whole number (``symbolic.number`` reads those
    differently with and without ``exact``)."""
    return any(node.op.name == "const" and node.params[0].texts and not all(t.isdigit() for t in node.params[0].texts)
               for node in ir.topological([root]))


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


NOT_REAL_ENTRIES = 100_000  # _warn_not_real evaluates f at the point for results and points up to this size


def _warn_not_real(result: Result, numbers: Numbers, point: np.ndarray) -> None:
    """A warning where the function itself is not a real number at the point though its derivative's formula has a
    value there: d/dx log(x) = 1/x is −1 at x = −1, where log(−1) = iπ (so are log2, log10, atanh beyond ±1, a
    negative base to a real power). The value printed is then the derivative of the complex continuation. Told
    apart from a removable singularity (sin(x)/x at 0 is NaN in float64 too) by the complex evaluation, which
    gives a finite number with an imaginary part only in the first case."""
    from .evaluate import Evaluator, NotAnalytic

    engine = numbers.problem.ad
    if not result.finite or max(engine.root.size, np.size(point)) > NOT_REAL_ENTRIES:
        return  # not finite: that warning says enough; large: one more evaluation of f is not free (10⁷ entries)
    env = numbers.env(np.asarray(point, dtype=float).reshape(1, -1))
    with np.errstate(all="ignore"):
        real = np.asarray(engine.value(env), dtype=float)
        if not np.isnan(real).any():
            return
        try:
            complex_env = {name: np.asarray(value, dtype=complex)[:, None] for name, value in env.items()}
            values = np.broadcast_to(Evaluator(complex_env, 2, complex)(engine.root), (1, 1) + engine.root.shape)
        except (NotAnalytic, TypeError, ValueError):  # abs, max…: no complex form, no verdict
            return
        values = values.reshape(real.shape)
        imaginary = np.isnan(real) & np.isfinite(values) & (values.imag != 0)
    if imaginary.any():
        result.warnings.append(f"the function is not a real number at this point ({int(imaginary.sum())} of "
                               f"{imaginary.size} of its values are complex, as log(x) is for x < 0): the value "
                               "shown is the derivative of its complex continuation")


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

    from . import symbolic
    from .special import rewrite_elementary

    subs = {}
    for name in problem.function.variables:
        for symbol, text in zip(problem.symbols[name].flat, problem.values[name].texts.flat):
            subs[symbol] = symbolic.constant(text, exact=True)
    out = np.empty(exprs.shape, dtype=object)
    for index in np.ndindex(exprs.shape):
        try:
            value = rewrite_elementary(exprs[index]).xreplace(subs)
        except (ValueError, TypeError):  # e.g. max(acos(2), 0): not comparable, so not a real number here
            out[index] = sympy.nan
            continue
        try:
            out[index] = sympy.simplify(value) if sympy.count_ops(value) <= 200 else value
        except Exception:  # noqa: BLE001 - sympy's simplify failing inside (seen: hypot, cosh of complex): unsimplified
            out[index] = value
        _check_exact_size(out[index])
    return out


def _check_exact_size(value) -> None:
    """Refuse an exact value with an integer longer than ``limits.MAX_EXACT_DIGITS`` digits (1.0001**99999 written
    exactly has 400 000), before anything tries to write it."""
    import sympy

    for atom in value.atoms(sympy.Rational):
        bits = max(int(atom.p).bit_length(), int(atom.q).bit_length())
        digits = int(bits * 0.30103) + 1
        if digits > limits.MAX_EXACT_DIGITS:
            raise JaccliError(f"--exact: the exact value has an integer of about {digits} digits, beyond the limit "
                              f"of {limits.MAX_EXACT_DIGITS} (limits.MAX_EXACT_DIGITS); drop --exact for the "
                              "correctly rounded value, or give --digits N for N of its digits")


FORWARD_SCALARS = 8


def _symbolic(problem: Problem, many: bool, notes: list | None = None) -> bool:
    """Whether to build the symbolic result: small enough to read, and wanted (not only --points).

    Its size limits are checked here, on the IR's shapes, before sympy is imported; beyond them, at a point
    (``notes`` given: the result's), the numbers come without a formula (``_numbers_instead``).
    """
    if problem.numeric() or (many and problem.values is None):
        return False
    if problem.exact and problem.wide_extremes():
        raise LimitError(f"--exact: a min() or max() of more than {limits.MAX_SYMBOLIC_EXTREMES} entries is beyond "
                         "symbolic work (sympy compares its arguments pairwise); drop --exact for its value")
    try:
        limits.check_symbolic_size(problem.root, len(problem.labels))
    except LimitError:
        if not _numbers_instead(problem, notes):
            raise
        return False
    return True


def _numbers_instead(problem: Problem, notes: list | None, what: str = "the formulas would be") -> bool:
    """Whether a result whose formulas are beyond the symbolic limits is computed without them: at a point (and not
    --exact, which is the formulas at the point), as beyond 64 inputs: from the engines, with the numeric path's
    multi-precision pass and error estimate, and a note saying so. Without a point the refusal stands."""
    if notes is None or problem.values is None or problem.exact:
        return False
    notes.append(f"no formula: {what} too large to write out; the values come from the derivative's graph, "
                 "evaluated in mpmath where it is small enough (correctly rounded), else float64 with an error "
                 "estimate")
    return True


def _formulas(problem: Problem, result: Result, formulas, exact: bool, what: str = "the formulas would be"):
    """``formulas(problem.outputs, exact)``, or None when they are beyond the symbolic limits at a point
    (``_numbers_instead``)."""
    try:
        return formulas(problem.outputs, exact)
    except LimitError:
        if not _numbers_instead(problem, result.notes, what):
            raise
        return None


def jacobian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
             check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """The Jacobian, m×n: rows are the m outputs (flattened row-major), columns the n inputs.

    ``many``: the result is for ``result.numbers`` at many points; the symbolic form is skipped.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    n = len(problem.labels)
    m = problem.root.size
    notes: list[str] = []
    symbolic = _symbolic(problem, many, notes)  # its limits first: they say what to change without a point
    limits.check_dense(m, n, "Jacobian")
    result = Result("jacobian", expression, (m, n), output_labels(problem.output_shape), problem.labels,
                    title=problem.title("Jacobian"), notes=notes)
    exprs = formulas = None
    if symbolic:
        from . import calculus

        def formulas(outputs, exact):
            return calculus.jacobian(outputs, problem.inputs)

        exprs = _formulas(problem, result, formulas, exact)
    return _finish(result, problem, Numbers(problem, "jacobian", (m, n)), exprs, exact, check, formulas=formulas)


def gradient(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
             shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
             check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """The gradient of a scalar function, shaped like its input (n entries for several variables)."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    _check_scalar(problem.output_shape, "gradient")
    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "∂f/∂" + (problem.names[0] if len(problem.names) == 1 else "·"))
    result = Result("gradient", expression, shape, rows, columns, title=problem.title("Gradient"))
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        from . import calculus

        def formulas(outputs, exact):
            return calculus.gradient(outputs.flat[0], problem.inputs).reshape(shape)

        exprs = _formulas(problem, result, formulas, exact)
    return _finish(result, problem, Numbers(problem, "gradient", shape), exprs, exact, check, formulas=formulas)


def _check_scalar(shape: tuple[int, ...], command: str) -> None:
    size = int(np.prod(shape, dtype=int))
    if size != 1:
        raise ShapeError(f"{command} needs a scalar function, but this one has {size} outputs "
                         f"(shape {'×'.join(map(str, shape))}); use 'jaccli jacobian'")


def hessian(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
            shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
            check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """The Hessian of a scalar function, n×n and symmetric, inputs flattened row-major: forward-over-reverse."""
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    _check_scalar(problem.output_shape, "hessian")
    n = len(problem.labels)
    limits.check_dense(n, n, "Hessian")
    result = Result("hessian", expression, (n, n), problem.labels, problem.labels, title=problem.title("Hessian"))
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        from . import calculus

        def formulas(outputs, exact):
            return calculus.hessian(outputs.flat[0], problem.inputs)

        exprs = _formulas(problem, result, formulas, exact)
    return _finish(result, problem, Numbers(problem, "hessian", (n, n)), exprs, exact, check, formulas=formulas)


def derivative(expression: str, at: list[str] | None = None, variables: list[str] | None = None,
               wrt: str | None = None, order: int = 1, shapes: dict | None = None, stdin=None, *,
               exact: bool = False, many: bool = False, check: bool = False) -> Result:
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
    if problem.shapes[wrt] != () and _mixes_entries(problem.root, wrt):
        raise JaccliError("derivative works entry by entry, but an output combines several entries of "
                          f"{wrt} (a sum, mean, softmax…?); use 'jaccli gradient' or 'jaccli jacobian'")
    shape = problem.output_shape
    rows, columns = (output_labels(shape), [name]) if len(shape) <= 1 else grid("f", shape, name)
    result = Result("derivative", expression, shape, rows, columns, title=problem.title(name))
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        from . import calculus

        entries = set(problem.symbols[wrt].flat)

        def formulas(outputs, exact):
            exprs = np.empty(outputs.shape, dtype=object)
            for index in np.ndindex(exprs.shape):
                f = outputs[index]
                used = f.free_symbols & entries
                exprs[index] = calculus.derivative(np.array([f], dtype=object), used.pop(), order)[0] if used \
                    else 0 * f
            return exprs

        what = "the formulas would be" if order == 1 else f"the derivative of order {order} is"
        exprs = _formulas(problem, result, formulas, exact, what)
    numbers = Numbers(problem, "derivative", shape, wrt=wrt, order=order)
    return _finish(result, problem, numbers, exprs, exact, check, lambda jac: jac.sum(axis=1), formulas)


def _mixes_entries(root: ir.Node, name: str) -> bool:
    """Whether some output could combine several entries of ``name``: indexing it, or a non-elementwise
    operation of it."""
    for node in ir.topological([root]):
        if node.op.kind not in ("elementwise", "leaf") and name in node.variables:
            return True
    return False


# --- products with J: vjp, jvp, hvp and the chain rule -------------------------------------------


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
    return vector.reshape(shape)


def _sympy_numbers(vector: points.Value, exact: bool) -> np.ndarray:
    """The entries of --v for a symbolic result: as typed when exact, else the doubles exactly."""
    import sympy

    from . import symbolic

    if exact:
        numbers = [symbolic.constant(text, exact=True) for text in vector.texts.flat]
    else:
        numbers = [sympy.Float(value) for value in vector.array.flat]
    return np.array(numbers, dtype=object).reshape(vector.shape)


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "×".join(map(str, shape))


def _input_shape(problem: Problem) -> tuple[int, ...]:
    """A single variable's shape; several variables flatten to n entries."""
    names = problem.names
    return problem.shapes[names[0]] if len(names) == 1 else (len(problem.labels),)


def _input_grid(problem: Problem, column: str) -> tuple[list[str], list[str]]:
    names = problem.names
    if len(names) == 1:
        return grid(names[0], problem.shapes[names[0]], column)
    return problem.labels, [column]


def _product(command: str, problem: Problem, shape, rows, columns, what: str, vector: points.Value) -> Result:
    """The Result of a product with a vector (vjp, jvp, hvp): titled with v, and v as a JSON key."""
    return Result(command, problem.expression, shape, rows, columns,
                  title=problem.title(what) + f", v = {_short_array(vector.array)}", extra={"v": vector.array})


def vjp(expression: str, at: list[str] | None, v: str, variables: list[str] | None = None,
        shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
        check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """Jᵀv, shaped like the input (n entries for several variables): what y.backward(v) puts in x.grad.

    v has one entry per output. J is never formed: reverse mode pulls v back through each node in O(n),
    and the symbolic form is the gradient of the scalar vᵀf.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    vector = _read_v(v, problem.output_shape, "vjp", "output of the expression", stdin)
    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "Jᵀv")
    result = _product("vjp", problem, shape, rows, columns, "Vector-Jacobian product Jᵀv", vector)
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        import sympy

        from . import calculus

        def formulas(outputs, exact):
            weights = _sympy_numbers(vector, exact)
            scalar = sympy.Add(*(w * f for w, f in zip(weights.flat, outputs.flat, strict=True)))
            return calculus.gradient(scalar, problem.inputs).reshape(shape)

        exprs = _formulas(problem, result, formulas, exact)
    flat = vector.array.ravel()
    numbers = Numbers(problem, "vjp", shape, v=vector.array)
    return _finish(result, problem, numbers, exprs, exact, check, lambda jac: flat @ jac, formulas)


def jvp(expression: str, at: list[str] | None, v: str, variables: list[str] | None = None,
        shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
        check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """J v, shaped like the output: the directional derivative of f along v (one entry per input).

    Forward mode pushes v through each node in O(n); J is never formed.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    vector = _read_v(v, _input_shape(problem), "jvp", "input", stdin)
    shape = problem.output_shape
    rows, columns = (output_labels(shape), ["J·v"]) if len(shape) <= 1 else grid("f", shape, "J·v")
    result = _product("jvp", problem, shape, rows, columns, "Jacobian-vector product J·v", vector)
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        import sympy

        from . import calculus

        def formulas(outputs, exact):
            direction = _sympy_numbers(vector, exact)
            jac = calculus.jacobian(outputs, problem.inputs)  # sparse: zero entries cost nothing below
            exprs = np.empty(outputs.shape, dtype=object)
            for index, row in zip(np.ndindex(exprs.shape), jac, strict=True):
                exprs[index] = sympy.Add(*(d * w for d, w in zip(row, direction.flat, strict=True) if d != 0))
            return exprs

        exprs = _formulas(problem, result, formulas, exact)
    flat = vector.array.ravel()
    numbers = Numbers(problem, "jvp", shape, v=flat)
    return _finish(result, problem, numbers, exprs, exact, check, lambda jac: jac @ flat, formulas)


def hvp(expression: str, at: list[str] | None, v: str, variables: list[str] | None = None,
        shapes: dict | None = None, stdin=None, *, exact: bool = False, many: bool = False,
        check: bool = False, wrt: list[str] | None = None,
        fixed: list[str] | None = None) -> Result:
    """H v, shaped like the input: the Hessian-vector product of a scalar function, without forming H.

    Forward-over-reverse: one JVP of the gradient along v, a few evaluations of f's cost.
    """
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=exact, wrt=wrt, fixed=fixed)
    _check_scalar(problem.output_shape, "hvp")
    shape = _input_shape(problem)
    vector = _read_v(v, shape, "hvp", "input", stdin)
    rows, columns = _input_grid(problem, "H·v")
    result = _product("hvp", problem, shape, rows, columns, "Hessian-vector product H·v", vector)
    exprs = formulas = None
    if _symbolic(problem, many, result.notes):
        import sympy

        from . import calculus

        def formulas(outputs, exact):
            direction = _sympy_numbers(vector, exact)
            grad = calculus.gradient(outputs.flat[0], problem.inputs)
            scalar = sympy.Add(*(g * w for g, w in zip(grad, direction.flat, strict=True) if g != 0))
            return calculus.gradient(scalar, problem.inputs).reshape(shape)  # ∇(∇f·v) = H v (H is symmetric)

        exprs = _formulas(problem, result, formulas, exact)
    flat = vector.array.ravel()
    numbers = Numbers(problem, "hvp", shape, v=flat)
    return _finish(result, problem, numbers, exprs, exact, check, lambda jac: jac @ flat, formulas)


CHAIN_RTOL = 1e-10  # chain-rule product vs direct gradient, relative to the size of the summands


def chain(f_expression: str, g_expression: str, at: list[str], variables: list[str] | None = None,
          var: str | None = None, stdin=None) -> Result:
    """∇l for l = G(F(x)) by the chain rule, J_Fᵀ ∇G, shaped like x; checked against ∇(G∘F) computed directly.

    F is a function of x (any shape, m outputs), G a scalar function of the single variable ``var``
    (default: G's only variable), which takes F's output shape. ``failed`` is set if the two disagree.
    """
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
    f_shape = problem.output_shape
    g_root = ir.build(g_function.tree, {var: f_shape})
    if g_root.size != 1:
        raise ShapeError(f"G must be a scalar function of {var} (l = G(F(x))), but it has {g_root.size} "
                         f"outputs (shape {_shape(g_root.shape)})")
    point = problem.point[None]
    f_numbers = Numbers(problem, "jacobian", (problem.root.size, len(problem.labels)))
    f_value = problem.ad.value(f_numbers.env(point))[0]
    jac_f, kinks_j = f_numbers.at(point)
    jac_f = jac_f[0]
    grad_g, kinks_g = _gradient_at(ad.Problem(g_root, [(var, f_shape)]), {var: np.asarray(f_value)[None]})
    with np.errstate(all="ignore"):
        value = jac_f.T @ grad_g
        scale = np.abs(jac_f).T @ np.abs(grad_g)
    # Independently: substitute F into G, then differentiate the composition with respect to x.
    composed = ir.substitute(g_root, {var: problem.root})
    env = {name: problem.values[name].array[None] for name in problem.function.variables}
    direct, kinks_d = _gradient_at(ad.Problem(composed, problem.layout), env)
    direct = np.asarray(direct, dtype=float).reshape(-1)
    with np.errstate(all="ignore"):
        difference = np.abs(value - direct)
        # where float64 has no finite value on either side (exp(800) in F) there is nothing to compare: not a "nan"
        comparable = np.isfinite(difference) & np.isfinite(np.ravel(scale))
        agrees = bool(np.all((difference <= CHAIN_RTOL * scale + 1e-300)[comparable]))
    worst = float(np.max(difference[comparable], initial=0.0))
    uncompared = int(np.sum(~comparable))

    shape = _input_shape(problem)
    rows, columns = _input_grid(problem, "∂l/∂·")
    y_labels = [element_label(var, index) for index in np.ndindex(f_shape)]
    result = Result(
        "chain", f"{g_expression} with {var} = {f_expression}", shape, rows, columns,
        title=f"Chain rule for l = G(F(x)), F = {f_expression}, G = {g_expression}, at {problem.describe_point()}",
        value_title=f"∇l = J_Fᵀ ∇G  (the vector-Jacobian product with v = ∇G at {var} = F(x))")
    kinks = kinks_j | kinks_g | kinks_d
    value = value.reshape(shape)
    f_value = np.asarray(f_value, dtype=float).reshape(f_shape)
    grad_g = np.asarray(grad_g, dtype=float).reshape(f_shape)
    formulas = None if kinks else _chain_formulas(problem, g_root, composed, var, f_shape)
    if formulas is not None:  # every printed number the exact value at the point as typed, correctly rounded
        from . import accuracy

        exact_point = accuracy.point_as_typed(problem)
        verifier = accuracy.Verifier(exact_point, limits.VERIFY_SECONDS)  # one budget for the four arrays
        grad_l, jac_exprs, f_exprs, grad_g_exprs = formulas
        value = accuracy.correctly_rounded(result, grad_l.reshape(shape), exact_point, value, verifier=verifier)
        jac_f = accuracy.correctly_rounded(result, jac_exprs, exact_point, jac_f, beside="J_F", verifier=verifier)
        f_value = accuracy.correctly_rounded(result, f_exprs.reshape(f_shape), exact_point, f_value,
                                             beside="F(x)", verifier=verifier)
        grad_g = accuracy.correctly_rounded(result, grad_g_exprs.reshape(f_shape), exact_point, grad_g,
                                            beside="∇G", verifier=verifier)
    result.extra = {
            "f": f_expression, "g": g_expression, "var": var,
            "f_value": f_value, "jacobian_f": jac_f, "grad_g": grad_g,
            "direct_gradient": direct.reshape(shape),
            "properties": {"equals_direct_gradient": {
                "holds": agrees if comparable.any() else None,
                "statement": f"J_Fᵀ ∇G = ∇(G∘F) computed directly (F substituted for {var} in G, then differentiated)",
                "measure": "max|difference|", "residual": worst if np.isfinite(worst) else None}},
    }
    result.panels = [Panel("J_F: rows the outputs of F, columns the inputs", output_labels(f_shape), problem.labels,
                           jac_f),
                     Panel(f"{var} = F(x) and ∇G at {var}", [f"{var} = F(x)", f"∇G({var})"], y_labels,
                           np.vstack([f_value.ravel(), grad_g.ravel()]))]
    result.failed = result.failed or not agrees
    _attach(result, problem, value, kinks)
    if not agrees:
        result.warnings.append(f"the chain-rule product and the direct gradient differ by up to {worst:g}")
    if uncompared:
        result.warnings.append(f"the chain-rule product and the direct gradient are not compared at {uncompared} of "
                               f"{comparable.size} entries: float64 has no finite value for them there")
    beside = sum(int(np.sum(~np.isfinite(np.asarray(a, dtype=float)))) for a in (f_value, jac_f, grad_g))
    if beside:  # the panels print null for them
        result.failed = True
        result.warnings.append(f"{beside} entries of F(x), J_F and ∇G are not finite at this point (null): beyond a "
                               "double, or undefined")
    return result


def _chain_formulas(problem: Problem, g_root: ir.Node, composed: ir.Node, var: str, f_shape: tuple[int, ...]):
    """The exact forms, literals as typed, of ∇l, J_F, F(x) and ∇G at y = F(x) (flat object arrays but J_F m×n);
    None where the numbers have no formula (as for a Jacobian: too many inputs, a wide min/max, too large)."""
    if problem.numeric() or any(node.op.name in ("amin", "amax") and node.args[0].size > limits.MAX_SYMBOLIC_EXTREMES
                                for node in ir.topological([composed])):
        return None
    try:
        limits.check_symbolic_size(composed, len(problem.labels))
    except LimitError:
        return None
    from . import calculus, symbolic

    f_exact = problem.exact_outputs
    g_outputs, g_symbols = symbolic.lower(g_root, {var: f_shape}, True)
    y = list(g_symbols[var].flat)
    at_f = dict(zip(y, f_exact.flat, strict=True))  # simultaneous: a name shared by F's inputs and G's y is safe
    grad_g = np.array([e.xreplace(at_f) for e in calculus.gradient(g_outputs.flat[0], y)], dtype=object)
    grad_l = calculus.gradient(g_outputs.flat[0].xreplace(at_f), problem.inputs)
    return grad_l, calculus.jacobian(f_exact, problem.inputs), f_exact.ravel(), grad_g


def _gradient_at(engine: ad.Problem, env: dict) -> tuple[np.ndarray, set[str]]:
    """The gradient of a scalar IR function at one point, flat, by reverse mode; and the kinks met."""
    kinks: list = []
    grads = engine.gradient_nodes(kinks)
    evaluator = ad.Evaluator(engine._env(env), 2)
    return ad.flat_gradient(engine, grads, env, evaluator)[0], evaluator.kinks(kinks)


def check(expression: str, at: list[str], variables: list[str] | None = None, stdin=None,
          wrt: list[str] | None = None) -> Result:
    """The Jacobian, m×n, compared with central differences and the complex step (``extra['ok']``)."""
    if not at:
        raise JaccliError("check needs a point: give --at, e.g. --at 1,2")
    result = jacobian(expression, at, variables, stdin=stdin, check=True, wrt=wrt)
    result.command = "check"
    return result
