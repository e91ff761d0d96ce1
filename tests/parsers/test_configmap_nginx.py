"""nginx configuration inside ConfigMaps and Compose `configs:`, and absolute includes resolved
through what images and containers copy or mount where."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from auditor.api import scan
from auditor.discovery import discover
from auditor.parsers.project import build_project

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "configmap-nginx"


def _found(root: Path) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.span.path, f.span.line) for f in scan([root], ignore=["SC"]).findings}


def test_fixture_findings_are_exactly_the_expected_ones() -> None:
    expected = {(e["rule"], e["path"], int(e["line"])) for e in yaml.safe_load((FIXTURE / "expected.yaml").read_text())}
    found = _found(FIXTURE)
    assert sorted(found - expected) == [] and sorted(expected - found) == []


def test_configmap_nginx_is_parsed_at_its_yaml_lines_and_the_absolute_include_resolves() -> None:
    result = scan([FIXTURE], ignore=["SC"])
    ng012 = [f for f in result.findings if f.rule_id == "NG012"]
    assert [(f.span.path, f.span.line, f.snippet) for f in ng012] == [("k8s/proxy.yaml", 16, "server_tokens on;")]
    # proxy.conf is another key of the ConfigMap, included as /etc/nginx/conf.d/proxy.conf: the
    # Deployment mounts the ConfigMap there, so the include is read and NG011 passes on its lines
    assert result.controls["NG011"].status == "pass"
    assert {e.span.line for e in result.controls["NG011"].evidence} & {25, 26, 27, 28}
    project = build_project(discover([FIXTURE], FIXTURE))
    table = {(m.container_path, m.source) for m in project.mounts}
    assert ("/etc/nginx/conf.d/proxy.conf", "k8s/proxy.yaml::proxy-conf/proxy.conf") in table
    assert not [n for n in project.notes if "proxy.conf" in n.message]


def test_without_the_mount_the_include_is_outside_the_tree(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "t")
    manifest = tmp_path / "t" / "k8s" / "proxy.yaml"
    manifest.write_text(manifest.read_text().replace("mountPath: /etc/nginx/conf.d", "mountPath: /srv/conf"))
    result = scan([tmp_path / "t"], ignore=["SC"])
    assert result.controls["NG011"].status != "pass"


def test_compose_configs_content_and_volume_mounts(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "headers.conf").write_text('add_header X-Frame-Options "DENY" always;\n')
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  proxy:\n"
        "    image: nginx:1.27.3\n"
        "    volumes:\n"
        "      - ./nginx:/etc/nginx/snippets:ro\n"
        "    configs:\n"
        "      - source: site\n"
        "        target: /etc/nginx/conf.d/default.conf\n"
        "configs:\n"
        "  site:\n"
        "    content: |\n"
        "      server {\n"
        "          listen 80;\n"
        "          server_tokens on;\n"
        "          include /etc/nginx/snippets/headers.conf;\n"
        "      }\n")
    project = build_project(discover([tmp_path], tmp_path))
    assert [c.path for c in project.nginx_configs] == ["compose.yaml"]
    assert ("/etc/nginx/snippets", "nginx") in {(m.container_path, m.source) for m in project.mounts}
    result = scan([tmp_path], ignore=["SC"])
    ng012 = [f for f in result.findings if f.rule_id == "NG012"]
    assert [(f.span.path, f.span.line) for f in ng012] == [("compose.yaml", 14)]
    # the snippet folder bind-mounted from ./nginx was read: X-Frame-Options is set
    assert not [f for f in result.findings if f.rule_id == "NG006"]


def test_a_volume_with_an_interpolated_source_and_the_long_syntax_are_mounts(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    (tmp_path / "snippets").mkdir()
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  proxy:\n"
        "    image: nginx:1.27.3\n"
        "    volumes:\n"
        "      - ${NGINX_CONF_DIR:-./nginx}:/etc/nginx/conf.d:ro\n"
        "      - type: bind\n"
        "        source: ./snippets\n"
        "        target: /etc/nginx/snippets\n")
    project = build_project(discover([tmp_path], tmp_path))
    table = {(m.container_path, m.source) for m in project.mounts}
    assert {("/etc/nginx/conf.d", "nginx"), ("/etc/nginx/snippets", "snippets")} <= table


def test_dockerfile_copy_maps_container_paths_to_the_tree(tmp_path: Path) -> None:
    (tmp_path / "proxy").mkdir()
    (tmp_path / "proxy" / "conf.d").mkdir()
    (tmp_path / "proxy" / "proxy.conf").write_text("proxy_set_header Host $host;\n")
    (tmp_path / "proxy" / "conf.d" / "site.conf").write_text("server { listen 80; }\n")
    (tmp_path / "proxy" / "Dockerfile").write_text(
        "FROM nginx:1.27.3\nCOPY proxy.conf /etc/nginx/conf.d/\nCOPY conf.d /etc/nginx/sites/\n")
    project = build_project(discover([tmp_path], tmp_path))
    table = {(m.container_path, m.source) for m in project.mounts}
    assert ("/etc/nginx/conf.d/proxy.conf", "proxy/proxy.conf") in table
    assert ("/etc/nginx/sites", "proxy/conf.d") in table


def test_a_configmap_key_that_is_not_nginx_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n"
        "  settings.json: |\n    {\"server\": {\"port\": 3000}}\n  app.conf: |\n    LOG_LEVEL=info\n")
    project = build_project(discover([tmp_path], tmp_path))
    assert project.nginx_configs == ()


def test_the_built_project_keeps_the_yaml_of_unmodelled_kinds_only() -> None:
    """release_modelled_manifests: the Deployment's loaded YAML served the parsers (its ConfigMap
    mount above is found) and is released once the project is built; the ConfigMap, which has no
    model of its own, keeps its YAML for the rules that read it."""
    project = build_project(discover([FIXTURE], FIXTURE))
    assert project.kubernetes is not None
    kept = {obj.kind: dict(obj.raw) for obj in project.kubernetes.objects}
    assert kept["Deployment"] == {} and project.kubernetes.workloads[0].pod is not None
    assert "proxy.conf" in kept["ConfigMap"]["data"]
    assert any(m.container_path == "/etc/nginx/conf.d/proxy.conf" for m in project.mounts)
