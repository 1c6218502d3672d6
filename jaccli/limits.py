"""Resource limits checked on sizes, before the work or the allocation; each message names its limit.

The README's limits table lists every one. The maths modules keep their own constants for what only they
can measure (expression length and depth, differentiation work); these are the limits on shapes and reads.
"""

from __future__ import annotations

import math
import os
import stat

from .errors import LimitError

MAX_INPUT_BYTES = 256 * 1024 * 1024  # one --at/--v/logits read from @file or stdin
MAX_EXPRESSION_BYTES = 4 * 1024 * 1024  # EXPR read from @file or stdin: 1 000 000 characters of UTF-8 fit in 4 MiB
MAX_BRACKETED_CHARS = 1_000_000  # a bracketed point: parsed by ast, so kept to a size that parses in ~1 s
MAX_LINE_BYTES = 1024 * 1024  # one line of --points
MAX_DIMENSIONS = 16  # axes of one variable (--shape x=2x2x…, or nested brackets)
MAX_INPUT_ENTRIES = 10**7  # entries of one variable given by --shape (a point's own size is its read limit)
MAX_SYMBOLIC_INPUTS = 100_000  # input values on the symbolic path
MAX_DENSE_ENTRIES = 1_000_000  # a dense Jacobian m·n or Hessian n·n, on every path
MAX_BATCH_ENTRIES = 10**7  # result entries of one chunk of --points lines held at once
MAX_SYMBOLIC_EXTREMES = 6  # entries of one min()/max() given to sympy at a point (beyond: numbers without formula)
MAX_DIGITS = 1000  # --digits N: significant digits printed from the exact formula
# --exact: the integers of an exact value (numerator, denominator, …), in decimal digits; Python itself refuses
# to write an integer of more than 4300 (sys.get_int_max_str_digits), and such a value is no use on a screen
MAX_EXACT_DIGITS = 4000
EXACT_SECONDS = 10.0  # --exact: the exact values at the point, simplified (budget.py: a child process, ended)
# verifying a result at a point to the last digit (accuracy.py), checked between evaluations; CPU seconds of this
# process, so that what is verified does not depend on how busy the machine is
VERIFY_SECONDS = 10.0
# the numeric path (no formula) at one point: the derivative's graph evaluated again in mpmath numbers at the point as
# typed (accuracy.multi_precision), when each precision's evaluation makes at most MULTI_WORK entries (a node of 70
# entries evaluated for 70 seeds: 4900; about 2.3 µs each, perturbation included: 0.23 s a precision at the limit),
# within MULTI_SECONDS of CPU for all precisions. A 70×70 Hessian of sum(sin(x)*x) makes 51 000; the gradient of an
# elementwise sum at 10⁴ points 140 000 (0.64 s for two precisions: past the limit, so bench/run.py's "wide
# elementwise" row keeps its float64 and estimate)
MULTI_WORK = 100_000
MULTI_SECONDS = 2.0


def in_bytes(size: int) -> str:
    """A limit for a message: ``256 MiB``, ``1 MiB``, or bytes when smaller."""
    return f"{size >> 20} MiB" if size >= 1 << 20 and size % (1 << 20) == 0 else f"{size} bytes"


def regular_size(handle) -> int:
    """The size of an open regular file, or 0 for a pipe, a device or a terminal (read them up to the limit)."""
    try:
        info = os.fstat(handle.fileno())
    except (OSError, ValueError):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def check_shape(name: str, shape: tuple[int, ...], where: str = "--shape") -> None:
    """Refuse a variable shape with too many axes or entries, before any array or label is made."""
    if len(shape) > MAX_DIMENSIONS:
        raise LimitError(f"{where} {name}: {len(shape)} dimensions; the limit is {MAX_DIMENSIONS}")
    entries = math.prod(shape)
    if entries > MAX_INPUT_ENTRIES:
        raise LimitError(f"{where} {name}: {entries} entries; the limit is {MAX_INPUT_ENTRIES:.0e} per variable")


def check_symbolic_inputs(total: int) -> None:
    """The symbolic path's input limit, from the shapes alone (before labels or sympy symbols exist)."""
    if total > MAX_SYMBOLIC_INPUTS:
        raise LimitError(f"{total} input values are too many for symbolic differentiation "
                         f"(limit {MAX_SYMBOLIC_INPUTS})")


def check_dense(rows: int, columns: int, what: str = "Jacobian") -> None:
    """Refuse a dense m×n result beyond MAX_DENSE_ENTRIES, from the sizes alone."""
    if rows * columns > MAX_DENSE_ENTRIES:
        products = "'jaccli vjp' or 'jaccli jvp'" if what == "Jacobian" else "'jaccli hvp'"
        raise LimitError(f"the {what} would have {rows}×{columns} = {rows * columns} entries; the limit is "
                         f"{MAX_DENSE_ENTRIES}: use {products} for products with it, or fewer inputs")


MAX_SYMBOLIC_SIZE = 300_000  # nodes over arrays × their entries, before sympy builds them (calculus.MAX_WORK)


def symbolic_size(root) -> int:
    """An estimate, from the IR's shapes alone, of the size of the expression sympy would build: the entries of
    every node (``sum(sin(x)*cos(x))`` with 90,000 entries is about 360,000)."""
    from .ir import topological

    return sum(node.size for node in topological([root]))


def check_symbolic_size(root, inputs: int) -> None:
    """Refuse, before lowering, an expression whose symbolic form would take minutes to build and differentiate
    (``root``: its IR; ``inputs``: the number of input values)."""
    check_symbolic_inputs(inputs)
    from .ir import shape_text, topological

    for node in topological([root]):
        if node.size > MAX_SYMBOLIC_INPUTS:
            raise LimitError(f"an intermediate array of shape {shape_text(node.shape)} has {node.size} entries, "
                             f"too many for symbolic differentiation (limit {MAX_SYMBOLIC_INPUTS})")
    size = symbolic_size(root)
    if size > MAX_SYMBOLIC_SIZE:
        raise LimitError(f"the expression is too large to differentiate symbolically (about {size} nodes over "
                         f"its array entries; the limit is {MAX_SYMBOLIC_SIZE}); give a point (--at) for numbers, "
                         "or use fewer or smaller variables")


def check_digits(count: int) -> None:
    """--digits between 1 and MAX_DIGITS."""
    if not 1 <= count <= MAX_DIGITS:
        raise LimitError(f"--digits {count}: give 1 to {MAX_DIGITS} significant digits")
