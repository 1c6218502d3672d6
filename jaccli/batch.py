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

from .errors import JaccliError

CHUNK_LINES = 65_536
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


class Peek:
    """A text stream whose first data line has been looked at (to learn how wide the lines are)."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer: list[str] = []
        self.width: int | None = None
        header = False
        for line in stream:
            self.buffer.append(line)
            tokens = _tokens(line)
            if not tokens:
                continue
            if _is_header(tokens) and not header and len(self.buffer) < 1000:
                header = True
                continue
            self.width = len(tokens)
            break

    def readlines(self, hint: int = -1) -> list[str]:
        if self.buffer:
            lines, self.buffer = self.buffer, []
            return lines + self.stream.readlines(hint)
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
                return
            first = self.line_number + 1
            self.line_number += len(lines)
            if not self.started:
                lines, first = self._header(lines, first)
            chunk = self._parse(lines, first)
            if len(chunk.values) or chunk.skipped or chunk.error:
                yield chunk
            if chunk.error:
                return

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
        unknown = [n for n in names if n not in self.labels]
        missing = [n for n in self.labels if n not in names]
        if unknown or missing:
            raise JaccliError(f"line {line}: the header names {', '.join(names)}, but the variables are "
                              f"{', '.join(self.labels)}")
        self.order = np.array([names.index(label) for label in self.labels])

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
                problem = f"expected {width} values ({', '.join(self.labels)}), got {len(tokens)}"
            else:
                try:
                    row = [float(t) for t in tokens]
                except ValueError:
                    bad = next(t for t in tokens if not _is_float(t))
                    problem = f"'{bad}' is not a number"
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


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
