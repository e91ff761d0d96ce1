"""The nginx effective-configuration model, built from real configs by the real parser."""
from __future__ import annotations

from pathlib import Path

import pytest

from auditor.model.nginx import (
    CipherList,
    NginxConfig,
    content_security_policy,
    expires_seconds,
    parse_rate,
    parse_time,
)
from auditor.model.span import Span
from auditor.parsers.nginx import parse_nginx

DATA = Path(__file__).resolve().parent.parent / "data" / "nginx"


def _config(case: str, path: str = "nginx.conf") -> NginxConfig:
    configs, problems, _ = parse_nginx(DATA / case, [path])
    assert problems == []
    return configs[0]


def _write(tmp_path: Path, text: str) -> NginxConfig:
    (tmp_path / "nginx.conf").write_text(text)
    configs, problems, _ = parse_nginx(tmp_path, ["nginx.conf"])
    assert problems == []
    return configs[0]


def _locations(config: NginxConfig) -> dict[str, object]:
    return {location.uri: location for _, location in config.locations()
            if location.condition is None and not location.implicit}


def test_a_location_with_its_own_add_header_loses_the_parents_and_says_which():
    locations = _locations(_config("lost_headers"))
    api = locations["/api"]
    assert [h.name for h in api.effective.headers] == ["Cache-Control"]
    assert [(h.name, h.span) for h in api.effective.lost_headers] == [
        ("Strict-Transport-Security", Span("nginx.conf", 6)),
        ("Content-Security-Policy", Span("nginx.conf", 7)),
        ("X-Frame-Options", Span("nginx.conf", 8)),
    ]
    assert api.effective.headers_from == api.span


def test_repeating_headers_case_insensitively_loses_nothing():
    kept = _locations(_config("lost_headers"))["/kept"]
    assert kept.effective.lost_headers == ()
    assert kept.effective.header("Strict-Transport-Security").span == Span("nginx.conf", 25)


def test_nested_locations_inherit_from_their_parent_location_and_if_blocks_do_not_count():
    locations = _locations(_config("lost_headers"))
    nested = locations["/nested"]
    assert nested.parent is locations["/"]
    assert nested.effective.header("x-frame-options").value == "SAMEORIGIN"
    assert nested.effective.proxy_pass is None  # handlers are not inherited
    assert nested.effective.root.value == "/srv"
    health = locations["/health"]
    assert health.modifier == "="
    assert health.effective.header("X-Debug") is None
    assert health.effective.lost_headers == ()


def test_an_if_with_add_header_is_a_level_of_its_own_that_drops_the_inherited_headers():
    config = _config("lost_headers")
    [level] = [loc for _, loc in config.locations() if loc.condition is not None]
    assert level.label == "if ($request_method = POST) in location = /health"
    assert level.parent is _locations(config)["/health"]
    assert [h.name for h in level.effective.headers] == ["X-Debug"]
    assert {h.name for h in level.effective.lost_headers} == {
        "Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options"}
    assert level.effective.return_.code == 200  # it answers like its location


def test_a_server_without_location_slash_also_answers_from_its_own_level(tmp_path: Path):
    config = _write(tmp_path, "http { server { listen 443 ssl; root /srv;\n"
                              "  location ~ /\\.ht { deny all; } } }\n")
    [server] = config.servers
    labels = [loc.label for loc in server.effective_locations]
    assert labels == ["location ~ /\\.ht", "the server block"]
    assert [loc.serves_html for loc in server.effective_locations] == [False, True]
    caught = _write(tmp_path, "http { server { location / { root /srv; } location /x { } } }\n")
    assert [loc.uri for loc in caught.servers[0].effective_locations] == ["/", "/x"]


@pytest.mark.parametrize("uri,html", [
    ("/", True), ("/api/", False), ("^~ /api", False), ("/_next/static/", False),
    ("/_next/image", False), ("/.well-known/acme-challenge/", False), ("= /health", False),
    ("/healthz", False), ("= /api/health", False), ("/apiary", True), ("/docs", True)])
def test_only_locations_that_may_answer_with_a_page_serve_html(tmp_path: Path, uri: str,
                                                               html: bool):
    config = _write(tmp_path, f"http {{ server {{ location {uri} {{ proxy_pass http://app; }}\n"
                              "  location / { root /srv; } } }\n")
    assert config.servers[0].locations[0].serves_html is html
    returns = _write(tmp_path, "http { server { location /x { return 200 ok; } } }\n")
    assert returns.servers[0].locations[0].serves_html is False
    preflight = _write(tmp_path, "http { server { location /x { return 204; }\n"
                                 "  location /.well-known/acme-challenge/ { root /acme; } } }\n")
    # A 204 has no body; challenge tokens are for the certificate authority.
    assert [loc.serves_content for loc in preflight.servers[0].locations] == [False, False]


