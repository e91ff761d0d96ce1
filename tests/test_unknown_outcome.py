"""Unknown is not absent: a check that yields Unknown (and no Fail) makes its control ``error``."""
from __future__ import annotations

import sys
import types
from pathlib import Path

from auditor.catalog import load_catalog
from auditor.config import Config
from auditor.engine import _run_rule, _Stamper
from auditor.findings import Pass, Unknown, Fail
from auditor.model.project import Project
from auditor.model.span import Span


def _run(outcomes, monkeypatch):
    rule = load_catalog()["XF001"]
    module = types.ModuleType(rule.check_module)
    module.NODES = "document"  # what the check judges (auditor/dispatch.py)
    module.check = lambda document, params: iter(outcomes)
    monkeypatch.setitem(sys.modules, rule.check_module, module)
    project = Project(root=Path("."), files=("a.conf",))
    return _run_rule(rule, project, Config(), _Stamper(project))


def test_unknown_without_fail_is_error_naming_the_reason(monkeypatch):
    findings, control = _run([Pass(Span("a.conf", 1), "ok"), Unknown(Span("a.conf", 3), "include /etc/x.conf not read")],
                             monkeypatch)
    assert findings == []
    assert control.status == "error"
    assert "include /etc/x.conf not read" in control.reason and "a.conf:3" in control.reason


def test_a_known_failure_still_fails_beside_an_unknown(monkeypatch):
    findings, control = _run([Fail(Span("a.conf", 2), "bad"), Unknown(Span("a.conf", 3), "templated")], monkeypatch)
    assert control.status == "fail" and len(findings) == 1
    assert any("templated" in e.text for e in control.evidence)
