"""Pictures of results: a heatmap of a matrix in the terminal, and plots of f and its derivatives.

The heatmap is drawn with rich (one character a cell, binned to fit): colour for the sign, the
character for the magnitude, a dot for an exact zero, so the sparsity and sign pattern of a
1000×1000 Jacobian show at a glance. Plots use plotext in the terminal and, for ``--output``
files, matplotlib (an optional extra, ``pip install 'jaccli[plot]'``).
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import JaccliError

# magnitude levels, relative to the largest |entry|: (character, at least this fraction of it)
LEVELS = (("█", 1e-1), ("▓", 1e-3), ("▒", 1e-6), ("░", 0.0))
ZERO, NOT_FINITE = "·", "?"
POSITIVE, NEGATIVE = "blue", "red"
MAX_PLOT_ORDER = 4  # f and its derivatives up to this order in one plot
PLOT_POINTS = 400  # where f is evaluated across --range
FILE_SIZE = (8.0, 5.0)  # inches, at 100 dpi: 800×500 pixels


# --- heatmap ----------------------------------------------------------------------------------------


def bins(count: int, room: int) -> list[tuple[int, int]]:
    """``count`` indices in at most ``room`` consecutive, near-equal bins: (start, stop) each."""
    room = max(1, min(room, count))
    edges = np.linspace(0, count, room + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def binned(matrix: np.ndarray, rows: int, columns: int) -> tuple[np.ndarray, list, list]:
    """Each bin's entry of largest magnitude (its sign kept; 0 only if every entry is 0; NaN if any is NaN)."""
    row_bins, column_bins = bins(matrix.shape[0], rows), bins(matrix.shape[1], columns)
    out = np.empty((len(row_bins), len(column_bins)))
    for i, (r0, r1) in enumerate(row_bins):
        for j, (c0, c1) in enumerate(column_bins):
            block = matrix[r0:r1, c0:c1]
            if not np.all(np.isfinite(block)):
                out[i, j] = np.nan
            else:
                flat = block.ravel()
                out[i, j] = flat[int(np.argmax(np.abs(flat)))]
    return out, row_bins, column_bins


def glyph(value: float, top: float) -> tuple[str, str]:
    """The character and style of one cell, for the largest magnitude ``top``."""
    if not math.isfinite(value):
        return NOT_FINITE, "bold yellow"
    if value == 0:
        return ZERO, "dim"
    share = abs(value) / top if top > 0 else 1.0
    char = next(c for c, least in LEVELS if share >= least)
    return char, POSITIVE if value > 0 else NEGATIVE


def heatmap(result, width: int = 80, height: int | None = None):
    """A rich renderable: the title, the matrix as one coloured character per (binned) entry, a legend."""
    from rich.console import Group
    from rich.text import Text

    if result.value is None:
        raise JaccliError("--format heatmap draws numbers: give a point with --at")
    matrix = np.asarray(result.matrix(result.value), dtype=float)
    labels = [result.rows[0], result.rows[-1]] if result.rows else [""]
    label_width = max(len(s) for s in labels) + 1
    columns = max(1, width - label_width - 1)
    rows = max(1, (height - 6) if height else 60)
    grid, row_bins, column_bins = binned(matrix, rows, columns)
    finite = np.abs(matrix[np.isfinite(matrix)])
    top = float(finite.max()) if finite.size else 0.0
    lines = [Text(result.title, style="bold")]
    for i, (r0, _) in enumerate(row_bins):
        label = result.rows[r0] if i in (0, len(row_bins) - 1) else ""
        line = Text(label.ljust(label_width), style="bold cyan")
        for value in grid[i]:
            char, style = glyph(float(value), top)
            line.append(char, style=style)
        lines.append(line)
    shape = f"{matrix.shape[0]}×{matrix.shape[1]}"
    if grid.shape != matrix.shape:
        shape += f", shown as {grid.shape[0]}×{grid.shape[1]} bins (each the entry of largest |value|)"
    legend = Text("", style="dim")
    legend.append(f"{shape}; max |entry| = {top:.6g}; ")
    for char, least in LEVELS:
        legend.append(char, style=POSITIVE)
        legend.append(f" ≥ {least:g}·max, " if least else " smaller, ")
    legend.append(f"{ZERO} exactly 0")
    if np.any(~np.isfinite(matrix)):
        legend.append(f", {NOT_FINITE} NaN or infinite")
    legend.append("; ")
    legend.append("blue", style=POSITIVE)
    legend.append(" positive, ")
    legend.append("red", style=NEGATIVE)
    legend.append(" negative")
    lines.append(legend)
    return Group(*lines)


