"""Sympy functions that sympy lacks: the softmax family here, one-argument ones made by ``define``.

They stay unevaluated in symbolic results (``sigmoid(x)`` reads better than its
expansion). A one-argument function (sigmoid, softplus, relu, cbrt) takes its rules from its
registry record through ``define``; the softmax family is a kernel of its own.
Softmax entries take the whole logit vector as arguments: ``Softmax(i, z0, .., zn)``.
Its derivative uses ``SoftmaxRest`` (1 - s_i, never formed by subtraction), so
that Jacobians and Hessians through softmax keep their tiny entries.
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Function, Integer, exp, log
from sympy.core.function import ArgumentIndexError
from sympy.core.mul import _unevaluated_Mul


class _Real(Function):
    """Real at real arguments, so that sympy's Abs/sign derivatives stay free of re() and im().

    (sympy collects ``_eval_is_*`` handlers when a class is created: defined on a base class
    they reach every function below; set on the classes afterwards, they were never seen.)
    """

    closed_fdiff = True  # fdiff gives a closed form (never a Derivative or Subs): calculus.partial need not look

    def _eval_is_extended_real(self):
        return sympy.core.logic.fuzzy_and(a.is_extended_real for a in self.args)


class Defined(_Real):
    """A one-argument function whose rules come from its registry record (``define``): derivative,
    definition in elementary functions (for --exact) and values at numbers."""

    nargs = 1
    _derivative = _definition = _value = None

    def fdiff(self, argindex=1):
        return type(self)._derivative(sympy, self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return type(self)._definition(sympy, x)

    @classmethod
    def eval(cls, x):
        return None if cls._value is None else cls._value(sympy, x)


_DEFINED: dict[str, type] = {}


def define(name: str, *, derivative, definition, value=None) -> type:
    """The sympy function ``name`` (made once): ``derivative(sp, x)``, ``definition(sp, x)``, ``value(sp, x)``
    (None: stays unevaluated) are the registry record's."""
    if name not in _DEFINED:
        _DEFINED[name] = type(name, (Defined,), {"_derivative": staticmethod(derivative),
                                                 "_definition": staticmethod(definition),
                                                 "_value": staticmethod(value) if value else None})
    return _DEFINED[name]


class LogSumExp(_Real):
    """log(sum_j exp(z_j)); its gradient is softmax."""

    def fdiff(self, argindex=1):
        return Softmax(Integer(argindex - 1), *self.args)

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return log(sympy.Add(*[exp(a) for a in args]))

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return args[0]
        return None

    def _sympystr(self, printer):
        return f"logsumexp({', '.join(printer.doprint(a) for a in self.args)})"

    def _latex(self, printer):
        return rf"\operatorname{{logsumexp}}\left({', '.join(printer._print(a) for a in self.args)}\right)"


def _product(*factors):
    """The product of a number and distinct functions, built as sympy's Mul would build it (the same args, in the
    same order) without Mul's general flattening: the n² entries of a softmax Jacobian are such products."""
    return _unevaluated_Mul(*factors)


@lru_cache(maxsize=64)
def entries(kind: type, logits: tuple) -> tuple:
    """Every entry of one softmax-family vector (``kind`` is Softmax, SoftmaxRest or LogSoftmax), made once."""
    return tuple(kind(Integer(i), *logits) for i in range(len(logits)))


@lru_cache(maxsize=4096)
def _family(kind: type, entry) -> tuple:
    """``entries`` of ``kind`` with the logits of ``entry``: its derivatives name each sibling n times, and an
    entry hashes at once where its n logits would be hashed again at every call."""
    return entries(kind, entry.args[1:])


class _SoftmaxEntry(_Real):
    """Base of the softmax-family entries: args are (i, z0, ..., z_{n-1})."""

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def logits(self) -> tuple:
        return self.args[1:]

    def _logits_str(self, printer) -> str:
        return ", ".join(printer.doprint(a) for a in self.logits)

    def _s(self, j: int):
        return _family(Softmax, self)[j]

    def _latex_entry(self, printer, name: str) -> str:
        logits = ", ".join(printer._print(a) for a in self.logits)
        return rf"\operatorname{{{name}}}\left({logits}\right)_{{{self.index}}}"


class Softmax(_SoftmaxEntry):
    """s_i = exp(z_i) / sum_j exp(z_j)."""

    def fdiff(self, argindex=1):
        if argindex == 1:
            raise ArgumentIndexError(self, argindex)
        j = argindex - 2
        if j == self.index:
            return _product(self, _family(SoftmaxRest, self)[j])
        return _product(sympy.S.NegativeOne, self, self._s(j))  # one product, not -s_i then times s_j

    def _eval_rewrite_as_exp(self, i, *z, **kwargs):
        return exp(z[int(i)]) / sympy.Add(*[exp(a) for a in z])

    def _sympystr(self, printer):
        return f"softmax({self._logits_str(printer)})[{self.index}]"

    def _latex(self, printer):
        return self._latex_entry(printer, "softmax")


