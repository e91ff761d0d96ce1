"""Outcomes streamed from the partitions to the report, never all held in the main process.

A tree of independent projects (``auditor.parallel``) is audited partition by partition. What a
partition produces in proportion to its size (its findings, every control's evidence) is written,
where it is produced (a worker process, or the main process with one job), to a private spool
folder: ``tempfile.mkdtemp`` (mode 0700, in the user's temporary folder, never in the audited
tree), removed when the run's result is closed or dropped, on an error and on Ctrl-C (and at exit
at the latest). Only this process's own workers write there, so its pickles are only ever read
back by the run that wrote them.

What comes back to the main process is a summary per chunk of partitions: each control's status,
counts, notes, parse problems, which suppressions and baseline entries were used. The report then
reads the spool as it writes:

- ``FindingStream``: the findings in report order. Each partition's findings are sorted where they
  are produced; partitions are disjoint top-level folders, so reading them in the order of their
  folder (``name/``) gives the whole tree's order, and the few findings of the run itself (the
  external scanners', AUD002) are merged in with ``heapq.merge``.
- ``EvidenceStream``: one control's evidence, partition after partition, in the partitions' order.

Suppressions (inline ones are per file, so per partition), the baseline (a finding is matched by
its fingerprint; "fixed" is what no partition matched) and the changed-files filter are applied
where the findings are (``Finishing``), so nothing has to be read back to decide them.
"""
from __future__ import annotations

import datetime as dt
import io
import os
# pickle, tempfile, heapq and the rest are imported where the spool needs them: a scan of one
# project uses this module's Finishing and Tally only, and must not pay for them at start-up
from collections import Counter
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.findings import Evidence, Finding, Related, Suppression
from auditor.model.span import Span
from auditor.store import inside

if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import IO, Any, TypeVar, overload

    _Item = TypeVar("_Item")
else:
    from auditor.record import dataclass, field

_FLUSH_BYTES = 1 << 20  # evidence a chunk buffers before it writes it


class SpoolClosed(RuntimeError):
    """The result's spool was closed (``AuditResult.close``): its findings are no longer readable."""


class Spool:
    """The run's private folder (or, when the temporary folder lies inside the audited tree, the
    bytes kept in memory: the tree is never written to)."""

    def __init__(self, root: Path | None = None) -> None:
        self.memory: dict[str, bytearray] = {}
        with _interrupts_held():
            folder: str | None
            try:
                import tempfile

                folder = tempfile.mkdtemp(prefix="auditor-spool-")  # 0700
            except OSError:  # no usable temporary folder (a read-only container): kept in memory
                folder = None
            if folder is not None and root is not None and inside(Path(folder), root):
                os.rmdir(folder)
                folder = None
            self.folder = folder
            import weakref

            self._finalizer = weakref.finalize(self, _remove, folder)

    def close(self) -> None:
        self._finalizer()
        self.memory.clear()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def writer(self, name: str) -> ChunkWriter:
        return ChunkWriter(self.folder, name)

    def receive(self, written: dict[str, bytes]) -> None:
        """What a chunk kept in memory (no folder), appended to this spool's files."""
        for name, data in written.items():
            self.memory.setdefault(name, bytearray()).extend(data)

    def open(self, name: str) -> IO[bytes]:
        if self.closed:
            raise SpoolClosed("the audit's result was closed; its findings and evidence are gone")
        if self.folder is None:
            return io.BytesIO(bytes(self.memory.get(name, b"")))
        return open(os.path.join(self.folder, name), "rb")


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C (and SIGTERM) held back until the block is done: the spool is made and its removal
    registered, or removed, as one step, never left half way by an interrupt."""
    import signal

    try:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, OSError, ValueError):  # no signal masks here (not POSIX)
        held = None
    try:
        yield
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _remove(folder: str | None) -> None:
    if folder is not None:
        with _interrupts_held():
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def _load(handle: IO[bytes]) -> Any:
    """One frame of this run's own spool (never a file of anyone else: see the module docstring)."""
    import pickle

    return pickle.load(handle)


