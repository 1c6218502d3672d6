"""Reading --at, --v and --points: caps that refuse instead of cutting, BOMs, bad bytes, long lines, wide
headers, bracketed points in linear time, and errors that never echo what a file holds (issue 14)."""

from __future__ import annotations

import ast
import io

import numpy as np
import pytest

from jaccli import batch, limits, points
from jaccli.cli import app
from jaccli.errors import JaccliError, LimitError

SECRET = "root:$6$s3cr3t:19000:0:99999:7:::"


# --- --points: chunks, headers, bytes, lines -----------------------------------------------------------


@pytest.mark.parametrize(("text", "skip", "stdout", "code", "fragment"), [
    ("1,abc\n1,2\n", False, "", 2, "Error: line 1: value 2 is not a number"),  # the first chunk has no good row
    ("1,abc\n1,2\n", True, "2\n1\n".replace("\n", " ", 1), 0, "Warning: line 1 skipped"),
    ("a,b\nc,d\n", True, "", 2, "header names a, b"),
    ("1,a\nc,d\n", True, "", 0, "Warning: line 2 skipped: value 1 is not a number"),  # every line bad
    ("\ufeffx,y\n1,2\n", False, "2 1\n", 0, ""),  # Excel's UTF-8 BOM before the header
    ("\ufeff1,2\n", False, "2 1\n", 0, ""),  # and before a number
    ("x,x,y\n1,2,3\n", False, "", 2, "Error: line 1: the header names x more than once"),
    ("y,x\n2,1\n", False, "2 1\n", 0, ""),
    ("1,2\r\n3,4\r\n", False, "2 1\n4 3\n", 0, ""),
])
def test_batches_that_were_internal_errors(run, text, skip, stdout, code, fragment):
    got_code, out, err = run("gradient", "x*y", "--points", "-", *(["--skip-bad"] if skip else []), input=text)
    assert got_code == code, err
    assert out == stdout
    assert fragment in err and "internal error" not in err


def test_invalid_utf8_stops_after_the_good_lines(run, tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"1,2\n3,4\n\xff\xfe,1\n5,6\n")
    code, out, err = run("gradient", "x*y", "--points", str(path))
    assert (code, out, err) == (2, "2 1\n4 3\n", "Error: line 3: not UTF-8\n")
    code, out, err = run("gradient", "x*y", "--points", str(path), "--skip-bad")
    assert (code, out, err) == (0, "2 1\n4 3\n6 5\n", "Warning: line 3 skipped: not UTF-8\n")


def test_invalid_utf8_is_found_in_a_later_block(run, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "BLOCK_BYTES", 16)
    lines = [f"{i},1\n".encode() for i in range(50)]
    path = tmp_path / "p.txt"
    path.write_bytes(b"".join(lines[:40]) + b"9,\xc3\n" + b"".join(lines[40:]))
    code, out, err = run("gradient", "x*y", "--points", str(path))
    assert code == 2 and err == "Error: line 41: not UTF-8\n"
    assert out.splitlines() == [f"1 {i}" for i in range(40)]


def test_a_line_beyond_the_limit_is_refused_after_the_good_lines(run, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "p.txt"
    path.write_text("1,2\n3,4\n" + "5" * 1001 + ",6\n7,8\n")
    code, out, err = run("gradient", "x*y", "--points", str(path))
    assert code == 2 and out == "2 1\n4 3\n"
    assert err == "Error: line 3 is longer than 1000 bytes (the limit for a --points line)\n"


def test_a_stream_without_newlines_is_refused_in_bounded_memory(run):
    code, out, err = run("gradient", "x*y", "--points", "/dev/zero")  # endless: read only up to the line limit
    assert code == 2 and out == ""
    assert err == "Error: line 1 is longer than 1 MiB (the limit for a --points line)\n"


def test_a_million_columns_is_a_clean_error(run, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["1"] * 1_000_000) + "\n")
    code, _, err = run("gradient", "sum(x)", "--points", str(path))
    assert code == 2 and err.startswith("Error: line 1 is longer than 1 MiB")
    path.write_text(",".join(f"x{i}" for i in range(100_000)) + "\n" + ",".join(["1"] * 100_000) + "\n")
    code, _, err = run("gradient", "x*y", "--points", str(path))
    assert code == 2 and err.startswith("Error: line 1: the header names x0, x1") and len(err) < 300


