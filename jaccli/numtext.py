"""Text for large float arrays, fast: JSON, and rows of numbers for plain and CSV output.

Printing a million floats costs far more than computing them. Python's ``json``
encoder writes every float with ``float.__repr__`` in C, so one ``json.dumps`` of
``tolist()`` is the fastest exact (shortest round-trip) formatter there is. Three
things keep the number of such conversions, and their wall time, down:

- each distinct float is written once where the structure says so: a symmetric
  matrix (softmax Jacobians, Hessians) by its upper triangle, a constant column
  of a batch (a structural zero) by one entry;
- rows are written column by column, one ``repr`` per float (which already
  says nan, inf and -inf as ``render.number`` does), and the few entries that
  need a touch (integers print as ``3``, not ``3.0``) are found by numpy, not
  by string replacement over the whole text;
- from a quarter million entries on, half of the work runs in a second process
  (``os.fork``, where it exists), which halves the wall time on two cores.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

PARALLEL_ENTRIES = 1 << 16  # from this size on, write on two processes (where os.fork exists): a --points chunk
# of 16,384 lines of 9 entries is past it, so smaller chunks (half the memory) keep the second core
SYMMETRIC_ENTRIES = 1 << 12  # from this size on, a symmetric matrix is written from its upper triangle
_EXACT_INTEGERS = 1e16  # below this, repr writes an integral float as "123.0"; from here on as "1e+16"


def array_json(array) -> str:
    """A float array as JSON (nested lists), every digit; NaN and infinity become null."""
    array = np.asarray(array, dtype=float)
    if array.ndim == 0:
        value = float(array)
        return json.dumps(value) if np.isfinite(value) else "null"
    if _symmetric(array):
        text = _symmetric_json(array)
    elif array.size >= PARALLEL_ENTRIES and len(array) > 1:
        half = len(array) // 2
        first, second = _two_ways(_json_items, array[:half], array[half:])
        text = "[" + first + ", " + second + "]"
    else:
        text = json.dumps(array.tolist())
    if not np.all(np.isfinite(array)):
        text = text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
    return text


STREAM_ENTRIES = 1 << 20  # a 1-D array from this size on is written in slices (array_json_chunks)
_SLICE_ENTRIES = 1 << 18


def array_json_chunks(array) -> Iterator[str]:
    """``array_json``'s text in pieces: a long 1-D array a slice at a time (never one string for all of it),
    its second half written meanwhile by a forked child into a temporary file."""
    array = np.asarray(array, dtype=float)
    if array.ndim != 1 or array.size < STREAM_ENTRIES:
        yield array_json(array)
        return
    half = array.size // 2
    theirs = _start_file(lambda write: _write_slices(array[half:], write, first=False))
    yield "["
    yield from _slices(array[:half], first=True)
    if theirs is None or not (yield from theirs()):
        yield from _slices(array[half:], first=False)
    yield "]"


def _slices(array: np.ndarray, first: bool) -> Iterator[str]:
    """The JSON items of ``array`` in slices, each but the very first after ", "."""
    for start in range(0, array.size, _SLICE_ENTRIES):
        text = _json_items(array[start:start + _SLICE_ENTRIES])
        if not np.all(np.isfinite(array[start:start + _SLICE_ENTRIES])):
            text = text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
        yield text if first and start == 0 else ", " + text


def _write_slices(array: np.ndarray, write: Callable[[bytes], object], first: bool) -> None:
    for text in _slices(array, first):
        write(text.encode())


def _start_file(work: Callable[[Callable[[bytes], object]], None]):
    """Run ``work(write)`` in a forked child that writes into an unnamed temporary file; None where there is no
    fork. The returned generator waits for the child and yields its text (returning True), or returns False if
    the child failed (the caller then does the work itself)."""
    if not hasattr(os, "fork") or os.environ.get("JACCLI_NO_FORK"):
        return None
    import tempfile

    try:
        handle = tempfile.TemporaryFile()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy's BLAS threads; the child only formats
            pid = os.fork()
    except OSError:  # no fork or no temporary file here: one process it is
        return None
    if pid == 0:  # the child: its text into the file, then gone without cleanup
        status = 1
        try:
            work(handle.write)
            handle.flush()
            status = 0
        finally:
            os._exit(status)

    def wait():
        with handle:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                return False
            handle.seek(0)
            while chunk := handle.read(1 << 22):
                yield chunk.decode()  # ASCII: a cut between two reads splits no character
        return True

    return wait


def column_chunks(values) -> Iterator[str]:
    """``rows`` of one column (one number a line) in pieces: a long vector a slice at a time, never one string
    or one list of strings for all of it (small, reused buffers: faster, and a tenth of the memory), its second
    half formatted meanwhile by a forked child into a temporary file."""
    values = np.asarray(values, dtype=float).reshape(-1) + 0.0  # -0.0 prints as 0, as in rows
    if values.size < STREAM_ENTRIES:
        yield rows(values[:, None])
        return
    half = values.size // 2
    theirs = _start_file(lambda write: [write(text.encode()) for text in _lines(values[half:])])
    yield from _lines(values[:half])
    if theirs is None or not (yield from theirs()):
        yield from _lines(values[half:])


def _lines(values: np.ndarray) -> Iterator[str]:
    for start in range(0, values.size, _SLICE_ENTRIES):
        part = values[start:start + _SLICE_ENTRIES]
        if part[0] == part[0] and np.all(part == part[0]):  # constant (and not NaN): one conversion
            yield (_texts(part[:1])[0] + "\n") * part.size
        else:
            yield "\n".join(_texts(part)) + "\n"


def rows(matrix, separator: str = " ", precision: int | None = None, lead: list[list[str]] | None = None,
         parallel: bool = True) -> str:
    """Each row of a 2-D float array as one line, like ``render.number`` prints each entry.

    ``lead``: columns of ready text (one string per row each) that start every line. ``parallel``: a large matrix
    may be formatted in two halves on two processes.
    """
    matrix = np.asarray(matrix, dtype=float) + 0.0  # -0.0 + 0.0 is 0.0: zero prints as 0, as render.number does
    lead = lead or []
    if matrix.size == 0 and not lead:
        return "\n" * len(matrix)
    if precision is not None:
        line = separator.join([f"%.{precision}g"] * matrix.shape[1])
        texts = [line % tuple(row) for row in matrix.tolist()]
        return "\n".join(map(separator.join, zip(*lead, texts)) if lead else texts) + "\n"
    if parallel and matrix.size >= PARALLEL_ENTRIES and len(matrix) > 1:
        half = len(matrix) // 2
        first, second = (matrix[:half], [c[:half] for c in lead]), (matrix[half:], [c[half:] for c in lead])
        return "".join(_two_ways(lambda part: _rows(part[0], separator, part[1]), first, second))
    return _rows(matrix, separator, lead)


def _rows(matrix: np.ndarray, separator: str, lead: list[list[str]]) -> str:
    points, width = matrix.shape
    columns: list = [None] * width
    varying = []
    first: dict[bytes, int] = {}  # a column's bytes -> the first column equal to it
    repeats: dict[int, int] = {}
    for j in range(width):
        column = matrix[:, j]
        if column[0] == column[0] and np.all(column == column[0]):  # constant (and not NaN): one conversion
            columns[j] = [_texts(column[:1])[0]] * points
            continue
        key = column.tobytes()  # equal columns (a symmetric Jacobian's (i, j) and (j, i)) are written once
        if key in first:
            repeats[j] = first[key]
        else:
            first[key] = j
            varying.append(j)
    if varying:
        texts = _texts(matrix[:, varying].T.ravel())  # column after column
        for k, j in enumerate(varying):
            columns[j] = texts[k * points:(k + 1) * points]
    for j, same in repeats.items():
        columns[j] = columns[same]
    if width == 1 and not lead:  # a vector, one number a line: no row tuples to build and join
        return "\n".join(columns[0]) + "\n"
    return "\n".join(map(separator.join, zip(*lead, *columns))) + "\n"


ORJSON_ENTRIES = 4096  # from this many floats on, orjson writes them (imported then: 11 ms, not at start-up)


def _shortest(values: np.ndarray) -> list[str]:
    """``repr`` of each float, to the character. From ``ORJSON_ENTRIES`` on, orjson writes them (Ryu: the same
    shortest round-trip digits, 20–30 times faster than repr's dtoa, which was half of a batch's or a long
    vector's time) and its two differences from repr are undone: it writes 1e-5 ≤ |v| < 1e-4 positionally
    (``0.00001``, repr: ``1e-05``) and a one-digit negative exponent without its 0 (``2.5e-7``, repr:
    ``2.5e-07``); NaN and infinities (orjson's ``null``) get repr's text. tests/test_numtext.py compares the two
    on millions of random bit patterns and every boundary."""
    if values.size < ORJSON_ENTRIES:
        return list(map(repr, values.tolist()))  # float.__repr__ in C, one string each (no join and split)
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency; without it, repr
        return list(map(repr, values.tolist()))
    flat = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    texts = orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii").split(",")
    size = np.abs(flat)
    with np.errstate(invalid="ignore"):
        own = np.flatnonzero(~np.isfinite(flat) | ((size >= 1e-5) & (size < 1e-4))).tolist()
        padded = np.flatnonzero((size >= 1e-9) & (size < 1e-5)).tolist()
    for i in padded:
        text = texts[i]
        if text[-2] == "-":  # e-7 -> e-07
            texts[i] = f"{text[:-1]}0{text[-1]}"
        else:  # pragma: no cover - not seen: repr's own text, whatever orjson wrote
            own.append(i)
    for i in own:
        texts[i] = repr(float(flat[i]))
    return texts


def _texts(values: np.ndarray) -> list[str]:
    """``render.number`` of each float: shortest round-trip text, integers without ".0", nan, inf, -inf."""
    texts = _shortest(values)
    with np.errstate(invalid="ignore"):
        integral = (values == np.trunc(values)) & (np.abs(values) < _EXACT_INTEGERS)
    for i in np.flatnonzero(integral).tolist():
        texts[i] = texts[i][:-2]
    return texts


def _symmetric(array: np.ndarray) -> bool:
    return (array.ndim == 2 and array.shape[0] == array.shape[1] and array.size >= SYMMETRIC_ENTRIES
            and np.array_equal(array, array.T))


def _symmetric_json(array: np.ndarray) -> str:
    """A symmetric matrix: its upper triangle written once, each text used for (i, j) and (j, i)."""
    n = len(array)
    upper = np.triu_indices(n)
    values = array[upper]
    half = values.size // 2 if values.size >= PARALLEL_ENTRIES else values.size
    theirs = _start(lambda: _json_items(values[half:])) if half < values.size else None
    if np.all(np.isfinite(values)):  # repr is JSON's text for finite floats, one string each
        texts = list(map(repr, values[:half].tolist()))
    else:
        texts = _json_items(values[:half]).split(", ")
    if half < values.size:
        texts += (theirs() if theirs is not None else _json_items(values[half:])).split(", ")
    grid = np.empty((n, n), dtype=object)
    texts = np.array(texts, dtype=object)
    grid[upper] = texts
    grid[upper[1], upper[0]] = texts
    return "[[" + "], [".join(map(", ".join, grid.tolist())) + "]]"


def _json_items(array: np.ndarray) -> str:
    """``json.dumps`` of the array without its outer brackets."""
    return json.dumps(array.tolist())[1:-1]


def _two_ways(work: Callable[[Any], str], first, second) -> tuple[str, str]:
    """``work(first)`` here and ``work(second)`` in a forked child at the same time; one process without fork."""
    theirs = _start(lambda: work(second))
    return work(first), (work(second) if theirs is None else theirs())


def _start(work: Callable[[], str]) -> Callable[[], str] | None:
    """Run ``work`` in a forked child now; the result waits for its text. None where there is no fork.

    If the child fails, waiting runs ``work`` here instead.
    """
    theirs = start_bytes(lambda: work().encode())
    return None if theirs is None else lambda: theirs().decode()


def start_bytes(work: Callable[[], bytes]) -> Callable[[], bytes] | None:
    """Run ``work`` in a forked child now, its bytes coming back through a pipe; the result waits for them.
    None where there is no fork (or ``JACCLI_NO_FORK`` is set). If the child fails, waiting runs ``work`` here.
    """
    if not hasattr(os, "fork") or os.environ.get("JACCLI_NO_FORK"):
        return None
    try:
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy's BLAS threads; the child only formats
            pid = os.fork()
    except OSError:  # no fork or no pipe here: one process it is
        return None
    if pid == 0:  # the child: its bytes, written to the pipe, then gone without cleanup
        status = 1
        try:
            os.close(read_end)
            data = memoryview(work())
            while data:
                data = data[os.write(write_end, data):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def wait() -> bytes:
        chunks = []
        while chunk := os.read(read_end, 1 << 20):
            chunks.append(chunk)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        return b"".join(chunks) if status == 0 else work()

    return wait
