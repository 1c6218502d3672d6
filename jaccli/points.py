"""Point values: ``--at 1,2``, ``--at x=1``, ``--at "[[1,1],[1,1]]"``, ``--at @file``, ``--at -``.

Plain numbers take a fast path through numpy; anything else (``pi/4``, ``sqrt(2)``,
``1/2``) goes through the same safe parser as expressions. Each value keeps the
text it was typed as, so exact mode can read ``0.1`` as 1/10.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import JaccliError, ParseError, ShapeError, UndefinedError

_NAMED = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)(.*)\Z", re.DOTALL)
_NAMED_LIST = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9_]*\s*=(?!=))")  # the commas in x=2,y=3
_NOT_FINITE = {"nan", "inf", "infinity", "+inf", "-inf", "+nan", "-nan", "-infinity", "+infinity"}
MAX_INPUT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Value:
    """One variable's value: floats in the variable's shape, and the text of each entry."""

    array: np.ndarray
    texts: np.ndarray  # object array of str, same shape

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape


def read_source(spec: str, stdin=None) -> str:
    """The text behind ``@file`` or ``-`` (stdin); any other text as it is."""
    if spec == "-":
        return (stdin or sys.stdin).read()
    if spec.startswith("@"):
        path = spec[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(MAX_INPUT_BYTES)
        except OSError as exc:
            raise JaccliError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise JaccliError(f"cannot read {path}: it is not UTF-8 text") from None
    return spec


def _strip_comments(text: str) -> str:
    if "#" not in text:
        return text
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def parse_values(text: str) -> list[Value]:
    """The top-level values of a point text: ``1, 2`` is two, ``[1, 2]`` is one array."""
    flat = _plain(text)
    if flat is not None:
        return [Value(flat.array[i], flat.texts[i:i + 1].reshape(())) for i in range(flat.array.size)]
    return _bracketed(text)


def parse_array(text: str) -> Value:
    """A point text as one array: its single top-level value, or its values stacked (``1,2,3`` is 1-D)."""
    flat = _plain(text)
    if flat is not None:
        return flat if flat.array.size != 1 else Value(flat.array[0], flat.texts[0:1].reshape(()))
    values = _bracketed(text)
    return values[0] if len(values) == 1 else stack_values(values)


def _plain(text: str) -> Value | None:
    """Plain numbers (no brackets) as a 1-D Value in one numpy pass; None for bracketed text."""
    text = _strip_comments(text).strip()
    if not text:
        raise ParseError("no values given")
    if any(ch in text for ch in "[]()"):
        return None
    separator = "," if "," in text else None
    tokens = [t.strip() for t in text.split(separator)]
    return Value(_numbers(tokens), np.array(tokens, dtype=object))


def _bracketed(text: str) -> list[Value]:
    from .parsing import MAX_LENGTH  # not at the top: plain numbers (softmax-jac's start-up) never need the parser

    text = _strip_comments(text).strip()
    if len(text) > MAX_LENGTH * 100:
        raise ParseError("a bracketed point is too long; give plain comma- or space-separated numbers")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(" ".join(text.split()), mode="eval").body
    except SyntaxError as exc:
        raise ParseError(f"cannot read the point '{_short(text)}': {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("the point nests too deeply or is too long") from None
    source = " ".join(text.split())
    items = tree.elts if isinstance(tree, ast.Tuple) else [tree]
    return [_item(node, source) for node in items]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _numbers(tokens: list[str]) -> np.ndarray:
    """The tokens' float values: numpy for plain numbers, the safe parser otherwise."""
    for position, token in enumerate(tokens):
        if not token:
            raise ParseError(f"empty value at position {position + 1} (two separators in a row?)")
    try:
        floats = np.array(tokens, dtype=float)
    except ValueError:
        floats = np.array([_number(tok) for tok in tokens], dtype=float)
    bad = ~np.isfinite(floats)
    if bad.any():
        token = tokens[int(np.argmax(bad))]
        raise ParseError(f"'{token}' is not a finite number; NaN and infinity are not allowed as input")
    return floats


