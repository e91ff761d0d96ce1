"""The document an AR check compares with: named by ``architecture.document`` (the configuration,
a file of the audited tree) or ``--architecture FILE`` (the command line, trusted), read once per
scan, and what the deployment's files show, each at its line."""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.findings import Outcome, Unknown
from auditor.model.project import Project
from auditor.model.span import Span
from auditor.params import Params

if TYPE_CHECKING:  # the document's reader is imported only when a document is there to read
    from auditor.architecture.document import DocumentFacts, Statement

CI_FILES = (".gitlab-ci.yml", ".gitlab-ci.yaml", "Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml",
            "Makefile", "Taskfile.yml", "justfile", "package.json", ".pre-commit-config.yaml")
CI_FOLDERS = (".github/workflows", ".circleci", "scripts", "ci", ".ci")
CI_SIZE_CAP = 512 * 1024
CI_FOLDER_CAP = 200  # files read per CI folder
CONVENTIONAL = ("ARCHITECTURE.md", "docs/ARCHITECTURE.md", "docs/architecture.md")


def document_of(project: Project, params: Params) -> tuple[DocumentFacts | None, Unknown | None]:
    """The document's facts, or the reason it could not be read (an Unknown: not checked)."""
    name = params.get("document")
    if not name:  # none named: the conventional places, at the project's root
        name = _conventional(project)
        if name is None:
            return None, None
    trusted = bool(params.get("_document_trusted"))
    path = Path(name) if os.path.isabs(name) else project.root / name
    shown = name if os.path.isabs(name) or trusted else Path(name).as_posix()
    facts = _read(str(path), shown, None if trusted else str(project.root), _stamp(path))
    if facts.problems and not facts.statements:
        return None, Unknown(Span(shown, 1), "; ".join(facts.problems))
    return facts, None


def _conventional(project: Project) -> str | None:
    """The first of the conventional places that holds a file, looked up once per project (five
    AR rules ask)."""
    derived = project.memo.derived
    if _CONVENTIONAL_KEY in derived:
        found: str | None = derived[_CONVENTIONAL_KEY]
        return found
    root = str(project.root)  # plain strings, no Path objects
    found = derived[_CONVENTIONAL_KEY] = next(
        (candidate for candidate in CONVENTIONAL if os.path.isfile(os.path.join(root, candidate))), None)
    return found


_CONVENTIONAL_KEY = "architecture.conventional_document"


def against_document(check: Callable[[Project, DocumentFacts, Params], Iterator[Outcome]]
                     ) -> Callable[[Project, Params], Iterator[Outcome]]:
    """An AR check, given the document's facts: an unreadable document is an Unknown (the control
    is not checked), no document at all leaves nothing to compare."""

    @functools.wraps(check)
    def run(project: Project, params: Params) -> Iterator[Outcome]:
        facts, unknown = document_of(project, params)
        if unknown is not None:
            yield unknown
        if facts is not None:
            yield from check(project, facts, params)

    return run


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = os.stat(path)
        return info.st_mtime_ns, info.st_size
    except OSError:
        return 0, 0


@lru_cache(maxsize=8)
def _read(path: str, shown: str, tree_root: str | None, _stamp: tuple[int, int]) -> DocumentFacts:
    from auditor.architecture.document import read_document

    return read_document(Path(path), shown, Path(tree_root) if tree_root else None)


def at(facts: DocumentFacts, statement: Statement) -> Span:
    return Span(facts.path, statement.line)


def said(facts: DocumentFacts, statement: Statement, what: str) -> str:
    return f'the document says {what} at {facts.path}:{statement.line} ("{statement.quote}")'


def ci_texts(project: Project, unread: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """The CI workflows and scripts of the tree (read like any tree file: regular files inside it,
    size-capped), as (relative path, lines). Those that exist but could not be read are added to
    ``unread`` with why."""
    root = os.path.realpath(project.root)
    candidates = [name for name in CI_FILES]
    for folder in CI_FOLDERS:
        try:
            entries = sorted(os.listdir(os.path.join(root, folder)))
        except OSError:
            continue
        if len(entries) > CI_FOLDER_CAP and unread is not None:
            unread.append(f"{folder}/ ({len(entries) - CI_FOLDER_CAP} files past the first {CI_FOLDER_CAP} not read)")
        candidates += [f"{folder}/{entry}" for entry in entries[:CI_FOLDER_CAP]]
    for rel in candidates:
        full = os.path.join(root, rel)
        try:
            real = os.path.realpath(full)
            if os.path.commonpath([real, root]) != root or not os.path.isfile(real):
                continue
            if os.path.getsize(real) > CI_SIZE_CAP:
                if unread is not None:
                    unread.append(f"{rel} (over {CI_SIZE_CAP // 1024} KiB: not read)")
                continue
            with open(real, "rb") as handle:
                text = handle.read(CI_SIZE_CAP).decode("utf-8", errors="replace")
        except (OSError, ValueError) as exc:
            if unread is not None and os.path.lexists(full):
                unread.append(f"{rel} ({getattr(exc, 'strerror', None) or type(exc).__name__}: not read)")
            continue
        yield rel, text.splitlines()


def runs(project: Project, pattern: str, unread: list[str] | None = None) -> Span | None:
    """The first CI or script line (not a comment) that matches ``pattern``. CI files that could
    not be read (over the size cap, unreadable) are added to ``unread``: what is in them is not
    known, so a step missing from the rest is not proven missing."""
    compiled = re.compile(pattern, re.I)
    for rel, lines in ci_texts(project, unread):
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if stripped.startswith(("#", "//")):
                continue
            if compiled.search(stripped):
                return Span(rel, number)
    return None


def not_read(project: Project, kind: str) -> list[str]:
    """The files of ``kind`` (``nginx``, ``kubernetes``) the audit could not read, each with why
    (for Kubernetes, also the charts and overlays that were not rendered): a layer the document
    promises may be in them, so its absence from the rest is not a finding but an Unknown."""
    missing = [f"{path} (not parsed or not checked: AUD001/AUD003)" for path in project.unparsed.get(kind, ())]
    if kind == "kubernetes":
        missing += [f"{problem.span.path} (not rendered: AUD004)" for problem in project.unrendered]
    return list(dict.fromkeys(missing))
