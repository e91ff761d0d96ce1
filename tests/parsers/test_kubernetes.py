"""auditor.parsers.kubernetes: manifests read through the real YAML loader."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model.kubernetes import KubernetesSet
from auditor.parsers.kubernetes import (
    QuantityError,
    build_kubernetes,
    cpu_cores,
    memory_bytes,
    parse_image,
    parse_quantity,
)
from auditor.parsers.yaml_loader import load_yaml_documents

DATA = Path(__file__).resolve().parents[1] / "data" / "kubernetes"


def build(*names: str):
    documents = []
    for name in names:
        loaded, problems = load_yaml_documents((DATA / name).read_text(), name)
        assert problems == []
        documents.extend(loaded)
    return build_kubernetes(documents)


def build_text(text: str, path: str = "k.yaml"):
    documents, problems = load_yaml_documents(text, path)
    assert problems == []
    return build_kubernetes(documents)


# --- quantities -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("500m", Fraction(1, 2)),
    ("2", 2),
    (2, 2),
    ("2.5", Fraction(5, 2)),
    (2.5, Fraction(5, 2)),
    (0.1, Fraction(1, 10)),
    ("0.25", Fraction(1, 4)),
    (".5", Fraction(1, 2)),
    ("1.", 1),
    ("100n", Fraction(1, 10**7)),
    ("250u", Fraction(1, 4000)),
    ("2Gi", 2 * 2**30),
    ("2048Mi", 2 * 2**30),
    ("1Ki", 1024),
    ("1Ti", 2**40),
    ("1Pi", 2**50),
    ("1Ei", 2**60),
    ("2G", 2 * 10**9),
    ("1k", 1000),
    ("1M", 10**6),
    ("1T", 10**12),
    ("1P", 10**15),
    ("1E", 10**18),
    ("1e3", 1000),
    ("1E3", 1000),
    ("12e-3", Fraction(12, 1000)),
    ("1.5e+2", 150),
    ("+3", 3),
    ("-1", -1),
    (" 2Gi ", 2 * 2**30),
    ("0", 0),
])
def test_parse_quantity_reads_every_kubernetes_suffix(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", [
    "", "two", "2 Gi", "2gi", "2GB", "2Mb", "1e", "e3", "--1", "1.2.3", "m", "Gi", "0x10",
    "1e999999999", "1" * 100, True, None, [], "2Kib",
])
def test_parse_quantity_rejects_malformed_text(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_cpu_cores_and_memory_bytes():
    assert cpu_cores("500m") == 0.5
    assert cpu_cores(2) == 2.0
    assert cpu_cores("2.5") == 2.5
    assert memory_bytes("2Gi") == 2147483648
    assert memory_bytes("2048Mi") == memory_bytes("2Gi")
    assert memory_bytes("2G") == 2_000_000_000
    assert memory_bytes("1e3") == 1000
    assert memory_bytes("1500m") == 2  # fractions of a byte round up, as Quantity.Value() does
    assert isinstance(memory_bytes("1.5Gi"), int)


@given(st.integers(min_value=0, max_value=10**12),
       st.sampled_from(["", "k", "M", "G", "Ki", "Mi", "Gi", "m", "e2"]))
def test_parse_quantity_never_raises_other_errors(number, suffix):
    assert parse_quantity(f"{number}{suffix}") >= 0


@given(st.text(max_size=30))
def test_parse_quantity_raises_only_quantity_error(text):
    try:
        parse_quantity(text)
    except QuantityError:
        pass


# --- images -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("reference", "registry", "repository", "tag", "digest"), [
    ("nginx", None, "nginx", None, None),
    ("nginx:1.27-alpine", None, "nginx", "1.27-alpine", None),
    ("bitnami/nginx:latest", None, "bitnami/nginx", "latest", None),
    ("ghcr.io/acme/web:1.4.2", "ghcr.io", "acme/web", "1.4.2", None),
    ("localhost/web", "localhost", "web", None, None),
    ("registry.example.com:5000/team/app", "registry.example.com:5000", "team/app", None, None),
    ("registry.example.com:5000/team/app:2@sha256:ab", "registry.example.com:5000", "team/app",
     "2", "sha256:ab"),
    ("app@sha256:ab", None, "app", None, "sha256:ab"),
])
def test_parse_image(reference, registry, repository, tag, digest):
    image = parse_image(reference)
    assert (image.registry, image.repository, image.tag, image.digest) == (
        registry, repository, tag, digest)
    assert image.raw == reference


# --- manifests --------------------------------------------------------------------------------

def test_multi_document_file_yields_every_kind_with_its_own_lines():
    kubernetes, problems, notes = build("app.yaml")
    assert problems == [] and notes == []
    assert isinstance(kubernetes, KubernetesSet)
    assert [o.kind for o in kubernetes.objects] == [
        "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"]
    assert [o.span.line for o in kubernetes.objects] == [1, 75, 89, 112]
    assert kubernetes.paths == ("app.yaml",)
    web = kubernetes.workloads[0]
    assert (web.kind, web.name, web.namespace, web.replicas, web.replicas_span.line) == (
        "Deployment", "web", "prod", 3, 9)
    assert web.pod_labels == {"app": "web", "tier": "frontend"}
    assert web.name_span.line == 4


def test_containers_and_init_containers_carry_their_item_line():
    kubernetes, _, _ = build("app.yaml")
    web = kubernetes.workloads[0]
    assert [(c.name, c.is_init, c.span.line) for c in web.containers] == [
        ("migrate", True, 26), ("app", False, 31)]
    assert list(kubernetes.containers()) == [(web, c) for c in web.containers]


def test_pod_security_context_is_inherited_and_container_wins():
    kubernetes, _, _ = build("app.yaml")
    migrate, app = kubernetes.workloads[0].containers
    assert (migrate.security.run_as_user.value, migrate.security.run_as_user.level,
            migrate.security.run_as_user.span.line) == (0, "container", 29)
    assert (app.security.run_as_user.value, app.security.run_as_user.level,
            app.security.run_as_user.span.line) == (1001, "pod", 22)
    for container in (migrate, app):
        assert container.security.run_as_non_root.value is True
        assert container.security.run_as_non_root.span.line == 21
        assert container.security.seccomp_profile.value.type == "RuntimeDefault"
        assert container.security.seccomp_profile.level == "pod"
    assert migrate.security.declared and migrate.security.read_only_root_filesystem is None
    assert app.security.read_only_root_filesystem.value is True
    assert app.security.allow_privilege_escalation.value is False
    assert [(c.name, c.span.line) for c in app.security.capabilities_drop] == [("ALL", 41)]
    assert [c.name for c in app.security.capabilities_add] == ["NET_BIND_SERVICE"]
    assert app.security.capabilities_span.line == 40


def test_pod_level_fields():
    kubernetes, _, _ = build("app.yaml")
    pod = kubernetes.workloads[0].pod
    assert pod.automount_service_account_token.value is False
    assert pod.automount_service_account_token.span.line == 19
    assert pod.host_network is None and pod.host_pid is None and pod.host_ipc is None
    assert pod.security_context_span.line == 20


def test_image_pull_policy_ports_and_resources():
    kubernetes, _, _ = build("app.yaml")
    migrate, app = kubernetes.workloads[0].containers
    assert migrate.image.digest == "sha256:abc123" and migrate.image.tag is None
    assert app.image.tag == "1.4.2" and app.image_span.line == 32
    assert (app.image_pull_policy, app.image_pull_policy_span.line) == ("IfNotPresent", 33)
    assert [(p.container_port, p.name, p.protocol) for p in app.ports] == [(3000, "http", "TCP")]
    resources = app.resources
    assert resources.request("cpu").cores == 0.5 and resources.request("cpu").span.line == 45
    assert resources.request("memory").bytes == 512 * 2**20
    assert resources.limit("cpu").cores == 2.0 and resources.limit("cpu").raw == "2"
    assert resources.limit("memory").bytes == 2 * 2**30 and resources.limit("memory").span.line == 49
    assert resources.limits_span.line == 47 and resources.span.line == 43
    assert migrate.resources.requests == () and migrate.resources.limit("cpu") is None


def test_probes():
    kubernetes, _, _ = build("app.yaml")
    app = kubernetes.workloads[0].containers[1]
    liveness, readiness, startup = app.liveness_probe, app.readiness_probe, app.startup_probe
    assert (liveness.handler, liveness.http_path, liveness.http_port, liveness.span.line,
            liveness.http_path_span.line) == ("httpGet", "/api/health", "http", 50, 52)
    assert (readiness.handler, readiness.tcp_port, readiness.http_path) == ("tcpSocket", 3000, None)
    assert (startup.handler, startup.exec_command) == ("exec", ("cat", "/tmp/ready"))


def test_env_and_env_from():
    kubernetes, _, _ = build("app.yaml")
    app = kubernetes.workloads[0].containers[1]
    assert [(e.name, e.value, e.value_from, e.reference_name, e.span.line) for e in app.env] == [
        ("NODE_ENV", "production", None, None, 61),
        ("DB_PASSWORD", None, "secretKeyRef", "db", 63),
        ("RETRIES", "3", None, None, 68),
    ]
    assert app.env[0].value_span.line == 62
    assert [(s.kind, s.name, s.prefix, s.span.line) for s in app.env_from] == [
        ("secretRef", "app-secrets", "APP_", 71)]


def test_service_ingress_and_hpa_are_linked_to_the_workload():
    kubernetes, _, _ = build("app.yaml")
    web = kubernetes.workloads[0]
    (service,) = kubernetes.services_for(web)
    assert (service.type, service.type_span.line, service.selector) == (
        "LoadBalancer", 81, {"app": "web"})
    assert [(p.port, p.target_port, p.span.line) for p in service.ports] == [(80, "http", 85)]
    ((ingress, backend),) = kubernetes.backends_for(service)
    assert (ingress.name, ingress.namespace, ingress.ingress_class) == ("web", None, "nginx")
    assert (backend.service_name, backend.service_port, backend.host, backend.path,
            backend.span.line) == ("web", 80, "app.example.com", "/", 104)
    assert kubernetes.ingresses_for(service) == (ingress,)
    assert ingress.hosts == ("app.example.com",) and ingress.tls_hosts == ("app.example.com",)
    assert ingress.tls[0].secret_name == "web-tls" and ingress.tls_span.line == 97
    limit = ingress.annotation("nginx.ingress.kubernetes.io/limit-rps")
    assert (limit.value, limit.span.line) == ("10", 94)
    hpa = kubernetes.autoscaler_for(web)
    assert (hpa.min_replicas, hpa.min_replicas_span.line, hpa.max_replicas) == (3, 122, 10)
    assert (hpa.target_kind, hpa.target_name, hpa.target_span.line) == ("Deployment", "web", 118)


def test_list_kind_items_keep_their_own_spans_and_cronjob_template_is_read():
    kubernetes, problems, _ = build("list.yaml")
    assert problems == []
    cron, pod = kubernetes.workloads
    assert (cron.kind, cron.span.line, cron.replicas, cron.effective_replicas) == (
        "CronJob", 4, None, None)
    assert cron.pod_labels == {"job": "nightly"}
    assert cron.pod.host_network.value is True and cron.pod.host_network.span.line == 17
    assert cron.containers[0].image.tag is None and cron.containers[0].span.line == 19
    assert (pod.kind, pod.span.line, pod.pod_labels) == ("Pod", 21, {"app": "debug"})
    shell = pod.containers[0]
    assert pod.pod.host_pid.span.line == 28
    assert shell.security.privileged.value is True  # YAML 1.1 `yes`, as Kubernetes reads it
    assert [c.name for c in shell.security.capabilities_drop] == ["all"]
    assert shell.security.run_as_user is None


def test_malformed_fields_are_problems_at_the_value_not_crashes():
    kubernetes, problems, _ = build("malformed.yaml")
    messages = {(p.span.line, p.message.split(":")[0]) for p in problems}
    assert (6, "`spec.replicas` must be an integer, not 'many'") in {
        (p.span.line, p.message) for p in problems}
    assert (14, "resources.limits.cpu") in messages
    assert any(p.span.line == 16 and "must be a mapping" in p.message for p in problems)
    assert any(p.span.line == 17 and "`env` must be a list" in p.message for p in problems)
    assert any(p.span.line == 22 and "DaemonSet 'agent' has no pod spec" in p.message
               for p in problems)
    db, agent = kubernetes.workloads
    db_container = db.containers[0]
    assert db_container.resources.limit("cpu").value is None
    assert db_container.resources.limit("memory").bytes == 1536 * 2**20
    assert db.replicas is None and db.effective_replicas == 1
    assert agent.pod is None and agent.containers == ()


def test_a_templated_workload_outside_a_chart_is_not_checked_and_fails_closed():
    # it was a note before, so the gate passed a Deployment it never read
    from auditor.model.span import NotChecked

    kubernetes, problems, notes = build("helm.yaml", "list.yaml")
    assert notes == []
    assert [(type(p), p.span.path, p.span.line) for p in problems] == [(NotChecked, "helm.yaml", 1)]
    assert "template expressions" in problems[0].message and "not checked" in problems[0].message
    assert all(o.name != "{{ .Release.Name }}" for o in kubernetes.objects)
    assert kubernetes.paths == ("list.yaml",)


def test_template_text_in_a_configmap_is_data_and_the_file_is_checked():
    # alert templates in a ConfigMap used to make the whole file a "Helm template", unchecked
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\ndata:\n"
            "  summary: 'Instance {{ $labels.instance }} down'\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
            "  - name: c\n    image: nginx:latest\n    securityContext:\n      privileged: true\n")
    documents, _ = load_yaml_documents(text, "all.yaml")
    kubernetes, problems, notes = build_kubernetes(documents)
    assert problems == [] and notes == []
    assert [w.name for w in kubernetes.workloads] == ["web"]
    assert sorted(o.kind for o in kubernetes.objects) == ["ConfigMap", "Pod"]


def test_legacy_ingress_and_defaults():
    kubernetes, problems, _ = build_text("""\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: old
  annotations:
    kubernetes.io/ingress.class: nginx