def test_add_header_inherit_merge_appends_the_parent_headers():
    config = _config("inherit")
    server = config.servers[0]
    assert [h.name for h in server.effective.headers] == [
        "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"]
    assert server.effective.lost_headers == ()


def test_add_header_inherit_off_drops_the_parent_headers_without_own(tmp_path: Path):
    config = _write(tmp_path, "http {\n add_header X-A 1;\n server {\n  location /x {\n"
                              "   add_header_inherit off;\n  }\n }\n}\n")
    location = config.servers[0].locations[0]
    assert location.effective.headers == ()
    assert [h.name for h in location.effective.lost_headers] == ["X-A"]


def test_value_settings_come_from_the_nearest_level_with_their_span():
    config = _config("inherit")
    tls, plain = config.servers
    assert tls.effective.server_tokens.value == "off"
    assert tls.effective.server_tokens.span == Span("nginx.conf", 11)
    assert plain.effective.server_tokens.value == "on"
    assert plain.effective.ssl_protocols.args == ("TLSv1", "TLSv1.2")
    assert config.http_effective.server_tokens.span == Span("nginx.conf", 7)


def test_proxy_set_header_is_all_or_nothing_like_add_header():
    tls, plain = _config("inherit").servers
    assert [h.name for h in tls.effective.proxy_set_headers] == ["X-Forwarded-Proto"]
    assert plain.effective.has_proxy_header("host")
    assert not tls.effective.has_proxy_header("host")


def test_serves_content_and_proxies_to_app():
    config = _config("inherit")
    by_uri = {loc.uri: loc for loc in config.servers[0].locations}
    assert by_uri["/app"].proxies_to_app and by_uri["/app"].serves_content
    assert not by_uri["/app/deep"].proxies_to_app and by_uri["/app/deep"].serves_content
    assert by_uri["/app/deep"].effective.alias.value == "/srv/deep/"
    assert by_uri["/plain"].effective.try_files.args == ("$uri", "=404")
    assert by_uri["/private"].serves_content is False
    assert by_uri["@fallback"].named and by_uri["@fallback"].proxies_to_app
    static = by_uri[r"\.(js|css|png)$"]
    assert static.serves_static_assets and not static.serves_html
    assert expires_seconds(static.effective.expires.args) == 315360000


def test_server_level_return_answers_every_location_and_redirects_serve_nothing(tmp_path: Path):
    config = _write(tmp_path, "http {\n server {\n  listen 80;\n"
                              "  return 301 https://$host$request_uri;\n"
                              "  location / { proxy_pass http://app:3000; }\n }\n"
                              " server {\n  rewrite ^ https://$host$request_uri permanent;\n"
                              " }\n}\n")
    first, second = config.servers
    location = first.locations[0]
    assert location.effective.return_.redirects_to_https
    assert location.effective.return_.span == Span("nginx.conf", 4)
    assert not location.serves_content and not location.proxies_to_app
    assert not first.serves_content
    assert second.effective_listens[0].port == 80 and second.effective_listens[0].implicit
    assert second.effective.return_.is_permanent and not second.serves_content


def test_servers_without_locations_get_an_implicit_location():
    config = _config("inherit")
    plain = config.servers[1]
    [implicit] = plain.effective_locations
    assert implicit.implicit and implicit.span == plain.span
    assert implicit.effective is plain.effective
    assert implicit.label == "the server block"


def test_listen_forms(tmp_path: Path):
    config = _write(tmp_path, "http { server {\n listen 443 ssl http2 default_server;\n"
                              " listen [::]:443 ssl;\n listen 127.0.0.1:8080;\n"
                              " listen unix:/run/nginx.sock;\n listen localhost;\n } }\n")
    listens = config.servers[0].listens
    assert [(l.port, l.ssl) for l in listens] == [
        (443, True), (443, True), (8080, False), (None, False), (80, False)]
    assert listens[0].default_server and listens[0].http2
    assert listens[1].address == "::" and listens[2].address == "127.0.0.1"
    assert config.servers[0].uses_tls


def test_upstreams_zones_and_limit_req():
    config = _config("layout", "nginx/nginx.conf")
    [upstream] = config.upstreams
    assert upstream.name == "nextjs"
    assert [(host, port) for host, port, _ in upstream.servers] == [
        ("app", 3000), ("10.0.0.2", 80)]
    assert [(z.name, z.rate_per_second) for z in config.limit_req_zones] == [
        ("api", 10.0), ("burst", 50.0)]
    root_location = config.servers[1].locations[0]
    proxy = root_location.effective.proxy_pass
    assert proxy.upstream is upstream and proxy.ports == {3000, 80}
    [limit] = root_location.effective.limit_reqs
    assert limit.zone is config.zone("api") and limit.burst == 20 and limit.nodelay
    assert limit.span == Span("nginx/conf.d/app.conf", 17)


