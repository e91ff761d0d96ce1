"""Facts about Compose services that several DC checks need."""
from __future__ import annotations

import re

from auditor.model.compose import ComposeFile, Service, has_substitution, substitution_defaults

ROOT_USERS = frozenset({"root", "0"})


def label(service: Service) -> str:
    """``app service 'web'``, ``proxy service 'nginx'`` or ``service 'db'`` for messages."""
    role = service.role
    return f"service {service.name!r}" if role == "service" else f"{role} service {service.name!r}"


def shown(value: object) -> str:
    """A YAML value as it would be written (``true``, not Python's ``True``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def hardened_services(doc: ComposeFile) -> list[Service]:
    """The services of the reference architecture: the app and the reverse proxy. Databases and
    caches pulled from a registry are outside the documented deployment."""
    return [service for service in doc.services if service.is_app or service.is_proxy]


def probes_path(command: str, path: str) -> bool:
    """Whether a health command requests ``path`` (``/api/health`` but not ``/api/healthz``)."""
    return re.search(re.escape(path) + r"(?![\w.-])", command) is not None


def user_part(user: str) -> str:
    """``1001`` from ``1001:1001``."""
    return user.split(":", 1)[0].strip()


# Names that hold secrets (CONTROLS.md: *_TOKEN, *_SECRET, *PASSWORD*, *_KEY) ...
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|KEY|APIKEY|PASS|PWD|CREDENTIALS?)$|PASSWORD|PASSWD|SECRET_KEY|PRIVATE_KEY",
    re.IGNORECASE)
# ... except settings about secrets and values meant to be public (NEXT_PUBLIC_* is compiled
# into the browser bundle; a publishable key is public by design).
_NOT_SECRET_NAME = re.compile(
    r"_(?:FILE|PATH|DIR|LENGTH|LEN|MIN|MAX|TTL|EXPIRY|EXPIRES|TIMEOUT|ALGORITHM|ALG|HEADER|NAME|"
    r"ENABLED|POLICY|ROUNDS|COST|ID)$|^NEXT_PUBLIC_|PUBLIC_KEY|PUBLISHABLE_KEY",
    re.IGNORECASE)
# Formats that are secrets whatever the variable is called.
KNOWN_SECRET_FORMATS = (
    ("an AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
    ("an OpenAI API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
# scheme://user:password@host with a literal password (not ${VAR})
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def secret_literal_reason(name: str, value: str) -> str | None:
    """Why ``name=value`` puts a secret literal in the file (never quoting the value), or ``None``."""
    if name.upper().endswith("_FILE"):
        return None  # POSTGRES_PASSWORD_FILE=/run/secrets/db is the recommended pattern
    for description, pattern in KNOWN_SECRET_FORMATS:
        if pattern.search(value):
            return f"its value looks like {description}"
    url = _URL_PASSWORD.search(value)
    if url and not url.group(1).startswith("$"):
        return "its value is a URL with an inline password"
    if not is_secret_name(name):
        return None
    if has_substitution(value):
        if substitution_defaults(value):
            return "its ${...:-default} substitution falls back to a literal"
        return None
    return "it has a literal value" if value.strip() else None
