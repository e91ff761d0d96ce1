from __future__ import annotations

from collections.abc import Iterator, Mapping

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Instruction, Stage, Variable, expand
from auditor.params import Params

ID = "DF011"
NODES = "dockerfile.final_stage"


def exposed_ports(instruction: Instruction, scope: Mapping[str, Variable]) -> list[tuple[str, list[int]]]:
    """Each ``EXPOSE`` operand as written with its ports (``3000/tcp``, ``8000-8002``, ``$PORT``);
    an operand that does not resolve to numbers gets an empty list."""
    result = []
    for operand in instruction.arguments.split():
        number = expand(operand, scope).partition("/")[0]
        low, _, high = number.partition("-")
        try:
            result.append((operand, list(range(int(low), int(high or low) + 1))))
        except ValueError:
            result.append((operand, []))
    return result


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    wanted = int(params["port"])
    exposes = [i for i in doc.inherited_instructions(final) if i.keyword == "EXPOSE"]
    found = None
    scope = doc.variables(final)  # EXPOSE $PORT with ENV PORT=3000
    for instruction in exposes:
        for operand, ports in exposed_ports(instruction, scope):
            privileged = [p for p in ports if p < 1024]
            if privileged:
                yield Fail(instruction, f"EXPOSE {operand} includes a privileged port (< 1024), which needs root "
                                        f"to bind; serve on {wanted} and remove it here")
            if wanted in ports:
                found = instruction
    if found is not None:
        yield Pass(found, f"final {final.label} exposes {wanted}")
    elif exposes:
        shown = ", ".join(" ".join(i.arguments.split()) for i in exposes)
        yield Fail(exposes[-1], f"final {final.label} exposes {shown} but not the app port {wanted}; "
                                f"EXPOSE {wanted} here")
    else:
        yield Fail(final, f"final {final.label} has no EXPOSE; add EXPOSE {wanted} for the app port")
