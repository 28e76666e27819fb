"""The one error the frame package raises for bad input."""

from __future__ import annotations


class ParseError(ValueError):
    """A file or table that cannot be parsed; the message names the file (and line/column).

    A ValueError so the node's error mapping turns it into INVALID_ARGUMENT / HTTP 400.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.detail = message
        self.source = source
        self.line = line