def test_wide_rows_are_evaluated_in_small_chunks(run, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BATCH_ENTRIES", 50)  # 10 numbers a row: 5 rows at a time
    sizes = []
    real = batch.PointReader.__init__

    def spy(self, *args, chunk_lines=batch.CHUNK_LINES, **kwargs):
        sizes.append(chunk_lines)
        real(self, *args, chunk_lines=chunk_lines, **kwargs)

    monkeypatch.setattr(batch.PointReader, "__init__", spy)
    code, out, _ = run("gradient", "sum(x**2)", "--points", "-", input="1 2 3 4 5\n" * 12)
    assert code == 0 and out == "2 4 6 8 10\n" * 12
    assert sizes == [5]


# --- --at / --v reads: a cap that refuses, never cuts -----------------------------------------------------


def test_a_point_file_beyond_the_cap_is_refused_not_cut(run, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 4096)
    path = tmp_path / "p.txt"
    path.write_text(" " * 4095 + "12345")  # what was cut at the cap read as x = 1
    code, out, err = run("derivative", "x**2", "--at", f"@{path}")
    assert code == 2 and out == ""
    assert err == f"Error: @{path} is larger than 4096 bytes, the limit for a point or vector\n"
    path.write_text(" " * 4090 + "12345")  # at the cap: read whole
    assert run("derivative", "x**2", "--at", f"@{path}")[1] == "24690\n"


@pytest.mark.parametrize("where", [["--at", "-"], ["--at", "@/dev/zero"], ["--at", "x=@/dev/zero"]])
def test_endless_inputs_are_refused_at_the_cap(run, monkeypatch, where):
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1 << 16)
    code, _, err = run("derivative", "x**2", *where, input="1 " * 40_000)
    assert code == 2 and "is larger than" in err and "the limit for a point or vector" in err


def test_the_real_cap_refuses_dev_zero(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "jaccli", "derivative", "x**2", "--at", "-"],
                          stdin=open("/dev/zero", "rb"), capture_output=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == b"Error: stdin is larger than 256 MiB, the limit for a point or vector\n"


def test_a_bom_and_crlf_in_a_point_file_are_fine(run, tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"\xef\xbb\xbf1,\r\n2\r\n")
    assert run("gradient", "x*y", "--at", f"@{path}")[1] == "2\n1\n"


# --- errors do not echo what a file holds ---------------------------------------------------------------


@pytest.mark.parametrize("content", [
    SECRET, f"1, {SECRET}", f"[1, {SECRET}]", f"[1,\n 2,\n {SECRET}", f"x={SECRET}", f"{SECRET} = 1",
    f"[[1, 2], [{SECRET}]]", f"nan{SECRET}", f"1\n2\n{SECRET}(", f"[{SECRET}]",
])
@pytest.mark.parametrize("option", ["--at", "--v", "--at x=", "stdin"])
def test_errors_name_the_file_and_position_never_its_text(run, tmp_path, content, option):
    path = tmp_path / "shadow"
    path.write_text(content + "\n")
    spec = f"@{path}"
    if option == "--v":
        args = ["vjp", "[x*y, x]", "--at", "1,2", "--v", spec]
    elif option == "--at x=":
        args = ["derivative", "x**2", "--at", f"x={spec}"]
    elif option == "stdin":
        args = ["derivative", "x**2", "--at", "-"]
    else:
        args = ["derivative", "x**2", "--at", spec]
    code, out, err = run(*args, input=content + "\n" if option == "stdin" else None)
    assert code == 2, (out, err)
    told = (err + out).replace(str(path), "FILE")
    for piece in ("root", "s3cr3t", "99999", "19000"):
        assert piece not in told
    assert err.startswith("Error: ")


