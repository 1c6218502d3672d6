"""Maths as people type it, rewritten to the Python syntax that ``parsing`` reads with its whitelist.

A pass in front of ``ast``: it tokenizes the text, reads it with a small precedence parser and prints
it back, so nothing here is evaluated. It reads

- implicit products: ``2x``, ``2(x+1)``, ``x y``, ``x sin(x)``, ``(x+1)(x-1)``, ``2πr``;
- a function without parentheses, applied to the term right after it: ``sin x``, ``sin 2x`` (sin(2*x)),
  ``sin x^2`` (sin(x^2)), ``sin x cos x`` (sin(x)*cos(x)); ``√`` the same way (``√x``, ``√(x+1)``, ``√2x``);
- ``|x|`` for abs(x); superscript powers ``x²``, ``x⁻¹``; ``π``; ``·``, ``×`` for ``*``, ``−`` for ``-``,
  ``÷`` for ``/``; ``^`` for powers.

The one rule for ambiguity: an implicit product binds like ``*`` (so ``2x^2`` is ``2*(x^2)`` and
``1/2x`` is ``(1/2)*x``), and a term "right after" a function ends at the next space or operator other
than a power. ``x y`` is a product of two names; ``xy`` is one name. ``x(y)`` calls a function named
x (an error naming it); ``x (y)``, with a space, is a product. The text is shown back as ``read_as``.

Anything else (strings, dots, keywords, ``:``, ``;``, ``=`` …) is handed to the whitelist as typed, so it
is refused with the whitelist's own message. Characters outside ASCII and the symbols above are refused here.
"""

from __future__ import annotations

import ast
import keyword
import re
import sys
import unicodedata
import warnings
from typing import NamedTuple

from .errors import LimitError, ParseError

MAX_DEPTH = 100  # nesting levels (brackets, bars, roots, calls, signs, powers); parsing.MAX_DEPTH is the same
MAX_DIGITS = 1_000  # digits of a superscript exponent, as parsing.MAX_DIGITS of a number

_SYMBOLS = {"−": "-", "·": "*", "⋅": "*", "×": "*", "÷": "/", "π": "pi"}  # read as their ASCII meaning
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_TOKEN = re.compile(r"""
    (?P<number>0[xXbBoO][0-9A-Za-z_]*
      | (?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<power>\*\*|\^)
  | (?P<sup>[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)
  | (?P<op>[-+*/,()\[\]|√])
""", re.VERBOSE)
_PREFIXED = re.compile(r"0(?:[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|[bB][01](?:_?[01])*|[oO][0-7](?:_?[0-7])*)\Z")


class Reading(NamedTuple):
    """How a text was read: Python syntax for ``ast``, and the same for people (``read_as``)."""

    python: str
    read_as: str


class Token(NamedTuple):
    kind: str  # number, name, power, sup, op, other, end
    text: str  # as read: `-` for `−`, `pi` for `π`
    column: int  # in the user's text
    space: bool  # whitespace right before it


class _Syntax(Exception):
    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