def test_ssl_certificates_inherit_from_http(tmp_path: Path):
    config = _write(tmp_path, "http {\n ssl_certificate a.pem;\n ssl_certificate_key a.key;\n"
                              " server { listen 443 ssl; }\n server { listen 443 ssl;\n"
                              "  ssl_certificate b.pem; }\n}\n")
    first, second = config.servers
    assert first.effective.ssl_certificate.value == "a.pem"
    assert first.effective.ssl_certificate_key.span == Span("nginx.conf", 3)
    assert second.effective.ssl_certificate.value == "b.pem"
    assert second.effective.ssl_certificate_key.value == "a.key"


@pytest.mark.parametrize(("ciphers", "weak"), [
    ("HIGH:!aNULL:!MD5", []),
    ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", []),
    ("ALL:!RC4:!aNULL", ["DES", "3DES", "MD5", "EXPORT"]),
    ("ALL:!RC4:!DES:!3DES:!MD5:!aNULL:!EXPORT", []),
    ("ECDHE-RSA-AES128-SHA:DES-CBC3-SHA", ["3DES"]),
    ("RC4-SHA:EXP-RC4-MD5", ["RC4", "MD5", "EXPORT"]),
    ("NULL-SHA", ["NULL"]),
    ("ADH-AES128-SHA", ["NULL"]),
    ("ALL:-RC4:RC4-SHA:!DES:!3DES:!MD5:!aNULL:!EXP", ["RC4"]),
    ("MEDIUM:!RC4", ["3DES"]),
    ("TLS_RSA_WITH_RC4_128_SHA", ["RC4"]),
])
def test_cipher_lists_know_which_weak_families_stay_enabled(ciphers: str, weak: list[str]):
    cipher_list = CipherList.parse(ciphers, Span("nginx.conf", 1))
    assert cipher_list.weak_enabled(["RC4", "DES", "3DES", "MD5", "NULL", "EXPORT"]) == weak


def test_cipher_list_tokens():
    cipher_list = CipherList.parse("HIGH:!aNULL:!MD5:@STRENGTH", Span("x", 1))
    assert cipher_list.enabled == {"HIGH"}
    assert cipher_list.excluded == {"aNULL", "MD5"}


def test_small_value_parsers():
    assert parse_rate("10r/s") == 10.0
    assert parse_rate("600r/m") == 10.0
    assert parse_rate("fast") is None
    assert parse_time("1y") == 31536000
    assert parse_time("1d12h") == 129600
    assert parse_time("600") == 600
    assert parse_time("soon") is None
    assert expires_seconds(("modified", "30d")) == 2592000
    assert expires_seconds(("off",)) is None
    assert expires_seconds(("-1",)) == -1
    assert content_security_policy("default-src 'self'; script-src 'self' 'unsafe-inline'") == {
        "default-src": ("'self'",), "script-src": ("'self'", "'unsafe-inline'")}


def test_a_control_fed_by_an_unread_include_is_error_naming_it_never_fail_or_pass(tmp_path: Path):
    from auditor.api import scan

    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "site.conf").write_text(
        "server {\n    listen 443 ssl;\n    server_name shop.example.org;\n"
        "    ssl_certificate /etc/letsencrypt/live/shop/fullchain.pem;\n"
        "    ssl_certificate_key /etc/letsencrypt/live/shop/privkey.pem;\n"
        "    include /etc/letsencrypt/options-ssl-nginx.conf;\n"
        "    location / { proxy_pass http://app:3000; }\n}\n")
    result = scan([tmp_path], select=["NG001", "NG002", "NG004"])
    controls = result.controls
    assert controls["NG001"].status == "pass"  # the certificate lines are in the tree
    assert controls["NG002"].status == "error"
    assert "include /etc/letsencrypt/options-ssl-nginx.conf at nginx/site.conf:6" in \
        controls["NG002"].reason
    # certbot's options file holds TLS settings only: HSTS is known to be missing.
    assert controls["NG004"].status == "fail"
    assert [f.rule_id for f in result.findings] == ["NG004"]
    # Any other unread file could hold add_header: then HSTS is not known to be missing.
    site = tmp_path / "nginx" / "site.conf"
    site.write_text(site.read_text().replace("    location /", "    include /etc/nginx/snippets/"
                                             "headers.conf;\n    location /"))
    result = scan([tmp_path], select=["NG004"])
    assert result.controls["NG004"].status == "error"
    assert "include /etc/nginx/snippets/headers.conf at nginx/site.conf:7" in \
        result.controls["NG004"].reason
    assert result.findings == []


