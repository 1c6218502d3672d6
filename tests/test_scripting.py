"""Shell use: --points batches, every format, --exact, --output (issue: scripting)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from jaccli import numtext
from jaccli.cli import app


def test_hundred_thousand_lines_in_order_each_matching_the_closed_form(tmp_path):
    # The pipeline: seq 1 100000 | awk '{print $1/100000", "$1/50000}' | jaccli ... --format csv
    i = np.arange(1, 100_001)
    x, y = i / 100000, i / 50000
    lines = "\n".join(f"{a!r}, {b!r}" for a, b in zip(x.tolist(), y.tolist())) + "\n"
    out = subprocess.run([sys.executable, "-m", "jaccli", "jacobian", "[x*y, x+y]", "--points", "-", "--format", "csv"],
                         input=lines, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert rows[0] == "x,y,df0/dx,df0/dy,df1/dx,df1/dy"
    assert len(rows) == 100_001
    table = np.array([row.split(",") for row in rows[1:]], dtype=float)
    np.testing.assert_array_equal(table[:, 0], x)
    np.testing.assert_array_equal(table[:, 1], y)
    np.testing.assert_array_equal(table[:, 2:], np.column_stack([y, x, np.ones_like(x), np.ones_like(x)]))


def test_batch_rows_match_single_point_results(runner):
    points = ["0.5 1.5", "-2,3.25", "1e-3 7"]
    batch = runner.invoke(app, ["jacobian", "[sin(x)*y, x/y]", "--points", "-", "--format", "plain"],
                          input="\n".join(points) + "\n")
    assert batch.exit_code == 0
    for line, point in zip(batch.stdout.splitlines(), points):
        single = runner.invoke(app, ["jacobian", "[sin(x)*y, x/y]", "--at", point.replace(" ", ","),
                                     "--format", "json"])
        # a batch row is float64 arithmetic; --at is the exact value correctly rounded: a few ulps apart at most
        np.testing.assert_allclose([float(v) for v in line.split()], np.ravel(json.loads(single.stdout)["value"]),
                                   rtol=4 * np.finfo(float).eps, atol=0)


def test_json_lines_one_object_per_point(runner):
    result = runner.invoke(app, ["gradient", "x*y**2", "--points", "-", "--format", "json"], input="1 2\n3 4\n")
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert docs == [{"point": [1, 2], "value": [4, 4]}, {"point": [3, 4], "value": [16, 24]}]


def test_header_maps_columns_comments_and_blank_lines_are_skipped(runner):
    text = "# spherical\ny,x\n\n2 1\n# note\n4,3\n"
    result = runner.invoke(app, ["gradient", "x*y**2", "--points", "-"], input=text)
    assert result.stdout == "4 4\n16 24\n"  # x=1, y=2 then x=3, y=4


def test_bad_line_is_exit_2_with_its_number(runner):
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-"], input="1 2\n\n1 2 3\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: line 3: expected 2 values (x, y), got 3")
    assert result.stdout == "2 1\n"  # the good lines before it are still printed


def test_a_bad_line_after_many_chunks_keeps_every_line_before_it_in_order(runner):
    # chunks of 16 384 lines are written out by a forked child while the next is computed (cli._batch_text): the
    # ones before the bad line must all arrive, in order, before the error
    x = np.arange(1, 40_001) / 7
    text = "\n".join(map(repr, x.tolist())) + "\n1 2\n3\n"
    result = runner.invoke(app, ["derivative", "x**2", "--points", "-"], input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: line 40001: expected 1 value (x), got 2")
    np.testing.assert_array_equal(np.array(result.stdout.split(), dtype=float), 2 * x)  # d/dx x² = 2x, exact


@pytest.mark.parametrize("bad, message", [("abc 1", "value 1 is not a number"), ("nan 1", "NaN and infinity")])
def test_skip_bad_skips_with_a_warning_and_keeps_the_rest(runner, bad, message):
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-", "--skip-bad"], input=f"1 2\n{bad}\n3 4\n")
    assert result.exit_code == 0
    assert result.stdout == "2 1\n4 3\n"
    assert f"Warning: line 2 skipped: {message}" in result.stderr


def test_batch_with_a_lone_array_variable(runner):
    result = runner.invoke(app, ["gradient", "sum(x**2)", "--points", "-"], input="1 2 3\n4 5 6\n")
    assert result.stdout == "2 4 6\n8 10 12\n"


def test_batch_not_finite_exits_1(runner):
    result = runner.invoke(app, ["derivative", "log(x)", "--points", "-"], input="1\n0\n")
    assert result.exit_code == 1
    assert result.stdout == "1\ninf\n"


def test_points_and_at_together_is_an_error(runner):
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-", "--at", "1,2"], input="1 2\n")
    assert result.exit_code == 2 and "not both" in result.stderr


def test_exact_mode(runner):
    result = runner.invoke(app, ["jacobian", "[sin(x)*y, x+y]", "--at", "pi/3,1/2", "--exact", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["exact"] == [["1/4", "sqrt(3)/2"], ["1", "1"]]
    assert doc["value"][0] == pytest.approx([0.25, math.sqrt(3) / 2], rel=1e-15)
    plain = runner.invoke(app, ["derivative", "sin(x)", "--at", "pi/3", "--exact"])
    assert plain.stdout == "1/2\n"
    decimals = runner.invoke(app, ["derivative", "0.1*x**3", "--at", "0.1", "--exact"])
    assert decimals.stdout == "3/1000\n"  # 0.1 read as 1/10, not as the double nearest it


def test_exact_needs_a_point(runner):
    result = runner.invoke(app, ["derivative", "sin(x)", "--exact"])
    assert result.exit_code == 2 and "--exact needs a point" in result.stderr


def test_csv_format_single_point(runner):
    result = runner.invoke(app, ["jacobian", "[x*y, x+y]", "--at", "2,3", "--format", "csv"])
    assert result.stdout == ",x,y\nf₀,3,2\nf₁,1,1\n"


def test_latex_format_numeric_and_symbolic(runner):
    result = runner.invoke(app, ["jacobian", "x*2", "--at", "1,1", "--format", "latex"])
    assert result.stdout == "\\begin{bmatrix}\n  2 & 0 \\\\\n  0 & 2\n\\end{bmatrix}\n"
    result = runner.invoke(app, ["hessian", "x**2*y", "--format", "latex"])
    assert result.stdout == "\\begin{bmatrix}\n  2 y & 2 x \\\\\n  2 x & 0\n\\end{bmatrix}\n"


def test_output_file(runner, tmp_path):
    path = tmp_path / "out.json"
    result = runner.invoke(app, ["derivative", "x**2", "--at", "3", "--format", "json", "--output", str(path)])
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(path.read_text())["value"] == 6.0


def test_no_color_and_pipes_have_no_escape_codes(runner):
    result = runner.invoke(app, ["jacobian", "x*2", "--at", "1,-1", "--format", "table"], env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout


def test_emit_numpy_code_runs_and_matches_the_closed_form(runner):
    result = runner.invoke(app, ["jacobian", "[r*cos(t), r*sin(t)]", "--vars", "r,t", "--emit", "numpy"])
    assert result.exit_code == 0
    namespace: dict = {}
    exec(compile(result.stdout, "<generated>", "exec"), namespace)  # our own generated code, not user text
    r, t = 2.0, 0.5
    expected = [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)]]
    np.testing.assert_allclose(namespace["jacobian"](r, t), expected, rtol=1e-15)


def test_emit_c_compiles(runner, tmp_path):
    import shutil

    if not shutil.which("cc"):
        pytest.skip("no C compiler")
    result = runner.invoke(app, ["gradient", "sum(sigmoid(x)*softplus(x))", "--shape", "x=3", "--emit", "c"])
    source = tmp_path / "grad.c"
    source.write_text(result.stdout)
    subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-c", str(source), "-o", str(tmp_path / "grad.o")],
                   check=True, timeout=60)


def test_emit_rejects_unknown_language_and_points(runner):
    assert runner.invoke(app, ["jacobian", "x", "--emit", "fortran"]).exit_code == 2
    result = runner.invoke(app, ["jacobian", "x", "--emit", "c", "--points", "-"], input="1\n")
    assert result.exit_code == 2 and "--emit" in result.stderr


def test_a_closed_pipe_ends_quietly_with_exit_0(tmp_path):
    points = tmp_path / "points.txt"
    points.write_text("".join(f"{i}, {i + 1}\n" for i in range(200_000)))
    producer = subprocess.Popen([sys.executable, "-m", "jaccli", "jacobian", "[x*y, x+y]", "--points", str(points),
                                 "--format", "csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert producer.stdout.readline().startswith("x,y,")
    producer.stdout.close()  # like `| head -1`
    assert producer.wait(timeout=120) == 0
    assert producer.stderr.read() == ""


def test_csv_repeats_each_point_as_written(run):
    # a header in another order, a comment, a blank line, commas and spaces, and a bad line skipped
    text = "y, x\n2, 1.0  # first\n\n4 0.50\n1e1,oops\n-0.0,+3\n"
    for precision in ([], ["--precision", "3"]):
        code, out, err = run("jacobian", "[x*y, x+y]", "--points", "-", "--format", "csv", "--skip-bad",
                             *precision, input=text)
        assert code == 0 and "line 5 skipped" in err
        rows = [line.split(",") for line in out.splitlines()]
        assert rows[0] == ["x", "y", "df0/dx", "df0/dy", "df1/dx", "df1/dy"]
        assert [row[:2] for row in rows[1:]] == [["1.0", "2"], ["0.50", "4"], ["+3", "-0.0"]]
        assert [[float(v) for v in row[2:]] for row in rows[1:]] == [[2, 1, 1, 1], [4, 0.5, 1, 1], [0, 3, 1, 1]]


def test_csv_point_text_survives_the_two_process_split(run):
    n = 70_000  # 70,000 × 4 results: written on two processes
    assert n * 4 >= numtext.PARALLEL_ENTRIES
    lines = [f"{i / 7!r} {i}.00" for i in range(n)]
    code, out, _ = run("jacobian", "[x*y, x+y]", "--points", "-", "--format", "csv", input="\n".join(lines) + "\n")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == n
    assert [row.split(",")[:2] for row in rows] == [line.split() for line in lines]
    x, y = np.arange(n) / 7, np.arange(float(n))
    table = np.array([row.split(",")[2:] for row in rows], dtype=float)
    np.testing.assert_array_equal(table, np.column_stack([y, x, np.ones_like(x), np.ones_like(x)]))
