"""auditor/dispatch.py: the engine calls a check once per node of the kinds it declares, and
reports each anchor once per document. Real configs parsed by the real parsers; the check
modules are small ones written here, so that each test states exactly what a check returns."""
from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.dispatch import NODE_KINDS, CheckDefinitionError, Site, load_check, node_kinds, outcomes
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import NginxConfig
from auditor.model.span import Span
from auditor.params import Params
from auditor.parsers.compose import parse_compose
from auditor.parsers.nginx import parse_nginx

NGINX = """\
http {
    add_header X-Frame-Options DENY;
    server {
        listen 80;
        location /a { proxy_pass http://app:3000; }
        location /b { proxy_pass http://app:3000; }
    }
    server {
        listen 8080;
        location /c { return 404; }
    }
}
"""


def _nginx(tmp_path: Path, text: str = NGINX) -> NginxConfig:
    (tmp_path / "nginx.conf").write_text(text)
    configs, problems, _ = parse_nginx(tmp_path, ["nginx.conf"])
    assert problems == []
    return configs[0]


def _module(nodes: Any, check: Callable[..., Any]) -> types.ModuleType:
    module = types.ModuleType("auditor.checks.test.xx999")
    module.NODES = nodes  # type: ignore[attr-defined]
    module.check = check  # type: ignore[attr-defined]
    return module


def test_a_location_check_is_called_once_per_location_with_its_server_and_config(tmp_path: Path) -> None:
    config = _nginx(tmp_path)
    calls: list[tuple[str, str, NginxConfig]] = []

    def check(location: Any, site: Site, params: Params) -> None:
        calls.append((location.uri, site.server.label, site.config))

    list(outcomes(_module("nginx.location", check), config, Params()))
    uris = [uri for uri, _, _ in calls if uri in ("/a", "/b", "/c")]
    assert uris == ["/a", "/b", "/c"]
    assert all(seen is config for _, _, seen in calls)
    assert len({server for _, server, _ in calls}) == 2
    assert len(calls) == sum(1 for _ in config.locations())  # implicit locations included


def test_kinds_run_in_the_declared_order_and_a_document_check_gets_the_document(tmp_path: Path) -> None:
    config = _nginx(tmp_path)
    order: list[str] = []

    def check(node: Any, *rest: Any) -> None:
        order.append(type(node).__name__)

    list(outcomes(_module(("nginx.server", "document", "nginx.directive"), check), config, Params()))
    assert order[:2] == ["Server", "Server"]
    assert order[2] == "NginxConfig"
    assert set(order[3:]) == {"Directive"} and "Directive" in order


def test_directives_are_visited_depth_first_in_file_order(tmp_path: Path) -> None:
    names = [directive.name for directive, _ in NODE_KINDS["nginx.directive"](_nginx(tmp_path))]
    assert names[:4] == ["http", "add_header", "server", "listen"]
    assert names.index("location") < names.index("proxy_pass") < names.index("server", 3)


def test_a_directive_check_that_names_its_directives_is_called_for_those_only(tmp_path: Path) -> None:
    """gixy's ``directives = [...]``: a check declaring DIRECTIVES sees only those directives,
    nested ones included, in file order; its other kinds are called as before."""
    config = _nginx(tmp_path)
    seen: list[str] = []

    def check(node: Any, *rest: Any) -> None:
        seen.append(getattr(node, "name", type(node).__name__))

    module = _module(("nginx.directive", "nginx.server"), check)
    module.DIRECTIVES = frozenset({"listen", "proxy_pass"})  # type: ignore[attr-defined]
    list(outcomes(module, config, Params()))
    assert seen == ["listen", "proxy_pass", "proxy_pass", "listen", "Server", "Server"]


def test_an_instruction_check_that_names_its_keywords_is_called_for_those_only() -> None:
    from auditor.parsers.dockerfile import parse_dockerfile

    dockerfile, _ = parse_dockerfile("FROM node:20\nRUN npm ci\nCMD node a.js\nUSER node\nENTRYPOINT [\"tini\"]\n",
                                     "Dockerfile")
    seen: list[str] = []

    def check(instruction: Any, doc: Any, params: Params) -> Outcome:
        seen.append(instruction.keyword)
        return Pass(instruction, instruction.keyword)

    module = _module("dockerfile.instruction", check)
    module.KEYWORDS = ("CMD", "ENTRYPOINT")  # type: ignore[attr-defined]
    found = list(outcomes(module, dockerfile, Params()))
    assert seen == ["CMD", "ENTRYPOINT"] and [o.evidence for o in found if isinstance(o, Pass)] == seen
    del module.KEYWORDS  # type: ignore[attr-defined]
    seen.clear()
    list(outcomes(module, dockerfile, Params()))
    assert seen == ["FROM", "RUN", "CMD", "USER", "ENTRYPOINT"]


