"""What the fuzzers call: one entry per parser, each taking raw bytes and running the parser the
way ``build_project`` does, plus the checks of its family on the model (a check that crashes on
a model the parser produced is as much a bug as the parser crashing).

Parsers never raise on user input, so "the parser's own error type" is: none. Any exception
escaping a target is a crash. Seeds are the real files under ``fixtures/`` and ``tests/data/``.
"""
from __future__ import annotations

import copy
import json
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from auditor.discovery import classify

REPO = Path(__file__).resolve().parents[2]
SEED_DIRS = (REPO / "fixtures", REPO / "tests/data")


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _run_checks(family: str, documents: list[object]) -> bool:
    """Every check of ``family`` on each document; exceptions propagate (they are the crash)."""
    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.dispatch import load_check, outcomes

    config = Config()
    for rule in load_catalog().values():
        if not rule.has_check or not rule.check_module.startswith(f"auditor.checks.{family}."):
            continue
        module = load_check(rule.check_module)
        params = config.parameters_for(rule)
        for document in documents:
            if rule.target in ("project",):
                continue
            for _ in outcomes(module, document, params):  # as the engine calls it, node by node
                pass
    return bool(documents)


def fuzz_dockerfile(data: bytes) -> bool:
    from auditor.parsers.dockerfile import parse_dockerfile

    dockerfile, problems = parse_dockerfile(_text(data), "Dockerfile")
    assert isinstance(problems, list)
    return bool(dockerfile.stages) and _run_checks("dockerfile", [dockerfile])


def fuzz_compose(data: bytes) -> bool:
    from auditor.parsers.compose import parse_compose

    compose, problems = parse_compose(_text(data), "docker-compose.yml")
    assert isinstance(problems, list)
    return compose is not None and _run_checks("compose", [compose])


def fuzz_kubernetes(data: bytes) -> bool:
    from auditor.parsers.kubernetes import build_kubernetes
    from auditor.parsers.yaml_loader import load_yaml_documents
    from auditor.model.yaml import YMap

    documents, _ = load_yaml_documents(_text(data), "k8s/x.yaml")
    manifests = [d for d in documents if isinstance(d.root, YMap) and "apiVersion" in d.root and "kind" in d.root]
    if not manifests:
        return False
    kubernetes, _, _ = build_kubernetes(manifests)
    return _run_checks("kubernetes", [kubernetes])


