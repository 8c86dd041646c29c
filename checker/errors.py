"""The errors a user sees: bad input (a file, a place in it, what was expected), and internal
errors (a fault of stagelock itself, never a verdict)."""

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
"""The interruptions (Ctrl-C, SIGTERM) the command's signal handlers raised and nothing has
handled yet (`interrupted`, `handled`)."""


def interrupted(stop: KeyboardInterrupt) -> KeyboardInterrupt:
    """Record an interruption as it is raised (by the command's signal handlers)."""
    _RECEIVED.append(stop)
    return stop


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

