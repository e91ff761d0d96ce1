"""Locations and dependency paths read from package-lock.json."""
from __future__ import annotations

import json

from auditor.scanners.lockfile import dependency_path, file_under_root, node_line, package_line
from tests.scanners.helpers import LODASH_PROJECT

LOCK = json.loads((LODASH_PROJECT / "package-lock.json").read_text())


def test_dependency_path_follows_the_tree_from_a_direct_dependency():
    assert dependency_path(LOCK, "node_modules/lodash") == ["lodash"]
    assert dependency_path(LOCK, "node_modules/minimist") == ["mkdirp", "minimist"]


def test_dependency_path_resolves_nested_copies_and_workspace_links():
    lock = {"packages": {
        "": {"dependencies": {"web": "*"}},
        "node_modules/web": {"resolved": "apps/web", "link": True},
        "apps/web": {"dependencies": {"express": "^4"}},
        "node_modules/express": {"dependencies": {"qs": "6.5.2"}},
        "node_modules/qs": {"version": "6.11.0"},
        "node_modules/express/node_modules/qs": {"version": "6.5.2"},
    }}
    assert dependency_path(lock, "node_modules/express/node_modules/qs") == ["apps/web", "express", "qs"]
    assert dependency_path(lock, "node_modules/qs") == ["qs"]  # unreachable: its nesting only


def test_lockfile_v1_falls_back_to_nesting():
    assert dependency_path({"dependencies": {}}, "node_modules/a/node_modules/b") == ["a", "b"]


def test_lines():
    text = (LODASH_PROJECT / "package-lock.json").read_text()
    assert node_line(text, "node_modules/mkdirp") == 43
    assert package_line(LODASH_PROJECT, "package-lock.json", "lodash") == 33
    assert package_line(LODASH_PROJECT, "package.json", "lodash") is None


def test_file_under_root_refuses_escapes(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "secret.json").write_text("{}")
    (tmp_path / "root" / "link.json").symlink_to(tmp_path / "secret.json")
    assert file_under_root(tmp_path / "root", "../secret.json") is None
    assert file_under_root(tmp_path / "root", "link.json") is None


def test_dependency_path_of_a_malformed_lockfile_falls_back_to_the_nesting():
    # The lockfile is the audited tree's: any JSON value can stand where an object belongs.
    for root in ([], "x", 3, None, {"dependencies": []}, {"dependencies": {"a": 1}}):
        lock = {"packages": {"": root, "node_modules/a": [], "node_modules/a/node_modules/b": {}}}
        assert dependency_path(lock, "node_modules/a/node_modules/b") == ["a", "b"]
    lock = {"packages": {"": {"dependencies": {"a": "1"}}, "node_modules/a": "1.0.0",
                         "node_modules/a/node_modules/b": {}}}
    assert dependency_path(lock, "node_modules/a/node_modules/b") == ["a", "b"]
