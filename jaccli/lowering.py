"""Expression tree plus variable shapes to a numpy object array of sympy expressions.

A scalar variable is one real symbol; an array variable of shape s is an array of
symbols named like numpy shows entries (``x[0]``, ``x[1, 2]``). Arithmetic then
broadcasts exactly as numpy does, reductions collapse to one expression, and
``softmax`` works along the last axis.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import sympy

from . import special
from .errors import JaccliError, LimitError, ShapeError
from .parsing import (
    MAX_EXPONENT,
    Binary,
    Call,
    Const,
    Function,
    Index,
    Node,
    Num,
    Stack,
    Unary,
    Var,
    element_label,
    parse_tree,
)

MAX_SYMBOLIC_ENTRIES = 100_000  # input values, and entries of any intermediate array, on the symbolic path
LOG10_2 = math.log10(2)


def variable_symbols(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An object array of real symbols for one variable, entries labelled as numpy shows them."""
    out = np.empty(shape, dtype=object)
    for index in product(*(range(n) for n in shape)):
        out[index] = sympy.Symbol(element_label(name, index), real=True)
    return out


def number(node: Num | Const, exact: bool = False) -> sympy.Expr:
    """A literal as sympy: ints exactly; decimals as floats, or as exact rationals when ``exact``."""
    if isinstance(node, Const):
        return sympy.pi if node.name == "pi" else sympy.E
    if node.is_int:
        return sympy.Integer(node.text)
    return sympy.Rational(node.text) if exact else sympy.Float(node.text, 15)


def lower(function: Function, shapes: dict[str, tuple[int, ...]],
          exact: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The outputs as an object array, and each variable's symbols. Shapes default to scalars.

    ``exact`` reads decimal literals as rationals (0.1 is 1/10) instead of floats.
    """
    total = sum(math.prod(shapes.get(name, ())) for name in function.variables)
    if total > MAX_SYMBOLIC_ENTRIES:
        raise LimitError(f"{total} input values are too many for symbolic differentiation "
                         f"(limit {MAX_SYMBOLIC_ENTRIES})")
    symbols = {name: variable_symbols(name, tuple(shapes.get(name, ()))) for name in function.variables}
    outputs = _Lowering(symbols, exact).lower(function.tree)
    for entry in outputs.flat:
        if entry.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise JaccliError(f"the expression is undefined: '{entry}' (a division by zero?)")
        if entry.has(sympy.I):  # e.g. log(x, -1): numpy would drop the imaginary part silently
            raise JaccliError(f"the expression is not real: '{entry}'")
    return outputs, symbols


def constant(text: str, exact: bool = False) -> sympy.Expr:
    """A point value such as ``pi/4`` or ``sqrt(2)``: parsed by the same safe parser, no variables."""
    tree = parse_tree(text, allow_variables=False)
    value = _Lowering({}, exact=exact).lower(tree)
    if value.shape != ():
        raise ShapeError(f"'{text}' is not a single number")
    return value[()]


def _obj(value) -> np.ndarray:
    """Wrap a sympy value or an array result as an object array (numpy unwraps 0-d results)."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _magnitude_digits(value) -> float | None:
    """Decimal digits needed to write a constant exactly (rationals) or its size (anything else)."""
    if value.is_Rational:  # p/q: both halves are written out
        return math.log10(abs(int(value.p))) + math.log10(int(value.q))  # math.log10 takes any int
    try:
        approx = sympy.Abs(value).evalf(15)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    if not isinstance(approx, sympy.Float) or approx == 0:
        return None
    _, mantissa, exponent, bits = approx._mpf_
    return abs(exponent + bits) * LOG10_2


def _short_number(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"


def _checked_power(base, exponent):
    """base**exponent, refused before sympy starts on a huge exact power such as 9**9**9."""
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise LimitError(f"exponent {_short_number(exponent)} is too large (limit {MAX_EXPONENT})")
        if base.is_number and not base.free_symbols and base not in (0, 1, -1):
            size = _magnitude_digits(base)
            digits = None if size is None else size * abs(float(exponent))
            if digits is not None and digits > MAX_EXPONENT:
                raise LimitError(f"{_short_number(base)}**{_short_number(exponent)} is too large to compute "
                                 f"(about {digits:.0f} digits; limit {MAX_EXPONENT})")
    elif exponent.is_number and not exponent.free_symbols and base.is_number and not base.free_symbols:
        size = _magnitude_digits(exponent)
        if size is None or size > math.log10(MAX_EXPONENT):
            raise LimitError(f"exponent {_short_number(exponent)} is too large (limit {MAX_EXPONENT})")
    return sympy.Pow(base, exponent)


def _divide(a, b):
    if b.is_zero:  # 0.0 too: sympy's Float(0) != 0, and dividing by it raises ZeroDivisionError
        raise JaccliError("division by zero in the expression")
    return a / b


def _c99(name: str):
    """sympy's ``log2`` or ``log10``, imported at first use: they live in sympy.codegen, whose package import
    (its AST classes, ~6 ms) every symbolic start-up would otherwise pay."""

    def build(x):
        from sympy.codegen import cfunctions

        return getattr(cfunctions, name)(x)

    return build


_ELEMENTWISE = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh,
    "exp": sympy.exp, "log": sympy.log, "log2": _c99("log2"), "log10": _c99("log10"),
    "sqrt": sympy.sqrt, "abs": sympy.Abs, "erf": sympy.erf, "atan2": sympy.atan2,
    "sigmoid": special.sigmoid, "softplus": special.softplus, "relu": special.relu,
    "min": sympy.Min, "max": sympy.Max,
}
_OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _divide, "**": _checked_power,
}