def _dumps(value: Any) -> bytes:
    import pickle

    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def packed(rows: list[tuple[Any, ...]]) -> bytes:
    """Rows as one frame of the spool (``ChunkWriter.packed_findings``, ``partition_evidence``)."""
    return _dumps(rows)


def unpacked(frame: bytes) -> list[tuple[Any, ...]]:
    """The rows of a ``packed`` frame (of this run's spool, or of a signed cache entry)."""
    import pickle

    rows: list[tuple[Any, ...]] = pickle.loads(frame)
    return rows


# Spool records are plain tuples of strings and numbers: pickle writes and reads them in C, where
# a dataclass or NamedTuple would call back into Python for every object. Rebuilt when read.
_make = tuple.__new__  # a NamedTuple from a plain tuple, in C


def finding_row(finding: Finding) -> tuple[Any, ...]:
    suppression = finding.suppression
    return (finding.rule_id, finding.severity, finding.title, finding.message, tuple(finding.span),
            finding.snippet, finding.fingerprint,
            tuple((tuple(related.span), related.message) for related in finding.related) if finding.related else (),
            finding.properties or None,
            None if suppression is None else
            (suppression.kind, suppression.reason, None if suppression.span is None else tuple(suppression.span)))


def finding_from_row(row: tuple[Any, ...]) -> Finding:
    rule_id, severity, title, message, span, snippet, fingerprint, related, properties, suppression = row
    return Finding(rule_id, severity, title, message, _make(Span, span), snippet, fingerprint,
                   tuple(_make(Related, (_make(Span, where), text)) for where, text in related) if related else (),
                   properties if properties is not None else {},
                   None if suppression is None else
                   Suppression(suppression[0], suppression[1],
                               None if suppression[2] is None else _make(Span, suppression[2])))


def evidence_rows(items: Sequence[Evidence]) -> list[tuple[Any, ...]]:
    return [(tuple(span), text, snippet) for span, text, snippet in items]


def packed_evidence(evidence: dict[str, Sequence[Evidence]]) -> bytes:
    """Every rule's evidence entries of a partition as one frame: ``{rule: rows}`` pickled."""
    return packed_rows({rule_id: [(tuple(span), text, snippet) for span, text, snippet in items]
                        for rule_id, items in evidence.items()})


def packed_rows(rows: dict[str, list[tuple[Any, ...]]]) -> bytes:
    """``packed_evidence`` of the rows (``evidence_rows``) of every rule's entries."""
    return _dumps(rows) if rows else b""


