"""Text for large float arrays, fast: JSON, and rows of numbers for plain and CSV output.

Printing a million floats costs far more than computing them. Python's ``json``
encoder writes every float with ``float.__repr__`` in C, so one ``json.dumps`` of
``tolist()`` is the fastest exact (shortest round-trip) formatter there is; its
text is then reshaped with a few ``str.replace`` calls. Arrays of a quarter
million entries or more are encoded in two halves on two processes (``os.fork``),
which halves the wall time of the dominant step on a two-core machine.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

PARALLEL_ENTRIES = 1 << 18  # from this size on, encode on two processes (where os.fork exists)


def array_json(array) -> str:
    """A float array as JSON (nested lists), every digit; NaN and infinity become null."""
    array = np.asarray(array, dtype=float)
    if array.ndim == 0:
        value = float(array)
        return json.dumps(value) if np.isfinite(value) else "null"
    text = _encode(array)
    if not np.all(np.isfinite(array)):
        text = text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
    return text


def rows(matrix, separator: str = " ", precision: int | None = None) -> str:
    """Each row of a 2-D float array as one line, like ``render.number`` prints each entry."""
    matrix = np.asarray(matrix, dtype=float) + 0.0  # -0.0 + 0.0 is 0.0: zero prints as 0, as render.number does
    if matrix.size == 0:
        return "\n" * len(matrix)
    if precision is not None:
        line = separator.join([f"%.{precision}g"] * matrix.shape[1])
        return "\n".join(line % tuple(row) for row in matrix.tolist()) + "\n"
    text = _encode(matrix)[2:-2].replace("], [", "\n").replace(".0, ", ", ").replace(".0\n", "\n")
    if text.endswith(".0"):  # the last entry; every "." here is a decimal point, so no other match
        text = text[:-2]
    if separator != ", ":
        text = text.replace(", ", separator)
    if not np.all(np.isfinite(matrix)):
        text = text.replace("-Infinity", "-inf").replace("Infinity", "inf").replace("NaN", "nan")
    return text + "\n"


def _encode(array: np.ndarray) -> str:
    """``json.dumps(array.tolist())``, on two processes when the array is large."""
    if array.size >= PARALLEL_ENTRIES and len(array) > 1 and hasattr(os, "fork") \
            and not os.environ.get("JACCLI_NO_FORK"):
        try:
            return _encode_in_halves(array)
        except OSError:
            pass  # no fork or no pipe here: one process it is
    return json.dumps(array.tolist())


def _encode_in_halves(array: np.ndarray) -> str:
    half = len(array) // 2
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy's BLAS threads; the child only encodes
        pid = os.fork()
    if pid == 0:  # the child: the second half, written to the pipe, then gone without cleanup
        status = 1
        try:
            os.close(read_end)
            data = memoryview(json.dumps(array[half:].tolist())[1:-1].encode())
            while data:
                data = data[os.write(write_end, data):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    first = json.dumps(array[:half].tolist())[1:-1]
    chunks = []
    while chunk := os.read(read_end, 1 << 20):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        second = json.dumps(array[half:].tolist())[1:-1]
    else:
        second = b"".join(chunks).decode()
    return "[" + first + ", " + second + "]"
