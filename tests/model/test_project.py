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


def test_a_file_not_kept_is_read_whole_and_a_fifo_a_folder_or_one_over_the_cap_is_empty(tmp_path: Path) -> None:
    """``Project.text`` of a file the parsers did not keep (nginx.conf, read by crossplane) reads it
    with the descriptor's own calls: all of it (larger than one read's first guess too), invalid
    UTF-8 replaced; a FIFO is not waited on, a folder and an unlisted file over the cap are ''."""
    import os

    from auditor.model import project as project_module

    big = "".join(f"server_name host{index}.example;\n" for index in range(20000))  # ~600 kB
    (tmp_path / "nginx.conf").write_text(big)
    (tmp_path / "bad.conf").write_bytes(b"listen 80;\xff\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    project = Project(root=tmp_path, files=("nginx.conf",), recognised=("nginx.conf", "bad.conf"))
    assert project.text("nginx.conf") == big and project.line_text("nginx.conf", 20000) == "server_name host19999.example;"
    assert project.text("bad.conf") == "listen 80;\ufffd\n"
    assert project.text("pipe") == "" and project.text("folder") == "" and project.text("missing") == ""
    (tmp_path / "huge.key").write_bytes(b"x" * (project_module._UNREAD_TEXT_LIMIT + 1))
    assert project.text("huge.key") == ""  # not recognised: the cap applies
    assert project_module._read_regular(str(tmp_path / "huge.key"), None) == "x" * (project_module._UNREAD_TEXT_LIMIT + 1)


def test_role_views_copy_records_as_dataclasses_replace_does() -> None:
    """``_copied`` (role_view's copies) makes what ``dataclasses.replace`` makes: an equal record of
    the same class, the named fields changed, the others the very same objects, still frozen."""
    import dataclasses

    import pytest

    from auditor.model.compose import ComposeFile
    from auditor.model.project import _copied
    from auditor.parsers.compose import parse_compose

    compose, problems = parse_compose("services:\n  web:\n    image: app\n    read_only: true\n  db:\n    image: pg\n",
                                      "docker-compose.yml")
    assert compose is not None and not problems
    service = compose.services[0]
    copied, replaced = _copied(service, role="app", role_evidence="x"), dataclasses.replace(service, role="app", role_evidence="x")
    assert type(copied) is type(service) and copied == replaced and copied != service
    assert all(getattr(copied, item.name) is getattr(replaced, item.name) for item in dataclasses.fields(service)
               if item.name not in ("role", "role_evidence"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        copied.role = "proxy"  # type: ignore[misc]
    smaller = _copied(compose, services=compose.services[1:])
    assert isinstance(smaller, ComposeFile) and smaller == dataclasses.replace(compose, services=compose.services[1:])
    project = Project(root=Path("/nowhere"), files=("docker-compose.yml",), compose_files=(compose,))
    view = _copied(project, compose_files=(smaller,))
    assert view == dataclasses.replace(project, compose_files=(smaller,)) and view.memo is project.memo
    assert vars(view).keys() == vars(project).keys()
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.files = ()  # type: ignore[misc]
