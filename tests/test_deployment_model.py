"""The deployment model: which files describe the same app, what each layer claims about it, and
``auditor model``, on the real fixtures and on small trees written here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.discovery import discover
from auditor.model.deployment import SystemModel, deployments_of, to_dict
from auditor.model.project import Project
from auditor.parsers.deployment import health_path, image_keys
from auditor.parsers.project import build_project
from tests.conftest import FIXTURES, run_auditor


def _project(root: Path) -> Project:
    return build_project(discover([root], root))


def _model(root: Path) -> SystemModel:
    return deployments_of(_project(root))


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_compliant_fixture_is_one_deployment_linked_through_every_layer() -> None:
    model = _model(FIXTURES / "compliant")
    assert len(model.deployments) == 1
    app = model.deployments[0]
    assert app.name == "app"
    assert app.layers == ("nginx", "Kubernetes", "compose", "Dockerfile", "Next.js")
    assert app.dockerfile is not None and app.dockerfile.path == "Dockerfile"
    assert app.stage is not None and app.stage.name == "runner"
    assert [ref.service.name for ref in app.compose] == ["app"]
    assert [(ref.workload.name, ref.container.name) for ref in app.containers] == [("storefront", "storefront")]
    assert {route.location.label for route in app.routes} == {"location /", "location /_next/static/"}
    assert all(route.target == "compose service 'app'" and route.ports == (3000,) for route in app.routes)
    assert app.next_app is not None and app.next_app.dir == ""
    assert {claim.value for claim in app.uids} == {1001}
    assert {claim.layer for claim in app.uids} == {"Dockerfile", "compose", "Kubernetes"}
    assert all(claim.value == (3000,) for claim in app.ports)
    assert {claim.value for claim in app.health} == {"/api/health"}
    writable = {mount.target for root in app.read_only for mount in root.writable}
    assert writable == {"/tmp", "/app/.next/cache"}
    assert [(c.directory, c.dockerignore.path if c.dockerignore else None) for c in model.build_contexts] == \
        [("", ".dockerignore")]


def test_noncompliant_fixture_claims_show_the_disagreements() -> None:
    app = _model(FIXTURES / "noncompliant").deployments[0]
    assert sorted((c.layer, c.value) for c in app.uids) == [("Dockerfile", 0), ("Kubernetes", 0), ("Kubernetes", 1001),
                                                            ("compose", 1000)]
    nginx = [c for c in app.ports if c.layer == "nginx"]
    assert [(c.value, c.span.path, c.span.line) for c in nginx] == [((8080,), "nginx/conf.d/storefront.conf", 5)]
    assert [ref.service.name for ref in app.compose] == ["app", "preview"]
    # the Kubernetes image is pushed to ghcr.io, compose names it without a registry: same app
    assert any("same image repository acme/storefront" in link for link in app.links)
    preview = [root for root in app.read_only if root.subject.startswith("compose service 'preview'")]
    assert len(preview) == 1 and preview[0].writable == ()


def test_the_model_is_built_once_per_project() -> None:
    project = _project(FIXTURES / "compliant")
    assert deployments_of(project) is deployments_of(project)
    assert deployments_of(_project(FIXTURES / "compliant")) is not deployments_of(project)


def test_a_monorepo_gives_one_deployment_per_app(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "apps/shop/Dockerfile": "FROM node:20-alpine\nUSER 1001\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
        "apps/shop/package.json": '{"name": "shop", "dependencies": {"next": "14.2.5"}}\n',
        "apps/admin/Dockerfile": "FROM node:20-alpine\nUSER 1002\nEXPOSE 4000\nCMD [\"node\", \"server.js\"]\n",
        "apps/admin/package.json": '{"name": "admin", "dependencies": {"next": "14.2.5"}}\n',
        "docker-compose.yml": ("services:\n"
                               "  shop:\n    build: apps/shop\n    image: acme/shop:1\n    expose: [\"3000\"]\n"
                               "  admin:\n    build:\n      context: apps/admin\n    user: \"1002\"\n"
                               "  proxy:\n    image: nginx:1.27-alpine\n"
                               "  db:\n    image: postgres:16-alpine\n"),
        "nginx/nginx.conf": ("server {\n  listen 80;\n  location / { proxy_pass http://shop:3000; }\n"
                             "  location /admin { proxy_pass http://admin:4000; }\n}\n"),
        "k8s/shop.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\nspec:\n  template:\n"
                          "    spec:\n      containers:\n        - name: shop\n          image: registry.example.com/acme/shop:1\n"),
    })
    model = _model(root)
    by_name = {d.name: d for d in model.deployments}
    assert set(by_name) == {"shop", "admin"}, "the proxy and the database are not apps"
    shop, admin = by_name["shop"], by_name["admin"]
    assert shop.dockerfile.path == "apps/shop/Dockerfile" and admin.dockerfile.path == "apps/admin/Dockerfile"
    assert shop.next_app.dir == "apps/shop" and admin.next_app.dir == "apps/admin"
    assert [r.location.label for r in shop.routes] == ["location /"]
    assert [r.location.label for r in admin.routes] == ["location /admin"]
    assert [ref.container.name for ref in shop.containers] == ["shop"] and admin.containers == ()
    assert {c.value for c in admin.uids} == {1002}
    result = scan([root], select=["XF001", "XF002"])
    assert [f for f in result.findings if f.rule_id in ("XF001", "XF002")] == []
    assert result.controls["XF002"].status == "pass"


def test_a_single_app_is_linked_even_when_names_do_not_match(tmp_path: Path) -> None:
    """nginx proxying to localhost and a Kubernetes image pushed under another name still belong to
    the only app of the repository; the model says why."""
    root = _write(tmp_path, {
        "Dockerfile": "FROM node:20-alpine\nUSER 1001\nEXPOSE 3000\n",
        "nginx.conf": "server {\n  listen 80;\n  location / { proxy_pass http://127.0.0.1:3001; }\n}\n",
        "deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
                        "      containers:\n        - name: web\n          image: ghcr.io/acme/storefront:2\n"
                        "          ports:\n            - containerPort: 3000\n"
                        "        - name: redis\n          image: bitnami/redis:7.2\n"),
    })
    app = _model(root).deployments[0]
    assert [ref.container.name for ref in app.containers] == ["web"], "a sidecar is not the app"
    assert "the only app of the repository" in app.routes[0].target
    result = scan([root], select=["XF002"])
    [finding] = [f for f in result.findings if f.rule_id == "XF002"]
    assert (finding.span.path, finding.span.line) == ("nginx.conf", 3)
    assert "3001" in finding.message and "Dockerfile:3" in finding.message


def test_portmismatch_fixture_names_the_nginx_line_and_the_dockerfile_line() -> None:
    result = scan([FIXTURES / "portmismatch"], select=["XF002"])
    [finding] = [f for f in result.findings if f.rule_id == "XF002"]
    assert (finding.span.path, finding.span.line) == ("nginx/conf.d/storefront.conf", 9)
    assert finding.snippet == "server app:8080;"
    assert "8080" in finding.message and "EXPOSE 3000 (Dockerfile:43)" in finding.message
    assert ("Dockerfile", 43) in {(r.span.path, r.span.line) for r in finding.related}


def test_xf_findings_carry_every_location_on_the_noncompliant_fixture() -> None:
    result = scan([FIXTURES / "noncompliant"], select=["XF"])
    related: dict[str, set[tuple[str, int]]] = {}
    for finding in result.findings:
        related.setdefault(finding.rule_id, set()).update((r.span.path, r.span.line) for r in finding.related)
    assert {("Dockerfile", 44), ("k8s/deployment.yaml", 40)} <= related["XF001"]
    # the Service targetPort names the containerPort, so the containerPort speaks for both
    assert ("Dockerfile", 41) in related["XF002"] and ("k8s/deployment.yaml", 30) in related["XF002"]
    assert ("package.json", 1) in related["XF003"]
    assert (".dockerignore", 1) in related["XF005"]
    compliant = scan([FIXTURES / "compliant"], select=["XF"])
    assert [f.rule_id for f in compliant.findings] == []
    assert {compliant.controls[f"XF00{n}"].status for n in range(1, 7)} == {"pass"}


def test_missing_layers_are_info_findings_and_their_controls_not_applicable(tmp_path: Path) -> None:
    root = _write(tmp_path, {"Dockerfile": "FROM node:20-alpine\nUSER 1001\n"})
    result = scan([root])
    messages = [f.message for f in result.findings if f.rule_id == "XF006"]
    assert len(messages) == 4 and all(f.startswith("no ") for f in messages)
    assert {f.severity for f in result.findings if f.rule_id == "XF006"} == {"info"}
    assert result.controls["NG004"].status == "not_applicable"
    assert result.controls["XF002"].status == "not_applicable", "one layer alone has no chain to compare"


def test_health_path_and_image_keys() -> None:
    assert health_path("wget -qO- http://127.0.0.1:3000/api/health || exit 1") == "/api/health"
    assert health_path("curl -fsS localhost:3000/api/health?full=1") == "/api/health"
    assert health_path("node healthcheck.js") is None
    assert image_keys("ghcr.io/acme/shop:1.2@sha256:" + "0" * 64) == ("acme/shop", "shop")
    assert image_keys("node:20-alpine") == ("node", "node")
    assert image_keys("localhost:5000/library/web") == ("web", "web")


def test_model_command_prints_the_chain_on_the_compliant_fixture() -> None:
    result = run_auditor("model", str(FIXTURES / "compliant"))
    assert result.returncode == 0, result.stderr
    chain = next(line for line in result.stdout.splitlines() if line.strip().startswith("chain") and "nginx" in line)
    assert chain.index("nginx :3000") < chain.index("compose service 'app'") < \
        chain.index("image ghcr.io/acme/storefront:1.4.2") < chain.index("Dockerfile Dockerfile stage 'runner'")
    assert "port 3000; uid 1001; health /api/health" in chain
    as_json = run_auditor("model", str(FIXTURES / "compliant"), "--format", "json")
    data = json.loads(as_json.stdout)
    assert data == to_dict(_model(FIXTURES / "compliant"))
    assert data["deployments"][0]["dockerfile"]["stage"] == "runner"


def test_model_command_rejects_a_file() -> None:
    result = run_auditor("model", str(FIXTURES / "compliant" / "Dockerfile"))
    assert result.returncode == 2 and "not a folder" in result.stderr


def test_projects_side_by_side_are_separate_deployments(tmp_path: Path) -> None:
    """Two copies of one project (both with a compose service named `app`, both proxied by
    `proxy_pass http://app`) must not merge into one deployment: names link within a project."""
    import shutil

    for name in ("shop", "blog"):
        shutil.copytree(FIXTURES / "compliant", tmp_path / name)
    model = deployments_of(_project(tmp_path))
    assert len(model.deployments) == 2
    for deployment in model.deployments:
        folders = {route.proxy.span.path.split("/")[0] for route in deployment.routes}
        folders |= {ref.file.path.split("/")[0] for ref in deployment.compose}
        folders |= {deployment.dockerfile.path.split("/")[0]} if deployment.dockerfile else set()
        assert len(folders) == 1, folders


# --- workload roles ---------------------------------------------------------------------------

def _role(root: Path, name: str) -> tuple[str, str]:
    found = [w for w in _model(root).workloads if w.name == name]
    assert len(found) == 1, _model(root).workloads
    return found[0].role, found[0].evidence


@pytest.mark.parametrize(("body", "name", "role"), [
    ("build: .", "app", "app"),
    ("image: nginx:1.27-alpine", "web", "proxy"),
    ("build: ./nginx", "edge", "proxy"),
    ("build: {context: ., dockerfile: nginx.Dockerfile}", "edge", "proxy"),
    ("image: example/custom:1", "reverse-proxy", "proxy"),
    ("image: traefik:v3.1", "router", "proxy"),
    ("image: node:20-alpine", "worker", "app"),
    ("image: registry.example.com/web:1", "web", "app"),
    ("image: prom/node-exporter:v1.8.2", "monitor", "other"),
    ("image: postgres:16-alpine", "db", "other"),
    ("image: php:8.3-fpm-alpine", "web", "other"),  # a third-party image named web is not the app
    ("image: example/custom:1\n    volumes: [\"./site.conf:/etc/nginx/conf.d/default.conf:ro\"]", "edge", "proxy"),
])
def test_compose_service_roles(tmp_path: Path, body: str, name: str, role: str) -> None:
    _write(tmp_path, {"docker-compose.yml": f"services:\n  {name}:\n    {body}\n"})
    assert _role(tmp_path, name)[0] == role


def test_dockerfile_roles_and_the_services_that_build_them(tmp_path: Path) -> None:
    _write(tmp_path, {
        "web/Dockerfile": "FROM node:20-alpine AS builder\nRUN npx next build\n"
                          "FROM node:20-alpine\nCOPY --from=builder /app/.next/standalone ./\n",
        "proxy/Dockerfile": "FROM nginx:1.27-alpine\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
        "jobs/Dockerfile": "FROM python:3.12-alpine\nCMD [\"python\", \"job.py\"]\n",
        "docker-compose.yml": "services:\n  front:\n    build: ./proxy\n  site:\n    build: ./web\n"
                              "  jobs:\n    build: ./jobs\n",
    })
    model = _model(tmp_path)
    roles = {(w.kind, w.name): (w.role, w.evidence) for w in model.workloads}
    assert roles[("Dockerfile", "web/Dockerfile")][0] == "app"
    assert "next build" in roles[("Dockerfile", "web/Dockerfile")][1]
    assert roles[("Dockerfile", "proxy/Dockerfile")] == ("proxy", "the final stage is FROM nginx:1.27-alpine, "
                                                                  "a reverse-proxy image")
    assert roles[("Dockerfile", "jobs/Dockerfile")][0] == "other"
    assert roles[("compose service", "front")][0] == "proxy"
    assert roles[("compose service", "site")][0] == "app"
    assert roles[("compose service", "jobs")][0] == "other"
    assert [d.name for d in model.deployments] == ["site"]  # only the app is a deployment


def test_kubernetes_container_roles(tmp_path: Path) -> None:
    _write(tmp_path, {"k8s/all.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  template:
    metadata: {labels: {app: shop}}
    spec:
      initContainers:
        - {name: wait, image: busybox:1.36}
      containers:
        - {name: shop, image: ghcr.io/acme/shop:1.0.0}
        - name: edge
          image: ghcr.io/acme/edge:1.0.0
          volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d, readOnly: true}]
      volumes: [{name: conf, configMap: {name: edge}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache}
spec:
  template:
    spec:
      containers: [{name: redis, image: redis:7.2-alpine}]
"""})
    assert _role(tmp_path, "shop")[0] == "app"
    assert _role(tmp_path, "wait")[0] == "other"
    assert _role(tmp_path, "edge") == ("proxy", "mounts nginx configuration at /etc/nginx/conf.d")
    assert _role(tmp_path, "redis")[0] == "other"
    assert [d.name for d in _model(tmp_path).deployments] == ["shop"]


