"""auditor.model.project: what a project derives from itself and keeps."""
from __future__ import annotations

from pathlib import Path

from auditor.model.project import Project


def test_line_text_keeps_each_distinct_line_once(tmp_path: Path) -> None:
    """In a file of many lines (a manifest of hundreds of Pods); a small file's lines are kept as split."""
    text = "".join(f"kind: Pod\nmetadata:\n  name: p{index}\n---\n" for index in range(300))
    project = Project(root=tmp_path, files=("pods.yaml",), sources={"pods.yaml": text}, recognised=("pods.yaml",))
    assert [project.line_text("pods.yaml", line) for line in (1, 3, 5, 7, 1201)] == \
        ["kind: Pod", "  name: p0", "kind: Pod", "  name: p1", ""]
    assert project.line_text("pods.yaml", 1) is project.line_text("pods.yaml", 5) is project.line_text("pods.yaml", 9)
    assert project.line_text("pods.yaml", 0) == "" and project.line_text("pods.yaml", 12) == "---"


def test_line_text_of_a_small_file_is_its_lines(tmp_path: Path) -> None:
    text = "FROM node:20-alpine\n\nUSER 1001\r\nCMD [\"node\"]"
    project = Project(root=tmp_path, files=("Dockerfile",), sources={"Dockerfile": text}, recognised=("Dockerfile",))
    assert [project.line_text("Dockerfile", line) for line in range(0, 6)] == \
        ["", "FROM node:20-alpine", "", "USER 1001", 'CMD ["node"]', ""]