def test_an_anchor_shared_by_several_nodes_is_reported_once(tmp_path: Path) -> None:
    """Two locations inherit one add_header: the failure anchors on it and counts once."""
    config = _nginx(tmp_path)
    anchor = config.servers[0].span

    def check(location: Any, site: Site, params: Params) -> Outcome | None:
        if location.uri in ("/a", "/b"):
            return Fail(anchor, f"{location.uri} lacks a header")
        return None

    found = list(outcomes(_module("nginx.location", check), config, Params()))
    assert [outcome.message for outcome in found if isinstance(outcome, Fail)] == ["/a lacks a header"]


def test_a_fail_at_a_span_suppresses_later_passes_there_but_not_earlier_ones(tmp_path: Path) -> None:
    config = _nginx(tmp_path)
    here, there = Span("nginx.conf", 4), Span("nginx.conf", 9)
    results: dict[str, list[Outcome]] = {
        "/a": [Pass(there, "fine first")],
        "/b": [Fail(here, "wrong"), Fail(there, "wrong after a pass"), Unknown(here, "not read")],
        "/c": [Pass(here, "fine after a fail"), Unknown(here, "again"), Fail(here, "wrong again")]}

    def check(location: Any, site: Site, params: Params) -> list[Outcome]:
        return results.get(location.uri, [])

    found = list(outcomes(_module("nginx.location", check), config, Params()))
    assert [(type(o).__name__, getattr(o, "message", getattr(o, "evidence", getattr(o, "reason", ""))))
            for o in found] == [("Pass", "fine first"), ("Fail", "wrong"), ("Fail", "wrong after a pass"),
                                ("Unknown", "not read")]


def test_the_outcomes_of_one_call_are_all_kept(tmp_path: Path) -> None:
    """Two failures at one span from one node (no runAsUser and no runAsNonRoot, both on the
    container) are two findings; only repeats across nodes collapse."""
    config = _nginx(tmp_path)
    span = Span("nginx.conf", 1)

    def check(document: Any, params: Params) -> list[Outcome]:
        return [Fail(span, "one"), Fail(span, "two"), Pass(span, "three")]

    assert len(list(outcomes(_module("document", check), config, Params()))) == 3


def test_a_single_outcome_returned_as_is_and_subclassed_outcomes_are_deduplicated_alike(tmp_path: Path) -> None:
    """A check may return one outcome instead of an iterable; an outcome of a subclass of Fail,
    Pass or Unknown counts as its base kind."""
    config = _nginx(tmp_path)
    here = Span("nginx.conf", 4)

    class Warning(Fail):
        __slots__ = ()

    class Noted(Pass):
        __slots__ = ()

    results: dict[str, Outcome] = {"/a": Warning(here, "wrong"), "/b": Fail(here, "wrong again"),
                                   "/c": Noted(here, "fine after a fail")}

    def check(location: Any, site: Site, params: Params) -> Outcome | None:
        return results.get(location.uri)

    found = list(outcomes(_module("nginx.location", check), config, Params()))
    assert [(type(o).__name__, o.message) for o in found if isinstance(o, Fail)] == [("Warning", "wrong")]
    assert not [o for o in found if isinstance(o, Pass)]


def test_compose_services_are_dispatched_with_their_file() -> None:
    compose, problems = parse_compose("services:\n  web:\n    image: app\n  db:\n    image: postgres\n",
                                      "docker-compose.yml")
    assert compose is not None and problems == []
    seen: list[tuple[str, Any]] = []

    def check(service: Any, compose_file: Any, params: Params) -> None:
        seen.append((service.name, compose_file))

    list(outcomes(_module("compose.service", check), compose, Params()))
    assert seen == [("web", compose), ("db", compose)]


