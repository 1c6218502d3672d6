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


def _reference_rows(matrix, separator=" "):
    return "".join(separator.join(number(v) for v in row) + "\n" for row in matrix.tolist())


@pytest.mark.parametrize("size", [numtext.PARALLEL_ENTRIES + 3, 2 * numtext.PARALLEL_ENTRIES])
def test_two_process_encoding_equals_one(size, monkeypatch):
    array = np.random.default_rng(size).normal(size=size).reshape(-1, 1 if size % 2 else 512) * 1e-3
    array.flat[5] = np.nan
    array.flat[7] = 3.0
    parallel_json, parallel_rows = numtext.array_json(array), numtext.rows(array, ",")
    assert json.loads(parallel_json) == np.where(np.isfinite(array), array, None).tolist()
    assert parallel_rows == _reference_rows(array, ",")
    monkeypatch.setenv("JACCLI_NO_FORK", "1")
    assert numtext.array_json(array) == parallel_json
    assert numtext.rows(array, ",") == parallel_rows


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6), elements=floats),
       st.sampled_from([0.0, -0.0, 1.0, 5e-324, np.inf, np.nan]))
def test_rows_with_constant_columns(matrix, constant):
    matrix = np.column_stack([matrix, np.full(len(matrix), constant), matrix[:, :1]])
    matrix[:, 0] = matrix[0, 0]  # a constant column of whatever came first
    assert numtext.rows(matrix, ",") == _reference_rows(matrix, ",")


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=7),
                  elements=st.floats(-1e300, 1e300) | st.sampled_from([np.inf, -np.inf, np.nan, 0.0, -0.0])))
def test_symmetric_matrices_written_from_their_upper_triangle(matrix):
    n = min(matrix.shape)
    square = matrix[:n, :n]
    symmetric = np.where(np.triu(np.ones((n, n), bool)), square, square.T)  # exactly symmetric
    with pytest.MonkeyPatch.context() as patch:  # (Hypothesis cannot take the function-scoped fixture)
        patch.setattr(numtext, "SYMMETRIC_ENTRIES", 1)
        for candidate in (symmetric, square):
            expected = np.where(np.isfinite(candidate), candidate, None).tolist()
            assert json.loads(numtext.array_json(candidate)) == expected


def test_a_large_symmetric_matrix_on_two_processes():
    s = np.random.default_rng(1).dirichlet(np.ones(800))
    jac = np.diag(s) - np.outer(s, s)  # a softmax Jacobian: symmetric to the last bit
    assert numtext._symmetric(jac)
    assert json.loads(numtext.array_json(jac)) == jac.tolist()
    jac[3, 700] = np.nextafter(jac[3, 700], 1)  # one ulp off: no longer symmetric, still exact
    assert not numtext._symmetric(jac)
    assert json.loads(numtext.array_json(jac)) == jac.tolist()


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=floats),
       st.lists(st.integers(0, 5), max_size=4))
def test_rows_with_repeated_columns(matrix, copies):
    """Columns equal to an earlier one (a symmetric Jacobian's (i, j) and (j, i)) are written once, read twice."""
    matrix = np.column_stack([matrix] + [matrix[:, j % matrix.shape[1]] for j in copies])
    expected = "".join(" ".join(number(v) for v in row) + "\n" for row in matrix)
    assert numtext.rows(matrix) == expected


@pytest.mark.parametrize("fork", [True, False])
def test_a_long_array_in_slices_is_the_array_as_json(fork, monkeypatch):
    """The slices (the second half from a forked child) join to json.dumps of the list, NaN and inf as null."""
    if not fork:
        monkeypatch.setenv("JACCLI_NO_FORK", "1")
    rng = np.random.default_rng(7)
    array = rng.normal(size=numtext.STREAM_ENTRIES + 12_345) * 10.0 ** rng.integers(-300, 300, numtext.STREAM_ENTRIES
                                                                                       + 12_345)
    array[[5, 700_000, -3]] = [np.nan, np.inf, -np.inf]
    pieces = list(numtext.array_json_chunks(array))
    assert len(pieces) > 4  # in slices, not one string
    expected = json.dumps([v if np.isfinite(v) else None for v in array.tolist()])
    assert "".join(pieces) == expected


@pytest.mark.parametrize("fork", [True, False])
def test_a_long_column_in_slices_is_each_number_on_its_line(fork, monkeypatch):
    """Plain output of a long vector: the pieces (the second half from a forked child) join to render.number of
    each entry a line: integers without .0, -0.0 as 0, nan and infinities, a constant slice written once."""
    if not fork:
        monkeypatch.setenv("JACCLI_NO_FORK", "1")
    rng = np.random.default_rng(8)
    size = numtext.STREAM_ENTRIES + 4_321
    array = rng.normal(size=size) * 10.0 ** rng.integers(-300, 300, size)
    array[[5, 600_000, -3, 9, 10]] = [np.nan, np.inf, -np.inf, -0.0, 3.0]
    array[300_000:300_000 + 3 * (1 << 18)] = 2.5  # whole slices of one value
    pieces = list(numtext.column_chunks(array))
    assert len(pieces) > 2 and max(map(len, pieces)) < 8 << 20  # in slices, not one string of 24 MB
    assert "".join(pieces) == "".join(number(v) + "\n" for v in array.tolist())


def test_labels_made_on_demand_are_the_list_of_labels():
    from jaccli.labels import LAZY_ENTRIES, Labels, entry_labels

    for shape in [(LAZY_ENTRIES + 3,), (3, LAZY_ENTRIES // 2)]:
        labels = entry_labels("θ", shape)
        assert isinstance(labels, Labels)
        expected = [f"θ[{', '.join(map(str, index))}]" for index in np.ndindex(shape)]
        assert len(labels) == len(expected) and labels == expected
        assert labels[7] == expected[7] and labels[-1] == expected[-1] and labels[2:5] == expected[2:5]
        assert labels[::-7] == expected[::-7] and labels[-5:] == expected[-5:] and labels[3:3] == []
        assert "".join(labels.json_chunks()) == json.dumps(expected, ensure_ascii=False)


def test_long_runs_of_floats_are_written_exactly_as_repr_writes_them():
    # numtext._shortest hands long runs to orjson (Ryu) and undoes its two differences from repr; the reference is
    # repr itself, on random bit patterns (every magnitude, subnormals, NaN and infinities), normal numbers spread
    # over 10⁻¹² to 10¹⁸, and each side of every boundary where the two formats differ
    rng = np.random.default_rng(16)
    bits = rng.integers(0, 2**64, 400_000, dtype=np.uint64).view(np.float64)
    spread = rng.normal(size=400_000) * 10.0 ** rng.integers(-12, 19, 400_000)
    edges = []
    for edge in (1e-10, 1e-9, 1e-5, 1e-4, 1e15, 1e16, 1e17, 2.0**53, 5e-324, 2.2250738585072014e-308, 1.0):
        edges += [edge, np.nextafter(edge, 0), np.nextafter(edge, np.inf)]
    values = np.concatenate([bits, spread, edges, np.negative(edges), [0.0, -0.0, np.nan, np.inf, -np.inf]])
    assert values.size >= numtext.ORJSON_ENTRIES
    assert numtext._shortest(values) == [repr(v) for v in values.tolist()]
