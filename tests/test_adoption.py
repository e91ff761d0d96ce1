"""Installing and adopting the auditor (issue 14, section 1): every install instruction names
something that exists (this repository at a ref, or a wheel built with `python -m build`), the
pre-commit `rev:` is never a tag that does not exist, the wheel carries its licence, classifiers
and project URLs, and the placeholders for the unknown repository URL are marked as such."""
from __future__ import annotations

import email
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from auditor import __version__
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _git_tags() -> set[str]:
    done = subprocess.run(["git", "-C", str(REPO), "tag", "--list"], capture_output=True, text=True, timeout=60)
    return set(done.stdout.split()) if done.returncode == 0 else set()


def test_no_instruction_installs_a_package_name_that_is_not_published() -> None:
    for text in (README, (REPO / "CHANGELOG.md").read_text(encoding="utf-8"), (REPO / "action.yml").read_text()):
        assert not re.search(r"""pip install (-\S+ )*["']?auditor(\[\w+\])?(["']|\s(?!@ git\+)|$)""", text), \
            "pip install auditor names no package"
    installs = re.findall(r'pip install "(?:auditor\[\w+\] @ )?git\+([^"]+)"', README)
    assert installs and all(spec == "<repository URL>@<ref>" for spec in installs), installs
    assert "python -m build" in README and "dist/auditor-*.whl" in README
    assert "<repository URL> is where this repository is hosted" in README


def test_every_pre_commit_rev_names_a_real_ref_or_the_explained_placeholder() -> None:
    hooks_comment = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    revs = re.findall(r"^\s*#?\s*rev:\s*(\S+)", README + "\n" + hooks_comment, re.M)
    assert revs
    tags = _git_tags()
    for rev in revs:
        assert rev == "<ref>" or rev in tags or re.fullmatch(r"[0-9a-f]{40}", rev), \
            f"rev: {rev} names no tag of this repository ({sorted(tags) or 'none yet'})"
    assert "git tag -a v" in README  # how a maintainer makes `rev: vX.Y.Z` real


def test_the_placeholder_url_is_marked_or_gone_everywhere() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
    placeholder = any("OWNER" in url for url in urls.values())
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    if placeholder:
        assert all("OWNER" in url for url in urls.values())
        assert "PLACEHOLDER: OWNER stands for" in text and "OWNER" in README
    else:  # replaced by the real address: then nowhere else either
        assert "OWNER/auditor" not in README


def test_licence_changelog_and_version_agree() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "License :: OSI Approved :: MIT License" in PYPROJECT["project"]["classifiers"]
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and f"## [{__version__}]" in changelog


def test_the_wheel_built_with_python_build_carries_metadata_licence_and_completion(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob(f"auditor-{__version__}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))))
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert metadata["Name"] == "auditor" and metadata["Version"] == __version__
    classifiers = metadata.get_all("Classifier")
    assert "License :: OSI Approved :: MIT License" in classifiers and "Topic :: Security" in classifiers
    assert any(url.startswith("Repository, ") for url in metadata.get_all("Project-URL"))
    assert any(n.endswith("LICENSE") and ".dist-info/" in n for n in names)
    assert any(req.startswith("shtab") for req in metadata.get_all("Requires-Dist"))
    assert "auditor = auditor.cli:program" in entry_points
    assert "auditor/commands/completion.py" in names


def test_the_action_installs_from_its_own_checkout() -> None:
    steps = yaml.safe_load((REPO / "action.yml").read_text())["runs"]["steps"]
    install = next(step for step in steps if step.get("name") == "Install the auditor")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"] and "constraints.txt" in install["run"]
