#!/usr/bin/env python3
"""Wall time and peak memory of `auditor scan`, cold process included.

    python benchmarks/bench_scan.py                 # fixture + 1, 100, 1000-project corpora
    python benchmarks/bench_scan.py --runs 10 --sizes 1 100

Corpora come from ../shared/bench/gen_corpus.py (fixed seed) and are cached under
$TMPDIR/auditor-bench/. Each figure is the median of --runs runs of a fresh process, as a
pre-commit hook or a CI job would start it. External scanners are off (--no-external).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
SEED = 7


def corpus(projects: int) -> Path:
    target = Path(tempfile.gettempdir()) / "auditor-bench" / f"corpus-{projects}-seed{SEED}"
    if not (target / ".complete").is_file():
        if not GENERATOR.is_file():
            raise SystemExit(f"corpus generator not found at {GENERATOR}")
        subprocess.run([sys.executable, str(GENERATOR), "--projects", str(projects), "--out", str(target),
                        "--seed", str(SEED)], check=True, capture_output=True)
        (target / ".complete").write_text("ok")
    return target


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
               "wall = time.perf_counter() - start\n"
               "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True)
    wall, rss = out.stdout.split()
    return float(wall), float(rss)


def measure(label: str, command: list[str], runs: int) -> dict[str, float | str]:
    timed(command)  # warm the page cache and the rule cache; not counted
    samples = [timed(command) for _ in range(runs)]
    return {"label": label, "median_s": statistics.median(s[0] for s in samples),
            "min_s": min(s[0] for s in samples), "peak_rss_mib": max(s[1] for s in samples)}


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000])
    args = parser.parse_args()
    # An installed wheel ships compiled bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would recompile every module on each start, which is not what users pay.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "auditor")], check=True,
                   stdout=subprocess.DEVNULL)
    auditor = [sys.executable, "-m", "auditor"]
    rows = [measure("auditor --version", auditor + ["--version"], args.runs),
            measure("auditor --help", auditor + ["--help"], args.runs),
            measure("fixtures/compliant", auditor + ["scan", str(REPO / "fixtures" / "compliant"), "--no-external",
                                                     "--format", "json", "-o", os.devnull], args.runs)]
    files_per_second = {}
    for size in args.sizes:
        root = corpus(size)
        row = measure(f"corpus {size} project(s)", auditor + ["scan", str(root), "--no-external", "--fail-on", "none",
                                                             "--format", "json", "-o", os.devnull], args.runs)
        files_per_second[size] = count_files(root) / float(row["median_s"])
        row["files_per_s"] = files_per_second[size]
        rows.append(row)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    print(f"{'what':<28}{'median':>10}{'min':>10}{'peak RSS':>12}{'files/s':>10}")
    for row in rows:
        rate = f"{row['files_per_s']:.0f}" if "files_per_s" in row else ""
        print(f"{row['label']:<28}{row['median_s'] * 1000:>8.0f}ms{row['min_s'] * 1000:>8.0f}ms"
              f"{row['peak_rss_mib']:>9.0f}MiB{rate:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
