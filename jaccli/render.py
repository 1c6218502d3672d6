"""A ``Result`` as text: a rich table, plain numbers or one JSON document.

Renderers build output; they never decide maths. Each format is one function
taking the same ``Result``.
"""

from __future__ import annotations

import json
import math
from enum import Enum

import numpy as np

from . import layout, numtext
from .errors import JaccliError
from .labels import Labels

SYMBOLIC_WIDTH = 28  # beside a value, a formula longer than this is left out (it is in JSON and without --at)
SYMBOLIC_CELLS = 64  # and so are all of them when the table has more cells
TABLE_PRECISION = 8  # significant digits in tables unless --precision says otherwise


class Format(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    json = "json"
    csv = "csv"
    latex = "latex"
    heatmap = "heatmap"


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


def formula(expr, power: str = "**") -> str:
    """A symbolic entry as text: sympy's form, with floats shown without trailing zeros.

    ``power="^"`` writes powers as ``x^2``, for users who typed ``^`` (``**`` means nothing else there).
    """
    import sympy

    try:
        if isinstance(expr, sympy.Basic):
            text = _product_text(expr, sympy.Symbol) or _printer().doprint(expr)
        else:
            text = str(expr)
    except ValueError as exc:  # Python's own limit on writing a huge integer (4300 digits)
        if "integer string conversion" not in str(exc):
            raise
        raise JaccliError("a formula holds an integer of more than 4300 digits, too long to write out") from None
    return text.replace("**", "^") if power == "^" else text


_PRINTER: list = []  # one printer for the process, with its memo (see _printer)
PRINTER_MEMO = 100_000  # texts kept before the memo starts again


def _printer():
    """sympy's str printer (``sstr(expr, full_prec=False)``) remembering the text of each sum and each whole entry
    it printed: the 4096 entries of a Hessian at 64 inputs repeat the same sum of 64 terms, and sympy orders and
    prints a sum afresh each time (38 s for ``hessian "sum(x)**3"``)."""
    if not _PRINTER or len(_PRINTER[0].memo) > PRINTER_MEMO:
        from sympy.printing.str import StrPrinter

        class Remembering(StrPrinter):
            def __init__(self):
                super().__init__({"full_prec": False})
                self.memo: dict = {}

            def doprint(self, expr):
                if expr not in self.memo:
                    self.memo[expr] = super().doprint(expr)
                return self.memo[expr]

            def _print_Exp1(self, expr):  # sympy's E: jaccli reads e (E would be a variable)
                return "e"

            def _print_Add(self, expr, order=None):
                key = ("Add", expr, order)
                if key not in self.memo:
                    self.memo[key] = super()._print_Add(expr, order)
                return self.memo[key]

        _PRINTER[:] = [Remembering()]
    return _PRINTER[0]


def _product_text(expr, symbol: type) -> str | None:
    """An integer times symbols as sympy's printer writes it (``-s_0*s_1``, ``2*x*y``: symbols ordered by name),
    without the printer: its 70 µs an entry was most of the time to print a large Jacobian. None otherwise."""
    if not expr.is_Mul:
        return None
    factors = expr.args
    coefficient = factors[0] if factors[0].is_Integer else None
    if coefficient is not None:
        factors = factors[1:]
        if coefficient in (0, 1):  # never in a canonical product: leave such a form to sympy
            return None
    if not all(type(f) is symbol for f in factors):  # a Dummy prints with a leading underscore
        return None
    body = "*".join(sorted(f.name for f in factors))
    return body if coefficient is None else "-" + body if coefficient == -1 else f"{coefficient}*{body}"


def where(result) -> list[str]:
    """What the names in simplified formulas stand for: ``s_i = softmax(x[0], x[1])[i]``, step(x)."""
    return [note if note.startswith(name) else f"{name} = {note}"
            for name, note in result.extra.get("where", {}).items()]


def read_as(result) -> str | None:
    """How the expression was read (``2x^2`` as ``2*x^2``); for ``chain``, G and F; None for softmax-jac."""
    if result.command == "softmax-jac":
        return None
    from .parsing import reading

    if result.command == "chain":
        x = result.extra
        return f"{reading(x['g']).read_as} with {x['var']} = {reading(x['f']).read_as}"
    return reading(result.expression).read_as


def power_style(expression: str) -> str:
    """``^`` when the expression writes powers with ``^`` (or superscripts) and never ``**``; else ``**``."""
    if "**" in expression:
        return "**"
    return "^" if any(ch in expression for ch in "^²³¹⁰⁴⁵⁶⁷⁸⁹⁻") else "**"


def plain(result, precision: int | None = None) -> str:
    """Numbers only, one table row per line, separated by spaces; symbolic (and exact) entries by tabs.

    Summary lines (``det J = r``, eigenvalues…) follow the rows."""
    power = power_style(result.expression)
    after = "".join(line + "\n" for line in result.summary)
    if result.exact is not None:
        grid = result.matrix(result.exact)
        return "\n".join("\t".join(formula(e, power) for e in row) for row in grid) + "\n" + after
    if result.digits is not None:  # --digits: N correct digits of each entry
        return "".join(" ".join(row) + "\n" for row in result.matrix(result.digits)) + after
    if result.value is not None:
        return numtext.rows(result.matrix(result.value), " ", precision) + after
    grid = result.matrix(result.symbolic)
    return "\n".join("\t".join(formula(e, power) for e in row) for row in grid) + "\n" + after


def plain_chunks(result, precision: int | None = None):
    """``plain``'s text in pieces: a long vector of numbers (a VJP, a gradient) a slice at a time."""
    if result.value is not None and result.exact is None and result.digits is None and precision is None:
        grid = result.matrix(result.value)
        if grid.shape[1] == 1 and grid.size >= numtext.STREAM_ENTRIES:
            yield from numtext.column_chunks(grid)
            yield "".join(line + "\n" for line in result.summary)
            return
    yield plain(result, precision)


def _json(value) -> str:
    """One JSON value: float arrays and numpy scalars through ``numtext`` (fast, NaN and infinity as null)."""
    if isinstance(value, np.generic):  # a 0-d result's entry, e.g. --check's error of a scalar
        value = np.asarray(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, np.ndarray) and value.dtype != object:
        return numtext.array_json(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, Labels):
        return "".join(value.json_chunks())
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def to_json(result) -> str:
    """Exactly one JSON document; non-finite numbers become null and are named in ``warnings``."""
    return "".join(json_chunks(result))


def json_chunks(result):
    """``to_json``'s text in pieces: a large array is written a slice at a time, never as one string."""
    power = power_style(result.expression)
    text = np.vectorize(lambda e: formula(e, power), otypes=[object])
    document = {
        "command": result.command,
        "expression": result.expression,
        "read_as": read_as(result),
        "variables": result.variables,
        "point": result.point,
        "shape": list(result.shape),
        "value": result.value,
        **({} if result.digits is None else {"digits": result.digits}),
        "symbolic": None if result.symbolic is None else text(result.symbolic),
    }
    if result.exact is not None:
        document["exact"] = text(result.exact)
    document.update(result.extra)
    document["warnings"] = list(result.warnings)
    for i, (key, value) in enumerate(document.items()):
        yield ("{" if i == 0 else ", ") + json.dumps(key) + ": "
        if isinstance(value, Labels):
            yield from value.json_chunks()
        elif isinstance(value, np.ndarray) and value.dtype != object:
            yield from numtext.array_json_chunks(value)
        else:
            yield _json(value)
    yield "}\n"


def _style(value: float) -> str:
    if not math.isfinite(value):
        return "bold yellow"
    if value > 0:
        return "green"
    if value < 0:
        return "red"
    return "dim"


def table(result, precision: int | None = None, width: int = 80, height: int | None = None,
          power: str | None = None, ascii_only: bool = False):
    """A rich renderable: the title, panels, the result as a table, notes, and the checked properties.

    Every number is shown whole at ``precision`` significant digits (large and tiny ones in scientific
    notation) and every formula whole: wrapped at operators in its cell, or as a numbered footnote below
    the table. The table fills ``width`` terminal cells and ``height`` lines; only rows and columns that
    do not fit are left out (the first and last ones stay) and a note says which and how to see them.
    ``power``: how formulas write powers (``"^"`` when the user typed ``^``; default from the expression).
    ``ascii_only`` (a terminal that is not UTF-8): labels in ASCII (f1, df/dx, -), before the layout.
    """
    from rich.console import Group
    from rich.text import Text

    if ascii_only:
        result = _in_ascii(result)
    precision = precision or TABLE_PRECISION
    power = power or power_style(result.expression)
    # The title as Text above the table, not markup: expressions contain [brackets].
    parts = [Text(result.title, style="bold")]
    lines_left = (height or 0) - 2 - layout.cell_width(result.title) // max(width, 1)
    for panel in result.panels:
        values = np.asarray(panel.values, dtype=float).reshape(len(panel.rows), len(panel.columns))
        grid, notes = _numbers_table(panel.rows, panel.columns, values, precision, width)
        parts += [Text(panel.title, style="bold"), grid, *notes]  # a Table title would wrap to its width
        lines_left -= len(panel.rows) + 5 + len(notes)
    if result.panels:
        parts.append(Text(result.value_title or "value", style="bold"))
        lines_left -= 1
    properties = result.extra.get("properties", {})
    budget = lines_left - 6 - len(properties) if height else None
    parts += _main_table(result, precision, width, budget, power)
    parts += [Text(line) for line in result.summary]  # det J = r, eigenvalues, singular values
    if result.value is None or result.symbolic is not None and result.symbolic.size <= SYMBOLIC_CELLS:
        parts += [Text(f"where {note}", style="dim") for note in where(result)]
    parts += checks(properties)
    return Group(*parts)


def _in_ascii(result):
    """A copy of ``result`` whose labels and titles are ASCII (f1, d/dx, -): laid out as they will print."""
    from dataclasses import replace

    from .streams import encodable

    def text(value: str) -> str:
        return encodable(value, "ascii")

    return replace(result, title=text(result.title), value_title=text(result.value_title),
                   rows=[text(r) for r in result.rows], columns=[text(c) for c in result.columns],
                   panels=[replace(p, title=text(p.title), rows=[text(r) for r in p.rows],
                                   columns=[text(c) for c in p.columns]) for p in result.panels])


def _main_table(result, precision: int, width: int, row_budget: int | None, power: str) -> list:
    """The result's table and the notes below it: what was left out, footnotes."""
    shown = result.exact if result.exact is not None else result.symbolic  # exact values replace formulas
    symbolic = None if shown is None else result.matrix(shown)
    values = None if result.value is None else result.matrix(result.value)
    if values is not None and result.exact is None:
        beside = symbolic if symbolic is not None and symbolic.size <= SYMBOLIC_CELLS else None
        digits = None if result.digits is None else result.matrix(result.digits)
        grid, notes = _numbers_table(result.rows, result.columns, values, precision, width, row_budget,
                                     beside, power, digits)
        return [grid, *notes]
    return _formula_table(result, symbolic, values, precision, width, row_budget, power)


def _numbers_table(row_labels, column_labels, values: np.ndarray, precision: int, width: int,
                   row_budget: int | None = None, beside: np.ndarray | None = None, power: str = "**",
                   digits: np.ndarray | None = None):
    """A grid of numbers coloured by sign, with short formulas beside them when the whole table has room
    (``digits``: the entries' text from --digits, instead of the floats')."""
    from rich.text import Text

    rows = layout.rows(len(row_labels), row_budget)
    shown_rows = [i for i in rows if i is not None]
    label_width = max((layout.cell_width(row_labels[i]) for i in shown_rows), default=0)
    texts: dict[tuple[int, int], str] = {}

    def text(i: int, j: int) -> str:
        if (i, j) not in texts:
            texts[i, j] = number(values[i, j], precision) if digits is None else digits[i, j]
        return texts[i, j]

    def column_width(j: int, formulas=None) -> int:
        cells = [layout.cell_width(text(i, j) + (formulas or {}).get((i, j), "")) for i in shown_rows]
        return max([layout.cell_width(column_labels[j]), *cells])

    notes = []
    if beside is not None:  # short formulas beside their values, if every column then still fits
        formulas = {}
        for i in shown_rows:
            for j in range(len(column_labels)):
                shown = formula(beside[i, j], power)
                if _beside(shown, beside[i, j], text(i, j), False):
                    formulas[i, j] = f"  = {shown}"
        widths = [column_width(j, formulas) for j in range(len(column_labels))]
        if formulas and layout.table_width([label_width, *widths]) <= width and None not in rows:
            return _grid(row_labels, column_labels, rows, list(range(len(column_labels))), text, values,
                         formulas), notes
        if formulas:
            notes.append(Text("the formulas beside the values are left out for width: run without --at, "
                              "or with --format json, to see them", style="dim"))
    columns = layout.columns(len(column_labels), column_width, label_width, width)
    notes[:0] = _hidden(row_labels, column_labels, rows, columns)
    return _grid(row_labels, column_labels, rows, columns, text, values, {}), notes


def _grid(row_labels, column_labels, rows, columns, text, values, formulas):
    """The rich Table of ``rows`` × ``columns`` (None: the ⋮ row or … column) of numbers and formulas."""
    from rich.text import Text

    grid = _frame(column_labels, columns)
    for i in rows:
        if i is None:
            grid.add_row("⋮", *("⋮" for _ in columns))
            continue
        cells = []
        for j in columns:
            if j is None:
                cells.append(Text("…"))
                continue
            cell = Text(text(i, j), style=_style(float(values[i, j])))
            if (i, j) in formulas:
                cell.append(formulas[i, j], style="dim italic")
            cells.append(cell)
        grid.add_row(row_labels[i], *cells)
    return grid


def _frame(column_labels, columns):
    """An empty table: the label column, then ``columns`` right-aligned, never wrapped by rich."""
    from rich.table import Table

    grid = Table(header_style="bold")
    grid.add_column("", style="bold cyan", no_wrap=True)
    for j in columns:
        grid.add_column("…" if j is None else column_labels[j], justify="right", no_wrap=True, overflow="fold")
    return grid


def _formula_table(result, symbolic: np.ndarray, values, precision: int, width: int, row_budget: int | None,
                   power: str) -> list:
    """Formulas (no point), or numbers with their exact values: each whole, wrapped or as a footnote."""
    from rich.text import Text

    rows = layout.rows(len(result.rows), row_budget)
    shown_rows = [i for i in rows if i is not None]
    label_width = max((layout.cell_width(result.rows[i]) for i in shown_rows), default=0)
    n = len(result.columns)
    heads, bodies = {}, {}
    for i in shown_rows:
        for j in range(n):
            head = "" if values is None else number(values[i, j], precision)
            body = formula(symbolic[i, j], power)
            if head and (body == head or not _beside(body, symbolic[i, j], head, True)):
                body = ""
            heads[i, j], bodies[i, j] = head, body

    def lines(i: int, j: int, cap: int) -> list[str] | None:
        """The cell in lines about ``cap`` wide, or None when it needs more than MAX_LINES (a footnote)."""
        head, body = heads[i, j], bodies[i, j]
        if not body:
            return [head]
        one = f"{head}  = {body}" if head else body
        if layout.cell_width(one) <= cap:
            return [one]
        cut = ([head] if head else []) + layout.wrap(f"= {body}" if head else body, cap)
        return cut if len(cut) <= layout.MAX_LINES else None

    def widths(cap: int) -> list[int]:
        out = []
        for j in range(n):
            cells = []
            for i in shown_rows:
                cut = lines(i, j, cap)
                cells.append(max(map(layout.cell_width, cut)) if cut else len(heads[i, j]) + 6)  # "  [99]"
            out.append(max([layout.cell_width(result.columns[j]), *cells]))
        return out

    cap = max([layout.cell_width(f"{heads[k]}  = {bodies[k]}") for k in heads] + [layout.MIN_CELL])
    if layout.table_width([label_width, *widths(cap)]) > width:  # the widest cap at which every column fits
        low, high = layout.MIN_CELL, cap
        while low < high:
            middle = (low + high + 1) // 2
            if layout.table_width([label_width, *widths(middle)]) <= width:
                low = middle
            else:
                high = middle - 1
        cap = low
    column_widths = widths(cap)
    columns = layout.columns(n, lambda j: column_widths[j], label_width, width)
    table = _frame(result.columns, columns)
    footnotes = []
    for i in rows:
        if i is None:
            table.add_row("⋮", *("⋮" for _ in columns))
            continue
        cells = []
        for j in columns:
            if j is None:
                cells.append(Text("…"))
                continue
            head = heads[i, j]
            cell = Text(head, style=_style(float(values[i, j])) if values is not None else "")
            cut = lines(i, j, cap)
            if cut is None:
                footnotes.append(bodies[i, j])
                cell.append(f"{'  ' if head else ''}[{len(footnotes)}]", style="dim")
            else:
                cell.append("\n".join(cut)[len(head):], style="dim italic" if head else "")
                if len(cut) > 1:  # a formula over several lines reads from the left
                    cell.justify = "left"
            cells.append(cell)
        table.add_row(result.rows[i], *cells)
    notes = _hidden(result.rows, result.columns, rows, columns)
    for k, body in enumerate(footnotes, 1):  # below the table, in lines as wide as the terminal
        mark = f"[{k}] "
        cut = layout.wrap(f"= {body}" if values is not None else body, max(width - len(mark), layout.MIN_CELL))
        notes.append(Text(mark + ("\n" + " " * len(mark)).join(cut)))
    return [table, *notes]


def _hidden(row_labels, column_labels, rows, columns) -> list:
    """One dim line naming the rows and columns left out, and how to see every entry."""
    from rich.text import Text

    parts = []
    for what, labels, shown in (("rows", row_labels, rows), ("columns", column_labels, columns)):
        if None in shown:
            gap = shown.index(None)
            first = shown[gap - 1] + 1 if gap else 0
            last = (shown[gap + 1] if gap + 1 < len(shown) else len(labels)) - 1
            parts.append(f"{what} {labels[first]} … {labels[last]} ({last - first + 1} of {len(labels)})")
    if not parts:
        return []
    narrower = ", and a smaller --precision (e.g. -p 4) fits more columns" if None in columns else ""
    return [Text(f"{len(row_labels)}×{len(column_labels)}: {' and '.join(parts)} left out to fit; "
                 f"--format plain, csv or json prints every entry{narrower}", style="dim")]


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
    if numeric and result.digits is not None:  # --digits: N correct digits of each entry
        grid = result.matrix(result.digits)
    power = power_style(result.expression)
    lines = [",".join(_csv_field(c) for c in ["", *result.columns])]
    for label, row in zip(result.rows, grid):
        cells = ([v if result.digits is not None else number(v, precision) for v in row] if numeric
                 else [formula(e, power) for e in row])
        lines.append(",".join(_csv_field(c) for c in [label, *cells]))
    return "\n".join(lines) + "\n"


def _latex_number(text: str) -> str:
    """``1.25e-11`` as ``1.25 \\times 10^{-11}``."""
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}" if exponent else mantissa


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def latex(result, precision: int | None = None) -> str:
    """A bmatrix of the numbers, or of the symbolic entries without a point."""
    import sympy

    if result.exact is not None:
        grid = [[sympy.latex(e) for e in row] for row in result.matrix(result.exact)]
    elif result.digits is not None:  # --digits: N correct digits of each entry
        grid = [[_latex_number(v) for v in row] for row in result.matrix(result.digits)]
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
    comments = "".join(f"% {line}\n" for line in result.summary)  # det J = r, eigenvalues…: LaTeX comments
    return "\\begin{bmatrix}\n" + body + "\n\\end{bmatrix}\n" + comments


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
               precision: int | None = None, point_texts: list[list[str]] | None = None,
               parallel: bool = True) -> str:
    """One line per point: plain = the flattened result; csv = point then result; json = JSON Lines.

    ``point_texts`` (columns of the point as written in the input) make CSV repeat the point as typed.
    ``parallel``: large chunks may be formatted on two processes (not inside a child that is itself one).
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
            return numtext.rows(flat, ",", precision, lead=point_texts, parallel=parallel)
        return numtext.rows(np.column_stack([points, flat]), ",", precision, parallel=parallel)
    return numtext.rows(flat, " ", precision, parallel=parallel)
