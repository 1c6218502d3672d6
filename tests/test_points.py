"""Point values: separators, brackets, named values, exact numbers, files, and the errors."""

import io
import math

import numpy as np
import pytest

from jaccli.errors import JaccliError, ParseError, ShapeError
from jaccli.points import bind, parse_values


def values(text):
    return [v.array.tolist() for v in parse_values(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,2,3", [1.0, 2.0, 3.0]),
        ("1 2 3", [1.0, 2.0, 3.0]),
        ("1\n2\n3\n", [1.0, 2.0, 3.0]),
        ("-1.3 0.5 2.1", [-1.3, 0.5, 2.1]),
        ("1 -2", [1.0, -2.0]),  # whitespace separates: not 1 - 2
        ("1e-3, 2.5E2", [0.001, 250.0]),
        ("[1, 2]", [[1.0, 2.0]]),
        ("[[1,1],[1,1]]", [[[1.0, 1.0], [1.0, 1.0]]]),
        ("[1, 2], 3", [[1.0, 2.0], 3.0]),
        ("1  # comment\n2", [1.0, 2.0]),
    ],
)
def test_separators_and_brackets(text, expected):
    assert values(text) == expected


def test_exact_values_use_the_safe_parser():
    assert values("pi/4, sqrt(2), 1/3, -e") == [math.pi / 4, math.sqrt(2), 1 / 3, -math.e]
    assert values("[pi, 2^10]") == [[math.pi, 1024.0]]


def test_texts_are_kept_for_exact_mode():
    (value,) = parse_values("[0.1, pi/4]")
    assert value.texts.tolist() == ["0.1", "pi/4"]


@pytest.mark.parametrize("text", ["nan", "1, inf", "-inf", "[1, nan]"])
def test_non_finite_input_is_refused(text):
    with pytest.raises(ParseError):
        parse_values(text)


@pytest.mark.parametrize("text, message", [
    ("", "no values"), ("1,,2", "empty value"), ("x", "unknown name 'x'"), ("[[1,2],[3]]", "ragged"),
    ("[1, 2", "cannot read"), ("sqrt(-1)", "not a real number"), ("1/0", "division by zero"),
    ("__import__('os')", "unknown function"),
])
def test_bad_values(text, message):
    with pytest.raises(JaccliError, match=message):
        parse_values(text)


def test_bind_positional_in_variable_order():
    bound = bind(("x", "y"), ["1,2"])
    assert bound["x"].array == 1.0 and bound["y"].array == 2.0


def test_bind_single_variable_gets_an_array():
    assert bind(("x",), ["1,1"])["x"].array.tolist() == [1.0, 1.0]


def test_bind_named_any_order_and_arrays():
    bound = bind(("x", "y"), ["y=[1,2]", "x = 3"])
    assert bound["y"].array.tolist() == [1.0, 2.0] and bound["x"].array == 3.0


@pytest.mark.parametrize("specs, message", [
    (["1"], "2 variables \\(x, y\\) need 2 values"),
    (["x=1"], "no value for y"),
    (["x=1", "z=2"], "does not use"),
    (["x=1", "2"], "mixes named"),
    (["x=1", "x=2"], "twice"),
])
def test_bind_errors(specs, message):
    with pytest.raises((ParseError, ShapeError), match=message):
        bind(("x", "y"), specs)


def test_bind_reads_files_and_stdin(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("3\n4\n")
    assert bind(("x", "y"), [f"@{path}"])["y"].array == 4.0
    assert bind(("x",), ["-"], stdin=io.StringIO("5 6"))["x"].array.tolist() == [5.0, 6.0]
    assert bind(("x", "y"), [f"y=@{path}", "x=1"])["y"].array.tolist() == [3.0, 4.0]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(JaccliError, match="cannot read"):
        bind(("x",), [f"@{tmp_path}/missing"])


def test_large_plain_input_takes_the_numpy_path():
    text = ",".join(str(i / 7) for i in range(100_000))
    value = bind(("x",), [text])["x"]
    np.testing.assert_array_equal(value.array, np.arange(100_000) / 7)


LARGE_TOKENS = ["1", "-2.5e-3", "0.1", "1e300", "  7.25", "-0.0", "123456789012345678901", "4.9406564584124654e-324"]


@pytest.mark.parametrize("separator", ["\n", ",", " , ", "\t"])
def test_a_large_plain_input_reads_each_number_as_float_does(separator):
    """Read in slices without a string per value: each entry is float(token), the correctly rounded double."""
    from jaccli import points

    tokens = [LARGE_TOKENS[i % len(LARGE_TOKENS)] for i in range(300_000)]
    value = points.parse_array(separator.join(tokens) + "\n")
    assert value.array.shape == (300_000,)
    assert value.array.tolist() == [float(t) for t in tokens]
    assert value.texts[:3].tolist() == [repr(float(t)) for t in tokens[:3]]  # not kept: each double's own text


@pytest.mark.parametrize(("bad", "message"), [
    ("nan", "@big, value 250001: not a finite number; NaN and infinity are not allowed as input"),
    ("1e999", "@big, value 250001: not a finite number; NaN and infinity are not allowed as input"),
    ("", "@big: empty value at position 250001 (two separators in a row?)"),
    ("abc", "@big, value 250001: not a finite real number"),
])
def test_a_large_plain_input_with_a_bad_value_words_the_error_as_a_small_one(bad, message):
    from jaccli import points
    from jaccli.errors import JaccliError

    tokens = ["0.5"] * 250_000 + [bad] + ["2"] * 250_000
    with pytest.raises(JaccliError) as raised:
        points.parse_array(",".join(tokens), "@big")
    assert str(raised.value) == message
