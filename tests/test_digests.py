"""auditor.digests gives the standard library's digests, without importing hashlib."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

from auditor.digests import compare_digest, content_digest, sha256, signature
from auditor.store import entry_path

REPO = Path(__file__).resolve().parent.parent


def test_the_digests_match_the_standard_library() -> None:
    for size in (0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 100_000):
        message = bytes((index * 7 + size) % 256 for index in range(size))
        assert sha256(message).hexdigest() == hashlib.sha256(message).hexdigest()
        made = content_digest()
        made.update(message)
        assert made.hexdigest() == hashlib.blake2b(message, digest_size=32).hexdigest()
        for key_size in (1, 32, 64):
            key = bytes((index * 13 + 5) % 256 for index in range(key_size))
            assert signature(key, message) == hashlib.blake2b(message, digest_size=32, key=key).digest()
            assert signature(key, message) != signature(key[:-1] + b"?", message)  # the key matters


def test_compare_digest_tells_equal_from_different() -> None:
    mac = signature(b"key", b"payload")
    assert compare_digest(mac, signature(b"key", b"payload"))
    assert not compare_digest(mac, signature(b"key", b"payloaD"))
    assert not compare_digest(mac, mac[:-1])


def test_a_signed_store_entry_reads_back_and_a_tampered_or_foreign_one_does_not(tmp_path: Path) -> None:
    """The catalog's entry is signed with keyed BLAKE2b, the incremental cache's with
    HMAC-SHA-256 (OpenSSL's, faster on its megabytes); either way a tampered entry, one signed
    under another key, one of another kind or of the previous format is never read."""
    from auditor.store import FORMAT, open_store

    store = open_store(str(tmp_path / "cache"))
    assert store is not None
    macs = {"catalog": lambda message: hashlib.blake2b(message, digest_size=32, key=store.secret).digest(),
            "results": lambda message: hmac.new(store.secret, message, hashlib.sha256).digest()}
    for kind, mac in macs.items():
        store.write(kind, "ab" * 32, b"the outcome")
        assert store.read(kind, "ab" * 32) == b"the outcome"
        entry = Path(entry_path(str(tmp_path / "cache"), kind, "ab" * 32))
        data = entry.read_bytes()
        signed = FORMAT + kind.encode() + b"\0" + b"ab" * 32 + b"\0" + b"the outcome"
        assert data == FORMAT + mac(signed) + b"the outcome"
        entry.write_bytes(data[:-1] + b"E")
        assert store.read(kind, "ab" * 32) is None  # tampered
        other = hashlib.blake2b(signed, digest_size=32, key=b"another user's key").digest()
        entry.write_bytes(FORMAT + other + b"the outcome")
        assert store.read(kind, "ab" * 32) is None  # signed under another key
        entry.write_bytes(b"auditor-cache 1\n" + data[len(FORMAT):])
        assert store.read(kind, "ab" * 32) is None  # the previous format
        entry.write_bytes(data)
    moved = Path(entry_path(str(tmp_path / "cache"), "results", "ab" * 32)).read_bytes()
    Path(entry_path(str(tmp_path / "cache"), "catalog", "ab" * 32)).write_bytes(moved)
    assert store.read("catalog", "ab" * 32) is None  # a results entry does not pass for the catalog's


def test_a_one_project_scan_does_not_import_hashlib(tmp_path: Path) -> None:
    """Fingerprints, the rule catalog's digest and its cache entry's signature are computed
    without OpenSSL (the incremental cache, for trees of many projects, still uses hashlib)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "AUDITOR_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    made = subprocess.run([sys.executable, "-m", "auditor", "rules"], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)  # the catalog's cache, as an auditor that has run once has it
    assert made.returncode == 0, made.stderr
    code = f"""
import io, contextlib, json, sys
from auditor.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["scan", {str(REPO / "fixtures" / "noncompliant")!r}, "--no-external", "--format", "json", "-o", {str(tmp_path / "r.json")!r}])
print(json.dumps({{"code": code, "loaded": [name for name in ("hashlib", "hmac", "_hashlib") if name in sys.modules]}}))
"""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, 1)
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["findings"] and all(len(finding["fingerprint"]) == 32 for finding in report["findings"])
    assert result["loaded"] == []
