"""What a long scan shows on a terminal while it runs: files parsed out of the total, the phase,
the elapsed time (rich's progress bar, on standard error).

The parsing code reports each file it reads with ``file_done()``; nothing listens unless
``auditor scan`` started a display, so the call costs one global lookup. Only the process that
started the display draws it: worker processes (forked with a copy of this module) are ignored,
their files are counted by the parent when their results come back (``files_done(n)``).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

DELAY_SECONDS = 1.0  # a scan that ends sooner shows nothing: a flash of a bar only distracts

_listener: Callable[[int], None] | None = None
_owner_pid = 0


def file_done() -> None:
    """One file was read for parsing (called by the parsers)."""
    if _listener is not None and os.getpid() == _owner_pid:
        _listener(1)


def files_done(count: int) -> None:
    """``count`` files were parsed elsewhere (a worker process) and their results are back."""
    if _listener is not None and os.getpid() == _owner_pid and count:
        _listener(count)


class Display:
    """The progress display of one scan. ``phase(text, total=None)`` names what runs now; the
    bar counts files. Drawing starts only after ``DELAY_SECONDS`` and the bar is removed at the
    end (transient), so the report that follows is all that stays on the screen."""

    def __init__(self, stream: IO[str], delay: float = DELAY_SECONDS) -> None:
        import threading  # (a scan that shows no display, the usual one, imports none)

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn(),
                                 console=self.console, transient=True, refresh_per_second=8)
        self.task = self.progress.add_task("discovering files", total=None)
        self.started_at = time.monotonic()
        self.shown = False
        self._stopped = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True

    def _show(self) -> None:
        with self._lock:
            if not self.shown and not self._stopped:
                self.progress.start()
                self.shown = True

    def start(self) -> None:
        self._timer.start()

    def phase(self, description: str, total: int | None = None) -> None:
        fields: dict[str, Any] = {"description": description}
        if total is not None:
            fields.update(total=total, completed=0)
        self.progress.update(self.task, **fields)

    def advance(self, count: int) -> None:
        task = self.progress.tasks[0]
        if task.total is None or task.completed < task.total:  # an include read twice never overflows
            self.progress.advance(self.task, count)

    def stop(self) -> None:
        with self._lock:
            self._timer.cancel()
            self._stopped = True
            if self.shown:
                self.progress.stop()


@contextmanager
def display(stream: IO[str], delay: float = DELAY_SECONDS) -> Iterator[Display]:
    """Show a progress display on ``stream`` for the duration of the block."""
    global _listener, _owner_pid
    shown = Display(stream, delay)
    _listener, _owner_pid = shown.advance, os.getpid()
    shown.start()
    try:
        yield shown
    finally:
        _listener = None
        shown.stop()


def wanted(choice: str, quiet: bool, stream: IO[str]) -> bool:
    """``--progress auto``: a terminal on standard error, not --quiet, no NO_COLOR, TERM not dumb."""
    if choice == "never" or quiet:
        return False
    if choice == "always":
        return True
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb" or os.environ.get("CI"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
