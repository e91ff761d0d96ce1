#!/usr/bin/env python3
"""Where a scan's time or memory goes: the profile behind an unmet row of bench_scan.py.

    python benchmarks/profile_scan.py TREE                 # CPU: phases and the top functions (cProfile)
    python benchmarks/profile_scan.py TREE --jobs 2        # the main process only (workers are not profiled)
    python benchmarks/profile_scan.py TREE --memory        # tracemalloc: what the main process holds at the end
    python benchmarks/profile_scan.py TREE --jobs 2 --second   # a second scan of the unchanged tree (row e)
    python benchmarks/profile_scan.py TREE -- -q FILE      # other `auditor scan` arguments after --

Runs `auditor scan TREE --no-external --format json -o /dev/null --fail-on none` in this process
(default --jobs 1, so parsing and checks are profiled too) with a fresh cache folder of its own,
and prints the cumulative time of the phases (discovery, parsing, checks, the report) and the top
entries by cumulative and by own time. cProfile slows Python-level code more than C code, so
read the shares, not the seconds. With --memory it prints the peak traced memory and the 15 source
lines holding the most memory when the scan's result is complete (before the report is written).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# (label, file suffix, function): the phases a scan goes through; a name that a refactoring
# removed shows as "-".
PHASES = [
    ("whole run (cli.main)", "auditor/cli.py", "main"),
    ("discovery", "auditor/discovery.py", "discover"),
    ("parsing (build_project)", "auditor/parsers/project.py", "build_project"),
    ("checks (run_checks)", "auditor/engine.py", "run_checks"),
    ("audit: suppressions, baseline, stamping (engine.audit)", "auditor/engine.py", "audit"),
    ("report (scan._render)", "auditor/commands/scan.py", "_render"),
    ("imports (_find_and_load)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("dataclass creation (dataclasses._process_class)", "dataclasses.py", "_process_class"),
    ("regex compilation (re._compile)", "re/__init__.py", "_compile"),
]


def scan_arguments(tree: str, jobs: int, extra: list[str]) -> list[str]:
    return ["scan", tree, "--no-external", "--format", "json", "-o", os.devnull, "--fail-on", "none",
            "--jobs", str(jobs), *extra]


def cpu(arguments: list[str], top: int) -> None:
    from auditor.cli import main

    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(main, arguments)
    wall = time.perf_counter() - started
    stats = pstats.Stats(profile)
    table = stats.stats  # type: ignore[attr-defined]
    whole = max((entry[3] for key, entry in table.items() if key[0].endswith("auditor/cli.py") and key[2] == "main"),
                default=wall)
    print(f"wall under the profiler: {wall:.2f} s")
    print(f"{'phase':<58}{'cumulative':>12}{'share':>8}")
    for label, suffix, function in PHASES:
        found = [entry[3] for key, entry in table.items() if key[0].endswith(suffix) and key[2] == function]
        if not found:
            print(f"{label:<58}{'-':>12}")
            continue
        seconds = max(found)
        print(f"{label:<58}{seconds:>10.2f} s{seconds / whole:>7.0%}")
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profile, stream=buffer).strip_dirs().sort_stats(order).print_stats(top)
        lines = buffer.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
        print(f"\ntop {top} by {order}:")
        print("\n".join(lines[start:start + top + 1]))


def memory(arguments: list[str], top: int) -> None:
    import tracemalloc

    from auditor.cli import build_parser
    from auditor.commands import scan

    args = build_parser().parse_args(arguments)
    tracemalloc.start(1)
    result, config = scan.prepare(args)
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    print(f"traced memory with the result complete: {current / 1e6:.0f} MB; peak until then: {peak / 1e6:.0f} MB "
          "(Python allocations of the main process only; workers are not traced)")
    tracemalloc.reset_peak()
    formats = scan.parse_formats(args.formats, args.output)
    threshold = args.fail_on or config.fail_on or "high"
    writer = getattr(scan, "_write_reports", None)  # the scan's own output flow, where it still has that name
    if writer is not None:
        writer(result, formats, threshold, args)
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak while the JSON report was written: {peak / 1e6:.0f} MB")
    tracemalloc.stop()
    print(f"top {top} source lines by memory held once the result is complete:")
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        name = frame.filename.split("site-packages/")[-1].replace(str(REPO) + "/", "")
        print(f"  {stat.size / 1e6:8.1f} MB {stat.count:>9} blocks  {name}:{frame.lineno}")
    del result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="tracemalloc instead of cProfile")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--second", action="store_true",
                        help="profile a second scan of the unchanged tree (row e): the same scan runs once "
                             "first, unprofiled, in its own process, to fill the cache folder")
    parser.add_argument("extra", nargs="*", help="more `auditor scan` arguments (after --)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="auditor-profile-cache-")
    os.environ["XDG_CACHE_HOME"] = folder
    os.environ["AUDITOR_CACHE_DIR"] = os.path.join(folder, "auditor")
    sys.path.insert(0, str(REPO))
    # the rule catalog's cache, as an installed auditor has it after its first run (bench_scan.CacheFolder)
    subprocess.run([sys.executable, "-m", "auditor", "rules"], check=True, stdout=subprocess.DEVNULL, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        arguments = scan_arguments(args.tree, args.jobs, args.extra)
        if args.second:
            subprocess.run([sys.executable, "-m", "auditor", *arguments], check=True, stdout=subprocess.DEVNULL,
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        if args.memory:
            memory(arguments, args.top)
        else:
            cpu(arguments, args.top)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
