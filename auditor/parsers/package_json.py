"""package.json and package-lock.json -> model, keeping the line of every key a rule points at.

``json`` does the parsing; a separate scan of the text finds where keys sit, because the standard
library forgets positions. package-lock.json can run to megabytes, so its entries are located with
one C-speed regex pass aligned against the parsed key order instead of a Python tokenizer.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.nextjs import JsonEntry, LockedPackage, Lockfile, PackageJson
from auditor.model.span import ParseProblem, Span, file_span
from auditor.patterns import on_first_use

# Strings and structural characters; numbers and literals never contain either, so skipping them
# is safe in text that json.loads already accepted.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],]')
# What follows a key whose value is an object: every lockfile entry ("node_modules/x": {).
_OPENS_OBJECT = on_first_use(r"\s*:\s*\{")
_NODE_MODULES = "node_modules/"


def load_json(text: str, path: str) -> tuple[Any, list[ParseProblem]]:
    """``json.loads`` that turns a syntax error into a ParseProblem at the reported position."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        span = Span(path, error.lineno, error.colno)
        return None, [ParseProblem(span, f"invalid JSON: {error.msg}")]
    except RecursionError:  # absurdly deep nesting in user input must not crash the audit
        return None, [ParseProblem(file_span(path), "invalid JSON: nesting too deep")]


def key_spans(text: str, path: str, max_depth: int = 2) -> dict[tuple[str, ...], Span]:
    """Span of every object key down to ``max_depth`` levels, by key path: ``("scripts", "dev")``.

    Only for text that is valid JSON. Keys inside arrays are not recorded (nothing points there).
    """
    spans: dict[tuple[str, ...], Span] = {}
    # One frame per open container: [key path of the container (None inside an array), is an
    # object, the object's key being read, whether the next string is a key].
    stack: list[list[Any]] = []
    line, line_start, counted_to = 1, 0, 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()[0]
        if char == '"':
            if not stack or not stack[-1][3]:
                continue  # a value, not a key
            frame = stack[-1]
            key = _decode_key(token.group())
            frame[2], frame[3] = key, False
            if frame[0] is None or len(frame[0]) >= max_depth:
                continue
            start = token.start()
            newlines = text.count("\n", counted_to, start)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", counted_to, start) + 1
            counted_to = start
            spans[(*frame[0], key)] = Span(
                path, line, start - line_start + 1, line, token.end() - line_start + 1
            )
        elif char in "{[":
            own_path: tuple[str, ...] | None = ()
            if stack:
                parent = stack[-1]
                own_path = None if parent[0] is None or not parent[1] else (*parent[0], parent[2])
            is_object = char == "{"
            stack.append([own_path, is_object, None, is_object])
        elif char in "}]":
            if stack:
                stack.pop()
        elif stack and stack[-1][1]:  # a comma inside an object: a key comes next
            stack[-1][3] = True
    return spans


def _decode_key(quoted: str) -> str:
    if "\\" not in quoted:
        return quoted[1:-1]
    try:
        return str(json.loads(quoted))
    except ValueError:
        return quoted[1:-1]


def parse_package_json(text: str, path: str) -> tuple[PackageJson | None, list[ParseProblem]]:
    data, problems = load_json(text, path)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [ParseProblem(file_span(path), "package.json is not a JSON object")]
    spans = key_spans(text, path, max_depth=2)
    whole = file_span(path)

    def section(key: str) -> Mapping[str, JsonEntry]:
        value = data.get(key)
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, dict):
            problems.append(ParseProblem(spans.get((key,), whole), f'"{key}" is not an object'))
            return MappingProxyType({})
        return MappingProxyType({
            name: JsonEntry(name, item if isinstance(item, str) else None,
                            spans.get((key, name), spans.get((key,), whole)))
            for name, item in value.items()
        })

    package = PackageJson(
        span=whole,
        name=_string_or_none(data.get("name")),
        version=_string_or_none(data.get("version")),
        dependencies=section("dependencies"),
        dev_dependencies=section("devDependencies"),
        scripts=section("scripts"),
        workspaces=_workspace_globs(data.get("workspaces")),
        key_spans=MappingProxyType({key[0]: span for key, span in spans.items() if len(key) == 1}),
    )
    return package, problems


