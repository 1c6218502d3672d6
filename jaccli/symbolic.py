"""IR to sympy: object arrays of sympy expressions, through each operation's sympy form.

A scalar variable is one real symbol; an array variable of shape s is an array of symbols
named as numpy shows entries (``x[0]``, ``x[1, 2]``). Elementwise operations broadcast their
sympy form over the entries as numpy broadcasts; the others build their arrays themselves.
Symbolic results (formulas, ``--exact``, ``--emit``) come from sympy's own differentiation
of these expressions.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import sympy

from . import ir
from .errors import JaccliError, LimitError, ShapeError
from .parsing import element_label, parse_tree


def variable_symbols(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An object array of real symbols for one variable, entries labelled as numpy shows them."""
    out = np.empty(shape, dtype=object)
    for index in product(*(range(n) for n in shape)):
        out[index] = sympy.Symbol(element_label(name, index), real=True)
    return out


def lower(root: ir.Node, variables: dict[str, tuple[int, ...]],
          exact: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The outputs as an object array, and each variable's symbols (``variables``: name -> shape, in order).

    ``exact`` reads decimal literals as rationals (0.1 is 1/10) instead of floats.
    """
    symbols = {name: variable_symbols(name, tuple(shape)) for name, shape in variables.items()}
    outputs = Lowering(symbols, exact)(root)
    for entry in outputs.flat:
        if entry.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise JaccliError(f"the expression is undefined: '{entry}' (a division by zero?)")
        if entry.has(sympy.I):  # e.g. log(x, -1): numpy would drop the imaginary part silently
            raise JaccliError(f"the expression is not real: '{entry}'")
    return outputs, symbols


def constant(text: str, exact: bool = False) -> sympy.Expr:
    """A point value such as ``pi/4`` or ``sqrt(2)``: parsed by the same safe parser, no variables."""
    root = ir.build(parse_tree(text, allow_variables=False), {})
    value = Lowering({}, exact)(root)
    if value.shape != ():
        raise ShapeError(f"'{text}' is not a single number")
    return value[()]


def number(constant: ir.Constant, exact: bool) -> np.ndarray:
    """A literal as sympy: ints exactly; decimals as floats, or as exact rationals when ``exact``."""
    if constant.symbol:
        return _obj(ir.NAMED_CONSTANTS[constant.symbol][0](sympy))
    if constant.texts is None:  # made by jaccli (a size, 0, 1): exact when it is a whole number
        values = [sympy.Integer(int(v)) if float(v).is_integer() else sympy.Float(float(v))
                  for v in constant.value.flat]
    else:
        values = [sympy.Integer(t) if t.isdigit() else sympy.Rational(t) if exact else sympy.Float(t, 15)
                  for t in constant.texts]
    return np.array(values, dtype=object).reshape(constant.value.shape) if constant.value.shape else _obj(values[0])


class Lowering:
    """Sympy arrays of IR nodes, memoised."""

    def __init__(self, symbols: dict[str, np.ndarray], exact: bool = False):
        self.symbols = symbols
        self.exact = exact
        self.memo: dict = {}

    def __call__(self, root: ir.Node) -> np.ndarray:
        order = ir.topological([root])
        inner = _inner_sums(order, root)
        for node in order:
            if node in self.memo or node in inner:  # an inner sum is lowered as terms of the sum that uses it
                continue
            if node.op.sum_signs is not None:
                signs, terms = self._terms(node, inner)
                self.memo[node] = self._broadcast(lambda *t: sympy.Add(*t), terms, node.op.name, node.shape, signs)
            else:
                self.memo[node] = self._lower(node)
        return self.memo[root]

    def _terms(self, node: ir.Node, inner: set) -> tuple[list[int], list[np.ndarray]]:
        """The signed terms of a sum node, its inner sums opened (iteratively: chains are long)."""
        signs, terms = [], []
        stack = [(1, node)]
        while stack:
            sign, part = stack.pop()
            if part is node or part in inner:
                stack.extend((sign * s, arg) for s, arg in reversed(list(zip(part.op.sum_signs, part.args))))
            else:
                signs.append(sign)
                terms.append(self.memo[part])
        return signs, terms

    def _lower(self, node: ir.Node) -> np.ndarray:
        op = node.op
        if op.name == "var":
            return self.symbols[node.name]
        if op.name == "const":
            return number(node.params[0], self.exact)
        args = [self.memo[arg] for arg in node.args]
        if op.sympy is None:  # pragma: no cover - internal operations are never lowered
            raise TypeError(f"{op.name} has no sympy form")
        if op.kind == "elementwise":
            return self._broadcast(op.sympy(sympy), args, op.name, node.shape)
        return np.asarray(op.sympy(sympy, node, *args), dtype=object)

    def _broadcast(self, fn, arrays: list[np.ndarray], name: str, shape: tuple[int, ...],
                   signs: list[int] | None = None) -> np.ndarray:
        out = np.empty(shape, dtype=object)
        views = [np.broadcast_to(a, shape) for a in arrays]
        what = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "neg": "-"}.get(name, f"{name}()")
        try:
            for index in np.ndindex(shape):
                args = [v[index] for v in views]
                if any(a is sympy.nan or a is sympy.zoo for a in args):  # e.g. atan2(0, 0) as an argument
                    raise JaccliError(f"undefined constant in '{what}': {', '.join(map(str, args))} "
                                      "(from atan2(0, 0) or 0/0?)")
                out[index] = fn(*(a if s == 1 else -a for s, a in zip(signs, args))) if signs else fn(*args)
        except (OverflowError, ValueError):  # mpmath on a constant beyond any float, e.g. sin(exp(exp(1e3)))
            raise LimitError(f"a constant in '{what}' is too large to evaluate") from None
        return out


def _inner_sums(order: list[ir.Node], root: ir.Node) -> set[ir.Node]:
    """The sum nodes whose one use is as an argument of another sum of the same shape: a chain of them is
    lowered as one sympy Add (a left-deep or balanced chain of n binary Adds would flatten O(n log n) terms)."""
    uses: dict = {}
    user: dict = {}
    for node in order:
        for arg in node.args:
            uses[arg] = uses.get(arg, 0) + 1
            user[arg] = node
    return {node for node in order if node is not root and node.op.sum_signs is not None and uses.get(node) == 1
            and user[node].op.sum_signs is not None and user[node].shape == node.shape}


def _obj(value) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out