spec:
  backend:
    serviceName: web
    servicePort: 80
  rules:
    - http:
        paths:
          - backend:
              serviceName: api
              servicePort: http
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {kind: Deployment, name: api}
  maxReplicas: 5
""")
    assert problems == []
    ingress = kubernetes.ingresses[0]
    assert ingress.ingress_class == "nginx"
    assert [(b.service_name, b.service_port, b.host) for b in ingress.backends] == [
        ("web", 80, None), ("api", "http", None)]
    assert ingress.default_backend.span.line == 8 and ingress.tls == ()
    service = kubernetes.services[0]
    assert (service.type, service.type_span, service.ports[0].target_port) == ("ClusterIP", None, None)
    assert kubernetes.ingresses_for(service) == (ingress,)
    assert kubernetes.autoscalers[0].min_replicas == 1
    assert kubernetes.autoscalers[0].min_replicas_span is None


def test_services_match_on_selector_and_namespace():
    kubernetes, _, _ = build_text("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "x:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: other-namespace, namespace: b}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: other-labels}
spec: {selector: {app: web, tier: db}}
---
apiVersion: v1
kind: Service
metadata: {name: no-selector}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: matches}
spec: {selector: {app: web}}
""")
    assert [s.name for s in kubernetes.services_for(kubernetes.workloads[0])] == ["matches"]
    assert kubernetes.autoscaler_for(kubernetes.workloads[0]) is None


