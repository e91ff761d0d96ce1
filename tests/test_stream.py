"""Streamed outcomes (auditor/stream.py): a tree of projects is audited partition by partition and
each partition's findings and evidence go to a private spool folder, read back by the report.

The spool must never be in the audited tree, must be private, must be gone after the run (on
success, on an error, on Ctrl-C), and the report must be the one an unstreamed audit gives: the
same findings in the same order, whatever the folder names, with one job or two. Nothing is
mocked: the real audit runs on real trees; where a worker pool is wanted on a small tree the pool
threshold is lowered, and where a failure is wanted the real parse function is wrapped to raise.
"""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import auditor.parallel as parallel
from auditor.api import scan
from auditor.cli import main
from auditor.findings import Finding
from auditor.report.json_report import render_json
from auditor.suppressions import Suppressor

ROOT_USER = 'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nUSER root\nCMD ["node", "server.js"]\n'
NON_ROOT = ROOT_USER.replace("USER root", "USER 1001")
COMPOSE = "services:\n  web:\n    build: .\n    ports:\n      - \"3000:3000\"\n"


def make_tree(root: Path, names: list[str]) -> Path:
    for index, name in enumerate(names):
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(ROOT_USER if index % 2 == 0 else NON_ROOT, encoding="utf-8")
        (root / name / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    return root


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the spool goes in, this test's own (so what is left there is seen)."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    return folder


def spools(folder: Path) -> list[Path]:
    return sorted(folder.glob("auditor-spool-*"))


def as_json(result: object) -> str:
    import io

    buffer = io.StringIO()
    render_json(result, buffer)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_the_spool_is_private_outside_the_tree_and_removed_with_the_result(tmp_path: Path, temp: Path) -> None:
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie"])
    listing = sorted(str(p) for p in tree.rglob("*"))
    result = scan([tree], ignore=["SC"], jobs=1)
    [folder] = spools(temp)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert any(folder.iterdir())  # the findings and evidence are there, not in this process
    assert type(result.findings).__name__ == "FindingStream"
    assert sorted(str(p) for p in tree.rglob("*")) == listing  # nothing written into the tree
    assert [f.rule_id for f in result.findings if f.rule_id == "DF008"] == ["DF008", "DF008"]
    result.close()
    assert spools(temp) == []
    result = scan([tree], ignore=["SC"], jobs=1)
    assert len(spools(temp)) == 1
    del result  # dropping the result removes its spool too
    import gc

    gc.collect()
    assert spools(temp) == []


def test_streamed_results_are_those_of_each_project_audited_alone(tmp_path: Path, temp: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Folder names whose order differs from their paths' ("a-b/..." sorts before "a/..."): the
    findings still come out in the report's order, the evidence in the partitions' order, with
    one job and with a pool of two."""
    names = ["a", "a-b", "a.c", "b", "a0"]
    tree = make_tree(tmp_path / "tree", names)
    serial = scan([tree], ignore=["SC"], jobs=1)
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    pooled = scan([tree], ignore=["SC"], jobs=2)
    findings = list(serial.findings)
    assert findings and findings == sorted(findings, key=Finding.sort_key)
    assert {f.span.path.split("/")[0] for f in findings} == set(names)
    assert as_json(serial) == as_json(pooled)
    evidence = [e.span.path.split("/")[0] for e in serial.controls["DF008"].evidence]
    assert evidence == sorted(evidence) and len(set(evidence)) == len(names)  # partitions' (folders') order
    # what each partition's own checks give, merged and sorted as one list (the unstreamed way)
    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.discovery import discover
    from auditor.engine import select_rules

    found = discover([tree], tree)
    groups = parallel.partitions(found)
    assert groups is not None
    rule_ids = list(select_rules(load_catalog(), Config(), (), ["SC"]))
    expected = sorted((f for part in parallel.split(found, groups)
                       for f in parallel._parse_and_check(part, rule_ids, Config()).findings), key=Finding.sort_key)
    assert findings == expected


def test_an_error_in_a_partition_removes_the_spool(tmp_path: Path, temp: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie"])
    real = parallel._parse_and_check
    calls: list[str] = []

    def failing(found, rule_ids, config, *contents):  # type: ignore[no-untyped-def]
        calls.append("x")
        if len(calls) == 2:
            raise OSError("disk gone")
        return real(found, rule_ids, config, *contents)

    monkeypatch.setattr(parallel, "_parse_and_check", failing)
    with pytest.raises(OSError, match="disk gone"):
        scan([tree], ignore=["SC"], jobs=1)
    assert spools(temp) == []
    calls.clear()
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)  # the same in a worker process
    with pytest.raises(OSError, match="disk gone"):
        scan([tree], ignore=["SC"], jobs=2)
    assert spools(temp) == []


def test_ctrl_c_during_the_audit_removes_the_spool(tmp_path: Path, temp: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie"])
    real = parallel._parse_and_check

    def interrupted(found, rule_ids, config, *contents):  # type: ignore[no-untyped-def]
        if "bravo/Dockerfile" in found.files:
            raise KeyboardInterrupt
        return real(found, rule_ids, config, *contents)

    monkeypatch.setattr(parallel, "_parse_and_check", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scan([tree], ignore=["SC"], jobs=1)
    assert spools(temp) == []


def _signalled_scan(tmp_path: Path, signum: int) -> tuple[int, bytes, list[Path]]:
    """`auditor scan` in its own process, sent ``signum`` while its spool exists: (exit code,
    standard error, the spools left in its temporary folder)."""
    tree = make_tree(tmp_path / "tree", [f"project-{index:03}" for index in range(150)])
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "AUDITOR_NO_CACHE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # The report goes to a pipe this test does not read until after the signal: once the pipe's
    # buffer is full the scan waits there, with its spool, so the signal cannot come too late
    # (with `-o /dev/null` a loaded machine let the scan finish first, exit 0, and the test fail).
    process = subprocess.Popen([sys.executable, "-m", "auditor", "scan", str(tree), "--no-external", "--jobs", "1",
                                "--format", "json", "--fail-on", "none", "--quiet"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               # pytest-xdist's workers ignore SIGINT, and an ignored signal stays
                               # ignored across exec: give the scan the default a terminal gives it
                               preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not spools(temp) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert spools(temp) and process.poll() is None, "the scan ended before its spool was seen"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr, spools(temp)


def test_a_real_sigint_to_auditor_scan_leaves_no_spool(tmp_path: Path) -> None:
    """Interrupted as Ctrl-C interrupts it (SIGINT)."""
    code, stderr, left = _signalled_scan(tmp_path, signal.SIGINT)
    # 130; or the signal's own death, which CPython chooses at exit when a KeyboardInterrupt went
    # through an `exec` of a string (a library's namedtuple) even though it was handled
    assert code in (130, -signal.SIGINT), stderr
    assert b"auditor: interrupted" in stderr
    assert left == []


def test_a_temporary_folder_inside_the_tree_is_not_written_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TMPDIR pointing into the audited tree: the spool is kept in memory, the tree untouched."""
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie"])
    inside = tree / "alpha" / "tmp"
    inside.mkdir()
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    listing = sorted(str(p) for p in tree.rglob("*"))
    monkeypatch.setattr(tempfile, "tempdir", str(inside))
    streamed = scan([tree], ignore=["SC"], jobs=1)
    assert sorted(str(p) for p in tree.rglob("*")) == listing
    in_memory = as_json(streamed)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert in_memory == as_json(scan([tree], ignore=["SC"], jobs=1))
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(inside))
    assert as_json(scan([tree], ignore=["SC"], jobs=2)) == in_memory
    assert sorted(str(p) for p in tree.rglob("*")) == listing


def test_a_closed_result_says_so() -> None:
    from auditor.stream import FindingStream, Frame, Spool, SpoolClosed, Tally

    spool = Spool()
    writer = spool.writer("chunk0")
    file, offset = writer.findings([])
    stream = FindingStream(spool, [Frame("a/", 0, file, offset, 1)], [], [], Tally())
    spool.close()
    with pytest.raises(SpoolClosed):
        list(stream)


def test_suppressions_used_in_one_partition_count_for_the_run() -> None:
    """An inline suppression matched by a partition's finding (in a worker) is not reported as
    unused by the main process, whose own findings (the scanners') did not match it."""
    from auditor.model.span import Span

    sources = {"a/Dockerfile": 'FROM x\n# auditor: ignore=DF008 reason="root is needed"\nUSER root\n'}
    entries = [{"rule": "DF009", "path": "b/*", "reason": "b is a test image"}]
    worker = Suppressor(sources, entries, ["DF008", "DF009"])
    finding = Finding("DF008", "high", "t", "m", Span("a/Dockerfile", 3, 1), "USER root")
    assert worker.mark(finding).suppression is not None
    fresh = Suppressor(sources, entries, ["DF008", "DF009"])
    assert [message for _, message in fresh.problems()] == [
        "unused suppression of DF008: it matches no finding; remove it",
        "unused configured suppression of DF009 for 'b/*'"]
    fresh.add_used(*worker.used())
    assert [message for _, message in fresh.problems()] == ["unused configured suppression of DF009 for 'b/*'"]


def test_baseline_and_suppressions_on_a_streamed_tree_match_a_serial_run(tmp_path: Path, temp: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline's matches and "fixed" entries, suppressions and the exit code, with the pool."""
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie", "delta"])
    dockerfile = tree / "alpha" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(
        "USER root", '# auditor: ignore=DF008 reason="needs root"\nUSER root'), encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(tree), "--no-external", "-o", str(baseline)]) == 0
    document = json.loads(baseline.read_text())
    document["findings"] = document["findings"][::2] + [
        {"fingerprint": "0123456789abcdef0123456789abcdef", "rule_id": "DF008", "file": "gone/Dockerfile"}]
    baseline.write_text(json.dumps(document))
    reports = []
    for jobs in ("1", "2"):
        output = tmp_path / f"report-{jobs}.sarif"
        code = main(["scan", str(tree), "--no-external", "--jobs", jobs, "--baseline", str(baseline), "--quiet",
                     "--format", f"sarif:{output}", "--format", f"json:{output}.json"])
        reports.append((code, output.read_text(), Path(f"{output}.json").read_text()))
        monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    assert reports[0] == reports[1]
    report = json.loads(reports[0][2])
    assert report["summary"]["suppressed"] >= len(document["findings"]) - 1
    assert any(f["suppressed"] and f["suppressed"]["kind"] == "inline" for f in report["findings"])
    assert spools(temp) == []


