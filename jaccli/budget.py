"""A time budget that holds: slow symbolic work (sympy's simplify, det, eigenvals, solve) in a child process.

sympy cannot be interrupted from inside Python (a thread cannot be stopped, and ``simplify`` may run for
hours), so ``within`` forks, lets the child compute and send back its answer, and ends the child when the
budget runs out. The parent then knows in ``seconds`` whether there is an answer.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys

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