def test_a_template_is_discovered_and_its_variables_are_unknown(tmp_path: Path):
    from auditor.api import scan

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "default.conf.template").write_text(
        "server {\n  listen 443 ssl;\n  ssl_certificate /c/${DOMAIN}.pem;\n"
        "  ssl_certificate_key /k/${DOMAIN}.key;\n  ssl_protocols ${SSL_PROTOCOLS};\n"
        "  location / { proxy_pass http://app:3000; }\n}\n")
    result = scan([tmp_path], select=["NG001", "NG002"])
    assert result.controls["NG001"].status == "pass"
    assert result.controls["NG002"].status == "error"
    assert "template variable" in result.controls["NG002"].reason


def test_a_site_fragment_is_read_inside_the_main_configs_http_with_its_maps(tmp_path: Path):
    # h5bp's layout: nginx.conf sets server_tokens and the header maps at http level; the site
    # in conf.d/templates/ is copied into conf.d/ when deployed and inherits them.
    (tmp_path / "conf.d" / "templates").mkdir(parents=True)
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n  server_tokens off;\n"
        "  map $sent_http_content_type $x_frame_options {\n    ~*text/html DENY;\n  }\n"
        "  map $sent_http_content_type $weak {\n    default ALLOW-FROM;\n  }\n"
        "  include conf.d/*.conf;\n  server { listen 80; return 301 https://$host$request_uri; }\n}\n")
    (tmp_path / "conf.d" / "templates" / "site.conf").write_text(
        "server {\n  listen 443 ssl;\n  ssl_certificate /c.pem; ssl_certificate_key /k.pem;\n"
        "  add_header X-Frame-Options $x_frame_options always;\n"
        "  location / { proxy_pass http://app:3000; }\n"
        "  location /legacy { add_header X-Frame-Options $weak always; proxy_pass http://app:3000; }\n"
        "  location /other { add_header X-Frame-Options $undefined always; root /srv; }\n}\n")
    configs, problems, _ = parse_nginx(tmp_path, ["conf.d/templates/site.conf", "nginx.conf"])
    assert problems == []
    site = next(c for c in configs if c.path == "conf.d/templates/site.conf")
    [server] = site.servers
    assert server.effective.server_tokens.value == "off"
    root, legacy, other = server.locations
    [deny] = site.header_values(root.effective.header("X-Frame-Options"))
    assert (deny.value, deny.span) == ("DENY", Span("nginx.conf", 5))
    assert [h.value for h in site.header_values(legacy.effective.header("X-Frame-Options"))] == [
        "ALLOW-FROM"]
    assert site.header_values(other.effective.header("X-Frame-Options")) is None
    main = next(c for c in configs if c.path == "nginx.conf")
    assert main.tls_elsewhere == (Span("conf.d/templates/site.conf", 1),)

    from auditor.api import scan

    result = scan([tmp_path], select=["NG001", "NG006", "NG012"])
    assert result.controls["NG001"].status == "pass"  # the TLS server is in the fragment
    assert result.controls["NG012"].status == "pass"
    assert [(f.rule_id, f.span.path, f.span.line) for f in result.findings] == [
        ("NG006", "nginx.conf", 8)]  # the map value ALLOW-FROM, where it is written
    assert any("$undefined" in e.text for e in result.controls["NG006"].evidence)


def test_effective_unread_holds_only_what_could_change_a_setting(tmp_path: Path):
    """``Effective.unread`` keeps the keys an unread include could change and nothing else: a tree
    whose includes were all read leaves it empty (``unknown`` answers without building anything),
    and an unread include is still named for exactly the keys it may set."""
    config = _write(tmp_path, "http {\n  server {\n    listen 443 ssl;\n    location / { proxy_pass http://app:3000; }\n"
                              "    location /x { add_header X-A 1; }\n  }\n}\n")
    levels = [server.effective for server in config.servers] + [location.effective for _, location in config.locations()]
    assert levels and all(level.unread == () for level in levels)
    assert all(level.unknown("ssl_protocols") == () == level.unknown("add_header", "add_header:drop", "listen")
               for level in levels)
    config = _write(tmp_path, "http {\n  server {\n    listen 443 ssl;\n    include /etc/nginx/tls.conf;\n"
                              "    location / { proxy_pass http://app:3000; }\n  }\n}\n")
    server = config.servers[0]
    assert server.effective.unread and all(directives for _, directives in server.effective.unread)
    assert [d.args for d in server.effective.unknown("ssl_protocols")] == [("/etc/nginx/tls.conf",)]
    assert [d.args for d in server.effective.unknown("ssl_protocols", "gzip")] == [("/etc/nginx/tls.conf",)]
