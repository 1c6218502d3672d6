"""Every operation jaccli knows, each defined once: one record holds all that the engines need.

A record (``Op``) has its names and summary (help, README), arity, shape rule, numpy
implementation, derivative rule written with other registry operations (so a derivative
is itself IR and can be differentiated again), sympy form, kink and domain rules, complex
form for the complex-step check, mpmath form (an elementwise one is also how the engines
evaluate it in mpmath numbers, for the numeric path's multi-precision pass; a structural one
whose numpy form cannot take arrays of Python objects has ``mp_array``), and the data the
conformance test draws points from.

Numpy implementations work with **batch axes leading**: a value is ``batch + shape``, where
``shape`` is the node's own shape; elementwise operations receive their arguments already
aligned by the evaluator, and structural ones index from the end (negative axes, ``...``).

Nothing here imports sympy: sympy forms are functions that receive the sympy module (``sp``)
and jaccli's sympy functions (``special``) when a symbolic result is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import ir
from . import softmax as sm
from .errors import JaccliError, LimitError, ShapeError, UndefinedError

# 1/ln 2 and 1/ln 10 rounded once (mpmath): log2 and log10's derivatives c/x round twice, 1/(x·ln b) three times
LOG2_E = 1.4426950408889634
LOG10_E = 0.4342944819032518
MAX_EXPONENT = 10_000  # |n| in x**n with a constant n (numbers of that size are refused by sympy too)


class Sample:
    """Where the conformance test draws points: one (low, high) interval per argument, and the kinks."""

    def __init__(self, *intervals: tuple[float, float], kinks: tuple = (), shapes: tuple | None = None,
                 valid: Callable | None = None):
        self.intervals = intervals
        self.valid = valid  # (*argument values) -> bool: the points inside the domain (a regular matrix)
        self.kinks = kinks  # argument tuples at which the kink warning must be raised
        self.shapes = shapes  # argument shapes (structural operations); None: scalars


class Op:
    """One operation. See the module docstring; fields not given default to 'not applicable'."""

    def __init__(self, name: str, *, kind: str, numpy: Callable, summary: str = "", example: str = "",
                 aliases: tuple = (), arity: tuple = (1, 1), shape: Callable | None = None,
                 make: Callable | None = None, partials: Callable | None = None, jvp: Callable | None = None,
                 vjp: Callable | None = None, sympy: Callable | None = None, kink: Callable | None = None,
                 complex: Callable | None | bool = True, mp: Callable | None = None, mp_array: Callable | None = None,
                 sample: Sample | None = None, public: bool = True, kink_name: str | None = None,
                 code: dict | None = None, internal: bool = False, takes_list: bool = False,
                 takes_axis: bool = False, sum_signs: tuple[int, ...] | None = None, exact: bool = False):
        self.name = name
        # its results are entries of its arguments, unrounded (max picks one): the numeric path's random rounding
        # leaves them as they are, so a derivative rule that compares them with the arguments (ties) still holds
        self.exact = exact
        self.kind = kind  # leaf, elementwise, reduction, vector, structural, internal, composite, constant
        self.numpy = numpy
        self.summary = summary
        self.example = example
        self.aliases = aliases
        self.arity = arity  # (least, most); most None: any number
        self._shape = shape
        self._make = make
        self.partials = partials  # elementwise: node -> one partial derivative (IR) per argument, None if 0
        self._jvp = jvp  # others: (node, tangents per argument, None if 0) -> tangent of node or None
        self._vjp = vjp  # others: (node, cotangent g) -> cotangent per argument (None if 0)
        self.sympy = sympy
        # where the derivative is taken at a kink: (*argument values) -> bool array for elementwise
        # operations, (node, *argument values) -> bool for others; the warning names ``kink_name``
        self.kink = kink
        self.kink_name = kink_name or name
        self.complex = numpy if complex is True else (complex or None)  # None: not analytic
        self.mp = mp  # the value by mpmath (scalars and lists), for the conformance test; elementwise: the engines'
        # multi-precision evaluation, entry by entry
        # non-elementwise: the value of (node, *argument arrays of mpmath numbers), where numpy's form does not work
        # on arrays of Python objects (it calls np.exp: an object has no exp method)
        self.mp_array = mp_array
        self.sample = sample
        self.public = public
        self.internal = internal or kind == "internal"  # used only inside derivatives, never typed
        # language -> (format string of the printed arguments, helper source or None), for a sympy form
        # that sympy's printers do not know
        self.code = code or {}
        self.takes_list = takes_list  # called with a list of arrays first: concatenate([a, b], axis)
        self.takes_axis = takes_axis  # accepts axis= (make receives it as the keyword argument axis)
        self.called = name  # the name users call it by (FUNCTIONS' key; var() is the record "variance")
        # a sum of its arguments with these signs (add: +, +; sub: +, -): the symbolic engine lowers a chain of
        # sums as one n-ary sympy Add (binary Adds re-flatten their terms at every level of a long chain)
        self.sum_signs = sum_signs

    def __repr__(self):
        return f"<op {self.name}>"

    # --- shapes and building ----------------------------------------------------------------

    def shape(self, shapes: tuple, params: tuple) -> tuple[int, ...]:
        if self._shape is not None:
            return self._shape(shapes, params)
        if self.kind == "elementwise":
            return ir.broadcast_shapes(shapes, _SYMBOLS.get(self.name, f"{self.name}()"))
        raise TypeError(f"{self.name} has no shape rule")  # pragma: no cover - every record has one

    def make(self, *args: ir.Node, **axis) -> ir.Node:
        """The node for a call as the user wrote it (arity checked by the parser; ``axis=`` for takes_axis)."""
        if self._make is not None:
            return self._make(*args, **axis)
        node = ir.apply(self.name, *args)
        _check_domain(node)
        if node.is_constant:
            _domain_finite(node)
        return node

    # --- derivatives -------------------------------------------------------------------------

    def jvp(self, node: ir.Node, tangents: list) -> ir.Node | None:
        if self.partials is not None:
            terms = [mul(p, t) for p, t in zip(self.partials(node), tangents) if t is not None and p is not None]
            return _sum_terms(terms, node.shape)
        return self._jvp(node, tangents)

    def vjp(self, node: ir.Node, g: ir.Node) -> list:
        if self.partials is not None:
            return [None if p is None else sum_to(mul(g, p), arg.shape)
                    for p, arg in zip(self.partials(node), node.args)]
        return self._vjp(node, g)

    @property
    def differentiable(self) -> bool:
        return self.partials is not None or self._jvp is not None


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "neg": "-"}

# --- small builders used by the rules (with the simplifications that keep derivatives small) ---


def const(value) -> ir.Node:
    return ir.const(value)


ONE = None  # set below, after the records exist
PI = None  # π as the constant ``pi`` (exact in sympy, to 64 bits in longdouble), set below


def mul(a: ir.Node, b: ir.Node) -> ir.Node:
    shape = ir.broadcast_shapes((a.shape, b.shape), "*")
    if ir.is_literal(a, 1.0) and b.shape == shape:
        return b
    if ir.is_literal(b, 1.0) and a.shape == shape:
        return a
    if ir.is_literal(a, -1.0) and b.shape == shape:
        return neg(b)
    return ir.apply("mul", a, b)


def add(a: ir.Node | None, b: ir.Node | None) -> ir.Node | None:
    if a is None:
        return b
    if b is None:
        return a
    return ir.apply("add", a, b)


def sub(a: ir.Node, b: ir.Node) -> ir.Node:
    return ir.apply("sub", a, b)


def div(a: ir.Node, b: ir.Node) -> ir.Node:
    return ir.apply("div", a, b)


def neg(a: ir.Node) -> ir.Node:
    if a.op.name == "neg":
        return a.args[0]
    return ir.apply("neg", a)


def call(name: str, *args: ir.Node, params: tuple = ()) -> ir.Node:
    return ir.apply(name, *args, params=params)


def number(value: float) -> ir.Node:
    return ir.const(float(value))


def broadcast_to(x: ir.Node, shape: tuple[int, ...]) -> ir.Node:
    return x if x.shape == tuple(shape) else ir.apply("broadcast_to", x, params=(tuple(shape),))


def sum_to(x: ir.Node, shape: tuple[int, ...]) -> ir.Node:
    """Sum ``x`` over the axes broadcasting added or stretched, back to ``shape`` (a VJP of broadcasting)."""
    return x if x.shape == tuple(shape) else ir.apply("sum_to", x, params=(tuple(shape),))


def _sum_terms(terms: list, shape: tuple[int, ...]) -> ir.Node | None:
    total = None
    for term in terms:
        total = add(total, term)
    return None if total is None else broadcast_to(total, shape)


def _constant(node: ir.Node):
    """The numeric value of a constant subexpression (for domain checks), or None."""
    if not node.is_constant:
        return None
    from .evaluate import evaluate_constant

    return evaluate_constant(node)


def _check_domain(node: ir.Node) -> None:
    rule = _DOMAIN.get(node.op.name)
    if rule is not None:
        rule(node)


# --- numpy helpers ----------------------------------------------------------------------------

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    if getattr(x, "dtype", None) == np.longdouble:
        return _erf_wide(x)
    return np.asarray(_erf_scalar(x), dtype=float)


def _erf_wide(x: np.ndarray) -> np.ndarray:
    """erf in numpy's longdouble (math.erf is a double's: the numeric path's wider evaluation gained nothing where
    erf(x) cancelled), within a few units of the 64-bit significand. Below |x| = 2: erf x = (2/√π)·e^(−x²)·
    Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (Abramowitz & Stegun 7.1.6), positive terms, 2x² + 60 of them. From 2 on:
    1 − erfc x, with erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (A&S 7.1.14) evaluated from
    depth 120 back (converged to 2⁻⁶⁴ from depth 100 at x = 2): the series would carry e^(−x²)'s error, x² units,
    into a value near 1."""
    x = np.asarray(x, dtype=np.longdouble)
    root_pi = np.sqrt(4 * np.arctan(np.longdouble(1)))
    small = np.abs(x) < 2
    t = np.where(small, x, 0)
    square = t * t
    term = t.copy()
    total = t.copy()
    for n in range(1, 68):  # 2·2² + 60
        term *= 2 * square / (2 * n + 1)
        total += term
    b = np.where(small, 2, np.abs(x))
    with np.errstate(all="ignore"):
        fraction = b.copy()
        for k in range(120, 0, -1):
            fraction = b + np.longdouble(k) / 2 / fraction
        tail = np.exp(-b * b) / root_pi / fraction
        series = 2 / root_pi * np.exp(-square) * total
    return np.where(small, series, np.sign(x) * (1 - tail)).astype(np.longdouble)


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_complex(z):
    z = np.asarray(z, dtype=complex)
    return np.where(z.real >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def _softplus_complex(z):
    z = np.asarray(z, dtype=complex)
    return np.where(z.real >= 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z)))


def _cbrt_complex(z):
    z = np.asarray(z, dtype=complex)
    return np.where(z.real >= 0, z ** (1 / 3), -((-z) ** (1 / 3)))


def _power(a, b):
    if np.ndim(b) == 0 and float(b) == 2:
        return a * a
    return np.power(a, b)


def _own(node: ir.Node, k: int = 0) -> tuple[int, ...]:
    """The own axes of argument k, as negative axes (batch axes lead)."""
    return tuple(range(-len(node.args[k].shape), 0))


def _log(x, *base):
    if not base:
        return np.log(x)
    return np.log(x) / np.log(base[0])


def _fold(ufunc):
    def run(*args):
        out = args[0]
        for arg in args[1:]:
            out = ufunc(out, arg)
        return out

    return run


def _ties(node: ir.Node, k: int) -> ir.Node:
    return call("tie_share", *node.args, node, params=(k,))


def _tie_share(node, *values):
    """(argument k == the result) / (how many arguments equal it): the winner takes the derivative, ties share."""
    *args, out = values
    k = node.params[0]
    hits = [np.broadcast_to(arg, np.broadcast_shapes(np.shape(arg), np.shape(out))) == out for arg in args]
    return _share(hits[k], np.sum(hits, axis=0), np.asarray(out).dtype)


def _share(hits: np.ndarray, count: np.ndarray, dtype) -> np.ndarray:
    """hits / count (a winner's share of a derivative), as mpmath numbers when the values are (1/3 is no double)."""
    if dtype != np.dtype(object):  # arrays of mpmath numbers: see evaluate.MULTI
        return hits / count
    import mpmath

    return np.frompyfunc(lambda h, c: mpmath.mpf(int(h)) / int(c), 2, 1)(hits, count)


def _tied(*args) -> np.ndarray:
    out = _fold(np.maximum)(*args)
    low = _fold(np.minimum)(*args)
    return np.logical_or(_count_equal(args, out) > 1, _count_equal(args, low) > 1)


def _count_equal(args, target):
    return np.sum([np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(target))) == target
                   for a in args], axis=0)


def _max_tied(*args):
    out = _fold(np.maximum)(*args)
    return _count_equal(args, out) > 1


def _min_tied(*args):
    out = _fold(np.minimum)(*args)
    return _count_equal(args, out) > 1


# --- sympy helpers ---------------------------------------------------------------------------


def _special(sp):
    from . import special

    return special


def _defined(name: str, **rules):
    """The sympy form of a one-argument function sympy lacks, made from the record's own rules."""

    def form(sp):
        return _special(sp).define(name, **rules)

    return form


def _sympy(name: str, sp):
    """The sympy function of another record (for rules that refer to each other)."""
    return OPS[name].sympy(sp)




def _sympy_divide(sp):
    def divide(a, b):
        if b.is_zero:  # 0.0 too: sympy's Float(0) != 0, and dividing by it raises ZeroDivisionError
            raise JaccliError("division by zero in the expression")
        return a / b

    return divide


def _sympy_log(sp):
    def log(x, base=None):
        if base is None:
            return sp.log(x)
        if base.is_zero or (base - 1).is_zero or (base.is_number and base.is_extended_negative):
            raise JaccliError(f"log to base {base} is undefined (the base must be positive and not 1)")
        return sp.log(x, base)

    return log


def _c99(name: str):
    """sympy's log2/log10/expm1/…: they live in sympy.codegen, imported only for expressions that use them."""

    def form(sp):
        from sympy.codegen import cfunctions

        return getattr(cfunctions, name)

    return form