class SoftmaxRest(_SoftmaxEntry):
    """1 - s_i, kept as its own function so that no subtraction loses digits."""

    def fdiff(self, argindex=1):
        if argindex == 1:
            raise ArgumentIndexError(self, argindex)
        return _product(sympy.S.NegativeOne, Softmax(*self.args).fdiff(argindex))

    def _eval_rewrite_as_exp(self, i, *z, **kwargs):
        return 1 - Softmax(i, *z)._eval_rewrite_as_exp(i, *z)

    def _sympystr(self, printer):
        return f"(1 - softmax({self._logits_str(printer)})[{self.index}])"

    def _latex(self, printer):
        return rf"\left(1 - {self._latex_entry(printer, 'softmax')}\right)"


class LogSoftmax(_SoftmaxEntry):
    """log s_i = z_i - logsumexp(z)."""

    def fdiff(self, argindex=1):
        if argindex == 1:
            raise ArgumentIndexError(self, argindex)
        j = argindex - 2
        if j == self.index:
            return SoftmaxRest(*self.args)
        return _product(sympy.S.NegativeOne, self._s(j))

    def _eval_rewrite_as_exp(self, i, *z, **kwargs):
        return z[int(i)] - LogSumExp(*z)._eval_rewrite_as_exp(*z)

    def _sympystr(self, printer):
        return f"log_softmax({self._logits_str(printer)})[{self.index}]"

    def _latex(self, printer):
        return self._latex_entry(printer, "log\\_softmax")


CUSTOM = (Defined, LogSumExp, Softmax, SoftmaxRest, LogSoftmax)


class polygamma(sympy.polygamma):  # noqa: N801 - named as sympy's, which the printers and the registry key on
    """sympy's polygamma, evaluated at numbers through the registry's mpmath form: left of 0 mpmath's psi takes
    seconds (ψ′(−12345678.7): the verifier's whole 10 s budget), and for n ≥ 1 loses its digits."""

    def fdiff(self, argindex=2):
        if argindex != 2:
            raise ArgumentIndexError(self, argindex)
        n, x = self.args
        return polygamma(n + 1, x)  # this class again: sympy's rule makes its own

    def _eval_evalf(self, prec):
        import mpmath

        from .registry import OPS

        n, x = self.args
        if not n.is_Integer or n < 0:
            return super()._eval_evalf(prec)
        work = prec + 20
        try:
            at = x._to_mpmath(work)  # evalf(subs=…) gives x its value here, not in self.args
        except (ValueError, TypeError):
            return super()._eval_evalf(prec)
        if not isinstance(at, mpmath.mpf) or at > 0:
            return super()._eval_evalf(prec)
        with mpmath.workprec(work):
            value = OPS["polygamma"].mp(mpmath, int(n), at)
        return sympy.Float._new(value._mpf_, prec) if isinstance(value, mpmath.mpf) else None



def rewrite_elementary(expr, memo: dict | None = None):
    """The same expression with jaccli's functions written out in exp/log/Max (for exact mode and the verifier).

    Each function's own definition, applied to its arguments as they are (rewritten first): e.rewrite(exp) would
    also rewrite the arguments (x**2 as exp(2*log(x)), undefined at 0). Bottom up, as ``expr.replace`` does, but
    each distinct subexpression once: ``memo`` (shared by the entries of one result) keeps what was rewritten, so
    the 4096 entries of a Hessian at 64 inputs, which repeat the same softmax of 64 logits, walk it once, not in
    each entry (4.4 s of 8 before)."""
    if not isinstance(expr, sympy.Basic):
        return expr

    def rewritten(node, args):
        new = node if all(a is b for a, b in zip(args, node.args)) else node.func(*args)
        return new._eval_rewrite_as_exp(*new.args) if isinstance(new, CUSTOM) else new

    return bottom_up(expr, {} if memo is None else memo, rewritten)


def bottom_up(expr, memo: dict, combine):
    """``combine(node, [the results of its arguments])`` for ``expr`` and every subexpression in it, arguments first,
    each distinct subexpression once over all the calls sharing ``memo`` (which keeps the results), without
    recursion (a long derivative nests deeper than Python's stack). Arguments that are not sympy objects (a
    Piecewise's conditions are) are passed as they are."""
    stack = [expr]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        pending = [a for a in node.args if isinstance(a, sympy.Basic) and a not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        memo[node] = combine(node, [memo[a] if isinstance(a, sympy.Basic) else a for a in node.args])
    return memo[expr]

