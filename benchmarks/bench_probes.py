#!/usr/bin/env python3
"""The resource probes of issue 11 (attack 8, "exhaust the machine"): build each hostile input in a
temporary folder, run the real CLI on it in a fresh process, and print wall time and peak memory
next to the targets (<= 10 s, <= 500 MB on 2 cores).

    python benchmarks/bench_probes.py            # every probe
    python benchmarks/bench_probes.py pods jobs  # some of them (names as printed)
    python benchmarks/bench_probes.py yaml-ratio # the YAML position builder against libyaml's compose

``CPU s`` is the scan's user plus system time (all its processes): under a loaded machine the
wall time says little, the CPU time what the scan itself costs. Memory is measured two ways: ``max RSS`` is the largest single process of the scan
(``getrusage(RUSAGE_CHILDREN)`` in a wrapper process of its own, so probes do not mix), ``tree RSS``
is the sum over the scan's whole process tree sampled every 20 ms from /proc (what matters when the
scan forks workers), with the most processes seen alive at once. This is a benchmark, not a test:
it asserts nothing, it reports.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 10.0
LIMIT_MB = 500.0
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "max_rss_kb": usage.ru_maxrss, "exit": done.returncode,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "stderr": done.stderr.decode("utf-8", "replace")[:400]}))
"""


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --- the probes: each builds its tree and returns the extra CLI arguments ------------------------------


def suppression_spaces(root: Path) -> list[str]:
    """A suppression comment with 40,000 spaces (the quadratic regex took 125 s)."""
    _write(root, "Dockerfile", "FROM node:20-alpine\n# auditor: ignore=DF008" + " " * 40_000
           + 'reason="root for apk"\nUSER root\n')
    return []


def nginx_globs(root: Path) -> list[str]:
    """2,001 nginx files, each `include *.conf;` (404 s and 684 MB before)."""
    for index in range(2_001):
        _write(root, f"nginx/site{index:04d}.conf", f"# site {index}\ninclude *.conf;\n")
    return []


def pods(root: Path) -> list[str]:
    """Three files of 15,000 minimal Pods each (457 s and 1.9 GB before; KS012 scanned every object
    for every workload)."""
    for number in range(3):
        documents = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{number}-{index}\nspec:\n"
                     "  containers:\n  - name: c\n    image: x\n" for index in range(15_000)]
        _write(root, f"k8s/pods{number}.yaml", "---\n".join(documents))
    return []


def jobs_tree_config(root: Path) -> list[str]:
    """`jobs: 300` in the tree's own .auditor.yaml (forked 302 processes before): now refused."""
    _many_projects(root)
    _write(root, ".auditor.yaml", "jobs: 300\n")
    return []


def jobs_flag(root: Path) -> list[str]:
    """`--jobs 300` on a tree large enough to take the process pool: clamped to the CPUs."""
    _many_projects(root)
    return ["--jobs", "300"]


def _many_projects(root: Path) -> None:
    for app in range(40):
        _write(root, f"app{app:02d}/Dockerfile", "FROM node:20-alpine\nUSER 1001\n")
        _write(root, f"app{app:02d}/docker-compose.yml", "services:\n  web:\n    build: .\n")
        for index in range(12):
            _write(root, f"app{app:02d}/src/f{index}.js", "module.exports = 1;\n")


def baseline_over_cap(root: Path) -> list[str]:
    """A real baseline just over the size cap (a 187 MB one took 70 s and 1 GB): refused unread."""
    from auditor.baseline import MAX_BASELINE_BYTES

    _write(root, "tree/Dockerfile", "FROM node:20-alpine\nUSER 1001\n")
    path = _baseline(root / "baseline.json", MAX_BASELINE_BYTES + 1024 * 1024)
    (root / "tree" / "x").write_text("")
    return ["--baseline", str(path), "@tree"]


def baseline_under_cap(root: Path) -> list[str]:
    """A real baseline just under the size cap: read, validated and compared."""
    from auditor.baseline import MAX_BASELINE_BYTES

    _write(root, "tree/Dockerfile", "FROM node:latest\n")
    path = _baseline(root / "baseline.json", MAX_BASELINE_BYTES - 1024 * 1024)
    return ["--baseline", str(path), "@tree"]


