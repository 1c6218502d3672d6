"""The one value every command produces and every output format renders."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Panel:
    """A labelled grid shown above the main table (e.g. the logits, or J_F of a chain): table format only.

    The same numbers reach JSON through ``Result.extra``; a panel only says how a table shows them.
    """

    title: str
    rows: list[str]
    columns: list[str]
    values: np.ndarray  # rows x columns


@dataclass
class Result:
    """A computed derivative: numbers (or None without a point), symbolic entries, labels.

    ``value`` and ``symbolic`` have shape ``shape``; ``rows`` x ``columns`` label the
    2-D view a table shows (``shape`` flattened to that many rows and columns).
    ``variables`` and ``point`` are the flattened inputs, entry for entry.
    """

    command: str
    expression: str
    shape: tuple[int, ...]
    rows: list[str]
    columns: list[str]
    variables: list[str] = field(default_factory=list)
    point: np.ndarray | None = None
    value: np.ndarray | None = None
    symbolic: np.ndarray | None = None  # object array of sympy expressions
    exact: np.ndarray | None = None  # object array of exact sympy numbers (--exact), shape ``shape``
    digits: np.ndarray | None = None  # object array of decimal strings (--digits N), shape ``shape``
    as_typed: np.ndarray | None = field(default=None, repr=False)  # ``symbolic`` with literals as typed (0.1 = 1/10)
    exact_point: dict | None = field(default=None, repr=False)  # each symbol -> its value as typed (for --digits)
    # the end of the run's one verification budget (process CPU time), shared by J, --det and --eig
    verify_deadline: float | None = field(default=None, repr=False)
    title: str = ""
    value_title: str = ""  # heading of the main table when panels come before it
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # command-specific JSON keys, in order
    symbols: dict | None = field(default=None, repr=False)  # variable name -> its sympy symbols (for --emit)
    panels: list[Panel] = field(default_factory=list)  # shown above the main table
    summary: list[str] = field(default_factory=list)  # lines under the table (det J = r, eigenvalues, …)
    notes: list[str] = field(default_factory=list)  # said on stderr as "Note: …" in every format (no exit status)
    failed: bool = False  # a self-check disagreed (e.g. chain rule vs direct gradient): exit 1
    numbers: object = field(default=None, repr=False)  # compute.Numbers: how the numbers are computed at points

    @property
    def finite(self) -> bool:
        return self.value is None or bool(np.all(np.isfinite(self.value)))

    @property
    def exit_code(self) -> int:
        """0, or 1 when the value is not finite, a self-check failed or --check disagreed (printed anyway)."""
        return 0 if self.finite and not self.failed and self.extra.get("ok", True) else 1

    def matrix(self, array: np.ndarray) -> np.ndarray:
        """``array`` (of shape ``shape``) as the rows x columns grid of the table."""
        return np.asarray(array).reshape(len(self.rows), len(self.columns))