def test_points_file_errors_do_not_echo_either(run, tmp_path):
    path = tmp_path / "shadow"
    path.write_text(f"{SECRET} 1\n")
    code, _, err = run("gradient", "x*y", "--points", str(path))
    assert code == 2 and "s3cr3t" not in err
    assert err == "Error: line 1: value 1 is not a number (--skip-bad skips such lines)\n"


def test_typed_values_are_still_quoted(run):
    code, _, err = run("derivative", "x**2", "--at", "abc")
    assert code == 2 and "'abc'" in err  # typed on the command line: nothing to leak


# --- bracketed points in linear time ----------------------------------------------------------------------


def test_a_regular_array_of_numbers_does_not_need_the_parser(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ast.parse called")

    n = 250_000  # what the 1 MB bracketed limit admits
    text = "[" + ",".join(str(i % 10) for i in range(n)) + "]"
    monkeypatch.setattr(ast, "parse", refuse)
    value = points.parse_array(text)
    np.testing.assert_array_equal(value.array, np.arange(n) % 10)
    assert value.texts[12345] == "5"
    nested = points.parse_array("[[1, 2.5], [-3e2, 4]]\n")
    assert nested.array.tolist() == [[1, 2.5], [-300, 4]] and nested.texts.tolist() == [["1", "2.5"], ["-3e2", "4"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("[1, 2], 3", [[1.0, 2.0], 3.0]), ("[[1, 2],\n [3, 4]]", [[[1.0, 2.0], [3.0, 4.0]]]), ("(1, 2)", [1.0, 2.0]),
    ("[pi, 1/2]", [[np.pi, 0.5]]), ("[1,\n2]", [[1.0, 2.0]]),
])
def test_the_parser_path_still_reads_everything(text, expected):
    assert [v.array.tolist() for v in points.parse_values(text)] == expected


def test_the_parser_path_slices_each_entry_from_its_offsets():
    # 50,000 entries that need the parser (parentheses), across lines: each entry's text from its offsets
    text = "[" + ",\n ".join(f"({i}.5)" for i in range(50_000)) + ", pi]"
    value = points.parse_array(text)
    assert value.shape == (50_001,) and value.texts[49_999] == "49999.5" and value.texts[-1] == "pi"
    np.testing.assert_array_equal(value.array[:-1], np.arange(50_000) + 0.5)


@pytest.mark.parametrize(("text", "fragment"), [
    ("[[1 2,],[3,4]]", "syntax"), ("[[1,2],[3]]", "ragged"), ("[1,,2]", "cannot read"), ("[]", "empty brackets"),
    ("[1, nan]", "NaN"), ("[" * 17 + "1" + "]" * 17, "more than 16"),
])
def test_bracketed_errors(text, fragment):
    with pytest.raises(JaccliError, match=fragment):
        points.parse_values(text)


def test_a_skeleton_that_would_multiply_out_is_not_built():
    # first lists of 61 entries at each of 3 levels, then nothing regular: 61**3 entries must not be built
    text = "[" * 3 + "1," * 60 + "1]" + ",1" * 60 + "]" + ",1" * 60 + "]"
    assert points._regular_array(text) is None
    with pytest.raises(JaccliError):
        points.parse_values(text)


def test_api_reads_text_streams_too():
    assert points.read_vector("-", io.StringIO("\ufeff1 2")).array.tolist() == [1.0, 2.0]
    with pytest.raises(LimitError):
        limits_small = limits.MAX_INPUT_BYTES
        try:
            limits.MAX_INPUT_BYTES = 3
            points.read_vector("-", io.StringIO("1 2 3"))
        finally:
            limits.MAX_INPUT_BYTES = limits_small


def test_the_cli_accepts_the_first_entries_of_a_bom_file(runner, tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"\xef\xbb\xbf[1, 0]")
    result = runner.invoke(app, ["vjp", "[x*y, x]", "--at", "1,2", "--v", f"@{path}"])
    assert result.exit_code == 0 and result.stdout == "2\n1\n"
