"""Standard streams and output files that lose nothing and never hang.

* stdout: text goes out through ``Sink`` in whole lines; to a pipe each ``os.write`` is at most
  PIPE_BUF bytes of whole lines, which POSIX makes atomic, so an interrupt never leaves a cut line.
  A reader that closes the pipe (``| head``) ends the run quietly with exit 0; any other write
  error (a full disk, a closed descriptor) is an ``Error:`` and exit 2.
* stderr: ``say`` writes one line; a stderr that cannot be written is remembered
  (``State.stderr_failed``) so that the run ends with a non-zero exit, and it never touches stdout.
* ``-o FILE``: ``atomic_file`` writes a temporary file beside FILE and renames it into place only
  on success, so a failed or interrupted run leaves FILE as it was and no stray file.
* signals: SIGINT exits 130 and SIGTERM 143 (``Interrupted``), at any moment of the run. A signal that
  arrives while a line longer than PIPE_BUF is half written waits until that line is whole (its reader
  may be slow); a second signal then exits at once, and the error says the last line is cut.
* closed descriptors: ``reserve_closed`` keeps fds 0-2 occupied (by /dev/null), so a file opened
  later never becomes "stdout"; which of them were closed is remembered.

No numpy, typer or rich here: the entry point imports this before anything heavy.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import sys
from contextlib import contextmanager

PIPE_BUF = getattr(os, "PIPE_BUF", None) or 4096  # POSIX: writes of at most this many bytes to a pipe are atomic
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(BaseException):
    """SIGINT or SIGTERM: ``code`` is the exit code, 128 + the signal number.

    Not a KeyboardInterrupt: typer turns those into a silent exit 130, whatever the signal was.
    """

    def __init__(self, code: int = 130, cut_line: bool = False):
        super().__init__(code)
        self.code = code
        self.cut_line = cut_line

    @property
    def message(self) -> str:
        """The text after ``Error: ``."""
        return "interrupted; the last line on stdout is incomplete" if self.cut_line else "interrupted"


class ReaderGone(Exception):
    """stdout's reader closed the pipe (``jaccli … | head``): not our failure, exit 0."""


class WriteError(Exception):
    """An output could not be written; ``str`` is the one-line message (exit 2)."""


class State:
    """What went wrong with the standard streams during this run."""

    closed: frozenset[str] = frozenset()  # names of the standard streams that were closed at start
    stderr_failed = False  # a message could not be written to stderr: the exit code must say so


# --- start-up -------------------------------------------------------------------------------------


class _Line:
    """A line being written in pieces (longer than PIPE_BUF): a first signal waits for its end."""

    open = False  # bytes of an unfinished line have been or are being written
    pending: int | None = None  # the exit code of a signal held back until the line is whole


def _interrupt(signum, frame):  # a signal handler: raise where the program is, so ``finally`` blocks run
    code = EXIT_INTERRUPTED.get(signum, 128 + signum)
    if _Line.open:
        if _Line.pending is None:  # os.write is retried (PEP 475): the line is finished, then we exit
            _Line.pending = code
            return
        code, _Line.pending = _Line.pending, None
        raise Interrupted(code, cut_line=True)  # a second signal: the user will not wait
    raise Interrupted(code)


def install_signal_handlers() -> None:
    """SIGINT -> exit 130, SIGTERM -> exit 143, through ``Interrupted`` (no traceback)."""
    for signum in EXIT_INTERRUPTED:
        signal.signal(signum, _interrupt)


def ignore_signals() -> None:
    """From here on the process only exits: a late signal must not raise during the interpreter's teardown."""
    for signum in EXIT_INTERRUPTED:
        signal.signal(signum, signal.SIG_IGN)


def reserve_closed() -> None:
    """Occupy closed fds 0-2 with /dev/null and remember them (Python has set sys.stdin etc. to None)."""
    closed = set()
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(name)
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    State.closed = frozenset(closed)


@contextmanager
def signals_blocked():
    """SIGINT and SIGTERM held back for a moment (a rename and its clean-up must not be cut in two)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    old = mask(signal.SIG_BLOCK, set(EXIT_INTERRUPTED))
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


# --- text that survives any terminal encoding ------------------------------------------------------

_ASCII = str.maketrans({
    **{chr(0x2080 + i): str(i) for i in range(10)},  # subscripts ₀…₉
    **dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")),
    "∂": "d", "−": "-", "–": "-", "—": "--", "×": "x", "·": "*", "∇": "grad ", "ᵀ": "T", "…": "...",
    "⋮": ":", "✓": "ok", "✗": "FAILED", "≤": "<=", "≥": ">=", "≈": "~", "‖": "||", "∘": "o", "σ": "sigma",
    "ε": "eps", "π": "pi", "→": "->", "²": "2", "³": "3", "¹": "1", "⁻": "-",
})


def utf(encoding: str | None) -> bool:
    """Whether a stream with this encoding can take any text."""
    return (encoding or "utf-8").lower().replace("_", "-").startswith(("utf-8", "utf8", "utf-16", "utf-32"))


def encodable(text: str, encoding: str | None) -> str:
    """``text`` as the stream's encoding can carry it: ASCII labels (f1, d/dx, -) where it is not UTF."""
    if utf(encoding):
        return text
    text = text.translate(_ASCII)
    return text.encode(encoding or "ascii", errors="replace").decode(encoding or "ascii")


# --- stderr ----------------------------------------------------------------------------------------


