from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.parsers.package_json import key_spans, parse_lockfile, parse_package_json

DATA = Path(__file__).parent.parent / "data" / "nextjs"


def read(relative: str) -> str:
    return (DATA / relative).read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_package_json_fields_and_key_lines() -> None:
    text = read("standalone/package.json")
    package, problems = parse_package_json(text, "package.json")
    assert problems == []
    assert package is not None
    assert (package.name, package.version) == ("shop-web", "1.4.0")
    assert package.dependencies["next"].value == "14.2.5"
    assert package.dependencies["next"].span.line == line_of(text, '"next": "14.2.5"')
    assert package.dependencies["next"].span.column == 5
    assert package.dev_dependencies["typescript"].value == "5.5.4"
    assert package.scripts["build"].value == "next build"
    assert package.span_of("name").line == 2
    assert package.span_of("missing") == package.span
    assert package.depends_on("next") and not package.depends_on("express")


def test_workspaces_are_read() -> None:
    package, _ = parse_package_json(read("monorepo/package.json"), "package.json")
    assert package is not None
    assert package.workspaces == ("apps/*",)
    yarn_style, _ = parse_package_json('{"workspaces": {"packages": ["pkg/*"]}}', "package.json")
    assert yarn_style is not None and yarn_style.workspaces == ("pkg/*",)


def test_invalid_json_reports_decoder_position() -> None:
    package, problems = parse_package_json(read("broken/package.json"), "broken/package.json")
    assert package is None
    assert len(problems) == 1
    assert (problems[0].span.path, problems[0].span.line, problems[0].span.column) == (
        "broken/package.json", 5, 3)
    assert "invalid JSON" in problems[0].message


@pytest.mark.parametrize("text", ["[]", '"name"', "null", "3"])
def test_non_object_package_json_is_a_problem(text: str) -> None:
    package, problems = parse_package_json(text, "package.json")
    assert package is None and problems


def test_wrongly_typed_sections_are_problems_not_crashes() -> None:
    text = '{\n  "name": 5,\n  "dependencies": ["next"],\n  "scripts": {"build": 1}\n}'
    package, problems = parse_package_json(text, "package.json")
    assert package is not None
    assert package.name is None
    assert package.dependencies == {}
    assert [problem.span.line for problem in problems] == [3]
    assert package.scripts["build"].value is None


def test_key_spans_skip_arrays_and_decode_escapes() -> None:
    text = '{"a": [{"hidden": 1}],\n "b\\u00e9": {"c": {"deep": 1}}, "d": "x,{"}'
    spans = key_spans(text, "f.json", max_depth=2)
    assert set(spans) == {("a",), ("bé",), ("bé", "c"), ("d",)}
    assert spans[("bé", "c")].line == 2


def test_lockfile_v3_packages_and_lines() -> None:
    text = read("standalone/package-lock.json")
    lockfile, problems = parse_lockfile(text, "package-lock.json")
    assert problems == []
    assert lockfile is not None
    assert (lockfile.name, lockfile.lockfile_version) == ("shop-web", 3)
    assert lockfile.name_span.line == 2
    assert lockfile.line_of("next") == line_of(text, '"node_modules/next": {')
    assert lockfile.line_of("@next/env") == line_of(text, '"node_modules/@next/env"')
    # The hoisted copy wins over the nested one that next pins.
    assert lockfile.packages["postcss"].version == "8.4.41"
    assert lockfile.line_of("postcss") == line_of(text, '"node_modules/postcss": {')
    nested = [item for item in lockfile.installs if item.path.count("node_modules/") == 2]
    assert [(item.name, item.version) for item in nested] == [("postcss", "8.4.31")]
    assert lockfile.line_of("left-pad") is None


def test_lockfile_v1_nested_dependencies() -> None:
    text = read("lockfile_v1/package-lock.json")
    lockfile, problems = parse_lockfile(text, "package-lock.json")
    assert problems == [] and lockfile is not None
    assert lockfile.lockfile_version == 1
    assert lockfile.name == "legacy-renamed"
    # "postcss" appears first as a "requires" value and a nested entry; the hoisted one is later.
    assert lockfile.packages["postcss"].version == "8.4.31"
    assert lockfile.line_of("postcss") == 18
    assert lockfile.line_of("next") == 7


def test_lockfile_workspaces_recorded() -> None:
    lockfile, _ = parse_lockfile(read("monorepo/package-lock.json"), "package-lock.json")
    assert lockfile is not None
    assert dict(lockfile.workspace_names) == {"apps/docs": "@acme/docs", "apps/web": "@acme/web"}


def test_lockfile_name_falls_back_to_root_package_entry() -> None:
    text = '{"lockfileVersion": 3, "packages": {"": {"name": "x"}}}'
    lockfile, _ = parse_lockfile(text, "package-lock.json")
    assert lockfile is not None and lockfile.name == "x"


def test_large_minified_lockfile_lines() -> None:
    packages = {"": {"name": "big"}}
    packages.update({f"node_modules/p{i}": {"version": f"1.0.{i}", "dependencies": {"q": "1"}}
                     for i in range(3000)})
    text = json.dumps({"name": "big", "lockfileVersion": 3, "packages": packages}, indent=1)
    lockfile, _ = parse_lockfile(text, "package-lock.json")
    assert lockfile is not None and len(lockfile.packages) == 3000
    assert lockfile.line_of("p2999") == line_of(text, '"node_modules/p2999"')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5), st.sampled_from([None, 2]))
def test_key_spans_point_at_the_key(document: dict, indent: int | None) -> None:
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    spans = key_spans(text, "f.json", max_depth=1)
    assert set(spans) == {(key,) for key in document}
    lines = text.split("\n")
    for (key,), span in spans.items():
        assert span.column is not None and span.end_column is not None
        quoted = lines[span.line - 1][span.column - 1:span.end_column - 1]
        assert json.loads(quoted) == key


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_parsers_never_raise(text: str) -> None:
    parse_package_json(text, "package.json")
    parse_lockfile(text, "package-lock.json")
