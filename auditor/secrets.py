"""What a secret looks like, written once for every rule that looks for one (DF015 in ENV/ARG,
DC010 in compose `environment:`, KS013 in Kubernetes `env[].value`).

Two signals: a credential *format* that is a secret whatever the variable is called (the prefixes
are public: AWS, GitHub, Slack, Stripe...), and a *name* that announces one (`*_TOKEN`,
`*_SECRET`, `*PASSWORD*`, `*_KEY`, as the catalog lists) unless it names a setting about a
secret (`*_FILE`, `*_TTL`) or a value public by design (`NEXT_PUBLIC_*` ships to the browser, a
publishable key is public). Callers never echo the value: they report the kind of secret.
"""
from __future__ import annotations

import re

from auditor.patterns import on_first_use

KNOWN_SECRET_FORMATS = (
    ("an AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("an OpenAI API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
# one search tells whether any format is there (most values hold none); the loop then names it
_ANY_FORMAT = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in KNOWN_SECRET_FORMATS))
# scheme://user:password@host with a literal password (not ${VAR})
URL_PASSWORD = on_first_use(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", re.IGNORECASE)

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|KEY|APIKEY|PASS|PWD|AUTH|CREDENTIALS?)$|PASSWORD|PASSWD|SECRET_KEY|PRIVATE_KEY",
    re.IGNORECASE)
_NOT_SECRET_NAME = re.compile(
    r"_(?:FILE|PATH|DIR|LENGTH|LEN|MIN|MAX|TTL|EXPIRY|EXPIRES|TIMEOUT|ALGORITHM|ALG|HEADER|NAME|"
    r"ENABLED|POLICY|ROUNDS|COST|ID)$|PUBLIC|PUBLISHABLE_KEY",
    re.IGNORECASE)


def known_format(value: str) -> str | None:
    """The kind of credential ``value`` contains ("an AWS access key ID"), or ``None``."""
    if _ANY_FORMAT.search(value):
        for description, pattern in KNOWN_SECRET_FORMATS:
            if pattern.search(value):
                return description
    url = URL_PASSWORD.search(value) if "://" in value else None
    if url and not url.group(1).startswith("$"):
        return "a URL with an inline password"
    return None


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)