def say(line: str) -> None:
    """One line on stderr (a warning or an error); a stderr that cannot take it marks the run failed."""
    stream = sys.stderr
    if stream is None:
        State.stderr_failed = True
        return
    try:
        stream.write(encodable(line, getattr(stream, "encoding", None)) + "\n")
        stream.flush()
    except (OSError, ValueError):  # EPIPE, EBADF, ENOSPC, or a stream closed under us
        State.stderr_failed = True


# --- stdout and files: whole lines -----------------------------------------------------------------


class Sink:
    """A text stream for results: whole lines, atomic pieces to a pipe, errors as ``ReaderGone``/``WriteError``.

    ``name`` says what is written ("stdout" or a file name) in error messages.
    """

    def __init__(self, stream, name: str = "stdout", fd: int | None = None):
        self.stream = stream
        self.name = name
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self.fd = fd if fd is not None else _fileno(stream)
        self.pipe = False
        if self.fd is not None:
            try:
                mode = os.fstat(self.fd).st_mode
            except OSError:
                mode = 0
            self.pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    def isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def write(self, text: str) -> int:
        if not text:
            return 0
        text = encodable(text, self.encoding)
        try:
            if self.fd is None:  # not a real descriptor (a test's captured stream): in order with stderr
                self.stream.write(text)
                self.stream.flush()
            else:
                self.stream.flush()  # anything print() left in Python's buffer goes first
                self._write(text.encode(self.encoding, errors="replace"))
        except BrokenPipeError:
            if self.name == "stdout":
                raise ReaderGone from None
            raise WriteError(f"cannot write {self.name}: the pipe was closed") from None
        except OSError as exc:
            raise WriteError(f"cannot write {self.name}: {exc.strerror or exc}") from None
        return len(text)

    def _write(self, data: bytes) -> None:
        view, start = memoryview(data), 0
        try:
            while start < len(data):
                end = len(data)
                if _Line.pending is not None:  # a signal came: finish the line under way, then stop
                    cut = data.find(b"\n", start)
                    end = cut + 1 if cut >= 0 else end
                elif self.pipe and end - start > PIPE_BUF:  # whole lines up to PIPE_BUF bytes: one atomic write
                    cut = data.rfind(b"\n", start, start + PIPE_BUF)
                    end = cut + 1 if cut >= 0 else start + PIPE_BUF  # a line longer than that: in pieces
                # a signal waits for the line's end unless this write is all or nothing and starts and ends a line
                # (a pipe write of at most PIPE_BUF bytes is; a terminal's may stop part-way)
                _Line.open = not self.pipe or (start > 0 and data[start - 1] != 10) or data[end - 1] != 10
                start += os.write(self.fd, view[start:end])
                if _Line.pending is not None and data[start - 1] == 10:
                    break
        finally:
            _Line.open = False
        if _Line.pending is not None:
            code, _Line.pending = _Line.pending, None
            raise Interrupted(code)

    def flush(self) -> None:
        if self.fd is None:
            try:
                self.stream.flush()
            except OSError as exc:
                raise WriteError(f"cannot write {self.name}: {exc.strerror or exc}") from None


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is an OSError and a ValueError
        return None


def stdout_sink() -> Sink:
    """A Sink on stdout; a stdout closed at start is a ``WriteError``."""
    if sys.stdout is None or "stdout" in State.closed:
        raise WriteError("cannot write stdout: it is closed")
    return Sink(sys.stdout)


def forget_stdout() -> None:
    """After the reader left: /dev/null as fd 1, so that no later flush fails at exit."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
    finally:
        os.close(null)


def same_file(path: str, others: list[os.stat_result]) -> bool:
    """Whether ``path`` names an existing file that is one of ``others`` (the inputs of the run)."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return any(info.st_dev == o.st_dev and info.st_ino == o.st_ino for o in others)


@contextmanager
def atomic_file(path: str):
    """A Sink on a temporary file beside ``path``, renamed onto ``path`` only if the block succeeds.

    A device or FIFO (``-o /dev/null``) is written directly: there is nothing to replace. A symbolic link
    is followed, so the file it names is replaced and the link stays.
    """
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise WriteError(f"cannot write {path}: it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:
            handle = open(target, "w", encoding="utf-8")
        except OSError as exc:
            raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        with handle:
            yield Sink(handle, path)
        return
    directory, base = os.path.split(target)
    temp = None
    try:
        with signals_blocked():  # the clean-up below knows the name as soon as the file exists
            temp, fd = _create_temp(directory or ".", base, path)
        if info is not None:
            os.fchmod(fd, stat.S_IMODE(info.st_mode))  # the replaced file keeps its permissions
        with open(fd, "w", encoding="utf-8", closefd=True) as handle:
            yield Sink(handle, path)
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        with signals_blocked():
            os.replace(temp, target)
            temp = None
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if temp is not None:
            with signals_blocked():
                try:
                    os.unlink(temp)
                except OSError:
                    pass


def _create_temp(directory: str, base: str, shown: str) -> tuple[str, int]:
    """A new file ``.base.XXXX.tmp`` in ``directory`` (mode 0666 less the umask, like any new file)."""
    for attempt in range(100):
        name = os.path.join(directory, f".{base}.{os.getpid()}.{attempt}.tmp")
        try:
            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise WriteError(f"cannot write {shown}: {exc.strerror or exc}") from None
    raise WriteError(f"cannot write {shown}: {os.strerror(errno.EEXIST)}")
