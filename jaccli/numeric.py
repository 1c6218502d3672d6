"""Evaluate sympy expressions with numpy, at one point or many at once.

A small tree walker instead of ``lambdify``: no code is generated, start-up is
immediate, and a shared memo evaluates every common subexpression once across
all entries of a Jacobian. Symbols map to floats or to equal-length numpy arrays
(a batch of points), so one walk evaluates every point.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import sympy

from . import softmax as sm
from . import special

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_UNARY = {
    sympy.sin: np.sin, sympy.cos: np.cos, sympy.tan: np.tan,
    sympy.asin: np.arcsin, sympy.acos: np.arccos, sympy.atan: np.arctan,
    sympy.sinh: np.sinh, sympy.cosh: np.cosh, sympy.tanh: np.tanh,
    sympy.asinh: np.arcsinh, sympy.acosh: np.arccosh, sympy.atanh: np.arctanh,
    sympy.exp: np.exp, sympy.log: np.log,
    sympy.Abs: np.abs, sympy.erf: lambda x: np.asarray(_erf(x), dtype=float),
    sympy.sec: lambda x: 1 / np.cos(x), sympy.csc: lambda x: 1 / np.sin(x),
    sympy.cot: lambda x: 1 / np.tan(x),
    special.sigmoid: _sigmoid,
    special.softplus: lambda x: np.logaddexp(0.0, x),
    special.relu: lambda x: np.maximum(x, 0.0),
}


def _c99_unary(f) -> bool:
    """Add log2 and log10 to ``_UNARY`` when ``f`` is one of them: they come from sympy.codegen, which
    ``lowering`` imports only for expressions that use them, so only those ever meet them here."""
    if getattr(f, "__module__", None) != "sympy.codegen.cfunctions":
        return False
    from sympy.codegen.cfunctions import log2, log10

    _UNARY.update({log2: np.log2, log10: np.log10})
    return f in _UNARY


class Evaluator:
    """Evaluates expressions at the values in ``env`` (symbol -> float or array).

    ``kinks`` collects the non-differentiable points met on the way (the argument
    of a step or sign function was exactly 0), for the caller to warn about.
    """

    dtype = float  # of the values; the complex-step evaluator below uses complex

    def __init__(self, env: dict):
        self.env = env
        self.memo: dict = {}
        self.kinks: set[str] = set()

    def array(self, exprs: np.ndarray) -> np.ndarray:
        """Evaluate every entry: shape ``exprs.shape``, after a leading batch axis for batches."""
        values = [self(e) for e in exprs.flat]
        batch = np.broadcast_shapes(*(np.shape(v) for v in values)) if values else ()
        out = np.empty(batch + exprs.shape, dtype=self.dtype)
        for index, value in zip(np.ndindex(exprs.shape), values, strict=True):
            out[(Ellipsis,) + index] = value
        return out

    def __call__(self, expr):
        try:
            return self.memo[expr]
        except KeyError:
            pass
        with np.errstate(all="ignore"):
            value = self._evaluate(expr)
        self.memo[expr] = value
        return value

    def _evaluate(self, e):
        if e.is_Symbol:
            return self.env[e]
        if e.is_Number or e.is_NumberSymbol:
            return float(e)
        if e.is_Add:
            return reduce(np.add, [self(a) for a in e.args])
        if e.is_Mul:
            return reduce(np.multiply, [self(a) for a in e.args])
        if e.is_Pow:
            return self._power(e)
        f = e.func
        if f in _UNARY or _c99_unary(f):
            return _UNARY[f](self(e.args[0]))
        if f is sympy.atan2:
            return np.arctan2(self(e.args[0]), self(e.args[1]))
        if f is sympy.Max or f is sympy.Min:
            return reduce(np.maximum if f is sympy.Max else np.minimum, [self(a) for a in e.args])
        if f is sympy.sign:
            x = self(e.args[0])
            self._kink(x, "abs")
            return np.sign(x)
        if f is sympy.Heaviside:
            x = self(e.args[0])
            self._kink(x, "relu, max, min")
            return np.heaviside(x, 0.5)
        if f is sympy.DiracDelta:
            x = self(e.args[0])
            self._kink(x, "abs, relu, max, min")
            return np.where(np.asarray(x) == 0, np.inf, 0.0)
        if isinstance(e, special.LogSumExp):
            return sm.logsumexp(self._stack(e.args), axis=0)
        if isinstance(e, special._SoftmaxEntry):
            return self._softmax_family(e)
        return self._fallback(e)

    def _power(self, e):
        base = self(e.args[0])
        exponent = e.args[1]
        if exponent.is_Number:
            p = float(exponent)
            if p == 2:
                return base * base
            if p == -1:
                return 1.0 / base
            if p == 0.5:
                return np.sqrt(base)
            if p == -0.5:
                return 1.0 / np.sqrt(base)
            return np.power(base, p)
        return np.power(base, self(exponent))

    def _stack(self, args) -> np.ndarray:
        values = [self(a) for a in args]
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        return np.stack([np.broadcast_to(np.asarray(v, dtype=self.dtype), shape) for v in values])

    def _softmax_family(self, e):
        """All entries of one softmax share a single vectorised computation, kept in the memo."""
        key = (type(e), e.logits)
        if key not in self.memo:
            z = self._stack(e.logits)
            if isinstance(e, special.Softmax):
                self.memo[key] = sm.softmax(z, axis=0)
            elif isinstance(e, special.SoftmaxRest):
                self.memo[key] = sm.softmax_rest(z, axis=0)
            else:
                self.memo[key] = sm.log_softmax(z, axis=0)
        return self.memo[key][e.index]

    def _kink(self, x, where: str) -> None:
        if np.any(np.asarray(x) == 0):
            self.kinks.add(where)

    def _fallback(self, e):
        """Anything else sympy produced from the whitelisted functions (never user text)."""
        symbols = sorted(e.free_symbols, key=str)
        fn = sympy.lambdify(symbols, e, modules="numpy", dummify=True)
        return fn(*(self(s) for s in symbols))


def evaluate(exprs: np.ndarray, env: dict) -> tuple[np.ndarray, set[str]]:
    """Float values of an object array of expressions, and the kinks met."""
    evaluator = Evaluator(env)
    return evaluator.array(exprs), evaluator.kinks


# Functions whose numpy form is analytic, so that f(x + ih) gives f'(x) in its imaginary part.
NOT_ANALYTIC = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta, sympy.Max, sympy.Min,
                special.relu, sympy.erf, sympy.atan2)


def is_analytic(exprs) -> bool:
    """Whether every entry avoids the functions the complex step cannot go through."""
    return not any(e.atoms(*NOT_ANALYTIC) for e in np.asarray(exprs, dtype=object).flat if hasattr(e, "atoms"))


def _shifted(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(z - max Re z) along axis 0, and that max: the complex form of softmax's shift."""
    top = np.max(z.real, axis=0, keepdims=True)
    return np.exp(z - top), top


