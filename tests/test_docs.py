"""docs/rules.md is generated from rules/ and must be current."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_rules_md_is_current() -> None:
    result = subprocess.run([sys.executable, str(REPO / "docs" / "generate_rules_md.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
