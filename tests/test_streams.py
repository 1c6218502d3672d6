"""Nothing lost, nothing hangs: closed and full streams, signals, -o files and terminals (issue 14).

Real processes where the operating system is the point (closed descriptors, /dev/full, pipes, signals,
a pseudo-terminal); the in-process runner elsewhere. No test measures time: processes are synchronised on
what they print, and timeouts are only safety nets.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest

from jaccli import render, streams
from jaccli.cli import app

JACCLI = [sys.executable, "-m", "jaccli"]
TIMEOUT = 120  # a safety net only


def _run(*args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close=(), env=None,
         input=None):
    """jaccli as a process; ``close`` names descriptors (0, 1, 2) to close in the child, like ``>&-``."""
    def preexec():
        for fd in close:
            os.close(fd)

    return subprocess.run([*JACCLI, *args], stdin=stdin if input is None else None, stdout=stdout, stderr=stderr,
                          preexec_fn=preexec if close else None, timeout=TIMEOUT, input=input,
                          env={**os.environ, **(env or {})})


def _points(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "points.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return path


# --- closed and full standard streams ----------------------------------------------------------------


def test_closed_stdout_is_an_error_not_an_internal_error():
    proc = _run("gradient", "x*y", "--at", "1,2", close=(1,), stdout=None)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "Error: cannot write stdout: it is closed\n"


def test_full_stdout_is_an_error_like_a_full_output_file(tmp_path):
    with open("/dev/full", "w") as full:
        proc = _run("gradient", "x*y", "--at", "1,2", stdout=full)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "Error: cannot write stdout: No space left on device\n"
    proc = _run("gradient", "x*y", "--at", "1,2", "-o", "/dev/full")
    assert proc.returncode == 2 and proc.stderr.decode().startswith("Error: cannot write /dev/full")


def test_full_stdout_on_help_and_version_is_reported():
    with open("/dev/full", "w") as full:
        proc = _run("--version", stdout=full)
    assert proc.returncode == 2 and b"No space left" in proc.stderr and b"Traceback" not in proc.stderr


def test_closed_stderr_sends_nothing_to_stdout_and_keeps_the_exit_code():
    proc = _run("gradient", "x*y", "--at", "1", close=(2,), stderr=None)
    assert proc.returncode == 2
    assert proc.stdout == b""  # the error must not land on stdout


def test_closed_stderr_without_anything_to_say_is_a_success():
    proc = _run("gradient", "x*y", "--at", "1,2", close=(2,), stderr=None)
    assert proc.returncode == 0 and proc.stdout == b"2\n1\n"


def test_a_warning_that_cannot_be_written_fails_the_run_but_loses_no_row(tmp_path):
    lines = [f"{i},{i}" if i % 2 else "bad,1" for i in range(1, 2001)]  # 1000 good rows, 1000 warnings
    path = _points(tmp_path, lines)
    read_end, write_end = os.pipe()
    os.close(read_end)  # stderr's reader is gone before the first warning: `2> >(head -0)`
    try:
        proc = _run("gradient", "x*y", "--points", str(path), "--skip-bad", stderr=write_end)
    finally:
        os.close(write_end)
    rows = proc.stdout.decode().splitlines()
    assert rows == [f"{i} {i}" for i in range(1, 2001, 2)]  # every good row, in order
    assert proc.returncode == 2  # not 0: the warnings were lost


def test_stdout_reader_leaving_is_still_a_quiet_success(tmp_path):
    path = _points(tmp_path, [f"{i},{i}" for i in range(100_000)])
    child = subprocess.Popen([*JACCLI, "gradient", "x*y", "--points", str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"0 0\n"
    child.stdout.close()
    assert child.wait(timeout=TIMEOUT) == 0
    assert child.stderr.read() == b""


@pytest.mark.parametrize("where", [["--at", "-"], ["--points", "-"], ["--at", "x=-"]])
def test_closed_stdin_is_a_clean_error(where):
    proc = _run("derivative", "x**2", *where, close=(0,), stdin=None)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("Error: cannot read stdin") and "closed" in err and "Traceback" not in err


def test_closed_stdout_does_not_become_the_output_file(tmp_path):
    # fd 1 closed, then -o opens a file: it must not take fd 1 and receive anything else
    out = tmp_path / "out.txt"
    proc = _run("gradient", "x*y", "--at", "1,2", "-o", str(out), close=(1,), stdout=None)
    assert proc.returncode == 0 and out.read_text() == "2\n1\n"


# --- signals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_stdout_is_blocked_leaves_whole_lines(tmp_path, signum, code):
    n = 200_000  # about 3 MB of output: far more than a pipe holds, so the writer blocks
    path = _points(tmp_path, [f"{i},9" for i in range(n)])
    child = subprocess.Popen([*JACCLI, "jacobian", "[x*y, x+y]", "--points", str(path), "--format", "csv"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"x,y,df0/dx,df0/dy,df1/dx,df1/dy\n"  # running, and writing
    child.send_signal(signum)  # nobody reads: it is blocked on the pipe, or about to be
    rest, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == code
    assert err == b"Error: interrupted\n"
    assert rest == b"" or rest.endswith(b"\n")  # no cut line
    for line in rest.decode().splitlines():  # and every line is a whole, right row
        fields = line.split(",")
        assert len(fields) == 6, line
        x = float(fields[0])
        assert [float(f) for f in fields[1:]] == [9, 9, x, 1, 1], line


def _wide_rows(tmp_path: Path) -> tuple[subprocess.Popen, np.ndarray]:
    """A Jacobian whose 1000 rows are ~20 KB lines each (far longer than PIPE_BUF), written to a pipe nobody
    reads, once the pipe is full: the writer is then blocked part-way through a line."""
    x = np.linspace(0.1, 0.9, 1000)
    path = tmp_path / "x.txt"
    path.write_text(",".join(repr(float(v)) for v in x) + "\n")
    child = subprocess.Popen([*JACCLI, "jacobian", "x*sum(sin(x))", "--at", f"x=@{path}", "--format", "plain"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    full = fcntl.fcntl(child.stdout.fileno(), 1032) - streams.PIPE_BUF  # F_GETPIPE_SZ, less a page's slack
    waiting = np.zeros(1, dtype=np.int32)
    while True:  # synchronised on the pipe's fill level and the writer asleep on it, not on time
        fcntl.ioctl(child.stdout.fileno(), termios.FIONREAD, waiting)
        if waiting[0] >= full and Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S":
            return child, x
        assert child.poll() is None, child.stderr.read()
        select.select([], [], [], 0.01)


def _right_rows(text: bytes, x: np.ndarray) -> None:
    """Every line is a whole row of J = diag(sum(sin x)) + x cos(x)^T (the closed form)."""
    total = np.sin(x).sum()
    for i, line in enumerate(text.decode().splitlines()):
        row = np.array(line.split(), dtype=float)
        expected = x[i] * np.cos(x)
        expected[i] += total
        np.testing.assert_allclose(row, expected, rtol=1e-12)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_part_way_through_a_long_line_waits_for_the_line(tmp_path, signum, code):
    child, x = _wide_rows(tmp_path)
    child.send_signal(signum)  # blocked inside a 20 KB line: it is finished once read, then the run stops
    rest, err = child.communicate(timeout=TIMEOUT)
    assert (child.returncode, err) == (code, b"Error: interrupted\n")
    assert rest.endswith(b"\n")
    assert 0 < rest.count(b"\n") < 1000
    _right_rows(rest, x)


def test_a_second_signal_stops_at_once_and_says_the_line_is_cut(tmp_path):
    child, x = _wide_rows(tmp_path)
    child.send_signal(signal.SIGINT)  # held back until the line is whole …
    child.send_signal(signal.SIGTERM)  # … but the user (or a supervisor) insists
    rest, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130
    assert err == b"Error: interrupted; the last line on stdout is incomplete\n"
    assert not rest.endswith(b"\n")
    whole = rest[:rest.rindex(b"\n") + 1]
    _right_rows(whole, x)


KICK = """
import os, signal, sys
class Kick:  # sends the signal when {module} is first imported: during jaccli's start-up
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), {signum})
        return None
