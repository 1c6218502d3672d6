"""Fast number text must equal the slow, obvious formatting, entry for entry."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from jaccli import numtext
from jaccli.render import number

floats = st.floats(allow_nan=True, allow_infinity=True)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=floats))
def test_rows_print_each_entry_as_number_does(matrix):
    expected = "".join(" ".join(number(v) for v in row) + "\n" for row in matrix)
    assert numtext.rows(matrix) == expected


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5), elements=floats),
       st.integers(1, 17))
def test_rows_with_precision(matrix, precision):
    expected = "".join(",".join(number(v, precision) for v in row) + "\n" for row in matrix)
    assert numtext.rows(matrix, ",", precision) == expected


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5), elements=floats))
def test_array_json_is_the_array_with_nulls(array):
    expected = np.where(np.isfinite(array), array, None).tolist() if array.ndim else (
        float(array) if np.isfinite(array) else None)
    assert json.loads(numtext.array_json(array)) == expected


@pytest.mark.parametrize("size", [numtext.PARALLEL_ENTRIES + 3, 2 * numtext.PARALLEL_ENTRIES])
def test_two_process_encoding_equals_one(size, monkeypatch):
    array = np.random.default_rng(size).normal(size=size).reshape(-1, 1 if size % 2 else 512) * 1e-3
    array.flat[5] = np.nan
    parallel = numtext.array_json(array)
    monkeypatch.setenv("JACCLI_NO_FORK", "1")
    assert parallel == numtext.array_json(array)
    assert numtext.rows(array) == numtext.rows(array)  # and rows takes the same path
