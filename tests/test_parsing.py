"""The expression language: what parses, into which variables, and what is refused."""

import copy
import dataclasses
import pickle

import pytest

from jaccli.errors import LimitError, ParseError, UnknownNameError
from jaccli.parsing import Binary, Call, Const, Index, Num, Stack, Unary, Var, natural_key, parse


@pytest.mark.parametrize(
    "text, variables",
    [
        ("x*y + z", ("x", "y", "z")),
        ("x10 + x2 + x1", ("x1", "x2", "x10")),  # natural order, not string order
        ("sin(b) + a", ("a", "b")),
        ("pi*e", ()),  # constants are not variables
        ("x[0] + x[1]", ("x",)),
        ("[r*cos(t), r*sin(t)]", ("r", "t")),
    ],
)
def test_variables_in_natural_order(text, variables):
    assert parse(text).variables == variables


def test_vars_option_fixes_order_and_may_add_unused():
    assert parse("x + y", ["y", "x", "z"]).variables == ("y", "x", "z")


def test_vars_option_must_cover_every_variable():
    with pytest.raises(ParseError, match="leaves out y"):
        parse("x + y", ["x"])


def test_caret_means_power_with_power_precedence():
    tree = parse("x^2*3").tree
    assert tree == Binary("*", Binary("**", Var("x"), Num("2", True)), Num("3", True))


def test_nodes_are_values_equal_by_type_and_fields_hashable_and_immutable():
    tree = parse("-x[1]*sin(y) + 2.5").tree
    again = parse("-x[1]*sin(y) + 2.5").tree
    assert tree == again and hash(tree) == hash(again) and tree is not again
    assert {tree: "memo"}[again] == "memo"  # autodiff keys its memo by node
    assert tree != parse("-x[1]*sin(y) + 2.6").tree and tree != parse("-x[1]*cos(y) + 2.5").tree
    assert Var("e") != Const("e") and Var("x") != "x" and Num("2", True) != Num("2", False)
    assert isinstance(tree.left.left, Unary) and tree.left.left.arg == Index("x", (1,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.op = "-"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del tree.left
    with pytest.raises(TypeError):
        Binary("+", Var("x"))
    assert copy.deepcopy(tree) == tree and pickle.loads(pickle.dumps(tree)) == tree
    assert repr(Index("x", (1,))) == "Index(name='x', indices=(1,))"
    function = parse("x + y")
    assert (function.text, function.variables, function.indexed) == ("x + y", ("x", "y"), {})


def test_top_level_commas_and_brackets_are_the_same_vector():
    assert parse("x*y, x+y").tree == parse("[x*y, x+y]").tree
    assert isinstance(parse("x, y").tree, Stack)


def test_numbers_keep_their_text_for_exact_mode():
    tree = parse("1.5e-3 * x").tree
    assert tree.left == Num("1.5e-3", False)


def test_indexing_variants():
    assert parse("x[1][2]").tree == Index("x", (1, 2))
    assert parse("x[1, 2]").tree == Index("x", (1, 2))
    assert parse("x[-1]").tree == Index("x", (-1,))


def test_calls_are_checked_against_the_function_table():
    assert parse("atan2(y, x)").tree == Call("atan2", (Var("y"), Var("x")))
    with pytest.raises(ParseError, match=r"atan2\(\) takes 2 arguments, got 1"):
        parse("atan2(y)")
    with pytest.raises(ParseError, match=r"log\(\) takes 1 or 2 arguments, got 3"):
        parse("log(x, 2, 3)")


def test_unknown_function_suggests_closest():
    with pytest.raises(UnknownNameError, match="unknown function 'sinn' — did you mean 'sin'?"):
        parse("sinn(x)")


@pytest.mark.parametrize(
    "text, message",
    [
        ("x.real", "attribute access"),
        ("__import__('os')", "unknown function '__import__'"),
        ("lambda: 1", "lambda"),
        ("[i for i in x]", "comprehensions"),
        ("sin(x=1)", "keyword"),
        ("'abc'", "strings"),
        ("f'{x}'", "strings"),
        ("sin(*x)", "unpacking"),
        ("(y := 2)", ":="),
        ("x if y else 1", "'if'"),
        ("x in y", "only the comparisons"),
        ("x // 2", "'//'"),
        ("x % 2", "'%'"),
        ("sin[0]", "is a function"),
        ("_x + 1", "may not start with '_'"),
        ("x[1:y]", "slice bounds must be constant"),
        ("(x+1)[y]", "an index must be a constant whole number"),
        ("x[0.5]", "whole number"),
        ("2j * x", "complex"),
        ("", "empty"),
        ("x +", "unexpected end"),
        ("1e999", "too large"),
        ("True", "not a number"),
    ],
)
def test_rejected(text, message):
    with pytest.raises(ParseError, match=message) if "too large" not in message else pytest.raises(LimitError):
        parse(text)


def test_syntax_error_has_a_caret_under_the_problem():
    with pytest.raises(ParseError) as info:
        parse("x + * 2")
    assert info.value.caret() == "  x + * 2\n      ^"


def test_nesting_and_length_limits_raise_instead_of_recursing():
    with pytest.raises(LimitError):
        parse("(" * 500 + "x" + ")" * 500)
    with pytest.raises(LimitError):
        parse("-" * 5000 + "x")
    with pytest.raises(LimitError):
        parse("x+" * 500_001)  # 1 000 002 characters: over the length limit, refused before any reading


def test_a_long_chain_is_one_level_not_thousands():
    # 6001 terms: once refused as nesting 6000 levels deep; a chain of + (or *) is one level
    assert parse("x+" * 6000 + "x").variables == ("x",)
    assert parse("x*" * 6000 + "x").variables == ("x",)


def test_natural_key():
    assert sorted(["x10", "x2", "x1", "y"], key=natural_key) == ["x1", "x2", "x10", "y"]


# Python operators jaccli does not have: the message says what to write instead, and what it says to write
# means what the user meant (checked at a point against the plain-numpy reading of the intent).
@pytest.mark.parametrize(("typed", "hint", "instead", "at", "value"), [
    ("x if x > 0 else 0", "where(condition, a, b)", "where(x > 0, x, 0)", ["x=-2"], 0.0),
    ("(x > 0) & (y > 0)", "(a > 0)*(b > 0)", "(x > 0)*(y > 0)", ["x=1", "y=-1"], 0.0),
    ("(x > 0) | (y > 0)", "maximum(a > 0, b > 0)", "maximum(x > 0, y > 0)", ["x=1", "y=-1"], 1.0),
    ("not x", "1 - c", "1 - (x > 0)", ["x=3"], 0.0),
    ("~(x > 0)", "c == 0", "(x > 0) == 0", ["x=-3"], 1.0),
])
def test_an_operator_jaccli_lacks_gets_a_hint_that_works(runner, typed, hint, instead, at, value):
    import json

    from jaccli.cli import app

    points = [f"--at={a}" for a in at]
    refused = runner.invoke(app, ["gradient", typed, *points])
    assert refused.exit_code == 2 and hint in refused.output and "Traceback" not in refused.output
    # d(t*g)/dt at t = 1 is g: the suggested text's value at the point
    advised = runner.invoke(app, ["gradient", f"t*({instead})", "--wrt", "t", "--at=t=1", *points, "--format", "json"])
    assert advised.exit_code == 0, advised.output
    assert json.loads(advised.stdout)["value"] == value
