"""Scanner severities mapped onto ours, and the thresholds that decide what is reported."""
from __future__ import annotations

OUR_SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {severity: rank for rank, severity in enumerate(OUR_SEVERITIES)}

# Trivy UNKNOWN means "no source graded it": reported, but below anything a threshold names.
TRIVY_TO_OURS = {
    "CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNKNOWN": "info",
}
NPM_TO_OURS = {
    "critical": "critical", "high": "high", "moderate": "medium", "low": "low", "info": "info",
}


def from_trivy(severity: object) -> str:
    return TRIVY_TO_OURS.get(str(severity).upper(), "info")


def from_npm(severity: object) -> str:
    return NPM_TO_OURS.get(str(severity).lower(), "info")


def threshold(value: str) -> str | None:
    """A threshold written in Trivy's, npm's or our vocabulary, as ours; None if unknown."""
    word = str(value).strip()
    return TRIVY_TO_OURS.get(word.upper()) or NPM_TO_OURS.get(word.lower())


def at_or_above(severity: str, minimum: str) -> bool:
    return _RANK.get(severity, 0) >= _RANK.get(minimum, 0)
