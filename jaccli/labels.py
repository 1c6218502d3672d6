"""The labels of many entries (``x[0]`` … ``x[9999999]``) as a sequence made on demand, not a list of strings.

A label string costs about 60 bytes; for 10⁷ inputs the labels of the rows and of ``variables`` took more
memory than the numbers. ``Labels`` answers ``len``, indexing and iteration like the list it stands for, and
writes itself as JSON in slices.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence

import numpy as np

LAZY_ENTRIES = 1 << 16  # from this many entries on, labels are made on demand
_SLICE = 1 << 18  # labels per JSON slice


def entry_labels(name: str, shape: tuple[int, ...]) -> Sequence[str]:
    """``x[0]``, ``x[1]``, … (``x[0, 1]`` …) for every entry of an array named ``name``, row-major."""
    size = math.prod(shape)
    if size >= LAZY_ENTRIES:
        return Labels(name, shape)
    if len(shape) == 1:
        return [f"{name}[{i}]" for i in range(shape[0])]
    return [_label(name, index) for index in np.ndindex(shape)]


def _label(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, index))}]" if index else name


class Labels(Sequence):
    """The labels of the entries of one array, row-major; equal to the list of them."""

    def __init__(self, name: str, shape: tuple[int, ...]):
        self.name = name
        self.shape = tuple(shape)
        self.size = math.prod(self.shape)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self.size)
            if len(self.shape) == 1:
                return [f"{self.name}[{k}]" for k in range(start, stop, step)]
            # the indices of the whole slice at once (np.unravel_index per entry took 5 µs each)
            columns = [c.tolist() for c in np.unravel_index(np.arange(start, stop, step), self.shape)]
            return [f"{self.name}[{', '.join(map(str, index))}]" for index in zip(*columns)]
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(i)
        if len(self.shape) == 1:
            return f"{self.name}[{i}]"
        return _label(self.name, tuple(int(k) for k in np.unravel_index(i, self.shape)))

    def __iter__(self) -> Iterator[str]:
        if len(self.shape) == 1:
            return (f"{self.name}[{i}]" for i in range(self.size))
        return (_label(self.name, index) for index in np.ndindex(self.shape))

    def __eq__(self, other) -> bool:
        if isinstance(other, Labels):
            return (self.name, self.shape) == (other.name, other.shape)
        return isinstance(other, Sequence) and not isinstance(other, str) and list(self) == list(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Labels({self.name!r}, {self.shape})"

    def json_chunks(self) -> Iterator[str]:
        """The JSON list of the labels, in slices of text."""
        yield "["
        for start in range(0, self.size, _SLICE):
            stop = min(self.size, start + _SLICE)
            if len(self.shape) == 1:  # a name is an identifier: no JSON escaping needed
                prefix = f'"{self.name}['
                text = prefix + ("]\", " + prefix).join(map(str, range(start, stop))) + ']"'
            else:
                text = json.dumps(self[start:stop], ensure_ascii=False)[1:-1]
            yield text if start == 0 else ", " + text
        yield "]"
