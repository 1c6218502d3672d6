"""A ``Result`` as text: a rich table, plain numbers or one JSON document.

Renderers build output; they never decide maths. Each format is one function
taking the same ``Result``.
"""

from __future__ import annotations

import json
import math
from enum import Enum

import numpy as np

SYMBOLIC_WIDTH = 28  # a symbolic entry longer than this is left out of the table
SYMBOLIC_CELLS = 64  # and so are all of them when the table has more cells
TABLE_PRECISION = 8  # significant digits in tables unless --precision says otherwise


class Format(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    json = "json"


def number(value: float, precision: int | None = None) -> str:
    """Shortest text that reads back to the same float, or ``precision`` significant digits."""
    value = float(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    if precision is None:
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return f"{value:.{precision}g}"


def plain(result, precision: int | None = None) -> str:
    """Numbers only, one table row per line, separated by spaces; symbolic entries by tabs."""
    if result.value is not None:
        grid = result.matrix(result.value)
        return "\n".join(" ".join(number(v, precision) for v in row) for row in grid) + "\n"
    grid = result.matrix(result.symbolic)
    return "\n".join("\t".join(str(e) for e in row) for row in grid) + "\n"


def _json_value(array: np.ndarray | None):
    if array is None:
        return None
    as_objects = np.asarray(array, dtype=object)
    bad = ~np.isfinite(np.asarray(array, dtype=float))
    as_objects[bad] = None  # NaN and infinity are not JSON
    return as_objects.tolist()


def to_json(result) -> str:
    """Exactly one JSON document; non-finite numbers become null and are named in ``warnings``."""
    document = {
        "command": result.command,
        "expression": result.expression,
        "variables": result.variables,
        "point": _json_value(result.point),
        "shape": list(result.shape),
        "value": _json_value(result.value),
    }
    if result.symbolic is not None:
        document["symbolic"] = np.vectorize(str, otypes=[object])(result.symbolic).tolist()
    document.update({k: _json_value(v) if isinstance(v, np.ndarray) else v for k, v in result.extra.items()})
    document["warnings"] = list(result.warnings)
    return json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n"


def _style(value: float) -> str:
    if not math.isfinite(value):
        return "bold yellow"
    if value > 0:
        return "green"
    if value < 0:
        return "red"
    return "dim"


def table(result, precision: int | None = None):
    """A rich Table: rows and columns labelled, numbers right-aligned and coloured by sign."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    precision = precision or TABLE_PRECISION
    table = Table(header_style="bold")
    table.add_column("", style="bold cyan", no_wrap=True)
    for column in result.columns:
        table.add_column(column, justify="right", no_wrap=False)
    symbolic = None if result.symbolic is None else result.matrix(result.symbolic)
    show_symbolic = symbolic is not None and symbolic.size <= SYMBOLIC_CELLS
    values = None if result.value is None else result.matrix(result.value)
    for i, label in enumerate(result.rows):
        cells = []
        for j in range(len(result.columns)):
            text = str(symbolic[i, j]) if symbolic is not None else ""
            if values is None:
                cells.append(Text(text))
                continue
            value = float(values[i, j])
            cell = Text(number(value, precision), style=_style(value))
            if show_symbolic and len(text) <= SYMBOLIC_WIDTH and not _is_number(symbolic[i, j]):
                cell.append(f"  = {text}", style="dim italic")
            cells.append(cell)
        table.add_row(label, *cells)
    # The title as Text above the table, not markup: expressions contain [brackets].
    parts = [Text(result.title, style="bold")]
    parts += [_panel(panel, precision) for panel in result.panels]
    if result.panels:
        parts.append(Text(result.value_title or "value", style="bold"))
    parts.append(table)
    parts += checks(result.extra.get("properties", {}))
    return Group(*parts)


def _panel(panel, precision: int):
    """A small grid of numbers (logits, J_F, …) with the same sign colours as the main table."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    grid = Table(header_style="bold")
    grid.add_column("", style="bold cyan", no_wrap=True)
    for column in panel.columns:
        grid.add_column(column, justify="right")
    values = np.asarray(panel.values, dtype=float).reshape(len(panel.rows), len(panel.columns))
    for label, row in zip(panel.rows, values, strict=True):
        grid.add_row(label, *(Text(number(v, precision), style=_style(v)) for v in row))
    return Group(Text(panel.title, style="bold"), grid)  # a Table title would wrap to the table's width


def checks(properties: dict) -> list:
    """One line per checked property: ✓ or ✗, the statement, and the measured residual."""
    from rich.text import Text

    lines = []
    for check in properties.values():
        mark, style = {True: ("✓", "green"), False: ("✗", "bold red"), None: ("–", "dim")}[check["holds"]]
        line = Text(f"{mark} ", style=style)
        line.append(check["statement"])
        if check["residual"] is not None:
            line.append(f"   {check['measure']} = {number(check['residual'], 3)}", style="dim")
        lines.append(line)
    return lines


def _is_number(expr) -> bool:
    return getattr(expr, "is_number", False)