# --- domain rules: constants the numeric path must refuse as the symbolic one does ------------


def _domain_div(node):
    right = _constant(node.args[1])
    if right is not None and np.any(right == 0):
        raise JaccliError("division by zero in the expression")


def _domain_pow(node):
    exponent = _constant(node.args[1])
    base = _constant(node.args[0])
    if exponent is not None and np.any(np.abs(exponent) > MAX_EXPONENT):
        raise LimitError(f"exponent {_short(exponent)} is too large (limit {MAX_EXPONENT})")
    if base is None or exponent is None:
        return
    with np.errstate(all="ignore"):
        size = np.abs(np.log10(np.abs(base))) * np.abs(exponent)
    if np.any(np.isinf(base)) or np.any(np.isfinite(size) & (size > MAX_EXPONENT)):
        raise LimitError(f"a constant power ({_short(base)}**{_short(exponent)}) is too large to compute "
                         f"(limit {MAX_EXPONENT} digits)")
    if np.all(base != 0) and np.any(np.isinf(_constant(node))):
        raise LimitError(f"a constant power ({_short(base)}**{_short(exponent)}) is too large to compute "
                         "(it overflows a float)")


def _domain_log(node):
    if len(node.args) == 2:
        base = _constant(node.args[1])
        if base is not None and np.any((base <= 0) | (base == 1)):
            raise JaccliError(f"log to base {_short(base)} is undefined (the base must be positive and not 1)")


def _domain_finite(node):
    value = _constant(node)
    if value is not None and not np.all(np.isfinite(value)):
        what = _SYMBOLS.get(node.op.name, f"{node.op.name}()")
        if np.any(np.isnan(value)):
            raise UndefinedError(f"the expression is undefined: '{what}' of constants gives nan")
        raise LimitError(f"a constant in '{what}' is too large to evaluate or undefined: it gives {_short(value)}")


def _short(value) -> str:
    value = np.asarray(value)
    return f"{float(value):g}" if value.size == 1 else np.array2string(value, threshold=6)


_DOMAIN = {"div": _domain_div, "pow": _domain_pow, "log": _domain_log}


# --- the records --------------------------------------------------------------------------------

OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    for name in (op.name, *op.aliases):
        if name in OPS:  # pragma: no cover - a programming error, caught at import
            raise ValueError(f"operation {name} defined twice")
        OPS[name] = op
    return op


def elementwise(name: str, numpy, partials, sympy, *, arity=(1, 1), **more) -> Op:
    return register(Op(name, kind="elementwise", numpy=numpy, partials=partials, sympy=sympy, arity=arity, **more))


def _x(node, k=0):
    return node.args[k]


def _square(a):
    return mul(a, a)


def _one_minus_square(x):
    """1 - x² as (1 - x)(1 + x): near ±1, 1 - x is exact (Sterbenz), where 1 - x*x loses the digits x*x rounded."""
    return mul(sub(ONE, x), add(ONE, x))


def _sqrt_x2_minus_one(x):
    """√(x² - 1) as √(x - 1)·√(x + 1): exact x - 1 near 1, and no x² to overflow past 1e154."""
    return mul(call("sqrt", sub(x, ONE)), call("sqrt", add(x, ONE)))


# leaves ---------------------------------------------------------------------------------------

register(Op("var", kind="leaf", numpy=None, public=False, complex=None))
register(Op("const", kind="leaf", numpy=None, public=False, complex=None))

# arithmetic -----------------------------------------------------------------------------------

elementwise("neg", np.negative, lambda n: (number(-1.0),), lambda sp: lambda a: -a, public=False,
            mp=lambda mp, a: -a, sample=Sample((-3, 3)))
elementwise("add", np.add, lambda n: (ONE, ONE), lambda sp: lambda a, b: a + b, arity=(2, 2), public=False,
            mp=lambda mp, a, b: a + b, sample=Sample((-3, 3), (-3, 3)), sum_signs=(1, 1))
elementwise("sub", np.subtract, lambda n: (ONE, number(-1.0)), lambda sp: lambda a, b: a - b, arity=(2, 2),
            public=False, mp=lambda mp, a, b: a - b, sample=Sample((-3, 3), (-3, 3)), sum_signs=(1, -1))
elementwise("mul", np.multiply, lambda n: (_x(n, 1), _x(n, 0)), lambda sp: lambda a, b: a * b, arity=(2, 2),
            public=False, mp=lambda mp, a, b: a * b, sample=Sample((-3, 3), (-3, 3)))
elementwise("div", np.divide, lambda n: (div(ONE, _x(n, 1)), div(neg(n), _x(n, 1))), _sympy_divide, arity=(2, 2),
            public=False, mp=lambda mp, a, b: a / b, sample=Sample((-3, 3), (0.5, 3)))


def _pow_partials(node):
    a, b = node.args
    exponent = ir.constant_value(b)
    if exponent is not None and exponent.ndim == 0 and float(exponent) == 2:
        da = mul(number(2.0), a)
    elif exponent is not None and exponent.ndim == 0 and float(exponent) == 1:
        da = broadcast_to(ONE, a.shape)
    else:
        da = mul(b, call("pow_shift", a, b, ONE))
    db = None if b.is_constant else mul(node, call("log", a))
    return da, db


def _pow_shift(a, b, k):
    """a**(b - k) with the rounding error e of b - k carried as a factor a**e: rounded, b - k costs |ln a| of its
    ulps (x**0.1's derivative at 1e300: 146 ulps). TwoSum (Knuth) gives e exactly; at a = 0, a**(b - k) is the limit."""
    s = b - k
    moved = s - b
    e = (b - (s - moved)) + (-k - moved)  # s + e = b - k exactly
    out = np.power(a, s)
    fix = (e != 0) & (a != 0)
    if np.any(fix):
        out = np.where(fix, out * np.power(a, np.where(fix, e, 0.0)), out)
    return out


def _pow_shift_partials(node):
    a, b, k = node.args
    return (mul(sub(b, k), call("pow_shift", a, b, number(float(ir.constant_value(k)) + 1))),
            None if b.is_constant else mul(node, call("log", a)), None)


def _sympy_power(sp):
    def power(base, exponent):
        """base**exponent, refused before sympy starts on a huge exact power such as 9**9**9."""
        if exponent.is_Number:
            if abs(exponent) > MAX_EXPONENT:
                raise LimitError(f"exponent {_sympy_short(exponent)} is too large (limit {MAX_EXPONENT})")
            if base.is_number and not base.free_symbols and base not in (0, 1, -1):
                size = _magnitude_digits(sp, base)
                digits = None if size is None else size * abs(float(exponent))
                if digits is not None and digits > MAX_EXPONENT:
                    raise LimitError(f"{_sympy_short(base)}**{_sympy_short(exponent)} is too large to compute "
                                     f"(about {digits:.0f} digits; limit {MAX_EXPONENT})")
        elif exponent.is_number and not exponent.free_symbols and base.is_number and not base.free_symbols:
            size = _magnitude_digits(sp, exponent)
            if size is None or size > math.log10(MAX_EXPONENT):
                raise LimitError(f"exponent {_sympy_short(exponent)} is too large (limit {MAX_EXPONENT})")
        return sp.Pow(base, exponent)

    return power


def _magnitude_digits(sp, value) -> float | None:
    """Decimal digits needed to write a constant exactly (rationals) or its size (anything else)."""
    if value.is_Rational:  # p/q: both halves are written out
        return math.log10(abs(int(value.p))) + math.log10(int(value.q))
    try:
        approx = sp.Abs(value).evalf(15)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    if not isinstance(approx, sp.Float) or approx == 0:
        return None
    _, mantissa, exponent, bits = approx._mpf_
    return abs(exponent + bits) * math.log10(2)


