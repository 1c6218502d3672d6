"""The exceptions jaccli raises: each is a one-line message and an exit code.

The CLI turns any of them into ``Error: <message>`` on stderr; nothing else
in the package prints or exits.
"""

from __future__ import annotations


class JaccliError(Exception):
    """Bad input that the user can fix; exit code 2."""

    exit_code = 2


CARET_WIDTH = 60  # characters of a long expression shown around an error's column


class ParseError(JaccliError):
    """The expression or a point value could not be read."""

    def __init__(self, message: str, text: str | None = None, column: int | None = None):
        self.text = text
        self.column = column
        super().__init__(message)

    def caret(self) -> str | None:
        """Two lines, the text and a caret under the offending column, when known."""
        if self.text is None or self.column is None or "\n" in self.text:
            return None
        text, column = self.text, self.column
        if len(text) > 2 * CARET_WIDTH:  # a long (generated) expression: the part around the column, not all of it
            start = max(0, min(column - CARET_WIDTH // 2, len(text) - CARET_WIDTH))
            before, after = ("…" if start else ""), ("…" if start + CARET_WIDTH < len(text) else "")
            text, column = before + text[start:start + CARET_WIDTH] + after, column - start + len(before)
        return f"  {text}\n  {' ' * column}^"


class UnknownNameError(ParseError):
    """A function or constant name that jaccli does not know."""


class ShapeError(JaccliError):
    """Values, variables and operands whose sizes do not fit together."""


class LimitError(JaccliError):
    """Input beyond a documented resource limit (length, depth, size)."""


class UndefinedError(JaccliError):
    """A constant part of the expression has no real value (sqrt(-1), acos(2), 0/0)."""
