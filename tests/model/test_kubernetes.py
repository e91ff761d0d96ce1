"""auditor.model.kubernetes: defaults and lookups that checks rely on."""
from __future__ import annotations

from fractions import Fraction

from auditor.model.kubernetes import Quantity, same_namespace
from auditor.model.span import Span
from auditor.parsers.kubernetes import build_kubernetes, parse_image
from auditor.parsers.yaml_loader import load_yaml_documents


def kubernetes_of(text: str):
    documents, problems = load_yaml_documents(text, "k.yaml")
    assert problems == []
    kubernetes, problems, notes = build_kubernetes(documents)
    assert problems == [] and notes == []
    return kubernetes


def test_quantity_units():
    span = Span("k.yaml", 1)
    assert Quantity("cpu", "250m", Fraction(1, 4), span).cores == 0.25
    assert Quantity("memory", "1500m", Fraction(3, 2), span).bytes == 2
    malformed = Quantity("cpu", "two", None, span)
    assert malformed.cores is None and malformed.bytes is None


def test_templated_image():
    assert parse_image("${REGISTRY}/web:${TAG}").is_templated
    assert not parse_image("web:1").is_templated


def test_same_namespace_treats_absent_as_any():
    assert same_namespace(None, "prod") and same_namespace("prod", None)
    assert same_namespace("prod", "prod") and not same_namespace("prod", "dev")


def test_effective_replicas_defaults_only_for_replicated_kinds():
    kubernetes = kubernetes_of("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: c, image: "x:1"}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {template: {spec: {containers: [{name: c, image: "x:1"}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec: {template: {spec: {containers: [{name: c, image: "x:1"}]}}}
""")
    assert [(w.kind, w.replicas, w.effective_replicas) for w in kubernetes.workloads] == [
        ("Deployment", None, 1), ("DaemonSet", None, None), ("Job", None, None)]


def test_autoscaler_must_name_the_kind_and_the_workload():
    kubernetes = kubernetes_of("""\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {replicas: 1, template: {spec: {containers: [{name: c, image: "x:1"}]}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: wrong-kind}
spec: {scaleTargetRef: {kind: Deployment, name: db}, minReplicas: 3, maxReplicas: 5}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: right}
spec: {scaleTargetRef: {kind: StatefulSet, name: db}, minReplicas: 2, maxReplicas: 5}
""")
    hpa = kubernetes.autoscaler_for(kubernetes.workloads[0])
    assert (hpa.name, hpa.min_replicas) == ("right", 2)


def test_containers_yield_init_containers_first():
    kubernetes = kubernetes_of("""\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: "x:1"}]
  initContainers: [{name: init, image: "x:1", restartPolicy: Always}]
""")
    containers = [(c.name, c.is_init, c.restart_policy) for _, c in kubernetes.containers()]
    assert containers == [("init", True, "Always"), ("main", False, None)]
