"""The one kind of error the user sees for bad input: a file, a place in it, what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad input.  Printed as one line, ``FILE: PLACE: expected ...``; the command exits with 2."""

    def __init__(self, file: str, place: str, expected: str) -> None:
        self.file = file
        self.place = place
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.place}" if self.place else self.file
        return f"{where}: {self.expected}"