def test_non_mapping_documents_and_odd_shapes_never_raise():
    kubernetes, problems, _ = build_text("""\
apiVersion: v1
kind: List
items:
  - just a string
  - {apiVersion: v1}
---
apiVersion: apps/v1
kind: Deployment
metadata: nope
spec:
  template:
    spec:
      securityContext: [1]
      containers:
        - name: c
          image: 5
          securityContext:
            seccompProfile: RuntimeDefault
            capabilities: {drop: ALL}
          livenessProbe: yes
          ports: [{containerPort: http}]
""")
    assert len(kubernetes.workloads) == 1
    lines = sorted(p.span.line for p in problems)
    assert lines == [4, 5, 9, 13, 16, 18, 19, 20, 21]
    container = kubernetes.workloads[0].containers[0]
    assert container.image is None and container.security.seccomp_profile is None


def test_nodes_are_hashable():
    kubernetes, _, _ = build("app.yaml", "list.yaml")
    nodes = {*kubernetes.workloads, *kubernetes.services, *kubernetes.ingresses,
             *(c for _, c in kubernetes.containers())}
    assert len(nodes) == 9
    hash(kubernetes)


def test_a_marker_only_in_a_value_the_document_replaced_is_not_a_template():
    # the loader saw `{{ }}` (template_markers), but no value of the manifest holds it: read as before
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  <<: {name: '{{ x }}'}\n"
            "spec:\n  containers:\n  - name: c\n    image: nginx:1\n")
    documents, problems = load_yaml_documents(text, "k.yaml")
    assert problems == [] and documents[0].template_markers is True
    kubernetes, _, notes = build_kubernetes(documents)
    assert notes == [] and [w.name for w in kubernetes.workloads] == ["web"]


def test_documents_of_unknown_origin_are_still_searched_for_markers():
    import dataclasses

    documents, _ = load_yaml_documents("kind: Pod\nmetadata:\n  name: '{{ .Release.Name }}'\n", "t.yaml")
    unknown = [dataclasses.replace(d, template_markers=None) for d in documents]
    _, problems, _ = build_kubernetes(unknown)
    assert [p.span.path for p in problems] == ["t.yaml"] and "template expressions" in problems[0].message


def test_an_unquoted_template_expression_is_seen_as_one():
    # `image: {{ .Values.image }}` parses as a flow mapping whose key is a flow mapping: no string
    # holds the markers, and the Deployment was checked with a mapping for its image
    from auditor.model.span import NotChecked

    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
            "    spec:\n      containers:\n      - name: c\n        image: {{ .Values.image }}\n")
    documents, problems = load_yaml_documents(text, "deploy.yaml")
    assert problems == [] and documents[0].template_markers is True
    kubernetes, problems, _ = build_kubernetes(documents)
    assert [(type(p), p.span.path) for p in problems] == [(NotChecked, "deploy.yaml")]
    assert kubernetes.workloads == ()
