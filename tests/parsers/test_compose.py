"""auditor.parsers.compose and the Compose model: real text through the real YAML loader."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model.compose import (
    ComposeFile,
    Service,
    as_bool,
    format_bytes,
    has_substitution,
    interpolate,
    normalize_capability,
    parse_cpus,
    parse_memory,
    substitution_defaults,
)
from auditor.model.span import Span
from auditor.parsers.compose import parse_compose

GIB = 1024**3


def compose(text: str, path: str = "docker-compose.yml") -> ComposeFile:
    parsed, problems = parse_compose(textwrap.dedent(text), path)
    assert problems == [] and parsed is not None
    return parsed


def service(text: str, name: str = "app") -> Service:
    return next(s for s in compose(text).services if s.name == name)


# --- interpolation ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("${PORT:-3000}", "3000"),
    ("${PORT-3000}", "3000"),
    ("${PORT}", ""),
    ("$PORT", ""),
    ("${PORT:?must be set}", ""),
    ("${PORT:+x}", ""),
    ("a$$b", "a$b"),
    ("${HOST:-0.0.0.0}:${PORT:-443}:443", "0.0.0.0:443:443"),
    (443, 443),
])
def test_interpolate_uses_defaults_never_the_environment(text, expected, monkeypatch) -> None:
    monkeypatch.setenv("PORT", "9999")
    assert interpolate(text) == expected


def test_substitution_detection_and_literal_fallbacks() -> None:
    assert has_substitution("${SECRET}") and has_substitution("x$VAR")
    assert not has_substitution("cost $$5") and not has_substitution(12)
    assert substitution_defaults("${A:-one}${B}${C-two}${D:?err}") == ["one", "two"]
    assert substitution_defaults("${A:-}") == []


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), ("true", True), ("yes", True), ("ON", True), ("1", True),
    ("false", False), ("0", False), ("${RO:-true}", True), (None, None), ("maybe", None), (3, None),
])
def test_as_bool(value, expected) -> None:
    assert as_bool(value) is expected


# --- sizes and CPUs ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2G", "2g", "2gb", "2GB", "2GiB", "2048m", "2048M", "2048mb",
                                  "2097152k", "2147483648", 2147483648, "2 G", "${MEM:-2g}"])
def test_memory_sizes_all_mean_two_gibibytes(text) -> None:
    assert parse_memory(text) == 2 * GIB


@pytest.mark.parametrize("text", ["lots", "2X", "-1", "", None, True, "2 GB extra"])
def test_memory_rejects_what_docker_rejects(text) -> None:
    assert parse_memory(text) is None


def test_fractional_memory_and_formatting() -> None:
    assert parse_memory("1.5g") == int(1.5 * GIB)
    assert format_bytes(2 * GIB) == "2G"
    assert format_bytes(1536 * 1024**2) == "1536M"
    assert format_bytes(100) == "100B"


@pytest.mark.parametrize(("value", "expected"), [("2", 2.0), (1.5, 1.5), ("0.5", 0.5), ("${C:-1}", 1.0),
                                                 ("two", None), (True, None), ("-1", None)])
def test_parse_cpus(value, expected) -> None:
    assert parse_cpus(value) == expected


@given(st.integers(min_value=1, max_value=4096), st.sampled_from(["k", "m", "g"]))
def test_memory_units_are_binary_in_any_case(amount: int, unit: str) -> None:
    multiple = {"k": 1024, "m": 1024**2, "g": GIB}[unit]
    assert parse_memory(f"{amount}{unit}") == parse_memory(f"{amount}{unit.upper()}b") == amount * multiple


def test_capabilities_are_normalised_like_docker() -> None:
    assert normalize_capability("cap_net_raw") == "NET_RAW"
    assert normalize_capability(" all ") == "ALL"
    assert normalize_capability("CAP_ALL") == "CAP_ALL"  # Docker rejects it; it drops nothing


# --- parsing and problems ---------------------------------------------------------------------

def test_services_keep_their_name_spans_and_build_specs() -> None:
    doc = compose("""\
        services:
          app:
            build:
              context: ./web
              dockerfile: Dockerfile.prod
              target: runner
          nginx:
            image: nginx:1.27-alpine
            build: ./nginx
        """, "deploy/docker-compose.yml")
    app, nginx = doc.services
    assert app.span.line == 2 and app.span.column == 3 and app.span.path == "deploy/docker-compose.yml"
    assert (app.build.context, app.build.dockerfile, app.build.target) == ("./web", "Dockerfile.prod", "runner")
    assert doc.service_dockerfile_path(app) == "deploy/web/Dockerfile.prod"
    assert doc.service_dockerfile_path(nginx) == "deploy/nginx/Dockerfile"
    assert doc.directory == "deploy"


@pytest.mark.parametrize(("context", "dockerfile", "expected"), [
    (".", "Dockerfile", "Dockerfile"),
    ("..", "docker/Dockerfile", None),  # above the scan root
    ("/abs/path", "Dockerfile", None),
    ("https://github.com/org/repo.git#main", "Dockerfile", None),
    ("git@github.com:org/repo.git", "Dockerfile", None),
])
def test_dockerfile_path_stays_inside_the_tree(context, dockerfile, expected) -> None:
    doc = compose(f"services:\n  app:\n    build:\n      context: '{context}'\n      dockerfile: {dockerfile}\n")
    assert doc.service_dockerfile_path(doc.services[0]) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty Compose file"),
    ("- a\n- b\n", "must be a mapping at the top level"),
    ("name: x\n", "no `services:` key"),
    ("services: [app]\n", "`services:` must be a mapping"),
    ("services:\n  app: nginx\n", "service 'app' must be a mapping"),
    ("services:\n  app: {\n", "invalid YAML"),
])
def test_problems_never_raise(text: str, message: str) -> None:
    parsed, problems = parse_compose(text, "c.yml")
    assert any(message in p.message for p in problems), problems


def test_service_with_null_body_is_an_empty_service() -> None:
    parsed, problems = parse_compose("services:\n  app:\n", "c.yml")
    assert problems == [] and parsed.services[0].body == {}


# --- ports, volumes, tmpfs --------------------------------------------------------------------

def test_port_syntaxes() -> None:
    app = service("""\
        services:
          app:
            ports:
              - 22:22
              - "127.0.0.1:443:8443/udp"
              - "3000"
              - "8000-8002:8000-8002"
              - "[::1]:80:8080"
              - "${HTTPS:-443}:443"
              - target: 443
                published: "443"
                host_ip: 0.0.0.0
              - target: 3000
        """)
    ports = app.ports
    assert [(p.host_ip, p.published, p.target, p.protocol) for p in ports] == [
        (None, "22", "22", "tcp"), ("127.0.0.1", "443", "8443", "udp"), (None, None, "3000", "tcp"),
        (None, "8000-8002", "8000-8002", "tcp"), ("::1", "80", "8080", "tcp"), (None, "443", "443", "tcp"),
        ("0.0.0.0", "443", "443", "tcp"), (None, None, "3000", "tcp")]
    assert ports[3].published_ports == [8000, 8001, 8002]
    assert ports[2].ephemeral and ports[7].ephemeral and not ports[0].ephemeral
    assert ports[1].loopback_only and ports[4].loopback_only
    assert [p.span.line for p in ports] == [4, 5, 6, 7, 8, 9, 10, 13]


def test_volume_syntaxes_and_writable_mounts() -> None:
    app = service("""\
        services:
          app:
            tmpfs:
              - /tmp:size=64m,mode=1777
            volumes:
              - /var/run/docker.sock:/var/run/docker.sock:ro
              - cache:/app/.next/cache
              - ./conf:/etc/app:ro,z
              - /anonymous
              - type: tmpfs
                target: /run
              - type: bind
                source: ./data
                target: /data
                read_only: true
        """)
    kinds = [(v.kind, v.source, v.target, v.read_only) for v in app.volumes]
    assert kinds == [("bind", "/var/run/docker.sock", "/var/run/docker.sock", True),
                     ("volume", "cache", "/app/.next/cache", False), ("bind", "./conf", "/etc/app", True),
                     ("volume", None, "/anonymous", False), ("tmpfs", None, "/run", False),
                     ("bind", "./data", "/data", True)]
    assert [m.target for m in app.writable_mounts] == ["/tmp", "/app/.next/cache", "/anonymous", "/run"]
    cache = app.volumes[1]
    assert cache.covers("/app/.next/cache") and cache.covers("/app/.next/cache/images")
    assert not cache.covers("/app/.next") and not cache.covers("/app/.next/cache2")


def test_tmpfs_as_a_single_string() -> None:
    assert [m.target for m in service("services:\n  app:\n    tmpfs: /tmp\n").tmpfs] == ["/tmp"]


# --- limits -----------------------------------------------------------------------------------

def test_deploy_limits_win_over_service_level_keys() -> None:
    app = service("""\
        services:
          app:
            cpus: 4
            mem_limit: 8g
            deploy:
              resources:
                limits:
                  cpus: "1.5"
                  memory: 512M
                reservations:
                  memory: 8G
        """)
    limits = app.resource_limits
    assert (limits.cpus, limits.memory) == (1.5, 512 * 1024**2)
    assert limits.cpus_span.line == 8 and limits.memory_span.line == 9 and limits.span.line == 7


def test_service_level_limits_and_cpu_quota() -> None:
    limits = service("services:\n  app:\n    mem_limit: 2gb\n    cpu_quota: 150000\n").resource_limits
    assert limits.memory == 2 * GIB and limits.cpus == 1.5
    missing = service("services:\n  app:\n    image: node:20\n").resource_limits
    assert not missing.cpus_set and not missing.memory_set and missing.span.line == 2


# --- healthcheck ------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "test", "disabled", "command"), [
    ('test: ["CMD", "wget", "-qO-", "http://x/api/health"]', ("CMD", "wget", "-qO-", "http://x/api/health"),
     False, "wget -qO- http://x/api/health"),
    ('test: ["CMD-SHELL", "curl -f http://x/ || exit 1"]', ("CMD-SHELL", "curl -f http://x/ || exit 1"),
     False, "curl -f http://x/ || exit 1"),
    ("test: curl -f http://x/", ("CMD-SHELL", "curl -f http://x/"), False, "curl -f http://x/"),
    ('test: ["NONE"]', ("NONE",), True, "NONE"),
    ("disable: true", None, True, ""),
    ("interval: 10s", None, False, ""),
])
def test_healthcheck_forms(body, test, disabled, command) -> None:
    healthcheck = service(f"services:\n  app:\n    healthcheck:\n      {body}\n").healthcheck
    assert (healthcheck.test, healthcheck.disabled, healthcheck.command) == (test, disabled, command)
    assert healthcheck.span.line == 3


def test_no_healthcheck_is_none() -> None:
    assert service("services:\n  app:\n    build: .\n").healthcheck is None


# --- networks ---------------------------------------------------------------------------------

def test_network_membership_in_list_and_map_form_and_definitions() -> None:
    doc = compose("""\
        services:
          app:
            networks: [front, back]
          nginx:
            networks:
              front:
                aliases: [proxy]
          db: {}
          host:
            network_mode: host
            networks: [front]
        networks:
          front:
            ipam:
              config:
                - subnet: 172.20.0.0/16
          back:
            driver: overlay
            internal: true
          ext:
            external: true
        """)
    app, nginx, db, host = doc.services
    assert [n.name for n in app.networks] == ["front", "back"]
    assert [(n.name, n.span.line) for n in nginx.networks] == [("front", 6)]
    assert [(n.name, n.implicit, n.span.line) for n in db.networks] == [("default", True, 8)]
    assert host.networks == () and host.network_mode == "host"
    front, back, ext = doc.networks["front"], doc.networks["back"], doc.networks["ext"]
    assert front.effective_driver == "bridge" and [s for s, _ in front.subnets] == ["172.20.0.0/16"]
    assert back.effective_driver == "overlay" and back.internal and not back.external
    assert ext.external


# --- environment ------------------------------------------------------------------------------

def test_environment_in_map_and_list_form() -> None:
    doc = compose("""\
        x-env: &env
          SHARED: one
        services:
          app:
            environment:
              <<: *env
              NODE_ENV: production
              EMPTY:
              FLAG: yes
          db:
            environment:
              - POSTGRES_PASSWORD=${DB_PASSWORD}
              - POSTGRES_USER
              - "WITH_EQUALS=a=b"
            env_file: [.env, {path: .env.local, required: false}]
            secrets: [db_password, {source: api_key, target: key}]
        """)
    app, db = doc.services
    assert [(v.name, v.value, v.span.line) for v in app.environment] == [
        ("NODE_ENV", "production", 7), ("EMPTY", None, 8), ("FLAG", "true", 9), ("SHARED", "one", 2)]
    assert [(v.name, v.value) for v in db.environment] == [
        ("POSTGRES_PASSWORD", "${DB_PASSWORD}"), ("POSTGRES_USER", None), ("WITH_EQUALS", "a=b")]
    assert [path for path, _ in db.env_files] == [".env", ".env.local"]
    assert db.secret_names == ["db_password", "api_key"]


def test_user_and_flags() -> None:
    app = service("services:\n  app:\n    user: 1001\n    read_only: yes\n    privileged: 'false'\n")
    assert app.user == "1001" and app.flag("read_only") is True and app.flag("privileged") is False
    assert service("services:\n  app:\n    user: ''\n").user is None
    assert service("services:\n  app:\n    user: ${UID:-1001}:1001\n").user == "1001:1001"


def test_spans_of_missing_keys_fall_back_to_the_service() -> None:
    app = service("services:\n  app:\n    image: node:20\n")
    assert app.key_span("read_only") == app.span and app.value_span("cap_drop") == app.span
    assert isinstance(app.span, Span) and app.cap_drop == [] and app.cap_add == []
