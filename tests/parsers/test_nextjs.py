from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model.nextjs import NextApp
from auditor.parsers.nextjs import api_route, build_next_apps, exported_methods, parse_next_config

DATA = Path(__file__).parent.parent / "data" / "nextjs"


def scan(project: str) -> tuple[dict[str, NextApp], list, list]:
    root = (DATA / project).resolve()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    apps, problems, notes = build_next_apps(root, files)
    return {app.dir: app for app in apps}, problems, notes


def config_of(source: str, path: str = "next.config.js"):
    config, problems, notes = parse_next_config(source.encode(), path)
    return config, problems, notes


# --- whole apps -----------------------------------------------------------------------------


def test_standalone_app() -> None:
    apps, problems, notes = scan("standalone")
    assert (problems, notes) == ([], [])
    app = apps[""]
    assert app.span.path == "package.json"
    assert app.package is not None and app.package.name == "shop-web"
    assert app.lockfile is not None and app.lockfile.name == "shop-web"
    assert app.lockfile_dir == ""
    assert app.config is not None and app.config.statically_readable
    assert app.config.get("output").value == "standalone"  # through withBundleAnalyzer(...)
    assert app.config.get("poweredByHeader").value is False
    assert app.config.get("poweredByHeader").span.line == 8
    assert app.config.span.line == 6  # the object literal, where a missing key would go
    assert [route.route for route in app.api_routes] == ["/api/health", "/api/users",
                                                         "/api/users/[id]"]
    assert app.route("/api/health").span.path == "pages/api/health.ts"


def test_monorepo_apps_workspace_lockfile_and_function_config() -> None:
    apps, problems, notes = scan("monorepo")
    assert problems == []
    assert set(apps) == {"apps/web", "apps/docs"}  # the root and tools/ do not depend on next
    web, docs = apps["apps/web"], apps["apps/docs"]
    assert web.lockfile_dir == "" and web.lockfile is not None
    assert web.lockfile.workspace_names["apps/web"] == "@acme/web"
    assert web.config.statically_readable
    assert web.config.get("poweredByHeader").value is True
    assert web.config.get("experimental").properties["typedRoutes"].value is True
    # route groups drop out of the URL; private folders and non-route files are not routes
    assert [(r.route, r.router) for r in web.api_routes] == [("/api/health", "app"),
                                                             ("/api/stats", "app")]
    assert web.route("/api/health").span.path == "apps/web/src/app/api/health/route.ts"
    assert [r.route for r in docs.api_routes] == ["/api/status"]
    assert not docs.config.statically_readable
    assert docs.config.reason == "exports a function"
    assert [(n.span.path, n.message) for n in notes] == [
        ("apps/docs/next.config.mjs",
         "next.config.mjs exports a function; not statically checkable")]


def test_broken_files_are_problems_and_app_is_kept() -> None:
    apps, problems, notes = scan("broken")
    assert notes == []
    app = apps[""]
    assert app.package is None
    assert app.config is not None and not app.config.statically_readable
    assert sorted((p.span.path, p.span.line) for p in problems) == [
        ("next.config.js", 3), ("package.json", 5)]


def test_lockfile_must_be_the_apps_own_without_workspaces(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "package.json").write_text('{"name": "tools"}')
    (tmp_path / "package-lock.json").write_text('{"name": "tools", "lockfileVersion": 3}')
    web_package = '{"name": "web", "devDependencies": {"next": "1"}}'
    (tmp_path / "web" / "package.json").write_text(web_package)
    files = ["package.json", "package-lock.json", "web/package.json"]
    apps, _, _ = build_next_apps(tmp_path, files)
    assert [(app.dir, app.lockfile) for app in apps] == [("web", None)]


def test_config_without_package_json_and_shadowed_config(tmp_path: Path) -> None:
    (tmp_path / "next.config.js").write_text("module.exports = { poweredByHeader: false }\n")
    (tmp_path / "next.config.mjs").write_text("export default {}\n")
    apps, problems, notes = build_next_apps(tmp_path, ["next.config.mjs", "next.config.js"])
    assert problems == []
    assert [(app.span.path, app.package) for app in apps] == [("next.config.js", None)]
    assert apps[0].config.get("poweredByHeader").value is False
    assert [note.span.path for note in notes] == ["next.config.mjs"]


