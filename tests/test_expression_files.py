"""EXPR from @file or - (stdin): for expressions longer than one argv argument may be (128 KiB on Linux).

References: hand derivatives; the rules are the ones --at follows (one reader of stdin, sizes checked before
reading, errors that name the file and a position and never quote what it holds)."""

import math
import os

import pytest

SECRET = "root:$6$s3cr3t:19000:0:99999:7:::"


def test_an_expression_from_a_file_and_from_stdin(run, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x**2*y + sin(x)\n")
    expected = [2 * 1 * 2 + math.cos(1), 1.0]  # (2xy + cos x, x²) at (1, 2)
    for args, given in ((["gradient", f"@{path}"], None), (["gradient", "-"], "x**2*y + sin(x)\n")):
        code, out, err = run(*args, "--at", "1,2", "--format", "plain", input=given)
        assert code == 0, err
        assert [float(v) for v in out.split()] == pytest.approx(expected, rel=1e-15)


def test_an_expression_longer_than_argv_allows(run, tmp_path):
    # 3 100 terms x*(10**39 + k), about 140 KB (one argument may hold 128 KiB): d/dx is the sum of the
    # coefficients, an integer far above 2**53 that the printed value rounds correctly
    path = tmp_path / "long.txt"
    path.write_text(" + ".join(f"x*{10**39 + k}" for k in range(1, 3_101)))
    assert os.path.getsize(path) > 128 * 1024
    code, out, err = run("derivative", f"@{path}", "--at", "0.5", "--format", "plain")
    assert (code, err) == (0, "")
    assert float(out) == float(3_100 * 10**39 + 3_100 * 3_101 // 2)


@pytest.mark.parametrize("other", [["--at", "-"], ["--points", "-"], ["--at", "1,2", "--v", "-"]])
def test_stdin_has_one_reader(run, other):
    command = "vjp" if "--v" in other else "gradient"
    code, out, err = run(command, "-", *other, input="x*y\n")
    assert code == 2 and out == ""
    assert "both read stdin" in err and err.startswith("Error: EXPR and ")


# (text that parses is an expression: its variables are named as in any result or message about them)
@pytest.mark.parametrize("content", [SECRET, f"x + {SECRET}", "s3cr3t(x)", "x*99999e400", "x.s3cr3t",
                                     "root s3cr3t(", "x + " * 200 + "sin(" * 101 + "s3cr3t"])
@pytest.mark.parametrize("source", ["file", "stdin"])
def test_errors_name_the_file_never_its_text(run, tmp_path, content, source):
    path = tmp_path / "shadow"
    path.write_text(content + "\n")
    spec, given = (f"@{path}", None) if source == "file" else ("-", content + "\n")
    code, out, err = run("derivative", spec, "--at", "1", input=given)
    assert code == 2, (out, err)
    told = (err + out).replace(str(path), "FILE")
    for piece in ("root", "s3cr3t", "99999", "19000"):
        assert piece not in told
    assert err.startswith("Error: ") and err.count("\n") == 1  # no caret line showing the text


def test_a_file_over_the_expression_limit_is_refused_by_its_size(run, tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # sparse: 5 MiB that were never written, refused by size before reading
        handle.truncate(5 * 1024 * 1024)
    code, out, err = run("derivative", f"@{path}", "--at", "1")
    assert code == 2 and err == f"Error: @{path} is larger than 4 MiB, the limit for an expression\n"


def test_over_a_million_characters_is_refused(run, tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x+" * 500_000 + "x")
    code, _, err = run("derivative", f"@{path}", "--at", "1")
    assert code == 2 and "expression is 1000001 characters long; the limit is 1000000" in err


def test_chain_takes_f_and_g_from_files_and_stdin(run, tmp_path):
    inner = tmp_path / "f.txt"
    inner.write_text("[x*y, x + y]\n")
    # l = (xy)^2 + (x + y)^2 at (1, 2): dl/dx = 2xy*y + 2(x + y) = 14, dl/dy = 2xy*x + 2(x + y) = 10
    code, out, err = run("chain", f"@{inner}", "-", "--at", "1,2", "--format", "json", input="sum(y**2)\n")
    assert code == 0, err
    import json

    assert json.loads(out)["value"] == [14.0, 10.0]


@pytest.mark.parametrize("args", [["-", "-", "--at", "1"], ["-", "sum(y)", "--at", "-"], ["x", "-", "--at", "-"]])
def test_chain_has_one_reader_of_stdin(run, args):
    code, out, err = run("chain", *args, input="x\n")
    assert code == 2 and out == "" and "both read stdin" in err


def test_chain_does_not_echo_a_file_that_is_not_an_expression(run, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET + "\n")
    code, out, err = run("chain", "x*2", f"@{secret}", "--at", "1")
    assert code == 2 and out == ""
    message = err.replace(str(secret), "@FILE")  # the path itself may hold any word (pytest-of-root)
    assert "s3cr3t" not in message and "root" not in message and "@FILE" in message
