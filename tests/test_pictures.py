"""Pictures: the heatmap of a matrix result, and plots of f and its derivatives (terminal and files)."""

from __future__ import annotations

import builtins
import math
import re

import numpy as np
import pytest

from jaccli import compute, pictures


def _cells(line) -> list[tuple[str, str]]:
    """(character, style) of each cell of a heatmap line, after its label."""
    text = line.plain
    out = []
    for k, char in enumerate(text):
        if char in "█▓▒░·?":
            styles = [str(span.style) for span in line.spans if span.start <= k < span.end]
            out.append((char, styles[-1] if styles else ""))
    return out


def test_softmax_jacobian_heatmap_shows_the_sign_pattern():
    # diag(s) − s sᵀ: positive on the diagonal, negative elsewhere (the refresher's observation)
    result = compute.jacobian("softmax(x)", ["-1.3,0.5,2.1"])
    group = pictures.heatmap(result, width=80)
    lines = group.renderables[1:4]
    for i, line in enumerate(lines):
        cells = _cells(line)
        assert len(cells) == 3
        for j, (char, style) in enumerate(cells):
            assert style == ("blue" if i == j else "red"), (i, j, style)
            assert char != "·"
    legend = group.renderables[-1].plain
    assert "3×3" in legend and "exactly 0" in legend and "positive" in legend and "negative" in legend


def test_magnitudes_and_exact_zeros():
    value = np.array([[1.0, 1e-2, 0.0], [1e-5, 1e-9, -1.0]])
    assert [pictures.glyph(v, 1.0)[0] for v in value.ravel()] == ["█", "▓", "·", "▒", "░", "█"]
    assert pictures.glyph(-1.0, 1.0)[1] == "red" and pictures.glyph(1e-9, 1.0)[1] == "blue"
    assert pictures.glyph(float("nan"), 1.0)[0] == "?"


def test_a_large_jacobian_is_binned_to_fit_and_keeps_its_sparsity(run, tmp_path):
    (tmp_path / "x").write_text(",".join(["1"] * 1000))
    code, out, _ = run("jacobian", "x*2", "--at", f"@{tmp_path / 'x'}", "--format", "heatmap")
    assert code == 0
    rows = [line for line in out.splitlines() if "█" in line or "·" in line][:-1]  # the legend is last
    assert 1 < len(rows) <= 60
    width = max(len(line.split(" ")[-1]) for line in rows)
    assert width <= 80
    for line in rows:  # 2·I: a band of █ down the diagonal, exact zeros everywhere else
        cells = line[-width:] if len(line) >= width else line
        assert set(cells.strip()) <= {"█", "·"} and "█" in cells
    assert "1000×1000, shown as" in out and "largest |value|" in out


def test_bins_cover_every_index_once():
    for count, room in [(1000, 77), (10, 20), (7, 3), (1, 1)]:
        covered = [i for start, stop in pictures.bins(count, room) for i in range(start, stop)]
        assert covered == list(range(count))
        assert len(pictures.bins(count, room)) == min(count, room)


def test_heatmap_needs_numbers(run):
    code, _, err = run("jacobian", "[x*y, x]", "--format", "heatmap")
    assert code == 2 and "give a point with --at" in err


def test_heatmap_is_not_for_many_points(run):
    code, _, err = run("jacobian", "x*y", "--points", "-", "--format", "heatmap", input="1 2\n")
    assert code == 2 and "heatmap" in err


def test_terminal_plot_of_sine_and_its_derivatives(run):
    code, out, err = run("plot", "sin(x)", "--range", "0,pi", "--order", "2")
    assert code == 0, err
    assert "\x1b[" not in out  # not a terminal: no colour codes
    assert "f = sin(x) and its derivatives" in out
    for label in ("f", "f'", "f''"):
        assert re.search(rf"\b{re.escape(label)}(\s|$)", out), label
    ticks = [float(t) for t in re.findall(r"^\s*(-?\d+\.\d+)┤", out, re.MULTILINE)]
    assert min(ticks) == pytest.approx(-1.0, abs=0.01) and max(ticks) == pytest.approx(1.0, abs=0.01)


def test_the_curves_are_the_function_and_its_derivatives():
    name, xs, series = pictures.curves("x**3 - x", -2, 2, 3)
    assert name == "x" and [label for label, _ in series] == ["f", "f'", "f''", "f'''"]
    np.testing.assert_allclose(series[0][1], xs**3 - xs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(series[1][1], 3 * xs**2 - 1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(series[2][1], 6 * xs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(series[3][1], 6.0)


def test_png_plot_draws_f_where_f_is(run, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "sin.png"
    code, _, err = run("plot", "sin(x)", "--range", "0,2*pi", "--order", "0", "-o", str(path))
    assert code == 0, err
    pixels = image.imread(path)
    assert pixels.shape[:2] == (500, 800)  # 8×5 inches at 100 dpi
    blue = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's first colour: the curve of f
    hits = np.all(np.abs(pixels[..., :3] - blue) < 0.08, axis=-1)
    columns = np.flatnonzero(hits.any(axis=0))
    heights = np.array([-np.mean(np.flatnonzero(hits[:, c])) for c in columns])  # up is larger
    xs = 2 * math.pi * (columns - columns.min()) / (columns.max() - columns.min())  # the curve spans the range
    assert np.corrcoef(heights, np.sin(xs))[0, 1] > 0.99  # the curve's pixels trace sin


def test_svg_plot_and_no_stray_files(run, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "tanh.svg"
    code, _, err = run("plot", "tanh(x)", "--range", "-3,3", "-o", str(path))
    assert code == 0, err
    assert "<svg" in path.read_text()[:2000]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tanh.svg"]


def test_a_plot_file_without_matplotlib_names_the_extra(run, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code, _, err = run("plot", "sin(x)", "--range", "0,1", "-o", str(tmp_path / "f.png"))
    assert code == 2 and "pip install 'jaccli[plot]'" in err
    assert not (tmp_path / "f.png").exists()


@pytest.mark.parametrize(("args", "fragment"), [
    (["x*y", "--range", "0,1"], "a function of one number"),
    (["[x, x**2]", "--range", "0,1"], "a scalar function"),
    (["sin(x)", "--range", "1,0"], "start must be below the end"),
    (["sin(x)", "--range", "1"], "two values"),
    (["sin(x)", "--range", "0,1", "--order", "9"], "between 0 and 4"),
    (["sin(x)", "--range", "0,1", "-o", "f.gif"], ".png or .svg"),
])
def test_plot_errors_are_one_line(run, args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run("plot", *args)
    assert code == 2 and err.startswith("Error: ") and fragment in err
