"""The process entry point (console script and ``python -m jaccli``): signals and standard streams first.

SIGINT and SIGTERM get their handlers before numpy, typer or the maths are imported, so an interrupt at
any moment of start-up exits 130 or 143 with one ``Error: interrupted`` line, never a traceback; closed
standard descriptors are occupied before any file is opened (see ``streams``).
"""

from __future__ import annotations

import sys

from . import streams


def main() -> None:
    streams.install_signal_handlers()
    streams.reserve_closed()
    try:
        from .cli import main as cli_main  # the imports take most of start-up: interruptible like the rest

        cli_main()
    except streams.Interrupted as exc:  # before the CLI's own handling was in place
        streams.ignore_signals()
        streams.say(f"Error: {exc.message}")
        sys.exit(exc.code)
    except SystemExit:
        streams.ignore_signals()  # exiting now: a late signal must not raise during teardown
        raise
