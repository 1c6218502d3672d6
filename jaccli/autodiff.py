"""Numeric derivatives straight from the expression tree: forward values, then VJPs or JVPs.

The structured path for large arrays: no sympy, no n² expressions. Each node's
forward rule and its local derivative sit side by side, as in micrograd. An
elementwise node has a *partial* per argument (an array that broadcasts like the
node); a structured node (index, reduction, softmax, stack) has its own rule,
in O(n) (softmax uses the accurate formulas of ``softmax``).

Reverse mode carries K cotangents at once (a leading axis of length K), so a
Jacobian is the VJPs of the m unit vectors, taken in chunks that bound memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import softmax as sm
from .errors import JaccliError, LimitError
from .parsing import Binary, Call, Const, Index, Node, Num, Stack, Unary, Var, children

MAX_DENSE_ENTRIES = 10**6  # a dense Jacobian beyond this is refused (suggest vjp/jvp): limits.MAX_DENSE_ENTRIES
MAX_ARRAY_ENTRIES = 10**7  # any intermediate array (e.g. an outer sum x + y of a column and a row)
CHUNK_FLOATS = 1 << 23  # cotangent floats per node per chunk (64 MiB)

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _heaviside(x):
    return np.heaviside(x, 0.5)  # sympy's convention at 0, flagged as a kink


# name -> (forward, partials(args, out) -> one array per argument)
_ELEMENTWISE = {
    "sin": (np.sin, lambda a, o: (np.cos(a[0]),)),
    "cos": (np.cos, lambda a, o: (-np.sin(a[0]),)),
    "tan": (np.tan, lambda a, o: (1 + o * o,)),
    "asin": (np.arcsin, lambda a, o: (1 / np.sqrt(1 - a[0] * a[0]),)),
    "acos": (np.arccos, lambda a, o: (-1 / np.sqrt(1 - a[0] * a[0]),)),
    "atan": (np.arctan, lambda a, o: (1 / (1 + a[0] * a[0]),)),
    "sinh": (np.sinh, lambda a, o: (np.cosh(a[0]),)),
    "cosh": (np.cosh, lambda a, o: (np.sinh(a[0]),)),
    "tanh": (np.tanh, lambda a, o: (1 - o * o,)),
    "asinh": (np.arcsinh, lambda a, o: (1 / np.sqrt(a[0] * a[0] + 1),)),
    "acosh": (np.arccosh, lambda a, o: (1 / np.sqrt(a[0] * a[0] - 1),)),
    "atanh": (np.arctanh, lambda a, o: (1 / (1 - a[0] * a[0]),)),
    "exp": (np.exp, lambda a, o: (o,)),
    "log2": (np.log2, lambda a, o: (1 / (a[0] * math.log(2)),)),
    "log10": (np.log10, lambda a, o: (1 / (a[0] * math.log(10)),)),
    "sqrt": (np.sqrt, lambda a, o: (0.5 / o,)),
    "abs": (np.abs, lambda a, o: (np.sign(a[0]),)),
    "erf": (lambda x: np.asarray(_erf(x), dtype=float), lambda a, o: (2 / math.sqrt(math.pi) * np.exp(-a[0] * a[0]),)),
    "sigmoid": (_sigmoid, lambda a, o: (o * _sigmoid(-a[0]),)),
    "softplus": (lambda x: np.logaddexp(0.0, x), lambda a, o: (_sigmoid(a[0]),)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda a, o: (_heaviside(a[0]),)),
    "atan2": (np.arctan2, lambda a, o: (a[1] / (a[0] * a[0] + a[1] * a[1]), -a[0] / (a[0] * a[0] + a[1] * a[1]))),
}
_KINKS = {"abs": "abs", "relu": "relu"}  # where a partial is a sign or step function of the argument


@dataclass
class Tape:
    """Forward values of every node (memoised by node), and the kinks met."""

    values: dict
    constant: dict  # node -> True when no variable is below it (its partials are never needed)
    kinks: set = field(default_factory=set)
    steps: dict = field(default_factory=dict)  # node -> partials, computed once


class Graph:
    """An expression tree bound to a point: ``vjp``, ``jvp`` and ``jacobian`` of its output."""

    def __init__(self, tree: Node, values: dict[str, np.ndarray], variables: tuple[str, ...]):
        self.tree = tree
        self.variables = variables
        self.point = {name: np.asarray(values[name], dtype=float) for name in variables}
        self.tape = Tape({}, {})
        with np.errstate(all="ignore"):
            self.output = np.asarray(self._forward(tree), dtype=float)
        self.order = self._topological(tree)

    # --- forward ---------------------------------------------------------------------------

    def _forward(self, node: Node):
        tape = self.tape
        if node in tape.values:
            return tape.values[node]
        if isinstance(node, Num):
            value, constant = np.asarray(float(node.text)), True
        elif isinstance(node, Const):
            value, constant = np.asarray(math.pi if node.name == "pi" else math.e), True
        elif isinstance(node, Var):
            value, constant = self.point[node.name], False
        elif isinstance(node, Index):
            array = self.point[node.name]
            _check_index(node, array.shape)
            value, constant = array[node.indices], False
        elif isinstance(node, Unary):
            arg = self._forward(node.arg)
            value, constant = (-arg if node.op == "-" else arg), tape.constant[node.arg]
        elif isinstance(node, Binary):
            a, b = self._forward(node.left), self._forward(node.right)
            value = binary(node.op, a, b)
            constant = tape.constant[node.left] and tape.constant[node.right]
        elif isinstance(node, Stack):
            items = [self._forward(item) for item in node.items]
            if len({np.shape(i) for i in items}) > 1:
                raise JaccliError("the entries of a list must have equal shapes")
            value, constant = np.stack(items), all(tape.constant[i] for i in node.items)
        else:
            args = [self._forward(arg) for arg in node.args]
            value = call_forward(node.name, args)
            constant = all(tape.constant[arg] for arg in node.args)
        if np.size(value) > MAX_ARRAY_ENTRIES:
            raise LimitError(f"an intermediate array of shape {'×'.join(map(str, np.shape(value)))} has "
                             f"{np.size(value)} entries (limit {MAX_ARRAY_ENTRIES:.0e})")
        tape.values[node], tape.constant[node] = np.asarray(value, dtype=float), constant
        return tape.values[node]

    def _topological(self, root: Node) -> list[Node]:
        """Nodes with a variable below them, every node after all the nodes that use it."""
        order, seen = [], set()

        def visit(node):
            if node in seen or self.tape.constant[node]:
                return
            seen.add(node)
            for child in children(node):
                visit(child)
            order.append(node)

        visit(root)
        return order[::-1]

    # --- reverse ---------------------------------------------------------------------------

    def vjp(self, cotangents: np.ndarray) -> dict[str, np.ndarray]:
        """Cotangents of shape (K,) + output shape -> per variable (K,) + its shape: the K products vᵀJ."""
        k = cotangents.shape[0]
        grads = {name: np.zeros((k,) + self.point[name].shape) for name in self.variables}
        if not self.order:
            return grads
        ct = {self.tree: np.asarray(cotangents, dtype=float)}
        with np.errstate(all="ignore"):
            for node in self.order:  # parents before children, so each cotangent is complete when popped
                g = ct.pop(node, None)
                if g is None:
                    continue
                if isinstance(node, Var):
                    grads[node.name] += g
                elif isinstance(node, Index):
                    grads[node.name][(slice(None),) + node.indices] += g
                else:
                    for child, contribution in self._pullback(node, g):
                        shaped = _unbroadcast(contribution, (k,) + self.tape.values[child].shape)
                        ct[child] = ct[child] + shaped if child in ct else shaped
        return grads

    def _pullback(self, node: Node, g: np.ndarray):
        """(child, contribution) pairs: g pulled back through ``node`` to each child."""
        tape = self.tape
        if isinstance(node, Unary):
            yield node.arg, (-g if node.op == "-" else g)
        elif isinstance(node, Stack):
            for i, item in enumerate(node.items):
                if not tape.constant[item]:
                    yield item, g[:, i]
        elif isinstance(node, (Binary, Call)) and not self._structured(node):
            children = [node.left, node.right] if isinstance(node, Binary) else list(node.args)
            for child, partial in zip(children, self._partials(node)):
                if not tape.constant[child]:
                    yield child, g * partial
        else:
            yield from self._structured_pullback(node, g)

    def _structured(self, node: Node) -> bool:
        if not isinstance(node, Call):
            return False
        return node.name in ("sum", "mean", "prod", "norm", "dot", "logsumexp", "softmax", "log_softmax") or (
            node.name in ("min", "max") and len(node.args) == 1)

    def _partials(self, node: Binary | Call) -> tuple:
        tape = self.tape
        if node not in tape.steps:
            out = tape.values[node]
            if isinstance(node, Binary):
                a, b = tape.values[node.left], tape.values[node.right]
                tape.steps[node] = binary_partials(node.op, a, b, out, tape.constant[node.right])
            else:
                args = [tape.values[arg] for arg in node.args]
                tape.steps[node] = call_partials(node.name, args, out, tape.kinks)
        return tape.steps[node]

    def _structured_pullback(self, node: Call, g: np.ndarray):
        x = self.tape.values[node.args[0]]
        k = g.shape[0]
        expand = (slice(None),) + (None,) * x.ndim  # (K,) -> (K, 1, 1, …)
        name = node.name
        if name == "sum":
            yield node.args[0], np.broadcast_to(g[expand], (k,) + x.shape)
        elif name == "mean":
            yield node.args[0], np.broadcast_to(g[expand] / max(x.size, 1), (k,) + x.shape)
        elif name == "prod":
            yield node.args[0], g[expand] * _product_of_others(x)
        elif name == "norm":
            yield node.args[0], g[expand] * (x / self.tape.values[node])
        elif name == "dot":
            y = self.tape.values[node.args[1]]
            for child, other in ((node.args[0], y), (node.args[1], x)):
                if not self.tape.constant[child]:
                    yield child, g[expand] * other
        elif name == "logsumexp":
            yield node.args[0], g[expand] * sm.softmax(x.ravel()).reshape(x.shape)
        elif name in ("min", "max"):
            yield node.args[0], g[expand] * self._extreme_weights(node, x)
        elif x.ndim == 0:  # softmax of one logit is the constant 1 (its log 0)
            yield node.args[0], np.zeros_like(g)
        elif name == "softmax":
            yield node.args[0], sm.softmax_vjp(x, g)  # s computed once, not once per cotangent
        else:
            yield node.args[0], sm.log_softmax_vjp(x, g)

    def _extreme_weights(self, node: Call, x: np.ndarray) -> np.ndarray:
        """d max(x)/dx: 1 at the largest entry; ties share it (and are flagged)."""
        hits = x == self.tape.values[node]
        if np.sum(hits) > 1:
            self.tape.kinks.add(node.name)
        return hits / np.sum(hits)

    # --- forward mode ------------------------------------------------------------------------

    def jvp(self, tangents: dict[str, np.ndarray]) -> np.ndarray:
        """Tangents per variable (its shape) -> J·t, shaped like the output."""
        tangent: dict = {}
        with np.errstate(all="ignore"):
            for node in reversed(self.order):  # children before parents
                tangent[node] = self._push(node, tangent, tangents)
        return np.broadcast_to(tangent.get(self.tree, np.zeros(())), self.output.shape).copy()

    def _push(self, node: Node, tangent: dict, seeds: dict[str, np.ndarray]):
        def t(child):
            if self.tape.constant[child]:
                return np.zeros(())
            return tangent[child]

        if isinstance(node, Var):
            return seeds[node.name]
        if isinstance(node, Index):
            return seeds[node.name][node.indices]
        if isinstance(node, Unary):
            return -t(node.arg) if node.op == "-" else t(node.arg)
        if isinstance(node, Stack):
            shape = self.tape.values[node].shape[1:]
            return np.stack([np.broadcast_to(t(item), shape) for item in node.items])
        if not self._structured(node):
            children = [node.left, node.right] if isinstance(node, Binary) else list(node.args)
            total = np.zeros(())
            for child, partial in zip(children, self._partials(node)):
                if not self.tape.constant[child]:
                    total = total + partial * t(child)
            return total
        # structured: J·t is the pullback of the symmetric or linear rule, written out
        x = self.tape.values[node.args[0]]
        tx = np.broadcast_to(t(node.args[0]), x.shape)
        name = node.name
        if name == "sum":
            return np.sum(tx)
        if name == "mean":
            return np.sum(tx) / max(x.size, 1)
        if name == "prod":
            return np.sum(_product_of_others(x) * tx)
        if name == "norm":
            return np.sum(x * tx) / self.tape.values[node]
        if name == "dot":
            y = self.tape.values[node.args[1]]
            ty = np.broadcast_to(t(node.args[1]), y.shape)
            return np.sum(tx * y) + np.sum(x * ty)
        if name == "logsumexp":
            return np.sum(sm.softmax(x.ravel()) * tx.ravel())
        if name in ("min", "max"):
            return np.sum(self._extreme_weights(node, x) * tx)
        if x.ndim == 0:
            return np.zeros(())
        if name == "softmax":
            return sm.softmax_vjp(x, tx)  # J is symmetric: J·t = Jᵀt
        s = sm.softmax(x)
        return tx - np.sum(s * tx, axis=-1, keepdims=True)  # (I - 1 sᵀ) t

    # --- the Jacobian ----------------------------------------------------------------------

    def jacobian(self) -> np.ndarray:
        """m×n: rows the m outputs (row-major), columns the n inputs in variable order (row-major)."""
        m = self.output.size
        n = sum(self.point[name].size for name in self.variables)
        if m * n > MAX_DENSE_ENTRIES:
            raise LimitError(f"the Jacobian would have {m}×{n} = {m * n:.3g} entries (limit "
                             f"{MAX_DENSE_ENTRIES:.0e}); use 'jaccli vjp' or 'jaccli jvp' for products with it")
        closed = self._closed_form()
        if closed is not None:
            return closed
        widest = max([self.tape.values[node].size for node in self.order] + [1])
        chunk = max(1, min(m, CHUNK_FLOATS // widest))
        out = np.empty((m, n))
        for start in range(0, m, chunk):
            stop = min(m, start + chunk)
            seeds = np.zeros((stop - start, m))
            seeds[np.arange(stop - start), np.arange(start, stop)] = 1.0
            grads = self.vjp(seeds.reshape((stop - start,) + self.output.shape))
            out[start:stop] = np.concatenate([grads[v].reshape(stop - start, -1) for v in self.variables]
                                             or [np.zeros((stop - start, 0))], axis=1)
        return out


    def _closed_form(self) -> np.ndarray | None:
        """softmax or log_softmax of a lone vector variable: diag(s) − s sᵀ or I − 1 sᵀ directly, not n VJPs."""
        tree = self.tree
        if not (isinstance(tree, Call) and tree.name in ("softmax", "log_softmax") and isinstance(tree.args[0], Var)
                and len(self.variables) == 1 and self.point[self.variables[0]].ndim == 1):
            return None
        x = self.point[self.variables[0]]
        with np.errstate(all="ignore"):
            return sm.softmax_jacobian(x) if tree.name == "softmax" else sm.log_softmax_jacobian(x)


# --- rules (shared with forward mode) -------------------------------------------------------


def _check_index(node: Index, shape: tuple[int, ...]) -> None:
    if len(node.indices) > len(shape):
        raise JaccliError(f"{node.name}{list(node.indices)} has {len(node.indices)} indices, but {node.name} has "
                          f"{len(shape)} dimensions")
    for axis, i in enumerate(node.indices):
        if not -shape[axis] <= i < shape[axis]:
            raise JaccliError(f"index {i} is out of range for {node.name}, whose axis {axis} has {shape[axis]} entries")


def binary(op: str, a, b):
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if np.ndim(b) == 0 and float(b) == 2:
            return a * a
        return np.power(a, b)
    except ValueError:
        raise JaccliError(f"shapes {np.shape(a)} and {np.shape(b)} do not broadcast together in '{op}'") from None


def binary_partials(op: str, a, b, out, b_constant: bool) -> tuple:
    if op == "+":
        return 1.0, 1.0
    if op == "-":
        return 1.0, -1.0
    if op == "*":
        return b, a
    if op == "/":
        return 1.0 / b, -out / b
    # a**b: b a^(b-1), and a^b log a only when the exponent depends on a variable
    if np.ndim(b) == 0 and float(b) == 2:
        da = 2.0 * a
    elif np.ndim(b) == 0 and float(b) == 1:
        da = np.ones_like(a)
    else:
        da = b * np.power(a, b - 1.0)
    return da, (0.0 if b_constant else out * np.log(a))


def call_forward(name: str, args: list):
    if name in _ELEMENTWISE:
        return _ELEMENTWISE[name][0](*args)
    x = args[0]
    if name == "log":
        return np.log(x) if len(args) == 1 else np.log(x) / np.log(args[1])
    if name in ("min", "max"):
        if len(args) == 1:
            return np.max(x) if name == "max" else np.min(x)
        fold = np.maximum if name == "max" else np.minimum
        out = args[0]
        for arg in args[1:]:
            out = fold(out, arg)
        return out
    if name == "sum":
        return np.sum(x)
    if name == "mean":
        return np.mean(x)
    if name == "prod":
        return np.prod(x)
    if name == "norm":
        return np.sqrt(np.sum(x * x))
    if name == "dot":
        if np.shape(x) != np.shape(args[1]):
            raise JaccliError(f"dot(a, b) needs equal shapes, got {np.shape(x)} and {np.shape(args[1])}")
        return np.sum(x * args[1])
    if name == "logsumexp":
        return sm.logsumexp(np.ravel(x), axis=-1)
    if name == "softmax":
        return np.ones(()) if np.ndim(x) == 0 else sm.softmax(x)
    if name == "log_softmax":
        return np.zeros(()) if np.ndim(x) == 0 else sm.log_softmax(x)
    raise JaccliError(f"no numeric rule for {name}()")  # pragma: no cover - FUNCTIONS and this stay in step


def call_partials(name: str, args: list, out, kinks: set) -> tuple:
    if name in _ELEMENTWISE:
        if name in _KINKS and np.any(args[0] == 0):
            kinks.add(_KINKS[name])
        return _ELEMENTWISE[name][1](args, out)
    if name == "log":
        if len(args) == 1:
            return (1.0 / args[0],)
        x, base = args
        log_base = np.log(base)
        return 1.0 / (x * log_base), -np.log(x) / (base * log_base * log_base)
    if name in ("min", "max"):  # elementwise: the winner takes the derivative, ties share it (step(0) = 1/2)
        hits = [np.broadcast_to(arg, np.shape(out)) == out for arg in args]
        count = np.sum(hits, axis=0)
        if np.any(count > 1):
            kinks.add(name)
        return tuple(hit / count for hit in hits)
    raise JaccliError(f"no partials for {name}()")  # pragma: no cover


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` (K, *S) over the axes that broadcasting added or stretched, back to ``shape`` (K, *T)."""
    g = np.asarray(g, dtype=float)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(1, 1 + extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and g.ndim > axis and g.shape[axis] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(g, shape)


def _product_of_others(x: np.ndarray) -> np.ndarray:
    """For each entry, the product of all the other entries: prefix times suffix products, exact with zeros."""
    flat = x.ravel()
    before = np.concatenate([[1.0], np.cumprod(flat[:-1])])
    after = np.concatenate([np.cumprod(flat[:0:-1])[::-1], [1.0]])
    return (before * after).reshape(x.shape)