def _string_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _workspace_globs(value: object) -> tuple[str, ...]:
    # npm accepts an array; yarn also accepts {"packages": [...]}.
    if isinstance(value, dict):
        value = value.get("packages")
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def parse_lockfile(text: str, path: str) -> tuple[Lockfile | None, list[ParseProblem]]:
    data, problems = load_json(text, path)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [ParseProblem(file_span(path), "package-lock.json is not a JSON object")]
    version = data.get("lockfileVersion")
    packages = data.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3 (npm >= 7)
        installs, workspaces = _installs_v2(text, path, packages)
    else:
        installs, workspaces = _installs_v1(text, data.get("dependencies")), {}
    hoisted: dict[str, LockedPackage] = {}
    for install in sorted(installs, key=lambda item: item.path.count(_NODE_MODULES)):
        hoisted.setdefault(install.name, install)
    name = _string_or_none(data.get("name"))
    if name is None and isinstance(packages, dict) and isinstance(packages.get(""), dict):
        name = _string_or_none(packages[""].get("name"))
    name_line = _top_level_key_line(text, "name")
    lockfile = Lockfile(
        span=file_span(path),
        name=name,
        name_span=Span(path, name_line) if name_line else file_span(path),
        lockfile_version=version if isinstance(version, int) else None,
        packages=MappingProxyType(hoisted),
        installs=tuple(installs),
        workspace_names=MappingProxyType(workspaces),
    )
    return lockfile, problems


def _installs_v2(
    text: str, path: str, packages: dict[str, Any]
) -> tuple[list[LockedPackage], dict[str, str | None]]:
    start = text.find('"packages"')
    lines = _locate_keys(text, max(start, 0), packages.keys())
    installs: list[LockedPackage] = []
    workspaces: dict[str, str | None] = {}
    for key, entry in packages.items():
        if not isinstance(entry, dict) or key == "":
            continue
        at = key.rfind(_NODE_MODULES)
        if at < 0:  # a workspace folder ("apps/web"), recorded with the name npm gave it
            workspaces[key] = _string_or_none(entry.get("name"))
            continue
        name = _string_or_none(entry.get("name")) or key[at + len(_NODE_MODULES):]
        installs.append(
            LockedPackage(name, _string_or_none(entry.get("version")), lines.get(key, 1), key)
        )
    return installs, workspaces


def _installs_v1(text: str, dependencies: object) -> list[LockedPackage]:
    """lockfileVersion 1: nested ``dependencies`` objects, walked in document order."""
    ordered: list[tuple[str, str, dict[str, Any]]] = []  # (name, nesting path, entry)

    def walk(deps: object, prefix: str) -> None:
        if not isinstance(deps, dict):
            return
        for name, entry in deps.items():
            if isinstance(entry, dict):
                # Named by the folder npm installs it to, like the keys of lockfile v2.
                ordered.append((name, prefix + name, entry))
                walk(entry.get("dependencies"), f"{prefix}{name}/{_NODE_MODULES}")

    walk(dependencies, _NODE_MODULES)
    start = text.find('"dependencies"')
    lines = _locate_key_sequence(text, max(start, 0), [name for name, _, _ in ordered])
    return [
        LockedPackage(name, _string_or_none(entry.get("version")), line, nesting)
        for (name, nesting, entry), line in zip(ordered, lines)
    ]


def _locate_keys(text: str, start: int, keys: Iterable[str]) -> dict[str, int]:
    ordered = list(keys)
    return dict(zip(ordered, _locate_key_sequence(text, start, ordered)))


def _locate_key_sequence(text: str, start: int, keys: list[str]) -> list[int]:
    """Line of each key, for keys that each open an object and appear in this order in ``text``.

    Each key is found with ``str.find`` from where the previous one was (C speed, which matters
    for multi-megabyte lockfiles); a hit only counts when ``: {`` follows, which skips the same
    name used as a value or as a ``"requires"`` entry.
    """
    result: list[int] = []
    position, line = start, 1 + text.count("\n", 0, start)
    for key in keys:
        quoted = json.dumps(key, ensure_ascii=False)
        found = text.find(quoted, position)
        while found >= 0 and not _OPENS_OBJECT.match(text, found + len(quoted)):
            found = text.find(quoted, found + len(quoted))
        if found < 0:  # not where expected (unusual escaping): anchor at line 1, keep looking
            result.append(1)
            continue
        line += text.count("\n", position, found)
        position = found + len(quoted)
        result.append(line)
    return result


def _top_level_key_line(text: str, key: str) -> int | None:
    # The first occurrence of a top-level key in a pretty-printed lockfile precedes "packages";
    # a small tokenizer pass over just the head of the file is enough to be exact.
    ends = [at for at in (text.find('"packages"'), text.find('"dependencies"')) if at >= 0]
    head_end = min(ends, default=-1)
    head = text if head_end < 0 else text[:head_end] + "}"
    span = key_spans(head, "", max_depth=1).get((key,))
    return span.line if span else None
