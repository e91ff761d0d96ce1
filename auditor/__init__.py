"""auditor: checks a containerised Next.js + nginx deployment against its security architecture."""
from __future__ import annotations

__version__ = "0.1.0"
