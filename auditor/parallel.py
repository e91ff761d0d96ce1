"""Independent projects side by side: audit them one by one, in a process pool when there are many.

A tree whose every top-level folder holding audited files is itself a project (a Dockerfile and a
compose file or package.json directly inside, no compose file building from a sibling folder),
with nothing audited at its root, is a collection
of independent deployments (a monorepo of apps, a vendor drop of many services). Each is audited
on its own, which is also what "separate deployments" means for the cross-file rules, and the
partitions go to worker processes when the tree is large enough to pay for forking. The same
partitions are used with one job or many, so ``--jobs 1`` and ``--jobs N`` give the same findings.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any, Protocol
else:
    from auditor.record import dataclass, field

from auditor import AUDIT_GC_THRESHOLD
from auditor.catalog import Rule
from auditor.config import Config
from auditor.discovery import Discovered
from auditor.findings import ControlResult, Evidence, Finding
from auditor.model.span import Note, ParseProblem
from auditor.stream import (ChunkWriter, EvidenceFrames, EvidenceStream, Finishing, Frame, Segment, Spool, Tally,
                             evidence_from_rows, finding_from_row, finding_row, packed_evidence, row_sort_key,
                             unpacked, unpacked_evidence)

if TYPE_CHECKING:
    from auditor.cache import ResultCache

POOL_THRESHOLD = 400  # files; below this, forking costs more than it saves
_COMPOSE_NAMES = ("docker-compose", "compose.")
_KINDS = ("dockerfiles", "compose", "yaml", "nginx", "dockerignores", "next_files")
STATUS_PRECEDENCE = {"fail": 4, "error": 3, "pass": 2, "suppressed": 1, "not_applicable": 0}


@dataclass
class PartitionResult:
    findings: list[Finding]
    controls: dict[str, ControlResult]
    notes: list[Note]
    problems: list[ParseProblem]
    recognised: list[str]
    unparsed: dict[str, list[str]]
    suppression_sources: dict[str, str] = field(default_factory=dict)  # files mentioning `auditor:`
    # files the parsers read that discovery did not list (an nginx include through a symlinked
    # folder), and those a renderer (helm, kubectl) made manifests of: not, or not wholly, in the
    # cache key, so the outcome is not kept
    read_unlisted: tuple[str, ...] = ()


def parse_bounds(config: Config) -> dict[str, Any]:
    """The configured resource bounds, as ``build_project`` takes them."""
    return {"parse_timeout": config.parse_timeout, "max_include_depth": config.max_include_depth,
            "max_file_size": config.max_file_size, "roles": dict(config.roles),
            "helm_values": tuple(str(v) for v in (config.helm or {}).get("values", []))}


_AUDIT_GC_THRESHOLD = AUDIT_GC_THRESHOLD  # why: auditor/__init__.py
_COLLECT_EVERY = 16  # partitions of a chunk between full collections (each leaves ~0.1 MB of cycles)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the block with the audit's garbage-collector thresholds (restored after; worker
    processes forked inside inherit them)."""
    previous = gc.get_threshold()
    gc.set_threshold(*_AUDIT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def partitions(found: Discovered) -> list[list[str]] | None:
    """Top-level folders to audit apart, or ``None`` when the tree is one deployment."""
    from auditor.parsers.project import not_checked_targets

    # files discovery counted but could not read belong to a partition too (their AUD003)
    recognised = [path for kind in _KINDS for path in getattr(found, kind)] + list(not_checked_targets(found))
    if not recognised or any("/" not in path for path in recognised):
        return None
    folders = sorted({path.split("/", 1)[0] for path in recognised})
    if len(folders) < 2:
        return None
    direct = [path.split("/") for path in recognised if path.count("/") == 1]
    images = {folder for folder, name in direct if name.startswith(("Dockerfile", "Containerfile"))}
    wiring = {folder for folder, name in direct if name == "package.json" or name.startswith(_COMPOSE_NAMES)}
    if set(folders) - (images & wiring):
        return None  # a folder like `deploy/`, `docker/` or `nginx/` serves the others: one deployment
    if any(_reaches_outside(found, path) for path in found.compose):
        return None  # a compose file builds from a sibling folder: they belong together
    return [[folder] for folder in folders]


def _reaches_outside(found: Discovered, compose_path: str) -> bool:
    from auditor.regular_file import read_regular_file

    try:  # (the bytes: "../" is ASCII, so no decoding is needed to find it)
        return b"../" in read_regular_file(f"{found.root}/{compose_path}")
    except OSError:
        return False


def split(found: Discovered, groups: list[list[str]]) -> list[Discovered]:
    """One Discovered per group, in a single pass over the lists (linear, whatever the count)."""
    parts = [Discovered(found.root) for _ in groups]
    index = {folder: position for position, group in enumerate(groups) for folder in group}

    def owner(path: str) -> Discovered | None:
        position = index.get(path.split("/", 1)[0])
        return parts[position] if position is not None else None

    for item in fields(Discovered):
        if item.name == "root":
            continue
        value = getattr(found, item.name)
        for entry in value:
            part = owner(entry.span.path if isinstance(entry, Note) else entry)
            if part is None:
                continue
            target = getattr(part, item.name)
            if isinstance(target, set):
                target.add(entry)
            else:
                target.append(entry)
    return parts


def _parse_and_check(found: Discovered, rule_ids: list[str], config: Config,
                     contents: dict[str, bytes] | None = None) -> PartitionResult:
    from auditor.catalog import load_catalog
    from auditor.engine import run_checks
    from auditor.parsers.project import build_project

    catalog = load_catalog()
    rules = {rule_id: catalog[rule_id] for rule_id in rule_ids}
    project = build_project(found, **parse_bounds(config), contents=contents)
    if contents:
        contents.clear()  # bytes no parser took: freed before the checks
    findings, controls = run_checks(project, rules, config)
    sources = {path: text for path, text in project.all_sources().items() if "auditor:" in text}
    listed = set(found.files)
    read = {*project.recognised, *(path for config in project.nginx_configs for path in config.files)}
    unlisted = sorted(read - listed)
    # helm and kubectl read a chart's or an overlay's folders themselves: through a symlinked or
    # git-ignored folder, and patches and values that make no object of their own. What they read
    # is not known, so no rendered outcome is keyed by the listed files alone.
    unlisted += sorted({f"{path} (rendered)" for rendered in project.rendered_kubernetes for path in rendered.paths})
    return PartitionResult(findings, controls, list(project.notes), list(project.problems),
                           list(project.recognised), {k: list(v) for k, v in project.unparsed.items()}, sources,
                           tuple(unlisted))


@dataclass
class PartitionRows:
    """A partition's outcome as it is kept in the cache and written to the spool, in the form the
    spool and the JSON report take it: findings and evidence as plain rows (``auditor.stream``)
    already pickled, and their JSON text when the run writes a JSON report, so an unchanged
    partition goes from the cache to the spool as bytes, never becoming objects.

    The findings are sorted, split into those under the partition's folder and the strays
    anchored elsewhere (an include), and counted (``tally``) as they are when nothing suppresses,
    compares or filters them; ``inside_json`` is their JSON text. When something does (an inline
    suppression in the partition, configured suppressions, a baseline, the changed-files filter),
    the rows are read back and finished (``_spool``)."""

    inside: bytes  # pickled list of the findings' rows under the partition's folder, sorted
    inside_count: int
    inside_json: bytes | None  # their JSON text (None: not rendered)
    strays: list[tuple[Any, ...]]  # rows of findings outside the folder, sorted
    tally: Tally  # the counts of all its findings, not finished
    controls: dict[str, tuple[str, str]]  # rule -> (status, reason)
    evidence: bytes  # every rule's evidence rows, pickled as one {rule: rows} (``packed_evidence``)
    evidence_counts: dict[str, int]  # rule -> its entries
    evidence_json: dict[str, bytes] | None  # rule -> its evidence's JSON text (None: not rendered)
    notes: list[Note]
    problems: list[ParseProblem]
    recognised: list[str]
    unparsed: dict[str, list[str]]
    suppression_sources: dict[str, str]


def _as_rows(result: PartitionResult, prefix: str, json: bool) -> PartitionRows:
    from auditor.stream import packed

    ordered = sorted(result.findings, key=Finding.sort_key)
    inside = [finding for finding in ordered if finding.span.path.startswith(prefix)]
    rows = [finding_row(finding) for finding in ordered]
    tally = Tally()
    for row in rows:
        tally.add_row(row)
    with_evidence = {rule_id: control.evidence for rule_id, control in result.controls.items() if control.evidence}
    texts: tuple[bytes, dict[str, bytes]] | None = None
    if json:
        from auditor.report.json_report import evidence_text_and_rows
        from auditor.stream import packed_rows

        findings_text = _fragment_text(inside)
        evidence_texts, by_rule = evidence_text_and_rows(with_evidence)  # the rows made in the same pass
        frame = packed_rows(by_rule)
        if findings_text is not None and evidence_texts is not None:
            texts = findings_text[0], evidence_texts
    else:
        frame = packed_evidence(with_evidence)
    return PartitionRows(packed([row for row in rows if row[4][0].startswith(prefix)]), len(inside),
                         None if texts is None else texts[0],
                         [row for row in rows if not row[4][0].startswith(prefix)], tally,
                         {rule_id: (control.status, control.reason) for rule_id, control in result.controls.items()},
                         frame, {rule_id: len(entries) for rule_id, entries in with_evidence.items()},
                         None if texts is None else texts[1],
                         result.notes, result.problems, result.recognised, result.unparsed, result.suppression_sources)


def _fragment_text(findings: Sequence[Finding], evidence: dict[str, Sequence[Evidence]] | None = None
                   ) -> tuple[bytes, dict[str, bytes]] | None:
    """The JSON report's text of these findings and of each rule's evidence (``fragment_text``)."""
    from auditor.report.json_report import fragment_text

    return fragment_text(findings, evidence)


def _outcome(part: Discovered, prefix: str, rule_ids: list[str], config: Config,
             cache: ResultCache | None, json: bool, key: str | None | bool = False) -> tuple[PartitionRows, bool]:
    """The partition's parse-and-check outcome, and whether it was parsed: kept in the partition's
    record in the cache under its key (computed here unless the main process did: ``key``), else
    computed and kept. Where the main process found the whole tree kept, a record that cannot be
    read after all (damaged, removed or replaced since) raises ``_NotKept``: the tree then goes
    to the workers."""
    entry = None
    if cache is not None:
        entry = cache.lookup(part, prefix, key)
        kept = entry.outcome()
        if isinstance(kept, PartitionRows):
            from auditor import progress

            entry.refresh()
            progress.files_done(len(part.files))  # in the main process (one job): not parsed, yet done
            return kept, False
        if key is not False:
            raise _NotKept(key)
    # the files hashed for the key are parsed from the bytes hashed, not read again
    result = _parse_and_check(part, rule_ids, config, entry.known.contents if entry is not None else None)
    rows = _as_rows(result, prefix, json)
    if entry is not None:
        from auditor.cache import worth_keeping

        # (a file changed while it was parsed: what was read may not be what the key covers)
        entry.keep(rows if worth_keeping(result) and entry.known.unchanged() else None)
    return rows, True


class _NotKept(Exception):
    """A partition's entry, found by the main process, could not be read when it was used."""


@dataclass
class ChunkSummary:
    """What a chunk of partitions sends back to the main process: nothing in proportion to its
    findings or evidence (those are in the spool), only statuses, counts and where to read."""

    frames: list[Frame] = field(default_factory=list)
    strays: list[tuple[tuple[Any, ...], Finding]] = field(default_factory=list)
    controls: dict[str, ControlResult] = field(default_factory=dict)  # status and reason, no evidence
    evidence_frames: list[Segment] = field(default_factory=list)  # each partition's evidence frame, in order
    evidence_counts: dict[str, int] = field(default_factory=dict)  # rule -> its entries
    notes: list[Note] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    recognised: list[str] = field(default_factory=list)
    unparsed: dict[str, list[str]] = field(default_factory=dict)
    suppression_sources: dict[str, str] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    written: dict[str, bytes] = field(default_factory=dict)  # the spool's bytes when it has no folder
    evidence_json: dict[str, list[Segment] | None] = field(default_factory=dict)  # rule -> where its JSON text is
    records: dict[str, list[Any]] = field(default_factory=dict)  # partition -> where its new cache record is


@dataclass
class Chunk:
    """A run of consecutive partitions and what the audit of each needs (picklable)."""

    name: str
    start: int  # the first partition's position among all
    parts: list[Discovered]
    prefixes: list[str]  # each partition's folder and "/"
    keys: list[str | None] | None = None  # each one's cache key, when the main process computed them


def _audit_chunk(chunk: Chunk, rule_ids: list[str], config: Config, cache: ResultCache | None,
                 finishing: Finishing, folder: str | None) -> ChunkSummary:
    """Audit the chunk's partitions one after the other, each one's findings and evidence written
    to the spool as soon as it is done (memory stays that of one partition)."""
    writer = ChunkWriter(folder, chunk.name)
    summary = ChunkSummary()
    # A built project is freed when it is dropped (its role views no longer refer to themselves),
    # but parsing leaves a few reference cycles behind (crossplane's recursive parse functions,
    # ~130 objects a project), which only a full collection frees and the audit's thresholds
    # (few_collections) almost never run. What exists now (modules, the catalog, the chunk) is
    # frozen out of the collector, and a full collection every few parsed partitions walks little
    # more than what they left.
    gc.freeze()
    built = 0  # partitions parsed since the last full collection (one from the cache leaves no cycles)
    try:
        for offset, (part, prefix) in enumerate(zip(chunk.parts, chunk.prefixes)):
            key: str | None | bool = chunk.keys[offset] if chunk.keys is not None else False
            outcome, parsed = _outcome(part, prefix, rule_ids, config, cache, finishing.json, key)
            _spool(chunk.start + offset, prefix, outcome, writer, summary, finishing)
            del outcome
            built += parsed
            if built == _COLLECT_EVERY:
                gc.collect()
                # what survived is frozen too: the next collection walks only what came since
                # (check modules imported and memos filled by the first partitions made each
                # collection walk them again: 0.24 s of CPU a 1,000 projects)
                gc.freeze()
                built = 0
    finally:
        gc.unfreeze()
        try:
            summary.written = writer.close()
        finally:
            if cache is not None:  # (its pack closed whatever happens)
                summary.records = cache.take_written()
    summary.evidence_frames = writer.evidence_frames
    summary.evidence_counts = writer.evidence_counts
    summary.evidence_json = {rule_id: None if rule_id in writer.no_json else writer.evidence_json.get(rule_id)
                             for rule_id in writer.evidence_counts}
    return summary


def _finished_as_is(finishing: Finishing, outcome: PartitionRows) -> bool:
    """Whether finishing leaves this partition's findings as the checks made them: no inline
    suppression in its files (or suppressions off), none configured, no baseline, no filter."""
    return finishing.baseline is None and finishing.report_paths is None and \
        (not finishing.enabled or (not outcome.suppression_sources and not finishing.config_suppress))


def _spool(index: int, prefix: str, outcome: PartitionRows, writer: ChunkWriter, summary: ChunkSummary,
           finishing: Finishing) -> None:
    if _finished_as_is(finishing, outcome):  # the rows and text as kept: copied as bytes
        summary.tally.update(outcome.tally)
        strays = outcome.strays
        file, position = writer.packed_findings(outcome.inside)
        count = outcome.inside_count
        text = outcome.inside_json if finishing.json else None  # a run without a JSON report needs no text
        if finishing.json and text is None:  # kept by a run that wrote no JSON report
            rendered = _fragment_text([finding_from_row(row) for row in unpacked(outcome.inside)])
            text = None if rendered is None else rendered[0]
    else:
        suppressor = finishing.suppressor(outcome.suppression_sources)
        findings = [finding_from_row(row) for row in unpacked(outcome.inside) + outcome.strays]
        kept = finishing.finish(findings, suppressor, summary.tally)
        summary.tally.used(suppressor)
        kept.sort(key=Finding.sort_key)
        ordered = [finding_row(finding) for finding in kept]
        inside = [row for row in ordered if row[4][0].startswith(prefix)]
        strays = [row for row in ordered if not row[4][0].startswith(prefix)]
        file, position = writer.findings(inside)
        count = len(inside)
        rendered = _fragment_text([finding for finding in kept if finding.span.path.startswith(prefix)]) \
            if finishing.json else None
        text = None if rendered is None else rendered[0]
    if strays:  # anchored in another partition's folder (an include): merged by key
        summary.strays.extend(((row_sort_key(row), index), finding_from_row(row)) for row in strays)
    where = writer.findings_json(text) if text is not None else None
    summary.frames.append(Frame(prefix, index, file, position, count, where))
    evidence_json: Mapping[str, bytes | None] | None = outcome.evidence_json
    if finishing.json and evidence_json is None and outcome.evidence_counts:  # kept without a JSON report
        rendered = _fragment_text((), {rule_id: evidence_from_rows(rows)
                                       for rule_id, rows in unpacked_evidence(outcome.evidence).items()})
        evidence_json = None if rendered is None else rendered[1]
    writer.partition_evidence(outcome.evidence, outcome.evidence_counts, evidence_json, finishing.json)
    controls = summary.controls
    for rule_id, (status, reason) in outcome.controls.items():
        current = controls.get(rule_id)
        if current is None or STATUS_PRECEDENCE[status] > STATUS_PRECEDENCE[current.status]:
            controls[rule_id] = ControlResult(rule_id, status, (), reason)  # as _combine decides
    _gather(summary, outcome)


if TYPE_CHECKING:
    class _ProjectParts(Protocol):
        """What a partition's outcome, a chunk's summary and the run keep of the projects as they are."""

        notes: list[Note]
        problems: list[ParseProblem]
        recognised: list[str]
        suppression_sources: dict[str, str]
        unparsed: dict[str, list[str]]


def _gather(into: _ProjectParts, part: _ProjectParts) -> None:
    """``part``'s notes, problems, recognised files, suppression sources and unread files, added to ``into``."""
    into.notes.extend(part.notes)
    into.problems.extend(part.problems)
    into.recognised.extend(part.recognised)
    into.suppression_sources.update(part.suppression_sources)
    for kind, paths in part.unparsed.items():
        into.unparsed.setdefault(kind, []).extend(paths)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, e.g. a CI container)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int | None) -> int:
    """Worker processes for ``jobs`` (0 or None: one per CPU), never more than the CPUs: whatever
    is asked (``--jobs 300``), forking more processes than cores only costs memory."""
    cpus = available_cpus()
    return cpus if not jobs or jobs <= 0 else min(jobs, cpus)