def test_configuration_assigns_a_role_by_name(tmp_path: Path) -> None:
    _write(tmp_path, {"docker-compose.yml": "services:\n  shop:\n    image: php:8.3-fpm-alpine\n",
                      ".auditor.yaml": "roles: {shop: app}\n"})
    result = run_auditor("model", "--format", "json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    workloads = json.loads(result.stdout)["workloads"]
    assert [(w["name"], w["role"]) for w in workloads] == [("shop", "app")]
    assert "configuration" in workloads[0]["evidence"]
    assert scan([tmp_path], select=["DC006"]).findings == []  # without the configuration: not the app
    from auditor.catalog import load_catalog
    from auditor.config import load_config

    config = load_config(tmp_path / ".auditor.yaml", load_catalog())
    assert [f.rule_id for f in scan([tmp_path], config=config, select=["DC006"]).findings] == ["DC006"]


# --- linking within a project -----------------------------------------------------------------

_TWO_PORTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: consul}
spec:
  template:
    metadata: {labels: {app: consul}}
    spec:
      containers:
        - name: consul
          image: ghcr.io/acme/consul-ui:1.0.0
          ports:
            - {name: http, containerPort: 8500}
            - {name: https, containerPort: 8501}
---
apiVersion: v1
kind: Service
metadata: {name: consul}
spec:
  selector: {app: consul}
  ports:
    - {name: http, port: 8500, targetPort: 8500}
    - {name: https, port: 8501, targetPort: https}
