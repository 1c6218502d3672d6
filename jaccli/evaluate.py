"""Evaluate IR with numpy: one engine for one point, many points, and many seeds at once.

Every value carries ``nb`` leading batch axes (points, seeds of a Jacobian, or both), then the
node's own shape. Variables come in with their batch axes; constants get axes of length 1, so
numpy broadcasting lines everything up. Elementwise operations get their arguments aligned
(own shapes padded to the result's rank); structural ones index from the end. A row of a
batch is therefore the single-point result to the last bit: the same operations on the same
numbers.
"""

from __future__ import annotations

import numpy as np

from . import ir


class NotAnalytic(ValueError):
    """An operation without a complex form (abs, max, …) met by the complex-step evaluator."""


class Evaluator:
    """Values of IR nodes at the variables' values ``env`` (name -> batch + shape array), memoised."""

    def __init__(self, env: dict, nb: int, dtype=float):
        self.env = env
        self.nb = nb
        if dtype is float and any(getattr(v, "dtype", None) == np.longdouble for v in env.values()):
            dtype = np.longdouble  # the numeric path's error estimate: the same operations, 11 more bits
        self.dtype = dtype
        self.memo: dict = {}

    def __call__(self, node: ir.Node) -> np.ndarray:
        if node in self.memo:
            return self.memo[node]
        with np.errstate(all="ignore"):
            for item in ir.topological([node]):
                if item not in self.memo:
                    self.memo[item] = self._evaluate(item)
        return self.memo[node]

    def _evaluate(self, node: ir.Node) -> np.ndarray:
        op = node.op
        name = op.name
        if name == "var":
            value = np.asarray(self.env[node.name], dtype=self.dtype)
            return value
        if name == "const":
            value = node.params[0].value
            return value.reshape((1,) * self.nb + value.shape)
        args = [self.memo[arg] for arg in node.args]
        # constant parts need no complex form: the complex step never reaches them
        function = op.numpy if self.dtype in (float, np.longdouble) or node.is_constant else op.complex
        if function is None:
            raise NotAnalytic(f"{name} has no complex form")
        if op.kind == "elementwise":
            return np.asarray(function(*self._aligned(node, args)), dtype=self.dtype)
        return np.asarray(function(node, *args), dtype=self.dtype)

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
        found = set()
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


def evaluate_constant(node: ir.Node) -> np.ndarray:
    """The value of a node without variables."""
    return Evaluator({}, 0)(node)


def evaluate(nodes, env: dict, nb: int) -> list[np.ndarray]:
    """Each node at ``env`` (batch axes ``nb``), broadcast to the common batch shape."""
    evaluator = Evaluator(env, nb)
    values = [evaluator(node) for node in nodes]
    return values