def test_symlink_outside_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"name": "secret", "dependencies": {"next": "1"}}')
    root = tmp_path / "root"
    root.mkdir()
    (root / "package.json").symlink_to(outside)
    apps, problems, notes = build_next_apps(root, ["package.json"])
    assert apps[0].package is None
    assert [note.message for note in notes] == ["points outside the scan root; not read"]


def test_bom_and_non_utf8(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    (tmp_path / "package.json").write_bytes(bom + b'{"name": "a", "dependencies": {"next": "1"}}')
    (tmp_path / "next.config.js").write_bytes(b"module.exports = {\n a: '\xff' }\n")
    apps, problems, _ = build_next_apps(tmp_path, ["package.json", "next.config.js"])
    assert apps[0].package is not None and apps[0].package.name == "a"
    assert [(p.span.path, p.span.line, p.message) for p in problems] == [
        ("next.config.js", 2, "not valid UTF-8")]


# --- next.config forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("next.config.js", "module.exports = { output: 'standalone', poweredByHeader: false }"),
        ("next.config.mjs", "export default { output: 'standalone', poweredByHeader: false }"),
        ("next.config.js", "const nextConfig = { output: 'standalone', poweredByHeader: false }\n"
                           "module.exports = nextConfig"),
        ("next.config.mjs", "const nextConfig = { output: 'standalone', poweredByHeader: false }\n"
                            "export default nextConfig"),
        ("next.config.ts", "import type { NextConfig } from 'next'\n"
                           "const nextConfig: NextConfig = {\n  output: 'standalone',\n"
                           "  poweredByHeader: false,\n}\nexport default nextConfig\n"),
        ("next.config.ts", "export default { output: 'standalone', poweredByHeader: false } "
                           "satisfies NextConfig"),
        ("next.config.ts", "const c = { output: 'standalone', poweredByHeader: false } as const\n"
                           "export { c as default }"),
        ("next.config.js", "module.exports = withBundleAnalyzer({ output: 'standalone', "
                           "poweredByHeader: false })"),
        ("next.config.js", "const base = { output: `standalone` }\n"
                           "module.exports = withX(withY({ ...base, poweredByHeader: !1 }))"),
        ("next.config.js", "module.exports = require('@next/bundle-analyzer')({ enabled: true })"
                           "({ output: 'standalone', poweredByHeader: false })"),
        ("next.config.js", "module.exports = withPlugins([[withImages, {}]], "
                           "{ output: 'standalone', poweredByHeader: false })"),
        ("next.config.js", "const output = 'standalone'\nconst c = { output }\n"
                           "c.poweredByHeader = false\nmodule.exports = c"),
        ("next.config.cjs", "module.exports = { 'output': \"stand\\u0061lone\", "
                            "poweredByHeader: false }"),
    ],
)
def test_readable_config_forms(path: str, source: str) -> None:
    config, problems, notes = config_of(source, path)
    assert (problems, notes) == ([], [])
    assert config.statically_readable, config.reason
    assert config.get("output").value == "standalone"
    assert config.get("poweredByHeader").value is False


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("module.exports = (phase) => ({ poweredByHeader: false })", "exports a function"),
        ("module.exports = async (phase) => ({})", "exports an async function"),
        ("export default async function config(phase) { return {} }", "exports an async function"),
        ("function config() { return {} }\nmodule.exports = config", "exports a function"),
        ("module.exports = withX((phase) => ({}))", "exports a function"),
        ("module.exports = require('./base.config')", "exports a value loaded from another module"),
        ("import base from './base.mjs'\nexport default base",
         "exports 'base', which is not defined in this file"),
        ("module.exports = { ...require('./x'), poweredByHeader: false }",
         "spreads ...require('./x') into the config, which is not readable statically"),
        ("// empty\n", "has no module.exports or export default"),
    ],
)
def test_unreadable_configs_say_why(source: str, reason: str) -> None:
    config, problems, notes = config_of(source)
    assert problems == []
    assert not config.statically_readable
    assert config.reason == reason
    expected_note = f"next.config.js {reason}; not statically checkable"
    assert [note.message for note in notes] == [expected_note]


def test_non_literal_values_are_marked() -> None:
    config, _, _ = config_of(
        "module.exports = {\n  env: process.env.X,\n  output: isCi ? 'standalone' : undefined,\n"
        "  async headers() { return [] },\n  basePath: `/${prefix}`,\n  x: null,\n"
        "  n: 1_000,\n  images: { remotePatterns: [] },\n  [computed]: 1,\n}\n")
    values = {name: (value.value, value.literal) for name, value in config.properties.items()}
    assert values == {
        "env": (None, False), "output": (None, False), "headers": (None, False),
        "basePath": (None, False), "x": (None, True), "n": (1000, True), "images": (None, True),
    }
    assert config.get("images").properties["remotePatterns"].literal is False
    assert config.get("output").span.line == 3


