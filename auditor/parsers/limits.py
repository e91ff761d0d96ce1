"""Resource bounds for parsing untrusted files: a per-file budget of CPU time.

Input size is bounded before any parser runs (discovery's ``max_file_size``, a line-length cap in
``parsers/project.py``), which is what keeps the C parsers (libyaml, ``json``, tree-sitter)
linear and short. The time budget is the second line of defence for the pure-Python parsers
(dockerfile-parse, crossplane) whose worst cases are super-linear.

The budget counts the process's CPU time (``ITIMER_PROF``, delivered as ``SIGPROF``), not wall
time: whether a file is checked must not depend on how busy the machine is. On a loaded CI
runner a wall-clock budget turned a file that parses in 3 s of CPU into "not checked" (AUD003)
at random; CPU time gives the same verdict for the same file everywhere. (The parsers only
compute: their input is read, size-capped and FIFO-safe, before the budget starts.) The signal
interrupts Python code between bytecodes. Signals can only be handled in the main thread, so in
any other thread (``auditor.api.scan`` called from a worker) the budget is not enforced and the
input bounds alone apply; a handler or timer someone else installed is restored afterwards.
"""
from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class ParseTimeout(BaseException):
    """The file's time budget ran out. A ``BaseException`` so that a parser's own broad
    ``except Exception`` (crossplane is wrapped in one) cannot swallow it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"parsing took longer than the {seconds:g} s time budget")
        self.seconds = seconds


def budget_enforceable() -> bool:
    """Whether this platform has the CPU-time timer (POSIX); whether this thread may use it is
    known when its handler is set (``signal.signal`` refuses any thread but the main one), which
    asks no ``threading`` (whose import a one-project scan does without)."""
    return hasattr(signal, "setitimer")


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise ``ParseTimeout`` inside the block once it has used ``seconds`` of CPU time (main
    thread only). Nested budgets: the inner one wins while it runs, the outer timer is re-armed
    after."""
    if not seconds or seconds <= 0 or not budget_enforceable():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise ParseTimeout(seconds)

    try:
        previous_handler = signal.signal(signal.SIGPROF, expire)
    except ValueError:  # not the main thread: it alone receives signals and may set their handlers
        yield
        return
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous_handler)
        if previous_delay:
            signal.setitimer(signal.ITIMER_PROF, previous_delay, previous_interval)