"""


def test_a_two_port_container_is_no_port_mismatch(tmp_path: Path) -> None:
    _write(tmp_path, {"k8s/consul.yaml": _TWO_PORTS})
    result = scan([tmp_path], select=["XF002"])
    assert [f.message for f in result.findings] == []
    _write(tmp_path, {"k8s/consul.yaml": _TWO_PORTS.replace("targetPort: https", "targetPort: 9000")})
    messages = [f.message for f in scan([tmp_path], select=["XF002"]).findings]
    assert len(messages) == 1 and "targetPort 9000" in messages[0]  # a port no container declares


def test_projects_side_by_side_do_not_link(tmp_path: Path) -> None:
    import shutil

    for name in ("compliant", "portmismatch"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    # a folder that is no project keeps the tree one audit (as `auditor scan fixtures` is)
    _write(tmp_path, {"shared/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"})
    result = scan([tmp_path], ignore=["SC"])
    for finding in result.findings:
        project = finding.span.path.split("/", 1)[0]
        assert all(r.span.path.split("/", 1)[0] == project for r in finding.related), finding
        assert not any(f"{other}/" in finding.message for other in ("compliant", "portmismatch")
                       if other != project), finding.message
    model = _model(tmp_path)
    for deployment in model.deployments:
        files = {ref.span.path.split("/", 1)[0] for ref in deployment.containers + deployment.compose} \
            | {s.span.path.split("/", 1)[0] for ref in deployment.containers for s in ref.services}
        assert len(files) == 1, deployment.links


def test_manifests_repeating_names_report_each_finding_once(tmp_path: Path) -> None:
    manifest = _TWO_PORTS.replace("consul", "web") + """\
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8500}}}}
"""
    _write(tmp_path, {"k8s/app.yaml": manifest, "k8s/app-copy.yaml": manifest})
    found = [(f.span.path, f.span.line, f.message) for f in scan([tmp_path], select=["KS009"]).findings]
    assert len(found) == 2 and len(set(found)) == 2  # once in each file, not once per Service that matches


# --- one defect, one rule -----------------------------------------------------------------------

def test_a_cross_file_control_reports_only_what_the_combination_shows(tmp_path: Path) -> None:
    """A compose service read_only without tmpfs under WORKDIR /app is DC011's, a compose probe of
    /healthz DC006's and a missing /api/health route NX002's: XF003/XF004 stay quiet on them and
    speak when the Dockerfile changes the answer."""
    _write(tmp_path, {
        "Dockerfile": "FROM node:20-alpine\nWORKDIR /app\nUSER 1001\nHEALTHCHECK CMD wget -qO- "
                      "http://127.0.0.1:3000/api/health || exit 1\nCMD [\"node\", \"server.js\"]\n",
        "package.json": '{"name": "shop", "dependencies": {"next": "14.2.5"}}\n',
        "app/api/products/route.ts": "export async function GET() { return Response.json([]); }\n",
        "docker-compose.yml": "services:\n  app:\n    build: .\n    read_only: true\n    tmpfs: [/tmp]\n"
                              "    healthcheck:\n      test: [\"CMD-SHELL\", \"wget -qO- http://127.0.0.1:3000/healthz\"]\n",
    })
    rules = {f.rule_id for f in scan([tmp_path], ignore=["SC"]).findings}
    assert {"DC011", "DC006", "NX002"} <= rules and not {"XF003", "XF004"} & rules
    (tmp_path / "Dockerfile").write_text(
        "FROM node:20-alpine\nWORKDIR /srv/shop\nUSER 1001\nHEALTHCHECK CMD wget -qO- "
        "http://127.0.0.1:3000/api/ready || exit 1\nCMD [\"node\", \"server.js\"]\n")
    messages = {f.rule_id: f.message for f in scan([tmp_path], select=["XF003", "XF004"]).findings}
    assert "/srv/shop/.next/cache" in messages["XF004"]
    assert "/api/ready" in messages["XF003"]


def test_internal_grpc_and_redis_services_are_not_asked_for_an_ingress(tmp_path: Path) -> None:
    manifests = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog}
spec:
  template:
    metadata: {labels: {app: catalog}}
    spec:
      containers:
        - name: catalog
          image: ghcr.io/acme/catalog-grpc:1.0.0
          ports: [{name: grpc, containerPort: 50051}]
---
apiVersion: v1
kind: Service
metadata: {name: catalog}
spec: {selector: {app: catalog}, ports: [{name: grpc, port: 50051, targetPort: grpc}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache}
spec:
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: redis, image: "redis:7.2-alpine", ports: [{containerPort: 6379}]}]
---
apiVersion: v1
kind: Service
metadata: {name: cache}
spec: {selector: {app: cache}, ports: [{port: 6379}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: shop, image: "ghcr.io/acme/shop:1.0.0", ports: [{containerPort: 3000}]}]
"""
    _write(tmp_path, {"k8s/all.yaml": manifests})
    assert _role(tmp_path, "catalog") == ("other", "serves gRPC (port grpc), which a Next.js app does not")
    assert _role(tmp_path, "redis")[0] == "other" and _role(tmp_path, "shop")[0] == "app"
    findings = scan([tmp_path], select=["KS009", "KS006", "KS001"]).findings
    by_workload: dict[str, set[str]] = {}
    for finding in findings:
        workload = finding.message.split(",")[0].split()[-1] if finding.message.startswith("Deployment") else "?"
        by_workload.setdefault(workload, set()).add(finding.rule_id)
    # the app is asked for its Ingress, probes and UID; the others only to run as non-root
    assert by_workload["shop"] >= {"KS006", "KS001"} and "KS009" in {f.rule_id for f in findings}
    assert by_workload["catalog"] == {"KS001"} and by_workload["cache"] == {"KS001"}
    assert all("runAsNonRoot" in f.message for f in findings if "catalog" in f.message or "cache" in f.message)
    assert not [f.message for f in findings if f.rule_id == "KS009" and ("catalog" in f.message or "cache" in f.message)]


