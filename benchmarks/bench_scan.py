#!/usr/bin/env python3
"""Issue 16's targets for `auditor scan` alone, each printed as a ratio measured in the same run.

    python benchmarks/bench_scan.py                    # rows a-e (about 6-10 minutes on 2 cores)
    python benchmarks/bench_scan.py --rows d c --runs 15
    python benchmarks/bench_scan.py --classic          # the older table: --version, --help, fixture, corpora

Rows (row f, the peers, is benchmarks/bench_peers.py):

  a  1,000 projects, all checks, --jobs 2   /  the parse-only floor, 2 workers (benchmarks/floor.py)  <= 2.0x
  b  peak memory of the whole process tree (main + workers, summed), 1,000 and 4,000 projects  <= 150 MB
  c  one changed file in a 100-project git repository (pre-commit)  /  1-project cold scan        <= 1.3x
  d  1 project cold, --no-external  /  `python -c pass`                                          <= 8x
  e  second scan of an unchanged 1,000-project tree  /  first scan (fresh cache folder)          <= 0.2x

Every figure is a fresh process, as a pre-commit hook or a CI job starts it. The two sides of a
ratio are interleaved (A B, B A, A B, ...) after one uncounted warm-up run of each, so a burst of
load on a shared machine hits both alike; each side is the median of --runs runs. The machine's
load (`uptime`) is printed with the figures. Rows a-d are cold: each run gets a fresh cache folder
of the benchmark's own holding only the rule catalog's cache (see CacheFolder); row e measures
the incremental cache. Row b samples memory from /proc every 20 ms over the scan's whole process tree, in runs of
its own (the sampling thread costs a little CPU, so timed runs do not sample).

Corpora come from ../shared/bench/gen_corpus.py (fixed seed) and are cached under
$TMPDIR/auditor-bench/ (delete a folder to regenerate it).
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
FLOOR = Path(__file__).resolve().parent / "floor.py"
SEED = 7
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
SAMPLE_SECONDS = 0.02


def corpus(projects: int) -> Path:
    target = Path(tempfile.gettempdir()) / "auditor-bench" / f"corpus-{projects}-seed{SEED}"
    if not (target / ".complete").is_file():
        if not GENERATOR.is_file():
            raise SystemExit(f"corpus generator not found at {GENERATOR}")
        subprocess.run([sys.executable, str(GENERATOR), "--projects", str(projects), "--out", str(target),
                        "--seed", str(SEED)], check=True, capture_output=True)
        (target / ".complete").write_text("ok")
    return target


# --- one run: wall time and the memory of the whole process tree --------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds of the process and every descendant it waited for (its workers)
    tree_rss: float  # MiB, peak of the sum of RSS over the process tree (shared pages counted per process)
    tree_pss: float  # MiB, peak of the sum of PSS (shared pages divided among the processes sharing them)
    largest: float  # MiB, peak RSS of the largest single process
    processes: int  # most processes alive at once


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        pids.extend(_children(pids[index]))
        index += 1
    return pids


def _memory(pid: int) -> tuple[float, float]:
    """RSS and PSS of one process in MiB (0, 0 when it is gone)."""
    rss = pss = 0.0
    try:
        with open(f"/proc/{pid}/statm") as handle:
            rss = int(handle.read().split()[1]) * PAGE / MIB
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def run_once(command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
             ok_codes: frozenset[int] = frozenset({0}), sample_memory: bool = False) -> Run:
    """Start ``command``, wait for it, and check the exit code (a tool that fails fast would look
    fast). With ``sample_memory``, a thread samples its process tree every 20 ms until it exits
    (that costs the machine a little CPU, so timed runs do not sample)."""
    peak = {"rss": 0.0, "pss": 0.0, "largest": 0.0, "procs": 0}
    started = time.perf_counter()
    child = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, **(env or {})}, cwd=cwd)
    if not sample_memory:
        code, cpu, stderr = _wait(child)
        wall = time.perf_counter() - started
        _check(command, code, stderr, ok_codes)
        return Run(wall, cpu, 0.0, 0.0, 0.0, 0)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = _tree(child.pid)
            figures = [_memory(pid) for pid in pids]
            alive = [f for f in figures if f[0] > 0]
            peak["rss"] = max(peak["rss"], sum(f[0] for f in alive))
            peak["pss"] = max(peak["pss"], sum(f[1] for f in alive))
            peak["largest"] = max(peak["largest"], max((f[0] for f in alive), default=0.0))
            peak["procs"] = max(peak["procs"], len(alive))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code, cpu, stderr = _wait(child)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    _check(command, code, stderr, ok_codes)
    return Run(wall, cpu, peak["rss"], peak["pss"], peak["largest"], int(peak["procs"]))


def _wait(child: subprocess.Popen[bytes]) -> tuple[int, float, bytes]:
    """The exit code, the CPU seconds (user + system) of the child and of every descendant it
    waited for (a pool's workers: Linux's wait4 reports the child's own and its reaped children's
    usage), and what it wrote on standard error."""
    stream = child.stderr
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(stream.read() if stream else b""), daemon=True)
    reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if stream:
        stream.close()
    return child.returncode, usage.ru_utime + usage.ru_stime, b"".join(chunks)


def _check(command: Sequence[str], code: int, stderr: bytes, ok_codes: frozenset[int]) -> None:
    if code not in ok_codes:
        raise SystemExit(f"{' '.join(command)} failed (exit {code}):\n{stderr.decode('utf-8', 'replace')[-1200:]}")


@dataclass
class Side:
    """One side of a ratio: a command line and its runs."""

    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    ok_codes: frozenset[int] = frozenset({0})
    runs: list[Run] = field(default_factory=list)
    before: Callable[[], None] | None = None  # called before each run (row e: a fresh cache folder)
    sample_memory: bool = False

    def once(self) -> Run:
        if self.before is not None:
            self.before()
        return run_once(self.command, env=self.env, cwd=self.cwd, ok_codes=self.ok_codes,
                        sample_memory=self.sample_memory)

    @property
    def median(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(run.cpu for run in self.runs)

    def describe(self) -> str:
        walls = [run.wall for run in self.runs]
        return (f"{self.label}: median {_seconds(self.median)} (min {_seconds(min(walls))}, "
                f"max {_seconds(max(walls))}, {len(walls)} runs); CPU (user+sys, workers included) "
                f"median {_seconds(self.cpu)}")


def cpu_ratio(first: Side, second: Side) -> str:
    """The same ratio in CPU time: steadier than wall time when the machine is shared, though it
    does not see how well two workers overlap."""
    return (f"in CPU time (user+sys, workers included): {_seconds(first.cpu)} / {_seconds(second.cpu)} = "
            f"{first.cpu / second.cpu:.2f}x")


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def interleave(sides: Sequence[Side], runs: int, warm_up: bool = True) -> None:
    """One uncounted warm-up run of each side (page cache, bytecode), then ``runs`` rounds, the
    order alternating from round to round."""
    if warm_up:
        for side in sides:
            side.once()
    for round_index in range(runs):
        order = list(sides) if round_index % 2 == 0 else list(reversed(sides))
        for side in order:
            side.runs.append(side.once())
        print(f"    round {round_index + 1}/{runs}", file=sys.stderr, flush=True)


# --- the rows ----------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    what: str
    against: str
    measured: float
    unit: str  # "x" (a ratio) or "MB"
    target: float
    at_most: bool = True  # the target is a ceiling (<=), else a floor (>=)
    detail: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.measured <= self.target if self.at_most else self.measured >= self.target

    def figure(self) -> str:
        return f"{self.measured:.2f}x" if self.unit == "x" else f"{self.measured:.0f} MB"

    def goal(self) -> str:
        sign = "<=" if self.at_most else ">="
        return f"{sign} {self.target:g}x" if self.unit == "x" else f"{sign} {self.target:g} MB"


def auditor_command(*arguments: str) -> list[str]:
    """What a user runs: the ``auditor`` console script beside this interpreter (pre-commit and CI
    call it so), else ``python -m auditor`` (which also pays for runpy). Either imports this
    checkout's code: see _checkout_env."""
    script = Path(sys.executable).parent / "auditor"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), *arguments]
    return [sys.executable, "-m", "auditor", *arguments]


