"""Facts about Compose services that several DC checks need."""
from __future__ import annotations

import re

from auditor.model.compose import Service, has_substitution, substitution_defaults
from auditor.secrets import is_secret_name, known_format

def label(service: Service) -> str:
    """``app service 'web'``, ``proxy service 'nginx'`` or ``service 'db'`` for messages."""
    role = service.role
    return f"{role} service {service.name!r}" if role in ("app", "proxy") else f"service {service.name!r}"


def shown(value: object) -> str:
    """A YAML value as it would be written (``true``, not Python's ``True``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def probes_path(command: str, path: str) -> bool:
    """Whether a health command requests ``path`` (``/api/health`` but not ``/api/healthz``)."""
    return re.search(re.escape(path) + r"(?![\w.-])", command) is not None


def secret_literal_reason(name: str, value: str) -> str | None:
    """Why ``name=value`` puts a secret literal in the file (never quoting the value), or ``None``."""
    if name.upper().endswith("_FILE"):
        return None  # POSTGRES_PASSWORD_FILE=/run/secrets/db is the recommended pattern
    kind = known_format(value)
    if kind is not None:
        return f"its value looks like {kind}"
    if not is_secret_name(name):
        return None
    if has_substitution(value):
        if substitution_defaults(value):
            return "its ${...:-default} substitution falls back to a literal"
        return None
    return "it has a literal value" if value.strip() else None