sys.meta_path.insert(0, Kick())
sys.argv = ["jaccli", "jacobian", "x*2", "--at", "1,1"]
from jaccli.entry import main
main()
"""


@pytest.mark.parametrize(("module", "signum", "code"), [
    ("numpy", signal.SIGINT, 130), ("typer", signal.SIGTERM, 143), ("jaccli.compute", signal.SIGINT, 130),
    ("sympy", signal.SIGTERM, 143),
])
def test_a_signal_during_start_up_exits_cleanly(module, signum, code):
    proc = subprocess.run([sys.executable, "-c", KICK.format(module=module, signum=int(signum))],
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == b"Error: interrupted\n"
    assert proc.stdout == b""


# --- -o FILE -----------------------------------------------------------------------------------------


def _only(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_failing_batch_leaves_the_output_file_untouched(runner, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-", "--format", "csv", "-o", str(out)],
                           input="1,2\n3,oops\n")
    assert result.exit_code == 2 and "line 2" in result.stderr
    assert out.read_text() == "precious\n"
    assert _only(tmp_path) == ["out.csv"]  # no stray temporary file


def test_an_internal_error_leaves_the_output_file_untouched(runner, tmp_path, monkeypatch):
    out = tmp_path / "out.txt"
    out.write_text("precious\n")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(render, "batch_rows", broken)
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-", "-o", str(out)], input="1,2\n")
    assert result.exit_code == 3
    assert out.read_text() == "precious\n" and _only(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("code", [130, 143])
def test_an_interrupt_while_writing_leaves_the_output_file_untouched(runner, tmp_path, monkeypatch, code):
    out = tmp_path / "out.csv"
    out.write_text("precious\n")

    def interrupted(*args, **kwargs):  # the CSV header is in the temporary file when the signal comes
        raise streams.Interrupted(code)

    monkeypatch.setattr(render, "batch_rows", interrupted)
    result = runner.invoke(app, ["gradient", "x*y", "--points", "-", "--format", "csv", "-o", str(out)],
                           input="1,2\n")
    assert result.exit_code == code and result.stderr == "Error: interrupted\n"
    assert out.read_text() == "precious\n" and _only(tmp_path) == ["out.csv"]


def test_success_replaces_the_file_and_keeps_its_permissions(runner, tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old\n")
    out.chmod(0o640)
    result = runner.invoke(app, ["gradient", "x*y", "--at", "1,2", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text() == "2\n1\n"
    assert out.stat().st_mode & 0o777 == 0o640 and _only(tmp_path) == ["out.txt"]


def test_a_symlinked_output_replaces_its_target(runner, tmp_path):
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_text("old\n")
    link.symlink_to(target)
    assert runner.invoke(app, ["gradient", "x*y", "--at", "1,2", "-o", str(link)]).exit_code == 0
    assert link.is_symlink() and target.read_text() == "2\n1\n"


def test_a_device_is_written_not_replaced(runner):
    result = runner.invoke(app, ["gradient", "x*y", "--at", "1,2", "-o", "/dev/null"])
    assert result.exit_code == 0 and Path("/dev/null").is_char_device()


def test_a_directory_or_missing_directory_is_a_clean_error(runner, tmp_path):
    for target in (tmp_path, tmp_path / "missing" / "out.txt"):
        result = runner.invoke(app, ["gradient", "x*y", "--at", "1,2", "-o", str(target)])
        assert result.exit_code == 2 and result.stderr.startswith(f"Error: cannot write {target}")


@pytest.mark.parametrize("option", ["--points", "--at", "--v"])
def test_the_output_may_not_be_an_input(runner, tmp_path, option):
    path = tmp_path / "data.txt"
    path.write_text("1,2\n")
    spec = str(path) if option == "--points" else f"@{path}"
    args = {"--points": ["gradient", "x*y", "--points", spec],
            "--at": ["gradient", "x*y", "--at", spec],
            "--v": ["vjp", "[x*y, x]", "--at", "1,2", "--v", spec]}[option]
    result = runner.invoke(app, [*args, "-o", str(path)])
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert path.read_text() == "1,2\n"


def test_the_output_may_not_be_the_file_on_stdin(tmp_path):
    path = _points(tmp_path, ["1,2"])
    with open(path) as stdin:
        proc = _run("gradient", "x*y", "--points", "-", "-o", str(path), stdin=stdin)
    assert proc.returncode == 2 and b"is also an input" in proc.stderr
    assert path.read_text() == "1,2\n"


# --- one reader per stream -------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["vjp", "[x*y, x]", "--points", "-", "--v", "-"],
    ["vjp", "[x*y, x]", "--at", "-", "--v", "-"],
    ["jacobian", "x*y", "--at", "x=-", "--at", "y=-"],
    ["softmax-jac", "-", "--vjp", "-"],
    ["vjp", "[x*y, x]", "--at", "-", "--v", "@/dev/stdin"],
])
def test_stdin_has_one_reader(runner, args):
    result = runner.invoke(app, args, input="1,2\n3,4\n")
    assert result.exit_code == 2, result.stdout
    assert "both read" in result.stderr and result.stdout == ""


def test_a_regular_file_may_be_read_twice(runner, tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("1,2")
    result = runner.invoke(app, ["vjp", "[x*y, x]", "--at", f"@{path}", "--v", f"@{path}"])
    assert result.exit_code == 0 and result.stdout == "4\n1\n"  # J = [[y, x], [1, 0]] at (1, 2); Jᵀ(1, 2) = (4, 1)


# --- terminals ---------------------------------------------------------------------------------------


def _on_a_terminal(columns: int, *args: str) -> tuple[int, str]:
    """jaccli with a pseudo-terminal of ``columns`` columns as stdout: (exit code, what it printed)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child = subprocess.Popen([*JACCLI, *args], stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             env={**env, "NO_COLOR": "1", "TERM": "dumb"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 1 << 16)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return child.wait(timeout=TIMEOUT), b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [1, 2, 5, 10, 20])