@dataclass
class Streamed:
    """The partitions' outcomes as the main process holds them: their findings and evidence in
    the spool, the rest merged in the partitions' order."""

    spool: Spool
    frames: list[Frame]
    strays: list[tuple[tuple[Any, ...], Finding]]
    controls: dict[str, ControlResult]  # evidence read from the spool (EvidenceStream)
    notes: list[Note]
    problems: list[ParseProblem]
    recognised: list[str]
    unparsed: dict[str, list[str]]
    suppression_sources: dict[str, str]
    tally: Tally
    records: dict[str, list[Any]] = field(default_factory=dict)  # partition -> its new cache record's place


def audit_partitions(found: Discovered, groups: list[list[str]], rules: dict[str, Rule], config: Config,
                     jobs: int, cache: ResultCache | None = None, finishing: Finishing | None = None,
                     forked: Callable[[], None] = lambda: None) -> Streamed:
    """``cache``: unchanged partitions come from the incremental cache (``auditor.cache``), and
    the records written are indexed for the next run, also when the run stops part way (Ctrl-C,
    SIGTERM, an error: what was done is not done again); ``finishing``: the suppressions,
    baseline and filter applied where the findings are (none when omitted); ``forked``: called
    once no worker process is left to fork (what starts a thread waits for it: a fork copies the
    locks other threads hold). The caller closes the result's spool (``Streamed.spool``)."""
    records: dict[str, list[Any]] = {}  # the merged chunks' new records (Streamed.records)
    try:
        streamed = _audit_partitions(found, groups, rules, config, jobs, cache, finishing, forked, records)
    except BaseException:
        if cache is not None:
            cache.save_index(found.root, {**cache.taken, **records})
        raise
    if cache is not None:
        cache.save_index(found.root, {**cache.taken, **streamed.records})  # (taken: this process's own)
    return streamed


