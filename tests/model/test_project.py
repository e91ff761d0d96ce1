"""auditor.model.project: what a project derives from itself and keeps."""
from __future__ import annotations

from pathlib import Path

from auditor.model.project import Project


def test_line_text_keeps_each_distinct_line_once(tmp_path: Path) -> None:
    text = "".join(f"kind: Pod\nmetadata:\n  name: p{index}\n---\n" for index in range(3))
    project = Project(root=tmp_path, files=("pods.yaml",), sources={"pods.yaml": text}, recognised=("pods.yaml",))
    assert [project.line_text("pods.yaml", line) for line in (1, 3, 5, 7, 13)] == \
        ["kind: Pod", "  name: p0", "kind: Pod", "  name: p1", ""]
    assert project.line_text("pods.yaml", 1) is project.line_text("pods.yaml", 5) is project.line_text("pods.yaml", 9)
    assert project.line_text("pods.yaml", 0) == "" and project.line_text("pods.yaml", 12) == "---"