# --- plots ------------------------------------------------------------------------------------------


def parse_range(text: str) -> tuple[float, float]:
    """``a,b`` with a < b, finite; values may be constants such as ``-pi`` (the same safe parser as --at)."""
    from .points import parse_values

    values = parse_values(text)
    if len(values) != 2:
        raise JaccliError(f"--range needs two values, a,b (e.g. --range -pi,pi), got {len(values)}")
    low, high = (float(v.array) for v in values)
    if not low < high:
        raise JaccliError(f"--range {text}: the start must be below the end")
    return low, high


def curves(expression: str, low: float, high: float, order: int, variables: list[str] | None = None,
           count: int = PLOT_POINTS) -> tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]:
    """The variable's name, the x values, and (label, values) for f, f', …, f^(order), from the engines."""
    from . import compute

    if not 0 <= order <= MAX_PLOT_ORDER:
        raise JaccliError(f"--order for a plot is between 0 and {MAX_PLOT_ORDER}, got {order}")
    problem = compute.Problem(expression, None, variables)
    names = problem.function.variables
    if len(names) != 1 or problem.shapes[names[0]] != ():
        raise JaccliError(f"plot draws a function of one number; this one has variables {', '.join(names) or 'none'}")
    if problem.root.shape != ():
        raise JaccliError(f"plot draws a scalar function; this one has {problem.root.size} outputs")
    name = names[0]
    xs = np.linspace(low, high, count)
    series = [("f", np.asarray(problem.ad.value({name: xs}), dtype=float).reshape(-1))]
    for k in range(1, order + 1):
        numbers = compute.derivative(expression, None, variables, order=k, many=True).numbers
        values, _ = numbers.at(xs[:, None])
        series.append(("f" + "'" * k if k <= 3 else f"f^({k})", np.asarray(values, dtype=float).reshape(-1)))
    return name, xs, series


def terminal_plot(title: str, name: str, xs: np.ndarray, series, width: int, height: int, color: bool) -> str:
    """The plot as text (plotext, braille markers), in ``width`` × ``height`` characters."""
    import plotext as plt

    # plotext's ticks overflow past about 1e154 (exp over [0, 709] ended in "cannot convert float infinity to
    # integer", exit 3): values that large are drawn divided by a power of ten, which the labels name
    xs, x_scale = _scaled(xs)
    ys_all = np.concatenate([ys for _, ys in series]) if series else np.zeros(0)
    _, y_scale = _scaled(ys_all)
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear" if not color else "pro")
    for label, ys in series:
        keep = np.isfinite(ys)
        if keep.any():
            plt.plot(xs[keep].tolist(), (ys[keep] / y_scale).tolist(),
                     label=label if y_scale == 1 else f"{label} ÷ {y_scale:.0e}", marker="braille")
    plt.title(title)
    plt.xlabel(name if x_scale == 1 else f"{name} ÷ {x_scale:.0e}")
    try:
        text = plt.build()
    except (OverflowError, ValueError, ZeroDivisionError) as exc:  # plotext's arithmetic on what is left
        raise JaccliError(f"cannot draw these values ({exc}): narrow --range") from None
    return text if color else plt.uncolorize(text)


def _scaled(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``values`` divided by a power of ten when their largest finite magnitude is beyond 1e100, and that power."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    if top <= 1e100:
        return values, 1.0
    scale = 10.0 ** math.floor(math.log10(top))
    return values / scale, scale


def file_plot(path: str, title: str, name: str, xs: np.ndarray, series) -> None:
    """The same plot as a PNG or SVG file, written whole or not at all (a temporary file, then renamed)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".png", ".svg"):
        raise JaccliError(f"--output {path}: a plot is written as .png or .svg")
    try:
        import matplotlib
    except ImportError:
        raise JaccliError("writing a plot to a file needs matplotlib: pip install 'jaccli[plot]'") from None
    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as pyplot

    figure, axes = pyplot.subplots(figsize=FILE_SIZE, dpi=100)
    for label, ys in series:
        axes.plot(xs, np.where(np.isfinite(ys), ys, np.nan), label=label)
    axes.set_title(title)
    axes.set_xlabel(name)
    axes.grid(True, alpha=0.3)
    if len(series) > 1:  # a legend for one curve is noise
        axes.legend()
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp{suffix}")
    try:
        figure.savefig(temporary, format=suffix[1:])
        os.replace(temporary, path)
    except OSError as exc:
        raise JaccliError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        pyplot.close(figure)
        if os.path.exists(temporary):
            os.unlink(temporary)
