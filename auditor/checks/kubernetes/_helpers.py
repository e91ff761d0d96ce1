"""Small pieces shared by the KS checks."""
from __future__ import annotations

import re

from auditor.model.kubernetes import Container, Setting, Workload


def where(workload: Workload, container: Container) -> str:
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


# Names that announce a secret. `*PUBLIC*` is left out: `NEXT_PUBLIC_*` values are shipped to the
# browser by design, so a publishable key there is not a leak.
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|(^|_)(TOKEN|KEY|PWD|PASS|CREDENTIALS?|APIKEY|AUTH)$)", re.IGNORECASE)
# Well-known credential formats, whatever the variable is called.
_SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}"                        # AWS access key ID
    r"|gh[pousr]_[A-Za-z0-9]{36,}"             # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"          # Slack
    r"|(sk|rk)_live_[A-Za-z0-9]{16,}"          # Stripe secret keys
    r"|AIza[0-9A-Za-z_-]{35}"                  # Google API key
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"  # a JWT
    r"|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")  # credentials inside a URL
# Values that cannot be a secret even under a secret-sounding name.
_HARMLESS_VALUES = {"", "true", "false", "yes", "no", "0", "1", "on", "off"}
_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")  # Kubernetes `$(OTHER_VAR)` expansion


def secret_reason(name: str, value: str) -> str | None:
    """Why a literal env value looks like a secret, or None."""
    if _SECRET_VALUE.search(value):
        return "its value has the format of a credential"
    stripped = value.strip()
    if stripped.lower() in _HARMLESS_VALUES or _REFERENCE.fullmatch(stripped):
        return None
    if _SECRET_NAME.search(name) and "PUBLIC" not in name.upper():
        return "its name marks it as a secret"
    return None