def _log(x, base=None):
    if base is None:
        return sympy.log(x)
    if base.is_zero or (base - 1).is_zero or (base.is_number and base.is_extended_negative):
        raise JaccliError(f"log to base {base} is undefined (the base must be positive and not 1)")
    return sympy.log(x, base)


_ELEMENTWISE["log"] = _log


class _Lowering:
    def __init__(self, symbols: dict[str, np.ndarray], exact: bool = False):
        self.symbols = symbols
        self.exact = exact

    def lower(self, node: Node) -> np.ndarray:
        if isinstance(node, (Num, Const)):
            return _obj(number(node, self.exact))
        if isinstance(node, Var):
            return self.symbols[node.name]
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Unary):
            arg = self.lower(node.arg)
            return _obj(-arg) if node.op == "-" else arg
        if isinstance(node, Binary):
            return self.broadcast(_OPERATORS[node.op], [self.lower(node.left), self.lower(node.right)], node.op)
        if isinstance(node, Stack):
            return self.stack([self.lower(item) for item in node.items])
        if isinstance(node, Call):
            return self.call(node.name, [self.lower(arg) for arg in node.args])
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover - the parser builds only the above

    def index(self, node: Index) -> np.ndarray:
        array = self.symbols[node.name]
        if len(node.indices) > array.ndim:
            shape = "a scalar" if array.ndim == 0 else f"shape {_shape(array.shape)}"
            raise ShapeError(f"{node.name}{list(node.indices)} has {len(node.indices)} indices, but {node.name} "
                             f"is {shape}; give it an array value, e.g. --at {node.name}=[1,2,3]")
        for axis, i in enumerate(node.indices):
            if not -array.shape[axis] <= i < array.shape[axis]:
                raise ShapeError(f"index {i} is out of range for {node.name}, whose axis {axis} "
                                 f"has {array.shape[axis]} entries")
        return _obj(array[node.indices])

    def broadcast(self, fn, arrays: list[np.ndarray], what: str) -> np.ndarray:
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ShapeError(f"shapes {', '.join(_shape(a.shape) for a in arrays)} do not broadcast "
                             f"together in '{what}'") from None
        _check_size(shape)
        out = np.empty(shape, dtype=object)
        views = [np.broadcast_to(a, shape) for a in arrays]
        try:
            for index in np.ndindex(shape):
                args = [v[index] for v in views]
                if any(a is sympy.nan or a is sympy.zoo for a in args):  # e.g. atan2(0, 0) as an argument
                    raise JaccliError(f"undefined constant in '{what}': {', '.join(map(str, args))} "
                                      "(from atan2(0, 0) or 0/0?)")
                out[index] = fn(*args)
        except (OverflowError, ValueError):  # mpmath on a constant beyond any float, e.g. sin(exp(exp(1e3)))
            raise LimitError(f"a constant in '{what}' is too large to evaluate") from None
        return out

    def stack(self, items: list[np.ndarray]) -> np.ndarray:
        shapes = {a.shape for a in items}
        if len(shapes) > 1:
            raise ShapeError(f"the entries of a list must have equal shapes, got "
                             f"{', '.join(_shape(a.shape) for a in items)}")
        _check_size((len(items),) + items[0].shape)
        out = np.empty((len(items),) + items[0].shape, dtype=object)
        for i, item in enumerate(items):
            out[i, ...] = item
        return out

    def call(self, name: str, args: list[np.ndarray]) -> np.ndarray:
        if name in ("min", "max") and len(args) == 1:
            return _obj((sympy.Min if name == "min" else sympy.Max)(*args[0].flat))
        if name in _ELEMENTWISE:
            return self.broadcast(_ELEMENTWISE[name], args, f"{name}()")
        (x, *rest) = args
        if name == "sum":
            return _obj(sympy.Add(*x.flat))
        if name == "mean":
            return _obj(sympy.Add(*x.flat) / x.size)
        if name == "prod":
            return _obj(sympy.Mul(*x.flat))
        if name == "norm":
            return _obj(sympy.sqrt(sympy.Add(*(e**2 for e in x.flat))))
        if name == "dot":
            y = rest[0]
            if x.shape != y.shape:
                raise ShapeError(f"dot(a, b) needs equal shapes, got {_shape(x.shape)} and {_shape(y.shape)}")
            return _obj(sympy.Add(*(a * b for a, b in zip(x.flat, y.flat, strict=True))))
        if name == "logsumexp":
            return _obj(special.LogSumExp(*x.flat))
        if name in ("softmax", "log_softmax"):
            return self.along_last_axis(name, x)
        raise TypeError(f"no lowering for {name}")  # pragma: no cover - FUNCTIONS and this stay in step

    def along_last_axis(self, name: str, x: np.ndarray) -> np.ndarray:
        if x.ndim == 0:  # softmax of one logit is 1, its log 0
            return _obj(sympy.Integer(1 if name == "softmax" else 0))
        entry = special.Softmax if name == "softmax" else special.LogSoftmax
        out = np.empty(x.shape, dtype=object)
        for lead in np.ndindex(x.shape[:-1]):
            logits = tuple(x[lead])
            for i in range(x.shape[-1]):
                if len(logits) == 1:
                    out[lead + (i,)] = sympy.Integer(1 if name == "softmax" else 0)
                else:
                    out[lead + (i,)] = entry(sympy.Integer(i), *logits)
        return out


def _check_size(shape: tuple[int, ...]) -> None:
    if math.prod(shape) > MAX_SYMBOLIC_ENTRIES:
        raise LimitError(f"an intermediate array of shape {_shape(shape)} has {math.prod(shape)} entries, too many "
                         f"for symbolic differentiation (limit {MAX_SYMBOLIC_ENTRIES})")


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "×".join(map(str, shape))
