"""Evaluate IR with numpy: one engine for one point, many points, and many seeds at once.

Every value carries ``nb`` leading batch axes (points, seeds of a Jacobian, or both), then the
node's own shape. Variables come in with their batch axes; constants get axes of length 1, so
numpy broadcasting lines everything up. Elementwise operations get their arguments aligned
(own shapes padded to the result's rank); structural ones index from the end. A row of a
batch is therefore the single-point result to the last bit: the same operations on the same
numbers.

Inside ``random_rounding(rng)`` every evaluator rounds at random (CESTAC, Vignes 1993), for the
numeric path's error estimate: see ``Evaluator._rounded``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from . import ir

MULTI = np.dtype(object)  # the dtype of arrays of mpmath numbers (accuracy.multi_precision)
_ROUNDING: contextvars.ContextVar = contextvars.ContextVar("jaccli_random_rounding", default=None)


class RandomRounding:
    """Random relative errors of up to u·``amplify`` (u the unit roundoff: 2⁻⁵³ in float64), drawn from ``rng``.

    The factors 1 + ξ·u·amplify (ξ uniform in [-1, 1]) come from a pool drawn once per dtype, read from a random
    offset for each value (and repeated along a value longer than the pool): drawing fresh numbers for every entry
    of every operation cost more than the operations themselves."""

    POOL = 65_521  # a prime: a value longer than the pool does not line its repeats up with its own axes

    def __init__(self, rng: np.random.Generator, amplify: float):
        self.rng = rng
        self.amplify = amplify
        self.pools: dict = {}

    def factors(self, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        pool = self.pools.get(dtype)
        if pool is None:
            size = float(np.finfo(dtype).eps) / 2 * self.amplify
            pool = self.rng.uniform(-size, size, 2 * self.POOL).astype(dtype) + dtype.type(1)
            pool[pool == 1] = 1 + dtype.type(size)  # every value moves: a factor of exactly 1 would hide a cancellation
            self.pools[dtype] = pool
        count = math.prod(shape)
        start = int(self.rng.integers(0, self.POOL))
        if count <= self.POOL:
            return pool[start:start + count].reshape(shape)
        return np.resize(pool[start:start + self.POOL], shape)


@contextlib.contextmanager
def random_rounding(rng: np.random.Generator, amplify: float = 1.0):
    """Within the block, every real evaluator rounds each computed value at random (``Evaluator._rounded``), by
    factors from ``RandomRounding(rng, amplify)`` (seed ``rng`` for repeatable results). A context like numpy's
    ``errstate``: the engines that make evaluators need not know."""
    token = _ROUNDING.set(RandomRounding(rng, amplify))
    try:
        yield
    finally:
        _ROUNDING.reset(token)


_MULTI: contextvars.ContextVar = contextvars.ContextVar("jaccli_multi_precision", default=None)


class TooMuchWork(Exception):
    """An evaluation in mpmath numbers went past its work or time limit (``multi_precision_limits``)."""


class NotMulti(TypeError):
    """An elementwise operation without an mpmath form (``Op.mp``) met by an evaluation in mpmath numbers."""


class WorkLimit:
    """What an evaluation in mpmath numbers may still make: ``work`` entries (each node's arguments' entries and
    its own shape's, counted before it is evaluated), until ``deadline`` (CPU time). The same count in float64
    (cheap) tells beforehand whether the evaluation in mpmath numbers would stay within it.

    With ``rng``, each computed value in mpmath numbers is also perturbed at random (``Evaluator._jittered``)."""

    POOL = 4099  # perturbation factors drawn once per precision (a prime, as RandomRounding.POOL)

    def __init__(self, work: int, deadline: float, rng: np.random.Generator | None = None):
        self.work = work
        self.deadline = deadline
        self.rng = rng
        self._pool = None

    def factors(self, shape: tuple[int, ...]) -> np.ndarray:
        """1 + ξ·2^(10 − p) for each entry (ξ uniform in [−1, 1], p mpmath's working precision in bits)."""
        import mpmath

        if self._pool is None:
            shift = 10 - mpmath.mp.prec
            self._pool = np.array([1 + mpmath.ldexp(mpmath.mpf(xi), shift) for xi in
                                   self.rng.uniform(-1.0, 1.0, 2 * self.POOL).tolist()], dtype=object)
        count = math.prod(shape)
        start = int(self.rng.integers(0, self.POOL))
        if count <= self.POOL:
            return self._pool[start:start + count].reshape(shape)
        return np.resize(self._pool[start:start + self.POOL], shape)

    def spend(self, entries: int) -> None:
        import time

        self.work -= entries
        if self.work < 0 or time.process_time() > self.deadline:
            raise TooMuchWork


@contextlib.contextmanager
def multi_precision_limits(limit: WorkLimit):
    """Within the block, an evaluator in mpmath numbers spends ``limit`` and raises ``TooMuchWork`` past it."""
    token = _MULTI.set(limit)
    try:
        yield
    finally:
        _MULTI.reset(token)


class NotAnalytic(ValueError):
    """An operation without a complex form (abs, max, …) met by the complex-step evaluator."""


class Evaluator:
    """Values of IR nodes at the variables' values ``env`` (name -> batch + shape array), memoised."""

    def __init__(self, env: dict, nb: int, dtype=float):
        self.env = env
        self.nb = nb
        if dtype is float and any(getattr(v, "dtype", None) == np.longdouble for v in env.values()):
            dtype = np.longdouble  # the numeric path's wider evaluation: the same operations, 11 more bits
        if dtype is float and any(getattr(v, "dtype", None) == MULTI for v in env.values()):
            dtype = object  # mpmath numbers at mpmath's working precision: see accuracy.multi_precision
        self.dtype = dtype
        self.memo: dict = {}
        self.rounding = _ROUNDING.get() if dtype in (float, np.longdouble) else None

    def __call__(self, node: ir.Node) -> np.ndarray:
        if node in self.memo:
            return self.memo[node]
        with np.errstate(all="ignore"):
            for item in ir.topological([node]):
                if item not in self.memo:
                    self.memo[item] = self._evaluate(item) if self.rounding is None else self._rounded(item)
        return self.memo[node]

    def _evaluate(self, node: ir.Node) -> np.ndarray:
        op = node.op
        name = op.name
        if name == "var":
            if self.dtype is object:
                return multi(self.env[node.name])  # a seed (np.eye) comes as floats
            value = np.asarray(self.env[node.name], dtype=self.dtype)
            return value
        if name == "const":
            value = node.params[0].wide if self.dtype == np.longdouble else node.params[0].value
            if self.dtype is object:
                value = node.params[0].multi()
            return value.reshape((1,) * self.nb + value.shape)
        args = [self.memo[arg] for arg in node.args]
        limit = _MULTI.get()
        if limit is not None:  # counted alike in float64 (the check before) and in mpmath numbers
            limit.spend(sum(np.size(arg) for arg in args) + math.prod(node.shape))
        if self.dtype is object:
            value = self._multi(node, args)
            return value if limit is None or limit.rng is None else self._jittered(node, value, args, limit)
        # constant parts need no complex form: the complex step never reaches them
        function = op.numpy if self.dtype in (float, np.longdouble) or node.is_constant else op.complex
        if function is None:
            raise NotAnalytic(f"{name} has no complex form")
        if op.kind == "elementwise":
            return np.asarray(function(*self._aligned(node, args)), dtype=self.dtype)
        return np.asarray(function(node, *args), dtype=self.dtype)

    def _multi(self, node: ir.Node, args: list) -> np.ndarray:
        """The node's value in mpmath numbers: an elementwise operation entry by entry through its registry ``mp``
        form (the one the conformance test checks), any other through its ``mp_array`` form, or else its numpy
        form, which for these (sums, products, indexing, matmul) works on arrays of Python objects alike. A domain
        error (1/0, log of a negative number: mpmath raises or goes complex) gives NaN in that entry."""
        op = node.op
        if op.kind == "elementwise":
            return np.asarray(_vectorized(op, len(args))(*self._aligned(node, args)), dtype=object)
        value = np.asarray((op.mp_array or op.numpy)(node, *args))
        if value.dtype != object:  # the numpy form made floats of them (np.asarray(x, dtype=float)): no use
            raise NotMulti(f"{op.name}'s numpy form does not keep mpmath numbers")
        return value

    @staticmethod
    def _jittered(node: ir.Node, value: np.ndarray, args: list, limit: WorkLimit) -> np.ndarray:
        """A value in mpmath numbers with each entry moved by a random relative error of up to 2^(10 − p): what
        ``_rounded`` does in float64, for the same reason. Two precisions agreeing is no proof by itself where a
        term is absorbed entirely, not cancelled: atan2(2, x) − atan2(2, 0) at x = 1e-210 is exactly 0 at any
        precision below 210 digits, so (that)/x² gives one wrong value at 30, 60 and 120 digits alike; moved at
        random, the two atan2 values no longer cancel to 0, and the precisions disagree until one holds the term.
        Constants, exact operations (max picks an entry) and views are left alone, as in ``_rounded``."""
        if node.is_constant or node.op.exact or not value.flags.owndata or any(value is arg for arg in args):
            return value
        return value * limit.factors(value.shape)

    def _rounded(self, node: ir.Node) -> np.ndarray:
        """The node's value with each entry given a random relative error of up to u·amplify: what its operation
        would give in an arithmetic that rounds at random (Monte Carlo arithmetic, Parker 1997; CESTAC, Vignes
        1993). Per operation, so with no per-operation code: repeated with other draws, the results agree in the
        digits rounding cannot reach. Zeros, non-finite entries and constants stay as they are; so do the results of
        an operation the registry calls ``exact`` (max: a tie is found by comparing them) and views (a reshape,
        transpose or broadcast moves numbers without rounding them).

        Where the operation overflowed (numpy's floating-point flags say so), an infinite entry made from finite
        arguments becomes NaN, so that what depends on it is seen to (x/inf is 0, x/nan is nan); where it
        underflowed, an entry below the normal range made from nonzero arguments becomes a random number of that
        range: absorbed where the loss did not matter (1 + 1e-400), seen where it did (x**-4 at 1e100 times 1e100)."""
        flags = set()
        with np.errstate(over="call", under="call", call=lambda kind, _: flags.add(kind)):
            value = self._evaluate(node)
        if node.is_constant or node.op.exact or not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            return value  # constants are what the expression says (x**(4-1): a perturbed 3 makes x**3 of x < 0 NaN)
        if not value.flags.owndata:
            return value
        args = [self.memo[arg] for arg in node.args]
        fresh = not any(value is arg for arg in args)  # an operation may hand back its argument (x*1): not in place
        factors = self.rounding.factors(value.dtype, value.shape)
        rounded = np.multiply(value, factors, out=value.copy() if flags or not fresh else value)
        if not flags:
            return rounded
        elementwise = node.op.kind == "elementwise"
        info = np.finfo(value.dtype)
        aligned = self._aligned(node, args) if elementwise else []
        if "overflow" in flags:
            made = np.isinf(value)
            for arg in aligned:
                made &= np.isfinite(arg)
            if not elementwise and not all(np.all(np.isfinite(arg)) for arg in args):
                made[...] = False
            rounded[made] = np.nan
        if "underflow" in flags:
            made = np.abs(value) < info.tiny
            for arg in aligned:
                made &= np.asarray(arg) != 0
            if made.any():
                tiny = self.rounding.rng.uniform(0.0, 1.0, int(made.sum())).astype(value.dtype) * info.tiny
                rounded[made] = np.copysign(tiny, value[made])
        return rounded

    def _aligned(self, node: ir.Node, args: list) -> list:
        """Arguments with their own shapes padded to the result's rank, after the batch axes."""
        rank = len(node.shape)
        out = []
        for arg, value in zip(node.args, args):
            own = len(arg.shape)
            if own < rank:
                batch = value.shape[:value.ndim - own]
                value = value.reshape(batch + (1,) * (rank - own) + value.shape[value.ndim - own:])
            out.append(value)
        return out

    def kinks(self, nodes) -> set[str]:
        """The kink names of ``nodes`` (primal nodes whose derivative was used) at these values."""
        found: set[str] = set()
        if self.dtype is object:  # the float64 evaluation at this point found them
            return found
        for node in nodes:
            op = node.op
            if op.kink is None or op.kink_name in found:
                continue
            args = [self(arg) for arg in node.args]
            with np.errstate(all="ignore"):
                hit = op.kink(*self._aligned(node, args)) if op.kind == "elementwise" else op.kink(node, *args)
            if np.any(hit):
                found.add(op.kink_name)
        return found


_VECTORIZED: dict = {}


def _vectorized(op, count: int):
    """``op.mp`` of ``count`` arguments as a numpy ufunc over object arrays (broadcasting as numpy does)."""
    ufunc = _VECTORIZED.get((op.name, count))
    if ufunc is None:
        import mpmath

        if op.mp is None:
            raise NotMulti(f"{op.name} has no mpmath form")

        def entry(*values):
            try:
                out = op.mp(mpmath, *values)
            except (ArithmeticError, ValueError, TypeError):  # 1/0; exp(1e71): "too many digits" (OverflowError)
                return mpmath.mpf("nan")  # that entry keeps float64's value (taken where float64's is not finite too)
            if isinstance(out, bool) or isinstance(out, int):
                return mpmath.mpf(out)
            return out if isinstance(out, mpmath.mpf) else mpmath.mpf("nan")  # complex: no real value here

        ufunc = _VECTORIZED[op.name, count] = np.frompyfunc(entry, count, 1)
    return ufunc


def multi_typed(doubles: np.ndarray, texts, other=None) -> np.ndarray:
    """``doubles`` as mpmath numbers at the working precision, each read from its text as typed (``0.1`` as 1/10,
    ``1/3``, rounded once) where the text is such a number and reads back to the same double; ``other(text)``, if
    given, for a text that is not (``pi/3``: an mpmath number, or None); else the double itself."""
    import mpmath

    from .ir import _fraction

    doubles = np.asarray(doubles, dtype=float)
    out = multi(doubles)
    flat = out.reshape(-1)
    for k, (text, double) in enumerate(zip(texts, doubles.reshape(-1).tolist())):
        read = _fraction(text)
        if read is not None:
            if float(read) == double:
                flat[k] = mpmath.mpf(read.numerator) / read.denominator
        elif other is not None and math.isfinite(double):
            exact = other(text)
            if exact is not None and math.isclose(float(exact), double, rel_tol=4e-16, abs_tol=0.0):
                flat[k] = exact
    return out


def multi(values) -> np.ndarray:
    """An array of numbers as an object array of mpmath numbers (exactly: a double is a binary fraction)."""
    import mpmath

    array = np.asarray(values)
    if array.dtype == object:
        return array
    out = np.empty(array.shape, dtype=object)
    flat = out.reshape(-1)
    for k, value in enumerate(array.reshape(-1).tolist()):
        flat[k] = mpmath.mpf(value)
    return out


def evaluate_constant(node: ir.Node) -> np.ndarray:
    """The value of a node without variables."""
    return Evaluator({}, 0)(node)


def evaluate(nodes, env: dict, nb: int) -> list[np.ndarray]:
    """Each node at ``env`` (batch axes ``nb``), broadcast to the common batch shape."""
    evaluator = Evaluator(env, nb)
    values = [evaluator(node) for node in nodes]
    return values
