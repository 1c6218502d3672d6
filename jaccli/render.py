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
        grid = result.matrix(result.value)
        return "\n".join(" ".join(number(v, precision) for v in row) for row in grid) + "\n"
    grid = result.matrix(result.symbolic)
    return "\n".join("\t".join(formula(e) for e in row) for row in grid) + "\n"


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
    document["symbolic"] = (None if result.symbolic is None
                            else np.vectorize(formula, otypes=[object])(result.symbolic).tolist())
    if result.exact is not None:
        document["exact"] = np.vectorize(formula, otypes=[object])(result.exact).tolist()
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
    shown = result.exact if result.exact is not None else result.symbolic  # exact values replace formulas
    symbolic = None if shown is None else result.matrix(shown)
    show_symbolic = symbolic is not None and (symbolic.size <= SYMBOLIC_CELLS or result.exact is not None)
    values = None if result.value is None else result.matrix(result.value)
    for i, label in enumerate(result.rows):
        cells = []
        for j in range(len(result.columns)):
            text = formula(symbolic[i, j]) if symbolic is not None else ""
            if values is None:
                cells.append(Text(text))
                continue
            value = float(values[i, j])
            cell = Text(number(value, precision), style=_style(value))
            if show_symbolic and _beside(text, symbolic[i, j], cell.plain, result.exact is not None):
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


# --- many points: one line (or JSON object) per point, formatted column-wise ----------------------


def _column_text(column: np.ndarray, precision: int | None, json_null: bool = False) -> np.ndarray:
    """Text of a float column in one vectorised step: shortest round-trip repr, or N digits."""
    if precision is None:
        text = column.astype(str)
        text = np.where(np.char.endswith(text, ".0"), np.char.replace(text, ".0", ""), text)
        text = np.where(column == 0, "0", text)
    else:
        text = np.char.mod(f"%.{precision}g", column)
    if json_null:
        text = np.where(np.isfinite(column), text, "null")
    return text


def _join(columns: list[np.ndarray], separator: str) -> np.ndarray:
    out = columns[0]
    for column in columns[1:]:
        out = np.char.add(np.char.add(out, separator), column)
    return out


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
               precision: int | None = None) -> str:
    """One line per point: plain = the flattened result; csv = point then result; json = JSON Lines."""
    flat = values.reshape(len(values), -1)
    if len(flat) == 0:
        return ""
    if fmt is Format.json:
        nested = [_column_text(flat[:, j], None, json_null=True) for j in range(flat.shape[1])]
        point = _join([_column_text(points[:, j], None) for j in range(points.shape[1])], ", ")
        value = _nest(nested, shape)
        lines = np.char.add(np.char.add(np.char.add('{"point": [', point), '], "value": '), value)
        return "\n".join(np.char.add(lines, "}").tolist()) + "\n"
    result_text = [_column_text(flat[:, j], precision) for j in range(flat.shape[1])]
    if fmt is Format.csv:
        columns = [_column_text(points[:, j], precision) for j in range(points.shape[1])] + result_text
        return "\n".join(_join(columns, ",").tolist()) + "\n"
    return "\n".join(_join(result_text, " ").tolist()) + "\n"


def _nest(columns: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """JSON text of nested lists of ``shape`` from flattened column texts."""
    if not shape:
        return columns[0]
    size = len(columns) // shape[0]
    parts = [_nest(columns[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])]
    return np.char.add(np.char.add("[", _join(parts, ", ")), "]")
