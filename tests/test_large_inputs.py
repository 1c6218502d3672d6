"""Long plain inputs are read in slices, the second half by a forked child: the same doubles, the same errors.

The thresholds are lowered so that small texts take the long path; each number is checked against
Python's own correctly rounded ``float`` of its text (the independent reference).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaccli import points
from jaccli.errors import ParseError


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(points, "LARGE_CHARS", 50)
    monkeypatch.setattr(points, "PARALLEL_CHARS", 80)
    monkeypatch.setattr(points, "_SLICE_CHARS", 16)


finite = st.floats(allow_nan=False, allow_infinity=False)
separators = st.sampled_from([",", ", ", " ", "\n", "\t \n", ",\n"])


@settings(max_examples=60, deadline=None)
@given(values=st.lists(finite, min_size=2, max_size=60), separator=separators)
def test_the_long_path_reads_every_number_exactly(values, separator):
    texts = [repr(v) for v in values]
    text = separator.join(texts)
    saved = points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS
    points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS = 10, 40, 16
    try:
        got = points.parse_array(text).array
    finally:
        points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS = saved
    assert got.tolist() == [float(t) for t in texts]


decimals = st.builds(lambda sign, digits, point, exponent: f"{sign}{digits[:point]}.{digits[point:]}e{exponent}",
                      st.sampled_from(["", "-", "+"]), st.text("0123456789", min_size=1, max_size=40),
                      st.integers(0, 40), st.integers(-330, 310))


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(decimals, min_size=2, max_size=40))
def test_long_decimals_round_as_python_rounds_them(texts):
    texts = [t for t in texts if abs(float(t)) < float("inf")]
    text = " ".join(texts)
    saved = points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS
    points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS = 10, 40, 16
    try:
        got = points.parse_array(text).array if len(texts) > 1 else None
    finally:
        points.LARGE_CHARS, points.PARALLEL_CHARS, points._SLICE_CHARS = saved
    if got is not None:
        assert got.tolist() == [float(t) for t in texts]  # Python's float() is correctly rounded


def _read(text: str):
    try:
        return points.parse_array(text, "@f").array.tolist()
    except ParseError as exc:
        return str(exc)


@pytest.mark.parametrize("text", ["1,2,", "1,,2", "1, ,2", "1,\t,2", "1 2 x", "1_000 2", "1,2\n3,4", "nan 1", "1e999 2",
                                  "+.5 1."])
def test_the_long_path_reads_as_the_short_path_does(small_thresholds, text):
    text = ("5," * 40 if "," in text else "5 " * 40) + text  # long enough for the long path
    long_path = _read(text)
    points.LARGE_CHARS = 10 ** 9
    assert long_path == _read(text)


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])  # a bad token in the first half, near the cut, in the child's
def test_a_bad_token_anywhere_gives_the_message_of_the_short_path(small_thresholds, where):
    tokens = [repr(0.1 * i) for i in range(200)]
    tokens[int(where * len(tokens))] = "abc"
    text = "\n".join(tokens)
    with pytest.raises(ParseError) as long_path:
        points.parse_array(text, "@f")
    points.LARGE_CHARS = 10 ** 9
    with pytest.raises(ParseError) as short_path:
        points.parse_array(text, "@f")
    assert str(long_path.value) == str(short_path.value)
    assert "abc" not in str(long_path.value)


def test_without_fork_the_long_path_is_the_same(small_thresholds, monkeypatch):
    monkeypatch.setenv("JACCLI_NO_FORK", "1")
    values = np.random.default_rng(3).normal(size=500)
    text = " ".join(map(repr, values.tolist()))
    assert points.parse_array(text).array.tolist() == values.tolist()
