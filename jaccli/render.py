"""A ``Result`` as text: a rich table, plain numbers or one JSON document.

Renderers build output; they never decide maths. Each format is one function
taking the same ``Result``.
"""

from __future__ import annotations

import json
import math
from enum import Enum

import numpy as np

from . import numtext

SYMBOLIC_WIDTH = 28  # a symbolic entry longer than this is left out of the table
SYMBOLIC_CELLS = 64  # and so are all of them when the table has more cells
TABLE_PRECISION = 8  # significant digits in tables unless --precision says otherwise
TABLE_EDGE = 10  # a table with more rows shows the first and last 10
COLUMN_EDGE = 3  # … and of more columns, the first and last 3


class Format(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    json = "json"
    csv = "csv"
    latex = "latex"


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


def formula(expr) -> str:
    """A symbolic entry as text: sympy's form, with floats shown without trailing zeros."""
    import sympy

    return sympy.sstr(expr, full_prec=False) if isinstance(expr, sympy.Basic) else str(expr)


def plain(result, precision: int | None = None) -> str:
    """Numbers only, one table row per line, separated by spaces; symbolic (and exact) entries by tabs."""
    if result.exact is not None:
        return "\n".join("\t".join(formula(e) for e in row) for row in result.matrix(result.exact)) + "\n"
    if result.value is not None:
        return numtext.rows(result.matrix(result.value), " ", precision)
    grid = result.matrix(result.symbolic)
    return "\n".join("\t".join(formula(e) for e in row) for row in grid) + "\n"


def _json(value) -> str:
    """One JSON value: float arrays through ``numtext`` (fast, NaN and infinity as null)."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        return numtext.array_json(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def to_json(result) -> str:
    """Exactly one JSON document; non-finite numbers become null and are named in ``warnings``."""
    document = {
        "command": result.command,
        "expression": result.expression,
        "variables": result.variables,
        "point": result.point,
        "shape": list(result.shape),
        "value": result.value,
        "symbolic": None if result.symbolic is None else np.vectorize(formula, otypes=[object])(result.symbolic),
    }
    if result.exact is not None:
        document["exact"] = np.vectorize(formula, otypes=[object])(result.exact)
    document.update(result.extra)
    document["warnings"] = list(result.warnings)
    return "{" + ", ".join(f"{json.dumps(key)}: {_json(value)}" for key, value in document.items()) + "}\n"


def _style(value: float) -> str:
    if not math.isfinite(value):
        return "bold yellow"
    if value > 0:
        return "green"
    if value < 0:
        return "red"
    return "dim"


def table(result, precision: int | None = None, ascii_only: bool = False):
    """A rich Table: rows and columns labelled, numbers right-aligned and coloured by sign.

    A large result shows its corners, as numpy prints large arrays: the first and last
    TABLE_EDGE rows and COLUMN_EDGE columns, with a line saying how to see all of it.
    ``ascii_only`` (a terminal that is not UTF-8): labels in ASCII (f1, df/dx, -), before the layout.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .streams import encodable

    def Text(text="", style="", _text=Text):  # rich's Text, in ASCII when the terminal wants it
        return _text(encodable(text, "ascii") if ascii_only else text, style=style)

    precision = precision or TABLE_PRECISION
    rows, columns = _edges(len(result.rows), TABLE_EDGE), _edges(len(result.columns), COLUMN_EDGE)
    table = Table(header_style="bold")
    table.add_column("", style="bold cyan", no_wrap=True)
    for j in columns:
        table.add_column(Text("…" if j is None else result.columns[j]), justify="right", no_wrap=False)
    shown = result.exact if result.exact is not None else result.symbolic  # exact values replace formulas
    symbolic = None if shown is None else result.matrix(shown)
    show_symbolic = symbolic is not None and (symbolic.size <= SYMBOLIC_CELLS or result.exact is not None)
    values = None if result.value is None else result.matrix(result.value)
    for i in rows:
        if i is None:
            table.add_row(Text("…"), *(Text("⋮") for _ in columns))
            continue
        cells = []
        for j in columns:
            if j is None:
                cells.append(Text("…"))
                continue
            text = formula(symbolic[i, j]) if symbolic is not None else ""
            if values is None:
                cells.append(Text(text))
                continue
            value = float(values[i, j])
            cell = Text(number(value, precision), style=_style(value))
            if show_symbolic and _beside(text, symbolic[i, j], cell.plain, result.exact is not None):
                cell.append(Text(f"  = {text}", style="dim italic"))
            cells.append(cell)
        table.add_row(Text(result.rows[i]), *cells)
    # The title as Text above the table, not markup: expressions contain [brackets].
    parts = [Text(result.title, style="bold")]
    parts += [_panel(panel, precision, Text) for panel in result.panels]
    if result.panels:
        parts.append(Text(result.value_title or "value", style="bold"))
    parts.append(table)
    if None in rows or None in columns:
        parts.append(Text(f"{len(result.rows)}×{len(result.columns)}, corners shown; --format plain, csv or "
                          "json prints every entry", style="dim"))
    parts += checks(result.extra.get("properties", {}), Text)
    return Group(*parts)


def _edges(count: int, edge: int) -> list[int | None]:
    """All indices, or the first and last ``edge`` with None (an ellipsis) between them."""
    if count <= 2 * edge + 1:
        return list(range(count))
    return [*range(edge), None, *range(count - edge, count)]


def _panel(panel, precision: int, Text):  # Text: rich's, or its ASCII form
    """A small grid of numbers (logits, J_F, …) with the same sign colours as the main table."""
    from rich.console import Group
    from rich.table import Table

    grid = Table(header_style="bold")
    grid.add_column("", style="bold cyan", no_wrap=True)
    for column in panel.columns:
        grid.add_column(Text(column), justify="right")
    values = np.asarray(panel.values, dtype=float).reshape(len(panel.rows), len(panel.columns))
    for label, row in zip(panel.rows, values, strict=True):
        grid.add_row(Text(label), *(Text(number(v, precision), style=_style(v)) for v in row))
    return Group(Text(panel.title, style="bold"), grid)  # a Table title would wrap to the table's width


def checks(properties: dict, Text=None) -> list:  # Text: rich's, or its ASCII form
    """One line per checked property: ✓ or ✗, the statement, and the measured residual."""
    if Text is None:
        from rich.text import Text

    lines = []
    for check in properties.values():
        mark, style = {True: ("✓", "green"), False: ("✗", "bold red"), None: ("–", "dim")}[check["holds"]]
        line = Text(f"{mark} ", style=style)
        line.append(Text(check["statement"]))
        if check["residual"] is not None:
            line.append(Text(f"   {check['measure']} = {number(check['residual'], 3)}", style="dim"))
        lines.append(line)
    return lines


def _beside(text: str, entry, shown: str, exact: bool) -> bool:
    """Whether a symbolic (or exact) entry is worth showing next to its value."""
    if text == shown:
        return False
    return exact or (len(text) <= SYMBOLIC_WIDTH and not _is_number(entry))


def _is_number(expr) -> bool:
    return getattr(expr, "is_number", False)


def csv(result, precision: int | None = None) -> str:
    """The table as CSV: a header of column labels, then one labelled row per table row."""
    numeric = result.value is not None and result.exact is None
    grid = result.matrix(result.value if numeric else (result.exact if result.exact is not None else result.symbolic))
    lines = [",".join(_csv_field(c) for c in ["", *result.columns])]
    for label, row in zip(result.rows, grid):
        cells = [number(v, precision) for v in row] if numeric else [formula(e) for e in row]
        lines.append(",".join(_csv_field(c) for c in [label, *cells]))
    return "\n".join(lines) + "\n"


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def latex(result, precision: int | None = None) -> str:
    """A bmatrix of the numbers, or of the symbolic entries without a point."""
    import sympy

    if result.exact is not None:
        grid = [[sympy.latex(e) for e in row] for row in result.matrix(result.exact)]
    elif result.value is not None:
        grid = [[number(v, precision) for v in row] for row in result.matrix(result.value)]
    else:
        names = {}
        for expr in result.symbolic.flat:
            for symbol in getattr(expr, "free_symbols", ()):
                base, _, index = symbol.name.partition("[")
                names[symbol] = f"{base}_{{{index.rstrip(']').replace(' ', '')}}}" if index else symbol.name
        grid = [[sympy.latex(e, symbol_names=names) for e in row] for row in result.matrix(result.symbolic)]
    body = " \\\\\n".join("  " + " & ".join(row) for row in grid)
    return "\\begin{bmatrix}\n" + body + "\n\\end{bmatrix}\n"


# --- many points: one line (or JSON object) per point -----------------------------------------------


def batch_labels(result) -> list[str]:
    """ASCII names of the flattened result entries, for CSV headers: df1/dx, d2f/dxdy, …"""
    plain = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹", "01234567890123456789")
    labels = []
    for row in result.rows:
        for column in result.columns:
            if result.command == "jacobian":
                labels.append(f"d{row}/d{column}")
            elif result.command == "hessian":
                labels.append(f"d2f/d{row}d{column}")
            elif result.command == "gradient" and len(result.columns) == 1:
                labels.append(f"df/d{row}")
            elif len(result.columns) == 1:
                labels.append(column if len(result.rows) == 1 else f"{column}[{row}]")
            else:
                labels.append(f"{row}{column}")
    return [label.translate(plain) for label in labels]


def batch_header(fmt: Format, variables: list[str], result_labels: list[str]) -> str:
    """The CSV header for a batch (other formats have none)."""
    if fmt is not Format.csv:
        return ""
    return ",".join(_csv_field(c) for c in [*variables, *result_labels]) + "\n"


def batch_rows(fmt: Format, points: np.ndarray, values: np.ndarray, shape: tuple[int, ...],
               precision: int | None = None, point_texts: list[list[str]] | None = None) -> str:
    """One line per point: plain = the flattened result; csv = point then result; json = JSON Lines.

    ``point_texts`` (columns of the point as written in the input) make CSV repeat the point as typed.
    """
    flat = values.reshape(len(values), -1)
    if len(flat) == 0:
        return ""
    if fmt is Format.json:
        objects = [{"point": p, "value": v} for p, v in zip(points.tolist(), values.tolist())]
        text = json.dumps(objects)[1:-1].replace("}, {", "}\n{")  # only numbers inside: no other "}, {"
        if not np.all(np.isfinite(values)):
            text = text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
        return text + "\n"
    if fmt is Format.csv:
        if point_texts:
            return numtext.rows(flat, ",", precision, lead=point_texts)
        return numtext.rows(np.column_stack([points, flat]), ",", precision)
    return numtext.rows(flat, " ", precision)
