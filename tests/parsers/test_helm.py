"""Helm charts rendered by Helm's real engine (the helm-python-sdk the test command installs, or a
helm binary on PATH), boxed, and audited like manifests at their template files."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from auditor.config import Config
from auditor.discovery import discover
from auditor.parsers import helm
from auditor.parsers.project import build_project
from auditor.parsers.render import Limits
from tests.conftest import FIXTURES, run_auditor

RENDERER = helm.renderer_available()
needs_renderer = pytest.mark.skipif(
    RENDERER is None, reason="no Helm renderer on this machine: neither a helm binary on PATH nor "
                             "helm-python-sdk installed (pip install -c constraints.txt -e '.[test]')")
HELM = FIXTURES / "helm"


def _expected(root: Path) -> set[tuple[str, str, int]]:
    return {(e["rule"], e["path"], int(e["line"])) for e in yaml.safe_load((root / "expected.yaml").read_text()) or []}


def _found(root: Path, config: Config | None = None) -> set[tuple[str, str, int]]:
    result = scan([root], ignore=["SC"], config=config)
    return {(f.rule_id, f.span.path, f.span.line) for f in result.findings}


@needs_renderer
@pytest.mark.parametrize("name", ["hardened", "weakened", "broken"])
def test_chart_fixture_findings_are_exactly_the_expected_ones(name: str) -> None:
    root = HELM / name
    expected, found = _expected(root), _found(root)
    assert sorted(found - expected) == [] and sorted(expected - found) == [], \
        f"unexpected {sorted(found - expected)}; missing {sorted(expected - found)}"


@needs_renderer
def test_privileged_chart_fails_the_gate_with_ks004_at_its_template_line() -> None:
    result = run_auditor("scan", "--no-external", str(HELM / "weakened"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "chart/templates/deployment.yaml" in result.stdout
    assert "KS004" in result.stdout and "privileged: true" in result.stdout  # the rendered line
    assert "Traceback" not in result.stderr


@needs_renderer
def test_hardened_chart_passes_the_gate_and_its_controls_are_checked() -> None:
    result = scan([HELM / "hardened"], ignore=["SC"])
    # only XF006's note on the layers this tree lacks (info); the chart is the Kubernetes layer
    assert {(f.rule_id, f.severity) for f in result.findings} == {("XF006", "info")}
    assert len(result.findings) == 4  # no Dockerfile, Compose, nginx, Next.js: the chart is Kubernetes
    assert not [f for f in result.findings if "Kubernetes" in f.message]
    assert run_auditor("scan", "--no-external", str(HELM / "hardened")).returncode == 0
    assert result.controls["KS004"].status == "pass"
    assert result.controls["KS008"].status == "pass"
    evidence = result.controls["KS004"].evidence
    assert any(e.span.path == "chart/templates/deployment.yaml" for e in evidence)


@needs_renderer
def test_values_file_named_in_the_configuration_is_its_own_render() -> None:
    config = Config(helm={"values": ["chart/values-weakened.yaml"]})
    result = scan([HELM / "hardened"], ignore=["SC"], config=config)
    ks004 = [f for f in result.findings if f.rule_id == "KS004"]
    assert {(f.span.path, f.span.line) for f in ks004} == {("chart/templates/deployment.yaml", 48),
                                                         ("chart/templates/deployment.yaml", 49)}
    assert all("values-weakened.yaml" in f.message for f in ks004)
    assert {f.snippet for f in ks004} == {"allowPrivilegeEscalation: true", "privileged: true"}
    # the control's evidence quotes the rendered lines too, with the same messages
    assert {(e.span, e.text, e.snippet) for e in result.controls["KS004"].evidence} >= \
        {(f.span, f.message, f.snippet) for f in ks004}
    ks008 = [f for f in result.findings if f.rule_id == "KS008"]
    assert [(f.span.line, f.snippet) for f in ks008] == [(28, 'image: "ghcr.io/acme/storefront:latest"')]


def test_chart_without_a_renderer_is_not_checked_and_fails_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine may have a renderer: this simulates one that has none (what CI without the
    # helm extra sees).
    monkeypatch.setattr(helm, "renderer_available", lambda: None)
    result = scan([HELM / "weakened"], ignore=["SC"])
    aud = [f for f in result.findings if f.rule_id == "AUD004"]
    assert [(f.span.path, f.span.line) for f in aud] == [("chart/Chart.yaml", 1)]
    assert "pip install 'auditor[helm]'" in aud[0].message
    assert result.controls["AUD004"].status == "fail"
    assert result.controls["KS004"].status == "error"  # never not_applicable, never pass


def test_broken_chart_message_says_why(tmp_path: Path) -> None:
    if RENDERER is None:
        pytest.skip("no Helm renderer on this machine (helm binary or helm-python-sdk)")
    result = scan([HELM / "broken"], ignore=["SC"])
    aud = [f for f in result.findings if f.rule_id == "AUD004"]
    assert len(aud) == 1 and 'function "env" not defined' in aud[0].message
    assert result.controls["KS001"].status == "error"


@needs_renderer
def test_symlinks_out_of_the_chart_do_not_reach_files(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    shutil.copytree(HELM / "hardened" / "chart", chart)
    (chart / "templates" / "leak.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n"
        "  passwd: {{ .Files.Get \"passwd\" | quote }}\n  up: {{ .Files.Get \"../../../../etc/hostname\" | quote }}\n"
        "  dns: {{ getHostByName \"example.com\" | quote }}\n"
        "  lookup: {{ lookup \"v1\" \"Secret\" \"default\" \"x\" | toJson | quote }}\n")
    (chart / "passwd").symlink_to("/etc/passwd")
    rendered = helm.render_chart(tmp_path, "chart")
    assert rendered.error is None, rendered.error
    text = dict(rendered.sections)["chart/templates/leak.yaml"]
    assert 'passwd: ""' in text and 'up: ""' in text and 'dns: ""' in text and 'lookup: "{}"' in text
    assert any("symbolic link" in note for note in rendered.notes)
    assert not (chart / "passwd").is_file() or (chart / "passwd").is_symlink()  # tree untouched


@needs_renderer
def test_render_that_runs_away_is_stopped_by_the_limits(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: loop\nversion: 0.1.0\n")
    # 10^8 iterations of a template loop: minutes of CPU unless stopped
    (chart / "templates" / "cm.yaml").write_text(
        "{{- range $i := until 10000 }}{{- range $j := until 10000 }}{{- end }}{{- end }}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    rendered = helm.render_chart(tmp_path, "chart", limits=Limits(timeout=3))
    assert rendered.error is not None and ("3 s" in rendered.error or "CPU" in rendered.error), rendered.error


def test_discovery_labels_helm_templates_only_inside_a_chart(tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: echo ${{ github.sha }}\n")
    shutil.copytree(HELM / "hardened" / "chart", tmp_path / "chart")
    project = build_project(discover([tmp_path], tmp_path))
    assert not [n for n in project.notes if "template" in n.message.lower()]
    assert helm.is_chart_template("chart/templates/deployment.yaml", ["chart"])
    assert not helm.is_chart_template("chart/values.yaml", ["chart"])
    assert not helm.is_chart_template(".github/workflows/ci.yml", ["chart"])


def test_split_sources_keeps_document_lines() -> None:
    stream = ("---\n# Source: app/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\n"
              "---\n# Source: app/templates/b.yaml\napiVersion: v1\nkind: Service\n")
    sections = helm.split_sources(stream)
    assert [name for name, _ in sections] == ["app/templates/a.yaml", "app/templates/b.yaml"]
    assert sections[1][1].splitlines()[1] == "apiVersion: v1"


@needs_renderer
def test_rendered_workloads_get_roles_so_app_only_rules_skip_a_cache(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    shutil.copytree(HELM / "hardened" / "chart", chart)
    # a cache beside the app: no probes on /api/health, one replica. KS006 and KS007 are app
    # (and proxy) controls; a redis is "other" and must not fail them.
    (chart / "templates" / "redis.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: redis\nspec:\n  replicas: 1\n"
        "  selector:\n    matchLabels: {app: redis}\n  template:\n    metadata:\n      labels: {app: redis}\n"
        "    spec:\n      automountServiceAccountToken: false\n      containers:\n        - name: redis\n"
        "          image: redis:7.2.4\n")
    result = scan([tmp_path], ignore=["SC"])
    app_only = [f for f in result.findings if f.rule_id in ("KS006", "KS007") and "redis" in f.message]
    assert app_only == []
    # ...while the controls for every role still see it
    assert any("redis" in f.message for f in result.findings if f.rule_id == "KS001")


@needs_renderer
def test_render_that_allocates_too_much_is_stopped_by_the_memory_limit(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mem\nversion: 0.1.0\n")
    # a 3 GB string, over the 2 GiB address-space limit
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        "  a: {{ repeat 1500000000 \"ab\" | len | quote }}\n")
    rendered = helm.render_chart(tmp_path, "chart")
    assert rendered.error is not None and "memory limit" in rendered.error, rendered.error


@needs_renderer
def test_subcharts_are_rendered_and_a_missing_dependency_is_not_checked(tmp_path: Path) -> None:
    chart = tmp_path / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                                      "  - name: cache\n    version: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")
    rendered = helm.render_chart(tmp_path, "app")
    assert rendered.error is not None and "missing from charts/: cache" in rendered.error
    sub = chart / "charts" / "cache"
    (sub / "templates").mkdir(parents=True)
    (sub / "Chart.yaml").write_text("apiVersion: v2\nname: cache\nversion: 0.1.0\n")
    (sub / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cache\nspec:\n  containers:\n    - name: redis\n"
        "      image: redis:7.2.4\n      securityContext:\n        privileged: true\n")
    result = scan([tmp_path], ignore=["SC"])
    ks004 = [f for f in result.findings if f.rule_id == "KS004"]
    privileged = [f for f in ks004 if "privileged: true" in f.message]
    assert [(f.span.path, f.span.line) for f in privileged] == [("app/charts/cache/templates/pod.yaml", 10)]


@needs_renderer
def test_a_values_file_reached_through_a_link_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    shutil.copytree(HELM / "hardened" / "chart", tree / "chart")
    outside.mkdir()
    (outside / "x.yaml").write_text("securityContext:\n  privileged: true\n")
    (tree / "chart" / "vals").symlink_to(outside)
    result = scan([tree], ignore=["SC"], config=Config(helm={"values": ["chart/vals/x.yaml"]}))
    aud = [f for f in result.findings if f.rule_id == "AUD004"]
    assert len(aud) == 1 and "not a regular file in the tree" in aud[0].message
    assert not [f for f in result.findings if f.rule_id == "KS004"]


_RANGED_WORKERS = """{{- range .Values.workers }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {{ .name }}
  template:
    metadata:
      labels:
        app: {{ .name }}
    spec:
      containers:
        - name: worker
          image: registry.example.com/worker:1.0.0
          securityContext:
            privileged: {{ .privileged }}
{{- end }}
"""


@needs_renderer
def test_workloads_a_range_renders_from_one_template_line_are_each_judged(tmp_path: Path) -> None:
    # Both Deployments come from the same template lines, so their nodes share every span; the
    # second used to be passed over as already reported (no KS007 or KS001 for it at all).
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("workers:\n  - {name: calm, privileged: false}\n"
                                       "  - {name: wild, privileged: true}\n")
    (chart / "templates" / "workers.yaml").write_text(_RANGED_WORKERS)
    result = scan([tmp_path], select=["KS001", "KS004", "KS007"])
    named = {(f.rule_id, f.message.split(",")[0].split(" sets")[0]) for f in result.findings}
    assert {("KS007", "Deployment calm"), ("KS007", "Deployment wild"),
            ("KS001", "Deployment calm"), ("KS001", "Deployment wild")} <= named, named
    privileged = [f for f in result.findings if f.rule_id == "KS004" and "is privileged" in f.message]
    assert [f.message.split(",")[0] for f in privileged] == ["Deployment wild"]
    privileged = privileged[0]
    # the line rendered 'privileged: false' for one and 'privileged: true' for the other: the
    # template's own line is quoted, never the other workload's value
    assert (privileged.span.path, privileged.span.line) == ("chart/templates/workers.yaml", 21)
    assert privileged.snippet == "privileged: {{ .privileged }}"
