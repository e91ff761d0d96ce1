"""SHA-256 and HMAC-SHA-256 for the auditor's small digests, without OpenSSL's start-up.

Importing ``hashlib`` loads OpenSSL's libcrypto and makes a constructor for every algorithm it
offers (about 3 ms: a few per cent of a one-project scan), and ``hmac`` imports it too. The
digests a scan needs are small: a finding's fingerprint (a few dozen bytes), the signature of a
cache entry, the digest of a schema file. Python's own SHA-256 (``_sha256`` on 3.11, ``_sha2``
from 3.12 on) gives the same digests without that cost; ``hashlib``'s OpenSSL one, faster on
megabytes, stays where files are hashed (``auditor.cache``). HMAC is RFC 2104 over it, as the
standard library's ``hmac`` computes it when OpenSSL is absent (tests/test_digests.py compares the
two), and signatures are compared in constant time by the same C function ``hmac`` falls back on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from _operator import _compare_digest as compare_digest  # what hmac.compare_digest is without OpenSSL

if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12 and later
        except ImportError:  # a build without them
            from hashlib import sha256

_BLOCK = 64  # SHA-256's block size in bytes
_INNER = bytes(byte ^ 0x36 for byte in range(256))
_OUTER = bytes(byte ^ 0x5C for byte in range(256))


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """``hmac.new(key, message, hashlib.sha256).digest()``."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(key.translate(_INNER))
    inner.update(message)
    outer = sha256(key.translate(_OUTER))
    outer.update(inner.digest())
    return outer.digest()


__all__ = ["compare_digest", "hmac_sha256", "sha256"]
