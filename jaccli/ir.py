"""jaccli's intermediate representation: variables, constants and applications of registry operations.

A ``Node`` is immutable and knows its shape when it is built (every operation's shape rule runs
then, so size limits are checked on shapes before any numeric work or allocation). Nodes compare
and hash by structure, so equal subexpressions are one node in every memo of the engines.

The parser's syntax tree becomes IR in ``build``; derivatives are IR too (each operation's
derivative rule builds nodes of other operations), so they can be evaluated, lowered to sympy or
differentiated again by the same engines.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from .errors import JaccliError, LimitError, ShapeError

MAX_ARRAY_ENTRIES = 10**7  # any array the IR describes, checked on its shape when the node is built


class Node:
    """``op`` applied to ``args`` with constant ``params``; ``shape`` is the shape of one evaluation.

    Leaves are the operations ``var`` (params: the name) and ``const`` (params: a ``Constant``).
    Nodes are interned (``make``): structurally equal nodes are the same object, so equality and
    hashing are by identity and cost nothing however deep the graph (high-order derivatives are).
    """

    __slots__ = ("op", "args", "params", "shape", "_vars", "__weakref__")

    def __init__(self, op, args: tuple, params: tuple, shape: tuple[int, ...]):
        self.op = op
        self.args = args
        self.params = params
        self.shape = shape
        self._vars = None

    def __repr__(self):
        if self.op.name == "var":
            return self.params[0]
        if self.op.name == "const":
            return repr(self.params[0])
        inner = ", ".join([repr(a) for a in self.args] + [repr(p) for p in self.params])
        return f"{self.op.name}({inner})"

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def variables(self) -> frozenset:
        """The names of the variables below this node (cached)."""
        if self._vars is None and all(arg._vars is not None for arg in self.args):
            found: frozenset = frozenset(self.params[:1]) if self.op.name == "var" else frozenset()
            for arg in self.args:
                found = found | arg._vars
            self._vars = found
        if self._vars is None:
            # bottom-up over the nodes not yet known (iterative: a chain of 10⁵ additions is no recursion)
            for node in topological([self], skip=lambda n: n._vars is not None):
                if node.op.name == "var":
                    node._vars = frozenset(node.params[:1])
                else:
                    found: frozenset = frozenset()
                    for arg in node.args:
                        found = found | arg._vars
                    node._vars = found
        return self._vars

    @property
    def is_constant(self) -> bool:
        return not self.variables

    @property
    def name(self) -> str:
        """A variable's name (leaves of op ``var`` only)."""
        return self.params[0]


def _fraction(text):
    """A number as typed (``0.1``, ``1e-8``, ``1/3``) as an exact ``Fraction``; None for anything else (pi/3, inf)."""
    from fractions import Fraction

    try:
        return Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None


# constants known by name (``Constant.symbol``): their value in sympy (exact), in mpmath (at its working precision)
# and in longdouble; the double is what the name's constant node holds
NAMED_CONSTANTS = {
    "pi": (lambda sp: sp.pi, lambda mp: +mp.pi, lambda: 4 * np.arctan(np.longdouble(1))),
    "e": (lambda sp: sp.E, lambda mp: +mp.e, lambda: np.exp(np.longdouble(1))),
    "log2(e)": (lambda sp: 1 / sp.log(2), lambda mp: 1 / mp.ln2, lambda: 1 / np.log(np.longdouble(2))),
    "log10(e)": (lambda sp: 1 / sp.log(10), lambda mp: 1 / mp.ln10, lambda: 1 / np.log(np.longdouble(10))),
}


