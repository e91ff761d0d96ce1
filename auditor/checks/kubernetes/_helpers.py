"""Small pieces shared by the KS checks."""
from __future__ import annotations

import re

from auditor.model.kubernetes import Container, Setting, Workload
from auditor.secrets import is_secret_name, known_format


def container_label(workload: Workload, container: Container) -> str:
    """``Deployment web, init container migrate``: names the object a finding is about."""
    role = "init container" if container.is_init else "container"
    return f"{workload.kind} {workload.name}, {role} {container.name}"


def origin(setting: Setting) -> str:
    """`` (from the pod securityContext)`` when an effective value was inherited, else ``""``."""
    return " (from the pod securityContext)" if setting.level == "pod" else ""


def shown(value: object) -> str:
    """A value as it is written in YAML (``false``, not Python's ``False``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def is_true(setting: Setting | None) -> bool:
    return setting is not None and setting.value is True


def is_false(setting: Setting | None) -> bool:
    return setting is not None and setting.value is False


# Values that cannot be a secret even under a secret-sounding name.
_HARMLESS_VALUES = {"", "true", "false", "yes", "no", "0", "1", "on", "off"}
_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")  # Kubernetes `$(OTHER_VAR)` expansion


def secret_reason(name: str, value: str) -> str | None:
    """Why a literal env value looks like a secret, or None."""
    kind = known_format(value)
    if kind is not None:
        return f"its value has the format of {kind}"
    stripped = value.strip()
    if stripped.lower() in _HARMLESS_VALUES or _REFERENCE.fullmatch(stripped):
        return None
    if is_secret_name(name):
        return "its name marks it as a secret"
    return None