def _sympy_short(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"


elementwise("pow", _power, _pow_partials, _sympy_power, arity=(2, 2), public=False,
            mp=lambda mp, a, b: mp.power(a, b), sample=Sample((0.5, 3), (-2, 2)),
            complex=lambda a, b: np.power(a, b))
elementwise("pow_shift", _pow_shift, _pow_shift_partials, None, arity=(3, 3), public=False, internal=True,
            mp=lambda mp, a, b, k: mp.power(a, b - k),
            complex=lambda a, b, k: np.power(a, b - k))  # a**(b - k), k a constant: pow's derivatives

# elementary functions -------------------------------------------------------------------------

elementwise("sin", np.sin, lambda n: (call("cos", _x(n)),), lambda sp: sp.sin, summary="sine",
            example="sin(x)", mp=lambda mp, x: mp.sin(x), sample=Sample((-3, 3)))
elementwise("cos", np.cos, lambda n: (neg(call("sin", _x(n))),), lambda sp: sp.cos, summary="cosine",
            example="cos(x)", mp=lambda mp, x: mp.cos(x), sample=Sample((-3, 3)))
elementwise("tan", np.tan, lambda n: (add(ONE, mul(n, n)),), lambda sp: sp.tan, summary="tangent",
            example="tan(x)", mp=lambda mp, x: mp.tan(x), sample=Sample((-1.4, 1.4)))
elementwise("sec", lambda x: 1 / np.cos(x), lambda n: (mul(n, call("tan", _x(n))),), lambda sp: sp.sec,
            summary="secant, 1/cos(x)", example="sec(x)", mp=lambda mp, x: mp.sec(x), sample=Sample((-1.4, 1.4)))
elementwise("csc", lambda x: 1 / np.sin(x), lambda n: (neg(mul(n, call("cot", _x(n)))),), lambda sp: sp.csc,
            summary="cosecant, 1/sin(x)", example="csc(x)", mp=lambda mp, x: mp.csc(x), sample=Sample((0.2, 3)))
elementwise("cot", lambda x: 1 / np.tan(x), lambda n: (neg(add(ONE, mul(n, n))),), lambda sp: sp.cot,
            summary="cotangent, 1/tan(x)", example="cot(x)", mp=lambda mp, x: mp.cot(x), sample=Sample((0.2, 3)))
elementwise("asin", np.arcsin, lambda n: (div(ONE, call("sqrt", _one_minus_square(_x(n)))),), lambda sp: sp.asin,
            summary="inverse sine", example="asin(x)", aliases=("arcsin",), mp=lambda mp, x: mp.asin(x),
            sample=Sample((-0.9, 0.9)))
elementwise("acos", np.arccos, lambda n: (div(number(-1.0), call("sqrt", _one_minus_square(_x(n)))),),
            lambda sp: sp.acos, summary="inverse cosine", example="acos(x)", aliases=("arccos",),
            mp=lambda mp, x: mp.acos(x), sample=Sample((-0.9, 0.9)))
elementwise("atan", np.arctan, lambda n: (div(ONE, add(ONE, _square(_x(n)))),), lambda sp: sp.atan,
            summary="inverse tangent", example="atan(x)", aliases=("arctan",), mp=lambda mp, x: mp.atan(x),
            sample=Sample((-3, 3)))
elementwise("sinh", np.sinh, lambda n: (call("cosh", _x(n)),), lambda sp: sp.sinh, summary="hyperbolic sine",
            example="sinh(x)", mp=lambda mp, x: mp.sinh(x), sample=Sample((-3, 3)))
elementwise("cosh", np.cosh, lambda n: (call("sinh", _x(n)),), lambda sp: sp.cosh, summary="hyperbolic cosine",
            example="cosh(x)", mp=lambda mp, x: mp.cosh(x), sample=Sample((-3, 3)))
# tanh′ = sech², its own operation computed as 1/cosh², not 1 − tanh²: that cancels to 0 for |x| ≳ 19 (tanh′(40)
# = 7.2e-35), and loses ~188 ulps on average where it does not (measured against mpmath). sech²′ = −2 tanh sech²,
# so the k-th derivative stays a polynomial in tanh and sech² (1/cosh² differentiated as a quotient grew to 22,480
# nodes at order 20, 1.8 GB over 10⁴ --points, and cancelled to 5 digits)
elementwise("tanh", np.tanh, lambda n: (call("sech2", _x(n)),), lambda sp: sp.tanh,
            summary="hyperbolic tangent", example="tanh(x)", mp=lambda mp, x: mp.tanh(x), sample=Sample((-3, 3)))


def _sech2(x):
    with np.errstate(over="ignore"):
        c = np.cosh(x)  # inf beyond |x| ≈ 710: sech² is 0 there, as it rounds
    return 1 / (c * c)


elementwise("sech2", _sech2, lambda n: (mul(number(-2.0), mul(call("tanh", _x(n)), n)),),
            lambda sp: lambda a: sp.sech(a) ** 2, public=False, internal=True, mp=lambda mp, x: mp.sech(x) ** 2,
            sample=Sample((-3, 3)), complex=lambda z: 1 / np.cosh(z) ** 2)

elementwise("asinh", np.arcsinh, lambda n: (div(ONE, call("hypot", _x(n), ONE)),),  # x² overflows past 1e154
            lambda sp: sp.asinh, summary="inverse hyperbolic sine", example="asinh(x)", aliases=("arcsinh",),
            mp=lambda mp, x: mp.asinh(x), sample=Sample((-3, 3)))
elementwise("acosh", np.arccosh, lambda n: (div(ONE, _sqrt_x2_minus_one(_x(n))),),
            lambda sp: sp.acosh, summary="inverse hyperbolic cosine", example="acosh(x)", aliases=("arccosh",),
            mp=lambda mp, x: mp.acosh(x), sample=Sample((1.1, 4)))
elementwise("atanh", np.arctanh, lambda n: (div(ONE, _one_minus_square(_x(n))),),
            lambda sp: sp.atanh, summary="inverse hyperbolic tangent", example="atanh(x)", aliases=("arctanh",),
            mp=lambda mp, x: mp.atanh(x), sample=Sample((-0.9, 0.9)))
elementwise("exp", np.exp, lambda n: (n,), lambda sp: sp.exp, summary="e to the power x", example="exp(x)",
            mp=lambda mp, x: mp.exp(x), sample=Sample((-3, 3)))
elementwise("expm1", np.expm1, lambda n: (call("exp", _x(n)),), _c99("expm1"),
            summary="exp(x) - 1, accurate for small x", example="expm1(x)", mp=lambda mp, x: mp.expm1(x),
            sample=Sample((-3, 3)))


def _log_partials(node):
    if len(node.args) == 1:
        return (div(ONE, _x(node)),)
    x, base = node.args
    log_base = call("log", base)
    return (div(ONE, mul(x, log_base)),
            None if base.is_constant else div(neg(call("log", x)), mul(mul(base, log_base), log_base)))


elementwise("log", _log, _log_partials, _sympy_log, arity=(1, 2), aliases=("ln",),
            summary="natural logarithm; log(x, b) to base b", example="log(x); log(x, 2)",
            mp=lambda mp, x, *b: mp.log(x, *b), sample=Sample((0.2, 4)))
elementwise("log1p", np.log1p, lambda n: (div(ONE, add(ONE, _x(n))),), _c99("log1p"),
            summary="log(1 + x), accurate for small x", example="log1p(x)", mp=lambda mp, x: mp.log1p(x),
            sample=Sample((-0.5, 3)))
elementwise("log2", np.log2, lambda n: (div(ir.const(LOG2_E, None, "log2(e)"), _x(n)),), _c99("log2"),
            summary="logarithm to base 2", example="log2(x)", mp=lambda mp, x: mp.log(x, 2),
            sample=Sample((0.2, 4)))
elementwise("log10", np.log10, lambda n: (div(ir.const(LOG10_E, None, "log10(e)"), _x(n)),), _c99("log10"),
            summary="logarithm to base 10", example="log10(x)", mp=lambda mp, x: mp.log10(x),
            sample=Sample((0.2, 4)))
elementwise("sqrt", np.sqrt, lambda n: (div(number(0.5), n),), lambda sp: sp.sqrt, summary="square root",
            example="sqrt(x)", mp=lambda mp, x: mp.sqrt(x), sample=Sample((0.2, 4)))
elementwise("cbrt", np.cbrt, lambda n: (div(ONE, mul(number(3.0), mul(n, n))),),
            _defined("cbrt", derivative=lambda sp, x: 1 / (3 * _sympy("cbrt", sp)(x) ** 2),
                     definition=lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
                     value=lambda sp, x: sp.real_root(x, 3) if x.is_number and x.is_extended_real else None),
            summary="real cube root (negative for negative x)", example="cbrt(x)",
            mp=lambda mp, x: mp.cbrt(x) if x >= 0 else -mp.cbrt(-x), sample=Sample((-4, -0.2)),
            complex=_cbrt_complex, code={"numpy": ("np.cbrt({0})", None), "c": ("cbrt({0})", None)})
elementwise("abs", np.abs, lambda n: (call("sign", _x(n)),), lambda sp: sp.Abs, summary="absolute value",
            example="abs(x)", kink=lambda x: x == 0, complex=None, mp=lambda mp, x: abs(x),
            sample=Sample(((-3, -0.1), (0.1, 3)), kinks=((0.0,),)))
elementwise("sign", np.sign, lambda n: (None,), lambda sp: sp.sign, summary="sign of x: -1, 0 or 1",
            example="sign(x)", kink=lambda x: x == 0, complex=None, mp=lambda mp, x: mp.sign(x),
            sample=Sample(((-3, -0.1), (0.1, 3)), kinks=((0.0,),)))
elementwise("sigmoid", _sigmoid, lambda n: (mul(n, call("sigmoid", neg(_x(n)))),),
            _defined("sigmoid", derivative=lambda sp, x: _sympy("sigmoid", sp)(x) * _sympy("sigmoid", sp)(-x),
                     definition=lambda sp, x: 1 / (1 + sp.exp(-x)),  # s(x) s(-x) = s(1 - s) without cancellation
                     value=lambda sp, x: sp.Rational(1, 2) if x.is_zero else None),
            summary="logistic function 1/(1+exp(-x))", example="sigmoid(x)", complex=_sigmoid_complex,
            mp=lambda mp, x: 1 / (1 + mp.exp(-x)), sample=Sample((-5, 5)),
            code={"numpy": ("_sigmoid({0})", '''
def _sigmoid(x):
    e = np.exp(-abs(x))  # never overflows
    return 1 / (1 + e) if x >= 0 else e / (1 + e)
'''), "c": ("jaccli_sigmoid({0})", '''
static double jaccli_sigmoid(double x)
{
    const double e = exp(-fabs(x)); /* never overflows */
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
''')})
elementwise("softplus", lambda x: np.logaddexp(0.0, x), lambda n: (call("sigmoid", _x(n)),),
            _defined("softplus", derivative=lambda sp, x: _sympy("sigmoid", sp)(x),
                     definition=lambda sp, x: sp.log(1 + sp.exp(x))),
            summary="log(1+exp(x)), computed stably", example="softplus(x)", complex=_softplus_complex,
            mp=lambda mp, x: mp.log1p(mp.exp(x)), sample=Sample((-5, 5)),
            code={"numpy": ("_softplus({0})", '''
def _softplus(x):
    return np.logaddexp(0.0, x)  # log(1 + exp(x)) without overflow
'''), "c": ("jaccli_softplus({0})", '''
static double jaccli_softplus(double x)
{
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x))); /* log(1 + exp(x)) without overflow */
}
''')})
elementwise("relu", lambda x: np.maximum(x, 0.0), lambda n: (call("step", _x(n)),),
            _defined("relu", derivative=lambda sp, x: sp.Heaviside(x), definition=lambda sp, x: sp.Max(x, 0),
                     value=lambda sp, x: sp.Max(x, 0) if x.is_number and x.is_extended_real else None),
            summary="max(x, 0); its derivative at 0 is taken as 1/2 and flagged", example="relu(x)",
            kink=lambda x: x == 0, complex=None, mp=lambda mp, x: max(x, 0),
            sample=Sample(((-3, -0.1), (0.1, 3)), kinks=((0.0,),)),
            code={"numpy": ("np.maximum({0}, 0.0)", None), "c": ("jaccli_relu({0})", '''
static double jaccli_relu(double x)
{
    return x < 0 ? 0.0 : x;
}
''')})
def _mp_step(mp, x):
    """numpy's heaviside(x, 0.5) in mpmath numbers."""
    return mp.mpf("nan") if x != x else mp.mpf(1) if x > 0 else mp.mpf(0) if x < 0 else mp.mpf(0.5)


elementwise("step", lambda x: np.heaviside(x, 0.5), lambda n: (None,), lambda sp: sp.Heaviside, public=False,
            complex=None, internal=True, mp=_mp_step)
elementwise("erf", _erf, lambda n: (mul(div(number(2.0), call("sqrt", PI)), call("exp", neg(_square(_x(n))))),),
            lambda sp: sp.erf, summary="error function", example="erf(x)", complex=None,
            mp=lambda mp, x: mp.erf(x), sample=Sample((-2, 2)))

def _entrywise(scalar):
    """A float function of Python's math module (or one like it) as a numpy form, entry by entry in float64."""
    ufunc = np.frompyfunc(scalar, 1, 1)
    return lambda x: np.asarray(ufunc(np.asarray(x, dtype=float)), dtype=float)


elementwise("erfc", _entrywise(math.erfc),
            lambda n: (mul(div(number(-2.0), call("sqrt", PI)), call("exp", neg(_square(_x(n))))),),
            lambda sp: sp.erfc, summary="complementary error function 1 - erf(x), accurate where erf(x) is near 1",
            example="erfc(x)", complex=None, mp=lambda mp, x: mp.erfc(x), sample=Sample((-2, 4)))


# the gamma family ------------------------------------------------------------------------------
# Γ and log|Γ| from Python's math module (a few ulps), entry by entry; their derivatives are polygamma(n, x), the
# (n+1)-th derivative of log Γ, computed here: upward recurrence to x ≥ 20 + n, then the asymptotic series; for x < 0
# the reflection formula first. A pole gives ±inf or NaN as scipy.special does.


def _gamma_entry(x: float) -> float:
    try:
        return math.gamma(x)
    except OverflowError:  # x > 171.6: beyond a double
        return math.inf
    except ValueError:  # a pole: ±inf at ±0 (the sign of the zero), NaN at a negative integer and at -inf
        return math.copysign(math.inf, x) if x == 0 else math.nan


def _lgamma_entry(x: float) -> float:
    try:
        return math.lgamma(x)
    except ValueError:  # a pole of Γ: log|Γ| is +inf there
        return math.inf
    except OverflowError:  # |x| beyond about 2.6e305: log|Γ| is beyond a double
        return math.inf


MAX_POLYGAMMA = 100  # the largest order n of polygamma(n, x) typed (derivatives go 20 further: --order's limit)
# B_2, B_4, …, B_20: the asymptotic series of ψ⁽ⁿ⁾
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)