def test_folders_without_a_project_marker_and_public_images_do_not_link(tmp_path: Path) -> None:
    """Manifest folders side by side are projects of their own, and two services pulling
    node:20-alpine are not one app (`auditor scan fixtures` over the case folders)."""
    web = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
           "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
           "        - {name: web, image: ghcr.io/acme/web:1.0.0, securityContext: {runAsUser: %d}}\n")
    _write(tmp_path, {"one/deploy.yaml": web % 1001, "two/deploy.yaml": web % 0,
                      "a/docker-compose.yml": "services:\n  frontend:\n    image: node:20-alpine\n    user: '1001'\n",
                      "b/docker-compose.yml": "services:\n  frontend:\n    image: node:20-alpine\n    user: '0'\n"})
    model = _model(tmp_path)
    assert len(model.deployments) == 4
    for deployment in model.deployments:
        assert len({ref.span.path for ref in deployment.containers + deployment.compose}) == 1, deployment.links
    assert [f.message for f in scan([tmp_path], select=["XF001"]).findings] == []


def test_the_model_is_built_with_the_project_and_shared_by_its_role_views() -> None:
    project = _project(FIXTURES / "compliant")
    assert project.system.deployments, "build_project links the deployment graph eagerly"
    view = project.for_roles(("app",))
    assert view.system.deployments == project.system.deployments and view.system.workloads is project.system.workloads
    assert project.for_roles(("proxy",)).system.deployments == (), "a view without the app role has no app deployment"
    assert project.for_roles(("app",)) is view, "views are built once per role set"


