from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import BuildSpec
from auditor.model.dockerignore import DockerIgnore
from auditor.model.project import Project, normalized_inside_root
from auditor.params import Params

ID = "DF019"
NODES = "document"


def build_contexts(project: Project) -> dict[str, list[tuple[str, BuildSpec]]]:
    """Dockerfile path -> the (context folder, compose build entry) pairs that build it."""
    contexts: dict[str, list[tuple[str, BuildSpec]]] = {}
    for compose in project.compose_files:
        for service in compose.services:
            if service.build is None:
                continue
            context = normalized_inside_root(posixpath.join(compose.directory, service.build.context))
            if context is None:
                continue
            dockerfile = normalized_inside_root(posixpath.join(context, service.build.dockerfile))
            if dockerfile:
                contexts.setdefault(dockerfile, []).append((context, service.build))
    return contexts


def probes(entry: str) -> list[str]:
    """Paths an entry must exclude: ``.env*`` means .env and its variants."""
    return [entry.replace("*", suffix) for suffix in ("", ".local", ".production")] if "*" in entry else [entry]


def check_ignore(ignore: DockerIgnore, required: list[str]) -> Iterator[Outcome]:
    missing = []
    for entry in required:
        leaked = [path for path in probes(entry) if not ignore.excludes(path)]
        if not leaked:
            continue
        decided = ignore.pattern_for(leaked[0])
        if decided is not None and decided.negated:
            yield Fail(decided, f"!{decided.pattern} re-includes {leaked[0]} in the build context; "
                                f"remove this line so {entry} stays excluded")
        else:
            missing.append(entry if entry == leaked[0] else f"{entry} ({', '.join(leaked)})")
    if missing:
        yield Fail(ignore, f"{ignore.path} does not exclude {', '.join(missing)}; add a line for each")
    elif all(ignore.excludes(p) for entry in required for p in probes(entry)):
        yield Pass(ignore, f"{ignore.path} excludes {', '.join(required)}")


def check(doc: Project, params: Params) -> Iterator[Outcome]:
    required = list(params["required"])
    contexts = build_contexts(doc)
    checked: set[str] = set()
    for dockerfile in doc.dockerfiles:
        own: list[tuple[str, BuildSpec | None]] = [(dockerfile.directory, None)]
        for context, build in contexts.get(dockerfile.path) or own:
            ignore = doc.dockerignore_for(context, dockerfile.path)
            if ignore is None:
                folder = f"'{context}/'" if context else "(the scan root)"
                yield Fail(dockerfile, f"no .dockerignore in the build context of {dockerfile.path} {folder}, "
                                       f"so {', '.join(required)} are sent to the builder; add one there",
                           related=[build] if build else ())
            elif ignore.path not in checked:
                checked.add(ignore.path)
                yield from check_ignore(ignore, required)
    # A .dockerignore no Dockerfile here uses still marks a build context (built from elsewhere).
    for ignore in doc.dockerignores:
        if ignore.path not in checked:
            yield from check_ignore(ignore, required)
