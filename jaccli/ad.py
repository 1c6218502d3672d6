"""Differentiation of IR, generic over the registry: forward and reverse mode, any order.

``jvp`` and ``vjp`` transform IR into IR (each operation's rule builds the derivative from
registry operations), so a derivative can be evaluated, or differentiated again: the Hessian
is forward-over-reverse, a Hessian-vector product one JVP of the gradient, order k of a
derivative k nested JVPs. Nodes that no differentiated variable reaches are skipped, so
structural zeros are exact and cost nothing.

The numeric compositions below evaluate those derivatives at P points at once. Values carry two
batch axes: points, then seeds (the unit vectors a Jacobian is assembled from).
"""

from __future__ import annotations

import math

import numpy as np

from . import ir
from .errors import LimitError
from .evaluate import MULTI, Evaluator

CHUNK_FLOATS = 1 << 23  # floats per node per chunk of seeds (64 MiB)
MAX_DERIVATIVE_NODES = 50_000  # nodes of the graph of a high-order derivative (~5 s to build)


# --- IR to IR ---------------------------------------------------------------------------------


def jvp(roots, tangents: dict[str, ir.Node], memo: dict | None = None, kinks: list | None = None) -> list:
    """Forward mode: the tangent of each root (None where it is zero), given tangents of variables by name.

    ``memo`` may be shared between calls with the same ``tangents`` (nested derivatives reuse it);
    ``kinks`` collects the nodes whose derivative rule was used (for the kink warning).
    """
    memo = {} if memo is None else memo
    wanted = frozenset(tangents)
    for node in ir.topological(roots):
        if node in memo:
            continue
        if not (node.variables & wanted):
            memo[node] = None
        elif node.op.name == "var":
            memo[node] = tangents.get(node.name)
        else:
            inner = [memo[arg] for arg in node.args]
            if all(t is None for t in inner):
                memo[node] = None
                continue
            memo[node] = node.op.jvp(node, inner)
            if kinks is not None and node.op.kink is not None:
                kinks.append(node)
    return [memo[root] for root in roots]


def vjp(root: ir.Node, cotangent: ir.Node, wrt, kinks: list | None = None) -> dict[str, ir.Node | None]:
    """Reverse mode: for each variable name in ``wrt``, the cotangent pulled back from ``root`` (None: zero)."""
    wanted = frozenset(wrt)
    grads: dict[str, ir.Node | None] = dict.fromkeys(wrt)
    if not (root.variables & wanted):
        return grads
    order = ir.topological([root])
    pending: dict = {root: cotangent}
    for node in reversed(order):  # every user of a node before the node: its cotangent is complete
        g = pending.pop(node, None)
        if g is None:
            continue
        if node.op.name == "var":
            if node.name in grads:
                grads[node.name] = _add(grads[node.name], g)
            continue
        if kinks is not None and node.op.kink is not None:
            kinks.append(node)
        for arg, contribution in zip(node.args, node.op.vjp(node, g)):
            if contribution is None or not (arg.variables & wanted):
                continue
            pending[arg] = _add(pending.get(arg), contribution)
    return grads


def _add(a, b):
    from .registry import add

    return add(a, b)


# --- numbers at points --------------------------------------------------------------------------


