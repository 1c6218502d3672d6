"""Many points at once: ``--points FILE`` or ``-``, one point per line, read in chunks.

The result's ``numbers`` (``compute.Numbers``) are set up once;
each chunk of lines becomes columns of floats and one evaluation computes every point of the chunk, so a
file of millions of lines runs in flat memory and without a Python loop per point.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from . import limits
from .errors import JaccliError

CHUNK_LINES = 16_384  # lines a chunk: 104 MiB peak at 65,536 on the bench batch, 56 MiB here (see numtext)
BLOCK_BYTES = 1 << 21  # read at a time; a line may be up to limits.MAX_LINE_BYTES
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\[\], ]*\Z")


@dataclass
class Chunk:
    """Points of consecutive lines: ``values`` is (P, k), columns in variable order.

    ``texts`` holds the same numbers as written in the input, column by column (k lists of P
    strings), for output that repeats the point (CSV): "0.10" stays "0.10", and no float is
    formatted again.
    """

    values: np.ndarray
    texts: list[list[str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one message per skipped bad line
    error: str | None = None  # a bad line without --skip-bad: the rows before it are still good


def _tokens(line: str) -> list[str]:
    return line.split("#", 1)[0].replace(",", " ").split()


def _is_header(tokens: list[str]) -> bool:
    return bool(tokens) and all(_NAME.match(t) and t.lower() not in ("nan", "inf", "infinity") for t in tokens)


class Lines:
    """The text lines of a binary stream, read a block at a time, in bounded memory.

    A UTF-8 BOM at the start is dropped; a line longer than ``limits.MAX_LINE_BYTES`` stops the
    reading, and so does a line that is not UTF-8 (with ``skip_bad`` either becomes a blank line and a
    message in ``skipped``; the rest of a long line is read past a block at a time, never held). Either
    way the lines before it are returned first, then ``error`` is set. Errors name the line, never its text.
    """

    def __init__(self, stream, skip_bad: bool = False):
        self.stream = stream
        self.skip_bad = skip_bad
        self.rest = b""  # the start of a line whose end has not been read yet
        self.count = 0  # lines returned so far
        self.error: str | None = None
        self.skipped: list[str] = []
        self.started = self.ended = False
        self.passing = False  # reading past the rest of a long line skipped (skip_bad), up to its newline

    def readlines(self, hint: int = BLOCK_BYTES) -> list[str]:
        if self.error or (self.ended and not self.rest):
            return []
        data = self.rest
        while not self.ended:
            try:
                block = self.stream.read(max(hint, 1 << 16))
            except OSError as exc:
                raise JaccliError(f"cannot read the points: {exc.strerror or exc}") from None
            if not self.started:
                self.started = True
                block = block[3:] if block.startswith(b"\xef\xbb\xbf") else block
            if not block:
                self.ended = True
                break
            if self.passing:
                cut = block.find(b"\n")
                if cut < 0:
                    continue  # still inside the long line
                self.passing, block = False, block[cut + 1:]
            data += block
            if b"\n" in block:
                break
            if len(data) > limits.MAX_LINE_BYTES:
                if not self.skip_bad:
                    return self._stop([], _too_long())
                self.passing, self.rest = True, b""
                return self._decode([self._skip_long(self.count + 1)])
        end = len(data) if self.ended else data.rfind(b"\n") + 1
        data, self.rest = data[:end], data[end:]
        raw = data.splitlines(keepends=True)
        long = next((i for i, line in enumerate(raw) if len(line) > limits.MAX_LINE_BYTES), None)
        if long is None and len(self.rest) > limits.MAX_LINE_BYTES:
            long = len(raw)
            raw.append(self.rest)
            if self.skip_bad:  # its end is still to come: read past it
                self.rest, self.passing = b"", True
        if long is not None and not self.skip_bad:
            return self._stop(raw[:long], _too_long())
        if long is not None:
            raw = [self._skip_long(self.count + i + 1) if len(line) > limits.MAX_LINE_BYTES else line
                   for i, line in enumerate(raw)]
        return self._decode(raw)

    def _skip_long(self, number: int) -> bytes:
        """A long line skipped (skip_bad): a message, and a blank line in its place (the numbering goes on)."""
        self.skipped.append(f"line {number} skipped: longer than {limits.in_bytes(limits.MAX_LINE_BYTES)}")
        return b"\n"

    def _decode(self, raw: list[bytes]) -> list[str]:
        try:
            lines = b"".join(raw).decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            lines = []
            for i, line in enumerate(raw):
                try:
                    lines.append(line.decode("utf-8"))
                except UnicodeDecodeError:
                    if not self.skip_bad:
                        return self._stop(raw[:i], "line {}: not UTF-8", lines)
                    self.skipped.append(f"line {self.count + i + 1} skipped: not UTF-8")
                    lines.append("\n")
        if len(lines) != len(raw):  # a separator str knows and bytes does not (\x1c, \u2028, …): as the bytes say
            lines = [line.decode("utf-8") for line in raw]
        self.count += len(lines)
        return lines

    def _stop(self, raw: list[bytes], message: str, decoded: list[str] | None = None) -> list[str]:
        """The good lines ``raw`` (or ``decoded``), and ``message`` about the line after them as the error."""
        lines = decoded if decoded is not None else self._decode(raw)
        if decoded is not None:
            self.count += len(lines)
        self.error = message.format(self.count + 1)
        self.rest = b""
        return lines

    def take_skipped(self) -> list[str]:
        skipped, self.skipped = self.skipped, []
        return skipped


class Peek:
    """Lines whose first data line has been looked at (to learn how wide the lines are)."""

    def __init__(self, stream: Lines):
        self.stream = stream
        self.buffer: list[str] = []
        self.width: int | None = None
        header = False
        seen = 0
        while self.width is None:
            block = stream.readlines(1 << 16)
            if not block:
                break
            self.buffer += block
            for line in block:
                seen += 1
                tokens = _tokens(line)
                if not tokens:
                    continue
                if _is_header(tokens) and not header and seen < 1000:
                    header = True
                    continue
                self.width = len(tokens)
                break

    @property
    def error(self) -> str | None:
        return self.stream.error

    def take_skipped(self) -> list[str]:
        return self.stream.take_skipped()

    def readlines(self, hint: int = -1) -> list[str]:
        if self.buffer:
            lines, self.buffer = self.buffer, []
            return lines
        return self.stream.readlines(hint)


class PointReader:
    """Reads point lines from a text stream in chunks, mapping columns to ``labels``.

    ``labels`` are the flattened input labels (``x``, ``y`` or ``x[0]``, ``x[1]``). A
    first line of names (a CSV header) may reorder the columns.
    """

    def __init__(self, stream, labels: list[str], skip_bad: bool = False, chunk_lines: int = CHUNK_LINES):
        self.stream = stream
        self.labels = labels
        self.skip_bad = skip_bad
        self.chunk_lines = chunk_lines
        self.order: np.ndarray | None = None  # column permutation from a header
        self.line_number = 0
        self.started = False

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            lines = self.stream.readlines(self.chunk_lines * 32)
            if not lines:
                error, skipped = getattr(self.stream, "error", None), self._read_skipped()
                if error or skipped:  # a line the reader refused (too long, not UTF-8), after the lines before it
                    yield Chunk(np.zeros((0, len(self.labels))), [[] for _ in self.labels], skipped, error)
                return
            first = self.line_number + 1
            self.line_number += len(lines)
            if not self.started:
                lines, first = self._header(lines, first)
            chunk = self._parse(lines, first)
            skipped = self._read_skipped()
            if skipped:  # in line order: the reader's (not UTF-8) and the parser's
                chunk.skipped = sorted(skipped + chunk.skipped, key=lambda m: int(m.split()[1]))
            if len(chunk.values) or chunk.skipped or chunk.error:
                yield chunk
            if chunk.error:
                return

    def _read_skipped(self) -> list[str]:
        take = getattr(self.stream, "take_skipped", None)
        return take() if take else []

    def _header(self, lines: list[str], first: int) -> tuple[list[str], int]:
        for i, line in enumerate(lines):
            tokens = _tokens(line)
            if not tokens:
                continue
            self.started = True
            if _is_header(tokens):
                self._use_header(tokens, first + i)
                return lines[i + 1:], first + i + 1
            return lines[i:], first + i
        return [], first + len(lines)

    def _use_header(self, names: list[str], line: int) -> None:
        column = {name: j for j, name in enumerate(names)}  # dicts and sets: a header may have 10⁶ names
        if len(column) < len(names):
            seen: set[str] = set()
            twice = sorted({n for n in names if n in seen or seen.add(n)})
            raise JaccliError(f"line {line}: the header names {_few(twice)} more than once")
        labels = set(self.labels)
        unknown = [n for n in names if n not in labels]
        missing = [n for n in self.labels if n not in column]
        if unknown or missing:
            raise JaccliError(f"line {line}: the header names {_few(names)}, but the variables are "
                              f"{_few(self.labels)}")
        self.order = np.array([column[label] for label in self.labels])

    def _parse(self, lines: list[str], first: int) -> Chunk:
        width = len(self.labels)
        text = "".join(lines).replace(",", " ")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "input contained no data" for comment-only chunks
                values = np.loadtxt(io.StringIO(text), ndmin=2, comments="#", dtype=float)
            if values.size == 0:
                values = np.zeros((0, width))
            if values.shape[1] != width or not np.all(np.isfinite(values)):
                raise ValueError
        except ValueError:
            return self._parse_slowly(lines, first)
        if "#" in text:  # comments: the tokens line by line
            tokens = [token for line in lines for token in _tokens(line)]
        else:  # loadtxt has checked that every line holds ``width`` numbers: its tokens, in order
            tokens = text.split()
        return self._chunk(values, [tokens[j::width] for j in range(width)])

    def _chunk(self, values: np.ndarray, texts: list[list[str]], skipped=(), error=None) -> Chunk:
        """A chunk with its columns in variable order (a header may have named them in another)."""
        if self.order is not None:
            values, texts = values[:, self.order], [texts[j] for j in self.order]
        return Chunk(values, texts, list(skipped), error)

    def _parse_slowly(self, lines: list[str], first: int) -> Chunk:
        """Line by line, to name the bad line (or skip it)."""
        width = len(self.labels)
        rows, texts, skipped, error = [], [], [], None
        for number, line in enumerate(lines, start=first):
            tokens = _tokens(line)
            if not tokens:
                continue
            problem = None
            if len(tokens) != width:
                problem = f"expected {width} value{'s' * (width != 1)} ({_few(self.labels)}), got {len(tokens)}"
            else:
                try:
                    row = [float(t) for t in tokens]
                except ValueError:
                    bad = next(k for k, t in enumerate(tokens, start=1) if not _is_float(t))
                    problem = f"value {bad} is not a number"  # its position: a file's text is never echoed
                else:
                    if not all(np.isfinite(row)):
                        problem = "NaN and infinity are not allowed as input"
            if problem is None:
                rows.append(row)
                texts.append(tokens)
            elif self.skip_bad:
                skipped.append(f"line {number} skipped: {problem}")
            else:
                error = f"line {number}: {problem} (--skip-bad skips such lines)"
                break
        values = np.array(rows, dtype=float).reshape(-1, width)
        return self._chunk(values, [list(column) for column in zip(*texts)] or [[] for _ in range(width)],
                           skipped, error)


def _too_long() -> str:
    return f"line {{}} is longer than {limits.in_bytes(limits.MAX_LINE_BYTES)} (the limit for a --points line)"


def _few(names: list[str], shown: int = 8) -> str:
    """Names for a message: all of a few, or the first ``shown`` and how many more."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])}, … ({len(names)} in all)"


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
