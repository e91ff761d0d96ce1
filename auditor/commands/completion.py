"""``auditor completion bash|zsh|fish``: the shell completion script, generated with shtab from
the very parser the command line uses, so every subcommand, option and choice is completed and
none is forgotten when the CLI grows. Paths complete as files (``PATH``, ``FILE``) or folders
(``DIR``)."""
from __future__ import annotations

import argparse
import sys

from auditor.cli import EXIT_OK, UsageError


def completion_script(shell: str) -> str:
    try:
        import shtab
    except ImportError as exc:  # a broken installation: shtab is a dependency
        raise UsageError("shell completion needs the shtab package: pip install shtab") from exc
    from auditor.cli import build_parser

    parser = build_parser()
    _mark_paths(parser)
    return shtab.complete(parser, shell=shell)


def _mark_paths(parser: argparse.ArgumentParser) -> None:
    """Arguments that name files or folders complete as such (shtab's ``complete`` attribute)."""
    import shtab  # imported by completion_script already

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _mark_paths(sub)
            continue
        if action.choices:
            continue
        metavar = str(action.metavar or "")
        if metavar in ("PATH", "FILE", "FORMAT[:FILE]", "REPORT.json"):
            # shtab's documented interface is an attribute it reads from argparse's actions, which
            # typeshed's Action does not declare (a third-party gap, not ours)
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif metavar == "DIR":
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]  # as above


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(completion_script(args.shell))
    return EXIT_OK