class Problem:
    """A function (an IR root) of variables with shapes, to be differentiated at P points.

    ``env``: name -> values, shape (P,) + the variable's shape.
    """

    def __init__(self, root: ir.Node, variables: list[tuple[str, tuple[int, ...]]]):
        self.root = root
        self.variables = variables
        self.sizes = [math.prod(shape) for _, shape in variables]
        self.n = sum(self.sizes)

    def _env(self, env: dict) -> dict:
        """Point values with a seed axis of length 1 after the point axis."""
        return {name: np.asarray(value, dtype=_dtype(value))[:, None] for name, value in env.items()}

    def value(self, env: dict) -> np.ndarray:
        points = _points(env)
        out = Evaluator(self._env(env), 2)(self.root)
        return np.broadcast_to(out, (points, 1) + self.root.shape)[:, 0]

    # forward mode: one JVP per variable, its entries as seeds -----------------------------------

    def forward_columns(self, roots: list[ir.Node], env: dict, wrt=None) -> tuple[list[np.ndarray], set[str]]:
        """For each root r: P × r.shape × n, the derivative of r by each input entry (``wrt``: names only)."""
        points = _points(env)
        evaluator = Evaluator(self._env(env), 2)
        outs = [np.zeros((points,) + r.shape + (self.n,), dtype=_result_dtype(env)) for r in roots]
        kinks: list = []
        offset = 0
        for (name, shape), size in zip(self.variables, self.sizes):
            if wrt is not None and name not in wrt:
                offset += size
                continue
            seed = ir.const(1.0) if shape == () else ir.var("∂" + name, shape)
            if shape != ():
                evaluator.env["∂" + name] = np.eye(size).reshape((1, size) + shape)
            tangents = jvp(roots, {name: seed}, kinks=kinks)
            for out, root, tangent in zip(outs, roots, tangents):
                if tangent is None:
                    continue
                value = np.broadcast_to(evaluator(tangent), (points, size) + root.shape)
                out[..., offset:offset + size] = np.moveaxis(value, 1, -1)
            offset += size
        return outs, evaluator.kinks(kinks)

    # reverse mode: VJPs of the output's unit vectors, in chunks --------------------------------

    def reverse_rows(self, env: dict) -> tuple[np.ndarray, set[str]]:
        """P × m × n: the Jacobian, row by row from VJPs of unit cotangents (in chunks that bound memory)."""
        points = _points(env)
        m = self.root.size
        cotangent = ir.var("∂out", self.root.shape)
        kinks: list = []
        grads = vjp(self.root, cotangent, [name for name, _ in self.variables], kinks)
        evaluator = Evaluator(self._env(env), 2)
        out = np.zeros((points, m, self.n), dtype=_result_dtype(env))
        nodes = [g for g in grads.values() if g is not None]
        # the nodes that grow with the chunk are those of the seed; a constant or parameter (a weight matrix W
        # of 10⁶ entries) is evaluated once, whatever the chunk, and must not shrink it
        widest = max([node.size for node in ir.topological(nodes) if "∂out" in node.variables] + [1]) * points
        chunk = max(1, min(m, CHUNK_FLOATS // widest))
        for start in range(0, m, chunk):
            stop = min(m, start + chunk)
            seeds = np.zeros((stop - start, m))
            seeds[np.arange(stop - start), np.arange(start, stop)] = 1.0
            evaluator.env["∂out"] = seeds.reshape((1, stop - start) + self.root.shape)
            evaluator.memo = {k: v for k, v in evaluator.memo.items() if "∂out" not in k.variables}
            offset = 0
            for (name, shape), size in zip(self.variables, self.sizes):
                g = grads[name]
                if g is not None:
                    value = np.broadcast_to(evaluator(g), (points, stop - start) + shape)
                    out[:, start:stop, offset:offset + size] = value.reshape(points, stop - start, size)
                offset += size
        return out, evaluator.kinks(kinks)

    def gradient_nodes(self, kinks: list | None = None) -> dict[str, ir.Node | None]:
        """The gradient of a scalar root, per variable, as IR."""
        return vjp(self.root, ir.const(np.ones(self.root.shape)), [name for name, _ in self.variables], kinks)


def _dtype(value):
    """A value's dtype in the engines: longdouble (the estimate's wider pass) and object (mpmath numbers) stay,
    the rest is float64."""
    dtype = getattr(value, "dtype", None)
    return dtype if dtype in (np.longdouble, MULTI) else float


def _result_dtype(env: dict):
    """float64, or object when the point is in mpmath numbers (a float array would round them as they go in)."""
    return object if any(getattr(v, "dtype", None) == MULTI for v in env.values()) else float


def _points(env: dict) -> int:
    return max([len(value) for value in env.values()] + [1])


def flat_gradient(problem: Problem, grads: dict, env: dict, evaluator: Evaluator | None = None) -> np.ndarray:
    """P × n: the per-variable gradient nodes evaluated and laid out in input order."""
    points = _points(env)
    evaluator = evaluator or Evaluator(problem._env(env), 2)
    parts = []
    for (name, shape), size in zip(problem.variables, problem.sizes):
        g = grads[name]
        if g is None:
            parts.append(np.zeros((points, size)))
        else:
            parts.append(np.broadcast_to(evaluator(g), (points, 1) + shape).reshape(points, size))
    return np.concatenate(parts, axis=1) if parts else np.zeros((points, 0))


def nested_jvp(root: ir.Node, name: str, seed: ir.Node, order: int) -> tuple[list[ir.Node | None], list]:
    """The derivatives of order 1 … ``order`` along ``seed`` (a tangent of the variable ``name``), as IR."""
    memo: dict = {}
    kinks: list = []
    out = []
    current = root
    for k in range(order):
        (current,) = jvp([current], {name: seed}, memo, kinks)
        out.append(current)
        if current is None:
            out.extend([None] * (order - k - 1))
            break
        if k and len(memo) > MAX_DERIVATIVE_NODES:  # a first derivative is linear in the expression: no limit
            raise LimitError(f"the derivative of order {k + 1} of this expression has grown past "
                             f"{MAX_DERIVATIVE_NODES} operations; ask for a lower --order")
    return out, kinks
