"""Reading package-lock.json for locations and dependency paths (never writing it)."""
from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path

from auditor.scanners.records import JsonObject

_MAX_LOCKFILE_BYTES = 64 * 1024 * 1024


def file_under_root(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a regular file that really lives under root (a symlink or
    ``..`` that leads out is refused: we never read outside the scan root)."""
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
        return None
    return candidate


def read_text(root: Path, relative: str) -> str | None:
    path = file_under_root(root, relative)
    if path is None:
        return None
    try:
        if path.stat().st_size > _MAX_LOCKFILE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def node_line(text: str, node: str) -> int | None:
    """Line of ``"node_modules/x": {`` in a v2/v3 lockfile."""
    pattern = re.compile(r'^\s*"' + re.escape(node) + r'"\s*:\s*\{', re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def package_line(root: Path, relative: str, package: str, version: str | None = None) -> int | None:
    """First line describing ``package`` in a lockfile of the tree: in package-lock.json the
    hoisted ``node_modules/<package>`` entry (v2/v3), else the v1 ``"<package>": {`` key; in
    yarn.lock the entry's header (``lodash@^4.17.15:``, ``"lodash@npm:^4.17.15":``); in
    pnpm-lock.yaml the package's key (``/lodash@4.17.15:``, ``lodash@4.17.15:``)."""
    name = relative.rpartition("/")[2]
    if name not in ("package-lock.json", "yarn.lock", "pnpm-lock.yaml"):
        return None
    text = read_text(root, relative)
    if text is None:
        return None
    if name == "yarn.lock":
        return _first_line(text, r'^"?' + re.escape(package) + r'@[^\n]*:[ \t]*$')
    if name == "pnpm-lock.yaml":
        exact = re.escape(f"{package}@{version}") if version else re.escape(package) + r"@[^:\s]+"
        return _first_line(text, r"^[ \t]+['\"]?/?" + exact + r"(?:\([^\n]*\))?['\"]?:[ \t]*$")
    return node_line(text, f"node_modules/{package}") or node_line(text, package)


def _first_line(text: str, pattern: str) -> int | None:
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse(text: str) -> JsonObject:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def dependency_path(lock: JsonObject, node: str) -> list[str]:
    """Package names from a direct dependency of the root down to the lockfile entry ``node``
    ("node_modules/a/node_modules/lodash"), resolving names the way Node does: the nearest
    ``node_modules`` walking up. Falls back to the nesting in ``node`` for v1 lockfiles."""
    packages = lock.get("packages")
    nesting = [part for part in node.split("node_modules/") if part]
    fallback = [part.rstrip("/") for part in nesting]
    if not isinstance(packages, dict) or node not in packages:
        return fallback
    previous: dict[str, str] = {"": ""}
    queue: deque[str] = deque([""])
    while queue:
        location = queue.popleft()
        if location == node:
            return _names(previous, node)
        entry = packages.get(location)
        if not isinstance(entry, dict):  # a hostile or broken lockfile: "": [] or "": "x"
            continue
        for name in _dependency_names(entry, is_root=location == ""):
            target = _resolve(packages, location, name)
            if target is not None and target not in previous:
                previous[target] = location
                queue.append(target)
    return fallback


def _dependency_names(entry: JsonObject, *, is_root: bool) -> list[str]:
    kinds = ["dependencies", "optionalDependencies", "peerDependencies"]
    if is_root:
        kinds.append("devDependencies")
    names: list[str] = []
    for kind in kinds:
        value = entry.get(kind)
        if isinstance(value, dict):
            names.extend(str(name) for name in value)
    return names


def _resolve(packages: JsonObject, location: str, name: str) -> str | None:
    here = location
    while True:
        candidate = f"{here}/node_modules/{name}" if here else f"node_modules/{name}"
        entry = packages.get(candidate)
        if isinstance(entry, dict):
            # Workspaces: node_modules/app is a link to the folder that holds the package.
            if entry.get("link") and isinstance(entry.get("resolved"), str):
                return entry["resolved"] if entry["resolved"] in packages else candidate
            return candidate
        if not here:
            return None
        cut = here.rfind("/node_modules/")
        here = here[:cut] if cut >= 0 else ""


def _names(previous: dict[str, str], node: str) -> list[str]:
    chain: list[str] = []
    location = node
    while location:
        chain.append(location.rsplit("node_modules/", 1)[-1])
        location = previous[location]
    return list(reversed(chain))