@pytest.mark.parametrize("nodes", [None, "nginx.nowhere", ("document", "banana"), ()])
def test_a_check_that_declares_no_known_node_kind_is_refused(nodes: Any) -> None:
    with pytest.raises(CheckDefinitionError, match="NODES"):
        node_kinds(_module(nodes, lambda *args: None))


def test_every_check_module_declares_its_node_kinds() -> None:
    for rule in load_catalog().values():
        if rule.has_check:
            module = load_check(rule.check_module)
            assert node_kinds(module), rule.id


def test_no_check_deduplicates_for_itself_and_nginx_checks_are_dispatched_by_node() -> None:
    checks = Path(__file__).resolve().parent.parent / "auditor" / "checks"
    for path in checks.rglob("*.py"):
        assert "once_per_anchor" not in path.read_text(), path
    whole_document = {rule.id for rule in load_catalog().values() if rule.family == "nginx"
                      and node_kinds(load_check(rule.check_module)) == ("document",)}
    # NG001 (does any server listen on 443 with ssl?) and NG011 (does any location proxy to
    # the app?) judge the config as a whole
    assert whole_document == {"NG001", "NG011"}


def test_a_family_without_files_is_not_imported(tmp_path: Path) -> None:
    """Only the checks of the families the tree has are loaded (issue 16: start-up cost)."""
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text("FROM node:20-alpine\nUSER node\n")
    code = ("import sys; from auditor.api import scan; scan([sys.argv[1]], ignore=['SC']); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('auditor.checks.'))))")
    loaded = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "auditor.checks.dockerfile.df008" in loaded
    assert not [name for name in loaded if name.startswith(("auditor.checks.nginx.", "auditor.checks.kubernetes."))]
    assert not [name for name in loaded if name.startswith("auditor.checks.compose.dc00") and name != "auditor.checks.compose.dc006"]


def test_a_shared_include_is_reported_once_through_the_engine(tmp_path: Path) -> None:
    """End to end: two locations inherit the server's headers without HSTS; NG004 fails once, at
    the server that owns the add_header list."""
    (tmp_path / "nginx.conf").write_text(
        "http {\n  server {\n    listen 443 ssl;\n    ssl_certificate a.pem;\n    ssl_certificate_key a.key;\n"
        "    add_header X-Frame-Options DENY always;\n"
        "    location /a { proxy_pass http://app:3000; }\n    location /b { proxy_pass http://app:3000; }\n"
        "  }\n}\n")
    result = scan([tmp_path], select=["NG004"], ignore=["SC"])
    failures = [(f.span.line, f.message) for f in result.findings if f.rule_id == "NG004"]
    assert len(failures) == 1 and failures[0][0] == 2, failures


def test_a_pod_level_setting_shared_by_its_containers_fails_once(tmp_path: Path) -> None:
    """runAsUser: 0 written once in the pod securityContext: one line to fix, one KS001 finding
    (each container used to report it again); a container's own setting still counts apart."""
    (tmp_path / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
        "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
        "      securityContext:\n        runAsUser: 0\n        runAsNonRoot: true\n"
        "      initContainers:\n        - name: migrate\n          image: app:1.0\n"
        "      containers:\n        - name: web\n          image: app:1.0\n"
        "        - name: sidecar\n          image: proxy:1.0\n          securityContext:\n            runAsUser: 0\n")
    result = scan([tmp_path], select=["KS001"], ignore=["SC"])
    lines = sorted(f.span.line for f in result.findings if f.rule_id == "KS001")
    assert lines == [13, 24], [(f.span.line, f.message) for f in result.findings]


def test_whole_document_checks_are_the_ones_that_judge_the_document_as_a_whole() -> None:
    whole_document = {rule.id for rule in load_catalog().values()
                      if rule.has_check and rule.family in ("nginx", "compose", "kubernetes") and rule.target != "project"
                      and node_kinds(load_check(rule.check_module)) == ("document",)}
    # NG001: does any server listen on 443 with ssl; NG011: does any location proxy to the app;
    # DC007: the networks the services use; KS009: Services and Ingresses across workloads;
    # KS012: ServiceAccounts looked up once per document
    assert whole_document == {"NG001", "NG011", "DC007", "KS009", "KS012"}


