"""The whole audited tree, parsed: what every check and every cross-file rule receives."""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.model.compose import ComposeFile
from auditor.model.dockerfile import Dockerfile
from auditor.model.dockerignore import DockerIgnore
from auditor.model.span import Note, ParseProblem

if TYPE_CHECKING:
    from auditor.model.kubernetes import KubernetesSet
    from auditor.model.nextjs import NextApp
    from auditor.model.nginx import NginxConfig


def inside_root(path: str) -> str | None:
    """A '/'-separated path normalised against the scan root ('' for the root itself); ``None``
    when it leaves the root or is a remote build context (a Git URL), which the audit cannot see."""
    if "://" in path or path.startswith("git@"):
        return None
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("../") or cleaned == ".." or cleaned.startswith("/"):
        return None
    return "" if cleaned == "." else cleaned


_UNREAD_TEXT_LIMIT = 1024 * 1024


def _read_regular(path: Path, limit: int | None) -> str:
    """A regular file's text ('' for anything else, or when over ``limit`` bytes); the open does
    not block on a FIFO."""
    import os
    import stat

    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # a folder (the scan root): fdopen would raise
        os.close(descriptor)
        return ""
    with os.fdopen(descriptor, "rb") as handle:
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
                return ""
            return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""


@dataclass(frozen=True)
class Project:
    root: Path
    files: tuple[str, ...]
    dockerfiles: tuple[Dockerfile, ...] = ()
    dockerignores: tuple[DockerIgnore, ...] = ()
    compose_files: tuple[ComposeFile, ...] = ()
    kubernetes: KubernetesSet | None = None
    nginx_configs: tuple[NginxConfig, ...] = ()
    next_apps: tuple[NextApp, ...] = ()
    problems: tuple[ParseProblem, ...] = ()
    notes: tuple[Note, ...] = ()
    # target -> files of that kind that did not parse: their controls are "not checked", not passed
    unparsed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # text of files read, for snippets
    recognised: tuple[str, ...] = ()  # every file read as one of the audited kinds
    role_overrides: Mapping[str, str] = field(default_factory=dict)  # configuration `roles:` (name -> role)
    # each Helm chart render and each Kustomize overlay: its own deployment, checked on its own
    rendered_kubernetes: tuple[KubernetesSet, ...] = ()
    # charts and overlays that could not be rendered: AUD004, their objects not checked
    unrendered: tuple[ParseProblem, ...] = ()
    # what each image and container copies or mounts where (parsers/configmap_nginx.Mount)
    mounts: tuple[Any, ...] = ()

    def documents_for(self, target: str) -> list[Any]:
        if target == "dockerfile":
            return list(self.dockerfiles)
        if target == "compose":
            return list(self.compose_files)
        if target == "nginx":
            return list(self.nginx_configs)
        if target == "kubernetes":
            plain = [self.kubernetes] if self.kubernetes is not None and self.kubernetes_present else []
            return plain + [rendered for rendered in self.rendered_kubernetes if rendered.objects]
        if target == "nextjs":
            return list(self.next_apps)
        if target == "project":
            return [self]
        return []

    def for_roles(self, roles: tuple[str, ...] | None) -> Project:
        """The project as a rule that applies to ``roles`` sees it (see ``model.deployment.role_view``)."""
        from auditor.model.deployment import role_view

        return role_view(self, roles)

    @property
    def kubernetes_present(self) -> bool:
        return bool(getattr(self.kubernetes, "objects", ()))

    def dockerignore_for(self, context_dir: str, dockerfile_path: str | None = None) -> DockerIgnore | None:
        """The ignore file Docker uses for a build context folder ('' = the scan root):
        BuildKit prefers ``<Dockerfile>.dockerignore`` beside the Dockerfile, then the context's
        ``.dockerignore``."""
        wanted = [f"{dockerfile_path}.dockerignore"] if dockerfile_path else []
        wanted.append(f"{context_dir}/.dockerignore" if context_dir else ".dockerignore")
        by_path = {d.path: d for d in self.dockerignores}
        return next((by_path[path] for path in wanted if path in by_path), None)

    @property
    def recognised_set(self) -> frozenset[str]:
        cached = self.__dict__.get("_recognised_set")
        if cached is None:
            cached = self.__dict__["_recognised_set"] = frozenset(self.recognised)
        return cached

    def text(self, path: str) -> str:
        """A file's text, read once (nginx files are read by crossplane, so not kept at parse time)."""
        text = self.sources.get(path)
        if text is None:
            # a file that was not read (a FIFO, one over the size cap) may carry a finding (AUD003):
            # never block on it, never load a huge one for a snippet
            limit = None if path in self.recognised_set else _UNREAD_TEXT_LIMIT
            text = _read_regular(self.root / path, limit)
            if isinstance(self.sources, dict):
                self.sources[path] = text
        return text

    def all_sources(self) -> dict[str, str]:
        """Every recognised file's text, for inline suppressions (any of them may hold one)."""
        for path in self.recognised:
            self.text(path)
        return dict(self.sources)

    def line_text(self, path: str, line: int) -> str:
        """One source line (for snippets and fingerprints); reads the file if it was not kept."""
        split = self.__dict__.setdefault("_lines", {})  # split once per file, not once per finding
        lines = split.get(path)
        if lines is None:
            lines = split[path] = self.text(path).splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""