class ComplexEvaluator(Evaluator):
    """Evaluates at complex points, for the complex-step derivative; only analytic expressions.

    The stable special functions are rewritten in complex arithmetic; ``is_analytic``
    keeps abs, relu, max, min, sign, erf and atan2 away from it.
    """

    dtype = complex

    def _evaluate(self, e):
        f = e.func
        if f is special.sigmoid:
            z = np.asarray(self(e.args[0]), dtype=complex)
            return np.where(z.real >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
        if f is special.softplus:
            z = np.asarray(self(e.args[0]), dtype=complex)
            return np.where(z.real >= 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z)))
        if f in NOT_ANALYTIC:
            raise ValueError(f"{f} has no complex-step form")
        if isinstance(e, special.LogSumExp):
            ez, top = _shifted(self._stack(e.args))
            return top[0] + np.log(np.sum(ez, axis=0))
        return super()._evaluate(e)

    def _softmax_family(self, e):
        key = (type(e), e.logits)
        if key not in self.memo:
            z = self._stack(e.logits)
            ez, top = _shifted(z)
            total = np.sum(ez, axis=0, keepdims=True)
            if isinstance(e, special.Softmax):
                self.memo[key] = ez / total
            elif isinstance(e, special.SoftmaxRest):
                self.memo[key] = 1 - ez / total  # the real part loses digits; the imaginary part does not
            else:
                self.memo[key] = z - top - np.log(total)
        return self.memo[key][e.index]
