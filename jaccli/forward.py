"""Forward-mode derivatives of elementwise expressions in scalar variables, at many points at once.

The batch path (``--points``) for the common case, ``[r*sin(t)*cos(p), …]`` in
``r, t, p``: no sympy at all (its import alone costs a third of a second), one
numpy operation per node for a whole chunk of points. Every value carries one
trailing *batch axis* (length P, or 1 for constants), so numpy broadcasting
lines up the points; a tangent per variable travels beside each value, and a
variable that does not reach a node has no tangent there: the Jacobian's
structural zeros cost nothing and print as exact zeros.

A single point is a batch of one: ``--at`` takes its numbers from the same code,
so a row of ``--points`` equals the ``--at`` result for that point to the last bit.
The local derivatives are autodiff's (one table of rules for both modes).
"""

from __future__ import annotations

import math

import numpy as np

from .autodiff import binary, binary_partials, call_forward, call_partials
from .errors import JaccliError
from .functions import FUNCTIONS
from .parsing import MAX_EXPONENT, Binary, Call, Const, Index, Node, Num, Stack, Unary, Var, children


def supports(tree: Node, shapes: dict[str, tuple[int, ...]]) -> bool:
    """Whether the expression is elementwise in scalar variables, with tame constants.

    Anything else (arrays, reductions, softmax, indexing) takes the symbolic path, and so does
    an expression with a constant sympy refuses with a message (a division by zero, 2**10**10, a
    huge exponent, log to base 1): this path would only print inf or nan for it.
    """
    if any(shape != () for shape in shapes.values()):
        return False
    return _tame(tree, elementwise=True)


def tame_constants(tree: Node) -> bool:
    """Whether every constant part of any expression is finite and in range (see ``supports``)."""
    return _tame(tree, elementwise=False)


def _tame(tree: Node, elementwise: bool) -> bool:
    try:
        with np.errstate(all="ignore"):
            return _Check(elementwise).tame(tree)
    except (JaccliError, ValueError, TypeError, OverflowError):
        return False


class _Check:
    """Walks a tree once: every constant part finite and in range, and (``elementwise``) no other nodes."""

    def __init__(self, elementwise: bool):
        self.elementwise = elementwise
        self.walk = _Walk({})  # evaluates the constant parts
        self.constant: dict = {}

    def tame(self, node: Node) -> bool:
        if not self.elementwise:
            pass
        elif isinstance(node, Call):
            if FUNCTIONS[node.name].kind != "elementwise" or (node.name in ("min", "max") and len(node.args) == 1):
                return False
        elif not isinstance(node, (Num, Const, Var, Unary, Binary, Stack)):
            return False
        below = children(node)
        if not all(self.tame(child) for child in below):
            return False
        self.constant[node] = not isinstance(node, (Var, Index)) and all(self.constant[child] for child in below)
        if isinstance(node, Binary) and self.constant[node.right]:
            right = self.walk.value(node.right)
            if (node.op == "/" and np.any(right == 0)) or (node.op == "**" and np.any(np.abs(right) > MAX_EXPONENT)):
                return False
        if isinstance(node, Call) and node.name == "log" and len(node.args) == 2 and self.constant[node.args[1]]:
            base = self.walk.value(node.args[1])
            if np.any((base <= 0) | (base == 1)):
                return False
        return not self.constant[node] or bool(np.all(np.isfinite(self.walk.value(node))))


def output_shape(tree: Node, variables: tuple[str, ...]) -> tuple[int, ...]:
    """The shape of one point's output (shapes only: evaluated at a single point of zeros)."""
    with np.errstate(all="ignore"):
        walk = _Walk({name: np.zeros(1) for name in variables})
        return walk.value(tree).shape[:-1]


