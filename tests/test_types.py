"""The types are checked, not only claimed: ``mypy --strict`` over the whole ``auditor`` package
reports no error. Configuration in pyproject.toml (``[tool.mypy]``); mypy and the stubs it needs
are in the ``test`` extra, pinned in constraints.txt, so CI (the README's ``python -m pytest``)
runs this check on every change."""
from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_mypy_strict_reports_no_error_in_the_auditor_package() -> None:
    try:
        import mypy  # noqa: F401 - only to fail with the way to install it
    except ImportError:
        raise AssertionError("mypy is not installed: pip install -c constraints.txt -e '.[test]'") from None
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "auditor"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"mypy --strict auditor:\n{output[-20000:]}"
    # every module was checked (a configuration that excluded some would also say "Success")
    checked = re.search(r"Success: no issues found in (\d+) source files", output)
    assert checked is not None, output
    assert int(checked.group(1)) == len(list((REPO / "auditor").rglob("*.py")))
