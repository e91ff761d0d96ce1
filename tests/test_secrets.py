"""The one place that knows what a secret looks like (DF015, DC010, KS013 all ask it)."""
from __future__ import annotations

import pytest

from auditor.secrets import is_secret_name, known_format


@pytest.mark.parametrize("value, kind", [
    ("AKIA2E0A8F3B244C9986", "an AWS access key ID"),
    ("ghp_" + "a" * 36, "a GitHub token"),
    ("xoxb-123456789012-abcdefghij", "a Slack token"),
    ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
    ("postgres://app:hunter2@db:5432/app", "a URL with an inline password"),
    ("postgres://app:${DB_PASSWORD}@db:5432/app", None),
    ("production", None),
])
def test_known_formats(value: str, kind: str | None) -> None:
    assert known_format(value) == kind


@pytest.mark.parametrize("name, secret", [
    ("API_TOKEN", True), ("DB_PASSWORD", True), ("STRIPE_SECRET", True), ("SIGNING_KEY", True),
    ("DB_PASSWORD_FILE", False), ("NEXT_PUBLIC_ANALYTICS_KEY", False), ("TOKEN_TTL", False),
    ("STRIPE_PUBLISHABLE_KEY", False), ("NODE_ENV", False), ("KEYCLOAK_URL", False),
])
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_a_value_holding_several_formats_is_named_by_the_first_listed_one() -> None:
    """known_format first asks one combined search whether any format is there; the kind it
    names is still the first in KNOWN_SECRET_FORMATS's order, whatever comes first in the text."""
    from auditor.secrets import KNOWN_SECRET_FORMATS

    jwt = "eyJ" + "a" * 10 + ".eyJ" + "b" * 10 + "." + "c" * 10
    aws = "AKIA2E0A8F3B244C9986"
    value = f"{jwt} {aws} postgres://app:hunter2@db/app"
    assert known_format(value) == "an AWS access key ID"
    assert known_format(jwt) == "a JSON Web Token"
    for description, pattern in KNOWN_SECRET_FORMATS:  # each format is found on its own
        sample = {"an AWS access key ID": aws, "a JSON Web Token": jwt}.get(description)
        if sample is not None:
            assert pattern.search(sample) and known_format(f"x {sample} y") == description
    assert known_format("") is None and known_format("ftp://anonymous@host/") is None
