"""Digests for start-up-sensitive paths, without loading OpenSSL.

Importing ``hashlib`` (or ``hmac``, which imports it) loads OpenSSL's libcrypto and makes a
constructor for every algorithm it offers: about 3 ms, a few per cent of a one-project scan. What
such a scan digests needs none of it:

- a finding's fingerprint, SHA-256 of a few dozen bytes (its value is part of the output, so the
  algorithm stays): Python's own SHA-256 (``_sha256`` on 3.11, ``_sha2`` from 3.12 on);
- the rule catalog's identity and the signature of its cache entry, over 190 kilobytes: BLAKE2b
  (Python's own ``_blake2``), keyed for the signature. Keyed BLAKE2b is a MAC by design (RFC
  7693; the ``hashlib`` documentation offers it as a simpler replacement for HMAC), and here it
  runs 4x faster than that SHA-256.

``hashlib`` with OpenSSL stays where much is hashed: files (``auditor.cache``, the Trivy binary)
and the incremental cache's entries (``auditor.store``), in runs that use that cache. Signatures
are compared in constant time by the C function ``hmac.compare_digest`` falls back on without
OpenSSL.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from _operator import _compare_digest as compare_digest  # hmac.compare_digest without OpenSSL

if TYPE_CHECKING:
    from hashlib import blake2b, sha256
else:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12 and later
        except ImportError:  # a build without them
            from hashlib import sha256
    try:
        from _blake2 import blake2b
    except ImportError:  # a build without it
        from hashlib import blake2b

SIGNATURE_SIZE = 32  # bytes


def signature(key: bytes, message: bytes) -> bytes:
    """The keyed BLAKE2b-256 of ``message`` under ``key`` (at most 64 bytes)."""
    return blake2b(message, digest_size=SIGNATURE_SIZE, key=key).digest()


def content_digest() -> blake2b:
    """A fresh BLAKE2b-256 to ``update`` with content whose identity is wanted (not for output)."""
    return blake2b(digest_size=32)


__all__ = ["SIGNATURE_SIZE", "compare_digest", "content_digest", "sha256", "signature"]