def test_sigterm_to_auditor_scan_leaves_no_spool_and_exits_143(tmp_path: Path) -> None:
    """A cancelled CI job sends SIGTERM: the scan unwinds as for Ctrl-C (its spool removed) and
    exits 128 + 15. With SIGTERM's default the process died with its spool left in TMPDIR."""
    code, stderr, left = _signalled_scan(tmp_path, signal.SIGTERM)
    assert code == 143, stderr
    assert b"auditor: terminated" in stderr and b"Traceback" not in stderr
    assert left == []


def test_a_spool_row_gives_back_the_same_finding_and_evidence() -> None:
    """Every part of a finding survives the spool's plain rows: related places, properties, a
    suppression with its comment's span, a column unknown (None), a name that is not UTF-8."""
    from auditor.findings import Evidence, Related, Suppression
    from auditor.model.span import Span
    from auditor.stream import evidence_rows, finding_from_row, finding_row, row_sort_key

    findings = [
        Finding("DF008", "high", "t", "m", Span("a/Dockerfile", 3, None, 3, None), "USER root", "ab" * 16,
                (Related(Span("a/compose.yml", 2, 5), "build: ."),), {"cwe": ["CWE-250"], "n": 1},
                Suppression("inline", "needed", Span("a/Dockerfile", 2, 1))),
        Finding("NG001", "low", "t", "m\u2028", Span("a/x\udcff.conf", 1), "", "", (), {}, None)]
    for finding in findings:
        row = finding_row(finding)
        assert finding_from_row(row) == finding
        assert row_sort_key(row) == finding.sort_key()
    evidence = [Evidence(Span("a/Dockerfile", 1, 1, 1, 9), "FROM x", "FROM x:1"), Evidence(Span("b", 2), "t")]
    import pickle

    from auditor.stream import evidence_from_rows as _evidence

    assert _evidence(pickle.loads(pickle.dumps(evidence_rows(evidence)))) == evidence


