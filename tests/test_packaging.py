"""A plain (non-editable) install must carry every rule: rules/ lives at the top of the repository
but ships inside the wheel as auditor/_rules."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_ships_every_rule_and_finds_them(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("auditor-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(name).name for name in archive.namelist() if name.startswith("auditor/_rules/")}
        assert "auditor/report/templates/compliance.html.j2" in archive.namelist()  # `auditor report`'s template
        archive.extractall(tmp_path / "site")
    assert shipped == {p.name for p in (REPO / "rules").glob("*.yaml")}
    # Import from the unpacked wheel alone (the checkout is not on the path) and load the catalog.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from auditor.catalog import load_catalog, rules_dir; "
            "print(rules_dir()); print(len(load_catalog()))")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path / "site")], capture_output=True,
                         text=True, timeout=120, env={"AUDITOR_NO_CACHE": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    location, count = out.stdout.split()
    assert location.endswith("auditor/_rules") and str(tmp_path) in location
    assert int(count) == len(shipped)