def test_columns_count_characters_not_bytes() -> None:
    config, _, _ = config_of("module.exports = { /* é */ poweredByHeader: false }")
    assert config.get("poweredByHeader").span.column == 28


def test_syntax_error_reports_first_error_line() -> None:
    config, problems, notes = config_of("module.exports = {\n  output: 'standalone'\n"
                                        "  poweredByHeader: false,\n}\n")
    assert notes == []
    assert [(p.span.line, p.message) for p in problems] == [(3, "syntax error in Next.js config")]
    assert not config.statically_readable and config.reason == "syntax error at line 3"


def test_typescript_syntax_in_js_file_is_an_error() -> None:
    _, problems, _ = config_of("const c: NextConfig = {}\nmodule.exports = c\n")
    assert len(problems) == 1


def test_self_reference_does_not_loop() -> None:
    config, _, _ = config_of("const a = b\nconst b = a\nmodule.exports = withX(a)\n")
    assert not config.statically_readable


@pytest.mark.parametrize(
    ("inside_app", "route"),
    [
        ("pages/api/health.ts", "/api/health"),
        ("src/pages/api/health.js", "/api/health"),
        ("pages/api/health/index.tsx", "/api/health"),
        ("app/api/health/route.ts", "/api/health"),
        ("src/app/api/health/route.js", "/api/health"),
        ("app/api/(ops)/health/route.ts", "/api/health"),
        ("app/api/health/page.tsx", None),
        ("app/api/_lib/route.ts", None),
        ("pages/api/_utils.ts", None),
        ("pages/api/types.d.ts", None),
        ("pages/api/health.json", None),
        ("pages/health.ts", None),
        ("lib/pages/api/health.ts", None),
    ],
)
def test_api_route_urls(inside_app: str, route: str | None) -> None:
    found = api_route(inside_app, inside_app)
    assert (found.route if found else None) == route


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_config_parser_never_raises(source: str) -> None:
    for path in ("next.config.js", "next.config.ts"):
        config, _, _ = config_of(source, path)
        assert config.span.path == path


@pytest.mark.parametrize(
    ("path", "source", "methods"),
    [
        ("route.ts", "export async function GET() {}\nexport const POST = async () => 1\n",
         ("GET", "POST")),
        ("route.js", "async function h() {}\nexport { h as GET, h as HEAD }\n", ("GET", "HEAD")),
        ("route.tsx", "export const dynamic = 'force-dynamic'\n"
                      "export function GET() { return <p /> }\n", ("GET",)),
        ("route.ts", "export default function handler() {}\n", ()),
        ("route.ts", "export * from './handlers'\n", None),
        ("route.ts", "export function GET( {\n", None),
    ],
)
def test_exported_methods(path: str, source: str, methods: tuple[str, ...] | None) -> None:
    assert exported_methods(source.encode(), path) == methods


def test_app_router_routes_carry_their_methods(tmp_path: Path) -> None:
    (tmp_path / "app/api/health").mkdir(parents=True)
    (tmp_path / "pages/api").mkdir(parents=True)
    (tmp_path / "app/api/health/route.ts").write_text("export async function POST() {}\n")
    (tmp_path / "pages/api/ping.js").write_text("export default function h(req, res) {}\n")
    files = ["package.json", "app/api/health/route.ts", "pages/api/ping.js"]
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"next": "15"}}')
    apps, problems, _ = build_next_apps(tmp_path, files)
    assert problems == []
    health, ping = apps[0].route("/api/health"), apps[0].route("/api/ping")
    assert health.methods == ("POST",) and not health.handles("GET")
    assert ping.methods is None and ping.handles("GET")


def test_route_files_outside_any_app_make_an_app(tmp_path: Path) -> None:
    (tmp_path / "web/src/app/api/health").mkdir(parents=True)
    (tmp_path / "web/src/app/api/health/route.js").write_text("export function GET() {}\n")
    apps, _, _ = build_next_apps(tmp_path, ["web/src/app/api/health/route.js", "lib/api/x.js"])
    assert [(app.dir, app.span.path, app.package, app.config) for app in apps] == [
        ("web", "web/src/app/api/health/route.js", None, None)]
    assert apps[0].route("/api/health").handles("HEAD")
