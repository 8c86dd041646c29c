"""The errors a user sees: bad input (a file, a place in it, what was expected), and internal
errors (a fault of stagelock itself, never a verdict)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


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


EXIT_INTERNAL = 4
"""The exit status of an internal error, distinct from 0 proved, 1 refuted, 2 bad input and
3 undetermined or interrupted."""


class InternalError(Exception):
    """A fault of stagelock itself (for example, a compiled engine's trace that the readable rules
    do not reproduce).  Never turned into a verdict: the command reports it and exits with
    `EXIT_INTERNAL`."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command's signal handler: handled exactly like
    Ctrl-C (the report so far, unfinished parts UNDETERMINED, exit 3)."""


_RECEIVED: list[KeyboardInterrupt] = []
"""The interruptions (Ctrl-C, SIGTERM) the command's signal handlers received and nothing has
handled yet (`interrupt`, `handled`)."""


_DEFERRING = [0]
"""How many `deferred_interruptions` sections are open."""


def interrupt(stop: KeyboardInterrupt) -> None:
    """What the command's signal handlers do: record the interruption and raise it, or, inside
    a `deferred_interruptions` section, only record it (it is raised when the section ends)."""
    _RECEIVED.append(stop)
    if not _DEFERRING[0]:
        raise stop


@contextlib.contextmanager
def deferred_interruptions() -> Iterator[None]:
    """A section in which Ctrl-C and SIGTERM are only recorded: numba loading the kernel from
    its cache, where an exception raised by a signal handler lands inside llvmlite's
    finalisers, is dropped there, and leaves a traceback on stderr.  The engines raise what was
    recorded at their next checkpoint (`reraise_interruption`), inside the search, so that it
    ends that search as any interruption does."""
    _DEFERRING[0] += 1
    try:
        yield
    finally:
        _DEFERRING[0] -= 1


def handled() -> None:
    """Forget the interruptions received so far: they have been reported (or a new command
    starts)."""
    _RECEIVED.clear()


def reraise_interruption() -> None:
    """Raise again an interruption that was received but never arrived: Python drops an
    exception raised inside a finaliser (`__del__`), and a signal that came while numba was
    loading the kernel from its cache was lost that way, so the search went on as if Ctrl-C had
    never been pressed.  The engines call this where they look at the clock."""
    if _RECEIVED:
        raise _RECEIVED[-1]