def test_without_a_usable_temporary_folder_the_spool_is_kept_in_memory(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only container (no writable TMPDIR): the scan of many projects still runs, its
    spool in memory (it stopped with an internal error, exit 3)."""
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo", "charlie"])
    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")
    expected = as_json(scan([tree], ignore=["SC"], jobs=1))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert as_json(scan([tree], ignore=["SC"], jobs=1)) == expected
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    assert as_json(scan([tree], ignore=["SC"], jobs=2)) == expected


def _report(tree: Path, jobs: int, json_text: bool) -> tuple[str, bool]:
    """The JSON report of ``api.scan``'s audit, with the partitions rendering their JSON text (as
    `auditor scan --format json` has them do) or not (the report then renders every finding)."""
    from auditor.api import audit_tree
    from auditor.catalog import load_catalog
    from auditor.config import Config
    from auditor.discovery import discover
    from auditor.engine import select_rules

    config = Config()
    found = discover([tree], tree, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files)
    result = audit_tree(found, select_rules(load_catalog(), config, (), ["SC"]), config, [str(tree)], jobs=jobs,
                        json_report=json_text)
    try:  # the report, and whether the findings' text was there to copy
        return as_json(result), getattr(result.findings, "json_parts", lambda: None)() is not None
    finally:
        result.close()


def test_the_partitions_json_text_gives_the_report_rendered_finding_by_finding(
        tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`auditor scan --format json` has each partition render its findings' and evidence's text
    where it is audited, and the report copies it; rendered finding by finding instead, the
    report is the same bytes, with one job or two."""
    tree = make_tree(tmp_path / "tree", ["bravo", "alpha", "charlie-1", "charlie", "delta.x"])
    rendered, copied = _report(tree, 1, False)
    assert not copied
    assert _report(tree, 1, True) == (rendered, True)
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    assert _report(tree, 2, True) == (rendered, True)
    assert len(json.loads(rendered)["findings"]) > 5