def test_dockerfile_kinds_give_each_stage_the_final_stage_and_each_instruction() -> None:
    from auditor.parsers.dockerfile import parse_dockerfile

    dockerfile, problems = parse_dockerfile("FROM node:20 AS build\nRUN npm ci\nFROM node:20-alpine\nUSER node\n",
                                            "Dockerfile")
    assert problems == []
    stages = [(stage.index, context) for stage, context in NODE_KINDS["dockerfile.stage"](dockerfile)]
    assert stages == [(0, dockerfile), (1, dockerfile)]
    assert [stage.index for stage, _ in NODE_KINDS["dockerfile.final_stage"](dockerfile)] == [1]
    assert [i.keyword for i, _ in NODE_KINDS["dockerfile.instruction"](dockerfile)] == ["FROM", "RUN", "FROM", "USER"]


def test_a_dockerfile_without_a_stage_gives_a_final_stage_check_nothing_to_judge() -> None:
    from auditor.parsers.dockerfile import parse_dockerfile

    dockerfile, _ = parse_dockerfile("# only a comment\n", "Dockerfile")
    called: list[Any] = []
    list(outcomes(_module("dockerfile.final_stage", lambda *args: called.append(args)), dockerfile, Params()))
    assert dockerfile.final_stage is None and called == []


def test_the_node_walk_keeps_what_anchors_new_keeps_call_by_call(tmp_path: Path) -> None:
    """``outcomes`` judges a node check's results inline (one outcome, or several of one call,
    remembered after the call); it must keep exactly what ``_Anchors.new`` keeps for the same
    calls, in order: many mixed results at few spans, subclassed kinds, nothing, one or several."""
    import random

    from auditor.dispatch import _Anchors

    class Warning(Fail):
        __slots__ = ()

    config = _nginx(tmp_path)
    spans = [Span("nginx.conf", line) for line in (2, 4, 5)]
    makers: list[Callable[[Span], Outcome]] = [lambda s: Fail(s, "f"), lambda s: Pass(s, "p"),
                                               lambda s: Unknown(s, "u"), lambda s: Warning(s, "w")]
    rng = random.Random(16)
    for _ in range(200):
        results: list[Any] = []
        for _ in range(sum(1 for _ in config.locations())):
            shape = rng.randrange(4)
            one = lambda: rng.choice(makers)(rng.choice(spans))  # noqa: E731
            results.append(None if shape == 0 else one() if shape == 1 else
                           (shape, [one() for _ in range(rng.randrange(4))]))
        reference = _Anchors()
        expected = [o for result in results for o in reference.new(result[1] if isinstance(result, tuple) else result)]
        # a list, or a generator as most checks return
        calls = iter([(iter(result[1]) if result[0] == 3 else result[1]) if isinstance(result, tuple) else result
                      for result in results])
        found = list(outcomes(_module("nginx.location", lambda *args: next(calls)), config, Params()))
        assert found == expected and all(a is b for a, b in zip(found, expected))


def test_the_nodes_of_a_document_are_walked_once_for_every_check_that_asks(tmp_path: Path) -> None:
    """With ``walked`` (the engine keeps one per project), a second check of the same node kind on
    the same document gets the pairs the first walk made, and the same outcomes as a fresh walk."""
    config = _nginx(tmp_path)
    walks_made: list[Any] = []
    original = NODE_KINDS["nginx.location"]

    def counted(document: Any) -> Any:
        walks_made.append(document)
        return original(document)

    def check(location: Any, site: Site, params: Params) -> Outcome:
        return Pass(location, f"{location.uri} in {site.server.label}")

    module = _module("nginx.location", check)
    from auditor.dispatch import Walk

    plan = (Walk(counted, None, "", None),)
    fresh = [(o.node, o.evidence) for o in outcomes(module, config, Params(), plan)]  # type: ignore[union-attr]
    walked: dict[Any, Any] = {}
    first = [(o.node, o.evidence) for o in outcomes(module, config, Params(), plan, walked)]  # type: ignore[union-attr]
    second = [(o.node, o.evidence) for o in outcomes(module, config, Params(), plan, walked)]  # type: ignore[union-attr]
    assert fresh == first == second and len(fresh) == sum(1 for _ in config.locations())
    assert walks_made == [config, config]  # the fresh walk, then one for both calls sharing ``walked``
