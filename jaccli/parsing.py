"""Text to expression tree, with Python's ``ast`` and a whitelist of node types.

User text is never evaluated: ``ast.parse`` only builds a syntax tree, and every
node is checked against the whitelist below before it becomes one of the small
node types of this module. ``ir.build`` turns that tree into IR.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from dataclasses import FrozenInstanceError
from operator import attrgetter

from .errors import JaccliError, LimitError, ParseError, UnknownNameError
from .registry import CONSTANTS, FUNCTIONS

MAX_LENGTH = 10_000  # characters of one expression
MAX_DEPTH = 100  # nesting of operations and calls
MAX_DIGITS = 1_000  # digits of one number literal
MAX_ORDER = 20  # highest derivative order (--order)
MAX_EXPONENT = 10_000  # |n| in x**n, and the size of exact powers of numbers (checked where powers are built)


# --- the expression tree -----------------------------------------------------------------


class _Frozen:
    """Base of the tree's types: a frozen dataclass by hand. The annotated fields, in order, are set once
    by position; instances are immutable, equal when of the same type with equal fields, hashed by their
    fields (nodes are dict keys in ``ir.build``), and shown as ``Var(name='x')``.

    Not ``dataclass(frozen=True)``: that generates and compiles six methods per class, about 1 ms each
    class on every start-up of every expression command; these take a few microseconds.
    """

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(cls.__dict__.get("__annotations__", {}))
        # the field values of an instance: a tuple for two or more fields, else the one value. Not a method
        # (attrgetter does not bind), so it is called as self._field_values(self).
        cls._field_values = attrgetter(*cls._fields)

    def __init__(self, *values):
        if len(values) != len(self._fields):
            raise TypeError(f"{type(self).__name__}() takes {len(self._fields)} positional arguments "
                            f"({', '.join(self._fields)}), got {len(values)}")
        self.__dict__.update(zip(self._fields, values))

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._field_values(self) == other._field_values(other)

    def __hash__(self):
        return hash(self._field_values(self))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Num(_Frozen):
    """A number literal, kept as typed so that exact mode can read ``0.1`` as 1/10."""

    text: str
    is_int: bool


class Const(_Frozen):
    """``pi`` or ``e``."""

    name: str


class Var(_Frozen):
    """A variable: a scalar, or an array when its point value has several entries."""

    name: str


class Index(_Frozen):
    """``x[i]`` or ``x[i, j]``: 0-based entries of a variable, negative from the end."""

    name: str
    indices: tuple[int, ...]


class Subscript(_Frozen):
    """``expr[1:]``, ``A[:, 0]``, ``log_softmax(z)[2]``: constant whole numbers and slices of any expression.

    Each item is an int, or a slice as a tuple (start, stop, step) of ints or None.
    """

    value: Node
    items: tuple


class Unary(_Frozen):
    op: str  # "-" or "+"
    arg: Node


class Binary(_Frozen):
    op: str  # "+", "-", "*", "/", "**", "@"
    left: Node
    right: Node


class Call(_Frozen):
    name: str
    args: tuple[Node, ...]


class Stack(_Frozen):
    """``[a, b]`` or top-level ``a, b``: several outputs, stacked like ``np.array``."""

    items: tuple[Node, ...]


Node = Num | Const | Var | Index | Subscript | Unary | Binary | Call | Stack


def children(node: Node) -> list[Node]:
    """The nodes directly below ``node``."""
    if isinstance(node, Unary):
        return [node.arg]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Stack):
        return list(node.items)
    if isinstance(node, Subscript):
        return [node.value]
    return []


def uses(node: Node, name: str) -> bool:
    """Whether the variable ``name`` appears at or below ``node``."""
    if isinstance(node, (Var, Index)):
        return node.name == name
    return any(uses(child, name) for child in children(node))


class Function(_Frozen):
    """A parsed expression: its tree and its variables in order."""

    text: str
    tree: Node
    variables: tuple[str, ...]
    indexed: dict[str, int]  # variable -> largest index used (to guess a length when no point says)


# --- parsing -------------------------------------------------------------------------------

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_REJECTED = {
    ast.Attribute: "attribute access ('.') is not allowed; the one attribute is .T (transpose)",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "'if' expressions are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
}
_OPERATOR_NAMES = {
    ast.FloorDiv: "'//'",
    ast.Mod: "'%'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.BitXor: "'^'",
    ast.Invert: "'~'",
    ast.Not: "'not'",
}


def element_label(name: str, index: tuple[int, ...]) -> str:
    """``x[0]`` or ``x[1, 2]``, as numpy shows entries; a scalar variable is just its name."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def natural_key(name: str) -> tuple:
    """Sort key that puts ``x2`` before ``x10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def suggest(name: str, choices) -> str:
    """`` — did you mean 'sin'?`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def parse_tree(text: str, *, allow_variables: bool = True) -> Node:
    """Parse ``text`` into a tree of the node types above, or raise ``ParseError``."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty expression")
    if len(text) > MAX_LENGTH:
        raise LimitError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = reading(text).python  # maths as people type it (2x, sin x, |x|, x², ^), in Python syntax
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal" for 1if: our own error follows
            module = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        stripped = source.strip()
        at_end = not exc.offset or exc.offset > len(stripped)
        column = len(stripped) if at_end else exc.offset - 1
        msg = "unexpected end of expression" if at_end and exc.msg == "invalid syntax" else exc.msg
        if "too many nested" in (exc.msg or ""):
            raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)") from None
        raise ParseError(f"syntax error: {msg}", source.strip(), column) from None
    except (RecursionError, MemoryError):
        raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer literal over Python's digit limit
        raise LimitError(f"number too long: {exc}") from None
    return _Builder(source.strip(), allow_variables).build(module.body, 0)


def reading(text: str, power: str | None = None):
    """How ``text`` is read (``notation.Reading``): its Python syntax, and ``read_as`` for people."""
    from . import notation

    return notation.read(text, FUNCTIONS, CONSTANTS, power)


def parse(text: str, variables: list[str] | None = None) -> Function:
    """Parse an expression; ``variables`` fixes the order (it may name unused ones)."""
    tree = parse_tree(text)
    found: set[str] = set()
    indexed: dict[str, int] = {}
    _collect(tree, found, indexed)
    if variables is None:
        order = tuple(sorted(found, key=natural_key))
    else:
        order = tuple(variables)
        for name in order:
            check_variable_name(name)
        if len(set(order)) != len(order):
            raise ParseError(f"--vars names a variable twice: {', '.join(order)}")
        missing = sorted(found - set(order), key=natural_key)
        if missing:
            raise ParseError(
                f"--vars leaves out {', '.join(missing)}; list every variable of the expression"
                f" ({', '.join(sorted(found, key=natural_key))})"
            )
    return Function(text, tree, order, indexed)


def check_order(order: int) -> None:
    if not 1 <= order <= MAX_ORDER:
        raise LimitError(f"derivative order must be between 1 and {MAX_ORDER}, got {order}")


def check_variable_name(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ParseError(f"'{name}' is not a variable name: use letters, digits and '_', starting with a letter")
    if name in FUNCTIONS or name in CONSTANTS:
        raise ParseError(f"'{name}' is a reserved name (a function or constant), not a variable")


def _collect(node: Node, found: set[str], indexed: dict[str, int]) -> None:
    if isinstance(node, Var):
        found.add(node.name)
    elif isinstance(node, Index):
        found.add(node.name)
        if len(node.indices) == 1 and node.indices[0] >= 0:
            indexed[node.name] = max(indexed.get(node.name, -1), node.indices[0])
    for child in children(node):
        _collect(child, found, indexed)


class _Builder:
    def __init__(self, source: str, allow_variables: bool):
        self.source = source
        self.allow_variables = allow_variables

    def fail(self, message: str, node: ast.AST, cls=ParseError) -> JaccliError:
        if not issubclass(cls, ParseError):  # e.g. LimitError: a plain message, no caret
            return cls(message)
        return cls(message, self.source, getattr(node, "col_offset", None))

    def build(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)")
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                raise self.fail(f"operator {_OPERATOR_NAMES.get(type(node.op), '?')} is not supported", node)
            return Binary(op, self.build(node.left, depth + 1), self.build(node.right, depth + 1))
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:
                raise self.fail("chained comparisons (a < b < c) are not supported; multiply them: (a < b)*(b < c)",
                                node)
            op = _COMPARE.get(type(node.ops[0]))
            if op is None:
                raise self.fail("only the comparisons < <= > >= == != are allowed", node)
            return Binary(op, self.build(node.left, depth + 1), self.build(node.comparators[0], depth + 1))
        if isinstance(node, ast.UnaryOp):
            op = _UNARY.get(type(node.op))
            if op is None:
                raise self.fail(f"operator {_OPERATOR_NAMES.get(type(node.op), '?')} is not supported", node)
            return Unary(op, self.build(node.operand, depth + 1))
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, depth)
        if isinstance(node, ast.Attribute) and node.attr == "T":  # A.T, numpy's transpose: the one attribute
            return Call("transpose", (self.build(node.value, depth + 1),))
        if isinstance(node, (ast.List, ast.Tuple)):
            if not node.elts:
                raise self.fail("empty brackets: a list needs at least one entry", node)
            return Stack(tuple(self.build(item, depth + 1) for item in node.elts))
        for kind, message in _REJECTED.items():
            if isinstance(node, kind):
                raise self.fail(message, node)
        raise self.fail(f"'{type(node).__name__}' is not allowed in an expression", node)

    def number(self, node: ast.Constant) -> Num:
        value = node.value
        if isinstance(value, complex):
            raise self.fail("complex numbers are not supported", node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, (str, bytes)) else f"'{value!r}'"
            message = "strings are not allowed; only numbers" if kind == "strings" else f"{kind} is not a number"
            raise self.fail(message, node)
        text = ast.get_source_segment(self.source, node) or repr(value)
        digits = sum(ch.isdigit() for ch in text)
        if digits > MAX_DIGITS:
            raise self.fail(f"number literal has {digits} digits; the limit is {MAX_DIGITS}", node, LimitError)
        if isinstance(value, float) and value == float("inf"):
            raise self.fail(f"number {text} is too large for a float (limit about 1.8e308)", node, LimitError)
        if isinstance(value, int):  # 0x10, 0b101, 1_000: keep the value, in decimal
            return Num(str(value), True)
        return Num(text.replace("_", ""), False)

    def name(self, node: ast.Name) -> Node:
        name = node.id
        if name in CONSTANTS:
            return Const(name)
        if name in FUNCTIONS:
            raise self.fail(f"'{name}' is a function: call it, e.g. {name}(x)", node)
        if name.startswith("_"):
            raise self.fail(f"'{name}': names may not start with '_'", node)
        if not self.allow_variables:
            raise self.fail(f"unknown name '{name}'{suggest(name, CONSTANTS)}: a value may use numbers, pi, e "
                            "and functions, not variables", node, UnknownNameError)
        check_variable_name(name)
        return Var(name)

    def call(self, node: ast.Call, depth: int) -> Call:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only named functions can be called, e.g. sin(x)", node)
        name = node.func.id
        signature = FUNCTIONS.get(name)
        if signature is None:
            from .names import unknown_function

            raise self.fail(unknown_function(name, FUNCTIONS), node, UnknownNameError)
        arguments = list(node.args)
        for keyword in node.keywords:  # axis= is the one keyword: the argument after the others, as in numpy
            if keyword.arg != "axis" or signature.arity[1] is None or len(node.args) >= signature.arity[1] \
                    or len(node.keywords) > 1:
                what = "takes no keyword arguments" if keyword.arg != "axis" else "takes no axis= here"
                raise self.fail(f"{name}() {what}" + (" (axis= is the one keyword)" if keyword.arg != "axis" else ""),
                                node)
            arguments.append(keyword.value)
        if any(isinstance(arg, ast.Starred) for arg in arguments):
            raise self.fail("'*' unpacking is not allowed", node)
        count = len(arguments)
        least, most = signature.arity
        if count < least or (most is not None and count > most):
            if most is None:
                wanted = f"at least {least}"
            elif least == most:
                wanted = str(least)
            else:
                wanted = f"{least} or {most}"
            plural = "" if wanted == "1" else "s"
            raise self.fail(f"{name}() takes {wanted} argument{plural}, got {count}", node)
        return Call(name, tuple(self.build(arg, depth + 1) for arg in arguments))

    def subscript(self, node: ast.Subscript, depth: int) -> Node:
        items = self.indices(node.slice)
        if all(isinstance(i, int) for i in items):
            if isinstance(node.value, ast.Name) and node.value.id not in CONSTANTS:
                inner = self.name(node.value)
                if isinstance(inner, Var):
                    return Index(inner.name, items)
            if isinstance(node.value, ast.Subscript):  # x[0][1] is x[0, 1]
                outer = self.subscript(node.value, depth + 1)
                if isinstance(outer, Index):
                    return Index(outer.name, outer.indices + items)
                return Subscript(outer, items)
        return Subscript(self.build(node.value, depth + 1), items)

    def indices(self, node: ast.AST) -> tuple:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        out = []
        for item in items:
            if isinstance(item, ast.Slice):
                out.append(tuple(None if part is None else self.whole(part, "slice") for part in
                                 (item.lower, item.upper, item.step)))
                if out[-1][2] == 0:
                    raise self.fail("slice step cannot be zero", item)
            else:
                out.append(self.whole(item, "index"))
        return tuple(out)

    def whole(self, item: ast.AST, what: str) -> int:
        """A constant whole number (possibly negative) in an index or a slice."""
        node, sign = item, 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            if what == "slice":
                raise self.fail("slice bounds must be constant whole numbers, e.g. x[1:], x[:-1], x[::2]", item)
            raise self.fail("an index must be a constant whole number, e.g. x[0] (or a slice, x[1:])", item)
        if node.value > 10**9:
            raise self.fail(f"{what} too large", item, LimitError)
        return sign * node.value