class Constant:
    """A constant array, with the text each entry was typed as (exact mode reads ``0.1`` as 1/10).

    ``texts`` is None for constants the engines make (0, 1, sizes); ``symbol`` names pi or e.
    """

    __slots__ = ("value", "texts", "symbol", "_key", "uniform", "_wide")

    def __init__(self, value, texts: tuple | None = None, symbol: str | None = None):
        self.value = np.asarray(value, dtype=float)
        self.value.setflags(write=False)
        self.texts = texts
        self.symbol = symbol
        self._key = (self.value.shape, self.value.tobytes(), texts, symbol)
        flat = self.value.reshape(-1)
        # the one value every entry has (for the simplifications of derivative rules), else None
        self.uniform = float(flat[0]) if flat.size and bool(np.all(flat == flat[0])) else None
        self._wide = None

    @property
    def wide(self) -> np.ndarray:
        """The value in numpy's longdouble, for the numeric path's wider evaluation: named constants (pi, e) to its
        precision, a number from its text as typed (0.1 to 64 bits, not the double nearest it) where that reads
        back to the same double; else the double."""
        if self._wide is None:
            wide = self.value.astype(np.longdouble)
            if self.symbol in NAMED_CONSTANTS:
                wide = np.full(self.value.shape, NAMED_CONSTANTS[self.symbol][2](), dtype=np.longdouble)
            elif self.texts is not None and len(self.texts) == self.value.size:
                try:
                    read = np.asarray(self.texts, dtype=str).astype(np.longdouble).reshape(self.value.shape)
                except ValueError:
                    read = wide
                wide = np.where(read.astype(float) == self.value, read, wide)
            self._wide = np.asarray(wide, dtype=np.longdouble)
        return self._wide

    def multi(self) -> np.ndarray:
        """The value as mpmath numbers at mpmath's working precision (``evaluate.Evaluator`` with dtype object): a
        named constant (pi, e, log2(e)) to it, a number as typed (0.1 as 1/10, rounded at that precision) where
        its text reads back to the same double; else the double itself."""
        import mpmath

        from .evaluate import multi, multi_typed

        if self.symbol in NAMED_CONSTANTS:
            return np.full(self.value.shape, NAMED_CONSTANTS[self.symbol][1](mpmath), dtype=object)
        if self.texts is not None and len(self.texts) == self.value.size:
            return multi_typed(self.value, self.texts)
        return multi(self.value)

    def __eq__(self, other):
        return isinstance(other, Constant) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        if self.symbol:
            return self.symbol
        if self.texts and len(self.texts) == 1:
            return self.texts[0]
        return np.array2string(self.value, separator=", ") if self.value.ndim else repr(float(self.value))


# --- building nodes --------------------------------------------------------------------------

_INTERNED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def make(op, args: tuple, params: tuple, shape: tuple[int, ...]) -> Node:
    """The one node of this structure: an existing equal node, or a new one."""
    key = (op.name, tuple(map(id, args)), params, shape)  # the arguments are interned: identity is structure
    node = _INTERNED.get(key)
    if node is None:
        node = Node(op, args, params, shape)
        _INTERNED[key] = node
    return node


def check_size(shape: tuple[int, ...], what: str = "an intermediate array") -> None:
    size = math.prod(shape)
    if size > MAX_ARRAY_ENTRIES:
        raise LimitError(f"{what} of shape {shape_text(shape)} would have {size} entries "
                         f"(limit {MAX_ARRAY_ENTRIES:.0e})")


def shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else "×".join(map(str, shape))


def var(name: str, shape: tuple[int, ...] = ()) -> Node:
    from .registry import OPS

    check_size(shape, f"the variable {name}")
    return make(OPS["var"], (), (name,), tuple(shape))


def const(value, texts: tuple | None = None, symbol: str | None = None) -> Node:
    from .registry import OPS

    constant = Constant(value, texts, symbol)
    return make(OPS["const"], (), (constant,), constant.value.shape)


def apply(name: str, *args: Node, params: tuple = ()) -> Node:
    """The node of operation ``name`` on ``args``: its shape rule checks the shapes first."""
    from .registry import OPS

    op = OPS[name]
    shape = tuple(op.shape(tuple(a.shape for a in args), params))
    check_size(shape)
    return make(op, tuple(args), tuple(params), shape)


def constant_value(node: Node) -> np.ndarray | None:
    """The value of a ``const`` leaf, else None."""
    return node.params[0].value if node.op.name == "const" else None


def is_literal(node: Node, number: float) -> bool:
    """Whether ``node`` is a constant whose every entry equals ``number`` (for simplifications)."""
    return node.op.name == "const" and node.params[0].uniform == number