def test_a_finding_anchored_in_another_partitions_folder_is_merged_into_place(
        tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alpha's nginx.conf includes a file of bravo's folder: alpha's finding there (a stray) goes
    between bravo's findings in report order, so the partitions' text cannot simply be copied."""
    tree = make_tree(tmp_path / "tree", ["alpha", "bravo"])
    for name in ("alpha", "bravo"):
        (tree / name / "nginx").mkdir()
        (tree / name / "nginx" / "nginx.conf").write_text(
            "events {}\nhttp {\n  server {\n    listen 80;\n%s  }\n}\n"
            % ("    include ../../bravo/nginx/extra.conf;\n" if name == "alpha" else ""), encoding="utf-8")
    (tree / "bravo" / "nginx" / "extra.conf").write_text("server_tokens on;\nautoindex on;\n", encoding="utf-8")
    rendered, _ = _report(tree, 1, False)
    findings = json.loads(rendered)["findings"]
    keys = [(f["file"], f["line"], f["column"] or 0, f["rule_id"], f["message"]) for f in findings]
    assert keys == sorted(keys)
    at_include = [f for f in findings if f["file"] == "bravo/nginx/extra.conf"]
    assert len(at_include) >= 2  # alpha's (through its include) and bravo's own
    assert findings.index(at_include[0]) > 0 and findings[-1]["file"] > "bravo/nginx/extra.conf"
    assert _report(tree, 1, True) == (rendered, False)  # rendered one by one, the stray merged in
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 0)
    assert _report(tree, 2, True) == (rendered, False)


def test_a_scan_holds_few_files_open_whatever_the_rules_with_evidence(tmp_path: Path) -> None:
    """Under a limit of 48 open files (the interpreter and its libraries hold some twenty) a scan
    of many projects writes its JSON report: the spool's evidence files (two a rule) are opened
    for each write, not kept open (they were, and a limit of 128 failed with EMFILE, exit 3)."""
    import resource
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "compliant", tree / "one")
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "noncompliant", tree / "two")
    make_tree(tree, ["three", "four"])

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "TMPDIR": str(tmp_path), "AUDITOR_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-m", "auditor", "scan", str(tree), "--no-external", "--jobs", "1",
                           "--fail-on", "none", "-q", "--format", f"json:{tmp_path / 'r.json'}"],
                          env=env, capture_output=True, text=True, timeout=300, preexec_fn=limited)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    evidence = [control for control in report["controls"] if control["evidence"]]
    assert len(evidence) > 30  # rules with evidence: each had two spool files open


@pytest.mark.parametrize("in_memory", [False, True])
def test_a_chunk_writes_every_rules_evidence_into_one_file_and_reads_each_back_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_memory: bool) -> None:
    """A chunk's evidence of every rule goes to one file, one frame a partition (a pickle each,
    not one a rule), and its JSON text to one more, by rule, in segments a flush each: creating a
    file costs more than writing tens of kilobytes on ext4, and a chunk with evidence for sixty
    rules made 120 files. Each rule's evidence (written by rule to one more file on its first
    read) and JSON text read back in the partitions' order, across flushes, from a folder or from
    memory; a rule one partition could not render as JSON has no JSON text, and a run without a
    JSON report writes none."""
    import auditor.stream as stream
    from auditor.findings import Evidence
    from auditor.model.span import Span
    from auditor.stream import EvidenceFrames, EvidenceStream, Spool, packed_evidence

    monkeypatch.setattr(stream, "_FLUSH_BYTES", 300)  # a flush every partition or two
    if in_memory:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    else:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spool = Spool()
    assert (spool.folder is None) == in_memory
    rules = [f"R{number:03d}" for number in range(40)]
    expected: dict[str, list[Evidence]] = {rule: [] for rule in rules}
    texts: dict[str, list[bytes]] = {rule: [] for rule in rules}
    writer = spool.writer("chunk0")
    for partition in range(12):
        evidence: dict[str, list[Evidence]] = {}
        rendered: dict[str, bytes | None] = {}
        for number, rule in enumerate(rules):
            if (partition + number) % 3 == 0:
                continue  # not every rule has evidence in every partition
            entries = [Evidence(Span(f"p{partition}/Dockerfile", line, 1), f"{rule} {line}", "FROM x")
                       for line in range(1, 2 + number % 3)]
            expected[rule].extend(entries)
            text = None if (rule == "R007" and partition == 4) else \
                ",".join(f'"{rule}-{partition}-{line}"' for line in range(len(entries))).encode()
            if text is not None:
                texts[rule].append(text)
            evidence[rule] = entries
            rendered[rule] = text
        writer.partition_evidence(packed_evidence(evidence), {rule: len(entries) for rule, entries in evidence.items()},
                                  rendered, json=True)
    writer.partition_evidence(b"", {}, {}, json=True)  # a partition without evidence writes nothing
    spool.receive(writer.close())
    assert len(writer.evidence_frames) == 12
    if not in_memory:
        assert spool.folder is not None
        assert sorted(os.listdir(spool.folder)) == ["chunk0.evidence", "chunk0.evidence.json"]
    frames = EvidenceFrames(spool, writer.evidence_frames)
    for rule in rules:
        if rule != "R007":
            assert len(writer.evidence_json[rule]) > 1  # written over several flushes
        streamed = EvidenceStream(spool, (frames, rule), writer.evidence_counts[rule], writer.evidence_json.get(rule))
        assert list(streamed) == expected[rule] and len(streamed) == len(expected[rule])
        assert list(streamed) == expected[rule]  # read again, from the frames written by rule
        parts = streamed.json_parts()
        if rule == "R007":
            assert rule in writer.no_json and rule not in writer.evidence_json and parts is None
        else:
            assert parts is not None and b"".join(parts) == b",".join(texts[rule])
    if not in_memory:
        assert spool.folder is not None
        assert sorted(os.listdir(spool.folder)) == ["by-rule-1.evidence", "chunk0.evidence", "chunk0.evidence.json"]
    other = Spool()
    plain = other.writer("chunk1")
    plain.partition_evidence(packed_evidence({"R000": expected["R000"][:1]}), {"R000": 1}, None, json=False)
    plain.close()
    assert plain.evidence_frames and plain.evidence_counts == {"R000": 1} and not plain.evidence_json
    other.close()
    spool.close()


@pytest.mark.parametrize("in_a_folder", [False, True])
def test_evidence_regrouped_by_rule_after_a_failed_first_attempt_is_the_evidence(
        monkeypatch: pytest.MonkeyPatch, in_a_folder: bool) -> None:
    # the first regrouping fails part way (a full disk), after a frame was written: the second
    # must not count its offsets from the start of the half-written file (it read that copy back)
    from auditor import stream
    from auditor.findings import Evidence
    from auditor.model.span import Span

    # (a temporary folder inside the audited tree: the spool is kept in memory)
    spool = stream.Spool() if in_a_folder else stream.Spool(Path(tempfile.gettempdir()))
    assert (spool.folder is not None) == in_a_folder
    try:
        writer = spool.writer("chunk0")
        for tag in ("a", "b"):
            entries = {rule: [Evidence(Span(f"{tag}/f", line, 1, line, 2), f"{tag} {rule} {line}", "s")
                              for line in (1, 2)] for rule in ("R1", "R2")}
            writer.partition_evidence(stream.packed_evidence(entries), {k: len(v) for k, v in entries.items()},
                                      None, False)
        spool.receive(writer.close())
        frames = stream.EvidenceFrames(spool, writer.evidence_frames)
        calls = []
        real = stream.ChunkWriter.rule_rows

        def full_disk_at_the_second_partition(self: stream.ChunkWriter, *args: object) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            real(self, *args)  # type: ignore[arg-type]
            self.flush()  # as a megabyte of buffered evidence is
        monkeypatch.setattr(stream.ChunkWriter, "rule_rows", full_disk_at_the_second_partition)
        with pytest.raises(OSError):
            list(stream.EvidenceStream(spool, (frames, "R1"), 4))
        assert [e.text for e in stream.EvidenceStream(spool, (frames, "R1"), 4)] == [
            "a R1 1", "a R1 2", "b R1 1", "b R1 2"]
        assert [e.text for e in stream.EvidenceStream(spool, (frames, "R2"), 4)] == [
            "a R2 1", "a R2 2", "b R2 1", "b R2 2"]
    finally:
        spool.close()
