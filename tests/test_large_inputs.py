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