# Another checkout's code (--compare) runs through its own ``auditor.cli.main``: the console script
# beside this interpreter names this checkout's entry point, which an older checkout may not have.
_OTHER_CHECKOUT = "import sys; sys.argv[0] = 'auditor'; from auditor.cli import main; sys.exit(main())"


def checkout_command(checkout: Path, *arguments: str) -> list[str]:
    """``auditor_command`` for this checkout, the same call of ``main`` for another one."""
    if checkout.resolve() == REPO.resolve():
        return auditor_command(*arguments)
    # -P: `python -c` would put the working folder (this checkout) first on the path, before PYTHONPATH
    return [sys.executable, "-P", "-c", _OTHER_CHECKOUT, *arguments]


def _checkout_env(**extra: str) -> dict[str, str]:
    """The environment for an auditor process: this checkout first on the path, whatever the
    virtualenv's editable install points at."""
    return {"PYTHONPATH": str(REPO), **extra}


class CacheFolder:
    """A cache folder of the benchmark's own (``XDG_CACHE_HOME`` and ``AUDITOR_CACHE_DIR``; the
    user's is never touched), emptied before every cold run except for the rule catalog's cache.

    That is the state of an installed auditor that has run once, on another tree: the validated
    rule catalog is cached (``auditor rules`` writes it; ``AUDITOR_NO_CACHE=1`` would turn it off
    and make every run validate the 79 rule files with jsonschema, which no user pays twice), and
    nothing of the tree being scanned is in the incremental cache."""

    def __init__(self, other_checkouts: Sequence[Path] = ()) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="auditor-bench-cache-"))
        self.folder = self.base / "cache"
        self.seed = self.base / "seed"
        self._used = itertools.count()
        self.env = _checkout_env(XDG_CACHE_HOME=str(self.folder), AUDITOR_CACHE_DIR=str(self.folder))
        self.folder.mkdir()
        for checkout in [REPO, *other_checkouts]:  # each checkout's rule files have their own cache entry
            subprocess.run(checkout_command(checkout, "rules"), env={**os.environ, **self.env, "PYTHONPATH": str(checkout)},
                           cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        shutil.copytree(self.folder, self.seed)

    def fresh(self) -> None:
        """The folder as the seed left it. The last run's folder is moved aside, and removed with
        the benchmark's (``remove``): removed here, its tens of megabytes would be freed just
        before the timed run, and on a file system mounted with ``discard`` (this machine's ext4)
        the freed blocks are trimmed while that run creates its entries, which no user's scan
        pays (a cold run follows another tree's run, not the deletion of a cache)."""
        if self.folder.exists():
            self.folder.rename(self.base / f"used-{next(self._used)}")
        shutil.copytree(self.seed, self.folder)

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file()) - sum(
            f.stat().st_size for f in self.seed.rglob("*") if f.is_file())

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def cold_side(label: str, command: list[str], cache: CacheFolder, cwd: Path = REPO) -> Side:
    """A side whose every run starts from a fresh cache folder (see CacheFolder); exit 1
    (findings at the threshold) counts as a finished run."""
    return Side(label, command, env=cache.env, cwd=cwd, before=cache.fresh, ok_codes=frozenset({0, 1}))


