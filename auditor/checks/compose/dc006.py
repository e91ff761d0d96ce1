from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.compose._helpers import label, probes_path
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import ComposeFile, Service
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params

ID = "DC006"
NODES = "document"


def check(project: Project, params: Params) -> Iterator[Outcome]:
    health_path = params["health_path"]
    for compose in project.compose_files:
        for service in compose.services:
            yield from _service_outcomes(project, compose, service, health_path)


def _service_outcomes(project: Project, compose: ComposeFile, service: Service, health_path: str) -> Iterator[Outcome]:
    healthcheck = service.healthcheck
    if healthcheck is not None and healthcheck.disabled:
        yield Fail(healthcheck.test_span,
                   f"{label(service)} disables its healthcheck; remove that and probe {health_path}")
    elif healthcheck is not None and healthcheck.test:
        command = _short(healthcheck.command)
        if probes_path(healthcheck.command, health_path):
            yield Pass(healthcheck.test_span, f"{label(service)} healthcheck probes {health_path}: {command}")
        else:
            yield Fail(healthcheck.test_span, f"{label(service)} healthcheck runs `{command}`, which does not "
                                              f"request {health_path}; probe http://localhost:3000{health_path}")
    else:  # no test of its own: the image's HEALTHCHECK applies, if the image has one
        anchor = healthcheck.span if healthcheck is not None else service.span
        yield _inherited(project, compose, service, health_path, anchor)


def _inherited(project: Project, compose: ComposeFile, service: Service, health_path: str, anchor: Span) -> Outcome:
    advice = f"add healthcheck: test: [\"CMD\", \"wget\", \"-qO-\", \"http://localhost:3000{health_path}\"]"
    path = compose.service_dockerfile_path(service)
    dockerfile = next((d for d in project.dockerfiles if d.path == path), None)
    if dockerfile is None:
        source = f"its Dockerfile {path} is not in the audited tree" if path else \
            f"its image {service.image or '(none)'} is not built here, so no image HEALTHCHECK can be seen"
        return Fail(anchor, f"{label(service)} has no healthcheck test and {source}; {advice}")
    stage = _runtime_stage(dockerfile, service.build.target if service.build else None)
    instruction = dockerfile.last_inherited(stage, "HEALTHCHECK") if stage else None  # FROM an earlier stage too
    if instruction is None:
        return Fail(anchor, f"{label(service)} has no healthcheck test and its image from {dockerfile.path} has no "
                            f"HEALTHCHECK; {advice}", related=[stage or dockerfile])
    if instruction.arguments.strip().upper() == "NONE":
        return Fail(anchor, f"{label(service)} has no healthcheck test and its image from {dockerfile.path} turns it "
                            f"off with HEALTHCHECK NONE; {advice}", related=[instruction])
    if not probes_path(instruction.command_text, health_path):
        return Fail(anchor, f"{label(service)} inherits HEALTHCHECK `{_short(instruction.arguments)}` from "
                            f"{dockerfile.path}, which does not request {health_path}; {advice}", related=[instruction])
    return Pass(anchor, f"{label(service)} inherits the HEALTHCHECK of {dockerfile.path} line "
                        f"{instruction.span.line}, which probes {health_path}")


def _runtime_stage(dockerfile: Dockerfile, target: str | None) -> Stage | None:
    """The stage the image is built from: ``build.target`` when set, else the last one."""
    return dockerfile.stage_named(target) if target else dockerfile.final_stage


def _short(command: str, limit: int = 80) -> str:
    command = " ".join(command.split())
    return command if len(command) <= limit else command[: limit - 3] + "..."
