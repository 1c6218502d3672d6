"""Every printed digit right: a symbolic result's entries at the point as typed, correctly rounded.

The engines' float64 value is the candidate (a derivative of high order computes it only for an entry left
unverified). Each entry's formula is then evaluated by sympy's ``evalf``
(which raises its own working precision until its digits are right, through cancellation) at the point as
typed (``0.1`` is 1/10, ``pi/3`` is π/3), at p and at 2p significant digits; when both round to the same
double, that double is the entry (p doubles until they agree, up to ``MAX_DIGITS``). Multi-precision numbers
have an exponent range far beyond a double's, so an intermediate overflow or underflow in float64 (``x**2``
at 1e200) does not reach the answer. The work runs under the time budget ``limits.VERIFY_SECONDS``, checked
between evaluations: an entry not verified within it keeps its float value and is named in a warning (exit 1).

sympy (and with it mpmath) is already loaded wherever there is a formula; nothing here is imported otherwise.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from fractions import Fraction

import numpy as np

from . import limits

SYMBOLIC_INPUTS = 64  # compute.SYMBOLIC_INPUTS, named in a message (compute imports this module)
START_DIGITS = 20  # the first of the two precisions compared (significant decimal digits)
MAX_DIGITS = 640  # p doubles up to here; at 320 and 640 evalf cancels 1380 and 2660 digits: a zero is settled


def point_as_typed(problem) -> dict:
    """Each sympy symbol of the problem (inputs and parameters) -> its exact value as typed."""
    from . import symbolic

    subs = {}
    for name in problem.function.variables:
        for symbol, text in zip(problem.symbols[name].flat, problem.values[name].texts.flat, strict=True):
            subs[symbol] = symbolic.constant(text, exact=True)
    return subs


def to_double(number) -> float | None:
    """A real sympy number (evalf's Float, or an Integer/Rational) rounded to the nearest double (ties to even,
    subnormals and overflow to ±inf included); nan for a complex or undefined value; None when it is no number."""
    if isinstance(number, Decimal):  # a Closed entry's value: CPython reads its text correctly rounded
        return float(number)
    mpf = getattr(number, "_mpf_", None)
    if isinstance(mpf, tuple):  # evalf's Float or an mpmath mpf: no sympy needed
        return _mpf_to_double(mpf)
    import sympy

    if number is sympy.nan or number in (sympy.zoo, sympy.oo, -sympy.oo):
        return {sympy.oo: float("inf"), -sympy.oo: float("-inf")}.get(number, float("nan"))
    if isinstance(number, sympy.Rational):
        return _fraction_to_double(Fraction(int(number.p), int(number.q)))
    if not getattr(number, "is_number", False):
        return None
    real, imag = number.as_real_imag()
    if not (isinstance(imag, (sympy.Float, sympy.Rational)) and isinstance(real, (sympy.Float, sympy.Rational))):
        return None
    if imag != 0:
        return float("nan")  # not a real number here
    return to_double(real)


def _mpf_to_double(mpf) -> float:
    sign, man, exp, bits = mpf
    if not man:
        if exp == 0 and bits == 0:  # mpmath's zero
            return -0.0 if sign else 0.0
        return float("nan") if exp == -2 or bits == -1 else (float("-inf") if sign else float("inf"))
    top = exp + bits  # the value lies in [2**(top-1), 2**top)
    if top > 1025:
        return float("-inf") if sign else float("inf")
    if top < -1076:  # below half the smallest subnormal
        return -0.0 if sign else 0.0
    value = Fraction(man) * (Fraction(2) ** exp)
    return _fraction_to_double(-value if sign else value)


def _fraction_to_double(value: Fraction) -> float:
    try:
        return value.numerator / value.denominator  # int / int: correctly rounded by Python
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


class Closed:
    """An entry given as a computation instead of a sympy formula (``softmax-jac``'s entries): ``compute(digits)``
    returns its value as a ``decimal.Decimal`` (or an mpmath mpf) with ``digits`` significant digits, and must be
    free of cancellation (sums of positive terms, products, quotients, exp), so that its relative error is a few
    units of that precision: its digits at p are then guaranteed as evalf's are, and the Verifier settles it as
    it settles a formula. Python's decimal module (loaded with ``fractions``) needs no sympy and no mpmath."""

    def __init__(self, compute):
        self.compute = compute


SHARED_TERMS = 8  # a sum of this many terms or more (or a function value), common to several formulas, is evaluated
# once per precision (Verifier.share)


class Verifier:
    """Evaluates formulas (sympy expressions, or ``Closed`` entries) at one exact point with guaranteed digits,
    within one deadline."""

    def __init__(self, subs: dict, seconds: float):
        self.exact = subs
        self.deadline = time.process_time() + seconds  # CPU time: the same result on a loaded machine
        self._approx: dict[int, dict] = {}
        self._shared: dict = {}  # long sums common to several formulas (share) -> the symbol standing for each
        self._standing: dict = {}  # a formula -> itself with those symbols in place of the sums
        self._sums: dict[int, dict] = {}  # their values, by precision

    @classmethod
    def for_result(cls, result, subs: dict) -> Verifier:
        """A verifier within ``result``'s one budget of ``limits.VERIFY_SECONDS``: the first one starts it, later
        ones (the determinant, the eigenvalues beside J) get what is left of it."""
        if result.verify_deadline is None:
            result.verify_deadline = time.process_time() + limits.VERIFY_SECONDS
        verifier = cls(subs, 0.0)
        verifier.deadline = result.verify_deadline
        return verifier

    def out_of_time(self) -> bool:
        return time.process_time() > self.deadline

    def share(self, formulas) -> None:
        """Find the long sums and the function values that several formulas have in common (a softmax Jacobian's
        N² entries all divide by the same sum of N exponentials, and each exponential stands in 2N of them): each
        is then evaluated once per precision, not once per entry, which made verifying N² entries cost N³ (and
        then, at N = 64, 6 of its 8 s)."""
        formulas = [expr for expr in formulas if expr is not None and not isinstance(expr, Closed)]
        if not formulas:  # softmax-jac's closed forms: sympy stays unimported
            return
        import sympy

        seen: dict = {}
        inside: dict = {}  # each distinct subexpression -> the long sums in it: entries share most of theirs
        for expr in formulas:
            for node in _shareable(expr, inside, sympy.Function):
                seen[node] = seen.get(node, 0) + 1
        for node, count in seen.items():
            if count > 1 and node not in self._shared:
                self._shared[node] = sympy.Dummy("shared")

    def _shared_values(self, digits: int) -> dict:
        """The symbol of each shared subexpression -> its value at the point to ``digits`` + 20 guaranteed digits;
        one evalf cannot guarantee (or that is not a real number) stays the subexpression, which evalf then
        evaluates inside each entry as before. An entry's value through them is still settled only when two
        precisions agree."""
        if digits not in self._sums:
            from sympy.core.evalf import PrecisionExhausted

            from .budget import cpu_deadline

            values = {}
            for node, symbol in self._shared.items():
                try:
                    with cpu_deadline(self.deadline):
                        value = node.evalf(digits + 20, subs=self.point(digits + 20), maxn=4 * digits + 100,
                                           strict=True)
                except (PrecisionExhausted, Exception):  # noqa: BLE001 - evaluated with the entry instead (out of
                    value = None  # time included: the entries then find out_of_time())
                values[symbol] = value if getattr(value, "is_Float", False) else node  # a Float: see point()
            self._sums[digits] = values
        return self._sums[digits]

    def point(self, digits: int) -> dict:
        """The point as Floats of ``digits`` + 10 digits (evalf treats them as exact: the error shrinks with p)."""
        if digits not in self._approx:
            import sympy

            # sympy Floats, not mpmath numbers: evalf reads an mpf directly in sums and products, but a function
            # it cannot evaluate itself (tanh) substitutes it, rounded to mpmath's 15 digits (tanh's order 20 at 0.7
            # came out at the double nearest 0.7)
            self._approx[digits] = {s: sympy.Float(v, digits + 10) if isinstance(v, sympy.Rational)
                                    else sympy.N(v, digits + 10) for s, v in self.exact.items()}
        return self._approx[digits]

    def evaluate(self, expr, digits: int, shared: bool = True):
        """``expr`` at the point to ``digits`` significant digits: (a sympy number, whether evalf guarantees
        them), or None when sympy cannot evaluate it. evalf's guarantee fails (``strict``) when a cancellation
        goes deeper than ``maxn``, which grows with ``digits``; its best value is then returned unguaranteed."""
        if isinstance(expr, Closed):
            return expr.compute(digits + 10), True
        from sympy.core.evalf import PrecisionExhausted

        subs = self.point(digits)
        if self._shared and shared:
            # each shared subexpression a symbol whose value comes with the point: evalf reads it, where putting the
            # number into the formula rebuilt every product around it at each precision (5 s of a softmax Jacobian
            # at 64 logits)
            if expr not in self._standing:
                self._standing[expr] = expr.xreplace(self._shared)
            expr = self._standing[expr]
            subs = {**subs, **self._shared_values(digits)}
        from .budget import CpuTimeUp, cpu_deadline

        try:
            with cpu_deadline(self.deadline):  # one evalf that runs away ends with the budget, not after it
                try:
                    return expr.evalf(digits, subs=subs, maxn=4 * digits + 100, strict=True), True
                except PrecisionExhausted:
                    return expr.evalf(digits, subs=subs, maxn=4 * digits + 100), False
        except CpuTimeUp:  # the timer's tick may come a little before process_time() passes the deadline
            self.deadline = min(self.deadline, time.process_time())
            return None
        except Exception:  # noqa: BLE001 - a form evalf cannot evaluate: the entry stays unverified
            return None

    def _settle(self, expr, digits: int, last: int, form, zero=None, shared: bool = True):
        """``form(number)`` of ``expr`` at the point, at ``digits``, 2·``digits``, … up to ``last`` digits: settled
        when two guaranteed evaluations in a row give the same form (or both are nan), or when, at the last two,
        evalf finds nothing but zero after cancelling more than 4·p digits (the value is 0 to any printed
        precision), or when ``zero(number)`` says an unguaranteed number is zero in this form. None if unsettled,
        not a number, or out of time."""
        previous = None
        while digits <= last and not self.out_of_time():
            answer = self.evaluate(expr, digits, shared)
            if answer is None:
                return None
            number, guaranteed = answer
            current = form(number)
            if current is None:
                return None
            if guaranteed and previous == (current, True) or (
                    current != current and previous is not None and previous[0] != previous[0]):
                return current
            if not guaranteed and (2 * digits > last and previous == (current, False) and not current
                                   or zero is not None and zero(number)):
                return current
            previous = (current, guaranteed)
            digits *= 2
        return None

    def double(self, expr) -> float | None:
        """The exact value of ``expr`` at the point, rounded to the nearest double; None if not settled in time."""
        return self._settled(expr, START_DIGITS, MAX_DIGITS, to_double, _below_doubles)

    def digits(self, expr, count: int) -> str | None:
        """``expr`` at the point to ``count`` correct significant digits (the decimal rounded to nearest), as
        text (``0`` for zero, ``nan`` where it is not a real number); None if not settled in time."""
        def form(number):
            return _decimal(number, count)

        answer = self._settled(expr, count + 10, 4 * MAX_DIGITS, form)
        if answer is None and not isinstance(expr, Closed) and self._exactly_zero(expr):
            return "0"  # -sin(x) at pi: at every precision the rounded pi leaves a tiny value that never settles
        return answer

    def _exactly_zero(self, expr) -> bool:
        """Whether sympy proves ``expr`` zero at the exact point (sin(pi) is 0), within what is left of the budget."""
        return bool(self.decide(lambda: expr.xreplace(self.exact).is_zero is True))

    def decide(self, question):
        """``question()`` (a sympy question about exact values) within what is left of the budget; None when time runs
        out or sympy cannot answer (an exception): callers take that as "not proved"."""
        from .budget import CpuTimeUp, cpu_deadline

        try:
            with cpu_deadline(self.deadline):
                return question()
        except CpuTimeUp:
            self.deadline = min(self.deadline, time.process_time())
            return None
        except Exception:  # noqa: BLE001 - a form sympy cannot decide: not proved
            return None

    def _settled(self, *args):
        """``_settle`` through the shared values, and if that does not settle, on the formula alone: a value that is
        exactly zero through a cancellation of shared values (sin² + cos² − 1) comes out of their rounded numbers as
        a tiny nonzero at every precision, where evalf on the formula itself finds the total cancellation."""
        answer = self._settle(*args)
        if answer is None and self._shared and not self.out_of_time():
            answer = self._settle(*args, shared=False)
        return answer


def _shareable(expr, inside: dict, function) -> frozenset:
    """The subexpressions of ``expr`` worth evaluating once for several formulas: sums of ``SHARED_TERMS`` terms or
    more, and function values (exp(x[3])). Each distinct subexpression is visited once over all the calls sharing
    ``inside`` (a walk of every entry's tree took 2.6 s of a Hessian at 64 inputs)."""
    from .special import bottom_up

    def found(node, inner):
        sums = frozenset().union(*(part for part in inner if isinstance(part, frozenset)))
        if node.is_Add and len(node.args) >= SHARED_TERMS or isinstance(node, function):
            sums |= {node}
        return sums

    return bottom_up(expr, inside, found)


def _below_doubles(number) -> bool:
    """Whether evalf's unguaranteed answer is a zero whose bound (a 1-bit Float: 2**-747 after a total
    cancellation) lies below half the smallest subnormal: whatever it hides rounds to 0."""
    import sympy

    if not isinstance(number, sympy.Float):
        return False
    _, man, exp, bits = number._mpf_
    return bool(man) and exp + bits < -1076


def _decimal(number, count: int) -> str | None:
    if isinstance(number, Decimal):  # a Closed entry's value
        import mpmath

        if not number.is_finite():
            return "nan" if number.is_nan() else ("inf" if number > 0 else "-inf")
        bits = 4 * (len(number.as_tuple().digits) + count) + 64  # more than the decimal holds: exact enough
        text = decimal_text(mpmath.libmp.from_str(str(number), bits, "n"), count)
        return "" if text == "0" else text
    import sympy

    if not getattr(number, "is_number", False):
        return None
    real, imag = number.as_real_imag()
    if imag != 0:
        return "nan"
    if real in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or not isinstance(real, (sympy.Float, sympy.Rational)):
        return {sympy.oo: "inf", -sympy.oo: "-inf"}.get(real, "nan")
    text = decimal_text(sympy.Float(real, count + 10), count)
    return "" if text == "0" else text  # falsy: a zero, which _settle may accept unguaranteed


def decimal_text(number, count: int) -> str:
    """A sympy Float (or an mpf tuple) with ``count`` significant digits: ``1.2345e-11``, ``0.125``; exact zero
    is ``0``."""
    import mpmath

    mpf = getattr(number, "_mpf_", number)
    if not mpf[1]:
        return "0"
    return mpmath.libmp.to_str(mpf, count, strip_zeros=False, min_fixed=-4, max_fixed=count + 1)


def correctly_rounded(result, exprs: np.ndarray, point: dict, value: np.ndarray, kinks=(), beside: str | None = None,
                      verifier: Verifier | None = None) -> np.ndarray:
    """``value`` with each entry replaced by its formula's exact value at ``point`` (each symbol -> its value as
    typed: ``point_as_typed``), rounded to the nearest double; entries not settled within
    ``limits.VERIFY_SECONDS`` keep their float value, are named in a warning, and fail the run (exit 1).
    ``exprs`` (sympy formulas or ``Closed`` entries, shaped like ``value``) and ``point`` stay on the result,
    for ``--digits``. Every command whose numbers have a formula at a point goes through here.

    ``beside``: the name of numbers printed beside the result (a panel, e.g. J_F of a chain), rounded the same
    way; ``verifier``: one shared by several calls, so that together they keep to one time budget."""
    if beside is None:
        result.as_typed, result.exact_point = exprs, point
    lazy = callable(value)  # the float64 value computed only if some entry needs it (compute.Numbers.candidate)
    if kinks or not lazy and np.shape(value) != exprs.shape:  # on a kink the value is a convention (a warning says so)
        return value() if lazy else value
    verifier = verifier or Verifier.for_result(result, point)
    unverified = []
    memo: dict = {}
    formulas = {index: prepared(exprs[index], memo) for index in np.ndindex(exprs.shape)}
    on_kink = _kinks_as_typed(formulas.values(), point, verifier)
    if on_kink:  # float64 landed beside a kink the typed point is on: each formula with the point put in exactly
        formulas = {index: expr if expr is None or isinstance(expr, Closed) else expr.xreplace(point)
                    for index, expr in formulas.items()}
        result.warnings.append(
            f"non-differentiable point ({', '.join(sorted(on_kink))}): at the point as typed an argument of the "
            "formula sits exactly on a kink; the value uses sign(0) = 0 and step(0) = 1/2")
    verifier.share(formulas.values())
    settled: dict = {}  # a formula -> its double: a Hessian's (i, j) and (j, i) are one formula, settled once
    exacts = {}
    for index, expr in formulas.items():
        if expr is None:
            continue
        if expr not in settled:
            settled[expr] = None if verifier.out_of_time() else verifier.double(expr)
            if settled[expr] == 0 and _undefined_as_typed(expr, point, verifier):
                settled[expr] = math.nan
        exacts[index] = settled[expr]
    if not lazy:
        fixed = np.array(value, dtype=float)
    elif len(exacts) < len(formulas) or any(exact is None or exact != exact for exact in exacts.values()):
        fixed = np.array(value(), dtype=float).reshape(exprs.shape)
    else:
        fixed = np.empty(exprs.shape)
    for index, exact in exacts.items():
        if exact is None or exact != exact:  # no value, or undefined: in doubt only beside a finite float
            if np.isfinite(fixed[index]):
                unverified.append(index)
        else:
            fixed[index] = 0.0 if exact == 0 else exact  # -0.0 would only say which side a rounding fell
    if unverified:
        result.failed = True
        names = _entry_names(result, unverified) if beside is None else "; ".join(
            f"{beside}[{', '.join(map(str, index))}]" if index else beside for index in unverified[:6]) + (
            "; …" if len(unverified) > 6 else "")
        why = f"within the time budget of {limits.VERIFY_SECONDS:g} s of CPU" if verifier.out_of_time() else "here"
        result.warnings.append(f"{len(unverified)} of {exprs.size} entries could not be verified to the last digit "
                               f"{why} ({names}): they are float64 values, and their last digits may be wrong")
    return fixed


def _undefined_as_typed(expr, point: dict, verifier: Verifier) -> bool:
    """Whether a formula that evaluated to 0 is 0/0 at the exact point: evalf takes a product with a zero factor
    for 0 whatever the others (std(x)′ = (x₀ − mean)/(n·std) at a constant x came out 0, silently, where the
    derivative does not exist and float64 says NaN). A literal 0 and what sympy cannot decide are not."""
    if isinstance(expr, Closed) or not getattr(expr, "free_symbols", None):
        return False
    import sympy

    return bool(verifier.decide(lambda: expr.xreplace(point).has(sympy.nan, sympy.zoo)))


MAX_KINK_CHECKS = 200  # arguments of sign/step/max/min/where asked whether they are exactly 0 at the typed point


def _kinks_as_typed(formulas, point: dict, verifier: Verifier) -> set[str]:
    """The kinds of kink (sign, step, max, where) whose argument is exactly 0 at the point as typed, as sympy proves
    it: abs(sin(x))′ = cos(x)·sign(sin(x)) at pi, where float64's sin(π) is 1.2e-16 and every rounding of π the
    verifier tries lands on the same side, so that all agreed on −1 where the value (sign(0) = 0) is 0. Up to
    ``MAX_KINK_CHECKS`` arguments, within the verifier's time."""
    formulas = [expr for expr in formulas if expr is not None and not isinstance(expr, Closed)]
    if not formulas:  # softmax-jac's entries (Closed): no sympy to import
        return set()
    import sympy

    kinds = {sympy.sign: "sign", sympy.Heaviside: "step", sympy.Max: "max", sympy.Min: "min",
             sympy.Piecewise: "where"}
    arguments: list = []
    stack = [expr for expr in formulas if isinstance(expr, sympy.Basic)]
    seen: set = set()
    while stack:  # each distinct subexpression once over all the entries (a Hessian's share most of theirs)
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(arg for arg in node.args if isinstance(arg, sympy.Basic))
        kind = next((kinds[k] for k in kinds if isinstance(node, k)), None)
        if kind in ("sign", "step"):
            arguments.append((kind, node.args[0]))
        elif kind == "where":
            relational = sympy.core.relational.Relational
            arguments += [(kind, c.lhs - c.rhs) for _, c in node.args if isinstance(c, relational)]
        elif kind is not None:  # a tie of two arguments of max or min
            arguments += [(kind, a - b) for k, a in enumerate(node.args) for b in node.args[k + 1:]]
        if len(arguments) > MAX_KINK_CHECKS:
            return set()
    def zeros() -> set[str]:
        found: set[str] = set()
        for name, argument in arguments:
            if name not in found and argument.free_symbols and argument.xreplace(point).is_zero is True:
                found.add(name)
        return found

    return verifier.decide(zeros) or set()


def prepared(expr, memo: dict | None = None):
    """An entry as the Verifier takes it: a ``Closed`` entry as it is, a sympy formula with the special functions
    rewritten in elementary ones (evalf knows those); None for anything else (a text cell). ``memo``: one dict
    for the entries of one result, which share their subexpressions (``special.rewrite_elementary``)."""
    if isinstance(expr, Closed):
        return expr
    import sympy

    if not isinstance(expr, sympy.Expr):
        return None
    from .special import rewrite_elementary

    return rewrite_elementary(expr, memo)


def _entry_names(result, indices: list, digits: np.ndarray | None = None) -> str:
    """The labels of the first few entries at ``indices``; with ``digits``, each entry's estimated correct digits."""
    flat = [int(np.ravel_multi_index(i, result.shape)) if result.shape else 0 for i in indices]
    rows, columns = result.rows, result.columns
    labels = []
    for index, k in zip(indices[:6], flat[:6]):
        row, column = divmod(k, len(columns))
        labels.append(rows[row] if len(columns) == 1 else f"{rows[row]}, {columns[column]}")
        if digits is not None:
            labels[-1] += f": {_digits_text(digits[index])}"
    return "; ".join(labels) + ("; …" if len(flat) > 6 else "")


def _digits_text(digits: float) -> str:
    count = int(math.floor(digits))
    return "no digit" if count < 1 else f"{count} digit{'s' * (count > 1)}"


def precise_jacobian(problem, numbers, seconds: float = limits.VERIFY_SECONDS):
    """What ``--check`` compares with when float64 differences disagree (they share the function's cancellation):
    the m×n matrix ``verify.check`` maps to the result (Jacobian of the function's formula; its Hessian for
    hessian/hvp; for ``derivative``, the k-th derivative along ``wrt`` as one column), by mpmath's numeric
    differentiation of the formula evaluated by ``evalf`` at the point as typed, at p and 2p digits until
    both agree to 1e-15. A tuple (matrix, method), or None (no formula, or not settled within ``seconds``)."""
    import mpmath
    import sympy

    from .special import rewrite_elementary

    outputs = [rewrite_elementary(e) for e in problem.exact_outputs.flat]
    exact = point_as_typed(problem)
    kind = numbers.kind
    if kind == "derivative":
        names = [numbers.params["wrt"]]
    else:
        names = list(problem.names)
    symbols = [s for name in names for s in problem.symbols[name].flat]
    others = {s: v for s, v in exact.items() if s not in set(symbols)}
    deadline = time.process_time() + seconds

    def value(expr, args):
        if time.process_time() > deadline:
            raise TimeoutError
        dps = mpmath.mp.dps
        subs = {s: sympy.Float(a, dps) for s, a in zip(symbols, args, strict=True)}
        subs.update({s: sympy.N(v, dps + 10) for s, v in others.items()})
        number = expr.evalf(dps, subs=subs)
        real, imag = number.as_real_imag()
        if imag != 0 or not isinstance(real, sympy.Float):
            raise ValueError("not a real number")
        return mpmath.mpf(real._mpf_)

    def d(func, x, order: int, scale):
        """The ``order``-th derivative of ``func`` at ``x`` by central differences with a step relative to
        ``scale`` (the input's own size: a step of 2**-prec at x = 1e100 would not move it)."""
        return mpmath.diff(func, x, order, h=mpmath.ldexp(scale, -mpmath.mp.prec - 10))

    def matrix(dps: int) -> np.ndarray:
        with mpmath.workdps(dps):
            x0 = [mpmath.mpf(sympy.Float(sympy.N(exact[s], dps + 10), dps + 10)._mpf_) for s in symbols]
            sizes = [abs(x) for x in x0 if x]
            smallest = min(sizes) if sizes else mpmath.mpf(1)
            scale = [abs(x) if x else smallest for x in x0]

            def moved(j, t, args=None):
                args = list(x0 if args is None else args)
                args[j] = t
                return args

            if kind == "derivative":
                order = numbers.params["order"]
                return np.array([[d(lambda t, e=e: value(e, [x + t for x in x0]), 0, order, max(scale))]
                                 for e in outputs], dtype=object)
            if kind in ("hessian", "hvp"):
                (f,) = outputs

                def second(j, k):
                    if j == k:
                        return d(lambda t: value(f, moved(j, t)), x0[j], 2, scale[j])
                    return d(lambda t: d(lambda u: value(f, moved(k, u, moved(j, t))), x0[k], 1, scale[k]),
                             x0[j], 1, scale[j])

                return np.array([[second(j, k) for k in range(len(x0))] for j in range(len(x0))], dtype=object)
            return np.array([[d(lambda t, e=e, j=j: value(e, moved(j, t)), x0[j], 1, scale[j])
                              for j in range(len(x0))] for e in outputs], dtype=object)

    try:
        digits, previous = 30, matrix(30)
        while digits < 1920:
            digits *= 2
            current = matrix(digits)
            if all(mpmath.almosteq(a, b, 1e-15, 0) for a, b in zip(previous.flat, current.flat)):
                as_float = np.array([float(v) for v in current.flat]).reshape(current.shape)
                return as_float, f"mpmath differences of the formula at the point as typed ({digits} digits)"
            previous = current
    except (TimeoutError, ValueError, ZeroDivisionError, TypeError):
        return None
    return None


def attach_digits(result, count: int) -> None:
    """``result.digits``: each entry to ``count`` correct significant digits as text, from its formula at the
    point as typed (``--digits``; the formulas and point ``correctly_rounded`` kept); entries not settled within
    ``limits.VERIFY_SECONDS`` are named in a warning (exit 1) and shown as ``?``."""
    from .errors import JaccliError

    limits.check_digits(count)
    if result.value is None:
        raise JaccliError("--digits needs a point: give --at")
    if result.exact is not None:
        raise JaccliError("--exact prints exact values and --digits decimals of them: give one")
    if result.as_typed is None or result.exact_point is None:
        raise JaccliError(f"--digits needs the formula, and this result has none (more than {SYMBOLIC_INPUTS} input "
                          "values, a product computed without forming J, or a derivative too large to write out): its "
                          "numbers are float64")
    verifier = Verifier(result.exact_point, limits.VERIFY_SECONDS)
    texts = np.empty(result.shape, dtype=object)
    unsettled = []
    memo: dict = {}
    for index in np.ndindex(result.shape):
        expr = prepared(result.as_typed[index], memo)
        text = None if verifier.out_of_time() or expr is None else verifier.digits(expr, count)
        if text is None:
            unsettled.append(index)
        texts[index] = "?" if text is None else (text or "0")
    result.digits = texts
    if unsettled:
        result.failed = True
        why = f"within the time budget of {limits.VERIFY_SECONDS:g} s of CPU" if verifier.out_of_time() else "here"
        result.warnings.append(f"{len(unsettled)} of {texts.size} entries could not be given to {count} digits {why} "
                               f"({_entry_names(result, unsettled)}): they are shown as ?")


ESTIMATE_ENTRIES = 100_000  # results up to this size get the full estimate at a point; larger ones a cheaper one
SAMPLES = 2  # evaluations with random rounding beside the ordinary one: CESTAC's N = 3 samples
WIDE_SAMPLES = 3  # the longdouble re-evaluation where float64 is in doubt or disagrees: rare, so N = 4 (τ = 3.182)
POINT_SAMPLES = 1  # --points: N = 2, half the cost (measured: 1 of 1400 cancelling entries 1 digit optimistic, not 0)
AMPLIFY = 1024.0  # the random rounding's relative errors, in unit roundoffs (see estimate_points)
STUDENT = {2: 12.706, 3: 4.303, 4: 3.182}  # Student's t at 95 % with N - 1 degrees of freedom: CESTAC's τ_β
FULL_DIGITS = 53 * math.log10(2)  # 15.95: a double's significant digits, when the samples agree to the last bit
TRUSTED_DIGITS = 10  # an entry with fewer correct significant digits by the estimate is named in a warning
SEED = 15  # the random roundings are seeded: a run gives the same estimate every time
NAMED_POINTS = 10  # --points: the points with entries in doubt named one by one; the rest are counted


def significant_digits(samples, amplify: float = AMPLIFY) -> np.ndarray:
    """The correct significant decimal digits of each entry, estimated from N samples (arrays) of one computation:
    the first rounded as usual, the others at random with errors ``amplify`` times the usual ones. As CESTAC
    (Vignes 1993): log10(√N·|v| / (τ·σ)), with v the first sample and σ the samples' standard deviation divided
    by ``amplify`` (rounding errors scale with the unit roundoff, to first order); clipped to [0, ``FULL_DIGITS``].
    ``FULL_DIGITS`` where the samples are equal (exact zeros included); 0 where only noise is left or they differ
    in finiteness (an overflow, NaN-tainted, in some samples only); NaN where every sample is the same non-finite
    value."""
    count = len(samples)
    first = np.asarray(samples[0], dtype=float)
    with np.errstate(all="ignore"):
        total = np.zeros_like(first)
        squares = np.zeros_like(first)
        scale = np.abs(first)
        for sample in samples[1:]:  # relative deviations from the first sample: their squares neither overflow
            deviation = sample - first  # nor underflow (a deviation of 1e-307 squared is 0)
            deviation /= scale
            total += deviation
            deviation *= deviation
            squares += deviation
        total *= total
        total /= count
        squares -= total  # the sum of squared deviations from the mean (the first sample's deviation is 0)
        np.maximum(squares, 0.0, out=squares)
        ratio = np.sqrt(squares, out=squares)
        ratio *= STUDENT[count] / (amplify * math.sqrt(count) * math.sqrt(count - 1))
        digits = np.log10(ratio, out=ratio)
        np.negative(digits, out=digits)
        np.clip(digits, 0.0, FULL_DIGITS, out=digits)
    odd = np.isnan(digits)  # 0/0 (equal zeros) or non-finite samples: few entries, decided one by one
    if odd.any():
        some = np.stack([np.asarray(sample, dtype=float)[odd] for sample in samples])
        finite = np.isfinite(some)
        equal = (some == some[0]).all(axis=0) | np.isnan(some).all(axis=0)
        digits[odd] = np.where(finite.all(axis=0) & equal, FULL_DIGITS,
                               np.where(~finite.any(axis=0) & equal, np.nan, 0.0))
    return digits


def _samples(evaluate, columns: np.ndarray, first: np.ndarray, count: int,
             inexact: np.ndarray | None = None) -> list[np.ndarray]:
    """``first`` (the ordinary evaluation of ``columns``) and ``count`` evaluations with random rounding. ``inexact``:
    the entries of ``columns`` that are themselves roundings of the point as typed (0.1 in longdouble), perturbed
    like a computed value: atanh′ at 0.9999999999 has 10 digits fewer than longdouble's, all of them lost there."""
    from .evaluate import random_rounding

    out = [first]
    for k in range(count):
        rng = np.random.default_rng([SEED, k])
        moved = columns
        if inexact is not None and inexact.any():
            size = float(np.finfo(columns.dtype).eps) / 2 * AMPLIFY
            factors = 1 + rng.uniform(-size, size, columns.shape).astype(columns.dtype)
            moved = np.where(inexact, columns * factors, columns)
        with random_rounding(rng, AMPLIFY), np.errstate(all="ignore"):
            out.append(np.asarray(evaluate(moved), dtype=float).reshape(first.shape))
    return out


def _digits_below(samples, trusted: float) -> np.ndarray:
    """``significant_digits`` of the entries that may have fewer than ``trusted`` digits; +inf for the others.
    Those are cleared in a few passes: σ is at most the largest deviation from the first sample, so an entry whose
    deviations all lie within √N·|v|·amplify / (τ·10^trusted) has at least ``trusted`` digits."""
    first = samples[0]
    with np.errstate(all="ignore"):
        spread = np.abs(samples[1] - first)
        for sample in samples[2:]:
            np.maximum(spread, np.abs(sample - first), out=spread)
        bound = np.abs(first)
        bound *= math.sqrt(len(samples)) * AMPLIFY / (STUDENT[len(samples)] * 10.0 ** trusted)
        maybe = ~(spread <= bound)  # NaN spreads (non-finite samples) included
    digits = np.full(first.shape, np.inf)
    if maybe.any():
        digits[maybe] = significant_digits([sample[maybe] for sample in samples])
    return digits


def estimate_points(evaluate, columns: np.ndarray, value: np.ndarray, samples: int = SAMPLES, widen: bool = False,
                    typed: np.ndarray | None = None,
                    inexact: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The numeric path's check, with no formula: ``value`` (P points × entries, float64, from ``evaluate(columns)``)
    and each entry's correct significant digits as CESTAC estimates them (Vignes 1993), from ``samples`` more
    evaluations in which every operation's result gets a random relative error (``evaluate.random_rounding``). Where
    those digits are fewer than ``TRUSTED_DIGITS`` or the value is not finite (a cancellation, an intermediate
    overflow or underflow), those points are evaluated again, with the same estimate, in numpy's longdouble (11 more
    bits, exponents to ±4932, where the platform has it), and the entries it trusts are taken from there: x**2 at
    1e200 no longer overflows.
    Returns (value, digits): the digits of the entries with fewer than ``TRUSTED_DIGITS`` (+inf for the others; NaN
    where the value is the same non-finite number in every sample).

    ``widen``: every point is evaluated in longdouble, at ``typed`` (the points as typed, in longdouble: 1e-8 to 64
    bits, not the double nearest it) when given. Where that agrees with float64 to ``TRUSTED_DIGITS``, it is the
    better rounded value; where it does not though float64 seemed to hold them, one of the two is wrong: either
    the function is so sensitive that the point's own rounding to a double moved it (tan(1/x) at 1e-8), or the
    float64 estimate missed a cancellation. The longdouble value then gets its own estimate, and is taken where
    that trusts it; an entry it does not is in doubt."""
    digits = _digits_below(_samples(evaluate, columns, value, samples), TRUSTED_DIGITS)
    retry = (digits < TRUSTED_DIGITS) | ~np.isfinite(value)
    if not (retry.any() or widen) or np.finfo(np.longdouble).maxexp <= np.finfo(float).maxexp:
        return value, digits
    rows = np.arange(len(value)) if widen else np.flatnonzero(retry.reshape(len(value), -1).any(axis=1))
    wide_columns = np.asarray(columns[rows] if typed is None else typed[rows], dtype=np.longdouble)
    try:
        with np.errstate(all="ignore"):
            wide_value = np.asarray(evaluate(wide_columns), dtype=float).reshape((len(rows),) + value.shape[1:])
            agree = np.abs(wide_value - value[rows]) <= 10.0 ** -TRUSTED_DIGITS * np.abs(value[rows])
        check = retry[rows] | (np.isfinite(wide_value) & ~agree) if widen else retry[rows]
        loose = None if inexact is None or typed is None else inexact[rows]  # the typed point's roundings
        count = max(samples, WIDE_SAMPLES) if widen else samples
        wide_digits = (_digits_below(_samples(evaluate, wide_columns, wide_value, count, loose), TRUSTED_DIGITS)
                       if check.any() else np.full(wide_value.shape, np.inf))  # all agree: no samples
    except TypeError:  # an operation numpy has no longdouble form of (det, inv, solve: LAPACK): float64 it stays
        return value, digits
    old_digits = np.where(np.isfinite(value[rows]), np.nan_to_num(digits[rows], nan=0.0), -1.0)
    # a wider value is taken where it is trusted, or where float64 has no number and it has one with some digits,
    # or where float64 seemed sure but disagrees with it (the value at the point as typed, with its own estimate)
    disagree = check & ~retry[rows]
    better = check & np.isfinite(wide_value) & ((wide_digits >= TRUSTED_DIGITS) | (old_digits < 0)
                                                & (wide_digits >= 1) | disagree)
    if widen:  # an entry float64 holds to its trusted digits: the 11 more bits round it better (not worse)
        better |= ~check & np.isfinite(wide_value) & agree
    value, digits = value.copy(), digits.copy()
    value[rows] = np.where(better, wide_value, value[rows])
    digits[rows] = np.where(better & check, wide_digits, digits[rows])
    return value, digits


def in_doubt(value: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """The finite entries with fewer than ``TRUSTED_DIGITS`` correct digits by the estimate."""
    return np.isfinite(value) & (digits < TRUSTED_DIGITS)


def estimate_rows(numbers, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``--points``: ``values`` (P × the result's shape, from ``numbers.at(columns)``) checked row by row as
    ``estimate_points`` does, with ``POINT_SAMPLES`` (each evaluation costs up to a tenth of a --points run);
    (values, digits, entries in doubt), each P × the result's shape."""
    def evaluate(batch):
        return numbers.at(batch)[0]

    fixed, digits = estimate_points(evaluate, columns, np.asarray(values, dtype=float), POINT_SAMPLES)
    return fixed, digits, in_doubt(fixed, digits)


def row_warning(result, number: int, digits: np.ndarray, doubt: np.ndarray) -> str:
    """The warning for point ``number`` (1-based, in the order the results are written) of ``--points``."""
    indices = [tuple(int(i) for i in index) for index in np.argwhere(doubt.reshape(result.shape))]
    return (f"point {number}: {len(indices)} of {doubt.size} entries have fewer than {TRUSTED_DIGITS} correct "
            f"significant digits by a random-rounding estimate "
            f"({_entry_names(result, indices, digits.reshape(result.shape))})")


MULTI_DIGITS = (30, 60, 120, 240)  # the precisions of the numeric path's mpmath evaluations, in decimal digits


def multi_precision(evaluate, columns, shape: tuple[int, ...], value: np.ndarray,
                    point: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The numeric path's correctly rounded values: ``evaluate(columns())`` (the derivative's graph evaluated by the
    engines in mpmath numbers, the point as typed made by ``columns`` at the working precision) at 30, 60, 120 and
    240 digits, as long as entries are left unsettled and the limits allow (``limits.MULTI_WORK`` entries made per
    evaluation, ``limits.MULTI_SECONDS`` of CPU in all). Every computed value is moved by a random relative error
    of up to 2^(10 − p) (p bits: ``Evaluator._jittered``), and an entry is settled when two precisions in a row
    round to the same double: a cancellation of d digits leaves about 27 − d correct at 30 digits and 57 − d at
    60, so the two disagree until the precision covers it, and the random errors keep a term absorbed entirely
    (1 + 1e-40 − 1 is 0 below 40 digits) from giving one wrong value at every precision; mpmath's exponents do not
    overflow, so neither does x**2 at 1e200.
    A NaN or an infinity is taken only where float64's ``value`` is the same (mpmath raises on 1/0 where numpy gives
    inf).
    Returns (values, settled, complete): values and settled of ``shape``; complete when every precision was
    evaluated (an entry still unsettled then disagrees at 120 and 240 digits: its float64 value is not to be
    trusted either). Nothing is settled when the graph has an operation without an mpmath form or the first
    precisions go past the limits. The work is counted first on an evaluation in float64
    at ``point`` (the same nodes, the same sizes): a graph past ``limits.MULTI_WORK`` is not started."""
    from .evaluate import NotMulti, TooMuchWork, WorkLimit, multi_precision_limits

    deadline = time.process_time() + limits.MULTI_SECONDS
    out = np.full(shape, np.nan)
    settled = np.zeros(shape, dtype=bool)
    try:
        with multi_precision_limits(WorkLimit(limits.MULTI_WORK, deadline)), np.errstate(all="ignore"):
            evaluate(np.asarray(point, dtype=float)[None])
    except TooMuchWork:
        return out, settled, False
    import mpmath

    previous = None
    value = np.asarray(value, dtype=float).reshape(shape)
    complete = False
    for digits in MULTI_DIGITS:
        try:
            limit = WorkLimit(limits.MULTI_WORK, deadline, np.random.default_rng([SEED, digits]))
            with mpmath.workdps(digits), multi_precision_limits(limit):
                numbers = np.asarray(evaluate(columns()), dtype=object)
        except (TooMuchWork, NotMulti):
            break
        except (ArithmeticError, ValueError, TypeError):  # mpmath raises where numpy gives inf or NaN (a norm of 0
            break  # divided by inside a rule): those entries keep float64 and its estimate
        doubles = np.array([_number_to_double(v) for v in numbers.reshape(-1).tolist()], dtype=float).reshape(shape)
        if previous is not None:
            # a value that is not finite is taken only where float64's is the same: garbage past 1e308 at two
            # precisions is infinite at both
            finite = np.isfinite(doubles) | (doubles == value) | np.isnan(doubles) & np.isnan(value)
            agree = ((doubles == previous) | np.isnan(doubles) & np.isnan(previous)) & finite
            new = agree & ~settled
            out[new] = doubles[new]
            settled |= agree
            if settled.all():
                break
        previous = doubles
    else:
        complete = True
    return out, settled, complete


def _number_to_double(number) -> float:
    """An entry of an evaluation in mpmath numbers (an mpf, or a plain number a structural zero left) as a double."""
    mpf = getattr(number, "_mpf_", None)
    if mpf is not None:
        return _mpf_to_double(mpf)
    if isinstance(number, (int, float, np.integer, np.floating)):
        return float(number)
    return float("nan")  # complex (mpc): no real value


def estimate(result, numbers, point: np.ndarray, value: np.ndarray, typed=None) -> np.ndarray:
    """``value`` (a result at one point, no formula) checked by ``estimate_points`` (``typed()``: the point as typed, in
    longdouble, for the wider evaluation): its entries in doubt are named
    in a warning with their estimated correct digits (exit 1); an entry the wider evaluation settles is replaced.
    Up to ``ESTIMATE_ENTRIES`` entries: ``SAMPLES`` randomly rounded evaluations, and the whole result evaluated
    in longdouble as well (``widen``); beyond, ``POINT_SAMPLES`` (one evaluation more, as a ``--points`` line
    gets) and longdouble only when some entry is in doubt: the JAX rows of bench/run.py have no room for more."""
    if point.size == 0:
        return value

    def evaluate(columns):
        return numbers.at(columns)[0]

    large = value.size > ESTIMATE_ENTRIES
    wide, inexact = (None, None) if large or typed is None else (part[None] for part in typed())
    fixed, digits = estimate_points(evaluate, np.asarray(point)[None], np.asarray(value, dtype=float)[None],
                                    POINT_SAMPLES if large else SAMPLES, widen=not large, typed=wide, inexact=inexact)
    fixed, digits = fixed[0].reshape(np.shape(value)), digits[0].reshape(np.shape(value))
    columns = getattr(numbers, "multi_columns", None)
    if columns is not None and not large:  # correctly rounded where the graph is small enough for mpmath
        exact, settled, complete = multi_precision(lambda c: numbers.at(c)[0][0], columns, np.shape(value), value,
                                                   point)
        fixed = np.where(settled, exact, fixed)
        digits = np.where(settled, np.inf, digits)
        unsettled = complete & ~settled & np.isfinite(fixed) & ~in_doubt(fixed, digits)
    else:
        unsettled = np.zeros(np.shape(value), dtype=bool)
    doubt = in_doubt(fixed, digits)
    if doubt.any():
        result.failed = True
        indices = [tuple(int(i) for i in index) for index in np.argwhere(doubt)]
        result.warnings.append(f"{len(indices)} of {value.size} entries have fewer than {TRUSTED_DIGITS} correct "
                               f"significant digits by a random-rounding estimate "
                               f"({_entry_names(result, indices, digits)}): with no formula to verify them (more "
                               f"than {SYMBOLIC_INPUTS} inputs), a cancellation or an intermediate overflow "
                               "in float64 cost them")
    if unsettled.any():  # float64 and its estimate may agree on a value mpmath finds wrong at 240 digits
        result.failed = True
        indices = [tuple(int(i) for i in index) for index in np.argwhere(unsettled)]
        result.warnings.append(f"{len(indices)} of {value.size} entries did not settle in mpmath at "
                               f"{MULTI_DIGITS[0]} to {MULTI_DIGITS[-1]} digits ({_entry_names(result, indices)}): "
                               "a cancellation or an absorbed term deeper than that; their float64 values may be "
                               "wrong in any digit")
    return fixed