@contextmanager
def cold_cache(other_checkouts: Sequence[Path] = ()) -> Iterator[CacheFolder]:
    cache = CacheFolder(other_checkouts)
    try:
        yield cache
    finally:
        cache.remove()


def _scan_1000_or_more(root: Path, cache: CacheFolder, label: str, sample_memory: bool = False) -> Side:
    return Side(label, auditor_command("scan", str(root), "--no-external", "--format", "json", "-o", os.devnull,
                                       "--fail-on", "none", "--jobs", "2"),
                env=cache.env, cwd=REPO, sample_memory=sample_memory, before=cache.fresh)


def row_a(runs: int) -> list[Row]:
    root = corpus(1000)
    with cold_cache() as cache:
        scan = _scan_1000_or_more(root, cache, "auditor scan, 1,000 projects, --jobs 2")
        floor = Side("parse-only floor (benchmarks/floor.py), --jobs 2",
                     [sys.executable, str(FLOOR), str(root), "--jobs", "2"], env=cache.env, cwd=REPO)
        print(f"  row a: {root}", file=sys.stderr)
        interleave([scan, floor], runs)
    return [Row("a", "1,000 projects, all checks, --jobs 2", "parse-only floor, 2 workers",
                scan.median / floor.median, "x", 2.0,
                detail=[scan.describe(), floor.describe(), cpu_ratio(scan, floor)])]