def broadcast_shapes(shapes, what: str) -> tuple[int, ...]:
    shapes = tuple(shapes)
    distinct = {s for s in shapes if s != ()}
    if len(distinct) <= 1:  # the common cases, without numpy's general (and slower) rule
        return distinct.pop() if distinct else ()
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"shapes {', '.join(shape_text(s) for s in shapes)} do not broadcast together "
                         f"in '{what}'") from None


def topological(roots, skip=None) -> list[Node]:
    """Every node below ``roots``, each after all of its arguments (iterative: deep graphs are fine).

    ``skip(node)`` true: leave out that node and what is only below it."""
    order, seen = [], set()
    stack = [(root, False) for root in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen or skip is not None and skip(node):
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((arg, False) for arg in reversed(node.args) if arg not in seen)
    return order


# --- from the parser's syntax tree -----------------------------------------------------------


def build(tree, shapes: dict[str, tuple[int, ...]]) -> Node:
    """The IR of a parsed expression, its variables taking ``shapes`` (absent: scalar)."""
    from . import parsing as p
    from .registry import FUNCTIONS, OPS

    memo: dict = {}

    def visit(node):
        if node in memo:
            return memo[node]
        if isinstance(node, p.Num):
            out = const(float(node.text), (node.text,))
        elif isinstance(node, p.Const):
            out = const(math.pi if node.name == "pi" else math.e, None, node.name)
        elif isinstance(node, p.Var):
            out = var(node.name, tuple(shapes.get(node.name, ())))
        elif isinstance(node, p.Index):
            x = var(node.name, tuple(shapes.get(node.name, ())))
            out = index(x, node.indices, node.name)
        elif isinstance(node, p.Subscript):
            out = subscript(visit(node.value), node.items)
        elif isinstance(node, p.Unary):
            out = visit(node.arg)
            if node.op == "-":
                out = apply("neg", out)
        elif isinstance(node, p.Binary):
            out = OPS[_BINARY[node.op]].make(visit(node.left), visit(node.right))
        elif isinstance(node, p.Chain):
            out = _fold(node.ops, [visit(item) for item in node.items])
        elif isinstance(node, p.Stack):
            out = OPS["stack"].make([visit(item) for item in node.items])
        elif isinstance(node, p.Axis):
            out = visit(node.value)
        elif isinstance(node, p.Call):
            op = FUNCTIONS[node.name]  # the names users call (var() is the record "variance")
            keyword = dict(("axis", visit(a)) for a in node.args if isinstance(a, p.Axis))  # axis=: make's keyword
            if op.takes_list:  # concatenate([a, b], axis): the list's entries, then the other arguments
                items, rest = _list_argument(node)
                out = op.make([visit(item) for item in items], *[visit(arg) for arg in rest
                                                                  if not isinstance(arg, p.Axis)], **keyword)
            else:
                out = op.make(*[visit(arg) for arg in node.args if not isinstance(arg, p.Axis)], **keyword)
        else:  # pragma: no cover - the parser builds only the above
            raise TypeError(f"unknown node {node!r}")
        memo[node] = out
        return out

    def children(node):
        return _call_arguments(node) if isinstance(node, p.Call) else p.children(node)

    return _iterative(tree, visit, children)


def _call_arguments(node) -> list:
    """The nodes below a call: for a function taking a list of arrays (concatenate([a, b])), the list's entries."""
    from .registry import FUNCTIONS

    if FUNCTIONS[node.name].takes_list:
        items, rest = _list_argument(node)
        return items + rest
    return list(node.args)


def _list_argument(node) -> tuple[list, list]:
    from . import parsing as p

    first = node.args[0]
    if not isinstance(first, p.Stack):
        raise ShapeError(f"{node.name} takes a list of arrays, e.g. {node.name}([a, b])")
    return list(first.items), list(node.args[1:])


_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul", "<": "less",
           "<=": "less_equal", ">": "greater", ">=": "greater_equal", "==": "equal", "!=": "not_equal"}


_PAIRWISE = 8  # a chain longer than this is combined pairwise, as numpy sums


