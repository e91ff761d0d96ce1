from __future__ import annotations

from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import Ingress, KubernetesSet
from auditor.params import Params

ID = "KS010"
NODES = "kubernetes.ingress"

ANNOTATION = "nginx.ingress.kubernetes.io/limit-rps"


def check(ingress: Ingress, kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    ceiling = params["max_rps"]
    limit = ingress.annotation(ANNOTATION)
    if limit is None:
        yield Fail(ingress.annotations_span or ingress.name_span,
                   f"Ingress {ingress.name} has no {ANNOTATION} annotation; add "
                   f'{ANNOTATION}: "{ceiling}"')
        return
    try:
        rate = int(limit.value.strip())
    except ValueError:
        rate = None
    # ingress-nginx reads 0 (and anything unparsable) as "no limit".
    if rate is None or rate <= 0:
        yield Fail(limit, f"Ingress {ingress.name} sets limit-rps {limit.value!r}, which "
                          f"ingress-nginx treats as no limit; set it to {ceiling} or less")
    elif rate > ceiling:
        yield Fail(limit, f"Ingress {ingress.name} allows {rate} requests/s per client, above "
                          f"{ceiling}; lower {ANNOTATION}")
    else:
        yield Pass(limit, f"Ingress {ingress.name}: limit-rps {rate}")
