"""What of a table fits a terminal: which rows and columns, and formulas cut into lines at operators.

Pure arithmetic on text widths, no rich: ``render`` builds the table from these decisions. A table
never cuts a number or a formula. It first uses the width and height there are; only what still does
not fit is left out, whole columns and rows (the first and last ones stay, as numpy prints large
arrays), and the table says what it left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

COLUMN_FRAME = 3  # each column adds a border and one space of padding on each side
MIN_ROWS = 21  # rows shown even on a short terminal before any is left out (10 + ⋮ + 10)
MAX_LINES = 4  # a formula needing more lines than this in its cell becomes a numbered footnote
MIN_CELL = 12  # formulas are not wrapped narrower than this


def cell_width(text: str) -> int:
    """Terminal cells taken by the widest line of ``text`` (east Asian wide characters count two)."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def table_width(widths: list[int]) -> int:
    """Width of a boxed table whose columns (the row labels included) have these content widths."""
    return sum(w + COLUMN_FRAME for w in widths) + 1


def rows(count: int, budget: int | None) -> list[int | None]:
    """All row indices when ``budget`` rows fit them, else the first and last with None (a ⋮ row) between.

    No budget (a file or a pipe, not a screen): every row.
    """
    if budget is None:
        return list(range(count))
    budget = max(budget, MIN_ROWS)
    if count <= budget:
        return list(range(count))
    last = (budget - 1) // 2
    first = budget - 1 - last
    return [*range(first), None, *range(count - last, count)]


def columns(count: int, width_of: Callable[[int], int], label_width: int, budget: int) -> list[int | None]:
    """The column indices that fit ``budget`` terminal cells beside the label column.

    All of them when they fit; else as many as fit, taken from the left and the right in turn, with None
    (a column of …) where the others are left out. At least one column, even if it alone is too wide.
    """
    used = label_width + COLUMN_FRAME + 1
    widths = [width_of(j) for j in range(count)]
    if used + sum(w + COLUMN_FRAME for w in widths) <= budget:
        return list(range(count))
    used += 1 + COLUMN_FRAME  # the … column
    left, right = [], []
    lo, hi = 0, count - 1
    while lo <= hi:
        take_left = len(left) <= len(right)
        j = lo if take_left else hi
        if used + widths[j] + COLUMN_FRAME > budget and (left or right):
            break
        used += widths[j] + COLUMN_FRAME
        if take_left:
            left.append(j)
            lo += 1
        else:
            right.append(j)
            hi -= 1
    return [*left, None, *reversed(right)]


# A break may come before a binary + or - (written with spaces around it), or after * or / (not **).
_BREAK = re.compile(r" (?=[+\-] )|(?<=[^*]\*)(?!\*)|(?<=/)")


def wrap(formula: str, width: int) -> list[str]:
    """``formula`` in lines of at most ``width`` cells, broken only at operators; no character is lost.

    A line breaks before a binary ``+``/``-`` (which then starts the next line) or after ``*``/``/``.
    A piece with no operator in ``width`` cells stays whole on a longer line. Joining the lines with
    a space where a line starts with ``+ ``/``- ``, and with nothing otherwise, gives ``formula`` back.
    """
    if len(formula) <= width:
        return [formula]
    cuts = [m.start() for m in _BREAK.finditer(formula)]
    depth, depths, k = 0, [], 0
    for i, ch in enumerate(formula):  # the bracket depth at each cut: breaks outside brackets read best
        while k < len(cuts) and cuts[k] == i:
            depths.append(depth)
            k += 1
        depth += 1 if ch in "([" else -1 if ch in ")]" else 0
    outer = _fill(formula, [c for c, d in zip(cuts, depths) if d == 0], width)
    if max(map(len, outer)) <= width:
        return outer
    return _fill(formula, cuts, width)


def _fill(formula: str, cuts: list[int], width: int) -> list[str]:
    """Greedy lines of ``formula`` cut only at ``cuts``."""
    pieces, start = [], 0
    for cut in cuts:
        if cut > start:
            pieces.append(formula[start:cut])
            start = cut
    pieces.append(formula[start:])
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    lines.append(line.rstrip())
    return lines


def unwrap(lines: list[str]) -> str:
    """The formula ``wrap`` cut into ``lines``."""
    text = lines[0]
    for line in lines[1:]:
        text += (" " + line) if line[:2] in ("+ ", "- ") else line
    return text