def test_views_share_what_they_do_not_change_and_annotate_each_service_once(tmp_path: Path) -> None:
    """role_view: every view's compose services carry the roles of the deployment graph, annotated
    once per project (each view holds the same service objects); a compose file, a Kubernetes
    set and the system model that a view leaves as they are are the project's own."""
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers:\n  - {name: c, image: %s}\n"
    _write(tmp_path, {"docker-compose.yml": "services:\n  web:\n    image: nginx:1.27\n    ports: ['443:443']\n"
                                            "  db:\n    image: postgres:16\n",
                      "k8s/pods.yaml": pod % ("edge", "nginx:1.27") + "---\n" + pod % ("db", "postgres:16")})
    project = _project(tmp_path)
    every, proxies, others = (project.for_roles(roles) for roles in (None, ("proxy",), ("other",)))
    roles = {w.key: w.role for w in project.system.workloads}
    from auditor.model.deployment import role_key

    services = every.compose_files[0].services
    assert [(s.name, s.role) for s in services] == [("web", "proxy"), ("db", "other")]
    assert all(s.role == roles[role_key(s)] and s.role_evidence for s in services)
    assert [s.name for s in proxies.compose_files[0].services] == ["web"]
    assert proxies.compose_files[0].services[0] is services[0], "annotated once, shared by the views"
    assert others.compose_files[0].services[0] is services[1]
    assert [s.role for s in project.compose_files[0].services] == ["", ""], "the project's own are left as built"
    assert every.kubernetes is project.kubernetes, "nothing left out: the project's own set and its indexes"
    assert proxies.kubernetes is not project.kubernetes and proxies.kubernetes is not None
    assert [w.name for w in proxies.kubernetes.workloads] == ["edge"]
    assert every.system is project.system and others.system.deployments == ()