def _baseline(path: Path, size: int) -> Path:
    entry = ('    {{"fingerprint": "{:032x}", "rule_id": "DF008", "file": "svc/Dockerfile", "line": 12, '
             '"message": "final stage 0 has no USER, so the container runs as root"}}')
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"version": 1, "tool": {"name": "auditor", "version": "0.1.0"}, "findings": [\n')
        written, index = 0, 0
        while written < size:
            line = entry.format(index) + ",\n"
            handle.write(line)
            written += len(line)
            index += 1
        handle.write(entry.format(index) + "\n]}\n")
    return path


def dockerfile_1mb_line(root: Path) -> list[str]:
    """A Dockerfile padded with a one-megabyte comment line (exit 0 "OK" before): AUD003."""
    _write(root, "Dockerfile", "FROM node:20-alpine\nUSER 1001\n#" + "x" * 1024 * 1024 + "\n")
    return []


def dockerfile_1mb_lines(root: Path) -> list[str]:
    """A Dockerfile padded with one megabyte of comment lines: checked in full."""
    _write(root, "Dockerfile", "FROM node:20-alpine\nUSER 1001\n" + "# padding padding padding\n" * 40_000)
    return []


def dockerfile_over_cap(root: Path) -> list[str]:
    """A Dockerfile padded to 6 MB, over the 5 MB size cap: AUD003, the gate fails."""
    _write(root, "Dockerfile", "FROM node:20-alpine\nUSER 1001\n" + "# padding padding padding\n" * 240_000)
    return []


PROBES: dict[str, Callable[[Path], list[str]]] = {
    "suppression": suppression_spaces, "nginx": nginx_globs, "pods": pods,
    "jobs-config": jobs_tree_config, "jobs": jobs_flag, "baseline-over-cap": baseline_over_cap,
    "baseline-under-cap": baseline_under_cap, "dockerfile-1mb-line": dockerfile_1mb_line,
    "dockerfile-1mb-lines": dockerfile_1mb_lines, "dockerfile-6mb": dockerfile_over_cap,
}


# --- measuring ------------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _tree_rss(root_pid: int) -> tuple[int, int]:
    """(bytes of RSS summed over the process tree below ``root_pid``, number of processes)."""
    tree, pending, total, count = _children(), list(_children().get(root_pid, [])), 0, 0
    while pending:
        pid = pending.pop()
        pending.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
            count += 1
        except OSError:
            continue
    return total, count


def run_probe(name: str, build: Callable[[Path], list[str]]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"probe-{name}-") as folder:
        root = Path(folder)
        args = build(root)
        target = root
        if "@tree" in args:
            args = [a for a in args if a != "@tree"]
            target = root / "tree"
        report = root / "report.json"
        command = [sys.executable, "-m", "auditor", "scan", str(target), "--no-external",
                   "--format", "json", "-o", str(report), *args]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        wrapper = subprocess.Popen([sys.executable, "-c", _WRAPPER, *command], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak, processes = 0, 0
        while wrapper.poll() is None:
            rss, count = _tree_rss(wrapper.pid)
            peak, processes = max(peak, rss), max(processes, count)
            time.sleep(0.02)
        out, err = wrapper.communicate()
        result = json.loads(out.decode() or "{}") if wrapper.returncode == 0 else {"error": err.decode()[-400:]}
        result["found"] = _summary(report)
    result.update(name=name, tree_rss_mb=peak / 1024 / 1024, processes=processes,
                  max_rss_mb=float(result.get("max_rss_kb", 0)) / 1024)
    return result


def _summary(report: Path) -> str:
    """What the scan reported: findings, and how many files it could not check (AUD003) — under a
    heavy load a huge file can run out of its parse-time budget, which changes the figures."""
    try:
        findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    except (OSError, ValueError, KeyError):
        return ""
    not_checked = sum(1 for f in findings if f["rule_id"] == "AUD003")
    return f"{len(findings):,} findings" + (f", {not_checked} AUD003" if not_checked else "")


def yaml_ratio() -> None:
    """CPU seconds of ``load_yaml_documents`` (libyaml's compose plus the position builder) against
    ``yaml.compose_all(..., Loader=CSafeLoader)`` alone, on one file of the pods probe (15,000
    documents), best of three each, interleaved; the issue's target is "close to libyaml's own
    compose cost"."""
    import gc

    import yaml

    from auditor.parallel import few_collections
    from auditor.parsers.yaml_loader import load_yaml_documents

    text = "---\n".join(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p0-{index}\nspec:\n"
                        "  containers:\n  - name: c\n    image: x\n" for index in range(15_000))
    compose: list[float] = []
    builder: list[float] = []
    with few_collections():  # the thresholds a scan runs with
        for _ in range(3):
            for timings, run in ((compose, lambda: list(yaml.compose_all(text, Loader=yaml.CSafeLoader))),
                                 (builder, lambda: load_yaml_documents(text, "pods.yaml"))):
                gc.collect()
                started = time.process_time()
                run()
                timings.append(time.process_time() - started)
    print(f"yaml-ratio: compose_all(CSafeLoader) {min(compose):.2f} s, load_yaml_documents {min(builder):.2f} s "
          f"CPU for 15,000 documents: {min(builder) / min(compose):.2f}x libyaml's compose")


def main(argv: list[str]) -> int:
    if "yaml-ratio" in argv:
        yaml_ratio()
        argv = [name for name in argv if name != "yaml-ratio"]
        if not argv:
            return 0
    names = argv or list(PROBES)
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        print(f"unknown probe(s): {', '.join(unknown)}; choose from {', '.join(PROBES)}", file=sys.stderr)
        return 2
    print(f"{'probe':22} {'exit':>4} {'wall s':>8} {'CPU s':>6} {'max RSS MB':>11} {'tree RSS MB':>12} {'procs':>5}  "
          f"<=10 s  <=500 MB  what the scan said")
    for name in names:
        result = run_probe(name, PROBES[name])
        seconds = float(result.get("seconds", float("nan")))  # type: ignore[arg-type]
        memory = max(float(result["max_rss_mb"]), float(result["tree_rss_mb"]))  # type: ignore[arg-type]
        said = str(result.get("stderr", "") or result.get("error", "")).strip().splitlines() or [str(result["found"])]
        cpu = float(result.get("cpu_seconds", float("nan")))  # type: ignore[arg-type]
        print(f"{name:22} {result.get('exit', '?'):>4} {seconds:8.2f} {cpu:6.2f} {float(result['max_rss_mb']):11.0f} "  # type: ignore[arg-type]
              f"{float(result['tree_rss_mb']):12.0f} {result['processes']:>5}  "  # type: ignore[arg-type]
              f"{'yes' if seconds <= LIMIT_SECONDS else 'NO':>6}  {'yes' if memory <= LIMIT_MB else 'NO':>8}  "
              f"{said[0][:70] if said else ''}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
