from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import unreadable_runs
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile
from auditor.params import Params
from auditor.parsers.shell import SHELLS, ShellCommand, script_operand
from auditor.patterns import on_first_use

ID = "DF017"
NODES = "document"
FETCHERS = frozenset({"curl", "wget"})
# Programs that run the text they are given: a shell, and eval/source/. inside one.
_RUNNERS = SHELLS | {"eval", "source", "."}
_URL = on_first_use(r"^(https?://|git@|ftp://)", re.IGNORECASE)


def fetched_script(command: ShellCommand) -> tuple[ShellCommand, ...]:
    """The curl/wget commands whose output this command runs as a script: piped into a shell
    (``curl ... | sh``), or substituted into its words (``sh -c "$(curl ...)"``,
    ``bash <(wget -qO- ...)``, ``eval "$(curl ...)"``)."""
    if command.name not in _RUNNERS:
        return ()
    substituted = tuple(c for c in command.substituted if c.name in FETCHERS)
    if substituted:
        return substituted
    reads_stdin = command.name in SHELLS and script_operand(command) is None and all(
        w.startswith(("-", "+")) for w in command.program[1:2])
    return tuple(c for c in command.upstream if c.name in FETCHERS) if reads_stdin else ()


def check(doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    checked = failed = 0
    for instruction in doc.instructions:
        if instruction.keyword == "ADD":
            checked += 1
            for source in instruction.copy_sources:
                if _URL.match(source.strip("\"'")):
                    failed += 1
                    yield Fail(instruction, f"ADD fetches {source} at build time without verification; "
                                            "download it in a RUN that checks a pinned checksum, or COPY a vendored file")
        elif instruction.keyword == "RUN":
            checked += 1
            for command in instruction.commands:
                fetchers = fetched_script(command)
                if fetchers:
                    failed += 1
                    shown = " | ".join([c.text for c in command.upstream] + [command.text]) if not command.substituted \
                        else f"{command.text}"
                    yield Fail(instruction, f"'{shown}' runs a downloaded script unverified; download it, "
                                            "check its SHA-256, then run it")
    yield from unreadable_runs(doc, "curl", "wget")
    if checked and not failed:
        yield Pass(doc, f"{checked} RUN/ADD instruction(s) fetch nothing into a shell")
