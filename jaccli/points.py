"""Point values: ``--at 1,2``, ``--at x=1``, ``--at "[[1,1],[1,1]]"``, ``--at @file``, ``--at -``.

Plain numbers take a fast path through numpy; anything else (``pi/4``, ``sqrt(2)``,
``1/2``) goes through the same safe parser as expressions. Each value keeps the
text it was typed as, so exact mode can read ``0.1`` as 1/10.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import JaccliError, LimitError, ParseError, ShapeError, UndefinedError

_NAMED = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)(.*)\Z", re.DOTALL)
_NAMED_LIST = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9_]*\s*=(?!=))")  # the commas in x=2,y=3
_NOT_FINITE = {"nan", "inf", "infinity", "+inf", "-inf", "+nan", "-nan", "-infinity", "+infinity"}


@dataclass(frozen=True)
class Value:
    """One variable's value: floats in the variable's shape, and the text of each entry."""

    array: np.ndarray
    typed: np.ndarray | None = None  # object array of str, same shape; None: not kept (a large plain input)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def texts(self) -> np.ndarray:
        """Each entry's text as typed; where it was not kept (a large plain input, a binary file), the double's
        shortest text (which reads back to it), made on first use: a million reprs cost a second, and only
        --exact, --v and taylor read them."""
        if self.typed is None:
            texts = np.empty(self.array.size, dtype=object)
            texts[:] = [repr(v) for v in self.array.ravel().tolist()]
            object.__setattr__(self, "typed", texts.reshape(self.array.shape))
        return self.typed

    def entry(self, i: int) -> Value:
        """Entry ``i`` of a 1-D value, as a scalar value."""
        return Value(self.array[i], None if self.typed is None else self.typed[i:i + 1].reshape(()))

    def reshape(self, shape: tuple[int, ...]) -> Value:
        return Value(self.array.reshape(shape), None if self.typed is None else self.typed.reshape(shape))


def origin(spec: str) -> str | None:
    """Where the text of ``spec`` comes from, when that is not the command line: ``stdin`` or ``@file``."""
    if spec == "-":
        return "stdin"
    if spec.startswith("@"):
        return spec
    return None


def read_source(spec: str, stdin=None, limit: int | None = None, what: str = "a point or vector") -> str:
    """The text behind ``@file`` or ``-`` (stdin); any other text as it is.

    At most ``limit`` bytes are read (a regular file's size is checked before reading): a larger input is
    refused, never cut. A UTF-8 BOM is dropped. ``limit`` defaults to limits.MAX_INPUT_BYTES.
    """
    limit = limits.MAX_INPUT_BYTES if limit is None else limit
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin
        if stream is None or (stdin is None and _stdin_closed()):
            raise JaccliError("cannot read stdin: it is closed")
        reader = getattr(stream, "buffer", stream)  # bytes where there are bytes (a StringIO gives text)
        try:
            data = reader.read(limit + 1)
        except OSError as exc:
            raise JaccliError(f"cannot read stdin: {exc.strerror or exc}") from None
        return _text(data, "stdin", limit, what)
    if spec.startswith("@"):
        path = spec[1:]
        if "\0" in path:  # no file name holds one (open() would raise ValueError); softmax-jac comes here directly
            raise JaccliError("cannot read @FILE: a file name cannot hold a NUL character")
        try:
            with open(path, "rb") as handle:
                if limits.regular_size(handle) > limit:  # refused before reading it
                    _too_large(spec, limit, what)
                data = handle.read(limit + 1)
        except OSError as exc:
            raise JaccliError(f"cannot read {path}: {exc.strerror or exc}") from None
        return _text(data, spec, limit, what)
    return spec


def _stdin_closed() -> bool:
    from .streams import State

    return "stdin" in State.closed


def _too_large(name: str, limit: int | None = None, what: str = "a point or vector"):
    limit = limits.MAX_INPUT_BYTES if limit is None else limit
    raise LimitError(f"{name} is larger than {limits.in_bytes(limit)}, the limit for {what}")


def _text(data: bytes | str, name: str, limit: int | None = None, what: str = "a point or vector") -> str:
    limit = limits.MAX_INPUT_BYTES if limit is None else limit
    if len(data) > limit:
        _too_large(name, limit, what)
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JaccliError(f"cannot read {name}: it is not UTF-8 text (byte {exc.start + 1})") from None


def _strip_comments(text: str) -> str:
    if "#" not in text:
        return text
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def parse_values(text: str, source: str | None = None) -> list[Value]:
    """The top-level values of a point text: ``1, 2`` is two, ``[1, 2]`` is one array.

    ``source`` (``stdin``, ``@file``): the text was read from there, and errors name it and a position,
    never the text itself.
    """
    flat = _plain(text, source)
    if flat is not None:
        return [flat.entry(i) for i in range(flat.array.size)]
    return _bracketed(text, source)


def parse_array(text: str, source: str | None = None) -> Value:
    """A point text as one array: its single top-level value, or its values stacked (``1,2,3`` is 1-D)."""
    flat = _plain(text, source)
    if flat is not None:
        return flat if flat.array.size != 1 else flat.entry(0)
    values = _bracketed(text, source)
    return values[0] if len(values) == 1 else stack_values(values)


def _plain(text: str, source: str | None) -> Value | None:
    """Plain numbers (no brackets) as a 1-D Value in one numpy pass; None for bracketed text."""
    text = _strip_comments(text).strip()
    if not text:
        raise ParseError(f"{source}: no values given" if source else "no values given")
    if any(ch in text for ch in "[]()"):
        return None
    separator = "," if "," in text else None
    if len(text) > LARGE_CHARS:
        floats = _large(text, separator)
        if floats is not None:
            return Value(floats)
    tokens = [t.strip() for t in text.split(separator)]
    return Value(_numbers(tokens, source), np.array(tokens, dtype=object))


LARGE_CHARS = 1 << 20  # a plain input longer than this is read in slices, without a string kept per value
_SLICE_CHARS = 1 << 20
_SPACE = re.compile(r"\s")


def _separator_from(text: str, start: int, separator: str | None) -> int:
    """The position of the first separator at or after ``start`` (the end of the text if none)."""
    if separator:
        found = text.find(separator, start)
        return len(text) if found == -1 else found
    match = _SPACE.search(text, start)
    return len(text) if match is None else match.start()


PARALLEL_CHARS = 1 << 23  # from this length on, a second process reads the second half (where os.fork exists)


def _large(text: str, separator: str | None) -> np.ndarray | None:
    """The numbers of a long plain text, slice by slice (each slice's tokens are dropped once read), or None if
    any token is not a plain finite number: the token-by-token path then reads it and words any error.

    From PARALLEL_CHARS on, a forked child reads the second half meanwhile and sends back its doubles' bytes
    (8 per number, the exact values): on two cores the wall time halves.
    """
    middle = _separator_from(text, len(text) // 2, separator) if len(text) >= PARALLEL_CHARS else len(text)
    theirs = None
    if middle < len(text):
        from .numtext import start_bytes

        def second_half() -> bytes:
            floats = _slices(text, separator, middle + 1, len(text))
            return b"\x01" if floats is None else b"\x00" + floats.tobytes()

        theirs = start_bytes(second_half)
    if theirs is None:
        return _slices(text, separator, 0, len(text))
    first = _slices(text, separator, 0, middle)
    data = theirs()
    if first is None or data[:1] != b"\x00":
        return None
    return np.concatenate([first, np.frombuffer(data, dtype=float, offset=1)])


def _slices(text: str, separator: str | None, start: int, stop: int) -> np.ndarray | None:
    """The numbers of ``text[start:stop]`` (which starts and ends at a token's edge), read a slice at a time."""
    parts = [np.empty(0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while start < stop:
            end = start + _SLICE_CHARS
            if end < stop:  # cut at a separator, so that no token is split
                end = min(_separator_from(text, end, separator), stop)
            else:
                end = stop
            try:  # not np.fromstring: it reads a blank token (", ,") as -1.0 without a word
                part = np.array(text[start:end].split(separator), dtype=float)
            except ValueError:
                return None
            if not np.all(np.isfinite(part)):
                return None
            parts.append(part)
            start = end + 1
    return np.concatenate(parts)


def _bracketed(text: str, source: str | None) -> list[Value]:
    """Bracketed values, in time linear in the text: one parse, each entry's text sliced from its offsets."""
    text = _strip_comments(text).strip()
    if len(text) > limits.MAX_BRACKETED_CHARS:
        raise LimitError(f"{source + ': ' if source else ''}a bracketed point is longer than "
                         f"{limits.MAX_BRACKETED_CHARS} characters; give plain comma- or space-separated numbers")
    if "(" not in text and ")" not in text:
        fast = _regular_array(text)
        if fast is not None:
            return [fast]
    wrapped = "(" + text + "\n)"  # brackets join the lines, and "1, [2, 3]" is a tuple of values
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(wrapped, mode="eval").body
    except SyntaxError as exc:
        if source and exc.lineno is None:  # e.g. a NUL byte: no position to give
            raise ParseError(f"{source}: syntax error") from None
        if source:
            column = (exc.offset or 1) - (1 if exc.lineno == 1 else 0)
            raise ParseError(f"{source}, line {exc.lineno}, column {column}: syntax error") from None
        raise ParseError(f"cannot read the point '{_short(text)}': {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("the point nests too deeply or is too long") from None
    encoded = wrapped.encode()
    starts = [0] + [m.end() for m in re.finditer(b"\n", encoded)]  # byte offset of each line
    items = tree.elts if isinstance(tree, ast.Tuple) else [tree]
    values = []
    for item in items:
        leaves: list[ast.AST] = []
        shape = _shape(item, leaves, 0)
        tokens = [encoded[starts[n.lineno - 1] + n.col_offset:starts[n.end_lineno - 1] + n.end_col_offset].decode()
                  for n in leaves]
        where = [f"line {n.lineno}, column {n.col_offset + (n.lineno > 1)}" for n in leaves] \
            if source else None
        texts = np.empty(len(tokens), dtype=object)
        texts[:] = tokens
        values.append(Value(_numbers(tokens, source, where).reshape(shape), texts.reshape(shape)))
    return values


_TOKEN = re.compile(r"[^\s\[\],]+")


def _regular_array(text: str) -> Value | None:
    """One regular array of plain numbers (``[[1, 2], [3, 4]]``) without the Python parser, or None.

    The text's skeleton (each number an ``n``, whitespace dropped) must equal the skeleton of the
    shape read off its first entries; anything else (several values, ragged, names, a stray token)
    takes the parser's path, which also words the error.
    """
    skeleton = "".join(_TOKEN.sub("n", text).split())
    rank = len(skeleton) - len(skeleton.lstrip("["))
    if rank == 0 or rank > limits.MAX_DIMENSIONS:
        return None
    codes = np.frombuffer(skeleton.encode(), dtype=np.uint8)
    depth = np.cumsum((codes == ord("[")).astype(np.int64) - (codes == ord("]")))
    shape = []
    for level in range(1, rank + 1):  # children of the first list at each level: its commas at that depth, + 1
        start = level - 1
        end = start + int(np.argmax(depth[start:] < level))
        shape.append(int(np.count_nonzero((codes[start:end] == ord(",")) & (depth[start:end] == level))) + 1)
    if math.prod(shape) > len(skeleton):  # every entry needs its own "n": not this shape (and no bomb below)
        return None
    expected = "n"
    for size in reversed(shape):
        expected = "[" + ",".join([expected] * size) + "]"
    if expected != skeleton:
        return None
    tokens = _TOKEN.findall(text)
    try:
        floats = np.array(tokens, dtype=float)
    except ValueError:
        return None
    if not np.all(np.isfinite(floats)):
        return None
    texts = np.empty(len(tokens), dtype=object)
    texts[:] = tokens
    return Value(floats.reshape(shape), texts.reshape(shape))


def _shape(node: ast.AST, leaves: list, depth: int) -> tuple[int, ...]:
    """The shape of nested brackets, their entries appended to ``leaves`` in row-major order."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        leaves.append(node)
        return ()
    if not node.elts:
        raise ParseError("empty brackets in the point")
    if depth >= limits.MAX_DIMENSIONS:
        raise LimitError(f"the point nests brackets more than {limits.MAX_DIMENSIONS} deep "
                         f"(limit {limits.MAX_DIMENSIONS} dimensions)")
    shapes = [_shape(child, leaves, depth + 1) for child in node.elts]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError("the entries of a bracketed point must have equal shapes (a ragged array?)")
    return (len(shapes),) + shapes[0]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _numbers(tokens: list[str], source: str | None = None, where: list[str] | None = None) -> np.ndarray:
    """The tokens' float values: numpy for plain numbers, the safe parser otherwise.

    With a ``source``, an error names it and the value's position (``where``, else "value N"), not its text.
    """
    def fail(index: int, problem: str, error=ParseError):
        if source is None:
            raise error(f"'{tokens[index]}' {problem}")
        raise error(f"{source}, {where[index] if where else f'value {index + 1}'}: {problem.removeprefix('is ')}")

    for position, token in enumerate(tokens):
        if not token:
            raise ParseError(f"{source + ': ' if source else ''}empty value at position {position + 1} "
                             "(two separators in a row?)")
    try:
        floats = np.array(tokens, dtype=float)
    except ValueError:
        floats = np.empty(len(tokens))
        for index, token in enumerate(tokens):
            if source is None:
                floats[index] = _number(token)
                continue
            try:
                floats[index] = _number(token)
            except JaccliError:
                fail(index, "is not a finite real number")
    bad = ~np.isfinite(floats)
    if bad.any():
        fail(int(np.argmax(bad)), "is not a finite number; NaN and infinity are not allowed as input")
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


_NUMPY_FILE = re.compile(r"@(.+\.(?:npy|npz))(?::([A-Za-z_][A-Za-z0-9_]*))?\Z", re.IGNORECASE | re.DOTALL)


def read_named(rest: str, stdin=None, source: str | None = None) -> Value:
    """The value of ``NAME=rest``: a point text, ``@file`` (CSV or whitespace rows: a matrix), ``@w.npy``, or
    ``@w.npz:key`` (numpy's own formats, read without pickles)."""
    match = _NUMPY_FILE.match(rest)
    if match:
        return _numpy_file(match.group(1), match.group(2))
    text = read_source(rest, stdin)
    where = origin(rest) or source
    if rest.startswith("@") or rest == "-":
        rows = [line for line in _strip_comments(text).splitlines() if line.strip()]
        if len(rows) > 1 and not any(ch in text for ch in "[]()"):
            return _rows(rows, where)
    return parse_array(text, where)


def _rows(rows: list[str], source: str | None) -> Value:
    """Lines of numbers (commas or whitespace between them) as a matrix, one row per line (one number per line:
    a vector)."""
    values = [_plain(row, source) for row in rows]
    widths = {value.array.size for value in values}
    if widths == {1}:  # one number per line: a vector, as always
        return Value(np.concatenate([v.array for v in values]), np.concatenate([v.texts for v in values]))
    if len(widths) > 1:
        counts = ", ".join(str(value.array.size) for value in values[:6])
        raise ShapeError(f"{source}: the rows have different numbers of values ({counts}{', …' * (len(values) > 6)}); "
                         "a matrix needs equal rows")
    return Value(np.stack([v.array for v in values]), np.stack([v.texts for v in values]))


def _numpy_file(path: str, key: str | None) -> Value:
    """An array from a .npy file or one array of a .npz file: real numbers, finite, at most the input limit."""
    try:
        with open(path, "rb") as handle:
            if limits.regular_size(handle) > limits.MAX_INPUT_BYTES:
                _too_large("@" + path)
            loaded = np.load(handle, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    keys = list(loaded.files)
                    if key is None and len(keys) != 1:
                        raise JaccliError(f"@{path} holds {len(keys)} arrays ({', '.join(keys[:8])}); say which: "
                                          f"@{path}:{keys[0] if keys else 'NAME'}")
                    if key is not None and key not in keys:
                        raise JaccliError(f"@{path} has no array '{key}' (it holds {', '.join(keys[:8]) or 'none'})")
                    array = loaded[key if key is not None else keys[0]]
            else:
                if key is not None:
                    raise JaccliError(f"@{path}:{key}: a .npy file holds one array; drop ':{key}'")
                array = loaded
    except (OSError, ValueError, EOFError) as exc:
        if isinstance(exc, JaccliError):
            raise
        raise JaccliError(f"cannot read @{path} as a numpy array: {getattr(exc, 'strerror', None) or exc}") from None
    if array.dtype.kind not in "biuf":
        raise JaccliError(f"@{path}: the array holds {array.dtype} values, not real numbers")
    if array.ndim > limits.MAX_DIMENSIONS:
        raise LimitError(f"@{path}: {array.ndim} dimensions; the limit is {limits.MAX_DIMENSIONS}")
    array = np.asarray(array, dtype=float)
    if not np.all(np.isfinite(array)):
        raise JaccliError(f"@{path}: holds NaN or infinite values; NaN and infinity are not allowed as input")
    return Value(array)  # texts: the shortest repr of each double, made if asked for (exact mode reads them)


def stack_values(values: list[Value]) -> Value:
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ShapeError("the entries of a bracketed point must have equal shapes (a ragged array?)")
    return Value(np.stack([v.array for v in values]), np.stack([v.texts for v in values]))


def read_vector(spec: str, stdin=None) -> Value:
    """One array from a point-like text (``1,2,3``, ``[[1,2],[3,4]]``, ``@file``, ``-``): for ``--v``."""
    return parse_array(read_source(spec, stdin), origin(spec))


def bind(variables: tuple[str, ...], specs: list[str], stdin=None) -> dict[str, Value]:
    """Map ``--at`` texts to the variables: one value each in order, or by name."""
    named: dict[str, Value] = {}
    texts: list[str] = []
    sources: list[str | None] = []
    read: list[str] = []  # the @file and stdin texts: several points where one was expected? (for an error)
    for spec in specs:
        text = read_source(spec, stdin)
        if spec == "-" or spec.startswith("@"):
            read.append(text)
        for part in _NAMED_LIST.split(text) if _NAMED.match(text) else [text]:  # x=2,y=3 names two values
            match = _NAMED.match(part)
            if match:
                name, rest = match.groups()
                if name in named:
                    raise ParseError(f"--at gives {name} twice")
                rest = rest.strip()
                named[name] = read_named(rest, stdin, origin(spec))
            else:
                texts.append(part)
                sources.append(origin(spec))
    if len(variables) == 1 and len(texts) == 1 and not named:
        return {variables[0]: parse_array(texts[0], sources[0])}  # one array in one pass, however long
    positional = [value for text, source in zip(texts, sources) for value in parse_values(text, source)]
    names = ", ".join(variables) or "none"
    if named and positional:
        raise ParseError("--at mixes named (x=1) and positional values; use one style")
    if named:
        unknown = [n for n in named if n not in variables]
        if unknown:
            from .parsing import suggest

            raise ParseError(f"--at names {', '.join(unknown)}, which the expression does not use "
                             f"(its variables: {names}){suggest(unknown[0], variables)}")
        missing = [n for n in variables if n not in named]
        if missing:
            raise ParseError(f"no value for {', '.join(missing)}; give --at {missing[0]}=…")
        return named
    if not variables:
        raise ParseError("the expression has no variables; drop --at")
    if len(variables) == 1:
        return {variables[0]: positional[0] if len(positional) == 1 else stack_values(positional)}
    if len(positional) != len(variables):
        shown = variables if len(variables) <= 4 else variables[:3]
        example = "--at " + ",".join(f"{v}={i + 1}" for i, v in enumerate(shown)) + ("" if shown == variables else ",…")
        lines = max((sum(1 for line in _strip_comments(text).splitlines() if line.strip()) for text in read), default=0)
        several = (f" The input has {lines} lines: for one result per line (a point each), use --points "
                   "instead of --at." if lines > 1 else "")
        raise ShapeError(f"{len(variables)} variables ({names}) need {len(variables)} values, one each in "
                         f"that order; got {len(positional)}. Or name them: {example}.{several}")
    return dict(zip(variables, positional, strict=True))