def unpacked_evidence(frame: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """The ``{rule: rows}`` of a ``packed_evidence`` frame (of this run's spool, or of a signed cache entry)."""
    if not frame:
        return {}
    import pickle

    rows: dict[str, list[tuple[Any, ...]]] = pickle.loads(frame)
    return rows


def row_sort_key(row: tuple[Any, ...]) -> tuple[str, int, int, str, str]:
    """``Finding.sort_key`` of the finding a row holds."""
    span = row[4]
    return (span[0], span[1], span[2] or 0, row[0], row[3])


def evidence_from_rows(rows: list[tuple[Any, ...]]) -> list[Evidence]:
    return [_make(Evidence, (_make(Span, span), text, snippet)) for span, text, snippet in rows]


Segment = tuple[str, int, int]  # (spool file, offset, length)


class ChunkWriter:
    """Writes one chunk's frames: a file of findings (one frame per partition, located by its
    offset), a file of evidence (one frame per partition holding every rule's entries: one pickle,
    not one a rule; ``evidence_frames``) and, when the run writes a JSON report, their JSON text
    in a file beside each (``auditor.report.json_report.fragment_text``; the evidence's by rule,
    each rule's in the partitions' order, in segments: ``evidence_json``). Four files a chunk
    whatever the rules: creating a file costs more than writing tens of kilobytes on some file
    systems (ext4: 0.3 ms). ``rule_rows`` writes evidence by rule instead (``EvidenceFrames``)."""

    def __init__(self, folder: str | None, name: str) -> None:
        self.folder = folder
        self.name = name
        self.sizes: dict[str, int] = {}
        self.kept: dict[str, bytearray] = {}  # no folder: the bytes, sent back with the summary
        self.handles: dict[str, IO[bytes]] = {}  # open for appending until close()
        self.evidence_frames: list[Segment] = []  # where each partition's evidence frame is, in order
        self.evidence_segments: dict[str, list[Segment]] = {}  # rule -> its frames (``rule_rows``)
        self.evidence_json: dict[str, list[Segment]] = {}  # rule -> where its evidence's JSON text is
        self.no_json: set[str] = set()  # rules with evidence whose JSON text could not be made
        self.buffered: dict[str, bytearray] = {}  # each rule's evidence frames not yet written (``rule_rows``)
        self.buffered_json: dict[str, bytearray] = {}  # each rule's evidence JSON text not yet written
        self.evidence_counts: dict[str, int] = {}  # rule -> entries written
        self.buffered_size = 0

    def _append(self, file: str, data: bytes | bytearray) -> int:
        """Append ``data`` to ``file``: where it starts."""
        offset = self.sizes.get(file, 0)
        if self.folder is None:
            self.kept.setdefault(file, bytearray()).extend(data)
        else:
            handle = self.handles.get(file)
            if handle is None:
                handle = self.handles[file] = open(os.path.join(self.folder, file), "ab")
            handle.write(data)
        self.sizes[file] = offset + len(data)
        return offset

    def findings(self, rows: list[tuple[Any, ...]]) -> tuple[str, int]:
        """One partition's findings (as ``finding_row``s, in report order): where their frame is."""
        return self.packed_findings(_dumps(rows))

    def packed_findings(self, packed: bytes) -> tuple[str, int]:
        """``findings`` for rows already pickled (``_dumps``), as the cache keeps them."""
        file = f"{self.name}.findings"
        return file, self._append(file, packed)

    def findings_json(self, text: bytes) -> tuple[str, int, int]:
        """A partition's findings as JSON text (``fragment_text``): where it is and its length."""
        file = f"{self.name}.findings.json"
        return file, self._append(file, text), len(text)

    def partition_evidence(self, frame: bytes, counts: dict[str, int], texts: Mapping[str, bytes | None] | None,
                           json: bool) -> None:
        """A partition's evidence of every rule: ``frame``, its entries pickled as one
        ``{rule: rows}`` (``packed_evidence``), with each rule's count of entries (``counts``)
        and, when the run writes a JSON report (``json``), its JSON text (``texts``: rule ->
        text; None, or a rule's text None: that rule's evidence is rendered whole by the report).
        The text is buffered per rule (a partition has evidence for some sixty rules), each after
        the partitions before it, up to a megabyte in all."""
        if not counts:
            return
        file = f"{self.name}.evidence"
        self.evidence_frames.append((file, self._append(file, frame), len(frame)))
        known = self.evidence_counts
        for rule_id, entries in counts.items():
            known[rule_id] = known.get(rule_id, 0) + entries
        if not json:
            return
        buffered, no_json = self.buffered_json, self.no_json
        size = 0
        for rule_id in counts:
            if rule_id in no_json:
                continue
            text = texts.get(rule_id) if texts is not None else None
            if text is None:
                no_json.add(rule_id)
                buffered.pop(rule_id, None)
                self.evidence_json.pop(rule_id, None)
                continue
            buffer = buffered.get(rule_id)
            if buffer is None:
                buffered[rule_id] = bytearray(text)
            else:
                if buffer:
                    buffer += b","
                buffer += text
            size += len(text) + 1
        self.buffered_size += size
        if self.buffered_size >= _FLUSH_BYTES:
            self.flush()

    def rule_rows(self, frames: dict[str, bytes], counts: dict[str, int]) -> None:
        """A partition's evidence by rule (rule -> its rows as a ``packed`` frame), each rule's
        frames after the partitions' before it, buffered up to a megabyte in all
        (``evidence_segments``: where each rule's are)."""
        buffered = self.buffered
        size = 0
        for rule_id, frame in frames.items():
            buffer = buffered.get(rule_id)
            if buffer is None:
                buffer = buffered[rule_id] = bytearray()
                self.evidence_segments[rule_id] = []
                self.evidence_counts[rule_id] = 0
            buffer += frame
            self.evidence_counts[rule_id] += counts[rule_id]
            size += len(frame)
        self.buffered_size += size
        if self.buffered_size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """The buffered evidence written, each rule's as one segment of the chunk's evidence file."""
        file, json_file = f"{self.name}.evidence", f"{self.name}.evidence.json"
        for rule_id, data in self.buffered.items():
            if data:
                self.evidence_segments[rule_id].append((file, self._append(file, data), len(data)))
                data.clear()
        for rule_id, data in self.buffered_json.items():
            if data:
                self.evidence_json.setdefault(rule_id, []).append((json_file, self._append(json_file, data), len(data)))
                data.clear()
        self.buffered_size = 0

    def close(self) -> dict[str, bytes]:
        try:
            self.flush()
        finally:
            for handle in self.handles.values():
                handle.close()
            self.handles.clear()
        return {name: bytes(data) for name, data in self.kept.items()}


@dataclass
class Finishing:
    """What the run applies to every finding after the checks: suppressions, the baseline, the
    changed-files filter (picklable: it goes to the workers)."""

    config_suppress: list[dict[str, Any]]
    known_rules: list[str]
    enabled: bool
    today: dt.date
    baseline: frozenset[str] | None = None  # fingerprints the baseline may match; None: no baseline
    report_paths: frozenset[str] | None = None
    json: bool = False  # the run writes a JSON report: the partitions render their part of it

    def suppressor(self, sources: dict[str, str]) -> Any:
        from auditor.suppressions import Suppressor

        return Suppressor(sources, self.config_suppress, self.known_rules, self.today, self.enabled)

    def finish(self, findings: Iterable[Finding], suppressor: Any, tally: Tally) -> list[Finding]:
        """The findings suppressed (``suppressor``: None for the run's own AUD002 findings, which
        nothing suppresses), compared with the baseline and filtered, counted in ``tally``."""
        from auditor.baseline import mark

        kept: list[Finding] = []
        paths = self.report_paths
        for finding in findings:
            if suppressor is not None:
                finding = suppressor.mark(finding)
            if self.baseline is not None:
                finding = mark(finding, self.baseline, tally.matched)
            if paths is not None and finding.span.path not in paths \
                    and not any(r.span.path in paths for r in finding.related):
                continue
            tally.add(finding)
            kept.append(finding)
        return kept


@dataclass
class Tally:
    """Counts over the findings of a run (or of a chunk of it), merged in order."""

    findings: int = 0
    suppressed: int = 0
    severities: Counter[str] = field(default_factory=Counter)  # open findings by severity
    rules: dict[str, list[Any]] = field(default_factory=dict)  # rule -> [findings, open, {reasons}]
    matched: set[str] = field(default_factory=set)  # baseline fingerprints matched
    used_inline: list[tuple[str, int]] = field(default_factory=list)
    used_config: set[int] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        self.findings += 1
        record = self.rules.get(finding.rule_id)
        if record is None:
            record = self.rules[finding.rule_id] = [0, 0, set()]
        record[0] += 1
        if finding.suppression is None:
            self.severities[finding.severity] += 1
            record[1] += 1
        else:
            self.suppressed += 1
            record[2].add(finding.suppression.reason)

    def add_row(self, row: tuple[Any, ...]) -> None:
        """``add`` for a finding as a ``finding_row``."""
        self.findings += 1
        record = self.rules.get(row[0])
        if record is None:
            record = self.rules[row[0]] = [0, 0, set()]
        record[0] += 1
        if row[9] is None:
            self.severities[row[1]] += 1
            record[1] += 1
        else:
            self.suppressed += 1
            record[2].add(row[9][1])

    def update(self, other: Tally) -> None:
        self.findings += other.findings
        self.suppressed += other.suppressed
        self.severities.update(other.severities)
        for rule_id, (count, active, reasons) in other.rules.items():
            record = self.rules.get(rule_id)
            if record is None:
                self.rules[rule_id] = [count, active, set(reasons)]
            else:
                record[0] += count
                record[1] += active
                record[2].update(reasons)
        self.matched.update(other.matched)
        self.used_inline.extend(other.used_inline)
        self.used_config.update(other.used_config)

    def used(self, suppressor: Any) -> None:
        inline, configured = suppressor.used()
        self.used_inline.extend(inline)
        self.used_config.update(configured)


@dataclass(frozen=True)
class Frame:
    """Where one partition's findings are: its order key, the file and offset of its frame."""

    key: str  # the partition's folder and "/": every path of it starts so
    index: int  # the partition's position (ties between partitions keep it, as a stable sort would)
    file: str
    offset: int
    count: int
    json: tuple[str, int, int] | None = None  # (file, offset, length) of its findings' JSON text


class _Spooled(Sequence["_Item"]):
    """What a spooled sequence is besides its ``__iter__``: ``len`` is known (``total``); indexing
    and comparing read it whole (the renderers only iterate)."""

    total: int

    def __len__(self) -> int:
        return self.total

    if TYPE_CHECKING:  # (typing's overload is for the type checker alone)
        @overload
        def __getitem__(self, index: int) -> _Item: ...

        @overload
        def __getitem__(self, index: slice) -> list[_Item]: ...

    def __getitem__(self, index: int | slice) -> _Item | list[_Item]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class FindingStream(_Spooled[Finding]):
    """The run's findings in report order, read from the spool each time it is iterated (a
    ``Sequence``: ``len`` is known, indexing reads up to the index)."""

    def __init__(self, spool: Spool, frames: list[Frame], strays: list[tuple[tuple[Any, ...], Finding]],
                 extras: list[Finding], tally: Tally) -> None:
        self.spool = spool
        self.frames = sorted(frames, key=lambda frame: frame.key)
        self.strays = strays  # ((sort key, partition), finding) of a partition's finding outside its folder
        self.extras = extras  # the run's own findings (scanners, AUD002), sorted
        self.tally = tally
        self.total = sum(frame.count for frame in frames) + len(strays) + len(extras)

    def __iter__(self) -> Iterator[Finding]:
        if not self.strays and not self.extras:
            for _, finding in self._spooled():
                yield finding
            return
        last = len(self.frames)  # after every partition: the run's own findings came last
        streams: list[Iterable[tuple[tuple[Any, ...], Finding]]] = [
            (((finding.sort_key(), index), finding) for index, finding in self._spooled()),
            iter(self.strays),
            (((finding.sort_key(), last), finding) for finding in self.extras)]
        import heapq

        for _, finding in heapq.merge(*streams, key=lambda pair: pair[0]):
            yield finding

    def _spooled(self) -> Iterator[tuple[int, Finding]]:
        handles: dict[str, IO[bytes]] = {}
        try:
            for frame in self.frames:
                if not frame.count:
                    continue
                handle = handles.get(frame.file)
                if handle is None:
                    handle = handles[frame.file] = self.spool.open(frame.file)
                handle.seek(frame.offset)
                rows: list[tuple[Any, ...]] = _load(handle)
                index = frame.index
                for row in rows:
                    yield index, finding_from_row(row)
        finally:
            for handle in handles.values():
                handle.close()

    def json_parts(self) -> Iterator[bytes] | None:
        """The findings' JSON text, as each partition wrote it, in report order; None when it
        cannot be had so (no JSON text in the spool, or findings of the run itself or outside
        their partition's folder to merge in: then the findings are rendered one by one)."""
        if self.strays or self.extras or any(frame.json is None for frame in self.frames if frame.count):
            return None
        return _slices(self.spool, [frame.json for frame in self.frames if frame.count and frame.json])

    def __repr__(self) -> str:
        return f"<FindingStream of {self.total} findings>"


def _slices(spool: Spool, where: list[tuple[str, int, int]], joined: bool = True) -> Iterator[bytes]:
    """The bytes at each (file, offset, length) of the spool, joined with commas (``joined``)."""
    handles: dict[str, IO[bytes]] = {}
    try:
        for number, (file, offset, length) in enumerate(where):
            handle = handles.get(file)
            if handle is None:
                handle = handles[file] = spool.open(file)
            handle.seek(offset)
            data = handle.read(length)
            yield b"," + data if number and joined else data
    finally:
        for handle in handles.values():
            handle.close()


class EvidenceFrames:
    """Every partition's evidence frame of a run (``ChunkWriter.partition_evidence``: all its
    rules' entries in one pickle), in the partitions' order, and each rule's entries read from
    them: on the first read of a rule's evidence, every frame is read once and each rule's
    entries are written again by rule to the spool (``ChunkWriter.rule_rows``), so that each
    control's evidence is then read alone. A run whose reports read no evidence (the JSON report
    copies its text) never pays for that."""

    def __init__(self, spool: Spool, frames: list[Segment]) -> None:
        self.spool = spool
        self.frames = frames
        self.by_rule: dict[str, list[Segment]] | None = None
        self.attempts = 0

    def segments(self, rule_id: str) -> list[Segment]:
        """Where ``rule_id``'s evidence is in the spool, in the partitions' order (frames of rows)."""
        if self.by_rule is None:
            self.by_rule = self._by_rule()
        return self.by_rule.get(rule_id, [])

    def _by_rule(self) -> dict[str, list[Segment]]:
        # A file of its own for each attempt: one that failed part way (a full disk, Ctrl-C caught
        # by a library's caller) leaves frames that the next one must not count its offsets among.
        self.attempts += 1
        writer = ChunkWriter(self.spool.folder, f"by-rule-{self.attempts}")
        try:
            for data in _slices(self.spool, self.frames, joined=False):
                evidence = unpacked_evidence(data)
                writer.rule_rows({rule_id: _dumps(rows) for rule_id, rows in evidence.items()},
                                 {rule_id: len(rows) for rule_id, rows in evidence.items()})
            written = writer.close()
        except BaseException:
            for handle in writer.handles.values():  # (closed already if close() itself failed)
                handle.close()
            raise
        self.spool.receive(written)
        return writer.evidence_segments


class EvidenceStream(_Spooled[Evidence]):
    """One control's evidence, read from the spool in the partitions' order each time it is
    iterated: the segments of the spool's files that hold its frames of rows, in order (or the
    run's ``EvidenceFrames``, which has them made on the first read)."""

    def __init__(self, spool: Spool, segments: list[Segment] | tuple[EvidenceFrames, str], count: int,
                 json_segments: list[Segment] | None = None) -> None:
        self.spool = spool
        self._segments = segments
        self.total = count
        self.json_segments = json_segments  # the same evidence as JSON text (None: not written)

    @property
    def segments(self) -> list[Segment]:
        if isinstance(self._segments, tuple):
            frames, rule_id = self._segments
            self._segments = frames.segments(rule_id)
        return self._segments

    def json_parts(self) -> Iterator[bytes] | None:
        """The evidence's JSON text as the partitions wrote it, in their order (None: not written)."""
        if self.json_segments is None:
            return None
        return _slices(self.spool, self.json_segments)

    def __iter__(self) -> Iterator[Evidence]:
        handles: dict[str, IO[bytes]] = {}
        try:
            for file, offset, length in self.segments:
                handle = handles.get(file)
                if handle is None:
                    handle = handles[file] = self.spool.open(file)
                handle.seek(offset)
                segment = io.BytesIO(handle.read(length))
                while segment.tell() < length:
                    rows: list[tuple[Any, ...]] = _load(segment)
                    yield from evidence_from_rows(rows)
        finally:
            for handle in handles.values():
                handle.close()

    def __repr__(self) -> str:
        return f"<EvidenceStream of {self.total} entries>"


__all__ = ["evidence_from_rows", "evidence_rows", "finding_from_row", "finding_row", "packed", "packed_evidence", "packed_rows",
           "row_sort_key", "unpacked", "unpacked_evidence", "ChunkWriter", "EvidenceFrames", "EvidenceStream", "FindingStream", "Finishing", "Frame", "Segment", "Spool", "SpoolClosed", "Tally"]
