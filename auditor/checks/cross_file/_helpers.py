"""Shared by the XF checks: which value the layers of a deployment agree on, and who disagrees."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.deployment import Claim


def values(claim: Claim) -> tuple[Any, ...]:
    """A claim's values: a port claim may state several (``EXPOSE 3000 9229``)."""
    return claim.value if isinstance(claim.value, tuple) else (claim.value,)


# Who wins a tie: the image is what actually runs (its USER, the port its server binds), the
# orchestrators override it, and the proxy only points at it.
AUTHORITY = ("Dockerfile", "Kubernetes", "compose", "nginx")


def consensus(claims: Sequence[Claim], preferred: Any) -> Any:
    """The value most claims state. A tie goes to the reference value (``preferred``, the
    catalog's parameter) when it is among the tied, else to the value of the most authoritative
    layer (``AUTHORITY``)."""
    votes: Counter[Any] = Counter(v for claim in claims for v in dict.fromkeys(values(claim)))
    if not votes:
        return None
    best = max(votes.values())
    tied = [value for value, count in votes.items() if count == best]
    if preferred in tied:
        return preferred
    ranked = sorted(claims, key=lambda c: AUTHORITY.index(c.layer) if c.layer in AUTHORITY else len(AUTHORITY))
    return next(v for claim in ranked for v in values(claim) if v in tied)


def odd_ones(claims: Sequence[Claim], agreed: Any) -> list[Claim]:
    return [claim for claim in claims if agreed not in values(claim)]


def listing(claims: Sequence[Claim], limit: int = 4) -> str:
    """``EXPOSE 3000 (Dockerfile:41), compose service 'app' expose 3000 (docker-compose.yml:60)``."""
    shown = [claim.describe() for claim in claims[:limit]]
    if len(claims) > limit:
        shown.append(f"{len(claims) - limit} more")
    return ", ".join(shown)