def _fold(ops: tuple[str, ...], values: list[Node]) -> Node:
    """``values[0] ops[0] values[1] …``: left to right up to _PAIRWISE operands, else in halves (+ and *).

    Halves keep the IR shallow (depth log n), and sympy flattens a sum of halves in n log n where a left-deep
    chain costs n²; a − or / before the second half flips the operators inside it. A chain with @ (not
    associative with *) goes left to right."""
    from .registry import OPS

    inverse = {"+": "-", "-": "+", "*": "/", "/": "*"}

    def combine(left, op, right):
        return OPS[_BINARY[op]].make(left, right)

    in_order = "@" in ops

    def fold(lo: int, hi: int) -> Node:
        # ops[k - 1] joins values[k]; inside a group, an operator is read relative to the group's first one
        if hi - lo <= _PAIRWISE or in_order:
            out = values[lo]
            for k in range(lo + 1, hi):
                out = combine(out, ops[k - 1] if lo == 0 or _plain(ops[lo - 1]) else inverse[ops[k - 1]], values[k])
            return out
        mid = (lo + hi) // 2
        joint = ops[mid - 1] if lo == 0 or _plain(ops[lo - 1]) else inverse[ops[mid - 1]]
        return combine(fold(lo, mid), joint, fold(mid, hi))

    return fold(0, len(values))


def _plain(op: str) -> bool:
    return op in ("+", "*")


def _iterative(tree, visit, children):
    """``visit`` every node bottom-up without deep recursion (long chains of + are common)."""
    for node in _postorder(tree, children):
        visit(node)
    return visit(tree)


def _postorder(tree, children) -> list:
    order, seen, stack = [], set(), [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children(node)))
    return order


def index(x: Node, indices: tuple[int, ...], label: str = "the array") -> Node:
    """``x[i, j]`` with constant integer indices (negative from the end), checked against x's shape."""
    if len(indices) > len(x.shape):
        shape = "a scalar" if not x.shape else f"shape {shape_text(x.shape)}"
        hint = f"; give it an array value, e.g. --at {label}=[1,2,3]" if x.op.name == "var" else ""
        raise ShapeError(f"{label}{list(indices)} has {len(indices)} indices, but {label} is {shape}{hint}")
    for axis, i in enumerate(indices):
        if not -x.shape[axis] <= i < x.shape[axis]:
            raise ShapeError(f"index {i} is out of range for {label}, whose axis {axis} has {x.shape[axis]} entries")
    normal = tuple(i % x.shape[axis] for axis, i in enumerate(indices))
    return apply("index", x, params=(normal,))


def subscript(x: Node, items: tuple) -> Node:
    """``x[...]`` with constant whole numbers and slices (tuples (start, stop, step)), as numpy reads them."""
    if all(isinstance(i, int) for i in items):
        return index(x, items)
    if len(items) > len(x.shape):
        shape = "a scalar" if not x.shape else f"shape {shape_text(x.shape)}"
        raise ShapeError(f"{len(items)} indices for an array of {shape}")
    key = []
    for axis, item in enumerate(items):
        n = x.shape[axis]
        if isinstance(item, int):
            if not -n <= item < n:
                raise ShapeError(f"index {item} is out of range for axis {axis}, which has {n} entries")
            key.append(item % n)
            continue
        picked = range(*slice(*item).indices(n))
        if len(picked) == 0:
            raise ShapeError(f"the slice {_slice_text(item)} of axis {axis} ({n} entries) is empty")
        key.append((picked.start, len(picked), picked.step))  # the first entry, how many, the step
    return apply("slice", x, params=(tuple(key),))


def _slice_text(item) -> str:
    start, stop, step = ("" if v is None else str(v) for v in item)
    return f"{start}:{stop}" + (f":{step}" if step else "")


def fail(message: str) -> JaccliError:
    return JaccliError(message)


def substitute(root: Node, replacements: dict[str, Node]) -> Node:
    """``root`` with the variables named in ``replacements`` replaced by those nodes (shapes must agree)."""
    memo: dict = {}
    for node in topological([root]):
        if node.op.name == "var" and node.name in replacements:
            memo[node] = replacements[node.name]
        elif node.args:
            memo[node] = make(node.op, tuple(memo[a] for a in node.args), node.params, node.shape)
        else:
            memo[node] = node
    return memo[root]