def fuzz_nginx(data: bytes) -> bool:
    from auditor.parsers.nginx import parse_nginx

    with tempfile.TemporaryDirectory(prefix="fuzz-nginx") as folder:
        root = Path(folder)
        (root / "nginx").mkdir()
        (root / "nginx/nginx.conf").write_bytes(data)
        (root / "nginx/inc.conf").write_bytes(data[: len(data) // 2])  # something to include
        configs, problems, notes = parse_nginx(root, ["nginx/nginx.conf", "nginx/inc.conf"])
        assert isinstance(problems, list) and isinstance(notes, list)
        # the half-file include is usually broken on purpose; "modelled" is about the main file
        main_file_clean = not any(p.span.path == "nginx/nginx.conf" for p in problems)
        return _run_checks("nginx", configs) and main_file_clean


def fuzz_package_json(data: bytes) -> bool:
    from auditor.parsers.package_json import parse_lockfile, parse_package_json

    package, _ = parse_package_json(_text(data), "package.json")
    parse_lockfile(_text(data), "package-lock.json")
    return package is not None


def fuzz_next_config(data: bytes) -> bool:
    from auditor.parsers.nextjs import exported_methods, parse_next_config

    config, problems, _ = parse_next_config(data, "next.config.js")
    parse_next_config(data, "next.config.ts")
    exported_methods(data, "app/api/x/route.ts")
    return not problems


def fuzz_dockerignore(data: bytes) -> bool:
    from auditor.model.dockerignore import parse_dockerignore

    ignore = parse_dockerignore(_text(data), ".dockerignore")
    for name in (".env", "node_modules/x", ".git/HEAD", "src/app.ts"):
        ignore.excludes(name)
    return True


def fuzz_printable(data: bytes) -> bool:
    from auditor.textsafe import UNSAFE, display

    shown = display(_text(data))
    assert not UNSAFE.search(shown)
    return True


# Each returns whether the input got as far as a model the checks ran on (the fuzz run reports
# that share: inputs that never parse only exercise the error paths).
TARGETS: dict[str, Callable[[bytes], bool]] = {
    "dockerfile": fuzz_dockerfile,
    "compose": fuzz_compose,
    "kubernetes": fuzz_kubernetes,
    "nginx": fuzz_nginx,
    "package_json": fuzz_package_json,
    "next_config": fuzz_next_config,
    "dockerignore": fuzz_dockerignore,
    "printable": fuzz_printable,
}

_KIND_TO_TARGET = {"dockerfile": "dockerfile", "compose": "compose", "yaml": "kubernetes",
                   "nginx?": "nginx", "dockerignore": "dockerignore"}


def _target_for(path: Path) -> str | None:
    name = path.name
    if name in ("package.json", "package-lock.json"):
        return "package_json"
    if name.startswith("next.config") or name.startswith("route."):
        return "next_config"
    if path.parent.name in ("nginx", "conf.d") and name.endswith(".conf"):
        return "nginx"
    return _KIND_TO_TARGET.get(classify(name) or "") or (
        "dockerfile" if name.startswith("Dockerfile") else None)


def seeds(max_bytes: int = 64 * 1024) -> dict[str, list[bytes]]:
    """Seed inputs per target from the fixtures; every target gets at least one (empty) seed."""
    found: dict[str, list[bytes]] = {name: [b""] for name in TARGETS}
    for base in SEED_DIRS:
        for folder, _, files in os.walk(base):
            for name in sorted(files):
                path = Path(folder) / name
                target = _target_for(path)
                if target is None or path.is_symlink() or not path.is_file():
                    continue
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if len(data) <= max_bytes:
                    found[target].append(data)
    found["printable"] = found["dockerfile"][:20] + found["nginx"][:20]
    return found


# Tokens that matter to some parser: structure, continuations, heredocs, anchors, includes,
# substitutions, encodings. Mutations splice them in.
TOKENS = [b"{", b"}", b"[", b"]", b"(", b")", b";", b"\\\n", b"<<EOF\n", b"EOF\n", b"&a ", b"*a", b"<<: *a",
          b"!!python/object:os.system ", b"include ", b"include ../../x;", b"include *.conf;", b"${A}",
          b"${A:-${A}}", b"ARG A=${A}\n", b"FROM ", b"FROM $A AS b\n", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe",
          b"\r\n", b"\t", b"'", b'"', b"`", b"#", b"---\n", b"- ", b": ", b"\x1b[31m", "\u2028".encode(),
          b"module.exports = ", b"...", b"export const GET = ", b"location ~* ", b"add_header ", b"server {",
          b"apiVersion: v1\nkind: Pod\n", b"securityContext:", b"0x", b"1e999", b"-", b"null"]


def mutate(seed: bytes, operations: list[tuple[int, float, float, bytes]]) -> bytes:
    """Apply ``(kind, where, span, payload)`` edits; ``where``/``span`` are fractions of the length
    so the same operations make sense for any seed (what hypothesis shrinks)."""
    data = bytearray(seed)
    for kind, where, span, payload in operations:
        at = int(where * len(data))
        width = int(span * min(len(data), 4096))
        if kind == 0:  # insert bytes
            data[at:at] = payload
        elif kind == 1:  # delete a range
            del data[at:at + width]
        elif kind == 2:  # duplicate a range (repetition finds super-linear paths)
            data[at:at] = data[at:at + width] * (1 + len(payload) % 8)
        elif kind == 3 and data:  # flip one byte
            data[min(at, len(data) - 1)] ^= (payload[0] if payload else 0xFF) or 1
        elif kind == 4:  # insert a meaningful token
            data[at:at] = TOKENS[len(payload) % len(TOKENS)]
        elif len(payload) % 8 == 0:  # truncate, rarely: most inputs should stay mostly valid
            del data[at:]
    return bytes(data)


# Values a check might not expect where it reads a field: wrong types, extremes, odd strings.
ODD_VALUES: list[object] = [None, True, False, 0, -1, 2**63, 1.5, float("inf"), "", " ", "0", "true",
                            "ALL", "root", "0:0", "1001", "65536", "-1", "latest", "a" * 300, "${X}",
                            "{{ .Values.x }}", "\x1b[31m", "\u2028", [], {}, [None], {"": None},
                            [[[]]], {"a": {"b": {"c": None}}}, ["ALL", None, 3], "80:80", "1e3",
                            "100Mi", "0.5", "2G", "-2", "NaN", "/", "../..", "*"]


def structured_variant(seed: bytes, rng: random.Random, as_json: bool = False) -> bytes | None:
    """The seed's YAML/JSON tree with a few values or keys replaced by odd ones, dumped again:
    inputs that still parse, so the models and checks see wrong types, not just syntax errors."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(seed.decode("utf-8")))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    slots: list[tuple[object, object]] = []  # (container, key or index)

    def collect(node: object, depth: int) -> None:
        if depth > 30:
            return
        if isinstance(node, dict):
            for key in list(node):
                slots.append((node, key))
                collect(node[key], depth + 1)
        elif isinstance(node, list):
            for index in range(len(node)):
                slots.append((node, index))
                collect(node[index], depth + 1)

    for document in documents:
        collect(document, 0)
    if not slots:
        return None
    for _ in range(rng.randint(1, 4)):
        container, key = rng.choice(slots)
        value = copy.deepcopy(rng.choice(ODD_VALUES))
        try:
            if isinstance(container, dict) and rng.random() < 0.15 and key in container:
                container[str(rng.choice(ODD_VALUES))] = container.pop(key)  # odd key
            elif isinstance(container, (dict, list)):
                container[key] = value  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue
    try:
        if as_json:
            return json.dumps(documents[0] if documents else None).encode()
        return yaml.safe_dump_all(documents, allow_unicode=True).encode()
    except (ValueError, TypeError, yaml.YAMLError, RecursionError):
        return None


STRUCTURED = {"compose": False, "kubernetes": False, "package_json": True}
