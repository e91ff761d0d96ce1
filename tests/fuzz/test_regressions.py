"""Inputs the long fuzz run (run_fuzz.py) found crashing, kept as plain regression tests."""
from __future__ import annotations

import pytest

from tests.fuzz.targets import TARGETS

FOUND = [
    # `.inf` (YAML's infinity) or a 400-digit size as a memory limit: int(inf) raised
    # OverflowError in auditor/model/compose.py parse_memory, under DC005
    ("compose", b"services:\n  app:\n    build: .\n    deploy:\n      resources:\n        limits:\n"
                b"          cpus: .inf\n          memory: .inf\n  web:\n    image: x\n    mem_limit: "
     + b"9" * 400 + b"g\n    cpus: .nan\n"),
    # tree-sitter node text is bytes; non-UTF-8 in a string literal or a key raised
    # UnicodeDecodeError in auditor/parsers/nextjs.py (parse_next_config takes raw bytes)
    ("next_config", b"module.exports = {headers: '\xa1', '\x8f': 1, \xa1x: 2};\n"),
    ("next_config", b"export const GET\x8f = 1; export function \xa1() {}\n"),
    # ARG values that double at each step (2**40 characters) exhausted memory in
    # auditor/parsers/dockerfile.py substitute_args
    ("dockerfile", b"ARG A0=xxxxxxxx\n" + b"".join(b"ARG A%d=${A%d}${A%d}\n" % (i, i - 1, i - 1) for i in range(1, 40))
     + b"FROM ${A39}\n"),
    # aliases of aliases: the Kubernetes helm-template walk expanded 9**10 nodes
    ("kubernetes", b"apiVersion: v1\nkind: ConfigMap\na0: &a0 [x, x, x, x, x, x, x, x, x]\n"
     + b"".join(b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 9)) for i in range(1, 10))),
]


@pytest.mark.parametrize("target, data", FOUND, ids=[f"{t}-{i}" for i, (t, _) in enumerate(FOUND)])
def test_fuzz_finding_stays_fixed(target: str, data: bytes) -> None:
    TARGETS[target](data)