def _audit_partitions(found: Discovered, groups: list[list[str]], rules: dict[str, Rule], config: Config,
                      jobs: int, cache: ResultCache | None, finishing: Finishing | None,
                      forked: Callable[[], None], records: dict[str, list[Any]]) -> Streamed:
    import datetime as dt

    from auditor import progress

    finishing = finishing or Finishing([], list(rules), False, dt.date.today())
    rule_ids = list(rules)
    prefixes = [f"{group[0]}/" for group in groups]
    covered = {group[0] for group in groups}
    workers = worker_count(jobs)
    pooled = workers > 1 and len(groups) > 1 and \
        sum(1 for path in found.files if path.split("/", 1)[0] in covered) >= POOL_THRESHOLD
    kept = _all_kept(found, groups, prefixes, cache) if pooled and cache is not None else None
    if not pooled:
        forked()  # this process does the work: no worker is forked
    # (a tree wholly kept is copied from the cache here, and the scanners start after it: a
    # record found damaged meanwhile sends the tree to the workers, forked then)
    if kept is not None:  # nothing to parse or check: copying the kept outcomes needs no workers
        spool = Spool(found.root)
        try:
            chunks = [Chunk("chunk0", 0, kept[0], prefixes, kept[1])]
            return _merge(spool, chunks, (_audit_chunk(chunk, rule_ids, config, cache, finishing, spool.folder)
                                          for chunk in chunks), lambda count: None, records)
        except _NotKept:
            spool.close()  # an entry damaged or removed since it was looked up: the workers do the tree
        except BaseException:
            spool.close()
            raise
        del kept
    spool = Spool(found.root)
    try:
        if not pooled:
            every_part = split(found, groups)
            chunks = [Chunk("chunk0", 0, every_part, prefixes)]
            return _merge(spool, chunks, (_audit_chunk(chunk, rule_ids, config, cache, finishing, spool.folder)
                                          for chunk in chunks), lambda count: None, records)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            # The workers are forked now, before the partitions are split out: each is a copy of
            # this process (its resident pages count in each), and gets its chunks pickled anyway.
            pool.submit(os.getpid).result()
            forked()
            every_part = split(found, groups)
            starts = chunk_starts(len(every_part), workers)
            chunks = [Chunk(f"chunk{number}", start, every_part[start:end], prefixes[start:end])
                      for number, (start, end) in enumerate(zip(starts, starts[1:] + [len(every_part)]))]
            del every_part
            summaries = pool.map(_audit_chunk, chunks, [rule_ids] * len(chunks), [config] * len(chunks),
                                 [cache] * len(chunks), [finishing] * len(chunks), [spool.folder] * len(chunks))
            try:
                return _merge(spool, chunks, summaries, progress.files_done, records)
            except BaseException:
                # Ctrl-C, SIGTERM or an error: the chunks not started are dropped, not run to the
                # end first (a CI runner's SIGKILL follows SIGTERM within seconds); the running
                # ones are waited for, so that nothing writes to the spool once it is removed.
                # What the chunks merged so far wrote is indexed first: SIGKILL may come during the wait.
                if cache is not None:
                    cache.save_index(found.root, {**cache.taken, **records})
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except BaseException:
        spool.close()
        raise


