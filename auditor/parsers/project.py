"""Discovered files -> ``Project``: each file read once, decoded once and given to its parser."""
from __future__ import annotations

import re
from pathlib import Path

from auditor.discovery import Discovered
from auditor.model.dockerignore import parse_dockerignore
from auditor.model.project import Project
from auditor.model.span import Note, ParseProblem, Span
from auditor.model.yaml import YamlDocument, YMap
from auditor.parsers.compose import parse_compose
from auditor.parsers.dockerfile import parse_dockerfile
from auditor.parsers.yaml_loader import load_yaml_documents

_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def read_text(root: Path, relative: str) -> tuple[str | None, ParseProblem | None]:
    """The file as text, or the problem that stopped it: unreadable, binary, not UTF-8."""
    try:
        data = (root / relative).read_bytes()
    except OSError as exc:
        return None, ParseProblem(Span(relative, 1), f"file not readable: {exc.strerror or exc}")
    if b"\0" in data[:8192]:
        return None, ParseProblem(Span(relative, 1), "binary content (NUL bytes) where text was expected")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, ParseProblem(Span(relative, line), f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")


def build_project(found: Discovered) -> Project:
    root = found.root
    sources: dict[str, str] = {}
    problems: list[ParseProblem] = []
    notes: list[Note] = list(found.notes)
    unparsed: dict[str, list[str]] = {}

    def text_of(relative: str, target: str) -> str | None:
        text, problem = read_text(root, relative)
        if problem:
            problems.append(problem)
            unparsed.setdefault(target, []).append(relative)
        else:
            sources[relative] = text  # type: ignore[assignment]
        return text

    def parsed(relative: str, target: str, file_problems: list[ParseProblem]) -> None:
        problems.extend(file_problems)
        if file_problems:
            unparsed.setdefault(target, []).append(relative)

    dockerfiles = []
    for relative in found.dockerfiles:
        text = text_of(relative, "dockerfile")
        if text is not None:
            dockerfile, file_problems = parse_dockerfile(text, relative)
            parsed(relative, "dockerfile", file_problems)
            if dockerfile.stages:
                dockerfiles.append(dockerfile)

    compose_files = []
    for relative in found.compose:
        text = text_of(relative, "compose")
        if text is not None:
            compose, file_problems = parse_compose(text, relative)
            parsed(relative, "compose", file_problems)
            if compose is not None:
                compose_files.append(compose)

    manifests: list[YamlDocument] = []
    for relative in found.yaml:
        text = text_of(relative, "kubernetes")
        if text is None:
            continue
        if _TEMPLATE.search(text):
            notes.append(Note(Span(relative, _first_template_line(text)),
                              "contains template expressions ({{ }}, Helm or similar) that are not rendered; not checked"))
            continue
        documents, file_problems = load_yaml_documents(text, relative)
        parsed(relative, "kubernetes", file_problems)
        manifests.extend(doc for doc in documents if _is_manifest(doc))

    dockerignores = []
    for relative in found.dockerignores:
        text = text_of(relative, "dockerfile")
        if text is not None:
            dockerignores.append(parse_dockerignore(text, relative))

    kubernetes = None
    if manifests:
        from auditor.parsers.kubernetes import build_kubernetes

        kubernetes, file_problems, file_notes = build_kubernetes(manifests)
        problems.extend(file_problems)
        notes.extend(file_notes)
        for problem in file_problems:
            unparsed.setdefault("kubernetes", []).append(problem.span.path)

    nginx_configs: list = []
    if found.nginx:
        from auditor.parsers.nginx import parse_nginx

        nginx_configs, file_problems, file_notes = parse_nginx(root, found.nginx)
        problems.extend(file_problems)
        notes.extend(file_notes)
        for problem in file_problems:
            unparsed.setdefault("nginx", []).append(problem.span.path)

    next_apps: list = []
    if found.next_files:
        from auditor.parsers.nextjs import build_next_apps

        next_apps, file_problems, file_notes = build_next_apps(root, found.next_files)
        problems.extend(file_problems)
        notes.extend(file_notes)
        for problem in file_problems:
            unparsed.setdefault("nextjs", []).append(problem.span.path)

    return Project(
        root=root, files=tuple(found.files), dockerfiles=tuple(dockerfiles),
        dockerignores=tuple(dockerignores), compose_files=tuple(compose_files), kubernetes=kubernetes,
        nginx_configs=tuple(nginx_configs), next_apps=tuple(next_apps), problems=tuple(problems),
        notes=tuple(notes), unparsed={k: tuple(sorted(set(v))) for k, v in unparsed.items()},
        sources=sources,
        recognised=tuple(sorted(set(found.dockerfiles + found.compose + found.yaml + found.nginx
                                    + found.dockerignores + found.next_files) - set(found.too_large))))


def _is_manifest(document: YamlDocument) -> bool:
    root = document.root
    return isinstance(root, YMap) and "apiVersion" in root and "kind" in root


def _first_template_line(text: str) -> int:
    match = _TEMPLATE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