def _psi(n: int, x: np.ndarray) -> np.ndarray:
    """ψ⁽ⁿ⁾(x) for real x (float64 arrays), n ≥ 0."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        out[pole] = np.inf if n % 2 else np.nan  # odd n: +inf from both sides; even n: ±inf, so no value
        out[x == np.inf] = 0.0 if n else np.inf
        positive = (x > 0) & np.isfinite(x)
        out[positive] = _psi_positive(n, x[positive])
        negative = (x < 0) & ~pole & np.isfinite(x)
        if negative.any():
            xn = x[negative]
            r = xn - np.round(xn)  # exact: cot(πx) and Σ (x + k)⁻ⁿ⁻¹ over all integers k depend on it alone
            if n == 0:  # the reflection formula ψ(x) = ψ(1 − x) − π cot(πx)
                out[negative] = _psi_positive(0, 1 - xn) - math.pi / np.tan(math.pi * r)
            else:  # its n-th derivative, with πⁿ⁺¹ cot⁽ⁿ⁾(πx) = (−1)ⁿ n! Σ_k (r + k)⁻ⁿ⁻¹ summed in pairs ±k
                out[negative] = (-1) ** n * (_psi_positive(n, 1 - xn) - math.factorial(n) * _pole_sum(n, r))
    return out


def _pole_sum(n: int, r: np.ndarray) -> np.ndarray:
    """Σ over all integers k of (r + k)⁻ⁿ⁻¹, n ≥ 1, |r| ≤ 1/2: the terms |k| ≤ K in pairs (for even n the pair ±k
    nearly cancels, and exactly at r = ±1/2), smallest first, the two tails from ψ⁽ⁿ⁾ at K + 1 ± r."""
    m = n + 1
    top = 20 + n
    total = np.zeros_like(r)
    for k in range(top, 0, -1):
        total += (r + k) ** -m + (r - k) ** -m
    factorial = float(math.factorial(n))
    tails = ((-1) ** m * _psi_positive(n, top + 1 + r) + _psi_positive(n, top + 1 - r)) / factorial
    return tails + total + r ** -m


def _psi_positive(n: int, x: np.ndarray) -> np.ndarray:
    y = x.copy()
    near = np.zeros_like(y)  # the terms the recurrence ψ⁽ⁿ⁾(y) = ψ⁽ⁿ⁾(y + 1) + (−1)ⁿ⁺¹ n!/yⁿ⁺¹ moves out
    factorial = float(math.factorial(n))
    sign = -1.0 if n % 2 == 0 else 1.0
    top = 20.0 + n
    while True:
        low = y < top
        if not low.any():
            break
        near[low] += sign * factorial / y[low] ** (n + 1)
        y[low] += 1.0
    t = 1 / y
    t2 = t * t
    series = np.zeros_like(y)
    for k in range(len(_BERNOULLI), 0, -1):  # Σ B_2k C(2k+n−1, 2k) t^2k, highest term first
        weight = _BERNOULLI[k - 1] / (2 * k) if n == 0 else _BERNOULLI[k - 1] * math.comb(2 * k + n - 1, 2 * k)
        series = (series + weight) * t2
    if n == 0:
        far = np.log(y) - t / 2 - series
    else:
        far = sign * float(math.factorial(n - 1)) * t ** n * (1 + n * t / 2 + series)
    return far + near


def _polygamma(n, x):
    n, x = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(x, dtype=float))
    out = np.full(x.shape, np.nan)
    for order in np.unique(n[np.isfinite(n)]):
        where = n == order
        out[where] = _psi(int(order), x[where])
    return out


def _polygamma_make(n, x):
    order = _constant(n)
    if order is None or np.ndim(order) or not float(order).is_integer() or not 0 <= order <= MAX_POLYGAMMA:
        raise JaccliError(f"polygamma(n, x) needs n a whole number from 0 to {MAX_POLYGAMMA}, not an expression: "
                          "it is the order of the derivative")
    return call("polygamma", number(float(order)), x)


_POLYGAMMA_PY = '''
def _polygamma(n, x):
    """psi^(n)(x): for x > 0 the recurrence to x >= 20 + n, then the asymptotic series; the reflection for x < 0."""
    n, x = int(n), np.float64(x)  # numpy scalars: an overflow is inf, not an exception
    if x <= 0 and x == np.floor(x):
        return np.inf if n % 2 else np.nan
    if x < 0:
        r = x - np.round(x)
        if n == 0:
            return _polygamma(0, 1 - x) - np.pi / np.tan(np.pi * r)
        top = 20 + n
        total = np.float64(0.0)
        for k in range(top, 0, -1):
            total += (r + k) ** -(n + 1) + (r - k) ** -(n + 1)
        tails = ((-1) ** (n + 1) * _polygamma(n, top + 1 + r) + _polygamma(n, top + 1 - r)) / math.factorial(n)
        return (-1) ** n * (_polygamma(n, 1 - x) - math.factorial(n) * (tails + total + r ** -(n + 1)))
    bernoulli = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)
    sign = -1.0 if n % 2 == 0 else 1.0
    near = np.float64(0.0)
    while x < 20 + n:
        near += sign * math.factorial(n) / x ** (n + 1)
        x += 1.0
    t = 1 / x
    series = 0.0
    for k in range(len(bernoulli), 0, -1):
        weight = bernoulli[k - 1] / (2 * k) if n == 0 else bernoulli[k - 1] * math.comb(2 * k + n - 1, 2 * k)
        series = (series + weight) * t * t
    if n == 0:
        return np.log(x) - t / 2 - series + near
    return sign * math.factorial(n - 1) * t ** n * (1 + n * t / 2 + series) + near
'''
_POLYGAMMA_C = '''
static double jaccli_polygamma(int n, double x)
{
    /* psi^(n)(x): for x > 0 the recurrence to x >= 20 + n, then the asymptotic series; the reflection for x < 0 */
    static const double bernoulli[10] = {1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730,
                                         7.0 / 6, -3617.0 / 510, 43867.0 / 798, -174611.0 / 330};
    const double pi = 3.141592653589793;
    double factorial = 1.0, near = 0.0, sign = n % 2 == 0 ? -1.0 : 1.0, series = 0.0, t;
    for (int k = 2; k <= n; ++k)
        factorial *= k;
    if (x <= 0 && x == floor(x))
        return n % 2 ? HUGE_VAL : NAN;
    if (x < 0) {
        const double r = x - round(x);
        const int top = 20 + n;
        double total = 0.0, tails;
        if (n == 0)
            return jaccli_polygamma(0, 1 - x) - pi / tan(pi * r);
        for (int k = top; k >= 1; --k)
            total += pow(r + k, -(n + 1)) + pow(r - k, -(n + 1));
        tails = (n % 2 ? 1.0 : -1.0) * jaccli_polygamma(n, top + 1 + r) + jaccli_polygamma(n, top + 1 - r);
        tails /= factorial;
        return (n % 2 ? -1.0 : 1.0) * (jaccli_polygamma(n, 1 - x) - factorial * (tails + total + pow(r, -(n + 1))));
    }
    for (; x < 20 + n; x += 1.0)
        near += sign * factorial / pow(x, n + 1);
    t = 1.0 / x;
    for (int k = 10; k >= 1; --k) {
        double weight = bernoulli[k - 1];
        if (n == 0)
            weight /= 2 * k;
        else
            for (int j = 1; j <= 2 * k; ++j) /* C(2k + n - 1, 2k) */
                weight *= (double)(n - 1 + j) / j;
        series = (series + weight) * t * t;
    }
    if (n == 0)
        return log(x) - t / 2 - series + near;
    return sign * (factorial / n) * pow(t, n) * (1 + n * t / 2 + series) + near;
}
'''

def _mp_polygamma(mp, n, x):
    """ψ⁽ⁿ⁾(x) in mpmath: its psi, except left of 0, where for n ≥ 1 mpmath's psi loses all its digits (ψ⁽²⁰⁾(−64.5)
    is −6.7e-20; at 15 digits it says −851, at 40 it has 3 digits right) and takes seconds at −1e6: there the
    reflection, with Σ_k (r + k)⁻ⁿ⁻¹ over all integers k as two Hurwitz zetas."""
    n = int(n)
    if x > 0 or not mp.isfinite(x):
        return mp.psi(n, x)
    if x == mp.floor(x):
        return mp.inf if n % 2 else mp.nan
    r = x - mp.nint(x)  # exact
    if n == 0:  # mpmath's psi is slow here too (seconds at −1.2e7)
        return mp.psi(0, 1 - x) - mp.pi * mp.cot(mp.pi * r)
    m = n + 1
    a = abs(r)
    pole_sum = (mp.zeta(m, a) + (-1) ** m * mp.zeta(m, 1 - a)) * (1 if r > 0 else (-1) ** m)
    return (-1) ** n * (mp.psi(n, 1 - x) - mp.factorial(n) * pole_sum)


elementwise("polygamma", _polygamma, lambda n: (None, call("polygamma", number(float(_constant(n.args[0])) + 1),
                                                            _x(n, 1))),
            lambda sp: lambda n, x: _special(sp).polygamma(sp.Integer(int(n)), x), arity=(2, 2), make=_polygamma_make,
            summary="polygamma(n, x): the n-th derivative of digamma, n a whole number (0: digamma)",
            example="polygamma(1, x)", complex=None, mp=_mp_polygamma,
            sample=Sample(((-2.8, -2.2), (0.3, 6))),
            code={"numpy": ("_polygamma({0}, {1})", _POLYGAMMA_PY), "c": ("jaccli_polygamma({0}, {1})", _POLYGAMMA_C)})
register(Op("digamma", kind="composite", numpy=None, make=lambda x: call("polygamma", number(0.0), x),
            aliases=("psi",), summary="digamma ψ(x), the derivative of log Γ(x)", example="digamma(x)", complex=None,
            mp=lambda mp, x: mp.digamma(x), sample=Sample(((-2.8, -2.2), (0.3, 6)))))
elementwise("gamma", _entrywise(_gamma_entry),
            lambda n: (mul(n, call("polygamma", number(0.0), _x(n))),), lambda sp: sp.gamma,
            summary="the gamma function Γ(x); gamma(n + 1) = n!", example="gamma(x)", complex=None,
            mp=lambda mp, x: mp.gamma(x), sample=Sample(((-2.8, -2.2), (0.3, 6))),
            code={"numpy": ("_gamma({0})", '''
def _gamma(x):
    try:
        return math.gamma(x)
    except OverflowError:
        return math.inf
    except ValueError:  # a pole
        return math.copysign(math.inf, x) if x == 0 else math.nan
''')})
elementwise("lgamma", _entrywise(_lgamma_entry),
            lambda n: (call("polygamma", number(0.0), _x(n)),),
            _defined("lgamma", derivative=lambda sp, x: sp.polygamma(0, x),
                     definition=lambda sp, x: sp.log(sp.Abs(sp.gamma(x))),
                     value=lambda sp, x: sp.log(sp.Abs(sp.gamma(x))) if x.is_Rational else None),
            aliases=("gammaln",), summary="log(abs(gamma(x))) without overflow (scipy's gammaln)", example="lgamma(x)",
            complex=None, mp=lambda mp, x: mp.log(abs(mp.gamma(x))), sample=Sample(((-2.8, -2.2), (0.3, 6))),
            code={"numpy": ("_lgamma({0})", '''
def _lgamma(x):
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):  # a pole of gamma, or beyond a double
        return math.inf
'''), "c": ("lgamma({0})", None)})


def _atan2_partials(node):
    y, x = node.args
    r = call("hypot", y, x)  # x/(x² + y²) as x/r/r: x² + y² overflows past 1e154 and underflows below 1e-154
    return div(div(x, r), r), div(div(neg(y), r), r)


elementwise("atan2", np.arctan2, _atan2_partials, lambda sp: sp.atan2, arity=(2, 2),
            summary="atan2(y, x), the angle of the point (x, y)", example="atan2(y, x)", complex=None,
            mp=lambda mp, y, x: mp.atan2(y, x), sample=Sample((0.2, 3), (-3, 3)))
elementwise("hypot", np.hypot, lambda n: (div(_x(n, 0), n), div(_x(n, 1), n)), _c99("hypot"), arity=(2, 2),
            summary="sqrt(x**2 + y**2) without overflow", example="hypot(x, y)",
            complex=lambda x, y: np.sqrt(x * x + y * y), mp=lambda mp, x, y: mp.hypot(x, y),
            sample=Sample((0.2, 3), (-3, 3)))


def _clip_numpy(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _clip_partials(node):
    x, lo, hi = node.args
    return (call("clip_inside", x, lo, hi),  # 1 strictly inside, 0 outside, 1/2 on a bound
            None if lo.is_constant else call("clip_below", x, lo),
            None if hi.is_constant else call("clip_below", neg(x), neg(hi)))


def _clip_inside(x, lo, hi):
    return np.heaviside(x - lo, 0.5) * np.heaviside(hi - x, 0.5)


elementwise("clip", _clip_numpy, _clip_partials, lambda sp: lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
            arity=(3, 3), summary="clip(x, lo, hi): x limited to [lo, hi]", example="clip(x, 0, 1)",
            kink=lambda x, lo, hi: (x == lo) | (x == hi), complex=None,
            mp=lambda mp, x, lo, hi: min(max(x, lo), hi), sample=Sample(((-3, -1.1), (-0.4, 0.4), (1.1, 3)),
                                                                       (-1, -0.5), (0.5, 1),
                                                                       kinks=((0.5, 0.0, 0.5),)))
elementwise("clip_inside", _clip_inside, lambda n: (None, None, None), None, arity=(3, 3), public=False,
            complex=None, internal=True, mp=lambda mp, x, lo, hi: _mp_step(mp, x - lo) * _mp_step(mp, hi - x))
elementwise("clip_below", lambda x, lo: np.heaviside(lo - x, 0.5), lambda n: (None, None), None, arity=(2, 2),
            public=False, complex=None, internal=True, mp=lambda mp, x, lo: _mp_step(mp, lo - x))


# min and max: elementwise with several arguments, a reduction with one ------------------------


def _extreme(name: str, ufunc, reduce_name: str, sympy_name: str, word: str):
    def make(*args, axis=None):
        if axis is not None or len(args) == 1:
            return _reduce_along(reduce_name)(args[0], axis)
        if len(args) == 2 and args[0].shape and args[1].shape == () and _is_whole(args[1]):
            # numpy's np.max(A, 1) reduces along axis 1; jaccli's max(a, b) is elementwise: say which, never guess
            k = int(_constant(args[1]))
            raise JaccliError(f"{name}(A, {k}) is ambiguous for an array A: write {name}(A, axis={k}) for numpy's "
                              f"{name} along axis {k}, or {'maximum' if name == 'max' else 'minimum'}(A, {k}) for "
                              "the elementwise one")
        return call(name, *args)

    def partials(node):
        return tuple(_ties(node, k) for k in range(len(node.args)))

    elementwise(name, _fold(ufunc), partials, lambda sp: getattr(sp, sympy_name), arity=(1, None), make=make,
                takes_axis=True,
                summary=f"{name}(a, b, ...) elementwise; {name}(x) of one array: its {word} entry; "
                        f"{name}(A, axis=k) along axis k",
                example=f"{name}(x, y); {name}(x); {name}(A, axis=0)", complex=None,
                kink=_max_tied if name == "max" else _min_tied, exact=True,
                mp=lambda mp, *a: (max if name == "max" else min)(a),
                sample=Sample((-3, -0.1), (0.1, 3), kinks=((1.0, 1.0),)))


_extreme("max", np.maximum, "amax", "Max", "largest")
_extreme("min", np.minimum, "amin", "Min", "smallest")


def _is_whole(node: ir.Node) -> bool:
    value = _constant(node)
    return value is not None and np.ndim(value) == 0 and float(value).is_integer()


def _pair(name: str, extreme: str, word: str):
    register(Op(name, kind="composite", numpy=None, make=lambda a, b: call(extreme, a, b), arity=(2, 2),
                summary=f"{name}(a, b): the {word} of a and b, elementwise (numpy's {name})",
                example=f"{name}(x, y)", complex=None, mp=lambda mp, a, b: (max if extreme == "max" else min)(a, b),
                sample=Sample((-3, -0.1), (0.1, 3))))


_pair("maximum", "max", "larger")
_pair("minimum", "min", "smaller")


# comparisons (0 or 1, as numpy's booleans in arithmetic) and where -----------------------------------


def _comparison(name: str, symbol: str, ufunc, relation: str):
    elementwise(name, lambda a, b: ufunc(a, b).astype(float), lambda n: (None, None),
                lambda sp: lambda a, b: sp.Piecewise((sp.Integer(1), getattr(sp, relation)(a, b)),
                                                     (sp.Integer(0), True)),
                arity=(2, 2), summary=f"a {symbol} b: 1 where it holds, else 0 (its derivative is 0; flagged where "
                                      "a = b)",
                example=f"x {symbol} y; {name}(x, y)", kink=lambda a, b: a == b, kink_name="comparison",
                complex=lambda a, b: ufunc(np.real(a), np.real(b)) + 0j,
                mp=lambda mp, a, b: 1 if ufunc(float(a), float(b)) else 0,
                sample=Sample(((-3, -0.5), (0.5, 3)), (-0.2, 0.2), kinks=((1.0, 1.0),)))


_comparison("less", "<", np.less, "Lt")
_comparison("less_equal", "<=", np.less_equal, "Le")
_comparison("greater", ">", np.greater, "Gt")
_comparison("greater_equal", ">=", np.greater_equal, "Ge")
_comparison("equal", "==", np.equal, "Eq")
_comparison("not_equal", "!=", np.not_equal, "Ne")


# where's derivative selects the chosen branch's, never multiplies the other's by 0: where(x != 0, sin(x)/x, 1) at 0
# has the unchosen branch's derivative NaN there, and 0·NaN is NaN (JAX's and PyTorch's well-known trap: their
# gradient of this "safe sinc" is NaN at 0; its derivative is 0). The condition's cotangent is 0, not None: reverse
# mode then reaches a comparison below it, whose kink rule flags a point on the boundary (a = b) as abs flags 0.


def _where_jvp(node, tangents):
    c, a, b = node.args
    tc, ta, tb = tangents
    if ta is None and tb is None:
        return None if tc is None else broadcast_to(mul(number(0.0), tc), node.shape)
    zero = number(0.0)
    return broadcast_to(call("where", c, zero if ta is None else ta, zero if tb is None else tb), node.shape)


def _where_vjp(node, g):
    c, a, b = node.args
    zero = number(0.0)
    gc = None if c.is_constant else sum_to(broadcast_to(zero, node.shape), c.shape)
    return [gc, sum_to(call("where", c, g, zero), a.shape), sum_to(call("where", c, zero, g), b.shape)]


elementwise("where", lambda c, a, b: np.where(c != 0, a, b), None,
            lambda sp: lambda c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True)), arity=(3, 3), jvp=_where_jvp,
            vjp=_where_vjp,
            summary="where(cond, a, b): a where cond is not 0, else b; the derivative follows the chosen branch",
            example="where(x > 0, x, 0.1*x)", complex=lambda c, a, b: np.where(np.real(c) != 0, a, b),
            mp=lambda mp, c, a, b: a if c != 0 else b, sample=Sample(((-1, -0.5), (0.5, 1)), (-3, 3), (-3, 3)))

register(Op("tie_share", kind="internal", numpy=_tie_share, arity=(2, None), public=False, complex=None,
            shape=lambda shapes, params: ir.broadcast_shapes(shapes, "tie_share"),
            jvp=lambda n, t: None, vjp=lambda n, g: [None] * len(n.args)))


# reductions -------------------------------------------------------------------------------------


def _scalar(shapes, params):
    return ()


def _reduction(name: str, numpy, *, jvp, vjp, sympy, summary: str, example: str, mp=None, kink=None,
               complex=True, public=True, make=None, arity=(1, 1), shape=_scalar, sample=None, kink_name=None,
               takes_axis=False, exact=False, mp_array=None):
    return register(Op(name, kind="reduction", numpy=numpy, jvp=jvp, vjp=vjp, sympy=sympy, summary=summary,
                       example=example, mp=mp, mp_array=mp_array, kink=kink, complex=complex, public=public,
                       make=make, arity=arity,
                       shape=shape, sample=sample or Sample((-2, 2), shapes=((3,),)), kink_name=kink_name,
                       takes_axis=takes_axis, exact=exact))


def _sum_numpy(node, x):
    return np.sum(x, axis=_own(node))


def _linear_jvp(node, t):
    return None if t[0] is None else call(node.op.name, t[0], params=node.params)


def _axis_shape(shapes, params):
    """A reduction's shape: () over all entries (no params), else the argument's shape without axis params[0]."""
    if not params:
        return ()
    k = params[0]
    return shapes[0][:k] + shapes[0][k + 1:]


def _kept(node, g: ir.Node) -> ir.Node:
    """The cotangent of an axis reduction, with the reduced axis back as length 1 (numpy's keepdims)."""
    k = node.params[0]
    shape = _x(node).shape
    return _reshaped(g, shape[:k] + (1,) + shape[k + 1:])


def _along(name: str):
    """make(x, axis=None): over all entries, or along one axis (negative from the end, as numpy)."""
    def make(x, axis=None):
        if axis is None:
            return ir.apply(name, x)
        return ir.apply(name, x, params=(_axis(axis, len(x.shape), name),))

    return make


def _to_last(x: ir.Node, k: int) -> ir.Node:
    """x with axis k moved to the end (a transpose; x itself when k is already last)."""
    rank = len(x.shape)
    if k == rank - 1:
        return x
    return call("transpose", x, params=(tuple(i for i in range(rank) if i != k) + (k,),))


def _from_last(y: ir.Node, k: int) -> ir.Node:
    """The inverse of _to_last: the last axis of y back to position k."""
    rank = len(y.shape)
    if k == rank - 1:
        return y
    return call("transpose", y, params=(_inverse(tuple(i for i in range(rank) if i != k) + (k,)),))


def _reduce_along(name: str):
    """make(x, axis=None) of a reduction whose records reduce all entries, or (params (last,)) the last axis:
    along another axis k, x is transposed to bring k last (numpy's axis, negative from the end)."""
    what = {"amax": "max", "amin": "min"}.get(name, name)

    def make(x, axis=None):
        if axis is None or len(x.shape) <= 1:
            if axis is not None:
                _axis(axis, len(x.shape), what)  # a vector's axis 0 (or -1) is all of it; any other is refused
            return call(name, x)
        k = _axis(axis, len(x.shape), what)
        return call(name, _to_last(x, k), params=(len(x.shape) - 1,))

    return make


def _along_last(name: str):
    """make(x, axis=None) of an operation along the last axis (softmax, cumsum): along axis k, transposed there
    and back."""
    def make(x, axis=None):
        if axis is None or not x.shape:
            return call(name, x)
        k = _axis(axis, len(x.shape), name)
        return _from_last(call(name, _to_last(x, k)), k)

    return make


def _g_kept(node: ir.Node, g: ir.Node) -> ir.Node:
    """A reduction's cotangent broadcast back over its argument (along the reduced axis, or everywhere)."""
    return broadcast_to(_kept(node, g) if node.params else g, _x(node).shape)


def _last(node) -> int | tuple[int, ...]:
    """The numpy axes a reduction node reduces: the last one (params), or all of its argument's own axes."""
    return -1 if node.params else _own(node)


def _rows_sympy(fn):
    """A sympy form reducing all entries, or (params) each row along the last axis, with ``fn(entries)``."""
    def lower(sp, node, x):
        if not node.params:
            return _obj(fn(sp, list(x.flat)))
        out = np.empty(node.shape, dtype=object)
        for index in np.ndindex(node.shape):
            out[index] = fn(sp, list(x[index]))
        return out

    return lower


def _sum_axis_numpy(node, x):
    if node.params:
        return np.sum(x, axis=node.params[0] - len(node.args[0].shape))
    return _sum_numpy(node, x)


def _mean_axis_numpy(node, x):
    if node.params:
        return np.mean(x, axis=node.params[0] - len(node.args[0].shape))
    return np.mean(x, axis=_own(node)) if node.args[0].shape else x + 0.0


def _sum_vjp(n, g):
    return [broadcast_to(_kept(n, g) if n.params else g, _x(n).shape)]


def _mean_vjp(n, g):
    count = _x(n).shape[n.params[0]] if n.params else max(_x(n).size, 1)
    return [broadcast_to(div(_kept(n, g) if n.params else g, number(count)), _x(n).shape)]


def _sum_sympy(sp, node, x, mean=False):
    if not node.params:
        total = sp.Add(*x.flat)
        return _obj(total / x.size if mean else total)
    k = node.params[0]
    out = np.empty(node.shape, dtype=object)
    for index in np.ndindex(node.shape):
        line = x[index[:k] + (slice(None),) + index[k:]]
        out[index] = sp.Add(*line) / (x.shape[k] if mean else 1)
    return out


_reduction("sum", _sum_axis_numpy, jvp=_linear_jvp, vjp=_sum_vjp, make=_along("sum"), arity=(1, 2), takes_axis=True,
           shape=_axis_shape, sympy=_sum_sympy, summary="sum of all entries; sum(A, axis) along one axis",
           example="sum(x); sum(A, 0); sum(A, axis=-1)", mp=lambda mp, x: mp.fsum(x))
_reduction("mean", _mean_axis_numpy, jvp=_linear_jvp, vjp=_mean_vjp, make=_along("mean"), arity=(1, 2), takes_axis=True,
           shape=_axis_shape, sympy=lambda sp, node, x: _sum_sympy(sp, node, x, mean=True),
           summary="mean of all entries; mean(A, axis) along one axis", example="mean(x); mean(A, axis=1)",
           mp=lambda mp, x: mp.fsum(x) / len(x))


def _prod_others_last(flat):
    """Along the last axis, the product of all the other entries: prefix times suffix products, exact with zeros."""
    ones = np.ones(flat.shape[:-1] + (1,))
    before = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    after = np.concatenate([np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    return before * after


def _flatten_own(node, x, k=0):
    if node.params:  # along the last axis only: each row on its own
        return x
    own = len(node.args[k].shape)
    return x.reshape(x.shape[:x.ndim - own] + (-1,))


def _prod_others(node, x):
    return _prod_others_last(_flatten_own(node, x)).reshape(x.shape)


def _prod_others_jvp_numpy(node, x, t):
    """d prod_others(x) · t: entry i is the sum over j != i of t_j times the product of all but i and j."""
    x, t = np.broadcast_arrays(x, t)
    flat_x, flat_t = _flatten_own(node, x), _flatten_own(node, t)
    out = np.zeros(flat_x.shape, dtype=np.result_type(flat_x, flat_t))
    for j in range(flat_x.shape[-1]):  # O(n²): only second derivatives of prod reach this
        others = flat_x.copy()
        others[..., j] = 1.0
        partial = _prod_others_last(others)
        partial[..., j] = 0.0
        out += flat_t[..., j:j + 1] * partial
    return out.reshape(x.shape)


def _others(n: ir.Node) -> ir.Node:
    return call("prod_others", _x(n), params=n.params)


_reduction("prod", lambda node, x: np.prod(x, axis=_last(node)), make=_reduce_along("prod"), arity=(1, 2),
           takes_axis=True, shape=_axis_shape,
           jvp=lambda n, t: None if t[0] is None else call("sum", mul(_others(n), t[0]), params=n.params),
           vjp=lambda n, g: [mul(_g_kept(n, g), _others(n))],
           sympy=_rows_sympy(lambda sp, row: sp.Mul(*row)),
           summary="product of all entries; prod(A, axis) along one axis", example="prod(x); prod(A, 1)",
           mp=lambda mp, x: mp.fprod(x), sample=Sample((0.5, 2), shapes=((3,),)))
# (params: along the last axis only, as the prod node's)
register(Op("prod_others", kind="internal", numpy=_prod_others, public=False, complex=_prod_others,
            shape=lambda shapes, params: shapes[0],
            jvp=lambda n, t: None if t[0] is None else call("prod_others_jvp", _x(n), t[0], params=n.params),
            vjp=lambda n, g: [call("prod_others_jvp", _x(n), g, params=n.params)]))  # symmetric Jacobian
register(Op("prod_others_jvp", kind="internal", numpy=_prod_others_jvp_numpy, arity=(2, 2), public=False,
            complex=_prod_others_jvp_numpy, shape=lambda shapes, params: ir.broadcast_shapes(shapes, "prod"),
            jvp=lambda n, t: None if t[1] is None else call("prod_others_jvp", _x(n), t[1], params=n.params),
            vjp=lambda n, g: [None, call("prod_others_jvp", _x(n), g, params=n.params)]))


def _norm_numpy(node, x):
    """√(Σ x²) with x scaled by the power of 2 nearest its largest entry: x² neither overflows past 1e154 nor
    underflows below 1e-154 (the norm of 70 entries of 1e-160 was 1e-9 off, unseen by the estimate), and the
    scaling is exact, so in between the result is the same to the last bit."""
    axis = _last(node)
    top = np.max(np.abs(x), axis=axis, keepdims=True)
    _, exponent = np.frexp(np.where(np.isfinite(top) & (top > 0), top, 1.0))
    scaled = np.ldexp(x, -exponent)
    return np.ldexp(np.sqrt(np.sum(scaled * scaled, axis=axis)), np.squeeze(exponent, axis=axis))


def _norm_mp(node, x):
    """√(Σ x²) in mpmath numbers: their exponents do not overflow."""
    import mpmath

    return np.frompyfunc(mpmath.sqrt, 1, 1)(np.sum(x * x, axis=_last(node)))


_reduction("norm", _norm_numpy, make=_reduce_along("norm"),
           mp_array=_norm_mp, complex=lambda node, z: np.sqrt(np.sum(z * z, axis=_last(
           node))), takes_axis=True, shape=_axis_shape,  # axis= only: numpy's second positional argument is ord
           jvp=lambda n, t: None if t[0] is None else div(call("sum", mul(_x(n), t[0]), params=n.params), n),
           vjp=lambda n, g: [mul(_g_kept(n, g), div(_x(n), _kept(n, n) if n.params else n))],
           sympy=_rows_sympy(lambda sp, row: sp.sqrt(sp.Add(*(e**2 for e in row)))),
           summary="Euclidean norm of all entries; norm(A, axis=k) of each line along axis k",
           example="norm(x); norm(A, axis=1)",
           mp=lambda mp, x: mp.sqrt(mp.fsum(v * v for v in x)), sample=Sample((0.5, 2), shapes=((3,),)))


def _dot_make(a, b):
    if a.shape != b.shape:
        raise ShapeError(f"dot(a, b) needs equal shapes, got {ir.shape_text(a.shape)} and {ir.shape_text(b.shape)}")
    return call("sum", call("mul", a, b))


register(Op("dot", kind="composite", numpy=None, make=_dot_make, arity=(2, 2),
            summary="dot(a, b): sum of a*b, same shapes", example="dot(x, y)", complex=None,
            mp=lambda mp, a, b: mp.fsum(x * y for x, y in zip(a, b)), sample=Sample((-2, 2), (-2, 2),
                                                                                   shapes=((3,), (3,)))))


def _logsumexp_numpy(node, x):
    if node.params:
        return sm.logsumexp(x, axis=-1)
    own = len(node.args[0].shape)
    flat = x.reshape(x.shape[:x.ndim - own] + (-1,))
    return sm.logsumexp(flat, axis=-1)


def _logsumexp_complex(node, z):
    own = len(node.args[0].shape)
    flat = z if node.params else z.reshape(z.shape[:z.ndim - own] + (-1,))
    top = np.max(flat.real, axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.sum(np.exp(flat - top), axis=-1))


def _flat_softmax(x: ir.Node) -> ir.Node:
    """softmax over all entries of x, shaped like x."""
    if len(x.shape) <= 1:
        return call("softmax", x)
    return call("reshape", call("softmax", call("reshape", x, params=((x.size,),))), params=(x.shape,))


def _lse_softmax(n: ir.Node) -> ir.Node:
    """The derivative of logsumexp: softmax of all entries, or (params) of each row along the last axis."""
    return call("softmax", _x(n)) if n.params else _flat_softmax(_x(n))


_reduction("logsumexp", _logsumexp_numpy, make=_reduce_along("logsumexp"), arity=(1, 2), takes_axis=True,
           shape=_axis_shape,
           jvp=lambda n, t: None if t[0] is None else call("sum", mul(_lse_softmax(n), t[0]), params=n.params),
           vjp=lambda n, g: [mul(_g_kept(n, g), _lse_softmax(n))],
           sympy=_rows_sympy(lambda sp, row: _special(sp).LogSumExp(*row)),
           summary="log(sum(exp(x))), computed stably; logsumexp(A, axis) along one axis",
           example="logsumexp(x); logsumexp(A, 1)", complex=_logsumexp_complex,
           mp=lambda mp, x: mp.log(mp.fsum(mp.exp(v) for v in x)))


def _extreme_reduction(name: str, reduce, sympy_name: str):
    def tied(node, x):
        top = reduce(x, axis=_last(node), keepdims=True) if node.args[0].shape else x
        return np.sum(x == top, axis=_last(node)) > 1 if node.args[0].shape else np.zeros(np.shape(x), bool)

    def weights(node):
        return call("argmax_share", _x(node), node, params=node.params)

    _reduction(name, lambda node, x: reduce(x, axis=_last(node)) if node.args[0].shape else x + 0.0,
               shape=_axis_shape,
               jvp=lambda n, t: None if t[0] is None else call("sum", mul(weights(n), t[0]), params=n.params),
               vjp=lambda n, g: [mul(_g_kept(n, g), weights(n))],
               sympy=_rows_sympy(lambda sp, row: getattr(sp, sympy_name)(*row)), public=False, complex=None,
               summary=f"{name[1:]} of all entries", example="", kink=tied, kink_name=name[1:], exact=True,
               mp=lambda mp, x: (max if name == "amax" else min)(x),
               sample=Sample((-2, 2), shapes=((3,),),
                             kinks=(([1.0, 1.0, 0.0] if name == "amax" else [0.0, 0.0, 1.0],),)))


def _argmax_share(node, x, top):
    dtype = np.asarray(x).dtype
    if node.params:  # along the last axis: each row's winners share its derivative
        hits = x == top[..., None]
        return _share(hits, np.sum(hits, axis=-1, keepdims=True), dtype)
    own = len(node.args[0].shape)
    hits = x == top.reshape(top.shape + (1,) * own)
    return _share(hits, np.sum(hits, axis=tuple(range(-own, 0)), keepdims=True) if own else np.ones_like(hits), dtype)


_extreme_reduction("amax", np.max, "Max")
_extreme_reduction("amin", np.min, "Min")
register(Op("argmax_share", kind="internal", numpy=_argmax_share, arity=(2, 2), public=False, complex=None,
            shape=lambda shapes, params: shapes[0], jvp=lambda n, t: None, vjp=lambda n, g: [None, None]))


# softmax along the last axis ---------------------------------------------------------------------


def _same(shapes, params):
    return shapes[0]


def _softmax_numpy(node, x):
    return np.ones(x.shape) if not node.shape else sm.softmax(x, axis=-1)


def _log_softmax_numpy(node, x):
    return np.zeros(x.shape) if not node.shape else sm.log_softmax(x, axis=-1)


def _softmax_complex(node, z):
    if not node.shape:
        return np.ones(z.shape, dtype=complex)
    top = np.max(z.real, axis=-1, keepdims=True)
    e = np.exp(z - top)
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_softmax_complex(node, z):
    if not node.shape:
        return np.zeros(z.shape, dtype=complex)
    top = np.max(z.real, axis=-1, keepdims=True)
    return z - top - np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))


def _softmax_sympy(sp, node, x, log=False):
    special = _special(sp)
    one = sp.Integer(0 if log else 1)
    if x.ndim == 0:
        return _obj(one)
    entry = special.LogSoftmax if log else special.Softmax
    out = np.empty(x.shape, dtype=object)
    for lead in np.ndindex(x.shape[:-1]):
        logits = tuple(x[lead])
        out[lead] = [one] if len(logits) == 1 else special.entries(entry, logits)
    return out


def _softmax_mp(mp, x):
    total = mp.fsum(mp.exp(v) for v in x)
    return [mp.exp(v) / total for v in x]


register(Op("softmax", kind="vector", numpy=_softmax_numpy, shape=_same, complex=_softmax_complex,
            make=_along_last("softmax"), arity=(1, 2), takes_axis=True,
            jvp=lambda n, t: None if t[0] is None or not n.shape else call("softmax_jvp", _x(n), t[0]),
            vjp=lambda n, g: [None if not n.shape else call("softmax_jvp", _x(n), g)],  # J is symmetric
            sympy=lambda sp, node, x: _softmax_sympy(sp, node, x),
            summary="exp(x)/sum(exp(x)) along the last axis (softmax(A, axis) along another), computed stably",
            example="softmax(x); softmax(A, axis=0)",
            mp=_softmax_mp, sample=Sample((-3, 3), shapes=((3,),))))
register(Op("log_softmax", kind="vector", numpy=_log_softmax_numpy, shape=_same, complex=_log_softmax_complex,
            make=_along_last("log_softmax"), arity=(1, 2), takes_axis=True,
            jvp=lambda n, t: None if t[0] is None or not n.shape else call("log_softmax_jvp", _x(n), t[0]),
            vjp=lambda n, g: [None if not n.shape else call("log_softmax_vjp", _x(n), g)],
            sympy=lambda sp, node, x: _softmax_sympy(sp, node, x, log=True),
            summary="log(softmax(x)) along the last axis (log_softmax(A, axis) along another)",
            example="log_softmax(x); log_softmax(A, 0)",
            mp=lambda mp, x: [mp.log(s) for s in _softmax_mp(mp, x)], sample=Sample((-3, 3), shapes=((3,),))))


def _softmax_jvp_rule(node, tangents):
    """d/dx and d/dt of J(x)·t = s*(t - sum(s*t)): in registry operations, for higher orders."""
    x, t = node.args
    tx, tt = tangents
    out = None if tt is None else call("softmax_jvp", x, tt)
    if tx is not None:
        s = call("softmax", x)
        ds = call("softmax_jvp", x, tx)
        inner = sub(t, call("sum_last", mul(s, t)))
        out = add(out, sub(mul(ds, inner), mul(s, call("sum_last", mul(ds, t)))))
    return out


def _softmax_jvp_vjp(node, g):
    x, t = node.args
    s = call("softmax", x)
    # J(x) is symmetric, so the cotangent of t is J(x)·g; that of x is the derivative of <g, J(x) t> by x.
    gt = call("softmax_jvp", x, g)
    inner = sub(t, call("sum_last", mul(s, t)))
    gx = add(call("softmax_jvp", x, mul(g, inner)), neg(call("softmax_jvp", x, mul(t, call("sum_last", mul(s, g))))))
    return [gx if not x.is_constant else None, gt]


register(Op("softmax_jvp", kind="internal", public=False, arity=(2, 2),
            numpy=lambda node, x, t: sm.softmax_vjp(x, t), shape=lambda shapes, params: shapes[1],
            complex=lambda node, x, t: _softmax_complex(node, x) * (
                t - np.sum(_softmax_complex(node, x) * t, axis=-1, keepdims=True)),
            jvp=_softmax_jvp_rule, vjp=_softmax_jvp_vjp))


def _log_softmax_jvp_numpy(node, x, t):
    s = sm.softmax(x, axis=-1)
    return t - np.sum(s * t, axis=-1, keepdims=True)  # (I - 1 sᵀ) t


def _log_softmax_jvp_rule(node, tangents):
    x, t = node.args
    tx, tt = tangents
    out = None if tt is None else call("log_softmax_jvp", x, tt)
    if tx is not None:  # d/dx of -sum(s*t) is -sum(ds*t)
        out = add(out, neg(call("sum_last", mul(call("softmax_jvp", x, tx), t))))
    return out


register(Op("log_softmax_jvp", kind="internal", public=False, arity=(2, 2), numpy=_log_softmax_jvp_numpy,
            shape=lambda shapes, params: shapes[1], complex=None, jvp=_log_softmax_jvp_rule,
            vjp=lambda n, g: [None if _x(n).is_constant else neg(call("softmax_jvp", _x(n), mul(
                broadcast_to(call("sum_last", g), n.shape), _x(n, 1)))),
                call("log_softmax_vjp", _x(n), g)]))


def _log_softmax_vjp_rule(node, tangents):
    x, g = node.args
    tx, tg = tangents
    out = None if tg is None else call("log_softmax_vjp", x, tg)
    if tx is not None:  # (Iᵀ - s 1ᵀ) g = g - s sum(g): d/dx is -ds sum(g)
        out = add(out, neg(mul(call("softmax_jvp", x, tx), call("sum_last", g))))
    return out


register(Op("log_softmax_vjp", kind="internal", public=False, arity=(2, 2),
            numpy=lambda node, x, g: sm.log_softmax_vjp(x, g), shape=lambda shapes, params: shapes[1],
            complex=None, jvp=_log_softmax_vjp_rule,
            vjp=lambda n, g: [None if _x(n).is_constant else neg(call("softmax_jvp", _x(n), mul(
                broadcast_to(call("sum_last", _x(n, 1)), n.shape), g))),
                call("log_softmax_jvp", _x(n), g)]))
register(Op("sum_last", kind="internal", public=False,
            numpy=lambda node, x: np.sum(x, axis=-1, keepdims=True) if node.args[0].shape else x + 0.0,
            shape=lambda shapes, params: shapes[0][:-1] + (1,) if shapes[0] else (),
            jvp=_linear_jvp, vjp=lambda n, g: [broadcast_to(g, _x(n).shape)]))


# structure: indexing, lists, broadcasting ------------------------------------------------------


def _index_shape(shapes, params):
    return shapes[0][len(params[0]):]


register(Op("index", kind="structural", public=False, numpy=lambda node, x: x[(Ellipsis,) + _ix(node)],
            shape=_index_shape, jvp=_linear_jvp, mp=lambda mp, x: x[1], sample=Sample((-2, 2), shapes=((3,),)),
            # (the conformance test takes x[1])
            vjp=lambda n, g: [call("scatter", g, params=(n.params[0], _x(n).shape))],
            sympy=lambda sp, node, x: _entries(x[tuple(node.params[0])])))


def _entries(value) -> np.ndarray:
    """An object array as it is; one sympy entry as a 0-d object array."""
    return value if isinstance(value, np.ndarray) else _obj(value)


def _ix(node):
    """x[i, j] from the end: the indices of ``node.params`` after the batch axes."""
    own = len(node.args[0].shape)
    indices = node.params[0]
    return tuple(indices) + (slice(None),) * (own - len(indices))


def _scatter_numpy(node, g):
    indices, shape = node.params
    out = np.zeros(g.shape[:g.ndim - len(node.args[0].shape)] + shape, dtype=g.dtype)
    out[(Ellipsis,) + tuple(indices) + (slice(None),) * (len(shape) - len(indices))] = g
    return out


register(Op("scatter", kind="internal", public=False, numpy=_scatter_numpy,
            shape=lambda shapes, params: params[1], jvp=_linear_jvp,
            vjp=lambda n, g: [call("index", g, params=(n.params[0],))]))


def _stack_make(items, axis=None):
    shapes = {item.shape for item in items}
    if len(shapes) > 1:
        raise ShapeError(f"the entries of a list must have equal shapes, got "
                         f"{', '.join(ir.shape_text(i.shape) for i in items)}")
    node = call("stack", *items)
    k = 0 if axis is None else _axis(axis, len(node.shape), "stack")
    if k == 0:
        return node
    perm = tuple(range(1, k + 1)) + (0,) + tuple(range(k + 1, len(node.shape)))
    return call("transpose", node, params=(perm,))


def _stack_numpy(node, *values):
    own = len(node.shape) - 1
    values = np.broadcast_arrays(*values)
    return np.stack(values, axis=values[0].ndim - own) if values else np.zeros((0,))


def _stack_jvp(node, tangents):
    if all(t is None for t in tangents):
        return None
    shape = node.args[0].shape
    items = [broadcast_to(number(0.0), shape) if t is None else broadcast_to(t, shape) for t in tangents]
    return call("stack", *items)


def _stack_sympy(sp, node, *items):
    out = np.empty((len(items),) + items[0].shape, dtype=object)
    for i, item in enumerate(items):
        out[i, ...] = item
    return out


register(Op("stack", kind="structural", numpy=_stack_numpy, make=_stack_make, arity=(1, 2), takes_list=True,
            takes_axis=True,
            summary="stack([a, b], axis): equal-shaped arrays along a new axis (0 by default)",
            example="stack([x, y]); stack([x, y], 1)",
            mp=lambda mp, *items: list(items), sample=Sample((-2, 2), (-2, 2)),
            shape=lambda shapes, params: (len(shapes),) + shapes[0], jvp=_stack_jvp,
            vjp=lambda n, g: [None if a.is_constant else call("index", g, params=((i,),))
                              for i, a in enumerate(n.args)],
            sympy=_stack_sympy))


def _broadcast_numpy(node, x):
    shape = node.params[0]
    own = len(node.args[0].shape)
    batch = x.shape[:x.ndim - own]
    aligned = x.reshape(batch + (1,) * (len(shape) - own) + x.shape[x.ndim - own:])
    return np.broadcast_to(aligned, batch + shape)


register(Op("broadcast_to", kind="internal", public=False, numpy=_broadcast_numpy,
            shape=lambda shapes, params: ir.broadcast_shapes((shapes[0], params[0]), "broadcast"),
            jvp=_linear_jvp, vjp=lambda n, g: [sum_to(g, _x(n).shape)],
            sympy=lambda sp, node, x: np.broadcast_to(x, node.params[0])))


def _sum_to_numpy(node, g):
    shape = node.params[0]
    own = len(node.args[0].shape)
    batch = g.ndim - own
    extra = own - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(batch, batch + extra)))
    stretched = tuple(batch + axis for axis, size in enumerate(shape) if size == 1 and g.shape[batch + axis] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


register(Op("sum_to", kind="internal", public=False, numpy=_sum_to_numpy,
            shape=lambda shapes, params: params[0], jvp=_linear_jvp,
            vjp=lambda n, g: [broadcast_to(g, _x(n).shape)]))


def _reshape_numpy(node, x):
    own = len(node.args[0].shape)
    return x.reshape(x.shape[:x.ndim - own] + node.params[0])


def _reshape_make(x, shape):
    dims = _constant_shape(shape, "reshape")
    if dims.count(-1) > 1 or any(d < -1 or d == 0 for d in dims):
        raise ShapeError(f"reshape: the new shape {dims} must have positive sizes and at most one -1")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if x.size % known:
            raise ShapeError(f"cannot reshape an array of shape {ir.shape_text(x.shape)} ({x.size} entries) "
                             f"into {dims}")
        dims = tuple(x.size // known if d == -1 else d for d in dims)
    if math.prod(dims) != x.size:
        raise ShapeError(f"cannot reshape an array of shape {ir.shape_text(x.shape)} ({x.size} entries) into "
                         f"shape {ir.shape_text(dims)} ({math.prod(dims)} entries)")
    return call("reshape", x, params=(dims,))


register(Op("reshape", kind="structural", numpy=_reshape_numpy, make=_reshape_make, arity=(2, 2),
            summary="reshape(x, shape): the entries, row-major, in a new shape (one size may be -1)",
            example="reshape(A, (4,)); reshape(A, (1, -1))", mp=lambda mp, x, *shape: list(x),
            sample=Sample((-2, 2), shapes=((2, 3),)),
            shape=lambda shapes, params: params[0], jvp=_linear_jvp,
            sympy=lambda sp, node, x: np.reshape(x, node.params[0]),
            vjp=lambda n, g: [call("reshape", g, params=(_x(n).shape,))]))

# constant arrays and joining ----------------------------------------------------------------------


def _constant_number(node, what: str) -> float:
    value = _constant(node)
    if value is None or np.ndim(value) != 0:
        raise JaccliError(f"{what} needs constant numbers here, e.g. {_EXAMPLES.get(what, what + '(3)')}")
    return float(value)


def _whole(node, what: str) -> int:
    value = _constant_number(node, what)
    if not value.is_integer():
        raise JaccliError(f"{what} needs whole numbers here, got {value:g}")
    if abs(value) > 10**15:
        raise LimitError(f"{what}: {value:g} is too large (limit {ir.MAX_ARRAY_ENTRIES:.0e} entries per array)")
    return int(value)


def _constant_shape(node, what: str) -> tuple[int, ...]:
    """A shape given as a whole number or a list/tuple of them, read from a constant node."""
    value = _constant(node)
    if value is None or np.ndim(value) > 1:
        raise JaccliError(f"{what} needs a constant shape, e.g. {_EXAMPLES.get(what, what + '((2, 3))')}")
    dims = np.atleast_1d(value)
    if not np.all(np.isfinite(dims)) or np.any(dims != np.round(dims)):
        raise JaccliError(f"{what} needs whole numbers in its shape, got {_short(value)}")
    if len(dims) > 16 or np.any(np.abs(dims) > 10**15):
        raise LimitError(f"{what}: the shape {_short(value)} is too large")
    return tuple(int(d) for d in dims)


def _axis(node, rank: int, what: str) -> int:
    k = node if isinstance(node, int) else _whole(node, what)
    if not -rank <= k < rank:
        raise ShapeError(f"{what}: axis {k} is out of range for {rank} dimension{'s' * (rank != 1)}")
    return k % rank


_EXAMPLES = {"arange": "arange(5) or arange(2, 7)", "eye": "eye(3)", "ones": "ones(3) or ones((2, 3))",
             "zeros": "zeros(3) or zeros((2, 3))", "reshape": "reshape(x, (2, 3))"}


def _filled(name: str, fill: float):
    def make(shape):
        dims = _constant_shape(shape, name)
        if any(d < 1 for d in dims):
            raise ShapeError(f"{name}: every size must be at least 1, got {dims}")
        ir.check_size(dims, f"{name}()")  # before anything is allocated
        return ir.const(np.full(dims, fill))

    return make


def _arange_make(*args):
    numbers = [_constant_number(a, "arange") for a in args]
    start, stop, step = (0.0, numbers[0], 1.0) if len(numbers) == 1 else (numbers + [1.0])[:3]
    if step == 0:
        raise JaccliError("arange: the step cannot be zero")
    count = math.ceil((stop - start) / step)
    if count < 1:
        raise ShapeError(f"arange({', '.join(f'{n:g}' for n in numbers)}) is empty")
    ir.check_size((count,), "arange()")  # before anything is allocated
    return ir.const(np.arange(start, stop, step, dtype=float))


def _eye_make(n):
    size = _whole(n, "eye")
    if size < 1:
        raise ShapeError(f"eye: the size must be at least 1, got {size}")
    ir.check_size((size, size), "eye()")
    return ir.const(np.eye(size))


def _constant_op(name: str, make, summary: str, example: str, arity=(1, 1)):
    register(Op(name, kind="constant", numpy=None, make=make, arity=arity, complex=None, summary=summary,
                example=example))


_constant_op("arange", _arange_make, "arange(n), arange(a, b), arange(a, b, step): numbers a, a+step, … below b",
             "arange(5); arange(1, 4)", arity=(1, 3))
_constant_op("eye", _eye_make, "eye(n): the n×n identity matrix", "eye(3)")
_constant_op("ones", _filled("ones", 1.0), "ones(n) or ones((m, n)): an array of ones", "ones(3); ones((2, 3))")
_constant_op("zeros", _filled("zeros", 0.0), "zeros(n) or zeros((m, n)): an array of zeros", "zeros(3)")


def _concatenate_make(items, axis=None):
    rank = len(items[0].shape)
    if any(len(i.shape) != rank for i in items) or rank == 0:
        raise ShapeError(f"concatenate needs arrays of equal rank (at least 1), got shapes "
                         f"{', '.join(ir.shape_text(i.shape) for i in items)}")
    k = 0 if axis is None else _axis(axis, rank, "concatenate")
    for item in items:
        if item.shape[:k] + item.shape[k + 1:] != items[0].shape[:k] + items[0].shape[k + 1:]:
            raise ShapeError(f"concatenate along axis {k}: shapes {', '.join(ir.shape_text(i.shape) for i in items)}"
                             " differ in another axis")
    return call("concatenate", *items, params=(k,))


def _concatenate_numpy(node, *values):
    own = len(node.shape)
    batch = np.broadcast_shapes(*(v.shape[:v.ndim - own] for v in values))
    values = [np.broadcast_to(v, batch + v.shape[v.ndim - own:]) for v in values]
    return np.concatenate(values, axis=node.params[0] - own)


def _concatenate_jvp(node, tangents):
    if all(t is None for t in tangents):
        return None
    parts = [broadcast_to(number(0.0), a.shape) if t is None else t for a, t in zip(node.args, tangents)]
    return call("concatenate", *parts, params=node.params)


def _concatenate_vjp(node, g):
    k = node.params[0]
    out, start = [], 0
    for arg in node.args:
        n = arg.shape[k]
        key = tuple((0, size, 1) for size in node.shape[:k]) + ((start, n, 1),)
        out.append(None if arg.is_constant else call("slice", g, params=(key,)))
        start += n
    return out


register(Op("concatenate", kind="structural", numpy=_concatenate_numpy, make=_concatenate_make, arity=(1, 2),
            takes_axis=True,
            takes_list=True, shape=lambda shapes, params: shapes[0][:params[0]] + (
                sum(s[params[0]] for s in shapes),) + shapes[0][params[0] + 1:],
            jvp=_concatenate_jvp, vjp=_concatenate_vjp,
            sympy=lambda sp, node, *values: np.concatenate(values, axis=node.params[0]),
            summary="concatenate([a, b], axis): arrays joined along an axis (0 by default)",
            example="concatenate([x, y]); concatenate([A, B], 1)", mp=lambda mp, a, b: list(a) + list(b),
            sample=Sample((-2, 2), (-2, 2), shapes=((2,), (3,)))))


# linear algebra: det, inv, logdet, solve, trace, diag, outer ----------------------------------------


def _regular(a, *rest) -> bool:
    """A matrix far enough from singular for a conformance point (its inverse is the derivative's part)."""
    return abs(float(np.linalg.det(a))) > 0.2 * max(1.0, float(np.max(np.abs(a)))) ** 2


def _square_matrix(x, what: str):
    if len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{what} needs a square matrix (or a stack of them), got shape {ir.shape_text(x.shape)}")


def _safe_inv(a):
    """np.linalg.inv, with NaN for the singular matrices of a batch instead of an error for all."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        out = np.full(a.shape, np.nan, dtype=np.result_type(a, float))
        for index in np.ndindex(a.shape[:-2]):
            try:
                out[index] = np.linalg.inv(a[index])
            except np.linalg.LinAlgError:
                pass
        return out


def _square_make(name: str):
    def make(x):
        _square_matrix(x, f"{name}()")
        return call(name, x)

    return make


def _matrices_sympy(x, function):
    """``function`` of each sympy Matrix of a stack (the last two axes), as an object array."""
    import sympy

    lead = x.shape[:-2]
    results = {index: function(sympy.Matrix(x[index].tolist())) for index in np.ndindex(lead)}
    first = next(iter(results.values()))
    if isinstance(first, sympy.MatrixBase):
        out = np.empty(lead + x.shape[-2:], dtype=object)
        for index, value in results.items():
            out[index] = np.array(value.tolist(), dtype=object)
        return out
    out = np.empty(lead, dtype=object)
    for index, value in results.items():
        out[index] = value
    return out


def _inv_t(x: ir.Node) -> ir.Node:
    return _swap_last(call("inv", x))


def _scalar_per_matrix(g: ir.Node, x: ir.Node) -> ir.Node:
    """g (one number per matrix of a stack) with two axes of length 1 appended, to broadcast over each matrix."""
    return _reshaped(g, g.shape + (1, 1))


def _per_matrix(x: np.ndarray, function, square: bool = False) -> np.ndarray:
    """``function(mpmath matrix)`` of each matrix in a stack of mpmath numbers (the engines' multi-precision
    evaluation): a number each, or a matrix each with ``square``."""
    import mpmath

    stack = x.reshape((-1,) + x.shape[-2:])
    outs = [function(mpmath.matrix(m.tolist())) for m in stack]
    if square:
        return np.array([[[m[i, j] for j in range(x.shape[-1])] for i in range(x.shape[-2])] for m in outs],
                        dtype=object).reshape(x.shape)
    return np.array(outs + [None], dtype=object)[:-1].reshape(x.shape[:-2])


def _mp_inverse(m):
    import mpmath

    try:
        return mpmath.inverse(m)
    except ZeroDivisionError:  # singular: numpy's _safe_inv gives NaN
        return mpmath.matrix([[mpmath.mpf("nan")] * m.cols for _ in range(m.rows)])


def _mp_det(m):
    import mpmath

    return mpmath.det(m)


def _mp_logdet(m):
    import mpmath

    det = mpmath.det(m)
    return mpmath.log(abs(det)) if det != 0 else mpmath.mpf("-inf")


register(Op("det", kind="structural", numpy=lambda node, x: np.linalg.det(x), make=_square_make("det"),
            mp_array=lambda node, x: _per_matrix(x, _mp_det),
            shape=lambda shapes, params: shapes[0][:-2],
            jvp=lambda n, t: None if t[0] is None else mul(n, _logdet_jvp(n, t)),  # d det = det tr(A⁻¹ dA)
            vjp=lambda n, g: [mul(_scalar_per_matrix(mul(g, n), _x(n)), _inv_t(_x(n)))],
            sympy=lambda sp, node, x: _entries(_matrices_sympy(x, lambda m: m.det(method="berkowitz"))),
            summary="determinant of a square matrix (each of a stack)", example="det(A)",
            mp=lambda mp, x: mp.det(mp.matrix([[x[0], x[1]], [x[2], x[3]]])),
            sample=Sample((-2, 2), shapes=((2, 2),), valid=_regular)))


def _sum_matrix(x: ir.Node) -> ir.Node:
    """The sum over the last two axes (one number per matrix of a stack)."""
    return call("sum", call("sum", x, params=(len(x.shape) - 1,)), params=(len(x.shape) - 2,))


def _logdet_jvp(n, t):
    if t[0] is None:
        return None
    product = mul(_inv_t(_x(n)), t[0])
    return call("sum", product) if len(_x(n).shape) == 2 else _sum_matrix(product)


register(Op("logdet", kind="structural", numpy=lambda node, x: np.linalg.slogdet(x)[1], make=_square_make("logdet"),
            mp_array=lambda node, x: _per_matrix(x, _mp_logdet),
            shape=lambda shapes, params: shapes[0][:-2], jvp=_logdet_jvp,
            vjp=lambda n, g: [mul(_scalar_per_matrix(g, _x(n)), _inv_t(_x(n)))],
            # log(d²)/2, not log|d|: its derivative is d′/d, undefined at a singular matrix as it is; log|d|'s is
            # sign(d)·d′/|d|, which gave 0 there (sign(0) = 0), a silent wrong gradient
            sympy=lambda sp, node, x: _entries(_matrices_sympy(x, lambda m: sp.log(m.det(method="berkowitz") ** 2)
                                                               / 2)),
            complex=lambda node, x: np.log(np.linalg.det(x)),
            summary="log |det(A)|, computed stably (numpy's slogdet)", example="logdet(A)",
            mp=lambda mp, x: mp.log(abs(mp.det(mp.matrix([[x[0], x[1]], [x[2], x[3]]])))),
            sample=Sample((0.5, 2), shapes=((2, 2),), valid=_regular)))


def _inv_jvp(n, t):
    return None if t[0] is None else neg(call("matmul", call("matmul", n, t[0]), n))


register(Op("inv", kind="structural", numpy=lambda node, x: _safe_inv(x), make=_square_make("inv"), shape=_same,
            mp_array=lambda node, x: _per_matrix(x, _mp_inverse, square=True),
            jvp=_inv_jvp, vjp=lambda n, g: [neg(call("matmul", call("matmul", _swap_last(n), g), _swap_last(n)))],
            sympy=lambda sp, node, x: _matrices_sympy(x, lambda m: m.inv()),
            summary="inverse of a square matrix (each of a stack)", example="inv(A)",
            mp=lambda mp, x: [v for row in mp.inverse(mp.matrix([[x[0], x[1]], [x[2], x[3]]])).tolist() for v in row],
            sample=Sample((-2, 2), shapes=((2, 2),), valid=_regular)))


def _solve_make(a, b):
    _square_matrix(a, "solve(A, b)")
    return OPS["matmul"].make(call("inv", a), b)


register(Op("solve", kind="composite", numpy=None, make=_solve_make, arity=(2, 2), complex=None,
            summary="solve(A, b): x with A x = b (b a vector or a matrix)", example="solve(A, x)",
            mp=lambda mp, a, b: list(mp.lu_solve(mp.matrix([[a[0], a[1]], [a[2], a[3]]]), mp.matrix(b))),
            sample=Sample((-2, 2), (-2, 2), shapes=((2, 2), (2,)), valid=_regular)))


def _diag_make(x):
    if len(x.shape) == 1:  # a vector: the square matrix with it on the diagonal
        return mul(ir.const(np.eye(x.shape[0])), x)
    if len(x.shape) == 2 and x.shape[0] == x.shape[1]:
        return call("sum", mul(x, ir.const(np.eye(x.shape[0]))), params=(1,))
    raise ShapeError(f"diag needs a vector or a square matrix, got shape {ir.shape_text(x.shape)}")


register(Op("diag", kind="composite", numpy=None, make=_diag_make, complex=None,
            summary="diag(A): the diagonal of a square matrix; diag(v): the matrix with v on its diagonal",
            example="diag(A); diag(x)", mp=lambda mp, x: [x[0], x[3]], sample=Sample((-2, 2), shapes=((2, 2),))))


def _trace_make(x):
    _square_matrix(x, "trace()")
    if len(x.shape) != 2:
        raise ShapeError(f"trace needs one square matrix, got shape {ir.shape_text(x.shape)}")
    return call("sum", mul(x, ir.const(np.eye(x.shape[0]))))


register(Op("trace", kind="composite", numpy=None, make=_trace_make, complex=None,
            summary="trace(A): the sum of the diagonal of a square matrix", example="trace(A)",
            mp=lambda mp, x: x[0] + x[3], sample=Sample((-2, 2), shapes=((2, 2),))))


def _outer_make(a, b):
    return mul(_reshaped(a, (a.size, 1)), _reshaped(b, (1, b.size)))


register(Op("outer", kind="composite", numpy=None, make=_outer_make, arity=(2, 2), complex=None,
            summary="outer(a, b): the matrix of a[i]*b[j] (inputs flattened, as numpy)", example="outer(x, y)",
            mp=lambda mp, a, b: [u * v for u in a for v in b], sample=Sample((-2, 2), (-2, 2), shapes=((2,), (3,)))))


def _var_make(x, axis=None, root=False):
    if axis is None:
        centred = sub(x, call("mean", x))
        out = call("mean", mul(centred, centred))
    else:
        k = _axis(axis, len(x.shape), "std" if root else "var")
        mean = call("mean", x, params=(k,))
        centred = sub(x, _reshaped(mean, x.shape[:k] + (1,) + x.shape[k + 1:]))
        out = call("mean", mul(centred, centred), params=(k,))
    return call("sqrt", out) if root else out


def _var_mp(mp, x):
    mean = mp.fsum(x) / len(x)
    return mp.fsum((v - mean) ** 2 for v in x) / len(x)


# "var" is the name of the variables' leaf operation: the record is "variance", called var() (see FUNCTIONS)
register(Op("variance", kind="composite", numpy=None, make=_var_make, arity=(1, 2), complex=None, public=False,
            takes_axis=True,
            summary="variance (numpy's: divided by n); var(A, axis) along one axis", example="var(x); var(A, 0)",
            mp=_var_mp, sample=Sample((-2, 2), shapes=((3,),))))
register(Op("std", kind="composite", numpy=None, make=lambda x, axis=None: _var_make(x, axis, root=True),
            arity=(1, 2), takes_axis=True, complex=None,
            summary="standard deviation, sqrt(var); std(A, axis) along one axis",
            example="std(x); std(A, 1)", mp=lambda mp, x: mp.sqrt(_var_mp(mp, x)),
            sample=Sample((-2, 2), shapes=((3,),), valid=lambda x: float(np.ptp(x)) > 0.1)))  # sqrt(0) at equal entries


def _cumulative(name: str, last):
    """make(x, axis=None) of a cumulative operation: flattened without an axis (as numpy), else along axis k
    (``last(y)`` works along the last axis of y; other axes are transposed there and back)."""
    def make(x, axis=None):
        if axis is None:
            return last(_reshaped(x, (x.size,)))
        k = _axis(axis, len(x.shape), name)
        return _from_last(last(_to_last(x, k)), k)

    return make


def _reverse(x: ir.Node) -> ir.Node:
    """x with its last axis reversed."""
    n = x.shape[-1]
    return call("slice", x, params=(tuple((0, size, 1) for size in x.shape[:-1]) + ((n - 1, n, -1),),))


def _cumsum_sympy(sp, node, x):
    out = np.empty(x.shape, dtype=object)
    for lead in np.ndindex(x.shape[:-1]):
        row = list(x[lead])
        for i in range(len(row)):
            out[lead + (i,)] = sp.Add(*row[:i + 1])
    return out


register(Op("cumsum", kind="structural", numpy=lambda node, x: np.cumsum(x, axis=-1),
            make=_cumulative("cumsum", lambda y: call("cumsum", y)), arity=(1, 2), takes_axis=True,
            shape=_same, jvp=_linear_jvp, vjp=lambda n, g: [_reverse(call("cumsum", _reverse(g)))],
            sympy=_cumsum_sympy,
            summary="cumulative sums of the entries (flattened, as numpy without an axis); cumsum(A, axis) along one",
            example="cumsum(x); cumsum(A, 1)",
            mp=lambda mp, x: [mp.fsum(x[:i + 1]) for i in range(len(x))], sample=Sample((-2, 2), shapes=((3,),))))


def _scan_products(y: ir.Node) -> ir.Node:
    """Cumulative products along the last axis as a prefix scan (as JAX's associative_scan): log₂ n rounds of
    y[d:] * y[:-d], in products only, so a zero entry is exact (no division) and every derivative follows
    from mul, slice and concatenate."""
    n, lead = y.shape[-1], tuple((0, size, 1) for size in y.shape[:-1])
    last = len(y.shape) - 1
    d = 1
    while d < n:
        head = call("slice", y, params=(lead + ((0, d, 1),),))
        later = call("slice", y, params=(lead + ((d, n - d, 1),),))
        tail = mul(later, call("slice", y, params=(lead + ((0, n - d, 1),),)))
        y = call("concatenate", head, tail, params=(last,))
        d *= 2
    return y


register(Op("cumprod", kind="composite", numpy=None, make=_cumulative("cumprod", _scan_products), arity=(1, 2),
            takes_axis=True, complex=None,
            summary="cumulative products (flattened, as numpy without an axis); cumprod(A, axis) along one",
            example="cumprod(x); cumprod(A, 0)",
            mp=lambda mp, x: [mp.fprod(x[:i + 1]) for i in range(len(x))], sample=Sample((-2, 2), shapes=((4,),))))


# slices: x[1:], x[::-1], A[:, 0] (constant keys; the parser refuses any other) -------------------------


def _slice_key(node) -> tuple:
    """The key of a ``slice`` node as numpy reads it, for the node's own axes (batch axes lead)."""
    key = []
    for item in node.params[0]:
        if isinstance(item, int):
            key.append(item)
        else:
            start, count, step = item
            stop = start + count * step
            key.append(slice(start, None if stop < 0 else stop, step))
    return tuple(key)


def _slice_shape(shapes, params):
    return tuple(item[1] for item in params[0] if not isinstance(item, int)) + shapes[0][len(params[0]):]


def _unslice_numpy(node, g):
    key, shape = node.params
    own = len(node.args[0].shape)
    out = np.zeros(g.shape[:g.ndim - own] + shape, dtype=g.dtype)
    out[(Ellipsis,) + _slice_key(node) + (slice(None),) * (len(shape) - len(key))] = g
    return out


register(Op("slice", kind="structural", public=False, shape=_slice_shape, jvp=_linear_jvp,
            numpy=lambda node, x: x[(Ellipsis,) + _slice_key(node) + (slice(None),) * (
                len(node.args[0].shape) - len(node.params[0]))],
            vjp=lambda n, g: [call("unslice", g, params=(n.params[0], _x(n).shape))],
            sympy=lambda sp, node, x: _entries(x[_slice_key(node)]),
            mp=lambda mp, x: [x[3], x[1]], sample=Sample((-2, 2), shapes=((4,),))))  # the test takes x[3:0:-2]
register(Op("unslice", kind="internal", public=False, numpy=_unslice_numpy, shape=lambda shapes, params: params[1],
            jvp=_linear_jvp, vjp=lambda n, g: [call("slice", g, params=(n.params[0],))]))


# matrix products and transposes --------------------------------------------------------------------


def _matmul_shape(shapes, params):
    """np.matmul's rule: 1-D operands are promoted (a row on the left, a column on the right) and the
    promoted axis dropped; the axes before the last two broadcast (stacks of matrices)."""
    a, b = shapes
    if a == () or b == ():
        raise ShapeError(f"'@' needs arrays, got shapes {ir.shape_text(a)} and {ir.shape_text(b)}; "
                         "use * to multiply by a scalar")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(f"shapes {ir.shape_text(a)} and {ir.shape_text(b)} do not match in '@': the left's last "
                         f"axis has {a2[-1]} entries, the right's {'only' if len(b) == 1 else 'second-to-last'} "
                         f"axis {b2[-2]}")
    stack = ir.broadcast_shapes((a2[:-2], b2[:-2]), "@")
    return stack + (a2[-2],) * (len(a) > 1) + (b2[-1],) * (len(b) > 1)


def _promoted(node, values):
    """Both operands of a matmul node with 1-D ones promoted and their stacks padded to equal rank."""
    sa, sb = node.args[0].shape, node.args[1].shape
    a, b = values
    if len(sa) == 1:
        a = a[..., None, :]
    if len(sb) == 1:
        b = b[..., None]
    ra, rb = max(len(sa), 2), max(len(sb), 2)
    rank = max(ra, rb)
    a = a.reshape(a.shape[:a.ndim - ra] + (1,) * (rank - ra) + a.shape[a.ndim - ra:])
    b = b.reshape(b.shape[:b.ndim - rb] + (1,) * (rank - rb) + b.shape[b.ndim - rb:])
    return a, b


def _matmul_numpy(node, a, b):
    sa, sb = node.args[0].shape, node.args[1].shape
    out = _matmul_stacks(*_promoted(node, (a, b)))
    drop = (-2,) * (len(sa) == 1) + (-1,) * (len(sb) == 1)
    return np.squeeze(out, axis=drop) if drop else out


def _matmul_stacks(a, b):
    """np.matmul of promoted operands; when one side is a single matrix (a constant, or a parameter, against a
    stack of seeds or points), one BLAS product of that matrix with all the others' rows at once."""
    if all(d == 1 for d in a.shape[:-2]) and b.ndim > 2:
        m = a.reshape(a.shape[-2:])
        rows = np.swapaxes(b, -1, -2)  # (..., columns of b, k)
        out = np.ascontiguousarray(rows).reshape(-1, rows.shape[-1]) @ m.T
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        return np.swapaxes(out.reshape(lead + (rows.shape[-2], m.shape[0])), -1, -2)
    if all(d == 1 for d in b.shape[:-2]) and a.ndim > 2:
        m = b.reshape(b.shape[-2:])
        out = np.ascontiguousarray(a).reshape(-1, a.shape[-1]) @ m
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        return out.reshape(lead + (a.shape[-2], m.shape[1]))
    return np.matmul(a, b)


def _matmul_sympy(sp, node, a, b):
    return _entries(np.matmul(a, b))


def _swap_last(x: ir.Node) -> ir.Node:
    """x with its last two axes swapped (a matrix transposed, a stack of them each)."""
    perm = tuple(range(len(x.shape) - 2)) + (len(x.shape) - 1, len(x.shape) - 2)
    return call("transpose", x, params=(perm,))


def _reshaped(x: ir.Node, shape) -> ir.Node:
    return x if x.shape == tuple(shape) else call("reshape", x, params=(tuple(shape),))


def _matmul_vjp(node, g):
    """g @ Bᵀ and Aᵀ @ g, on the promoted operands, summed over broadcast stacks, back to each shape."""
    a, b = node.args
    a2 = _reshaped(a, (1,) + a.shape) if len(a.shape) == 1 else a
    b2 = _reshaped(b, b.shape + (1,)) if len(b.shape) == 1 else b
    stack = node.shape[:len(node.shape) - (len(a.shape) > 1) - (len(b.shape) > 1)]
    g2 = _reshaped(g, stack + (a2.shape[-2], b2.shape[-1]))
    ga = None if a.is_constant else _reshaped(sum_to(call("matmul", g2, _swap_last(b2)), a2.shape), a.shape)
    gb = None if b.is_constant else _reshaped(sum_to(call("matmul", _swap_last(a2), g2), b2.shape), b.shape)
    return [ga, gb]


def _matmul_jvp(node, tangents):
    a, b = node.args
    ta, tb = tangents
    return add(None if ta is None else call("matmul", ta, b), None if tb is None else call("matmul", a, tb))


def _matmul_mp(mp, a, b):
    """A 2×3 matrix times a 3×2 one (the conformance shapes), from flat row-major lists."""
    return [mp.fsum(a[3 * i + k] * b[2 * k + j] for k in range(3)) for i in range(2) for j in range(2)]


register(Op("matmul", kind="structural", numpy=_matmul_numpy, shape=_matmul_shape, arity=(2, 2),
            jvp=_matmul_jvp, vjp=_matmul_vjp, sympy=_matmul_sympy,
            summary="matrix product with np.matmul's rules (vectors, matrices, stacks)", example="A @ x; matmul(A, B)",
            mp=_matmul_mp, sample=Sample((-2, 2), (-2, 2), shapes=((2, 3), (3, 2)))))


def _transpose_numpy(node, x):
    perm = node.params[0]
    batch = x.ndim - len(perm)
    return np.transpose(x, tuple(range(batch)) + tuple(batch + p for p in perm))


def _inverse(perm):
    return tuple(int(i) for i in np.argsort(perm))


register(Op("transpose", kind="structural", numpy=_transpose_numpy, make=lambda x: call(
                "transpose", x, params=(tuple(reversed(range(len(x.shape)))),)),
            shape=lambda shapes, params: tuple(shapes[0][p] for p in params[0]), jvp=_linear_jvp,
            vjp=lambda n, g: [call("transpose", g, params=(_inverse(n.params[0]),))],
            sympy=lambda sp, node, x: np.transpose(x, node.params[0]),
            summary="the axes reversed (a matrix transposed); also written A.T", example="transpose(A); A.T",
            mp=lambda mp, x: [x[3 * i + j] for j in range(3) for i in range(2)],
            sample=Sample((-2, 2), shapes=((2, 3),))))

ONE = ir.const(1.0)
PI = ir.const(math.pi, None, "pi")


def _obj(value) -> np.ndarray:
    """Wrap a sympy value as a 0-d object array (numpy unwraps 0-d results)."""
    out = np.empty((), dtype=object)
    out[()] = value
    return out


# --- what the parser and the help read ----------------------------------------------------------

FUNCTIONS = {name: op for name, op in OPS.items() if op.public and op.kind != "leaf"}
FUNCTIONS["var"] = OPS["variance"]  # numpy's name; the record's differs from the variables' leaf operation "var"
OPS["variance"].called = "var"
"""The functions an expression may call, by every name (aliases too): each has ``arity`` and ``summary``."""

CONSTANTS: dict[str, str] = {"pi": "3.14159…", "e": "2.71828…, Euler's number"}


def public_ops() -> list[Op]:
    """Each function the user can call, once (not per alias), in the registry's order."""
    seen, out = set(), []
    for op in FUNCTIONS.values():
        if op.name not in seen:
            seen.add(op.name)
            out.append(op)
    return out


def function_table() -> str:
    """The functions as a Markdown table (how to call it, its other names, what it is): the README's list."""
    lines = ["| call | other names | what it is |", "|---|---|---|"]
    for op in public_ops():
        aliases = ", ".join(f"`{a}`" for a in op.aliases)
        calls = ", ".join(f"`{call.strip()}`" for call in op.example.split(";"))
        lines.append(f"| {calls} | {aliases} | {op.summary} |")
    return "\n".join(lines) + "\n"