def jacobian(tree: Node, variables: tuple[str, ...], columns: np.ndarray) -> tuple[np.ndarray, set[str]]:
    """At P points (``columns``: P×n, in variable order): the Jacobians, P × output shape × n, and the kinks."""
    points = len(columns)
    walk = _Walk({name: columns[:, j] for j, name in enumerate(variables)})
    with np.errstate(all="ignore"):
        value = walk.value(tree)
        tangents = walk.tangent(tree)
    shape = value.shape[:-1]
    out = np.zeros((points,) + shape + (len(variables),))
    for j, name in enumerate(variables):
        if name in tangents:
            full = np.broadcast_to(tangents[name], shape + (points,))
            out[..., j] = np.moveaxis(full, -1, 0)
    return out, walk.kinks


class _Walk:
    """Values and tangents of the nodes of one tree at P points, each computed once."""

    def __init__(self, point: dict[str, np.ndarray]):
        self.point = point  # variable -> its values at the P points, shape (P,)
        self.values: dict = {}
        self.tangents: dict = {}
        self.kinks: set[str] = set()

    def value(self, node: Node) -> np.ndarray:
        """``node`` at every point: its own shape plus the batch axis (0-d for a scalar constant)."""
        if node in self.values:
            return self.values[node]
        if isinstance(node, Num):
            value = np.asarray(float(node.text))
        elif isinstance(node, Const):
            value = np.asarray(math.pi if node.name == "pi" else math.e)
        elif isinstance(node, Var):
            value = self.point[node.name]
        elif isinstance(node, Unary):
            arg = self.value(node.arg)
            value = -arg if node.op == "-" else arg
        elif isinstance(node, Binary):
            value = binary(node.op, self.value(node.left), self.value(node.right))
        elif isinstance(node, Stack):
            value = np.stack(self._items([self.value(item) for item in node.items]))
        else:
            value = call_forward(node.name, [self.value(arg) for arg in node.args])
        self.values[node] = value = np.asarray(value, dtype=float)
        return value

    def _items(self, items: list[np.ndarray]) -> list[np.ndarray]:
        """List entries with their batch axis, broadcast to one shape; their own shapes must agree."""
        batched = [item.reshape(1) if item.ndim == 0 else item for item in items]
        if len({item.shape[:-1] for item in batched}) > 1:
            raise JaccliError("the entries of a list must have equal shapes")
        width = max(item.shape[-1] for item in batched)
        return [np.broadcast_to(item, item.shape[:-1] + (width,)) for item in batched]

    def tangent(self, node: Node) -> dict[str, np.ndarray]:
        """d node / d variable for the variables below ``node`` (absent: structurally zero)."""
        if node in self.tangents:
            return self.tangents[node]
        if isinstance(node, Var):
            tangent = {node.name: np.ones(())}
        elif isinstance(node, (Num, Const)):
            tangent = {}
        elif isinstance(node, Unary):
            tangent = {k: -t for k, t in self.tangent(node.arg).items()} if node.op == "-" else self.tangent(node.arg)
        elif isinstance(node, Stack):
            tangent = self._stack_tangent(node)
        else:
            tangent = self._chain(node)
        self.tangents[node] = tangent
        return tangent

    def _chain(self, node: Binary | Call) -> dict[str, np.ndarray]:
        """Σ over arguments of ∂node/∂argument · d argument, for each variable."""
        arguments = [node.left, node.right] if isinstance(node, Binary) else list(node.args)
        inner = [self.tangent(arg) for arg in arguments]
        if not any(inner):
            return {}
        out = self.value(node)
        if isinstance(node, Binary):
            partials = binary_partials(node.op, self.value(node.left), self.value(node.right), out,
                                        not inner[1])
        else:
            partials = call_partials(node.name, [self.value(arg) for arg in arguments], out, self.kinks)
        tangent: dict[str, np.ndarray] = {}
        for partial, below in zip(partials, inner):
            for name, t in below.items():
                term = partial * t
                tangent[name] = tangent[name] + term if name in tangent else term
        return tangent

    def _stack_tangent(self, node: Stack) -> dict[str, np.ndarray]:
        inner = [self.tangent(item) for item in node.items]
        names = [name for name in self.point if any(name in t for t in inner)]
        shape = self.value(node).shape[1:]
        return {name: np.stack([np.broadcast_to(t.get(name, np.zeros(())), shape) for t in inner])
                for name in names}
