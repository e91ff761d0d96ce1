from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import unreadable_runs
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction, Stage
from auditor.params import Params

ID = "DF010"
NODES = "dockerfile.final_stage"
INIT_BINARIES = frozenset({"dumb-init", "tini", "tini-static"})
_INSTALLERS = {("apk", "add"), ("apt-get", "install"), ("apt", "install"), ("yum", "install"),
               ("dnf", "install"), ("microdnf", "install")}


def installs_init(instruction: Instruction) -> bool:
    """A package manager installing dumb-init/tini, or a COPY/ADD of the binary."""
    if instruction.keyword in ("COPY", "ADD"):
        operands = [*instruction.copy_sources, instruction.copy_destination or ""]
        return any(posixpath.basename(o.rstrip("/")) in INIT_BINARIES for o in operands)
    for command in instruction.commands:
        words = command.program
        if len(words) > 1 and any((command.name, w) in _INSTALLERS for w in words[1:3]):
            if any(w.split("=", 1)[0] in INIT_BINARIES for w in words[2:]):
                return True
    return False


def init_in(instruction: Instruction | None) -> bool:
    return bool(instruction and instruction.exec_args and posixpath.basename(instruction.exec_args[0]) in INIT_BINARIES)


def check_stage(doc: Dockerfile, final: Stage) -> Outcome:
    installed = next((i for i in doc.inherited_instructions(final) if installs_init(i)), None)
    entrypoint = doc.last_inherited(final, "ENTRYPOINT")
    if entrypoint is not None and entrypoint.exec_args and init_in(entrypoint):
        if installed:
            return Pass(entrypoint, f"init process {entrypoint.exec_args[0]} is the ENTRYPOINT")
        return Fail(entrypoint, f"ENTRYPOINT starts {entrypoint.exec_args[0]} but the final {final.label} "
                                "never installs it; add RUN apk add --no-cache dumb-init")
    command = doc.last_inherited(final, "CMD")
    if command is not None and command.exec_args and init_in(command):
        return Fail(command, f"{command.exec_args[0]} is in CMD, which any run command replaces; "
                             f"move it to ENTRYPOINT [\"{command.exec_args[0]}\", \"--\"]")
    if entrypoint is not None and not entrypoint.exec_form:
        return Fail(entrypoint, f"ENTRYPOINT {entrypoint.arguments.strip()} is in shell form, so /bin/sh is "
                                "PID 1 and reaps nothing; write ENTRYPOINT [\"dumb-init\", \"--\"]")
    shown = f"ENTRYPOINT {entrypoint.arguments.strip()}" if entrypoint else "no ENTRYPOINT"
    step = "" if installed else "install dumb-init (apk add --no-cache dumb-init) and "
    return Fail(entrypoint or final, f"final {final.label} has {shown}, so the app is PID 1 and no init "
                                     f"reaps zombies or forwards signals; {step}set ENTRYPOINT [\"dumb-init\", \"--\"]")


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    outcome = check_stage(doc, final)
    yield outcome
    if isinstance(outcome, Fail):
        # The init may be installed in a RUN whose shell text was not understood.
        yield from unreadable_runs(doc, *INIT_BINARIES)