def _number(token: str) -> float:
    if token.strip().lower() in _NOT_FINITE:
        raise ParseError(f"'{token}' is not a finite number; NaN and infinity are not allowed as input")
    try:
        return float(token)
    except ValueError:
        pass
    from .symbolic import constant  # sympy only when a value is an expression like pi/4

    try:
        value = constant(token)
    except UndefinedError:  # e.g. sqrt(-1): refused when the constant is built
        raise ParseError(f"'{token}' is not a real number") from None
    try:
        result = float(value)
    except TypeError:
        raise ParseError(f"'{token}' is not a real number") from None
    if not np.isfinite(result):
        raise ParseError(f"'{token}' is not a finite number")
    return result


def _scalar(token: str, value: float) -> Value:
    texts = np.empty((), dtype=object)
    texts[()] = token
    return Value(np.array(value, dtype=float), texts)


def _item(node: ast.AST, source: str) -> Value:
    if isinstance(node, (ast.List, ast.Tuple)):
        if not node.elts:
            raise ParseError("empty brackets in the point")
        return stack_values([_item(child, source) for child in node.elts])
    token = ast.get_source_segment(source, node) or ""
    return _scalar(token, float(_numbers([token])[0]))


def stack_values(values: list[Value]) -> Value:
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ShapeError("the entries of a bracketed point must have equal shapes (a ragged array?)")
    return Value(np.stack([v.array for v in values]), np.stack([v.texts for v in values]))


def read_vector(spec: str, stdin=None) -> Value:
    """One array from a point-like text (``1,2,3``, ``[[1,2],[3,4]]``, ``@file``, ``-``): for ``--v``."""
    return parse_array(read_source(spec, stdin))


def bind(variables: tuple[str, ...], specs: list[str], stdin=None) -> dict[str, Value]:
    """Map ``--at`` texts to the variables: one value each in order, or by name."""
    named: dict[str, Value] = {}
    texts: list[str] = []
    lines = 0  # the most lines of one @file or stdin text: several points where one was expected?
    for spec in specs:
        text = read_source(spec, stdin)
        if spec == "-" or spec.startswith("@"):
            lines = max(lines, sum(1 for line in _strip_comments(text).splitlines() if line.strip()))
        for part in _NAMED_LIST.split(text) if _NAMED.match(text) else [text]:  # x=2,y=3 names two values
            match = _NAMED.match(part)
            if match:
                name, rest = match.groups()
                if name in named:
                    raise ParseError(f"--at gives {name} twice")
                named[name] = parse_array(read_source(rest.strip(), stdin))
            else:
                texts.append(part)
    if len(variables) == 1 and len(texts) == 1 and not named:
        return {variables[0]: parse_array(texts[0])}  # one array in one pass, however long
    positional = [value for text in texts for value in parse_values(text)]
    names = ", ".join(variables) or "none"
    if named and positional:
        raise ParseError("--at mixes named (x=1) and positional values; use one style")
    if named:
        unknown = [n for n in named if n not in variables]
        if unknown:
            raise ParseError(f"--at names {', '.join(unknown)}, which the expression does not use "
                             f"(its variables: {names})")
        missing = [n for n in variables if n not in named]
        if missing:
            raise ParseError(f"no value for {', '.join(missing)}; give --at {missing[0]}=…")
        return named
    if not variables:
        raise ParseError("the expression has no variables; drop --at")
    if len(variables) == 1:
        return {variables[0]: positional[0] if len(positional) == 1 else stack_values(positional)}
    if len(positional) != len(variables):
        example = "--at " + ",".join(f"{v}={i + 1}" for i, v in enumerate(variables[:2]))
        several = (f" The input has {lines} lines: for one result per line (a point each), use --points "
                   "instead of --at." if lines > 1 else "")
        raise ShapeError(f"{len(variables)} variables ({names}) need {len(variables)} values, one each in "
                         f"that order; got {len(positional)}. Or name them: {example}.{several}")
    return dict(zip(variables, positional, strict=True))
