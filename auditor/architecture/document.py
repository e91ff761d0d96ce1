"""What an architecture document states: the profile's numbers and its promises, each at its line.

The document is Markdown, parsed with markdown-it-py (a dependency of rich) for its structure:
fenced code blocks tagged ``nginx`` or ``dockerfile`` are read with the project's own parsers
(``parsers/nginx.py`` through its embedded-text path, ``parsers/dockerfile.py``); every other line
(prose, list items, table rows, headings, and the box drawings such documents hold in untagged
fences) is read as text, with the drawing characters taken out. Each statement keeps its line
and the words it came from, so a profile written from it (``auditor init --from``) and a drift
finding (the AR rules) can cite it.

A document is read like any other file of the audited tree: size-capped, never through a link
that leaves the tree, never a FIFO; what cannot be read is a problem with the reason, never a
traceback.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

DOCUMENT_SIZE_CAP = 1024 * 1024  # an architecture document is a few pages
LINE_CAP = 2000  # characters of one line read for statements

# Box drawing, block elements, arrows, bullets, emphasis marks: not words.
_DRAWING = re.compile(r"[\u2500-\u259f\u2190-\u21ff\u25a0-\u25ff\u2022\u00b7*`|#>]+")
_SPACES = re.compile(r"\s+")
_LIST_MARK = re.compile(r"^(?:[-+]|\d{1,3}[.)])\s+")

HEADERS = {  # how documents name the security headers -> the header
    r"\bHSTS\b|Strict-Transport-Security": "Strict-Transport-Security",
    r"\bCSP\b|Content-Security-Policy": "Content-Security-Policy",
    r"X-Frame-Options": "X-Frame-Options",
    r"X-Content-Type-Options": "X-Content-Type-Options",
    r"Referrer-Policy": "Referrer-Policy",
    r"Permissions-Policy": "Permissions-Policy",
}
PROMISES = {  # promise key -> (pattern, what it promises, in words)
    "scan.trivy": (r"\btrivy\b", "Trivy image scans"),
    "scan.npm_audit": (r"\bnpm\s+audit\b", "npm audit of the dependencies"),
    "layer.nginx": (r"\bnginx\b[^.;]*\b(?:reverse\s+proxy|proxy)\b|\breverse\s+proxy\b[^.;]*\bnginx\b",
                    "an nginx reverse proxy in front of the app"),
    "layer.autoscaler": (r"\bHorizontalPodAutoscaler\b|\bHPA\b|\bautoscal(?:er|ing|ed)\b",
                         "a Kubernetes autoscaler (HorizontalPodAutoscaler)"),
}


@dataclass(frozen=True)
class Statement:
    """One thing the document states: ``key`` a profile key (``runtime.uid``) or a promise
    (``scan.trivy``, ``header.X-Frame-Options``, ``layer.nginx``), at ``line`` (1-based)."""

    key: str
    value: Any
    line: int
    quote: str

    def cite(self, path: str) -> str:
        return f'{path}:{self.line} "{self.quote}"'


@dataclass
class DocumentFacts:
    path: str  # as shown (relative to the scan root, or as the user named it)
    statements: list[Statement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_key(self) -> dict[str, list[Statement]]:
        found: dict[str, list[Statement]] = {}
        for statement in self.statements:
            found.setdefault(statement.key, []).append(statement)
        return found

    def values(self) -> dict[str, Statement]:
        """Each key the document states one value for: its first statement."""
        return {key: found[0] for key, found in self.by_key().items() if len({_same(s.value) for s in found}) == 1}

    def conflicts(self) -> dict[str, list[Statement]]:
        """Each key the document states two or more values for: the first statement of each value."""
        result = {}
        for key, found in self.by_key().items():
            distinct: dict[Any, Statement] = {}
            for statement in found:
                distinct.setdefault(_same(statement.value), statement)
            if len(distinct) > 1:
                result[key] = list(distinct.values())
        return result

    def promises(self) -> dict[str, Statement]:
        return {k: s for k, s in self.values().items() if k.startswith(("scan.", "header.", "layer."))}


def _same(value: Any) -> Any:
    return tuple(sorted(value)) if isinstance(value, (list, tuple)) else value


# --- text patterns --------------------------------------------------------------------------------

def _rate(match: re.Match[str]) -> str:
    return f"{int(match.group(1))}r/{'m' if match.group(2).lower().startswith('m') else 's'}"


def _memory(match: re.Match[str]) -> str:
    number, unit = match.group(1), match.group(2)[0].upper()
    return f"{number}{unit}"


_Extract = Callable[[re.Match[str]], list[tuple[str, "Any"]]]
PATTERNS: list[tuple[re.Pattern[str], _Extract]] = [
    (re.compile(r"\bUID\s*[:=]?\s*(\d{1,10})\b", re.I), lambda m: [("runtime.uid", int(m.group(1)))]),
    (re.compile(r"\brunAsUser\s*:\s*(\d{1,10})\b"), lambda m: [("runtime.uid", int(m.group(1)))]),
    (re.compile(r"\b(?:adduser|useradd)\b[^\n]*?(?:-u|--uid)[ =](\d{1,10})\b"),
     lambda m: [("runtime.uid", int(m.group(1)))]),
    (re.compile(r"\buser\b[^()\n]*\(\s*([a-z_][\w-]*):(\d{1,10})\s*\)", re.I),
     lambda m: [("runtime.user", m.group(1)), ("runtime.uid", int(m.group(2)))]),
    (re.compile(r"\bGID\s*[:=]?\s*(\d{1,10})\b", re.I), lambda m: [("runtime.gid", int(m.group(1)))]),
    (re.compile(r"\brunAsGroup\s*:\s*(\d{1,10})\b"), lambda m: [("runtime.gid", int(m.group(1)))]),
    (re.compile(r"\bEXPOSE\s+(\d{1,5})\b"), lambda m: [("app.port", int(m.group(1)))]),
    (re.compile(r"\bHTTP\s*\((\d{1,5})\)"), lambda m: [("app.port", int(m.group(1)))]),
    (re.compile(r"\bport\s+(\d{1,5})\s*\(HTTP\)", re.I), lambda m: [("app.port", int(m.group(1)))]),
    (re.compile(r"\bcontainerPort\s*:\s*(\d{1,5})\b"), lambda m: [("app.port", int(m.group(1)))]),
    (re.compile(r"(?<![\w/.-])(/[\w./-]*health[\w-]*)"), lambda m: [("app.health_path", m.group(1))]),
    (re.compile(r"\bnode:(\d{1,3})-([a-z][\w.-]*[a-z0-9])"),
     lambda m: [("node.major", int(m.group(1))), ("node.family", m.group(2))]),
    (re.compile(r"\brate=(\d+)r/([sm])\b"), lambda m: [("rate_limit.rate", _rate(m))]),
    (re.compile(r"(?<![\w=])(\d+)\s*(?:r|reqs?|requests?)\s*/\s*(s|sec|second|m|min|minute)\b", re.I),
     lambda m: [("rate_limit.rate", _rate(m))]),
    (re.compile(r"\bburst\s*[=:]?\s*(\d+)\b", re.I), lambda m: [("rate_limit.burst", int(m.group(1)))]),
    (re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:v?CPUs?|cores?)\b", re.I),
     lambda m: [("resources.cpus", _number(m.group(1)))]),
    (re.compile(r"(?<![\w.~])(\d+(?:\.\d+)?)\s*(GB|GiB|G|MB|MiB|M)\s+(?:of\s+)?(?:RAM|memory)\b", re.I),
     lambda m: [("resources.memory", _memory(m))]),
    (re.compile(r"\bmemory\s*[:=]\s*['\"]?(\d+(?:\.\d+)?)(Gi|G|Mi|M)\b"), lambda m: [("resources.memory", _memory(m))]),
    (re.compile(r"\b(\d{1,4})\s+replicas\b", re.I), lambda m: [("replicas", int(m.group(1)))]),
    (re.compile(r"\breplicas\s*:\s*(\d{1,4})\b"), lambda m: [("replicas", int(m.group(1)))]),
    (re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3}/\d{1,2})(?![\d.])"), lambda m: [("network.subnet", m.group(1))]),
    (re.compile(r"\bmax-age\s*=\s*(\d+)"), lambda m: [("tls.hsts_max_age", int(m.group(1)))]),
]
_TLS = re.compile(r"\bTLS\s*v?(1\.[0-3])\b", re.I)


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def text_statements(text: str, line: int) -> Iterator[Statement]:
    """What one line of prose, list, table or drawing states (its first ``LINE_CAP`` characters:
    a document's lines are short, and a hostile one must not make the patterns slow)."""
    text = text[:LINE_CAP]
    quote = _LIST_MARK.sub("", _SPACES.sub(" ", _DRAWING.sub(" ", text)).strip())
    if not quote:
        return
    shown = _printable(quote)
    for pattern, extract in PATTERNS:
        for match in pattern.finditer(quote):
            for key, value in extract(match):
                yield Statement(key, value, line, shown)
    protocols = sorted({f"TLSv{v}" for v in _TLS.findall(quote)})
    if protocols and not re.search(r"\b(?:no|never|disable[sd]?|without)\b", quote, re.I):
        yield Statement("tls.protocols", protocols, line, shown)
    for header_pattern, header in HEADERS.items():
        if re.search(header_pattern, quote):
            yield Statement(f"header.{header}", True, line, shown)
    for key, (promise_pattern, _words) in PROMISES.items():
        if re.search(promise_pattern, quote, re.I):
            yield Statement(key, True, line, shown)


def _printable(text: str, limit: int = 70) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text).replace('"', "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- fenced blocks read with the project's parsers ------------------------------------------------

def _nginx_statements(text: str, first_line: int, shown_path: str) -> Iterator[Statement]:
    import tempfile

    from auditor.parsers.nginx import parse_nginx

    with tempfile.TemporaryDirectory(prefix="auditor-doc-") as empty:
        # the id is a relative name: parse_nginx walks its folders up (an absolute one never ends)
        configs, _problems, _notes = parse_nginx(Path(empty), [], embedded={
            f"architecture-block-{first_line}.conf": (text, shown_path, first_line, True)})
    lines = text.splitlines()
    for config in configs:
        for top in config.directives:
            for directive in top.walk():
                line = directive.span.line
                source = lines[line - first_line] if 0 <= line - first_line < len(lines) else directive.name
                quote = _printable(source.strip())
                args = directive.args
                if directive.name == "limit_req_zone":
                    for arg in args:
                        match = re.fullmatch(r"rate=(\d+)r/([sm])", arg)
                        if match:
                            yield Statement("rate_limit.rate", _rate(match), line, quote)
                elif directive.name == "limit_req":
                    for arg in args:
                        if arg.startswith("burst=") and arg[6:].isdigit():
                            yield Statement("rate_limit.burst", int(arg[6:]), line, quote)
                elif directive.name == "add_header" and args:
                    for pattern, header in HEADERS.items():
                        if re.fullmatch(pattern, args[0], re.I):
                            yield Statement(f"header.{header}", True, line, quote)
                    if args[0].lower() == "strict-transport-security" and len(args) > 1:
                        match = re.search(r"max-age=(\d+)", args[1])
                        if match:
                            yield Statement("tls.hsts_max_age", int(match.group(1)), line, quote)
                elif directive.name == "ssl_protocols" and args:
                    yield Statement("tls.protocols", sorted(args), line, quote)
                elif directive.name == "expires" and args:
                    seconds = _duration(args[-1])
                    if seconds:
                        yield Statement("static_cache_seconds", seconds, line, quote)
                elif directive.name == "proxy_pass" and args:
                    match = re.search(r":(\d{1,5})(?:/|$)", args[0])
                    if match:
                        yield Statement("app.port", int(match.group(1)), line, quote)
                elif directive.name in ("server", "location") or directive.name.startswith("limit_"):
                    continue
    yield Statement("layer.nginx", True, first_line, "an nginx configuration block")


def _duration(text: str) -> int | None:
    match = re.fullmatch(r"(\d+)([smhdwMy]?)", text)
    if not match:
        return None
    scale = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
    return int(match.group(1)) * scale[match.group(2)]


def _dockerfile_statements(text: str, first_line: int, shown_path: str) -> Iterator[Statement]:
    from auditor.model.user import parse_user
    from auditor.parsers.dockerfile import parse_dockerfile

    document, _problems = parse_dockerfile(text, shown_path)
    for instruction in document.instructions:
        line = first_line + instruction.span.line - 1
        words = f"{instruction.keyword} {instruction.arguments}"
        yield from text_statements(words, line)
        if instruction.keyword == "USER":
            spec = parse_user(instruction.arguments)  # the one reading of USER (auditor.model.user)
            user = spec.name
            if user.isdigit():
                yield Statement("runtime.uid", int(user), line, _printable(words))
            elif re.fullmatch(r"[a-z_][\w-]*", user) and not spec.is_root:
                yield Statement("runtime.user", user, line, _printable(words))


FENCE_READERS = {"nginx": _nginx_statements, "dockerfile": _dockerfile_statements,
                 "docker": _dockerfile_statements, "containerfile": _dockerfile_statements}


def read_facts(text: str, shown_path: str) -> DocumentFacts:
    """Every statement of the Markdown ``text`` (``shown_path`` names it in citations)."""
    from markdown_it import MarkdownIt

    facts = DocumentFacts(shown_path)
    lines = text.splitlines()
    parsed_lines: set[int] = set()  # 0-based lines a fence reader covered
    try:
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
    except Exception as error:  # noqa: BLE001 - a document must never crash the audit
        facts.problems.append(f"{shown_path}: not readable as Markdown ({type(error).__name__}); read as plain text")
        tokens = []
    for token in tokens:
        if token.type != "fence" or not token.map:
            continue
        language = (token.info or "").strip().split(" ")[0].lower()
        reader = FENCE_READERS.get(language)
        if reader is None:
            continue
        start, end = token.map  # the fence lines; the content starts after the opening one
        first = start + 2  # 1-based line of the content's first line
        try:
            facts.statements.extend(reader(token.content, first, shown_path))
            parsed_lines.update(range(start, end))
        except Exception as error:  # noqa: BLE001 - a block the parser cannot take is read as text
            facts.problems.append(f"{shown_path}:{first}: {language} block not parsed "
                                  f"({type(error).__name__}); read as text")
    for index, line in enumerate(lines):
        if index not in parsed_lines:
            facts.statements.extend(text_statements(line, index + 1))
    unique: dict[tuple[str, Any, int], Statement] = {}
    for statement in facts.statements:
        unique.setdefault((statement.key, _same(statement.value), statement.line), statement)
    facts.statements = list(unique.values())
    return facts


def read_document(path: Path, shown_path: str, tree_root: Path | None = None) -> DocumentFacts:
    """Read the document at ``path`` safely; with ``tree_root``, only inside that tree."""
    facts = DocumentFacts(shown_path)
    try:
        if tree_root is not None:
            real, root = os.path.realpath(path), os.path.realpath(tree_root)
            if os.path.commonpath([real, root]) != root:
                facts.problems.append(f"{shown_path}: leaves the audited tree (a link?); not read")
                return facts
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            facts.problems.append(f"{shown_path}: not a regular file; not read")
            return facts
        if info.st_size > DOCUMENT_SIZE_CAP:
            facts.problems.append(f"{shown_path}: {info.st_size} bytes, over the {DOCUMENT_SIZE_CAP}-byte "
                                  "cap for an architecture document; not read")
            return facts
        with open(path, "rb") as handle:
            data = handle.read(DOCUMENT_SIZE_CAP + 1)
    except OSError as error:
        facts.problems.append(f"{shown_path}: cannot be read ({error.strerror or error})")
        return facts
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (Windows editors)
        return read_facts(data.decode("utf-16", errors="replace"), shown_path)
    if b"\0" in data:  # binary, or UTF-16 without a mark: decoded as UTF-8 it would state nothing
        facts.problems.append(f"{shown_path}: not text (NUL bytes: binary, or UTF-16 without a byte-order "
                              "mark); not read, save it as UTF-8")
        return facts
    return read_facts(data.decode("utf-8-sig", errors="replace"), shown_path)
