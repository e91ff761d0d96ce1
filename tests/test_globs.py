"""``exclude`` and ``suppress`` patterns are gitignore-style (pathspec), the same in discovery,
in the exclude judge and in suppressions; the tree's configuration is found walking up from the
scan root to the repository root, for a folder and for a file argument alike."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.globs import PathPatterns
from tests.conftest import FIXTURES, run_auditor

ROOT_USER = "FROM node:20-alpine\nUSER root\nCMD [\"node\", \"server.js\"]\n"


@pytest.mark.parametrize(("pattern", "path", "is_dir", "expected"), [
    ("Dockerfile", "app/Dockerfile", False, True),          # no slash: any depth, like .gitignore
    ("Dockerfile", "Dockerfile", False, True),
    ("/Dockerfile", "app/Dockerfile", False, False),        # anchored at the root
    ("/Dockerfile", "Dockerfile", False, True),
    ("legacy/", "legacy", True, True),                      # a folder pattern
    ("legacy/", "legacy", False, False),                    # ... not a file of that name
    ("legacy/", "apps/legacy/k8s/a.yaml", False, True),
    ("k8s/**/*.yaml", "k8s/a/b/c.yaml", False, True),
    ("k8s/*.yaml", "k8s/a/c.yaml", False, False),           # * stays within a folder
    ("*.yaml", "deep/er/x.yaml", False, True),
    ("**/a/**/a/**/a/**/a/**/x", "a/a/a/a/x", False, False),  # unbounded: not applied (audited)
])
def test_patterns_are_gitignore_style(pattern: str, path: str, is_dir: bool, expected: bool) -> None:
    assert PathPatterns([pattern]).matches(path, is_dir) is expected


def _tree(root: Path) -> Path:
    for folder in ("app", "legacy/old", "svc"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "Dockerfile").write_text(ROOT_USER)
    (root / "Dockerfile").write_text(ROOT_USER)
    return root


def _df008_files(tree: Path, *args: str, cwd: Path | None = None) -> tuple[list[str], dict]:
    done = run_auditor("scan", *args, "--no-external", "--select", "DF008", "--format", "json", cwd=cwd or tree)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    return sorted(f["file"] for f in report["findings"] if not f["suppressed"] and f["rule_id"] == "DF008"), report


@pytest.mark.parametrize(("exclude", "left"), [
    (["Dockerfile"], []),
    (["/Dockerfile"], ["app/Dockerfile", "legacy/old/Dockerfile", "svc/Dockerfile"]),
    (["legacy/"], ["Dockerfile", "app/Dockerfile", "svc/Dockerfile"]),
    (["old/"], ["Dockerfile", "app/Dockerfile", "svc/Dockerfile"]),
    (["**/old/*"], ["Dockerfile", "app/Dockerfile", "svc/Dockerfile"]),
    (["*/Dockerfile", "!svc/Dockerfile"], ["Dockerfile", "legacy/old/Dockerfile", "svc/Dockerfile"]),
])
def test_exclude_in_the_trees_config_and_its_judge_agree(tmp_path: Path, exclude: list[str], left: list[str]) -> None:
    tree = _tree(tmp_path)
    (tree / ".auditor.yaml").write_text(json.dumps({"exclude": exclude}))
    files, report = _df008_files(tree, ".")
    assert files == left
    # the judge (policy) counts, per pattern, what discovery removed: same matcher, same answer
    every = ["Dockerfile", "app/Dockerfile", "legacy/old/Dockerfile", "svc/Dockerfile"]
    removed = {w["setting"]: w["change"] for w in report["policy"]["weakenings"] if w["setting"].startswith("exclude[")}
    if len(exclude) == 1:
        assert f"{len(every) - len(left)} file(s) not audited" in removed["exclude[0]"]


def test_suppress_paths_are_gitignore_style(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tree / ".auditor.yaml").write_text(
        'suppress:\n  - {rule: DF008, path: "legacy/", reason: "old"}\n  - {rule: DF008, path: "/Dockerfile", reason: "root"}\n')
    files, report = _df008_files(tree, ".")
    assert files == ["app/Dockerfile", "svc/Dockerfile"]
    assert sorted(f["file"] for f in report["findings"] if f["suppressed"] and f["rule_id"] == "DF008") == ["Dockerfile", "legacy/old/Dockerfile"]


def test_configuration_is_found_walking_up_to_the_repository_root(tmp_path: Path) -> None:
    repository = _tree(tmp_path / "repo")
    (repository / ".git").mkdir()
    (repository / ".auditor.yaml").write_text('exclude: ["old/"]\n')
    (repository / "svc" / "old").mkdir()
    (repository / "svc" / "old" / "Dockerfile").write_text(ROOT_USER)
    # a folder argument below the configuration, from the repository root or from the folder
    for args, cwd in ((["svc"], repository), (["."], repository / "svc")):
        files, report = _df008_files(repository, *args, cwd=cwd)
        assert files == ["Dockerfile"], (args, cwd)  # svc/old/Dockerfile excluded by the root's config
        assert report["policy"]["config"] is not None
    # a file argument finds the same configuration as its folder does
    files_arg, file_report = _df008_files(repository, "Dockerfile", cwd=repository / "svc")
    assert files_arg == ["Dockerfile"] and file_report["policy"]["config"] == report["policy"]["config"]
    listed, _ = _df008_files(repository, "svc/Dockerfile", "svc/old/Dockerfile", cwd=repository)
    assert listed == ["svc/Dockerfile"]


def test_the_walk_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".auditor.yaml").write_text('exclude: ["Dockerfile"]\n')  # above the repository: never read
    repository = _tree(tmp_path / "repo")
    (repository / ".git").mkdir()
    files, report = _df008_files(repository, "app", cwd=repository)
    assert files == ["Dockerfile"] and report["policy"]["config"] is None
    outside = _tree(tmp_path / "plain" / "inner")  # no repository: the scan root only
    (tmp_path / "plain" / ".auditor.yaml").write_text('exclude: ["Dockerfile"]\n')
    files, _ = _df008_files(outside, ".", cwd=outside)
    assert files == ["Dockerfile", "app/Dockerfile", "legacy/old/Dockerfile", "svc/Dockerfile"]


def test_a_configuration_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.yaml").write_text('exclude: ["Dockerfile"]\n')
    repository = _tree(tmp_path / "repo")
    (repository / ".git").mkdir()
    (repository / ".auditor.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    done = run_auditor("scan", "app", "--no-external", "--select", "DF008", cwd=repository)
    assert done.returncode == 2 and "leaves the audited tree" in done.stderr


def test_the_fixtures_are_unaffected() -> None:
    files, _ = _df008_files(FIXTURES / "noncompliant", ".")
    assert files == ["Dockerfile"]
