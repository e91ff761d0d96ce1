"""Compose file text -> ``auditor.model.compose.ComposeFile``."""
from __future__ import annotations

from auditor.model.compose import BuildSpec, ComposeFile, Service, interpolate
from auditor.model.span import ParseProblem, Span
from auditor.model.yaml import YMap
from auditor.parsers.yaml_loader import load_yaml_documents


def parse_compose(text: str, path: str) -> tuple[ComposeFile | None, list[ParseProblem]]:
    documents, problems = load_yaml_documents(text, path)
    if not documents:
        if not problems:
            problems.append(ParseProblem(Span(path, 1), "empty Compose file"))
        return None, problems
    root = documents[0].root
    if not isinstance(root, YMap):
        problems.append(ParseProblem(documents[0].span, "a Compose file must be a mapping at the top level"))
        return None, problems
    services_map = root.get("services")
    if services_map is None and "version" not in root:
        problems.append(ParseProblem(root.span, "no `services:` key: not a Compose file"))
    services = []
    if isinstance(services_map, YMap):
        for name, body in services_map.items():
            key_span = services_map.key_span(name)
            if not isinstance(body, YMap):
                if body is not None:
                    problems.append(ParseProblem(key_span, f"service {name!r} must be a mapping"))
                body = YMap(key_span)
            services.append(Service(str(name), key_span, body, _build_spec(body)))
    elif services_map is not None:
        problems.append(ParseProblem(root.value_span("services"), "`services:` must be a mapping"))
    return ComposeFile(path, root.span, root, tuple(services)), problems


def _build_spec(body: YMap) -> BuildSpec | None:
    build = body.get("build")
    if build is None:
        return None
    span = body.key_span("build")
    if isinstance(build, dict):
        context = str(interpolate(build.get("context", ".")) or ".")
        dockerfile = str(interpolate(build.get("dockerfile", "Dockerfile")) or "Dockerfile")
        target = interpolate(build.get("target"))
        return BuildSpec(context, dockerfile, span, str(target) if target else None)
    return BuildSpec(str(interpolate(build)) or ".", "Dockerfile", span)
