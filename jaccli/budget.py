"""A time budget that holds: slow symbolic work (sympy's simplify, det, eigenvals, solve) in a child process.

sympy cannot be interrupted from inside Python (a thread cannot be stopped, and ``simplify`` may run for
hours), so ``within`` forks, lets the child compute and send back its answer, and ends the child when the
budget runs out. The parent then knows in ``seconds`` whether there is an answer.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time

from .errors import JaccliError


class OutOfTime(JaccliError):
    """Symbolic work did not finish within its time budget (exit 2)."""


def within(seconds: float, what: str, func, *args):
    """``func(*args)``, computed in a forked child; ``OutOfTime`` (naming ``what`` and the budget) after ``seconds``.

    Without ``fork`` (not Linux or macOS) it runs here, unbounded. An exception in the child is raised here as a
    ``JaccliError`` with its message.
    """
    if not hasattr(os, "fork") or sys.platform == "win32":
        return func(*args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, func, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise OutOfTime(f"{what} did not finish within its time budget of {seconds:g} s")
        try:
            ok, value = receive.recv()
        except EOFError:
            raise JaccliError(f"{what} failed (the symbolic worker ended without an answer)") from None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()
    if not ok:
        raise value if isinstance(value, JaccliError) else JaccliError(f"{what} failed: {value}")
    return value


class CpuTimeUp(Exception):
    """Raised inside the work ``cpu_deadline`` bounds, when the process's CPU time reaches the deadline."""


@contextlib.contextmanager
def cpu_deadline(deadline: float):
    """Within the block, reaching ``deadline`` (``time.process_time()``) raises ``CpuTimeUp`` wherever the work is,
    through a CPU-time timer (SIGPROF): a check between evaluations cannot stop one evaluation that runs away
    (sympy's evalf of an exponential at a huge point computed e to a precision of more bits than fit in 64).
    Python code is stopped between bytecodes; a long call into C finishes first. Where there is no such timer
    (Windows) or the caller is not the main thread (signals go there), the block runs unbounded as before."""
    remaining = deadline - time.process_time()
    if remaining <= 0:
        raise CpuTimeUp
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CpuTimeUp

    previous = signal.signal(signal.SIGPROF, expire)
    old_timer = signal.setitimer(signal.ITIMER_PROF, remaining)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        if old_timer[0]:  # an outer timer (none of ours nest): given back what it had left
            signal.setitimer(signal.ITIMER_PROF, *old_timer)


def _child(send, func, args) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ended by the parent: quietly, not as the CLI's interruption
    try:
        answer = (True, func(*args))
    except JaccliError as exc:  # a message for the user, as it is
        answer = (False, exc)
    except Exception as exc:  # noqa: BLE001 - the parent reports it
        answer = (False, f"{type(exc).__name__}: {exc}")
    try:
        send.send(answer)
    finally:
        send.close()
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffered output twice
