from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.kubernetes._helpers import shown
from auditor.findings import Fail, Outcome, Pass
from auditor.model.kubernetes import KubernetesObject, KubernetesSet, Workload, same_namespace
from auditor.params import Params

ID = "KS012"
NODES = "document"


def check(kubernetes: KubernetesSet, params: Params) -> Iterator[Outcome]:
    needs_api = set(params["needs_api"])
    accounts = _accounts_by_name(kubernetes)  # one pass: a lookup per workload, not a scan
    for workload in kubernetes.workloads:
        if workload.pod is None:
            continue
        setting = workload.pod.automount_service_account_token
        name = f"{workload.kind} {workload.name}"
        if workload.name in needs_api:
            yield Pass(workload.name_span, f"{name} is listed as needing the Kubernetes API")
        elif setting is not None and setting.value is False:
            yield Pass(setting, f"{name}: automountServiceAccountToken: false")
        elif setting is not None:
            yield Fail(setting, f"{name} sets automountServiceAccountToken: {shown(setting.value)}; set "
                                "it to false unless the app calls the Kubernetes API")
        else:
            # The pod inherits its ServiceAccount's setting when it does not set its own.
            account = _service_account(accounts, workload)
            if account is not None and account.raw.get("automountServiceAccountToken") is False:
                yield Pass(account.span, f"{name} uses ServiceAccount {account.name} with "
                                         "automountServiceAccountToken: false")
            else:
                yield Fail(workload.pod, f"{name} mounts a service account token by default; add "
                                         "automountServiceAccountToken: false to the pod spec")


def _accounts_by_name(kubernetes: KubernetesSet) -> dict[str, list[KubernetesObject]]:
    accounts: dict[str, list[KubernetesObject]] = {}
    for item in kubernetes.objects:
        if item.kind == "ServiceAccount":
            accounts.setdefault(item.name, []).append(item)
    return accounts


def _service_account(accounts: dict[str, list[KubernetesObject]], workload: Workload) -> KubernetesObject | None:
    account_name = (workload.pod.service_account_name if workload.pod else None) or "default"
    return next((o for o in accounts.get(account_name, ()) if same_namespace(o.namespace, workload.namespace)),
                None)