def row_b(runs: int, large: int) -> list[Row]:
    rows = []
    with cold_cache() as cache:
        for size in (1000, large):
            side = _scan_1000_or_more(corpus(size), cache, f"auditor scan, {size:,} projects, --jobs 2",
                                      sample_memory=True)
            print(f"  row b: {corpus(size)}", file=sys.stderr)
            interleave([side], runs, warm_up=False)
            rss = [run.tree_rss for run in side.runs]
            pss = [run.tree_pss for run in side.runs]
            rows.append(Row("b", f"peak memory of the process tree, {size:,} projects", "-", max(rss) * MIB / 1e6,
                            "MB", 150.0, detail=[
                                f"{size:,} projects: sum of RSS over the tree (the figure, in MB above), MiB: "
                                f"median {statistics.median(rss):.0f}, max {max(rss):.0f}; shared copy-on-write "
                                f"pages of forked workers count once per process",
                                f"{size:,} projects: sum of PSS (shared pages divided), MiB: median "
                                f"{statistics.median(pss):.0f}, max {max(pss):.0f}",
                                f"{size:,} projects: largest single process {max(r.largest for r in side.runs):.0f} "
                                f"MiB; processes at once: {max(r.processes for r in side.runs)}; {len(rss)} runs; "
                                f"wall median {_seconds(side.median)} (sampled every 20 ms)"]))
    return rows


def _git(repo: Path, *arguments: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c",
                    "commit.gpgsign=false", "-c", "init.defaultBranch=main", *arguments], cwd=repo, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _git_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".complete"))
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "corpus")
    return target


