"""Text to expression tree, with Python's ``ast`` and a whitelist of node types.

User text is never evaluated: ``ast.parse`` only builds a syntax tree, and every
node is checked against the whitelist below before it becomes one of the small
node types of this module. ``ir.build`` turns that tree into IR.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
import warnings
from dataclasses import FrozenInstanceError
from operator import attrgetter

from .errors import JaccliError, LimitError, ParseError, UnknownNameError
from .registry import CONSTANTS, FUNCTIONS

MAX_LENGTH = 1_000_000  # characters of one expression (generated ones are long; @file or - holds them)
MAX_DEPTH = 100  # nesting of brackets, calls and operations; a chain a + b - c + … (or a*b/c…) is one level
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


class Chain(_Frozen):
    """``a + b - c …`` or ``a*b/c@d …``: operands combined left to right by ``ops`` (one fewer than ``items``).

    One node, not a left-deep tree of ``Binary``: a long sum is long, not deep (hashing, building and the depth
    limit see one level).
    """

    ops: tuple[str, ...]
    items: tuple[Node, ...]


class Call(_Frozen):
    name: str
    args: tuple[Node, ...]


class Axis(_Frozen):
    """``axis=k`` in a call: kept apart from the positional arguments (``max(A, axis=0)`` is not ``max(A, 0)``)."""

    value: Node


class Stack(_Frozen):
    """``[a, b]`` or top-level ``a, b``: several outputs, stacked like ``np.array``."""

    items: tuple[Node, ...]


Node = Num | Const | Var | Index | Subscript | Unary | Binary | Chain | Call | Axis | Stack


def children(node: Node) -> list[Node]:
    """The nodes directly below ``node``."""
    if isinstance(node, Unary):
        return [node.arg]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, (Stack, Chain)):
        return list(node.items)
    if isinstance(node, (Subscript, Axis)):
        return [node.value]
    return []


def walk(node: Node):
    """Every node at or below ``node`` (iteratively: no recursion however long or deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(children(item))


def uses(node: Node, name: str) -> bool:
    """Whether the variable ``name`` appears at or below ``node``."""
    return any(isinstance(item, (Var, Index)) and item.name == name for item in walk(node))


class Function(_Frozen):
    """A parsed expression: its tree and its variables in order."""

    text: str
    tree: Node
    variables: tuple[str, ...]
    indexed: dict[str, int]  # variable -> largest index used (to guess a length when no point says)


# --- parsing -------------------------------------------------------------------------------

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_LEVELS = {1: (ast.Add, ast.Sub), 2: (ast.Mult, ast.Div, ast.MatMult)}  # left-to-right chains: one level each
_CHAINED = _LEVELS[1] + _LEVELS[2]
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
    ast.IfExp: "'if' expressions are not allowed; write where(condition, a, b)",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
}
_OPERATOR_NAMES = {  # what a user who typed it probably meant, said with the operator
    ast.FloorDiv: "'//' (floor division has no derivative worth the name; '/' divides)",
    ast.Mod: "'%' (there is no modulo)",
    ast.BitAnd: "'&' (for 'both conditions' multiply them: (a > 0)*(b > 0))",
    ast.BitOr: "'|' (|x| is the absolute value; for 'either condition' write maximum(a > 0, b > 0))",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.BitXor: "'^'",
    ast.Invert: "'~' (for 'not c' write 1 - c, or c == 0)",
    ast.Not: "'not' (for 'not c' write 1 - c, or c == 0)",
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
            hoisted: dict = {}
            body = _python(source.strip(), 0, hoisted) if len(source.strip()) > _LONG else _python(source.strip())
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
    builder = _Builder(source.strip(), allow_variables)
    builder.hoisted = hoisted
    return builder.build(body, 0)


# Long texts are parsed in pieces: Python's own parser recurses once per operator of a chain (a sum of some
# thousands of terms exhausts it), so a long text is cut at its top-level + and - (and a long term at its
# top-level * and /), the pieces are parsed in chunks of a few hundred, and the builder gets one flat chain.
_CHUNK = 200  # operands per ast.parse call: far below the depth Python's parser manages
_LONG = 2_000  # characters: shorter texts go to ast.parse whole
_LOWER = re.compile(r"[<>=!,:;&|^~%'\"\\]|\b(?:if|else|lambda|and|or|not|in|is|for|async|await|yield)\b")
_LEVEL_2 = re.compile(r"@|//")  # same precedence as * and /: cutting at * beside them would change the reading


class _Flat:
    """Operands of one chain found by cutting the text (``ast`` nodes or further ``_Flat``), and the operators."""

    def __init__(self, ops: list[str], items: list, col_offset: int):
        self.ops, self.items, self.col_offset = ops, items, col_offset


def _python(text: str, offset: int = 0, hoisted: dict | None = None):
    """The syntax tree of ``text`` (Python syntax, at ``offset`` of the whole): ``ast.parse`` for a short text;
    a long one in pieces, its long bracketed groups first (``hoisted``: placeholder name -> their trees)."""
    if len(text) > _LONG:
        text = _hoist(text, offset, {} if hoisted is None else hoisted)
        flat = _flat(text, offset, 1) or _flat(text, offset, 2)
        if flat is not None:
            return flat
    if offset == 0 and hoisted is None:
        return ast.parse(text, mode="eval").body
    return _Piece(*_parse_at(text, offset))


def _hoist(text: str, offset: int, hoisted: dict) -> str:
    """``text`` with each long top-level ``( … )`` or ``[ … ]`` group's long items (the group's content split
    at its top-level commas: one expression each, as in sqrt(x1**2 + … + x5000**2), max(…, axis=0) or a list
    of outputs) replaced by placeholder names of the same length, their trees in ``hoisted``: each is parsed as
    one more text. Names starting with '_' are never a user's."""
    out, depth, start, last = [], 0, 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            if depth == 0:
                start = i
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and ch in ")]" and text[start] in "([" and i - start - 1 > _LONG:
                out.append(text[last:start + 1])
                for item_start, item_end in _items(text, start + 1, i):
                    item = text[item_start:item_end]
                    if item_end - item_start > _LONG and not _KEYWORD.match(item):
                        compare = _comparison(item)
                        if compare is None:
                            item = _placeholder(text, item_start, item_end, offset, hoisted)
                        else:  # where(a > b, …): each side of the comparison is one expression
                            left, right = item_start + compare[0], item_start + compare[1]
                            item = (_placeholder(text, item_start, left, offset, hoisted) + text[left:right]
                                    + _placeholder(text, right, item_end, offset, hoisted))
                    out.append(item + ("," if item_end < i else ""))
                last = i
            if depth < 0:
                return text
    return "".join(out) + text[last:]


def _placeholder(text: str, start: int, end: int, offset: int, hoisted: dict) -> str:
    """``text[start:end]`` replaced by a placeholder name of its length (its tree in ``hoisted``) when it is long
    and one expression; otherwise as it is."""
    part = text[start:end]
    if end - start <= _LONG or _cuts(part, 0) is None:
        return part
    name = f"_h{len(hoisted)}"
    hoisted[name] = None  # the name is taken before the groups inside get theirs
    hoisted[name] = _python(part, offset + start, hoisted)
    return name.ljust(len(part))


_COMPARISON = re.compile(r"<=|>=|==|!=|<|>")


def _comparison(text: str) -> tuple[int, int] | None:
    """The span of the one top-level comparison operator of ``text``, if it has exactly one and nothing else
    that binds more loosely than arithmetic (a comma, a keyword, a second comparison)."""
    depth, top = 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        top.append(ch if depth == 0 and ch not in ")]}" else " ")
    top_text = "".join(top)
    found = list(_COMPARISON.finditer(top_text))
    if len(found) != 1:
        return None
    start, end = found[0].span()
    if _LOWER.search(top_text[:start] + " " * (end - start) + top_text[end:]):
        return None
    return start, end


_KEYWORD = re.compile(r"\s*[A-Za-z_]\w*\s*=(?!=)")  # axis=0: a keyword argument, not an expression


def _items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of ``text[start:end]`` between its top-level commas."""
    spans, depth, begin = [], 0, start
    for i in range(start, end):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            spans.append((begin, i))
            begin = i + 1
    spans.append((begin, end))
    return spans


def _cuts(text: str, level: int) -> list[int] | None:
    """Positions of the top-level operators of ``level`` (1: ' + ', ' - '; 2: '*', '/'; 0: none), or None when a
    cut would not give Python's reading (a comparison, comma, keyword or '@' at the top level, unbalanced
    brackets)."""
    depth, cuts, top = 0, [], []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            top.append(ch)
            if level == 1 and ch in "+-" and text[i - 1:i] == " " and text[i + 1:i + 2] == " ":
                cuts.append(i)
            elif level == 2 and ch in "*/" and text[i - 1:i] not in ("*", "/") and text[i + 1:i + 2] not in ("*", "/"):
                cuts.append(i)
            continue
        top.append(" ")
    top_text = "".join(top)
    if depth or _LOWER.search(top_text) or level == 2 and _LEVEL_2.search(top_text):
        return None
    return cuts


def _flat(text: str, offset: int, level: int) -> _Flat | None:
    """``text`` (at ``offset`` of the whole) as one chain of level 1 (+ -) or 2 (* /), or None if not one."""
    cuts = _cuts(text, level)
    if not cuts:
        return None
    bounds = [0] + [c + 1 for c in cuts]
    ends = cuts + [len(text)]
    pieces = [(b, e) for b, e in zip(bounds, ends)]
    if any(not text[b:e].strip() for b, e in pieces):
        return None  # 'a - - b' or a trailing operator: Python's own parse says what is wrong
    ops = [text[c] for c in cuts]
    items: list = []
    for group in _chunks(pieces):
        start, end = group[0][0], group[-1][1]
        if len(group) == 1 and level == 1 and end - start > _LONG:
            inner = _flat(text[start:end].strip(), offset + start + _indent(text[start:end]), 2)
            if inner is not None:
                items.append(inner)
                continue
        items.extend(_operands(_Piece(*_parse_at(text[start:end], offset + start)), len(group)))
    return _Flat(ops, items, offset)


def _chunks(pieces: list) -> list:
    """Consecutive pieces in groups of at most _CHUNK pieces and, unless one piece is longer, _LONG characters."""
    groups, group = [], []
    for piece in pieces:
        if group and (len(group) == _CHUNK or piece[1] - group[0][0] > _LONG):
            groups.append(group)
            group = []
        group.append(piece)
    return groups + [group]


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


class _Piece:
    """An operand parsed from a chunk of the text: its node, with columns counted from ``shift``."""

    def __init__(self, node: ast.AST, source: str, shift: int):
        self.node, self.source, self.shift = node, source, shift


def _parse_at(text: str, offset: int) -> tuple[ast.AST, str, int]:
    """``text`` parsed; its source and where that sits in the whole text (columns are counted from there)."""
    shift = offset + _indent(text)
    try:
        return ast.parse(text.strip(), mode="eval").body, text.strip(), shift
    except SyntaxError as exc:
        if exc.offset is not None:
            exc.offset += shift
        raise


def _operands(parsed: _Piece, count: int) -> list:
    """The ``count`` operands of a parsed chunk of one chain, left to right (the cuts are its operators).

    Exactly count - 1 steps down the left spine: a bracketed first piece, (a - b), stays one operand."""
    body, source, shift = parsed.node, parsed.source, parsed.shift
    rights = []
    for _ in range(count - 1):
        rights.append(body.right)
        body = body.left
    return [_Piece(node, source, shift) for node in [body] + rights[::-1]]


@functools.lru_cache(maxsize=4)  # a command reads its expression for the tree, the title and the read-as note
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


def _collect(tree: Node, found: set[str], indexed: dict[str, int]) -> None:
    for node in walk(tree):
        if isinstance(node, Var):
            found.add(node.name)
        elif isinstance(node, Index):
            found.add(node.name)
            if len(node.indices) == 1 and node.indices[0] >= 0:
                indexed[node.name] = max(indexed.get(node.name, -1), node.indices[0])


class _Builder:
    def __init__(self, source: str, allow_variables: bool):
        self.full = source  # the text errors show; self.source is the piece being built (the whole, mostly)
        self.source = source
        self.shift = 0  # where self.source starts in the whole
        self.ascii = source.isascii() and "\n" not in source
        self.allow_variables = allow_variables
        self.hoisted: dict = {}  # placeholder name -> the tree of a long bracketed group (_hoist)

    def segment(self, node: ast.AST) -> str | None:
        """The text of ``node``: a slice of the one-line ASCII source (ast.get_source_segment splits the whole
        source into lines on every call, quadratic in a long expression's numbers)."""
        if self.ascii and node.end_col_offset is not None:
            return self.source[node.col_offset:node.end_col_offset]
        return ast.get_source_segment(self.source, node)

    def fail(self, message: str, node: ast.AST, cls=ParseError) -> JaccliError:
        if not issubclass(cls, ParseError):  # e.g. LimitError: a plain message, no caret
            return cls(message)
        column = getattr(node, "col_offset", None)
        return cls(message, self.full, None if column is None else column + self.shift)

    def build(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)")
        if isinstance(node, ast.Name) and node.id in self.hoisted:  # a long bracketed group, parsed on its own
            return self.build(self.hoisted[node.id], depth)
        if isinstance(node, _Piece):  # an operand of a long text, parsed on its own: columns from its shift
            saved = self.source, self.ascii, self.shift
            self.source, self.shift = node.source, node.shift
            self.ascii = self.source.isascii() and "\n" not in self.source
            try:
                return self.build(node.node, depth)
            finally:
                self.source, self.ascii, self.shift = saved
        if isinstance(node, _Flat) or isinstance(node, ast.BinOp) and type(node.op) in _CHAINED:
            return self.chain(node, depth)
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

    def chain(self, node, depth: int) -> Chain:
        """``a + b - c …`` as one node: its operands one level down, however many (the left spine, iteratively)."""
        if isinstance(node, _Flat):
            ops, operands = node.ops, node.items
        else:
            group = next(g for g in _LEVELS.values() if type(node.op) in g)
            pairs = []
            while isinstance(node, ast.BinOp) and type(node.op) in group:
                pairs.append((_BINARY[type(node.op)], node.right))
                node = node.left
            ops, operands = [op for op, _ in reversed(pairs)], [node] + [item for _, item in reversed(pairs)]
        items = tuple(self.build(item, depth + 1) for item in operands)
        return Binary(ops[0], *items) if len(items) == 2 else Chain(tuple(ops), items)

    def number(self, node: ast.Constant) -> Num:
        value = node.value
        if isinstance(value, complex):
            raise self.fail("complex numbers are not supported", node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, (str, bytes)) else f"'{value!r}'"
            message = "strings are not allowed; only numbers" if kind == "strings" else f"{kind} is not a number"
            raise self.fail(message, node)
        text = self.segment(node) or repr(value)
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
        least, most = signature.arity
        for keyword in node.keywords:  # axis= is the one keyword
            if keyword.arg != "axis" or not signature.takes_axis or len(node.keywords) > 1:
                what = "takes no keyword arguments" if keyword.arg != "axis" else "takes no axis="
                raise self.fail(f"{name}() {what}" + (" (axis= is the one keyword)" if keyword.arg != "axis" else ""),
                                node)
            # positionally, the axis is the argument after the others (sum(A, 0)); with axis= it is not there too
            positional = most - 1 if most is not None and most > least else least
            if len(arguments) > positional:
                raise self.fail(f"{name}() takes {positional} argument{'s' * (positional != 1)} besides axis=, "
                                f"got {len(arguments)}", node)
        if any(isinstance(arg, ast.Starred) for arg in arguments):
            raise self.fail("'*' unpacking is not allowed", node)
        count = len(arguments)
        if count < least or (most is not None and count > most):
            if most is None:
                wanted = f"at least {least}"
            elif least == most:
                wanted = str(least)
            else:
                wanted = f"{least} or {most}"
            plural = "" if wanted == "1" else "s"
            ord_ = "; numpy's second argument of norm, ord, is not supported (the axis is norm(A, axis=k))" \
                if name == "norm" else ""
            raise self.fail(f"{name}() takes {wanted} argument{plural}, got {count}{ord_}", node)
        axis = tuple(Axis(self.build(keyword.value, depth + 1)) for keyword in node.keywords)
        return Call(name, tuple(self.build(arg, depth + 1) for arg in arguments) + axis)

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
