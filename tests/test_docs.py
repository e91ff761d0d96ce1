"""docs/rules.md is generated from rules/ and must be current."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_rules_md_is_current() -> None:
    result = subprocess.run([sys.executable, str(REPO / "docs" / "generate_rules_md.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_readme_configuration_example_is_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from auditor.catalog import load_catalog
    from auditor.config import load_config

    readme = (REPO / "README.md").read_text()
    example = re.search(r"## Configuration.*?```yaml\n(.*?)```", readme, re.S)
    assert example is not None
    (tmp_path / ".auditor.yaml").write_text(example.group(1))
    # loaded as the audited tree's own file: the example must be policy only
    config = load_config(tmp_path / ".auditor.yaml", load_catalog(), tree_root=tmp_path)
    assert config.from_tree and config.rules["DF009"]["uid"] == 10001 and config.parse_timeout == 10


def test_the_readme_policy_example_is_a_valid_floor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from auditor.catalog import load_catalog
    from auditor.policy import load_floor

    readme = (REPO / "README.md").read_text()
    example = re.search(r"```yaml\n# ci/auditor-policy.yaml\n(.*?)```", readme, re.S)
    assert example is not None
    (tmp_path / "policy.yaml").write_text(example.group(1))
    (tmp_path / "tree").mkdir()
    floor = load_floor(tmp_path / "policy.yaml", tmp_path / "tree", load_catalog())
    assert floor.requires("DF008") and floor.severities == {"DF008": "critical"} and not floor.allow_suppress