def test_a_checked_project_and_its_views_are_freed_when_dropped_without_the_collector() -> None:
    """A worker audits project after project: what one project built for its checks (its role
    views) must go with it, not wait in reference cycles for a full garbage collection."""
    import gc
    import weakref

    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.engine import run_checks, select_rules

    config = Config()
    project = _project(FIXTURES / "compliant")
    run_checks(project, select_rules(load_catalog(), config), config)
    held = [weakref.ref(project)] + [weakref.ref(view) for view in project.memo.views.values()]
    assert len(held) > 2, "the rules looked at the project through several role views"
    enabled = gc.isenabled()
    gc.disable()
    try:
        del project
        assert [ref() is None for ref in held] == [True] * len(held)
    finally:
        if enabled:
            gc.enable()


def test_containers_carry_their_role_from_the_build_and_views_do_not_copy_them(tmp_path: Path) -> None:
    """fill_container_roles: each container of the built project has the role the deployment
    graph gives it, so a view keeps the project's own workloads (one copied only when a
    container of another role is left out of it)."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers:\n"
           "  - {name: c, image: %s}\n")
    _write(tmp_path, {"k8s/pods.yaml": pod % ("edge", "nginx:1.27") + "---\n" + pod % ("db", "postgres:16")
                      + "---\n" + pod % ("both", "nginx:1.27") + "  - {name: d, image: redis:7}\n"})
    project = _project(tmp_path)
    assert project.kubernetes is not None
    roles = {w.key: w.role for w in project.system.workloads}
    from auditor.model.deployment import role_key

    assert [(w.name, c.name, c.role) for w, c in project.kubernetes.containers()] == \
        [("edge", "c", "proxy"), ("db", "c", "other"), ("both", "c", "proxy"), ("both", "d", "other")]
    assert all(c.role == roles[role_key(c)] for _, c in project.kubernetes.containers())
    every = project.for_roles(None).kubernetes
    assert every is not None and all(mine is theirs for mine, theirs in zip(every.workloads, project.kubernetes.workloads))
    proxies = project.for_roles(("proxy",)).kubernetes
    assert proxies is not None and [w.name for w in proxies.workloads] == ["edge", "both"]
    assert proxies.workloads[0] is project.kubernetes.workloads[0]
    assert [c.name for c in proxies.workloads[1].containers] == ["c"], "the other container is left out of a copy"


def test_nx001_reads_the_dockerfile_the_deployment_links_to_an_app(tmp_path: Path) -> None:
    """A compose build names a Dockerfile outside the app's folder: the deployment model links it
    to the app, and NX001 reads that Dockerfile (its own folder lookup would not find it)."""
    _write(tmp_path, {
        "apps/web/package.json": '{"name": "web", "dependencies": {"next": "14.2.5"}}\n',
        "apps/web/next.config.js": "module.exports = { reactStrictMode: true };\n",
        "docker/web.Dockerfile": "FROM node:20-alpine AS builder\nWORKDIR /app\nRUN npx next build\n"
                                 "FROM node:20-alpine\nWORKDIR /app\nUSER 1001\n"
                                 "COPY --from=builder /app/.next/standalone ./\nCMD [\"node\", \"server.js\"]\n",
        "compose.yaml": "services:\n  web:\n    build:\n      context: apps/web\n"
                        "      dockerfile: ../../docker/web.Dockerfile\n",
    })
    project = _project(tmp_path)
    (app,) = project.next_apps
    assert [d.path for d in project.system.dockerfiles_for(app)] == ["docker/web.Dockerfile"]
    (finding,) = [f for f in scan([tmp_path], select=["NX001"]).findings if f.rule_id == "NX001"]
    assert "docker/web.Dockerfile:7 copies .next/standalone" in finding.message
    # the same build without .next/standalone does not need output: 'standalone'
    (tmp_path / "docker/web.Dockerfile").write_text(
        "FROM node:20-alpine\nWORKDIR /app\nRUN npx next build\nUSER 1001\nCMD [\"npx\", \"next\", \"start\"]\n")
    assert scan([tmp_path], select=["NX001"]).controls["NX001"].status == "not_applicable"