def read(text: str, functions=(), constants=(), power: str | None = None) -> Reading:
    """``text`` read as maths: Python syntax and the ``read_as`` form (powers as ``power``, default: as typed).

    ``functions``, ``constants``: the names that are (``jaccli.registry``); ``e(x+1)`` is a product. Raises
    ``ParseError`` for a character or construct that is neither maths nor Python, ``LimitError`` beyond
    MAX_DEPTH levels.
    """
    tokens = tokenize(text)
    if power is None:
        power = "**" if any(t.text == "**" for t in tokens) else "^"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))  # MAX_DEPTH levels of about ten calls each, below the caller's
    try:
        tree = _Parser(tokens, set(functions), set(constants)).parse()
        return Reading(_show(tree, "**"), _show(tree, power))
    except RecursionError:
        raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)") from None
    except _Syntax as exc:
        raw = _as_typed(tokens)
        if _python_parses(raw):  # code, not maths: the whitelist refuses it with its own message
            return Reading(raw, raw)
        raise ParseError(f"syntax error: {exc}", text, exc.column) from None
    finally:
        sys.setrecursionlimit(limit)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; a character that is neither ASCII nor a maths symbol above is an error."""
    tokens, i, space = [], 0, False
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            space, i = True, i + 1
            continue
        if ch in _SYMBOLS:
            symbol = _SYMBOLS[ch]
            tokens.append(Token("name" if symbol == "pi" else "op", symbol, i, space))
            space, i = False, i + 1
            continue
        if ch in "⁺⁻" and not (i + 1 < len(text) and text[i + 1] in "⁰¹²³⁴⁵⁶⁷⁸⁹"):
            raise ParseError("syntax error: a superscript sign needs superscript digits after it, e.g. x⁻¹", text, i)
        match = _TOKEN.match(text, i)
        if match:
            kind, value = match.lastgroup, match.group()
            if kind == "number" and value[:2].lower() in ("0x", "0b", "0o") and not _PREFIXED.match(value):
                raise ParseError(f"syntax error: invalid number '{value}'", text, i)
            if kind == "name" and keyword.iskeyword(value):
                kind = "other"
            if kind == "sup" and len(value) > MAX_DIGITS:
                raise LimitError(f"number literal has {len(value)} digits; the limit is {MAX_DIGITS}")
            tokens.append(Token(kind, value, i, space))
            space, i = False, match.end()
            continue
        if not (" " <= ch <= "~"):
            name = unicodedata.name(ch, "a control character" if ord(ch) < 32 or 127 <= ord(ch) < 160 else "")
            raise ParseError(f"unexpected character {ch!r} (U+{ord(ch):04X}{' ' + name if name else ''}); "
                             "see 'jaccli functions' for what an expression may use", text, i)
        tokens.append(Token("other", ch, i, space))  # . : ; = ' " { } … : for the whitelist to name
        space, i = False, i + 1
    tokens.append(Token("end", "", len(text), space))
    return tokens


def _as_typed(tokens: list[Token]) -> str:
    """The tokens as Python text, nothing inserted: for input that is code rather than maths."""
    out = []
    for token in tokens:
        if token.space and out:
            out.append(" ")
        out.append("**" if token.text == "^" else token.text)
    return "".join(out)


def _python_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# --- the parser: a tree of tuples, printed back as text -------------------------------------------
# ("num", text) ("name", text) ("group", inner) ("list", items) ("call", name, args) ("index", base, items)
# ("unary", op, arg) ("binary", op, left, right) ("tuple", items): a top-level a, b

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


class _Parser:
    def __init__(self, tokens: list[Token], functions: set[str], constants: set[str]):
        self.tokens = tokens
        self.functions = functions
        self.constants = constants
        self.at = 0
        self.depth = 0
        self.bars = [False]  # whether a | after an operand closes a bar: inside |…|, not inside brackets there

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def next(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str, opening: Token) -> None:
        if self.token.text != text or self.token.kind != "op":
            what = "end of expression" if self.token.kind == "end" else f"'{self.token.text}'"
            raise _Syntax(f"'{opening.text}' is not closed: expected '{text}', found {what}", self.token.column)
        self.next()

    def deeper(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError(f"expression nests too deeply (limit {MAX_DEPTH} levels)")

    def parse(self):
        items, trailing = self.items("end")
        if self.token.kind != "end":
            raise _Syntax(f"unexpected '{self.token.text}'", self.token.column)
        return items[0] if len(items) == 1 and not trailing else ("tuple", items, trailing)

    def items(self, closing: str) -> tuple[list, bool]:
        """Comma-separated expressions up to ``closing`` (not consumed), and whether a comma ends them."""
        items = [self.expression()]
        while self.token.text == "," and self.token.kind == "op":
            self.next()
            if self.token.text == closing or self.token.kind == "end":
                return items, True
            items.append(self.expression())
        return items, False

    def expression(self, level: int = 1):
        """Binary + - (level 1) and * / and implicit products (level 2), left to right."""
        left = self.unary() if level == 2 else self.expression(2)
        while True:
            token = self.token
            if token.kind == "op" and _PRECEDENCE.get(token.text) == level:
                self.next()
                right = self.expression(2) if level == 1 else self.unary()
                left = ("binary", token.text, left, right)
            elif level == 2 and self.implicit():
                left = ("binary", "*", left, self.power())
            else:
                return left

    def implicit(self) -> bool:
        """Whether the next token starts a factor multiplied without a '*': 2x, x y, (a)(b), 2|x|, x √y."""
        token, before = self.token, self.tokens[self.at - 1]
        if token.kind == "name":
            return True
        if token.kind == "number":
            return before.text in (")", "]", "|")  # (x+1)2; never 2 3 or x 2
        if token.text in ("(", "√"):
            return True
        return token.text == "|" and not self.bars[-1]

    def unary(self):
        signs = []
        while self.token.kind == "op" and self.token.text in "+-":
            signs.append(self.next().text)
            self.deeper(self.token.column)
        node = self.power()
        for sign in reversed(signs):
            node = ("unary", sign, node)
        self.depth -= len(signs)
        return node

    def power(self):
        base = self.postfix()
        if self.token.kind == "power":
            self.next()
            self.deeper(self.token.column)
            exponent = self.unary()
            self.depth -= 1
            return ("binary", "**", base, exponent)
        if self.token.kind == "sup":
            exponent = self.next().text.translate(_SUPERSCRIPTS)
            sign, digits = (exponent[0], exponent[1:]) if exponent[0] in "+-" else ("", exponent)
            number = ("num", digits)
            return ("binary", "**", base, ("unary", sign, number) if sign else number)
        return base

    def postfix(self):
        node = self.primary()
        while self.token.text == "[" and self.token.kind == "op" and not self.token.space:
            opening = self.next()
            node = ("index", node, self.nested(opening, "]")[0])
        return node

    def nested(self, opening: Token, closing: str) -> tuple[list, bool]:
        """Items inside brackets that were just opened (and a trailing comma?); a | there closes no outer bar."""
        self.deeper(opening.column)
        self.bars.append(False)
        items = self.items(closing)
        self.expect(closing, opening)
        self.bars.pop()
        self.depth -= 1
        return items

    def primary(self):
        token = self.token
        if token.kind == "number":
            self.next()
            return ("num", token.text)
        if token.kind == "name":
            self.next()
            following = self.token
            if following.text == "(" and following.kind == "op" and (
                    token.text in self.functions or not following.space) and token.text not in self.constants:
                opening = self.next()
                if self.token.text == ")":  # f(): no arguments, for the whitelist to count
                    self.next()
                    return ("call", token.text, [])
                return ("call", token.text, self.nested(opening, ")")[0])
            if token.text in self.functions and self.starts_term():
                return ("call", token.text, [self.term(token)])
            return ("name", token.text)
        if token.kind == "op" and token.text == "(":
            opening = self.next()
            return ("group", *self.nested(opening, ")"))
        if token.kind == "op" and token.text == "[":
            opening = self.next()
            return ("list", self.nested(opening, "]")[0])
        if token.kind == "op" and token.text == "|":
            opening = self.next()
            self.deeper(opening.column)
            self.bars.append(True)
            inner = self.expression()
            self.bars.pop()
            if self.token.text != "|":
                raise _Syntax("'|' is not closed: write |x| for the absolute value", opening.column)
            self.next()
            self.depth -= 1
            return ("call", "abs", [inner])
        if token.kind == "op" and token.text == "√":
            self.next()
            if not self.starts_term():
                raise _Syntax("'√' needs something to take the root of, e.g. √x or √(x+1)", token.column)
            if self.token.text == "(" and self.token.kind == "op":
                opening = self.next()
                return ("call", "sqrt", self.nested(opening, ")")[0])
            return ("call", "sqrt", [self.term(token)])
        if token.kind == "end":
            raise _Syntax("unexpected end of expression", token.column)
        raise _Syntax(f"unexpected '{token.text}'", token.column)

    def starts_term(self) -> bool:
        token = self.token
        return token.kind in ("number", "name") or (token.kind == "op" and token.text in "(|√")

    def term(self, function: Token):
        """The argument of a function written without parentheses: factors up to a space or an operator."""
        self.deeper(function.column)
        node = self.power()
        while not self.token.space and self.token.kind != "end" and self.implicit():
            node = ("binary", "*", node, self.power())
        self.depth -= 1
        return node


def _show(node, power: str) -> str:
    """The tree as text: Python syntax with ``power="**"``; ``+``/``-`` spaced, everything else compact."""
    kind = node[0]
    if kind in ("num", "name"):
        return node[1]
    if kind == "group":
        items, trailing = node[1], node[2]
        return "(" + ", ".join(_show(i, power) for i in items) + ("," if trailing else "") + ")"
    if kind == "list":
        return "[" + ", ".join(_show(i, power) for i in node[1]) + "]"
    if kind == "tuple":
        return ", ".join(_show(i, power) for i in node[1]) + ("," if node[2] else "")
    if kind == "call":
        return node[1] + "(" + ", ".join(_show(a, power) for a in node[2]) + ")"
    if kind == "index":
        return _show(node[1], power) + "[" + ", ".join(_show(i, power) for i in node[2]) + "]"
    if kind == "unary":
        return node[1] + _show(node[2], power)
    if node[1] != "**":  # a chain a + b - c*d…: its left spine iteratively (a long sum is long, not deep)
        spine = []
        while node[0] == "binary" and node[1] != "**":
            spine.append(node)
            node = node[2]
        parts = [_show(node, power)]
        for link in reversed(spine):
            op = link[1]
            parts.append(f" {op} " if op in "+-" else op)
            parts.append(_show(link[3], power))
        return "".join(parts)
    left, right = _show(node[2], power), _show(node[3], power)
    if node[3][0] == "unary" and power == "^":
        right = f"({right})"  # x^(-1): read as people write it
    return f"{left}{power}{right}"
