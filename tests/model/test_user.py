"""One reading of who a container runs as (auditor.model.user), shared by DF008/DF009, DC009 and
the UID claims XF001 compares."""
from __future__ import annotations

import pytest

from auditor.model.user import compose_uid, image_user, parse_user
from auditor.parsers.dockerfile import parse_dockerfile


@pytest.mark.parametrize(("text", "name", "group", "root", "uid"), [
    ("1001:1001", "1001", "1001", False, 1001),
    ("nextjs", "nextjs", None, False, None),
    (" root:root ", "root", "root", True, 0),
    ("0", "0", None, True, 0),
    ("ROOT", "ROOT", None, True, 0),
])
def test_parse_user(text: str, name: str, group: str | None, root: bool, uid: int | None) -> None:
    spec = parse_user(text)
    assert (spec.name, spec.group, spec.is_root, spec.numeric_uid) == (name, group, root, uid)


def _dockerfile(text: str):  # type: ignore[no-untyped-def]
    parsed, problems = parse_dockerfile(text, "Dockerfile")
    assert parsed is not None and not problems
    return parsed


def test_image_user_resolves_a_name_through_adduser_and_compose_names_it() -> None:
    doc = _dockerfile("FROM node:20-alpine AS base\nRUN adduser -S -u 1001 nextjs\nUSER nextjs:nodejs\n"
                      "FROM base AS runner\nCMD [\"node\", \"server.js\"]\n")
    user = image_user(doc, doc.final_stage)
    assert (user.spec.name, user.uid, user.instruction.span.line) == ("nextjs", 1001, 3)  # inherited from base
    assert compose_uid("nextjs", user) == 1001 and compose_uid("1000:1000", user) == 1000
    assert compose_uid("www-data", user) is None  # a name the image does not show
    root = _dockerfile("FROM node:20-alpine\nCMD [\"node\"]\n")
    assert (image_user(root, root.final_stage).instruction, image_user(root, root.final_stage).uid) == (None, 0)
