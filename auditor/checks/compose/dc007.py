from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from auditor.checks.compose._helpers import label
from auditor.findings import Fail, Outcome, Pass
from auditor.model.compose import DEFAULT_NETWORK, ComposeFile, NetworkDefinition, Service
from auditor.params import Params

ID = "DC007"
NODES = "document"


def check(doc: ComposeFile, params: Params) -> Iterator[Outcome]:
    definitions = doc.networks
    used: dict[str, NetworkDefinition] = {}
    for service in doc.services:
        yield from _membership(service, definitions)
        for attachment in service.networks:  # none under network_mode
            definition = definitions.get(attachment.name)
            if definition is not None and not definition.external and definition.effective_driver == "bridge":
                used[definition.name] = definition
    if params["subnet"]:
        for definition in used.values():
            yield from _subnet(definition, params["subnet"])


def _membership(service: Service, definitions: Mapping[str, NetworkDefinition]) -> Iterator[Outcome]:
    mode = service.network_mode
    if mode is not None:
        if mode == "none" or mode.startswith(("service:", "container:")):
            yield Pass(service.key_span("network_mode"), f"{label(service)} uses network_mode: {mode}")
        else:  # host (also DC004), bridge (Docker's default bridge), or a named network
            yield Fail(service.key_span("network_mode"), f"{label(service)} uses network_mode: {mode} instead of "
                                                         "a user-defined bridge network; list one under networks:")
        return
    for attachment in service.networks:
        definition = definitions.get(attachment.name)
        if definition is None and attachment.name == DEFAULT_NETWORK:
            yield Fail(attachment.span, f"{label(service)} sits on Compose's default network; declare a bridge "
                                        "network under the top-level networks: and list it under the service's networks:")
        elif definition is None:
            yield Fail(attachment.span, f"{label(service)} joins network {attachment.name!r}, which the top-level "
                                        "networks: does not declare")
        elif definition.external:
            yield Pass(attachment.span,
                       f"{label(service)} joins external network {attachment.name!r} (declared outside this file)")
        elif definition.effective_driver != "bridge":
            yield Fail(attachment.span, f"{label(service)} joins network {attachment.name!r} with driver "
                                        f"{definition.effective_driver}, not bridge", related=[definition.driver_span])
        else:
            yield Pass(attachment.span,
                       f"{label(service)} joins '{attachment.name}', a user-defined bridge network")


def _subnet(definition: NetworkDefinition, reference: str) -> Iterator[Outcome]:
    """A differing or missing subnet is reported at ``info``: the isolation holds either way, only
    the documented address plan is not followed."""
    subnets = definition.subnets
    if not subnets:
        yield Fail(definition.span, f"network {definition.name!r} has no ipam subnet, so Docker picks one from "
                                    f"its pools; the reference subnet is {reference}", severity="info")
    elif any(_same_network(text, reference) for text, _ in subnets):
        yield Pass(definition.span, f"network {definition.name!r} uses the reference subnet {reference}")
    else:
        text, span = subnets[0]
        yield Fail(span, f"network {definition.name!r} uses subnet {text}; the reference subnet is {reference}",
                   severity="info")


def _same_network(text: str, reference: str) -> bool:
    try:
        return ipaddress.ip_network(text, strict=False) == ipaddress.ip_network(reference, strict=False)
    except ValueError:
        return text.strip() == reference.strip()
