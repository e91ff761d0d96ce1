from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import ends_with, is_whole_tree, normalized
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction, Stage
from auditor.params import Params

ID = "DF013"
NODES = "dockerfile.final_stage"
REQUIRED = (".next/standalone", ".next/static", "public")


def whole_tree(doc: Dockerfile, instruction: Instruction, source: str) -> bool:
    """The builder's whole working tree, or the whole build context (``COPY . .``)."""
    reference = instruction.flags.get("from")
    source_stage = doc.stage_named(reference) if reference else None
    if source_stage is not None:
        return is_whole_tree(doc, source_stage, source)
    return reference is None and normalized(source) in (".", "*")


def origin(instruction: Instruction) -> str:
    reference = instruction.flags.get("from")
    return f"from {reference}" if reference else "from the build context"


def check_copies(doc: Dockerfile, final: Stage) -> Iterator[Fail | tuple[str, Instruction]]:
    """Fails for node_modules and whole-tree copies; (required path, COPY) for each found."""
    for instruction in final.instructions:
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        for source in instruction.copy_sources:
            if ends_with(source, "node_modules"):
                yield Fail(instruction, f"final {final.label} copies {source} {origin(instruction)}; the "
                                        "standalone output already bundles the modules it needs, so drop this COPY")
            elif whole_tree(doc, instruction, source):
                yield Fail(instruction, f"final {final.label} copies the whole build tree ({source}) "
                                        f"{origin(instruction)}; copy only .next/standalone, .next/static and public")
            yield from ((wanted, instruction) for wanted in REQUIRED if ends_with(source, wanted))


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    copied: dict[str, Instruction] = {}
    for outcome in check_copies(doc, final):
        if isinstance(outcome, Fail):
            yield outcome
        else:
            copied.setdefault(*outcome)
    missing = [wanted for wanted in REQUIRED if wanted not in copied]
    if missing:
        yield Fail(final, f"final {final.label} does not copy {', '.join(missing)}; add COPY "
                          "--from=builder lines for .next/standalone, .next/static and public")
    else:
        yield Pass(copied[".next/standalone"], f"final {final.label} copies the standalone output, static "
                                               "assets and public")
