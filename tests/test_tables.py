"""Tables never lie: every number whole at the table's precision, every formula whole, and what is left out named.

Rendered with rich's fixed-width console at 40, 80, 120 and 200 columns, and through the CLI with COLUMNS.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import sympy
from rich.console import Console

from jaccli import compute, layout, render
from jaccli.cli import app

WIDTHS = [40, 80, 120, 200]


def show(result, width: int, height: int | None = None, precision: int | None = None) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(render.table(result, precision, width, height))
    return console.export_text()


def body_rows(text: str) -> list[list[str]]:
    """The cells of each body row of a boxed table: label first."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines()
            if line.startswith("│")]


def header(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def softmax_jacobian(x: np.ndarray) -> np.ndarray:
    s = np.exp(x - x.max())
    s /= s.sum()
    return np.diag(s) - np.outer(s, s)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_number_is_whole_and_hidden_columns_are_named(width):
    x = np.arange(1.0, 11.0)
    expected = softmax_jacobian(x)
    text = show(compute.jacobian("softmax(x)", at=[",".join(map(str, range(1, 11)))]), width)
    assert max(len(line) for line in text.splitlines()) <= width
    columns = header(text)[1:]
    shown = [int(re.fullmatch(r"x\[(\d+)\]", c).group(1)) for c in columns if c != "…"]
    for i, row in enumerate(body_rows(text)):
        numbers = [cell for cell in row[1:] if cell != "…"]
        assert len(numbers) == len(shown)
        for j, cell in zip(shown, numbers):
            assert "…" not in cell
            assert float(cell) == pytest.approx(expected[i, j], rel=5e-8)  # 8 significant digits, exponent kept
    if len(shown) < 10:
        hidden = sorted(set(range(10)) - set(shown))
        assert f"columns x[{hidden[0]}] … x[{hidden[-1]}] ({len(hidden)} of 10) left out to fit" in " ".join(
            text.split())
        assert "--format plain" in text and "--precision" in text
    else:
        assert "left out" not in text
    assert len(shown) >= {40: 1, 80: 4, 120: 6, 200: 10}[width]  # the width is used before hiding anything


def test_tiny_numbers_switch_to_scientific_notation_instead_of_being_cut():
    x = np.arange(1.0, 11.0)
    text = show(compute.jacobian("softmax(x)", at=[",".join(map(str, range(1, 11)))]), 200)
    assert "7.800733e-05" in text and f"{softmax_jacobian(x)[0, 0]:.8g}" == "7.800733e-05"
    assert "-1.6543716e-08" in text


def test_a_wide_jacobian_is_shown_whole_when_the_terminal_is_wide():
    text = show(compute.jacobian("[sum(x*1.5), sum(x**2)]", at=[",".join(str(i + 0.25) for i in range(8))]), 200)
    assert header(text)[1:] == [f"x[{j}]" for j in range(8)]
    rows = body_rows(text)
    assert [float(c) for c in rows[0][1:]] == [1.5] * 8
    assert [float(c.split()[0]) for c in rows[1][1:]] == [2 * (j + 0.25) for j in range(8)]
    assert "left out" not in text


def test_rows_fill_the_height_and_only_those_that_do_not_fit_are_left_out():
    at = [",".join(str(i) for i in range(30))]
    tall = show(compute.gradient("sum(x**2)", at=at), 80, height=60)
    assert [float(row[1].split()[0]) for row in body_rows(tall)] == [2.0 * i for i in range(30)]
    assert "left out" not in tall
    short = show(compute.gradient("sum(x**2)", at=at), 80, height=20)
    rows = body_rows(short)
    assert len(rows) == layout.MIN_ROWS and rows[10] == ["⋮", "⋮"]  # 10 + ⋮ + 10: never fewer
    assert rows[0][0] == "x[0]" and rows[-1][0] == "x[29]" and float(rows[-1][1].split()[0]) == 58
    assert "rows x[10] … x[19] (10 of 30) left out to fit" in short


LONG = "log(x**2 + y**2 + 1)*sin(x*y)/(x - 1)"


def entries(text: str) -> list[str]:
    """Each cell's formula, row by row: its lines read down the cell, or its footnote below the table."""
    cells: list[list[str]] = []
    for row in body_rows(text):
        if row[0]:
            cells.append(row[1:])
        else:
            cells[-1] = [a + b for a, b in zip(cells[-1], row[1:])]
    notes = dict(re.findall(r"^\[(\d+)\] (.*(?:\n {4}.*)*)", text, re.MULTILINE))
    out = []
    for cell in (c for row in cells for c in row):
        mark = re.fullmatch(r"\[(\d+)\]", cell)
        out.append(notes[mark.group(1)] if mark else cell)
    return [" ".join(e.split()) for e in out]


@pytest.mark.parametrize("width", WIDTHS)
def test_long_formulas_are_wrapped_or_footnoted_and_never_lose_a_character(width):
    x, y = sympy.symbols("x y")
    f = sympy.log(x**2 + y**2 + 1) * sympy.sin(x * y) / (x - 1)
    text = show(compute.hessian(LONG), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    shown = entries(text)
    assert len(shown) == 4
    for entry, (a, b) in zip(shown, [(x, x), (x, y), (y, x), (y, y)]):
        read = sympy.parse_expr(entry.replace(" ", ""), local_dict={"x": x, "y": y})
        assert sympy.simplify(read - sympy.diff(f, a, b)) == 0, entry


def test_short_formulas_stay_beside_their_values():
    text = show(compute.hessian("x**2*y + y**3", at=["1,2"]), 80)
    assert "│ x │ 4  = 2*y │  2  = 2*x │" in text


def test_cli_table_uses_columns_from_the_environment(runner):
    at = ",".join(str(i) for i in range(1, 11))
    for width in WIDTHS:
        result = runner.invoke(app, ["jacobian", "softmax(x)", "--at", at, "--format", "table"],
                               env={"COLUMNS": str(width), "NO_COLOR": "1"})
        assert result.exit_code == 0
        assert max(len(line) for line in result.stdout.splitlines()) <= width
        assert "…" not in "".join(c for row in body_rows(result.stdout) for c in row if c != "…")


def test_cli_lines_from_the_environment_set_the_height(runner):
    at = ",".join(str(i) for i in range(30))
    result = runner.invoke(app, ["gradient", "sum(x)", "--at", at, "--format", "table"],
                           env={"COLUMNS": "80", "LINES": "60", "NO_COLOR": "1"})
    assert len(body_rows(result.stdout)) == 30
    result = runner.invoke(app, ["gradient", "sum(x)", "--at", at, "--format", "table"],
                           env={"COLUMNS": "80", "LINES": "24", "NO_COLOR": "1"})
    assert len(body_rows(result.stdout)) == layout.MIN_ROWS
