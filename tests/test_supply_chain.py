"""The auditor's own supply chain: compatible ranges in pyproject.toml, exact pins in
constraints.txt (what CI installs with ``pip install -c constraints.txt -e ".[test]"``), and a
vulnerability audit of those pins where one can run.

Both auditors need data from the network: pip-audit asks PyPI's JSON API or OSV for advisories,
Trivy needs its vulnerability DB. Offline, each test says so with an explicit skip reason
("skipped: no DB", "skipped: advisory service unreachable") instead of passing silently.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO / "constraints.txt"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator and version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        pins[_normal(name)] = version.strip()
    return pins


def test_every_declared_dependency_has_a_compatible_range() -> None:
    for requirement in _declared():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {">=", "~=", "=="}, f"{requirement}: no lower bound"
        assert operators & {"<", "~=", "=="}, f"{requirement}: no upper bound (next major could break us)"


def test_constraints_pin_every_declared_dependency_inside_its_range() -> None:
    pins = _pins()
    environment = default_environment()
    for requirement in _declared():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = _normal(requirement.name)
        assert name in pins, f"{requirement.name} is declared in pyproject.toml but not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {requirement.specifier}"


def test_constraints_pin_the_transitive_closure() -> None:
    """Every dependency of a pinned package (in this environment) is pinned too, so CI resolves
    nothing on its own."""
    import importlib.metadata as metadata

    pins = _pins()
    environment = default_environment()
    missing = []
    for name in pins:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # pinned for another platform or not installed here
        for raw in requires:
            requirement = Requirement(raw)
            if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            if _normal(requirement.name) not in pins:
                missing.append(f"{requirement.name} (needed by {name})")
    assert missing == []


def _pip_audit() -> list[str] | None:
    found = shutil.which("pip-audit") or (Path(sys.executable).parent / "pip-audit")
    return [str(found)] if found and Path(found).exists() else None


def test_pip_audit_finds_no_known_vulnerability_in_the_pins(tmp_path: Path) -> None:
    command = _pip_audit()
    if command is None:
        pytest.skip("skipped: pip-audit is not installed (pip install 'pip-audit>=2.7,<3')")
    try:
        done = subprocess.run([*command, "-r", str(CONSTRAINTS), "--no-deps", "--disable-pip",
                               "--progress-spinner", "off", "--format", "json",
                               "--cache-dir", str(tmp_path / "cache")],
                              capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("skipped: advisory service unreachable (pip-audit timed out)")
    try:
        report = json.loads(done.stdout)
    except ValueError:
        if re.search(r"ConnectionError|NameResolution|Max retries|timed out", done.stderr):
            pytest.skip("skipped: advisory service unreachable (offline): " + done.stderr.strip().splitlines()[-1][:200])
        raise AssertionError(f"pip-audit failed: {done.stderr[-2000:]}")
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        # Behind a mirror without PyPI's JSON API every package is "not found on PyPI": nothing
        # was audited, which must not read as "no known vulnerabilities".
        pytest.skip(f"skipped: advisory service unreachable: none of {len(dependencies)} pins could be "
                    "audited (PyPI JSON API not reachable from here)")
    vulnerable = [f"{d['name']}=={d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
                  for d in audited if d.get("vulns")]
    assert vulnerable == [], "known vulnerabilities in constraints.txt:\n" + "\n".join(vulnerable)


def _trivy() -> Path | None:
    beside = Path(sys.executable).parent / "trivy"
    if beside.exists():
        return beside
    found = shutil.which("trivy")
    return Path(found) if found else None


def _trivy_cache() -> Path:
    configured = os.environ.get("TRIVY_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "trivy"


def test_trivy_finds_no_high_or_critical_vulnerability_in_the_pins(tmp_path: Path) -> None:
    trivy = _trivy()
    if trivy is None:
        pytest.skip("skipped: trivy is not installed")
    cache = _trivy_cache()
    if not (cache / "db" / "trivy.db").exists():
        pytest.skip(f"skipped: no DB (Trivy's vulnerability DB is not in {cache} and cannot be "
                    "downloaded offline; run `trivy fs --download-db-only` where the network allows)")
    # Trivy recognises pip pins by the file name requirements.txt
    shutil.copy(CONSTRAINTS, tmp_path / "requirements.txt")
    done = subprocess.run([str(trivy), "fs", "--scanners", "vuln", "--skip-db-update", "--offline-scan",
                           "--cache-dir", str(cache), "--format", "json", "--severity", "HIGH,CRITICAL",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    vulnerable = [f"{v['PkgName']}=={v['InstalledVersion']}: {v['VulnerabilityID']} ({v['Severity']})"
                  for result in report.get("Results", []) for v in result.get("Vulnerabilities") or []]
    assert vulnerable == [], "known vulnerabilities in constraints.txt:\n" + "\n".join(vulnerable)
