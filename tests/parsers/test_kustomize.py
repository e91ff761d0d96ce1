"""Kustomize overlays rendered by the machine's real Kustomize (kubectl kustomize or kustomize
build), boxed, each checked as its own deployment."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from auditor.api import scan
from auditor.discovery import discover
from auditor.parsers import kustomize
from auditor.parsers.project import build_project

needs_renderer = pytest.mark.skipif(
    kustomize.renderer_command() is None,
    reason="no Kustomize renderer on this machine: neither kubectl nor kustomize is on PATH")
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "kustomize"


@needs_renderer
def test_fixture_findings_are_exactly_the_expected_ones() -> None:
    expected = {(e["rule"], e["path"], int(e["line"])) for e in yaml.safe_load((FIXTURE / "expected.yaml").read_text())}
    result = scan([FIXTURE], ignore=["SC"])
    found = {(f.rule_id, f.span.path, f.span.line) for f in result.findings}
    assert sorted(found - expected) == [] and sorted(expected - found) == []


@needs_renderer
def test_prod_and_dev_are_separate_deployments_with_their_own_findings() -> None:
    result = scan([FIXTURE], ignore=["SC"])
    ks010 = sorted(f.message for f in result.findings if f.rule_id == "KS010")
    assert len(ks010) == 2  # the base's missing rate limit, once per overlay
    assert "overlays/dev" in ks010[0] and "overlays/prod" in ks010[1]
    dev_only = [f for f in result.findings if f.rule_id in ("KS002", "KS008")]
    assert dev_only and all("overlays/dev" in f.message and "overlays/prod" not in f.message for f in dev_only)
    project = build_project(discover([FIXTURE], FIXTURE))
    assert sorted(k.origin.split(" (")[0] for k in project.rendered_kubernetes) == \
        ["Kustomize overlay overlays/dev", "Kustomize overlay overlays/prod"]
    for rendered in project.rendered_kubernetes:
        assert [w.name for w in rendered.workloads] == ["storefront"]  # never merged
    assert project.kubernetes is None  # the base is audited through the overlays only


@needs_renderer
def test_images_override_pinning_the_tag_makes_ks008_pass_in_prod() -> None:
    result = scan([FIXTURE], ignore=["SC"])
    ks008 = [f for f in result.findings if f.rule_id == "KS008"]
    # the base names the image without a tag; only dev's `newTag: latest` fails, at the entry
    assert [(f.span.path, f.span.line, f.snippet) for f in ks008] == \
        [("overlays/dev/kustomization.yaml", 8, "image: ghcr.io/acme/storefront:latest")]
    passes = [e for e in result.controls["KS008"].evidence if "overlays/prod" in e.text]
    assert passes and "pinned by digest sha256:8d8db9d8" in passes[0].text
    assert passes[0].span.path == "overlays/prod/kustomization.yaml"


@needs_renderer
def test_patch_finding_points_at_the_patch() -> None:
    result = scan([FIXTURE], ignore=["SC"])
    ks002 = [f for f in result.findings if f.rule_id == "KS002"]
    assert [(f.span.path, f.span.line) for f in ks002] == [("overlays/dev/debug-patch.yaml", 13)]


def test_overlay_without_a_renderer_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # simulates a machine without kubectl and kustomize (this one may have them)
    monkeypatch.setattr(kustomize, "renderer_command", lambda: None)
    result = scan([FIXTURE], ignore=["SC"])
    aud = sorted((f.span.path, f.span.line) for f in result.findings if f.rule_id == "AUD004")
    assert aud == [("overlays/dev/kustomization.yaml", 1), ("overlays/prod/kustomization.yaml", 1)]
    assert all("kubectl" in f.message for f in result.findings if f.rule_id == "AUD004")
    assert result.controls["KS008"].status == "error"


@needs_renderer
def test_remote_and_outside_resources_are_not_fetched(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "k")
    remote = tmp_path / "k" / "overlays" / "remote"
    remote.mkdir()
    (remote / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\n  - https://github.com/example/manifests//deploy?ref=main\n")
    outside = tmp_path / "k" / "overlays" / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources:\n  - ../../../../etc\n")
    plugin = tmp_path / "k" / "overlays" / "plugin"
    plugin.mkdir()
    (plugin / "kustomization.yaml").write_text("resources:\n  - ../../base\ngenerators:\n  - gen.yaml\n")
    result = scan([tmp_path / "k"], ignore=["SC"])
    messages = {f.span.path: f.message for f in result.findings if f.rule_id == "AUD004"}
    assert "remote resource" in messages["overlays/remote/kustomization.yaml"]
    assert "outside the audited tree" in messages["overlays/outside/kustomization.yaml"]
    assert "plugins" in messages["overlays/plugin/kustomization.yaml"]
    assert "overlays/prod/kustomization.yaml" not in messages  # the others still render


def test_entry_points_are_kustomizations_nobody_uses() -> None:
    read = {path: kustomize.read_kustomization(path, (FIXTURE / path).read_text())
            for path in ("base/kustomization.yaml", "overlays/dev/kustomization.yaml",
                         "overlays/prod/kustomization.yaml")}
    assert kustomize.entry_points(read) == ["overlays/dev", "overlays/prod"]
    assert "overlays/dev/debug-patch.yaml" in kustomize.referenced_files(read)
    assert "base/deployment.yaml" in kustomize.referenced_files(read)


@needs_renderer
def test_the_tree_is_not_written(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "k")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    scan([tmp_path / "k"], ignore=["SC"])
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_unreferenced_manifests_beside_kustomize_are_still_audited(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "k")
    (tmp_path / "k" / "stray.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stray\nspec:\n  containers:\n"
        "    - name: x\n      image: busybox\n      securityContext:\n        privileged: true\n")
    project = build_project(discover([tmp_path / "k"], tmp_path / "k"))
    assert project.kubernetes is not None and project.kubernetes.paths == ("stray.yaml",)