def row_c(runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="auditor-bench-git-") as scratch, cold_cache() as cache:
        big = _git_copy(corpus(100), Path(scratch) / "repo100")
        small = _git_copy(corpus(1), Path(scratch) / "repo1")
        projects = sorted(p for p in big.iterdir() if p.is_dir() and not p.name.startswith("."))
        project = projects[len(projects) // 2]
        changed = project / "Dockerfile"
        with open(changed, "a", encoding="utf-8") as handle:
            handle.write("# changed by the benchmark: an unstaged edit pre-commit would pass\n")
        relative = changed.relative_to(big).as_posix()
        precommit = cold_side(f"pre-commit: auditor scan -q --no-external {relative} (100-project git repository)",
                              auditor_command("scan", "-q", "--no-external", relative), cache, big)
        cold = cold_side("auditor scan -q --no-external . (1-project git repository)",
                         auditor_command("scan", "-q", "--no-external", "."), cache, small)
        whole = cold_side("for scale: auditor scan -q --no-external . (the whole 100-project repository)",
                          auditor_command("scan", "-q", "--no-external", "."), cache, big)
        print(f"  row c: {relative} in {big}", file=sys.stderr)
        interleave([precommit, cold, whole], runs)
    return [Row("c", "one changed file, 100-project git repository (pre-commit)", "1-project cold scan",
                precommit.median / cold.median, "x", 1.3,
                detail=[precommit.describe(), cold.describe(), whole.describe(), cpu_ratio(precommit, cold)])]


def row_d(runs: int, compare: Path | None = None) -> list[Row]:
    root = corpus(1)
    with cold_cache([compare] if compare else []) as cache:
        scan = cold_side("auditor scan CORPUS-1 --no-external (text report)",
                         auditor_command("scan", str(root), "--no-external"), cache)
        bare = Side("python -c pass (same interpreter)", [sys.executable, "-c", "pass"], cwd=REPO)
        version = Side("for scale: auditor --version", auditor_command("--version"), env=cache.env, cwd=REPO)
        sides = [scan, bare, version]
        if compare is not None:  # the same scan with another checkout's code, in the same rounds
            other = cold_side(f"the same scan with the code of {compare}",
                              checkout_command(compare, "scan", str(root), "--no-external"), cache)
            other.env = {**cache.env, "PYTHONPATH": str(compare)}
            sides.append(other)
        print(f"  row d: {root}", file=sys.stderr)
        interleave(sides, runs)
        detail = [side.describe() for side in sides] + [cpu_ratio(scan, bare)]
        if compare is not None:
            detail.append(f"with the code of {compare}: {sides[3].median / bare.median:.2f}x python -c pass")
        detail += instruction_counts(sides[:2] + sides[3:], cache)
    return [Row("d", "1 project cold, --no-external", "python -c pass", scan.median / bare.median, "x", 8.0,
                detail=detail)]


def instruction_counts(sides: Sequence[Side], cache: CacheFolder) -> list[str]:
    """Each side's instructions in one run under valgrind's callgrind, when valgrind is installed:
    the same count whatever else the machine is doing (with PYTHONHASHSEED fixed), so a change to
    start-up can be judged on a shared machine, where wall and CPU times drift with the load. A
    proxy, not the row: an import's file reads and stats are system time, which it does not count."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return ["instructions: valgrind is not installed (apt install valgrind to count them)"]
    counts = []
    for side in sides:
        cache.fresh()
        done = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *side.command],
                              env={**os.environ, **side.env, "PYTHONHASHSEED": "0"}, cwd=side.cwd,
                              capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            return [f"instructions: callgrind printed no count for {side.label}"]
        counts.append(int(found.group(1)))
    lines = [f"instructions (callgrind, one run each, load-independent): {side.label}: {count / 1e6:.1f}M"
             for side, count in zip(sides, counts)]
    lines.append(f"in instructions: {counts[0] / 1e6:.1f}M / {counts[1] / 1e6:.1f}M = {counts[0] / counts[1]:.2f}x"
                 + (f"; with the code of the other checkout {counts[2] / counts[1]:.2f}x" if len(counts) > 2 else ""))
    return lines


def row_e(runs: int) -> list[Row]:
    root = corpus(1000)
    cache = CacheFolder()
    command = auditor_command("scan", str(root), "--no-external", "--format", "json", "-o", os.devnull,
                              "--fail-on", "none", "--jobs", "2")
    first = Side("first scan, 1,000 projects, cache folder holding only the rule catalog", command,
                 env=cache.env, cwd=REPO, before=cache.fresh)
    second = Side("second scan of the unchanged tree, same cache folder", command, env=cache.env, cwd=REPO)
    print(f"  row e: {root}, cache in {cache.folder}", file=sys.stderr)
    try:
        first.once()  # warm-up: page cache
        for _ in range(runs):  # a pair per round, in this order by construction
            first.runs.append(first.once())
            second.runs.append(second.once())
            print(f"    round {len(first.runs)}/{runs}", file=sys.stderr, flush=True)
        kept = cache.size()
    finally:
        cache.remove()
    return [Row("e", "second scan, unchanged 1,000-project tree", "first scan", second.median / first.median, "x", 0.2,
                detail=[first.describe(), second.describe(), cpu_ratio(second, first), f"the tree's cache entries after a pair: {kept / MIB:.1f} MiB"])]


# --- the machine ------------------------------------------------------------------------------------


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = ", ".join(part for part in (fields.get("model name", "?"),
                                        f"{fields['cpu MHz']} MHz" if "cpu MHz" in fields else "",
                                        f"cache {fields['cache size']}" if "cache size" in fields else "") if part)
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), {memory} RAM, Python {platform.python_version()}, "
            f"{platform.platform()}")


def print_rows(rows: list[Row], markdown: bool = False) -> None:
    if markdown:
        print("| row | what | against | measured | target | |\n|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row.key} | {row.what} | {row.against} | {row.figure()} | {row.goal()} | "
                  f"{'**met**' if row.met else '**not met**'} |")
        print()
        for row in rows:
            for line in row.detail:
                print(f"- ({row.key}) {line}")
        return
    print(f"{'row':<4}{'what':<58}{'against':<30}{'measured':>10}  {'target':<11}result")
    for row in rows:
        print(f"{row.key:<4}{row.what:<58}{row.against:<30}{row.figure():>10}  {row.goal():<11}"
              f"{'met' if row.met else 'NOT MET'}")
    print()
    for row in rows:
        for line in row.detail:
            print(f"  ({row.key}) {line}")


# --- the older table (still handy: --version, --help, the fixture, the corpora) ---------------------------


def classic(runs: int, sizes: list[int]) -> None:
    with cold_cache() as cache:
        sides = [cold_side("auditor --version", auditor_command("--version"), cache),
                 cold_side("auditor --help", auditor_command("--help"), cache),
                 cold_side("fixtures/compliant", auditor_command("scan", str(REPO / "fixtures" / "compliant"),
                                                                 "--no-external", "--format", "json", "-o",
                                                                 os.devnull, "--fail-on", "none"), cache)]
        files = {}
        for size in sizes:
            root = corpus(size)
            files[len(sides)] = sum(len(names) for _, _, names in os.walk(root))
            sides.append(cold_side(f"corpus {size} project(s)",
                                   auditor_command("scan", str(root), "--no-external", "--format", "json", "-o",
                                                   os.devnull, "--fail-on", "none"), cache))
        interleave(sides, runs)
    print(f"{'what':<28}{'median':>10}{'min':>10}{'tree RSS':>11}{'files/s':>10}")
    for index, side in enumerate(sides):
        walls = [run.wall for run in side.runs]
        rate = f"{files[index] / side.median:.0f}" if index in files else ""
        print(f"{side.label:<28}{side.median * 1000:>8.0f}ms{min(walls) * 1000:>8.0f}ms"
              f"{max(run.tree_rss for run in side.runs):>8.0f}MiB{rate:>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", nargs="*", default=["a", "b", "c", "d", "e"], choices=list("abcde"),
                        help="which rows (default: all five)")
    parser.add_argument("--runs", type=int, default=0,
                        help="runs per side (default: 5 for the 1,000-project rows, 15 for c and d)")
    parser.add_argument("--memory-runs", type=int, default=3, help="runs of each corpus for row b (default 3)")
    parser.add_argument("--large", type=int, default=4000, help="the larger corpus of row b (default 4,000)")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="row d also runs the scan with this other checkout's code (e.g. a worktree of the "
                             "commit before a change), interleaved with the rest")
    parser.add_argument("--classic", action="store_true", help="the older per-command table instead of the rows")
    parser.add_argument("--markdown", action="store_true", help="print the rows as a Markdown table")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000], help="corpora of --classic")
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "auditor" / "cli.py").is_file():
        parser.error(f"--compare {args.compare}: not a checkout of the auditor (no auditor/cli.py)")
    # An installed wheel ships compiled bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would recompile every module on each start, which is not what users pay.
    for checkout in [REPO] + ([args.compare] if args.compare else []):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "auditor")], check=True,
                       stdout=subprocess.DEVNULL)
    print(f"machine: {machine()}")
    print(f"checkout: {REPO} ({_head()}); auditor runs as: {' '.join(auditor_command())}")
    print(f"load before: {uptime()}")
    if args.classic:
        classic(args.runs or 5, args.sizes)
        print(f"load after: {uptime()}")
        return 0
    rows: list[Row] = []
    wanted = set(args.rows)
    if "a" in wanted:
        rows += row_a(args.runs or 5)
        print(f"load after row a: {uptime()}", flush=True)
    if "b" in wanted:
        rows += row_b(args.memory_runs, args.large)
        print(f"load after row b: {uptime()}", flush=True)
    if "c" in wanted:
        rows += row_c(args.runs or 15)
        print(f"load after row c: {uptime()}", flush=True)
    if "d" in wanted:
        rows += row_d(args.runs or 15, args.compare)
        print(f"load after row d: {uptime()}", flush=True)
    if "e" in wanted:
        rows += row_e(args.runs or 5)
        print(f"load after row e: {uptime()}", flush=True)
    print()
    print_rows(rows, args.markdown)
    return 0


def _head() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    raise SystemExit(main())