def test_a_narrow_terminal_gets_every_number_whole(columns):
    code, out = _on_a_terminal(columns, "jacobian", "[r*cos(t), r*sin(t)]", "--vars", "r,t", "--at", "2,0.5")
    assert code == 0
    for number in ["0.87758256", "-0.95885108", "0.47942554", "1.7551651"]:  # 8 digits: the table's precision
        assert number in out, out
    assert "…" not in out


@pytest.mark.parametrize("columns", ["0", "1", "10"])
def test_columns_from_the_environment_never_hide_the_table(runner, columns):
    result = runner.invoke(app, ["jacobian", "[x*y, x+y]", "--at", "2,3", "--format", "table"],
                           env={"COLUMNS": columns, "NO_COLOR": "1"})
    assert result.exit_code == 0
    cells = re.findall(r"-?\d+(?:\.\d+)?", result.stdout.split("\n", 1)[1])
    assert cells.count("3") >= 1 and cells.count("2") >= 1 and cells.count("1") >= 2
    assert "…" not in result.stdout


# --- terminals that are not UTF-8 ---------------------------------------------------------------------


C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}


@pytest.mark.parametrize(("env", "args"), [
    ({"PYTHONIOENCODING": "ascii"}, ["jacobian", "[x*y, x]", "--at", "1,2", "--format", "table"]),
    (C_LOCALE, ["jacobian", "[x*y, x]", "--at", "1,2", "--format", "table"]),
    ({"PYTHONIOENCODING": "ascii"}, ["derivative", "x**2", "--order", "2", "--at", "1", "--format", "table"]),
    (C_LOCALE, ["softmax-jac", "1", "2", "--format", "table"]),
    ({"PYTHONIOENCODING": "latin-1"}, ["vjp", "x*2", "--at", "1,2", "--v", "1,1", "--format", "table"]),
])
def test_a_terminal_that_is_not_utf8_gets_ascii(env, args):
    proc = _run(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    proc.stdout.decode("ascii")  # nothing else
    assert b"Traceback" not in proc.stderr


def test_ascii_labels_read_as_they_should():
    proc = _run("jacobian", "[x*y, x]", "--at", "1,2", "--format", "csv", env={"PYTHONIOENCODING": "ascii"})
    assert proc.stdout.decode("ascii") == ",x,y\nf0,2,1\nf1,1,0\n"
    proc = _run("jacobian", "sinn(x)", "--at", "1", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 2 and proc.stderr.decode("ascii").startswith("Error: unknown function 'sinn' -- did")
    assert streams.encodable("∂²f/∂x² − f₁₂ × Jᵀv", "ascii") == "d2f/dx2 - f12 x JTv"


@pytest.mark.parametrize("args", [
    ["--help"], [], ["jacobian", "--help"], ["softmax-jac", "1", "2"], ["jacobian", "x*2", "--emit", "c"],
    ["jacobian", "x*2", "--at", "1,2", "-f", "table"],
])
def test_every_kind_of_output_to_a_full_disk_is_reported(args):
    with open("/dev/full", "w") as full:
        proc = _run(*args, stdout=full)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "Error: cannot write stdout: No space left on device\n"


def test_a_file_with_nul_bytes_is_refused_without_echo(run, tmp_path):
    path = tmp_path / "environ"
    path.write_bytes(b"SECRET=hunter2\x00PATH=/bin\x00")
    code, _, err = run("derivative", "x**2", "--at", f"@{path}")
    assert code == 2 and "hunter2" not in err and "None" not in err
