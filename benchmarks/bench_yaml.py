#!/usr/bin/env python3
"""The YAML position builder against libyaml's own compose, on the YAML files of a tree.

    python benchmarks/bench_yaml.py /tmp/auditor-bench/corpus-1000-seed7
    python benchmarks/bench_yaml.py TREE --rounds 5 --against /work/main/auditor/parsers/yaml_loader.py

Prints the CPU seconds (best of ``--rounds``, interleaved, under the audit's garbage-collector
thresholds) of ``yaml.compose_all(..., Loader=CSafeLoader)`` (libyaml composing PyYAML's nodes
with its YAML 1.1 resolver), of the same with the auditor's loader class (no implicit resolvers),
and of ``load_yaml_documents`` (that compose plus the values and spans the checks read), and the
ratio of the last to the first. ``--against FILE`` times another ``yaml_loader.py`` too (a
checkout of main, say) in the same rounds. This is a benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from auditor.parallel import few_collections  # noqa: E402
from auditor.parsers import yaml_loader  # noqa: E402
from auditor.pyyaml import yaml  # noqa: E402


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("yaml_loader_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another yaml_loader.py to time in the same rounds")
    args = parser.parse_args(argv)
    files = sorted(path for pattern in ("*.yaml", "*.yml") for path in args.tree.rglob(pattern) if path.is_file())
    texts = [(path.read_text(encoding="utf-8", errors="replace"), path.as_posix()) for path in files]
    if not texts:
        print(f"no YAML files under {args.tree}")
        return 1

    def compose(loader: type) -> Callable[[], None]:
        def run() -> None:
            for text, _ in texts:
                for _node in yaml.compose_all(text, Loader=loader):
                    pass
        return run

    def load(module: ModuleType) -> Callable[[], None]:
        def run() -> None:
            for text, path in texts:
                module.load_yaml_documents(text, path)
        return run

    runs: dict[str, Callable[[], None]] = {
        "compose_all(CSafeLoader)": compose(yaml.CSafeLoader),
        "compose_all(auditor's loader)": compose(yaml_loader._Loader),
        "load_yaml_documents": load(yaml_loader),
    }
    if args.against:
        runs[f"load_yaml_documents of {args.against}"] = load(_module(args.against))
    timings: dict[str, list[float]] = {name: [] for name in runs}
    with few_collections():  # the thresholds a scan runs with
        for _ in range(args.rounds):
            for name, run in runs.items():
                gc.collect()
                started = time.process_time()
                run()
                timings[name].append(time.process_time() - started)
    base = min(timings["compose_all(CSafeLoader)"])
    print(f"{len(texts)} YAML files under {args.tree}; CPU seconds, best of {args.rounds} (all rounds):")
    for name, values in timings.items():
        print(f"  {name:45s} {min(values):6.3f} s  {min(values) / base:5.2f}x  "
              f"({' '.join(f'{value:.3f}' for value in values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
