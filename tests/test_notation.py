"""Maths as people type it: each notation gives the value of its hand-written Python form, and says how it was read."""

from __future__ import annotations

import math

import pytest

from jaccli import notation
from jaccli.errors import ParseError
from jaccli.registry import CONSTANTS, FUNCTIONS


def read(text: str):
    return notation.read(text, FUNCTIONS, CONSTANTS)


# (as typed, read as, point x, d/dx by hand at that point)
NOTATIONS = [
    ("2x", "2*x", 1.5, 2.0),
    ("2(x+1)^2", "2*(x + 1)^2", 1.0, 8.0),  # 4(x+1)
    ("x sin(x)", "x*sin(x)", 1.0, math.sin(1) + math.cos(1)),
    ("sin x", "sin(x)", 0.5, math.cos(0.5)),
    ("sin 2x", "sin(2*x)", 0.5, 2 * math.cos(1.0)),
    ("sin x^2", "sin(x^2)", 0.5, 2 * 0.5 * math.cos(0.25)),
    ("sin x cos x", "sin(x)*cos(x)", 0.3, math.cos(0.6)),
    ("|x|", "abs(x)", -2.0, -1.0),
    ("||x| - 3|", "abs(abs(x) - 3)", 1.0, -1.0),
    ("√x", "sqrt(x)", 4.0, 0.25),
    ("√(x+1)", "sqrt(x + 1)", 3.0, 0.25),
    ("x²", "x^2", 3.0, 6.0),
    ("x⁻¹", "x^(-1)", 2.0, -0.25),
    ("x³ + x¹⁰", "x^3 + x^10", 1.0, 13.0),
    ("πx", "pi*x", 0.0, math.pi),
    ("3·x", "3*x", 0.0, 3.0),
    ("3×x", "3*x", 0.0, 3.0),
    ("x − 1", "x - 1", 0.0, 1.0),
    ("x÷4", "x/4", 0.0, 0.25),
    ("e^x", "e^x", 1.0, math.e),
    ("2e^x", "2*e^x", 0.0, 2.0),
    ("(x+1)(x-1)", "(x + 1)*(x - 1)", 3.0, 6.0),
    ("2x^2", "2*x^2", 1.0, 4.0),  # 2*(x^2), not (2x)^2
    ("1/2x", "1/2*x", 1.0, 0.5),  # an implicit product binds like *
    ("-x^2", "-x^2", 1.0, -2.0),
    ("x (x+1)", "x*(x + 1)", 1.0, 3.0),  # with a space: a product
    ("e(x+1)", "e*(x + 1)", 0.0, math.e),  # a constant before brackets: a product
]


@pytest.mark.parametrize("typed, read_as, x, slope", NOTATIONS, ids=[n[0] for n in NOTATIONS])
def test_notation_is_read_and_differentiated_as_written_by_hand(jaccli, typed, read_as, x, slope):
    assert read(typed).read_as == read_as
    run = jaccli("derivative", typed, "--at", repr(x), "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["read_as"] == read_as
    assert run.json["value"] == pytest.approx(slope, rel=1e-14)


def test_a_product_of_two_names_needs_a_space_between_them(jaccli):
    assert read("x y").read_as == "x*y"
    assert read("xy").read_as == "xy"  # one name
    run = jaccli("gradient", "x y", "--at", "2,3", "--format", "json")
    assert run.json["value"] == [3.0, 2.0]


def test_a_variable_before_brackets_without_a_space_is_a_call_and_says_so(jaccli):
    run = jaccli("derivative", "x(x+1)", "--at", "1")
    assert run.code == 2 and "unknown function 'x'" in run.stderr


def test_superscripts_and_caret_print_back_with_caret(jaccli):
    run = jaccli("hessian", "x² y + y^3", "--format", "plain")
    assert run.stdout == "2*y\t2*x\n2*x\t6*y\n"
    assert jaccli("derivative", "x^3", "--format", "plain").stdout == "3*x^2\n"
    assert jaccli("derivative", "x**3", "--format", "plain").stdout == "3*x**2\n"  # ** in, ** out


def test_the_title_says_how_the_text_was_read(jaccli):
    run = jaccli("derivative", "2x^2 + 3y", "--wrt", "x", "--at", "1,2", "--format", "table")
    assert run.stdout.splitlines()[0] == "df/dx of 2x^2 + 3y at x = 1, y = 2 (read as 2*x^2 + 3*y)"
    run = jaccli("derivative", "x**2 + 1", "--at", "1", "--format", "table")
    assert "read as" not in run.stdout  # nothing to say when it reads as typed


def test_points_take_the_notation_too(jaccli):
    run = jaccli("derivative", "sin(x)", "--at", "π/3", "--format", "json")
    assert run.json["value"] == pytest.approx(0.5, rel=1e-15)
    run = jaccli("derivative", "x^2", "--at", "−2π", "--format", "json")
    assert run.json["value"] == pytest.approx(-4 * math.pi, rel=1e-15)


def test_chain_json_reads_both_functions(jaccli):
    run = jaccli("chain", "2x", "sum(y²)", "--at", "1,2", "--format", "json")
    assert run.json["read_as"] == "sum(y^2) with y = 2*x"
    assert run.json["value"] == [8.0, 16.0]  # l = sum(4x²): 8x


@pytest.mark.parametrize("text, message, column", [
    ("2x +", "unexpected end of expression", 4),
    ("|x", "'|' is not closed", 0),
    ("√", "'√' needs something", 0),
    ("x + * y", "unexpected '*'", 4),
    ("(x+1", "'(' is not closed", 4),
    ("x²^3", "unexpected '^'", 2),
    ("sin\u200b(x)", "U+200B ZERO WIDTH SPACE", 3),
])
def test_errors_point_at_the_text_as_typed(text, message, column):
    with pytest.raises(ParseError) as info:
        read(text)
    assert message in str(info.value)
    assert info.value.text == text and info.value.column == column


def test_non_breaking_and_thin_spaces_are_spaces():
    assert read("2\u00a0x\u2009+\u202f1").read_as == "2*x + 1"
