"""parse_nginx on real files: include splicing, roots, notes for unread includes, problems."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model.span import Span
from auditor.parsers.nginx import parse_nginx

DATA = Path(__file__).resolve().parent.parent / "data" / "nginx"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _parse(case: str, **options):
    root = DATA / case
    return parse_nginx(root, _files(root), **options)


def test_includes_are_spliced_in_place_with_their_own_spans():
    configs, problems, _ = _parse("layout")
    assert problems == []
    [config] = configs  # conf.d/ and snippets/ are included, so only nginx.conf is a root
    assert config.path == "nginx/nginx.conf"
    assert config.files == ("nginx/nginx.conf", "nginx/conf.d/app.conf",
                            "nginx/snippets/security-headers.conf", "nginx/snippets/proxy.conf")
    https = config.servers[1]
    hsts = https.effective.header("strict-transport-security")
    assert hsts is not None and hsts.always
    assert hsts.span == Span("nginx/snippets/security-headers.conf", 1)
    assert https.span == Span("nginx/conf.d/app.conf", 7)
    assert [h.span.path for h in https.locations[0].effective.proxy_set_headers] == [
        "nginx/snippets/proxy.conf"] * 3


def test_absolute_etc_nginx_include_maps_onto_the_config_directory():
    configs, _, notes = _parse("layout")
    assert [s.server_names for s in configs[0].servers] == [
        ("example.com",), ("example.com", "www.example.com")]
    assert not any("conf.d" in note.message for note in notes)


def test_includes_outside_the_tree_become_notes_and_are_not_read():
    _, _, notes = _parse("layout")
    messages = {(note.span.path, note.span.line): note.message for note in notes}
    assert messages == {
        ("nginx/nginx.conf", 9): "include /etc/nginx/mime.types is not in the audited tree; read "
                                 "as nginx's stock file of that name",
        ("nginx/snippets/proxy.conf", 4): "include /etc/letsencrypt/options-ssl-nginx.conf points "
                                          "outside the audited tree; not read",
        ("nginx/snippets/proxy.conf", 5): "include ../../../../../etc/passwd points outside the "
                                          "audited tree; not read",
    }


def test_symlink_leaving_the_tree_is_not_followed(tmp_path: Path):
    outside = tmp_path / "outside.conf"
    outside.write_text("server { listen 81; }\n")
    root = tmp_path / "project"
    (root / "nginx").mkdir(parents=True)
    (root / "nginx" / "nginx.conf").write_text("http {\n    include evil.conf;\n}\n")
    try:
        os.symlink(outside, root / "nginx" / "evil.conf")
    except OSError:  # pragma: no cover - filesystems without symlinks
        pytest.skip("symlinks unsupported here")
    configs, _, notes = parse_nginx(root, ["nginx/nginx.conf"])
    assert configs[0].servers == ()
    assert [n.message for n in notes] == ["include evil.conf points outside the audited tree; "
                                          "not read"]


def test_missing_literal_include_is_a_note(tmp_path: Path):
    (tmp_path / "nginx.conf").write_text("http {\n    include missing.conf;\n"
                                         "    include none/*.conf;\n    include empty/*.conf;\n}\n")
    (tmp_path / "empty").mkdir()
    _, problems, notes = parse_nginx(tmp_path, ["nginx.conf"])
    assert problems == []
    # A glob over a folder the tree holds reads what is there (nothing); over a folder the tree
    # does not hold, it is unknown like any unread include.
    assert [(n.span.line, n.message) for n in notes] == [
        (2, "include missing.conf matches no file in the audited tree; not read"),
        (3, "include none/*.conf matches no file in the audited tree; not read")]


def test_include_cycles_end_with_a_note():
    configs, _, notes = _parse("cycle")
    assert [c.path for c in configs] == ["self.conf", "a.conf"]
    assert {n.message for n in notes} == {
        "include cycle self.conf -> self.conf; not followed",
        "include cycle a.conf -> b.conf -> a.conf; not followed",
    }
    assert [s.span for s in configs[1].servers] == [Span("b.conf", 2)]


def test_depth_and_file_caps_are_notes_not_hangs(tmp_path: Path):
    for index in range(30):
        (tmp_path / f"level{index}.conf").write_text(f"include level{index + 1}.conf;\n")
    (tmp_path / "level30.conf").write_text("server { listen 80; }\n")
    (tmp_path / "nginx.conf").write_text("http { include level0.conf; }\n")
    configs, _, notes = parse_nginx(tmp_path, ["nginx.conf"], max_include_depth=5)
    assert configs[0].servers == ()
    assert any("nested deeper than 5 levels" in n.message for n in notes)

    many = tmp_path / "many"
    many.mkdir()
    for index in range(20):
        (many / f"f{index:02}.conf").write_text(f"server {{ listen {8000 + index}; }}\n")
    (many / "nginx.conf").write_text("http { include f*.conf; include f*.conf; }\n")
    configs, _, notes = parse_nginx(many, ["nginx.conf"], max_include_files=25)
    assert len(configs[0].servers) == 25
    assert [n.message for n in notes] == ["more than 25 included files; f05.conf and the rest "
                                          "not read"]


def test_unincluded_fragments_are_audited_alone_and_resolve_from_the_parent_prefix():
    configs, problems, notes = _parse("fragment")
    assert problems == [] and notes == []
    by_path = {c.path: c for c in configs}
    assert set(by_path) == {"conf.d/locations.conf", "conf.d/site.conf"}
    wrapped = by_path["conf.d/locations.conf"]
    assert wrapped.http is None
    [server] = wrapped.servers
    assert server.implicit and server.uses_tls
    assert server.locations[0].effective.header("X-Frame-Options").value == "DENY"
    site = by_path["conf.d/site.conf"]
    assert site.servers[0].effective.ssl_protocols.span == Span("conf.d/ssl-params.inc", 1)


def test_syntax_errors_are_parse_problems_with_the_line_and_no_absolute_path():
    configs, problems, _ = _parse("broken")
    assert [(p.span, p.message) for p in problems] == [
        (Span("nginx.conf", 6), 'nginx syntax: unexpected end of file, expecting "}"')]
    assert str(DATA) not in problems[0].message
    assert {c.path for c in configs} == {"nginx.conf", "ok.conf"}


def test_a_file_included_twice_is_parsed_once_and_problems_are_not_repeated(tmp_path: Path):
    (tmp_path / "bad.inc").write_text("add_header X-A 1;\n}\n")
    (tmp_path / "nginx.conf").write_text(
        "http { server { location /a { include bad.inc; } location /b { include bad.inc; } } }\n")
    _, problems, _ = parse_nginx(tmp_path, ["nginx.conf", "bad.inc"])
    assert len(problems) == 1 and problems[0].span.path == "bad.inc"


def test_unreadable_input_never_raises(tmp_path: Path):
    (tmp_path / "binary.conf").write_bytes(b"\xff\xfe\x00server {{{ ;;; \"unterminated\n")
    configs, problems, _ = parse_nginx(tmp_path, ["binary.conf", "does-not-exist.conf"])
    assert {p.span.path for p in problems} == {"binary.conf", "does-not-exist.conf"}
    assert len(configs) == 2


_NGINX_ALPHABET = ("server location http include add_header listen return "
                   "{};\"'#$/\\*. \n\t~^=@0123456789")


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=_NGINX_ALPHABET, max_size=300))
def test_any_input_gives_a_model_and_problems_never_an_exception(text: str):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "nginx.conf").write_text(text)
        (root / "other.conf").write_text("include nginx.conf;\n" + text)
        configs, problems, notes = parse_nginx(root, ["nginx.conf", "other.conf"])
    assert configs
    assert all(p.span.path in ("nginx.conf", "other.conf") for p in problems)


def test_a_folder_is_listed_once_however_many_files_glob_it(tmp_path: Path, monkeypatch):
    # Issue 11 item 8: 2,001 files each with `include *.conf;` took 404 s; each (folder,
    # pattern) now expands once and the include graph is walked once per shared match list.
    folder = tmp_path / "nginx"
    folder.mkdir()
    for index in range(300):
        (folder / f"f{index:03}.conf").write_text("include *.conf;\n")
    listed: list[str] = []
    real_listdir = os.listdir

    def counting_listdir(path):
        listed.append(os.fspath(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", counting_listdir)
    configs, problems, notes = parse_nginx(tmp_path, [f"nginx/f{i:03}.conf" for i in range(300)])
    assert problems == []
    assert listed == [str(folder)]
    assert [c.path for c in configs] == ["nginx/f000.conf"]  # all include each other
    assert len(notes) < 300 * 12  # a note per cycle and one per capped include, not per file
    assert any("nested deeper than 10 levels" in n.message for n in notes)


def test_unread_includes_stay_in_the_tree_with_their_reason(tmp_path: Path):
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n  include /etc/nginx/mime.types;\n  include /etc/nginx/conf.d/*.conf;\n"
        "  server {\n    listen 443 ssl;\n    include /etc/letsencrypt/options-ssl-nginx.conf;\n"
        "    location / { include proxy_params; proxy_pass http://app:3000; }\n  }\n}\n")
    [config], problems, _ = parse_nginx(tmp_path, ["nginx.conf"])
    assert problems == []
    assert [(d.args, d.reason) for d in config.http_unread] == [
        (("/etc/nginx/conf.d/*.conf",), "points outside the audited tree; not read")]
    [server] = config.servers
    assert [d.span.line for d in server.effective.unknown("ssl_protocols")] == [4, 7]
    # certbot's options file holds TLS session, protocol and cipher settings only.
    assert [d.span.line for d in server.effective.unknown("ssl_certificate", "add_header")] == [4]
    location = server.locations[0]
    # Debian's proxy_params is read as its four proxy_set_header lines, not as unknown.
    assert [h.name for h in location.effective.proxy_set_headers] == [
        "Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"]
    assert location.effective.unknown("proxy_set_header") == ()


def test_templates_keep_their_variables_as_one_token(tmp_path: Path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "default.conf.template").write_text(
        "server {\n  listen ${HTTPS_PORT} ssl;\n  server_name ${DOMAIN};\n"
        "  ssl_protocols ${SSL_PROTOCOLS};\n  location / { proxy_pass http://${APP}:3000; }\n}\n")
    [config], problems, _ = parse_nginx(tmp_path, ["templates/default.conf.template"])
    assert problems == []
    [server] = config.servers
    [listen] = server.listens
    assert listen.ssl and listen.port is None  # the port is only known once rendered
    assert server.server_names == ("${DOMAIN}",)
    assert server.effective.ssl_protocols.templated
    assert server.locations[0].effective.proxy_pass.templated
    assert not list(tmp_path.rglob("*auditor*"))  # nothing written into the tree


def test_fragments_resolve_includes_against_the_main_configs_folder(tmp_path: Path):
    (tmp_path / "nginx" / "conf.d" / "templates").mkdir(parents=True)
    (tmp_path / "nginx" / "h5bp" / "tls").mkdir(parents=True)
    (tmp_path / "nginx" / "nginx.conf").write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    (tmp_path / "nginx" / "h5bp" / "tls" / "policy.conf").write_text("ssl_protocols TLSv1.3;\n")
    (tmp_path / "nginx" / "conf.d" / "templates" / "site.conf").write_text(
        "server { listen 443 ssl; include h5bp/tls/policy.conf; }\n")
    paths = ["nginx/conf.d/templates/site.conf", "nginx/h5bp/tls/policy.conf", "nginx/nginx.conf"]
    configs, problems, notes = parse_nginx(tmp_path, paths)
    assert problems == [] and notes == []
    site = next(c for c in configs if c.path == "nginx/conf.d/templates/site.conf")
    assert site.servers[0].effective.ssl_protocols.span == Span("nginx/h5bp/tls/policy.conf", 1)
    assert {c.path for c in configs} == {"nginx/nginx.conf", "nginx/conf.d/templates/site.conf"}


def test_an_unrelated_main_config_is_the_last_place_a_fragment_looks(tmp_path: Path):
    for project in ("a", "b"):
        (tmp_path / project / "snippets").mkdir(parents=True)
        version = 3 if project == "b" else 2
        (tmp_path / project / "snippets" / "tls.conf").write_text(f"ssl_protocols TLSv1.{version};\n")
    (tmp_path / "a" / "nginx.conf").write_text("events {}\nhttp { server_tokens off; }\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "nginx.conf").write_text("events {}\nhttp { server_tokens on; }\n")
    (tmp_path / "b" / "site.conf").write_text("server { listen 443 ssl; include snippets/tls.conf; }\n")
    paths = ["a/nginx.conf", "a/snippets/tls.conf", "b/site.conf", "b/snippets/tls.conf",
             "c/nginx.conf"]
    configs, _, _ = parse_nginx(tmp_path, paths)
    [server] = next(c for c in configs if c.path == "b/site.conf").servers
    assert server.effective.ssl_protocols.span == Span("b/snippets/tls.conf", 1)
    assert server.effective.server_tokens is None  # two unrelated main configs: neither is its http