def chunk_starts(count: int, workers: int) -> list[int]:
    """Where each chunk of ``count`` partitions starts, for a pool of ``workers``: chunks shrinking
    as the work goes (guided scheduling), each a share of what is left (over twice the workers),
    never smaller than a sixty-fourth of an even share. Several partitions per task keep the
    pickling and the spool's files few (some seventeen chunks for two workers); the first chunks
    are large and the last small, so the workers finish close together (with even chunks of an
    eighth of the tree, one worker idled for up to a whole chunk, ~1 s, at the end while the other
    finished its last; with a sixteenth as the floor, ~0.2 s)."""
    smallest = max(1, count // (workers * 64))
    starts: list[int] = []
    start = 0
    while start < count:
        starts.append(start)
        start += max(smallest, -(-(count - start) // (workers * 2)))
    return starts


def _all_kept(found: Discovered, groups: list[list[str]], prefixes: list[str],
              cache: ResultCache) -> tuple[list[Discovered], list[str | None]] | None:
    """The partitions and each one's cache key, when each one's files are all as they were when
    last hashed (a ``stat`` each, against the partition's record of them: nothing is read) and an
    entry is kept under each key; else None (then the workers compute the keys, hashing what
    changed). The first partition is tried alone first, so a tree seen for the first time costs
    one lookup."""
    first = cache.kept_as_is(split(found, groups[:1])[0], prefixes[0])
    if not first:
        return None
    parts = split(found, groups)
    keys: list[str | None] = [first]
    for part, prefix in zip(parts[1:], prefixes[1:]):
        key = cache.kept_as_is(part, prefix)
        if key is None:
            return None
        keys.append(key)
    return parts, keys


def _merge(spool: Spool, chunks: list[Chunk], summaries: Iterable[ChunkSummary],
           files_done: Callable[[int], None], records: dict[str, list[Any]] | None = None) -> Streamed:
    """``records``: filled with the chunks' new cache records as each chunk is merged."""
    merged = Streamed(spool, [], [], {}, [], [], [], {}, {}, Tally(), {} if records is None else records)
    frames: list[Segment] = []
    json_segments: dict[str, list[Segment] | None] = {}
    counts: dict[str, int] = {}
    for chunk, summary in zip(chunks, summaries):
        spool.receive(summary.written)
        merged.records.update(summary.records)
        merged.frames.extend(summary.frames)
        merged.strays.extend(summary.strays)
        _gather(merged, summary)
        merged.tally.update(summary.tally)
        for rule_id, control in summary.controls.items():
            merged.controls[rule_id] = _combine(merged.controls.get(rule_id), control)
        frames.extend(summary.evidence_frames)
        for rule_id, count in summary.evidence_counts.items():
            texts = summary.evidence_json.get(rule_id)  # None: a chunk has none, the report renders it
            if texts is None:
                json_segments[rule_id] = None
            elif (known := json_segments.setdefault(rule_id, [])) is not None:
                known.extend(texts)
            counts[rule_id] = counts.get(rule_id, 0) + count
        files_done(sum(len(part.files) for part in chunk.parts))  # a worker's files, in order
    merged.strays.sort(key=lambda pair: pair[0])
    by_rule = EvidenceFrames(spool, frames)
    for rule_id, control in merged.controls.items():
        evidence: Sequence[Evidence] = EvidenceStream(spool, (by_rule, rule_id), counts[rule_id],
                                                      json_segments[rule_id]) if rule_id in counts else ()
        merged.controls[rule_id] = ControlResult(rule_id, control.status, evidence, control.reason)
    return merged


def _combine(first: ControlResult | None, second: ControlResult) -> ControlResult:
    """The status that decides (fail over error over pass over not applicable); evidence is
    gathered by ``merge``."""
    if first is None or STATUS_PRECEDENCE[second.status] > STATUS_PRECEDENCE[first.status]:
        return ControlResult(second.rule_id, second.status, (), second.reason)
    return first


__all__ = ["chunk_starts", "partitions", "audit_partitions", "worker_count", "PartitionResult", "POOL_THRESHOLD", "parse_bounds",
           "few_collections", "Streamed"]
